//! Key changes: a party's statement that its card changes keys, chained to
//! the card it replaces, so a peer that pinned any card of the chain can
//! follow it without trusting anyone else.
//!
//! - A **rotation** is signed by the log key it replaces and countersigned
//!   by the new one (proof of possession). The old log key and TLS
//!   certificate stay accepted until `overlap_until`.
//! - A **revocation** is signed by the recovery key (kept offline) and
//!   countersigned by the new log key: nothing signed by the revoked key is
//!   accepted any more, and what was accepted from it since
//!   `compromised_since` is flagged.
//! - A **recovery rotation** is signed by the recovery key and
//!   countersigned by its successor; nothing else on the card changes.
//!
//! The statement travels as its exact JSON text with the signatures beside
//! it; each signature is Ed25519 over `liaison key change v1\n` followed by
//! that text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use liaison_log::Hash;
use liaison_log::note::NoteSigner;
use liaison_proto::NodeCard;
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::card::{CheckedCard, check_card};

/// Format version of [`KeyChange`].
pub const KEY_CHANGE_VERSION: u32 = 1;
/// Largest statement text accepted.
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;
/// Longest overlap a rotation may ask for.
pub const MAX_OVERLAP_SECS: i64 = 30 * 24 * 3600;
const DOMAIN: &[u8] = b"liaison key change v1\n";
/// The envelope kind that carries a [`SignedKeyChange`] to every peer.
pub const KEY_CHANGE: &str = "key_change";

/// The case id of a party's key-change envelopes.
pub fn key_change_case(party: &str) -> String {
    format!("{KEY_CHANGE}-{party}")
}

/// What a key change does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Rotation,
    Revocation,
    RecoveryRotation,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Rotation => "rotation",
            ChangeKind::Revocation => "revocation",
            ChangeKind::RecoveryRotation => "recovery_rotation",
        }
    }
}

/// The statement: which card replaces which, why, and from when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyChange {
    pub liaison_key_change: u32,
    pub party: String,
    /// 1 for the first change after the first card, then one more each time.
    pub sequence: u64,
    /// Lowercase hex [`card_digest`] of the card this one replaces, as its
    /// signer had it (a record: a peer may have pinned an earlier version
    /// of that card with the same keys).
    pub previous_card: String,
    pub card: NodeCard,
    pub change: ChangeKind,
    /// RFC 3339 time of the statement.
    pub issued_at: String,
    /// A rotation: the replaced log key and certificate are accepted until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_until: Option<String>,
    /// A revocation: from when the revoked key is presumed stolen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
}

/// One signature over a statement: the signer's verifier key and the
/// base64 Ed25519 signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySignature {
    pub key: String,
    pub signature: String,
}

/// A statement as it travels: its exact text and its signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedKeyChange {
    pub statement: String,
    pub signatures: Vec<KeySignature>,
}

/// A key change as it travels to peers (the body of a `key_change`
/// envelope, an entry of `/federation/v1/key-changes`): the signed
/// statement and where its sender's log holds it (a `key-change` entry
/// committing to the statement's hash), so an audit can check that every
/// peer was shown the same chain, in the log the witnesses cosign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyChangeNotice {
    pub change: SignedKeyChange,
    pub log_index: u64,
}

/// What a peer knows of a party's chain when one of its changes arrives.
#[derive(Clone, Copy, Debug)]
pub struct Chain {
    /// The sequence of the party's last change recorded (0 for none).
    pub last_sequence: u64,
    /// A revocation issued before this is refused (a replay): the latest
    /// statement the recovery key signed, or the time the card was pinned
    /// by hand less the clock skew allowed, whichever is later.
    pub revocations_after: Option<jiff::Timestamp>,
    pub now: jiff::Timestamp,
    /// How far in the future a statement may be dated.
    pub max_skew_secs: i64,
}

/// A key change whose chain and signatures verified against a pinned card.
#[derive(Clone, Debug)]
pub struct VerifiedKeyChange {
    pub change: KeyChange,
    pub card: CheckedCard,
    pub issued_at: jiff::Timestamp,
    pub overlap_until: Option<jiff::Timestamp>,
    pub compromised_since: Option<jiff::Timestamp>,
    /// SHA-256 of the statement text (its identity in logs and tables).
    pub hash: Hash,
}

/// SHA-256 of a card's compact JSON: what a key change names as the card
/// it replaces.
pub fn card_digest(card: &NodeCard) -> Result<Hash, CoreError> {
    let json = serde_json::to_vec(card)
        .map_err(|e| CoreError::invalid(format!("cannot encode the card: {e}")))?;
    Ok(Hash::of_content(&json))
}

