//! Envelope plumbing, a leaf every module that records envelopes builds on:
//! ids, the stored row of an envelope (with its attachment references),
//! what a send committed, and a message signed for several parties,
//! committed with what it carries.

use liaison_core::envelope::{SignedEnvelope, new_id};
use liaison_core::leaf::LeafEntry;
use liaison_store::federation::{self as db, Direction, EnvelopeRow};
use liaison_store::{StoreError, WriteTx};

use serde::Serialize;

use crate::NodeError;

/// A fresh envelope (or event) id.
pub(crate) fn random_id() -> Result<String, NodeError> {
    let mut r = [0u8; 10];
    getrandom::fill(&mut r)
        .map_err(|e| NodeError::Invalid(format!("no randomness available: {e}")))?;
    Ok(new_id(r))
}

/// Stores the row of an envelope sent or received.
pub(crate) fn insert_envelope(
    conn: &liaison_store::Connection,
    signed: &SignedEnvelope,
    signed_json: String,
    hash: &str,
    direction: Direction,
    log_index: u64,
    now: &str,
) -> Result<(), StoreError> {
    let e = &signed.envelope;
    db::insert_envelope(
        conn,
        &EnvelopeRow {
            hash: hash.to_owned(),
            id: e.id.clone(),
            sender: e.sender.clone(),
            recipient: e.recipient.clone(),
            kind: e.kind.clone(),
            case_id: e.case_id.clone(),
            created: e.created.clone(),
            signed_json,
            direction,
            log_index,
            recorded_at: now.to_owned(),
            receipt: None,
        },
    )?;
    // Readability of an attachment is decided from this table.
    for a in &e.attachments {
        liaison_store::attachments::add_reference(conn, &a.sha256, hash, &e.case_id, &a.name)?;
    }
    Ok(())
}

/// One message signed for every pinned party (glossary events, hash-list
/// changes), to be committed with the change it carries.
pub(crate) struct Broadcast(pub(crate) Vec<(SignedEnvelope, liaison_log::Hash, String)>);

impl Broadcast {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whom the messages go to.
    pub(crate) fn recipients(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(signed, _, _)| signed.envelope.recipient.clone())
            .collect()
    }

    /// Appends each envelope to the log, stores it and queues it for
    /// delivery, inside the caller's write job.
    pub(crate) fn commit(self, tx: &mut WriteTx<'_>, now: &str) -> Result<(), StoreError> {
        for (signed, hash, json) in self.0 {
            let leaf = LeafEntry::envelope(hash).encode();
            let log_index = tx.append_leaf(leaf);
            let hex = hash.to_hex();
            insert_envelope(
                tx.conn(),
                &signed,
                json,
                &hex,
                Direction::Out,
                log_index,
                now,
            )?;
            db::enqueue(tx.conn(), &signed.envelope.recipient, &hex, now, now_ms())?;
        }
        Ok(())
    }
}

pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// What `send` committed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Sent {
    pub case_id: String,
    pub envelope_id: String,
    pub envelope_hash: String,
    pub log_index: u64,
}
