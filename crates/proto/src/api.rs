//! The JSON the app API answers with for rows a node keeps (cases, alerts,
//! escalations, restricted reads): the API's own types, with their schemas
//! in the generated OpenAPI document, filled by the node from its store.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A case as lists show it, derived from its thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Case {
    pub id: String,
    /// `note`, `preservation`, `mla`, `emergency_disclosure`, `incident`,
    /// `hotline`, `ping` or `content_report`.
    pub kind: String,
    /// The party that opened the case.
    pub initiator: String,
    /// The party it is addressed to.
    pub responder: String,
    /// Opened by this node (the outbox), not received (the inbox).
    pub outgoing: bool,
    pub subject: String,
    /// Where the case stands in its lifecycle (e.g. `under_review`).
    pub state: String,
    /// RFC 3339, as recorded by this node.
    pub created: String,
    pub updated: String,
    /// Offence id in the crosswalk (legal cases).
    pub offence: Option<String>,
    pub urgent: bool,
    /// Cases this one follows (e.g. the preservation an MLA request follows).
    pub links: Vec<String>,
    /// Hash of the envelope that opened the case.
    pub root_hash: Option<String>,
    pub preservation_days: Option<u32>,
    /// TLP marking of the thread: `clear`, `green`, `amber`, `amber_strict` or `red`.
    pub tlp: String,
    #[serde(flatten)]
    pub times: CaseTimes,
}

/// Reference times of a case, from its thread (RFC 3339).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseTimes {
    pub delivered_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub executed_at: Option<String>,
    /// Days of extension granted to the requested party.
    pub extension_days: i64,
}

/// Something an operator should look at (a peer unreachable, a refusal…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub resolved_at: Option<String>,
}

/// A deadline escalation and what became of its e-mail and webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Escalation {
    pub id: i64,
    pub at: String,
    /// The case.
    pub subject: String,
    /// `acknowledge`, `respond` or `preservation_expiry`.
    pub deadline: String,
    /// `warning` or `hard`.
    pub level: String,
    pub due: String,
    pub message: String,
    pub email_status: String,
    pub webhook_status: String,
    pub attempts: i64,
}

/// A read of restricted (TLP:AMBER or stricter) content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TlpRead {
    pub at: String,
    pub username: String,
    /// A case id or a STIX object id.
    pub object: String,
    pub tlp: String,
    /// `ui`, `api`, `cli`, `taxii` or `stix-export`.
    pub via: String,
}

/// An entry of a party's hash list (a hash of content agreed as removed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HashEntry {
    pub id: i64,
    /// The party whose list it is.
    pub owner: String,
    pub entry_id: String,
    /// `pdq`, `md5` or `sha256`.
    pub kind: String,
    pub value: String,
    pub entity: String,
    pub behaviour: String,
    pub urgency: String,
    /// The content report the entry came from.
    pub origin_case: String,
    pub added_at: String,
    pub withdrawn_at: Option<String>,
    pub withdraw_reason: Option<String>,
    /// The marking of that report (`clear` … `red`).
    pub tlp: String,
}

/// What an action on a case committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionDone {
    pub case_id: String,
    pub envelope_id: String,
    /// The case's state after the action.
    pub state: String,
}

/// A pinned peer and this node's outbox towards it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Peer {
    pub party: String,
    pub name: String,
    pub role: crate::NodeRole,
    pub federation_url: String,
    pub outbox: Outbox,
}

/// One key change on record: a party's keys before and after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyChange {
    pub party: String,
    /// 1, 2, … in the party's chain.
    pub sequence: u64,
    /// `rotation`, `revocation` or `recovery_rotation`.
    pub kind: String,
    pub issued_at: String,
    /// The replaced keys are accepted until then (a rotation).
    pub overlap_until: Option<String>,
    /// The revoked key is presumed stolen from then (a revocation).
    pub compromised_since: Option<String>,
    pub old_log_key: String,
    pub new_log_key: String,
    pub old_tls_fingerprint: String,
    pub new_tls_fingerprint: String,
    /// A witness's Ed25519 cosigning key before and after (its ML-DSA-44
    /// key changes with it); none for a party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_cosigner_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_cosigner_key: Option<String>,
    /// When this node recorded it.
    pub recorded_at: String,
}

/// This node's keys now and the changes that led to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Keys {
    pub log_key: String,
    /// The key a rotation replaced, while it still signs checkpoints.
    pub previous_log_key: Option<String>,
    /// The end of that overlap.
    pub overlap_until: Option<String>,
    pub recovery_key: Option<String>,
    pub tls_fingerprint: String,
    /// A witness's cosigning keys (Ed25519, ML-DSA-44); none for a party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigner_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigner_key_ml_dsa: Option<String>,
    /// The cosigning key a rotation replaced, while it still cosigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cosigner_key: Option<String>,
    pub history: Vec<KeyChange>,
}

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyRotation {
    pub sequence: u64,
    pub old_log_key: String,
    pub new_log_key: String,
    /// The certificate presented after the overlap.
    pub tls_fingerprint: String,
    /// A witness's Ed25519 cosigning key after the rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigner_key: Option<String>,
    pub overlap_until: String,
    /// Parties the key change was sent to.
    pub sent_to: Vec<String>,
}

/// Envelopes to one peer, by delivery state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Outbox {
    pub pending: i64,
    pub delivered: i64,
    pub refused: i64,
}

/// One value of an enumeration, with its English and Russian labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnumValue {
    pub value: String,
    pub en: String,
    pub ru: String,
}

/// A norm of responsible state behaviour and how many of this node's cases
/// are tagged with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Norm {
    pub id: String,
    pub en: String,
    pub ru: String,
    pub tagged_cases: i64,
}

/// The norms a case is tagged with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NormTags {
    pub case_id: String,
    pub norms: Vec<String>,
}

/// A glossary event this node signed and sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GlossaryEventSent {
    pub term: String,
    pub event_id: String,
}

/// A shift of the duty roster (RFC 3339, UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Shift {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub starts: String,
    pub ends: String,
}

/// The duty roster, and who is on duty now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Duty {
    pub roster: Vec<Shift>,
    pub on_duty: Vec<Shift>,
}

/// A shift added to the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShiftAdded {
    pub id: i64,
}

/// Live entries of one list owner and hash type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HashCount {
    pub owner: String,
    /// `pdq`, `md5` or `sha256`.
    #[serde(rename = "type")]
    pub kind: String,
    pub live: i64,
}

/// A page of hash-list entries, with the counts per list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HashList {
    pub counts: Vec<HashCount>,
    pub entries: Vec<HashEntry>,
}

/// How many entries a withdrawal withdrew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Withdrawn {
    pub withdrawn: u64,
}
