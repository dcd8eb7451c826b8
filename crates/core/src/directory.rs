//! The verifiable directory: each party publishes, as entries in its own
//! log, its card, its 24/7 points of contact, the request kinds it takes
//! and any notification requirement. A change is a new entry; history is
//! kept. A *record* is an entry with its proof: a tlog-proof that the entry
//! is in its owner's log, against a checkpoint a witness cosigned. Anyone
//! who pins that witness can check a record, whoever handed it over, so
//! the directory is the union of records as a node has seen them.

use liaison_log::note::NoteVerifier;
use liaison_log::proof::TlogProof;
use liaison_proto::{CardNotification, NodeCard};
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::body::{bad, need, optional};
use crate::calendar::Calendar;
use crate::card::{CheckedCard, check_card};
use crate::case::ALL_KINDS;
use crate::leaf::{LeafEntry, LeafKind};

/// The version of directory entries this code writes and reads.
pub const ENTRY_VERSION: u32 = 1;
/// The most points of contact an entry lists.
pub const MAX_CONTACTS: usize = 20;

/// A 24/7 point of contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    pub name: String,
    /// e.g. "24/7 point of contact (Budapest art. 35)".
    pub role: String,
    /// Languages spoken, e.g. `["en", "ru"]`.
    pub languages: Vec<String>,
    /// When it answers: "24/7", or days, hours and an IANA time zone, e.g.
    /// "mon-fri 09:00-18:00 Europe/Moscow".
    pub hours: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// One published entry of a party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryEntry {
    pub liaison_directory: u32,
    /// When the party published it (RFC 3339).
    pub published: String,
    #[schema(value_type = Object)]
    pub card: NodeCard,
    pub contacts: Vec<ContactPoint>,
    /// The request kinds it takes (from its kind of party).
    pub accepts: Vec<String>,
    /// Which direct orders to providers of its jurisdiction it must be notified of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub notification: Option<CardNotification>,
}

/// When a contact stating `hours` answers: `None` for "24/7", else its
/// calendar ("mon-fri 09:00-18:00 Europe/Moscow").
pub fn answering_hours(hours: &str) -> Result<Option<Calendar>, CoreError> {
    if hours.trim() == "24/7" {
        return Ok(None);
    }
    let parts: Vec<&str> = hours.split_whitespace().collect();
    let [days, time, zone] = parts[..] else {
        return Err(bad(
            "contacts.hours",
            "hours are \"24/7\" or days, hours and a time zone, e.g. \"mon-fri 09:00-18:00 Europe/Moscow\"",
        ));
    };
    Calendar::parse(zone, days, time)
        .map(Some)
        .map_err(|e| bad("contacts.hours", format!("contacts.hours: {e}")))
}

/// The request kinds a party of this card's kind takes.
pub fn accepts_of(card: &CheckedCard) -> Vec<String> {
    ALL_KINDS
        .iter()
        .filter(|k| k.accepted_by(card.kind))
        .map(|k| k.as_str().to_owned())
        .collect()
}

impl DirectoryEntry {
    /// The exact bytes its log entry commits to.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CoreError> {
        serde_json::to_vec(self)
            .map_err(|e| CoreError::invalid(format!("cannot encode the entry: {e}")))
    }

    /// The log entry (`directory <sha256>`) committing to `bytes`.
    pub fn leaf(bytes: &[u8]) -> LeafEntry {
        LeafEntry::new(LeafKind::Directory, bytes)
    }

    /// Parses and checks an entry as published: its card checks, its
    /// accepted kinds and notification are the card's own.
    pub fn check(bytes: &[u8]) -> Result<(DirectoryEntry, CheckedCard), CoreError> {
        let entry: DirectoryEntry = serde_json::from_slice(bytes)
            .map_err(|e| CoreError::invalid(format!("directory entry: {e}")))?;
        if entry.liaison_directory != ENTRY_VERSION {
            return Err(bad(
                "liaison_directory",
                format!("directory entry version {ENTRY_VERSION} is the one supported"),
            ));
        }
        if entry.published.parse::<jiff::Timestamp>().is_err() {
            return Err(bad("published", "published must be an RFC 3339 time"));
        }
        let card = check_card(&entry.card)?;
        if entry.accepts != accepts_of(&card) {
            return Err(bad("accepts", "accepts must be what the card's kind takes"));
        }
        if entry.notification != entry.card.notification {
            return Err(bad("notification", "notification must be the card's"));
        }
        if entry.contacts.len() > MAX_CONTACTS {
            return Err(bad("contacts", format!("at most {MAX_CONTACTS} contacts")));
        }
        for c in &entry.contacts {
            need("contacts.name", &c.name, 200)?;
            need("contacts.role", &c.role, 200)?;
            need("contacts.hours", &c.hours, 200)?;
            answering_hours(&c.hours)?;
            optional("contacts.phone", &c.phone, 100)?;
            optional("contacts.email", &c.email, 200)?;
            if c.languages.is_empty()
                || c.languages.len() > 10
                || c.languages.iter().any(|l| l.is_empty() || l.len() > 16)
            {
                return Err(bad("contacts.languages", "1 to 10 language codes"));
            }
        }
        Ok((entry, card))
    }
}