fn signed_message(statement: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + statement.len());
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(statement.as_bytes());
    m
}

impl KeyChange {
    /// The statement signed by every key in `signers`, in that order.
    pub fn sign(&self, signers: &[&NoteSigner]) -> Result<SignedKeyChange, CoreError> {
        let statement = serde_json::to_string(self)
            .map_err(|e| CoreError::invalid(format!("cannot encode the key change: {e}")))?;
        let message = signed_message(&statement);
        let mut signatures: Vec<KeySignature> = Vec::new();
        for signer in signers {
            let key = signer.verifier().to_encoded();
            if signatures.iter().any(|s| s.key == key) {
                continue;
            }
            signatures.push(KeySignature {
                key,
                signature: B64.encode(signer.sign_raw(&message)),
            });
        }
        Ok(SignedKeyChange {
            statement,
            signatures,
        })
    }
}

fn timestamp(value: &str, field: &str) -> Result<jiff::Timestamp, CoreError> {
    value
        .parse()
        .map_err(|_| CoreError::invalid(format!("{field} {value:?} is not an RFC 3339 time")))
}

impl SignedKeyChange {
    /// The statement's identity: SHA-256 of its text.
    pub fn hash(&self) -> Hash {
        Hash::of_content(self.statement.as_bytes())
    }

    /// Whether `key` (a verifier key) signed the statement.
    fn signed_by(&self, key: &liaison_log::note::NoteVerifier) -> bool {
        let encoded = key.to_encoded();
        let message = signed_message(&self.statement);
        self.signatures.iter().any(|s| {
            s.key == encoded
                && B64
                    .decode(&s.signature)
                    .is_ok_and(|sig| key.verify_raw(&message, &sig).is_ok())
        })
    }

