//! Signed notes and verifier keys from outside: parse and verify never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_log::note::{ED25519, NoteSigner, NoteVerifier, open_note, parse_note};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = NoteVerifier::parse(text);
    let _ = parse_note(text);
    if let Ok(signer) = NoteSigner::new("fuzz.example/log", ED25519, [7; 32]) {
        let _ = open_note(text, &[signer.verifier()]);
    }
});
