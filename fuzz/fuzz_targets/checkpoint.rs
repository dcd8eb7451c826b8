//! Checkpoint bodies from outside: parse never panics and round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_log::Checkpoint;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cp) = Checkpoint::parse_text(text) {
        assert_eq!(cp.to_text(), text);
    }
});
