//! Receipts (tlog-proof) from outside: parse and verify never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_log::Hash;
use liaison_log::note::{ED25519, NoteSigner};
use liaison_log::proof::TlogProof;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(proof) = TlogProof::parse(text) {
        let _ = TlogProof::parse(&proof.encode());
        if let Ok(signer) = NoteSigner::new("fuzz.example/log", ED25519, [7; 32]) {
            let _ = proof.verify(&Hash::empty_root(), &signer.verifier(), &[]);
        }
    }
});