/// An entry with the proof that it is in its owner's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryRecord {
    /// The entry, exactly the bytes its owner's log commits to.
    pub entry: String,
    /// A tlog-proof of the entry in its owner's log, against a checkpoint
    /// with witness cosignatures.
    pub proof: String,
}

/// What a node answers for its directory: the records recorded after the
/// cursor asked for, and the cursor to ask for what follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryPage {
    pub records: Vec<DirectoryRecord>,
    /// Ask for `?after=next` next time (the same cursor when nothing followed).
    pub next: u64,
}

/// A record that verified: its entry, its owner's card, where it sits in
/// the owner's log and which witnesses vouched for the checkpoint.
#[derive(Clone, Debug)]
pub struct VerifiedRecord {
    pub entry: DirectoryEntry,
    pub card: CheckedCard,
    pub index: u64,
    pub tree_size: u64,
    pub witnesses: Vec<String>,
    pub hash: liaison_log::Hash,
}

/// Verifies a record: the entry checks, the proof includes it in the log
/// its own card names, and at least one of `witnesses` cosigned that
/// checkpoint (without a witness this node pins, nothing verifies).
pub fn verify_record(
    record: &DirectoryRecord,
    witnesses: &[NoteVerifier],
) -> Result<VerifiedRecord, CoreError> {
    let bytes = record.entry.as_bytes();
    let (entry, card) = DirectoryEntry::check(bytes)?;
    let proof = TlogProof::parse(&record.proof)
        .map_err(|e| bad("proof", format!("the proof is unreadable: {e}")))?;
    let leaf = DirectoryEntry::leaf(bytes).encode();
    let (checkpoint, cosigs) = proof
        .verify(
            &liaison_log::hash::leaf_hash(&leaf),
            &card.log_key,
            witnesses,
        )
        .map_err(|e| bad("proof", format!("the proof does not verify: {e}")))?;
    if cosigs.is_empty() {
        return Err(bad(
            "proof",
            "no witness this node pins cosigned the checkpoint of the proof",
        ));
    }
    Ok(VerifiedRecord {
        hash: DirectoryEntry::leaf(bytes).content_hash,
        index: proof.index,
        tree_size: checkpoint.size,
        witnesses: cosigs.into_iter().map(|s| s.name).collect(),
        entry,
        card,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_a_pinned_witness_or_with_a_changed_byte_fails() {
        let record = DirectoryRecord {
            entry: "{}".into(),
            proof: "c2sp.org/tlog-proof@v1\n".into(),
        };
        assert!(verify_record(&record, &[]).is_err());
        assert!(DirectoryEntry::check(b"{\"liaison_directory\": 2}").is_err());
        assert!(answering_hours("24/7").unwrap().is_none());
        let office = answering_hours("mon-fri 09:00-18:00 Europe/Moscow")
            .unwrap()
            .unwrap();
        // Wednesday 2 December 2026, 10:00 and 20:00 in Moscow (UTC+3).
        assert!(office.is_open("2026-12-02T07:00:00Z".parse().unwrap()));
        assert!(!office.is_open("2026-12-02T17:00:00Z".parse().unwrap()));
        assert!(
            !office.is_open("2026-12-05T07:00:00Z".parse().unwrap()),
            "a Saturday"
        );
        for bad in [
            "always",
            "mon-fri 09:00-18:00",
            "mon-fri 9-18 UTC",
            "mon-fri 09:00-18:00 Mars/Base",
        ] {
            assert!(answering_hours(bad).is_err(), "{bad}");
        }
    }
}