    /// Checks the statement against the card pinned for its party and
    /// what is known of its chain: the order, the signatures its kind
    /// needs, and the new card. Returns the new card, checked.
    ///
    /// A rotation or recovery rotation follows the last change recorded. A
    /// revocation does not have to: whoever stole the log key may have
    /// rotated it first (the thief's card keeps the recovery key, which
    /// only the recovery key replaces), and the owner's revocation, signed
    /// by the recovery key, supersedes that chain; it only has to be
    /// issued after the last statement the recovery key signed.
    pub fn verify(
        &self,
        pinned: &CheckedCard,
        chain: &Chain,
    ) -> Result<VerifiedKeyChange, CoreError> {
        if self.statement.len() > MAX_STATEMENT_BYTES {
            return Err(CoreError::invalid("the key change statement is too large"));
        }
        if self.signatures.len() > 4 {
            return Err(CoreError::invalid(
                "a key change carries at most 4 signatures",
            ));
        }
        let change: KeyChange = serde_json::from_str(&self.statement)
            .map_err(|e| CoreError::invalid(format!("the key change statement: {e}")))?;
        if change.liaison_key_change != KEY_CHANGE_VERSION {
            return Err(CoreError::invalid(format!(
                "key change version {} is not supported (expected {KEY_CHANGE_VERSION})",
                change.liaison_key_change
            )));
        }
        let party = pinned.party.as_str();
        if change.party != party || change.card.party != party {
            return Err(CoreError::invalid(format!(
                "the key change is not for party {party}"
            )));
        }
        // A peer that pinned a later card than the first has seen fewer
        // changes than were made: the sequence only has to move forward.
        // The authority is the signature by a key of the pinned card.
        let last_sequence = chain.last_sequence;
        if change.change != ChangeKind::Revocation && change.sequence <= last_sequence {
            return Err(CoreError::invalid(format!(
                "key change {} of {party} does not follow the last one accepted ({last_sequence})",
                change.sequence
            )));
        }
        if Hash::from_hex(&change.previous_card).is_none() {
            return Err(CoreError::invalid(
                "previous_card is not a SHA-256 in lowercase hex",
            ));
        }
        let card = check_card(&change.card)?;
        if card.card.role != pinned.card.role || card.card.log_origin != pinned.card.log_origin {
            return Err(CoreError::invalid(
                "a key change keeps the party's role and log origin (the log goes on)",
            ));
        }
        let issued_at = timestamp(&change.issued_at, "issued_at")?;
        // A statement dated ahead would block a revocation that must be
        // issued after it.
        if issued_at.as_second() > chain.now.as_second().saturating_add(chain.max_skew_secs) {
            return Err(CoreError::invalid(format!(
                "the key change is dated {issued_at}, in the future"
            )));
        }
        let new_log_key = &card.log_key;
        let old_log_key = &pinned.log_key;
        let missing =
            |whose: &str| CoreError::invalid(format!("the key change is not signed by {whose}"));
        let mut overlap_until = None;
        let mut compromised_since = None;
        match change.change {
            ChangeKind::Rotation => {
                if change.compromised_since.is_some() {
                    return Err(CoreError::invalid(
                        "a rotation names no compromise time (that is a revocation)",
                    ));
                }
                if card.card.recovery_key != pinned.card.recovery_key {
                    return Err(CoreError::invalid(
                        "only the recovery key can replace the recovery key",
                    ));
                }
                let until = timestamp(
                    change.overlap_until.as_deref().ok_or_else(|| {
                        CoreError::invalid("a rotation names the end of its overlap")
                    })?,
                    "overlap_until",
                )?;
                let overlap = until.as_second() - issued_at.as_second();
                if !(0..=MAX_OVERLAP_SECS).contains(&overlap) {
                    return Err(CoreError::invalid(format!(
                        "the overlap must end 0 to {} days after the statement",
                        MAX_OVERLAP_SECS / 86_400
                    )));
                }
                overlap_until = Some(until);
                if !self.signed_by(old_log_key) {
                    return Err(missing("the log key it replaces"));
                }
                if !self.signed_by(new_log_key) {
                    return Err(missing("the new log key"));
                }
            }
            ChangeKind::Revocation => {
                let recovery = pinned.recovery_key.as_ref().ok_or_else(|| {
                    CoreError::invalid(format!("{party}'s card names no recovery key"))
                })?;
                if change.overlap_until.is_some() {
                    return Err(CoreError::invalid(
                        "a revocation has no overlap: the revoked key is refused at once",
                    ));
                }
                let since = timestamp(
                    change.compromised_since.as_deref().ok_or_else(|| {
                        CoreError::invalid("a revocation names when the key was compromised")
                    })?,
                    "compromised_since",
                )?;
                if since > issued_at {
                    return Err(CoreError::invalid(
                        "compromised_since is after the revocation itself",
                    ));
                }
                if let Some(after) = chain.revocations_after
                    && issued_at < after
                {
                    return Err(CoreError::invalid(format!(
                        "the revocation was issued at {issued_at}, before {party}'s last recovery statement or pin ({after}): a replay"
                    )));
                }
                compromised_since = Some(since);
                // The TLS certificate may stay (its key may live elsewhere,
                // e.g. in a hardware module); the log key may not.
                if new_log_key.public_key() == old_log_key.public_key() {
                    return Err(CoreError::invalid("a revocation replaces the log key"));
                }
                if card.card.recovery_key != pinned.card.recovery_key {
                    return Err(CoreError::invalid(
                        "a revocation keeps the recovery key (replace it with a recovery rotation)",
                    ));
                }
                if !self.signed_by(recovery) {
                    return Err(missing("the recovery key"));
                }
                if !self.signed_by(new_log_key) {
                    return Err(missing("the new log key"));
                }
            }
            ChangeKind::RecoveryRotation => {
                let recovery = pinned.recovery_key.as_ref().ok_or_else(|| {
                    CoreError::invalid(format!("{party}'s card names no recovery key"))
                })?;
                let successor = card.recovery_key.as_ref().ok_or_else(|| {
                    CoreError::invalid("a recovery rotation names the new recovery key")
                })?;
                let mut same = change.card.clone();
                same.recovery_key = pinned.card.recovery_key.clone();
                if same != pinned.card || successor == recovery {
                    return Err(CoreError::invalid(
                        "a recovery rotation changes the recovery key and nothing else",
                    ));
                }
                if change.overlap_until.is_some() || change.compromised_since.is_some() {
                    return Err(CoreError::invalid(
                        "a recovery rotation names no overlap or compromise",
                    ));
                }
                if !self.signed_by(recovery) {
                    return Err(missing("the recovery key"));
                }
                if !self.signed_by(successor) {
                    return Err(missing("the new recovery key"));
                }
            }
        }
        // A witness's new cosigning key proves it is held (the old log key
        // or the recovery key authorises it). Its ML-DSA-44 key cannot
        // sign a statement: one the witness does not hold only makes its
        // own cosignatures fail, which every audit reports.
        if let Some(cosigner) = &card.cosigner_key
            && pinned.cosigner_key.as_ref() != Some(cosigner)
            && !self.signed_by(cosigner)
        {
            return Err(missing("the new cosigning key"));
        }
        Ok(VerifiedKeyChange {
            hash: self.hash(),
            change,
            card,
            issued_at,
            overlap_until,
            compromised_since,
        })
    }
}

#[cfg(test)]
mod tests;
