//! Uploaded images (JPEG, PNG, WebP) hashed for matching: decoding and PDQ
//! hashing never panic, refuse oversized pictures, and give a quality of
//! at most 100.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = liaison_core::pdq::hash_image(data) {
        assert!(out.quality <= 100);
        assert!(u64::from(out.width) * u64::from(out.height) <= liaison_core::pdq::MAX_PIXELS);
    }
});
