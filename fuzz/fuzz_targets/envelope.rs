//! Delivery requests from peers: JSON decoding, shape checks, canonical
//! encoding, signature verification and every kind's typed body check
//! (openings, execution orders, productions, relays…) never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_core::envelope::DeliveryRequest;
use liaison_core::kind::Body;
use liaison_log::note::{ED25519, NoteSigner};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<DeliveryRequest>(data) else { return };
    let Ok(signer) = NoteSigner::new("fuzz.example/log", ED25519, [7; 32]) else { return };
    for signed in &request.envelopes {
        let _ = signed.envelope.check_shape();
        let _ = signed.envelope.canonical_bytes();
        let _ = signed.verify(&signer.verifier());
        let _ = Body::check(&signed.envelope);
    }
});
