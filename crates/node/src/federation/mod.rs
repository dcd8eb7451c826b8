//! Federation: sending envelopes through the durable outbox, receiving them
//! with receipts, delivering with retries, auditing peers, and witnessing.
//!
//! Sending commits the envelope, its log entry and its outbox row in one
//! transaction before anything leaves the node. Receiving commits the
//! envelope and its log entry before the receipt (a tlog-proof against the
//! recipient's checkpoint) is returned. Both logs commit to the same entry,
//! `envelope <SHA-256 of the canonical text>`.

pub mod audit;
pub mod delivery;
pub mod witness;

#[cfg(test)]
mod arrival_order;
mod detail;
mod execution;
mod log_scan;
mod orders;
mod receive;
mod send;
mod teams;

pub use crate::envelopes::Sent;
pub use detail::{CaseDetail, MessageView, OffenceHint};
pub use execution::{CustodyFile, HandOver};

/// Largest delivery request body accepted.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
