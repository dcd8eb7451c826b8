//! Node cards handed over out of band: decoding and checking never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_core::card::check_card;
use liaison_proto::NodeCard;

fuzz_target!(|data: &[u8]| {
    if let Ok(card) = serde_json::from_slice::<NodeCard>(data) {
        let _ = check_card(&card);
    }
});
