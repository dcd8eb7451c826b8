//! This node's key lifecycle: rotating its log key and TLS certificate (a
//! key change signed by the old log key and the new one, committed to the
//! log with the new card and sent to every pinned party), revoking a stolen
//! log key and replacing the recovery key with the recovery key, and its
//! key history. Following peers' changes is `peer_keys`.
//!
//! On disk a change goes `keys/*.new` (written first) → one transaction
//! (the statement, the new card, the envelopes) → the renames, e.g.
//! `log.key` → `log-previous.key`, `log.key.new` → `log.key`. Opening a
//! node finishes a change whose transaction committed and drops new keys
//! whose transaction did not, so a crash at any point leaves one of the
//! two states.

mod files;
mod rows;

use std::path::Path;
use std::sync::Arc;

use liaison_core::envelope::Envelope;
use liaison_core::keys::{
    ChangeKind, KEY_CHANGE, KEY_CHANGE_VERSION, KeyChange, KeyChangeNotice, card_digest,
    key_change_case,
};
use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_log::mldsa::MlDsaCosigner;
use liaison_log::note::{COSIGNATURE_V1, ED25519, NoteSigner, NoteVerifier};
use liaison_proto::{NodeCard, NodeRole, api};
use liaison_store::StoreError;
use liaison_store::keys::{self as db, KeyChangeRow};

pub(crate) use files::{
    CosignerSet, last_change, read_recovery_key, settle_cosigners, settle_log_keys, settle_tls,
};
use files::{remove_if_exists, sync_dir};
pub(crate) use rows::{corrupt, open_overlaps, parse_signed};

use crate::envelopes::{Broadcast, random_id};
use crate::{Node, NodeError, now_rfc3339, random_seed};

/// Least time between two fetches of one peer's key changes.
pub(crate) const CATCH_UP_GAP: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest overlap `rotate_log_key` takes (the statement's limit).
pub const MAX_OVERLAP_SECS: u64 = liaison_core::keys::MAX_OVERLAP_SECS as u64;

/// Which keys a rotation replaces; none named means all the node has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeysToRotate {
    pub log: bool,
    pub tls: bool,
    /// A witness's cosigning keys (Ed25519 and ML-DSA-44).
    pub cosigner: bool,
}

/// What a key change commits besides its statement.
struct Change {
    kind: ChangeKind,
    previous: NodeCard,
    card: NodeCard,
    /// The keys that sign the statement.
    signers: Vec<NoteSigner>,
    /// The key that signs the envelopes carrying it.
    envelope_signer: NoteSigner,
    overlap_until: Option<String>,
    /// A revocation: from when the revoked key is presumed stolen.
    compromised_since: Option<String>,
    issued_at: String,
}

