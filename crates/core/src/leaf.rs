//! What a log leaf is: a commitment to content by its SHA-256, never the
//! content itself. Entry data is ASCII `<kind> <64 hex digits>`, e.g.
//! `card 9f86d0…`, so entry bundles are readable and reveal nothing.

use liaison_log::Hash;

use crate::CoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeafKind {
    /// The node's own card (the first entry of every log; again when it changes).
    Card,
    /// A signed envelope this node sent or received.
    Envelope,
    /// An entry the node published in the directory (`directory::DirectoryEntry`).
    Directory,
    /// A change of the node's own keys (`keys::SignedKeyChange`, its JSON).
    KeyChange,
}

impl LeafKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeafKind::Card => "card",
            LeafKind::Envelope => "envelope",
            LeafKind::Directory => "directory",
            LeafKind::KeyChange => "key-change",
        }
    }

    fn parse(s: &str) -> Option<LeafKind> {
        match s {
            "card" => Some(LeafKind::Card),
            "envelope" => Some(LeafKind::Envelope),
            "directory" => Some(LeafKind::Directory),
            "key-change" => Some(LeafKind::KeyChange),
            _ => None,
        }
    }
}

/// A parsed log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafEntry {
    pub kind: LeafKind,
    pub content_hash: Hash,
}

impl LeafEntry {
    pub fn new(kind: LeafKind, content: &[u8]) -> LeafEntry {
        LeafEntry {
            kind,
            content_hash: Hash::of_content(content),
        }
    }

    /// The entry committing to an envelope, by the hash of its canonical text.
    pub fn envelope(content_hash: Hash) -> LeafEntry {
        LeafEntry {
            kind: LeafKind::Envelope,
            content_hash,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        format!("{} {}", self.kind.as_str(), self.content_hash.to_hex()).into_bytes()
    }

    pub fn decode(data: &[u8]) -> Result<LeafEntry, CoreError> {
        let bad = || CoreError::invalid("a log entry is not \"<kind> <sha256 hex>\"");
        let s = std::str::from_utf8(data).map_err(|_| bad())?;
        let (kind, hex) = s.split_once(' ').ok_or_else(bad)?;
        Ok(LeafEntry {
            kind: LeafKind::parse(kind).ok_or_else(bad)?,
            content_hash: Hash::from_hex(hex).ok_or_else(bad)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_reject_garbage() {
        let e = LeafEntry::new(LeafKind::Envelope, b"{}");
        assert_eq!(LeafEntry::decode(&e.encode()).unwrap(), e);
        assert!(
            String::from_utf8(e.encode())
                .unwrap()
                .starts_with("envelope 44136fa3")
        );
        for bad in [
            &b""[..],
            b"card",
            b"card xyz",
            b"nope 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            b"\xff",
        ] {
            assert!(LeafEntry::decode(bad).is_err());
        }
    }
}
