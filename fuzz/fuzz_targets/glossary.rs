//! Glossary events from peers and search queries from users: checking the
//! event, deriving the term's state from it, and stemming never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_core::glossary::{GlossaryBody, GlossaryEvent, resolve};
use liaison_core::text::analyze;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = analyze(&text);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(body) = GlossaryBody::check(&value) else { return };
    let term = body.term().to_owned();
    let events = [
        GlossaryEvent { party: "us".into(), created: "2026-11-23T00:00:00Z".into(), body: body.clone() },
        GlossaryEvent { party: "ru".into(), created: "2026-11-23T00:00:01Z".into(), body },
    ];
    // Without a reference group, and with one that needs both parties.
    let _ = resolve(&term, None, &events, &Default::default());
    let group = ["us".to_owned(), "ru".to_owned()].into_iter().collect();
    let _ = resolve(&term, None, &events, &group);
});
