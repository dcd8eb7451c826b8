//! Content reports, item answers and hash-list changes from peers, and PDQ
//! hashes typed by users: checking never panics, and what passes is
//! consistent (normalised values, hex that round-trips).
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_core::content::{
    ContentReport, HashListBody, ItemStatusBody, check_answers, check_value, item_states,
};
use liaison_core::pdq::PdqHash;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(h) = PdqHash::parse(&text) {
        assert_eq!(PdqHash::parse(&h.to_hex()).ok(), Some(h));
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok((report, _)) = ContentReport::check(&value) {
        for item in &report.items {
            assert_eq!(check_value("v", item.kind, &item.value).ok().as_deref(), Some(item.value.as_str()));
        }
        let states = item_states(report.items.len(), std::iter::empty());
        assert_eq!(states.len(), report.items.len());
    }
    if let Ok(answers) = ItemStatusBody::check(&value) {
        let n = answers.answers.iter().map(|a| a.item).max().unwrap_or(0).min(1000) + 1;
        let states = item_states(n, [("2026-11-23T00:00:00Z", &answers)]);
        let _ = check_answers(&states, &answers);
    }
    let _ = HashListBody::check(&value);
});
