//! C2SP tlog-tiles: tile paths (`tile/<L>/<N>[.p/<W>]`,
//! `tile/entries/<N>[.p/<W>]`) and entry bundles (big-endian uint16
//! length-prefixed entries).

use crate::LogError;

/// Hashes in a full tile, and entries in a full bundle.
pub const TILE_WIDTH: u64 = 256;
/// Tiles span 8 Merkle levels.
pub const TILE_HEIGHT: u8 = 8;
/// The longest entry a bundle can carry.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Which resource a tile path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    /// Merkle hashes at tile level L (Merkle level 8·L).
    Hashes { level: u8 },
    /// The entry bundle matching level-0 tile N.
    Entries,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileRef {
    pub kind: TileKind,
    pub index: u64,
    /// 1..=256; 256 is a full tile.
    pub width: u16,
}

impl TileRef {
    /// The path below the log prefix, e.g. `tile/0/x001/234.p/7`.
    pub fn path(&self) -> String {
        let kind = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut p = format!("tile/{kind}/{}", encode_index(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a path below the log prefix.
    pub fn parse(path: &str) -> Result<TileRef, LogError> {
        let bad = || LogError::MalformedTilePath(path.to_owned());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (kind, rest) = rest.split_once('/').ok_or_else(bad)?;
        let kind = if kind == "entries" {
            TileKind::Entries
        } else {
            if kind.is_empty()
                || (kind.len() > 1 && kind.starts_with('0'))
                || !kind.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let level: u8 = kind.parse().map_err(|_| bad())?;
            if level > 63 {
                return Err(bad());
            }
            TileKind::Hashes { level }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                if w.is_empty() || w.starts_with('0') || !w.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let w: u16 = w.parse().map_err(|_| bad())?;
                if !(1..=255).contains(&w) {
                    return Err(bad());
                }
                (i, w)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index = decode_index(index_part).ok_or_else(bad)?;
        Ok(TileRef { kind, index, width })
    }
}

/// `1234067` → `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn decode_index(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split('/').collect();
    let (last, init) = parts.split_last()?;
    let mut n: u64 = 0;
    for (i, part) in init.iter().enumerate() {
        let digits = part.strip_prefix('x')?;
        // No all-zero leading group: the encoding is canonical.
        if i == 0 && digits == "000" {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(three_digits(digits)?)?;
    }
    n.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(s: &str) -> Option<u64> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The tiles of a tree of `size` leaves at tile level `level`: full tiles
/// then at most one partial tile, as `(index, width)`.
pub fn tiles_at_level(size: u64, level: u8) -> Vec<(u64, u16)> {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    let hashes = if shift >= 64 { 0 } else { size >> shift };
    let full = hashes / TILE_WIDTH;
    let mut out: Vec<(u64, u16)> = (0..full).map(|i| (i, TILE_WIDTH as u16)).collect();
    let partial = (hashes % TILE_WIDTH) as u16;
    if partial > 0 {
        out.push((full, partial));
    }
    out
}

/// Encodes entries as a bundle.
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len())
            .map_err(|_| LogError::MalformedBundle("an entry is longer than 65535 bytes".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits a bundle into its entries.
pub fn decode_bundle(mut bytes: &[u8]) -> Result<Vec<&[u8]>, LogError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<2>()
            .ok_or_else(|| LogError::MalformedBundle("a length prefix is cut short".into()))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return Err(LogError::MalformedBundle("an entry is cut short".into()));
        }
        out.push(&rest[..len]);
        bytes = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn index_encoding_matches_spec_example() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(1000), "x001/000");
    }

    #[test]
    fn paths_round_trip() {
        let t = TileRef {
            kind: TileKind::Hashes { level: 1 },
            index: 1234067,
            width: 7,
        };
        assert_eq!(t.path(), "tile/1/x001/x234/067.p/7");
        assert_eq!(TileRef::parse(&t.path()).unwrap(), t);
        let e = TileRef {
            kind: TileKind::Entries,
            index: 5,
            width: 256,
        };
        assert_eq!(e.path(), "tile/entries/005");
        assert_eq!(TileRef::parse("tile/entries/005").unwrap(), e);
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "tile/0/5",
            "tile/0/0005",
            "tile/00/005",
            "tile/64/005",
            "tile/0/005.p/0",
            "tile/0/005.p/256",
            "tile/0/005.p/07",
            "tile/0/x000/005",
            "tile/0/001/005",
            "tile/x/005",
            "tile/0/",
            "tile/0/x99999999999999999/000",
            "checkpoint",
            "tile//005",
        ] {
            assert!(TileRef::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn spec_example_tree_of_70000() {
        assert_eq!(tiles_at_level(70_000, 0).len(), 274);
        assert_eq!(tiles_at_level(70_000, 0).last(), Some(&(273, 112)));
        assert_eq!(tiles_at_level(70_000, 1), vec![(0, 256), (1, 17)]);
        assert_eq!(tiles_at_level(70_000, 2), vec![(0, 1)]);
        assert_eq!(tiles_at_level(70_000, 3), vec![]);
        assert_eq!(tiles_at_level(256, 1), vec![(0, 1)]);
    }

    proptest! {
        #[test]
        fn bundles_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let bundle = encode_bundle(entries.iter().map(Vec::as_slice)).unwrap();
            let back: Vec<Vec<u8>> = decode_bundle(&bundle).unwrap().into_iter().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(back, entries);
        }

        #[test]
        fn tile_paths_round_trip(level in 0u8..64, index in any::<u64>(), width in 1u16..=256, entries in any::<bool>()) {
            let kind = if entries { TileKind::Entries } else { TileKind::Hashes { level } };
            let t = TileRef { kind, index, width };
            prop_assert_eq!(TileRef::parse(&t.path()).unwrap(), t);
        }

        #[test]
        fn parsing_arbitrary_paths_never_panics(s in "\\PC{0,40}") {
            let _ = TileRef::parse(&s);
        }
    }
}
