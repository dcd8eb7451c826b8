//! Tile paths and entry bundles from outside: never panic; paths round-trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liaison_log::tiles::{TileRef, decode_bundle, encode_bundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data)
        && let Ok(tile) = TileRef::parse(path)
    {
        assert_eq!(tile.path(), path);
    }
    if let Ok(entries) = decode_bundle(data) {
        assert_eq!(encode_bundle(entries).ok().as_deref(), Some(data));
    }
});