impl Node {
    /// A witness's cosigners now (none for a party).
    pub(crate) fn cosigners(&self) -> Option<Arc<CosignerSet>> {
        self.cosigners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The recovery key's public half, as the card names it.
    pub fn recovery_public_key(&self) -> Option<NoteVerifier> {
        self.recovery_key
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Commits a key change in one transaction: the statement and its
    /// `key-change` log entry, the new card (and its entry), and one
    /// `key_change` envelope per pinned party, signed by the log key they
    /// pin now. Returns the sequence and the parties it goes to.
    async fn commit_key_change(&self, c: Change) -> Result<(u64, Vec<String>), NodeError> {
        let card_json = serde_json::to_string_pretty(&c.card)
            .map_err(|e| NodeError::Invalid(format!("cannot encode the card: {e}")))?;
        let recipients: Vec<String> = self
            .peers()?
            .into_iter()
            .filter(|p| p.card.role == NodeRole::Party)
            .map(|p| p.party.to_string())
            .collect();
        let ids = recipients
            .iter()
            .map(|_| random_id())
            .collect::<Result<Vec<_>, _>>()?;
        let me = self.party.to_string();
        let envelope_key = c.envelope_signer.clone();
        let sent_to = recipients.clone();
        let invalid = |e: String| StoreError::Invalid(e);
        let committed = self
            .store
            .write(move |tx| {
                let sequence = db::last_sequence(tx.conn(), &me)? + 1;
                let change = KeyChange {
                    liaison_key_change: KEY_CHANGE_VERSION,
                    party: me.clone(),
                    sequence,
                    previous_card: card_digest(&c.previous)
                        .map_err(|e| invalid(e.to_string()))?
                        .to_hex(),
                    card: c.card,
                    change: c.kind,
                    issued_at: c.issued_at.clone(),
                    overlap_until: c.overlap_until.clone(),
                    compromised_since: c.compromised_since.clone(),
                };
                let signers: Vec<&NoteSigner> = c.signers.iter().collect();
                let signed = change.sign(&signers).map_err(|e| invalid(e.to_string()))?;
                let signed_json =
                    serde_json::to_string(&signed).map_err(|e| invalid(e.to_string()))?;
                let previous_json =
                    serde_json::to_string(&c.previous).map_err(|e| invalid(e.to_string()))?;
                // The log commits to the statement (its hash is the leaf's).
                let log_index = tx.append_leaf(
                    LeafEntry::new(LeafKind::KeyChange, signed.statement.as_bytes()).encode(),
                );
                db::record(
                    tx.conn(),
                    &KeyChangeRow {
                        party: me.clone(),
                        sequence,
                        kind: c.kind.as_str().to_owned(),
                        hash: signed.hash().to_hex(),
                        signed: signed_json,
                        previous_card: previous_json,
                        issued_at: c.issued_at.clone(),
                        overlap_until: c.overlap_until.clone(),
                        compromised_since: c.compromised_since.clone(),
                        log_index,
                        recorded_at: c.issued_at.clone(),
                    },
                )?;
                liaison_store::set_meta(tx.conn(), "card_json", &card_json)?;
                tx.append_leaf(LeafEntry::new(LeafKind::Card, card_json.as_bytes()).encode());
                let body = serde_json::to_value(KeyChangeNotice {
                    change: signed,
                    log_index,
                })
                .map_err(|e| invalid(e.to_string()))?;
                let mut envelopes = Vec::new();
                for (recipient, id) in sent_to.iter().zip(ids) {
                    let envelope = Envelope {
                        id,
                        sender: me.clone(),
                        recipient: recipient.clone(),
                        also_to: Vec::new(),
                        kind: KEY_CHANGE.to_owned(),
                        case_id: key_change_case(&me),
                        created: c.issued_at.clone(),
                        body: body.clone(),
                        attachments: Vec::new(),
                    };
                    let signed = envelope
                        .sign(&envelope_key)
                        .map_err(|e| invalid(e.to_string()))?;
                    let canonical = signed
                        .envelope
                        .canonical_bytes()
                        .map_err(|e| invalid(e.to_string()))?;
                    let json =
                        serde_json::to_string(&signed).map_err(|e| invalid(e.to_string()))?;
                    envelopes.push((signed, liaison_log::Hash::of_content(&canonical), json));
                }
                Broadcast(envelopes).commit(tx, &c.issued_at)?;
                Ok(sequence)
            })
            .await?;
        Ok((committed.value, recipients))
    }

    /// Replaces the recovery key with a new one: a recovery rotation signed
    /// by the current recovery key (`old`, brought from where it is kept)
    /// and countersigned by the new one, whose secret is written to `out`
    /// (mode 0600; move it offline as well). Nothing else on the card
    /// changes.
    pub async fn rotate_recovery_key(
        &self,
        old: &NoteSigner,
        out: &Path,
    ) -> Result<(u64, Vec<String>), NodeError> {
        let Some(current) = self.recovery_public_key() else {
            return Err(NodeError::Invalid(
                "this node has no recovery key (it was made before recovery keys)".into(),
            ));
        };
        if old.verifier() != current {
            return Err(NodeError::Invalid(
                "that is not this node's recovery key (the card names another)".into(),
            ));
        }
        let _gate = self.signing.clone().write_owned().await;
        let new = NoteSigner::new(old.name(), ED25519, random_seed()?)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        crate::init::write_private(out, &format!("{}\n", new.to_encoded()))?;
        let pending = self.dir.pending_recovery_public_key();
        remove_if_exists(&pending)?;
        crate::init::write_private(&pending, &format!("{}\n", new.verifier().to_encoded()))?;
        sync_dir(&self.dir.keys())?;
        let previous = self.card();
        let mut card = previous.clone();
        card.recovery_key = Some(new.verifier().to_encoded());
        let done = self
            .commit_key_change(Change {
                kind: ChangeKind::RecoveryRotation,
                previous,
                card,
                signers: vec![old.clone(), new.clone()],
                envelope_signer: self.store.log_signer(),
                overlap_until: None,
                compromised_since: None,
                issued_at: now_rfc3339(),
            })
            .await?;
        self.settle_keys()?;
        self.wake.queued(done.1.iter().map(String::as_str));
        Ok(done)
    }

    /// Revokes the log key, presumed stolen since `compromised_since`: a
    /// revocation signed by the recovery key (brought from where it is
    /// kept) and countersigned by a new log key, with no overlap. The
    /// envelopes carrying it are signed by the new key (a thief may have
    /// rotated the revoked one away first; the recovery key's signature is
    /// what peers act on); from then on they accept nothing the revoked key
    /// signs and flag what they accepted from it since `compromised_since`.
    pub async fn revoke_log_key(
        &self,
        recovery: &NoteSigner,
        compromised_since: jiff::Timestamp,
    ) -> Result<(api::KeyChange, Vec<String>), NodeError> {
        if self.recovery_public_key() != Some(recovery.verifier()) {
            return Err(NodeError::Invalid(
                "that is not this node's recovery key (the card names another, or none)".into(),
            ));
        }
        let now = jiff::Timestamp::now().as_second();
        if compromised_since.as_second() > now {
            return Err(NodeError::Invalid(
                "--compromised-since is in the future".into(),
            ));
        }
        let _gate = self.signing.clone().write_owned().await;
        let new = self.pending_log_signer()?;
        let previous = self.card();
        let mut card = previous.clone();
        card.log_key = new.verifier().to_encoded();
        let mut signers = vec![recovery.clone(), new.clone()];
        // A witness's cosigning keys sit beside the stolen log key.
        if self.role == NodeRole::Witness {
            signers.push(self.pending_cosigner(&mut card)?);
        }
        let issued_at = jiff::Timestamp::from_second(now)
            .map_err(|e| NodeError::Invalid(e.to_string()))?
            .to_string();
        let since = jiff::Timestamp::from_second(compromised_since.as_second())
            .map_err(|e| NodeError::Invalid(e.to_string()))?
            .to_string();
        let (_, recipients) = self
            .commit_key_change(Change {
                kind: ChangeKind::Revocation,
                previous,
                card,
                signers,
                envelope_signer: new.clone(),
                overlap_until: None,
                compromised_since: Some(since.clone()),
                issued_at,
            })
            .await?;
        self.settle_keys()?;
        self.wake.queued(recipients.iter().map(String::as_str));
        let change = self
            .key_history(self.party.as_str())?
            .pop()
            .ok_or_else(|| corrupt("the revocation just committed is not on record".into()))?;
        Ok((change, recipients))
    }

    /// A fresh log key, written to `keys/log.key.new` (and synced) before
    /// the change that names it commits.
    fn pending_log_signer(&self) -> Result<NoteSigner, NodeError> {
        let new = NoteSigner::new(self.store.log_origin(), ED25519, random_seed()?)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let pending = self.dir.pending_log_key();
        remove_if_exists(&pending)?;
        crate::init::write_private(&pending, &format!("{}\n", new.to_encoded()))?;
        sync_dir(&self.dir.keys())?;
        Ok(new)
    }

    /// Rotates the log key: a new key, a key change signed by the old key
    /// and countersigned by the new one, committed to the log with the new
    /// card and sent to every pinned party. Until `overlap_secs` have passed
    /// checkpoints carry both keys' signatures.
    pub async fn rotate_log_key(&self, overlap_secs: u64) -> Result<api::KeyRotation, NodeError> {
        let log = KeysToRotate {
            log: true,
            ..KeysToRotate::default()
        };
        self.rotate_keys(log, overlap_secs).await
    }

    /// Rotates the keys `what` names in one key change (all this node has
    /// when it names none). During the overlap the replaced certificate is
    /// still the one presented (peers that have not followed yet keep
    /// connecting), peers accept either, both log keys sign checkpoints,
    /// and a witness cosigns with both cosigners.
    pub async fn rotate_keys(
        &self,
        what: KeysToRotate,
        overlap_secs: u64,
    ) -> Result<api::KeyRotation, NodeError> {
        let witness = self.role == NodeRole::Witness;
        let what = if what.log || what.tls || what.cosigner {
            what
        } else {
            KeysToRotate {
                log: true,
                tls: true,
                cosigner: witness,
            }
        };
        if what.cosigner && !witness {
            return Err(NodeError::Invalid(
                "only a witness has cosigning keys to rotate".into(),
            ));
        }
        if overlap_secs > MAX_OVERLAP_SECS {
            return Err(NodeError::Invalid(format!(
                "the overlap is at most {} days",
                MAX_OVERLAP_SECS / 86_400
            )));
        }
        // Sends in flight commit first; new ones wait for the new key.
        let _gate = self.signing.clone().write_owned().await;
        let old = self.store.log_signer();
        let new = if what.log {
            self.pending_log_signer()?
        } else {
            old.clone()
        };
        let previous = self.card();
        let mut card = previous.clone();
        card.log_key = new.verifier().to_encoded();
        if what.tls {
            let (cert_pem, fingerprint) = self.pending_tls_identity()?;
            card.tls_certificate = cert_pem;
            card.tls_fingerprint = fingerprint;
        }
        let mut signers = vec![old.clone(), new.clone()];
        if what.cosigner {
            signers.push(self.pending_cosigner(&mut card)?);
        }
        // Whole seconds, the overlap counted from the time the statement names.
        let second =
            |s: i64| jiff::Timestamp::from_second(s).map_err(|e| NodeError::Invalid(e.to_string()));
        let now = jiff::Timestamp::now().as_second();
        let overlap_until = second(now + overlap_secs as i64)?.to_string();
        let tls_fingerprint = card.tls_fingerprint.clone();
        let cosigner_key = card.cosigner_key.clone();
        // Signed by the old key (the peers still pin it), countersigned by the new.
        let (sequence, recipients) = self
            .commit_key_change(Change {
                kind: ChangeKind::Rotation,
                previous,
                card,
                signers,
                envelope_signer: old.clone(),
                overlap_until: Some(overlap_until.clone()),
                compromised_since: None,
                issued_at: second(now)?.to_string(),
            })
            .await?;
        self.settle_keys()?;
        self.wake.queued(recipients.iter().map(String::as_str));
        Ok(api::KeyRotation {
            sequence,
            old_log_key: old.verifier().to_encoded(),
            new_log_key: new.verifier().to_encoded(),
            tls_fingerprint,
            cosigner_key,
            overlap_until,
            sent_to: recipients,
        })
    }

    /// A witness's fresh cosigners (Ed25519 and ML-DSA-44, under its
    /// cosigner name), written to `keys/cosigner*.key.new` before the
    /// change that names them commits and named on `card`. Returns the
    /// Ed25519 one, which countersigns the change.
    fn pending_cosigner(&self, card: &mut NodeCard) -> Result<NoteSigner, NodeError> {
        let current = self.cosigners().ok_or_else(|| {
            NodeError::Invalid("only a witness has cosigning keys to rotate".into())
        })?;
        let name = current.current.ed25519.name().to_owned();
        let ed25519 = NoteSigner::new(&name, COSIGNATURE_V1, random_seed()?)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let ml_dsa = MlDsaCosigner::new(&name, random_seed()?)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let (ed_path, ml_path) = (
            self.dir.pending_cosigner_key(),
            self.dir.pending_ml_dsa_cosigner_key(),
        );
        remove_if_exists(&ed_path)?;
        remove_if_exists(&ml_path)?;
        crate::init::write_private(&ml_path, &format!("{}\n", ml_dsa.to_encoded()))?;
        crate::init::write_private(&ed_path, &format!("{}\n", ed25519.to_encoded()))?;
        sync_dir(&self.dir.keys())?;
        card.cosigner_key = Some(ed25519.verifier().to_encoded());
        card.cosigner_key_ml_dsa = Some(ml_dsa.verifier().to_encoded());
        Ok(ed25519)
    }

    /// Brings every key file in line with the last key change committed and
    /// makes the keys it names those that sign, present and cosign.
    /// Returns whether the keys that sign the log changed.
    fn settle_keys(&self) -> Result<bool, NodeError> {
        let last = last_change(&self.store, self.party.as_str())?;
        let signers = settle_log_keys(&self.dir, last.as_ref())?;
        let current = self.store.log_signers();
        let same = current.current.key_id() == signers.current.key_id()
            && current.overlap.as_ref().map(|(k, u)| (k.key_id(), *u))
                == signers.overlap.as_ref().map(|(k, u)| (k.key_id(), *u));
        if !same {
            self.store.set_log_signers(signers)?;
        }
        self.tls.set(settle_tls(
            &self.dir,
            last.as_ref(),
            self.config.federation.post_quantum_kx,
        )?);
        if self.role == NodeRole::Witness {
            *self
                .cosigners
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(Arc::new(settle_cosigners(&self.dir, last.as_ref())?));
        }
        *self
            .recovery_key
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = read_recovery_key(&self.dir)?;
        Ok(!same)
    }

    /// A fresh TLS key and certificate written beside the current ones
    /// (`keys/tls.{key,crt}.new`) before the change that names them
    /// commits: the certificate's PEM and fingerprint.
    fn pending_tls_identity(&self) -> Result<(String, String), NodeError> {
        let (cert_pem, key_pem) =
            crate::tls::generate_self_signed(&self.party, &self.config.node.name)?;
        remove_if_exists(&self.dir.pending_tls_cert())?;
        remove_if_exists(&self.dir.pending_tls_key())?;
        crate::init::write_private(&self.dir.pending_tls_key(), &key_pem)?;
        crate::init::write_private(&self.dir.pending_tls_cert(), &cert_pem)?;
        sync_dir(&self.dir.keys())?;
        let der = liaison_core::card::pem_certificate_der(&cert_pem)?;
        let fingerprint = liaison_log::Hash(liaison_core::card::fingerprint(&der)).to_hex();
        Ok((cert_pem, fingerprint))
    }

    /// Picks up a rotation another process (the CLI) committed: the keys
    /// that sign are those of the last key change on record.
    pub fn reload_log_keys(&self) -> Result<bool, NodeError> {
        self.settle_keys()
    }

    /// This node's own key changes, oldest first, as they travel: what
    /// `/federation/v1/key-changes` serves to a peer catching up.
    pub fn own_key_changes(&self) -> Result<Vec<KeyChangeNotice>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, self.party.as_str()))?;
        rows.iter()
            .map(|row| {
                parse_signed(row).map(|(change, _, _)| KeyChangeNotice {
                    change,
                    log_index: row.log_index,
                })
            })
            .collect()
    }

    /// Shared hold on signing with the current log key, kept by a send
    /// until its envelopes are committed (a rotation waits for it).
    pub(crate) async fn signing_gate(&self) -> tokio::sync::OwnedRwLockReadGuard<()> {
        self.signing.clone().read_owned().await
    }

    /// This node's keys now and the changes that led to them.
    pub fn keys(&self) -> Result<api::Keys, NodeError> {
        let signers = self.store.log_signers();
        let cosigners = self.cosigners();
        let card = self.card();
        let now = jiff::Timestamp::now().as_second();
        let overlap = signers.overlap.as_ref().filter(|(_, until)| now <= *until);
        Ok(api::Keys {
            log_key: signers.current.verifier().to_encoded(),
            previous_log_key: overlap.map(|(k, _)| k.verifier().to_encoded()),
            overlap_until: overlap
                .and_then(|(_, until)| jiff::Timestamp::from_second(*until).ok())
                .map(|t| t.to_string()),
            recovery_key: self
                .recovery_public_key()
                .as_ref()
                .map(NoteVerifier::to_encoded),
            tls_fingerprint: self.tls.current().fingerprint_hex(),
            // As the card names them.
            cosigner_key: card.cosigner_key,
            cosigner_key_ml_dsa: card.cosigner_key_ml_dsa,
            previous_cosigner_key: cosigners
                .as_ref()
                .and_then(|c| c.previous.as_ref())
                .filter(|(_, until)| now <= *until)
                .map(|(c, _)| c.ed25519.verifier().to_encoded()),
            history: self.key_history(self.party.as_str())?,
        })
    }

    /// The key changes on record for `party` (this node's own, or a peer's),
    /// oldest first.
    pub fn key_history(&self, party: &str) -> Result<Vec<api::KeyChange>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, party))?;
        rows.iter()
            .map(|row| {
                let (_, change, previous) = parse_signed(row)?;
                Ok(api::KeyChange {
                    party: row.party.clone(),
                    sequence: row.sequence,
                    kind: row.kind.clone(),
                    issued_at: row.issued_at.clone(),
                    overlap_until: row.overlap_until.clone(),
                    compromised_since: row.compromised_since.clone(),
                    old_log_key: previous.log_key,
                    new_log_key: change.card.log_key,
                    old_tls_fingerprint: previous.tls_fingerprint,
                    new_tls_fingerprint: change.card.tls_fingerprint,
                    old_cosigner_key: previous.cosigner_key,
                    new_cosigner_key: change.card.cosigner_key,
                    recorded_at: row.recorded_at.clone(),
                })
            })
            .collect()
    }
}
