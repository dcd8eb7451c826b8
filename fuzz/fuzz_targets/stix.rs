//! STIX bundles and TAXII envelopes from outside (imports, TAXII POSTs),
//! TAXII query strings and TLP markings in any form: checking never panics,
//! and what passes is consistent (its id names its type, its marking
//! parses, a page size stays within its bounds).
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_core::stix::{Markings, check_object_in, is_identifier, objects_of};
use liaison_core::tlp::Tlp;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Tlp::parse(&text);
    if let Ok(q) = liaison_core::taxii::parse_query(&text, true, 1000, 10_000) {
        assert!((1..=10_000).contains(&q.limit) && q.after_seq >= 0);
    }
    // A TAXII POST body: at most the cap of objects, borrowed from the body.
    if let Ok(raw) = liaison_core::taxii::envelope_objects(data, 64) {
        assert!(raw.len() <= 64);
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let objects: Vec<serde_json::Value> = match objects_of(&value) {
        Ok(o) => o.clone(),
        Err(_) => vec![value],
    };
    let markings = Markings::of_bundle(&objects);
    for o in &objects {
        if let Ok(meta) = check_object_in(o, &markings) {
            assert!(is_identifier(&meta.id, Some(&meta.kind)));
            assert!(Tlp::parse(meta.tlp.as_str()).is_ok());
            // Fail closed: no marking reference it carries is stricter than its level.
            for r in o
                .get("object_marking_refs")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
            {
                assert!(markings.level_of(r) <= meta.tlp);
            }
        }
    }
});
