//! Directory answers from peers: decoding the records, checking each entry
//! and verifying its proof against a witness key never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_core::directory::{DirectoryEntry, DirectoryPage, verify_record};
use liaison_log::note::{COSIGNATURE_V1, NoteSigner};

fuzz_target!(|data: &[u8]| {
    let _ = DirectoryEntry::check(data);
    let Ok(page) = serde_json::from_slice::<DirectoryPage>(data) else { return };
    let Ok(witness) = NoteSigner::new("fuzz.example/witness", COSIGNATURE_V1, [9; 32]) else { return };
    for record in &page.records {
        let _ = verify_record(record, &[witness.verifier()]);
    }
});
