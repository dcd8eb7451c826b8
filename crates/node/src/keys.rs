//! The key lifecycle: rotating this node's log key (a key change signed by
//! the old key and the new one, committed to the log with the new card and
//! sent to every pinned party), following a peer's key changes, and the key
//! history that keeps what earlier keys signed verifying.
//!
//! On disk a rotation goes `keys/log.key.new` (written first) → one
//! transaction (the statement, the new card, the envelopes) → the renames
//! `log.key` → `log-previous.key`, `log.key.new` → `log.key`. Opening a
//! node finishes a rotation whose transaction committed and drops a key
//! whose transaction did not, so a crash at any point leaves one of the
//! two states.

use std::path::Path;

use liaison_core::card::{CheckedCard, check_card};
use liaison_core::envelope::Envelope;
use liaison_core::keys::{
    ChangeKind, KEY_CHANGE, KEY_CHANGE_VERSION, KeyChange, KeyChangeNotice, SignedKeyChange,
    card_digest, key_change_case,
};
use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_log::note::{ED25519, NoteSigner, NoteVerifier};
use liaison_proto::{NodeCard, NodeRole, api};
use liaison_store::keys::{self as db, KeyChangeRow};
use liaison_store::{Connection, LogSigners, Store, StoreError};

use crate::envelopes::{Broadcast, random_id};
use crate::{Node, NodeDir, NodeError, now_rfc3339, random_seed};

/// Least time between two fetches of one peer's key changes.
pub(crate) const CATCH_UP_GAP: std::time::Duration = std::time::Duration::from_secs(10);

/// Largest answer to a key-change fetch.
const MAX_CHANGES_BYTES: usize = 4 * 1024 * 1024;

/// Longest overlap `rotate_log_key` takes (the statement's limit).
pub const MAX_OVERLAP_SECS: u64 = liaison_core::keys::MAX_OVERLAP_SECS as u64;

fn corrupt(what: String) -> NodeError {
    NodeError::Store(StoreError::Corrupt(what))
}

fn parse_signed(row: &KeyChangeRow) -> Result<(SignedKeyChange, KeyChange, NodeCard), NodeError> {
    let bad = |e: String| {
        corrupt(format!(
            "stored key change {} of {}: {e}",
            row.sequence, row.party
        ))
    };
    let signed: SignedKeyChange =
        serde_json::from_str(&row.signed).map_err(|e| bad(e.to_string()))?;
    let change: KeyChange =
        serde_json::from_str(&signed.statement).map_err(|e| bad(e.to_string()))?;
    let previous: NodeCard =
        serde_json::from_str(&row.previous_card).map_err(|e| bad(e.to_string()))?;
    Ok((signed, change, previous))
}

/// Whether `row` is a rotation whose overlap has not ended at `now`.
fn overlap_open(row: &KeyChangeRow, now: jiff::Timestamp) -> bool {
    row.kind == ChangeKind::Rotation.as_str()
        && row
            .overlap_until
            .as_deref()
            .and_then(|u| u.parse::<jiff::Timestamp>().ok())
            .is_some_and(|until| now <= until)
}

fn read_signer(path: &Path) -> Result<NoteSigner, NodeError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NodeError::io(format!("cannot read {}", path.display()), e))?;
    NoteSigner::parse(&text).map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))
}

fn rename(from: &Path, to: &Path) -> Result<(), NodeError> {
    std::fs::rename(from, to).map_err(|e| {
        NodeError::io(
            format!("cannot move {} to {}", from.display(), to.display()),
            e,
        )
    })
}

fn sync_dir(dir: &Path) -> Result<(), NodeError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| NodeError::io(format!("cannot sync {}", dir.display()), e))
}

/// Brings the key files in line with the node's last committed key change
/// (finishing or dropping a rotation a crash interrupted) and returns the
/// keys that sign its log now.
pub(crate) fn settle_log_keys(
    dir: &NodeDir,
    store: &Store,
    party: &str,
) -> Result<LogSigners, NodeError> {
    let latest = store.read(|c| db::of_party(c, party))?.pop();
    let expected = match &latest {
        Some(row) => Some(parse_signed(row)?),
        None => None,
    };
    let new_path = dir.pending_log_key();
    if new_path.exists() {
        let pending = read_signer(&new_path)?;
        let committed = expected
            .as_ref()
            .is_some_and(|(_, change, _)| change.card.log_key == pending.verifier().to_encoded());
        let current = read_signer(&dir.log_key())?;
        if committed && current.verifier().to_encoded() != pending.verifier().to_encoded() {
            rename(&dir.log_key(), &dir.previous_log_key())?;
            rename(&new_path, &dir.log_key())?;
        } else {
            // The rotation never committed (or was finished elsewhere).
            std::fs::remove_file(&new_path)
                .map_err(|e| NodeError::io(format!("cannot remove {}", new_path.display()), e))?;
        }
        sync_dir(&dir.keys())?;
    }
    settle_recovery_key(dir, expected.as_ref().map(|(_, change, _)| change))?;
    let current = read_signer(&dir.log_key())?;
    let Some((_, change, previous)) = expected else {
        return Ok(LogSigners::single(current));
    };
    if change.card.log_key != current.verifier().to_encoded() {
        return Err(corrupt(format!(
            "{} is not the log key of this node's last key change ({})",
            dir.log_key().display(),
            change.sequence
        )));
    }
    // Within the overlap the replaced key signs checkpoints too.
    let overlap = match (&change.overlap_until, dir.previous_log_key().exists()) {
        (Some(until), true) if change.change == ChangeKind::Rotation => {
            let until: jiff::Timestamp = until
                .parse()
                .map_err(|_| corrupt(format!("overlap_until {until:?} is not a time")))?;
            let old = read_signer(&dir.previous_log_key())?;
            (old.verifier().to_encoded() == previous.log_key).then_some((old, until.as_second()))
        }
        _ => None,
    };
    Ok(LogSigners { current, overlap })
}

/// Finishes or drops a recovery rotation a crash interrupted: the new
/// public half replaces `recovery.pub` only if the last committed change
/// names it.
fn settle_recovery_key(dir: &NodeDir, latest: Option<&KeyChange>) -> Result<(), NodeError> {
    let pending = dir.pending_recovery_public_key();
    if !pending.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&pending)
        .map_err(|e| NodeError::io(format!("cannot read {}", pending.display()), e))?;
    if latest.and_then(|c| c.card.recovery_key.as_deref()) == Some(text.trim()) {
        rename(&pending, &dir.recovery_public_key())?;
    } else {
        std::fs::remove_file(&pending)
            .map_err(|e| NodeError::io(format!("cannot remove {}", pending.display()), e))?;
    }
    sync_dir(&dir.keys())
}

/// The recovery key's public half on disk (none for a node made before
/// recovery keys).
pub(crate) fn read_recovery_key(dir: &NodeDir) -> Result<Option<NoteVerifier>, NodeError> {
    let path = dir.recovery_public_key();
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| NodeError::io(format!("cannot read {}", path.display()), e))?;
    NoteVerifier::parse(&text)
        .map(Some)
        .map_err(|e| NodeError::Invalid(format!("{}: {e}", path.display())))
}

/// What a key change commits besides its statement.
struct Change {
    kind: ChangeKind,
    previous: NodeCard,
    card: NodeCard,
    /// The keys that sign the statement.
    signers: Vec<NoteSigner>,
    overlap_until: Option<String>,
    /// A revocation: from when the revoked key is presumed stolen.
    compromised_since: Option<String>,
    issued_at: String,
}

impl Node {
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
        let envelope_key = self.store.log_signer();
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
        if pending.exists() {
            std::fs::remove_file(&pending)
                .map_err(|e| NodeError::io(format!("cannot remove {}", pending.display()), e))?;
        }
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
                overlap_until: None,
                compromised_since: None,
                issued_at: now_rfc3339(),
            })
            .await?;
        settle_log_keys(&self.dir, &self.store, self.party.as_str())?;
        *self
            .recovery_key
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = read_recovery_key(&self.dir)?;
        self.wake.queued(done.1.iter().map(String::as_str));
        Ok(done)
    }

    /// Revokes the log key, presumed stolen since `compromised_since`: a
    /// revocation signed by the recovery key (brought from where it is
    /// kept) and countersigned by a new log key, with no overlap. The
    /// envelopes carrying it are signed by the revoked key, which the peers
    /// pin (the recovery key's signature is what they act on); from then on
    /// they accept nothing the revoked key signs and flag what they
    /// accepted from it since `compromised_since`.
    pub async fn revoke_log_key(
        &self,
        recovery: &NoteSigner,
        compromised_since: jiff::Timestamp,
    ) -> Result<(api::KeyChange, Vec<String>), NodeError> {
        if self.role != NodeRole::Party {
            return Err(NodeError::Invalid(
                "a witness's log key is not revoked this way (parties pin its cosigning keys)"
                    .into(),
            ));
        }
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
                signers: vec![recovery.clone(), new.clone()],
                overlap_until: None,
                compromised_since: Some(since.clone()),
                issued_at,
            })
            .await?;
        let signers = settle_log_keys(&self.dir, &self.store, self.party.as_str())?;
        self.store.set_log_signers(signers)?;
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
        if pending.exists() {
            std::fs::remove_file(&pending)
                .map_err(|e| NodeError::io(format!("cannot remove {}", pending.display()), e))?;
        }
        crate::init::write_private(&pending, &format!("{}\n", new.to_encoded()))?;
        sync_dir(&self.dir.keys())?;
        Ok(new)
    }

    /// Rotates the log key: a new key, a key change signed by the old key
    /// and countersigned by the new one, committed to the log with the new
    /// card and sent to every pinned party. Until `overlap_secs` have passed
    /// checkpoints carry both keys' signatures.
    pub async fn rotate_log_key(&self, overlap_secs: u64) -> Result<api::KeyRotation, NodeError> {
        if self.role != NodeRole::Party {
            return Err(NodeError::Invalid(
                "a witness's log key does not rotate (parties pin its cosigning keys)".into(),
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
        let new = self.pending_log_signer()?;
        let previous = self.card();
        let mut card = previous.clone();
        card.log_key = new.verifier().to_encoded();
        // Whole seconds, the overlap counted from the time the statement names.
        let second =
            |s: i64| jiff::Timestamp::from_second(s).map_err(|e| NodeError::Invalid(e.to_string()));
        let now = jiff::Timestamp::now().as_second();
        let overlap_until = second(now + overlap_secs as i64)?.to_string();
        // Signed by the old key (the peers still pin it), countersigned by the new.
        let (sequence, recipients) = self
            .commit_key_change(Change {
                kind: ChangeKind::Rotation,
                previous,
                card,
                signers: vec![old.clone(), new.clone()],
                overlap_until: Some(overlap_until.clone()),
                compromised_since: None,
                issued_at: second(now)?.to_string(),
            })
            .await?;
        let signers = settle_log_keys(&self.dir, &self.store, self.party.as_str())?;
        self.store.set_log_signers(signers)?;
        self.wake.queued(recipients.iter().map(String::as_str));
        Ok(api::KeyRotation {
            sequence,
            old_log_key: old.verifier().to_encoded(),
            new_log_key: new.verifier().to_encoded(),
            overlap_until,
            sent_to: recipients,
        })
    }

    /// Picks up a rotation another process (the CLI) committed: the keys
    /// that sign are those of the last key change on record.
    pub fn reload_log_keys(&self) -> Result<bool, NodeError> {
        let signers = settle_log_keys(&self.dir, &self.store, self.party.as_str())?;
        let current = self.store.log_signers();
        let same = current.current.key_id() == signers.current.key_id()
            && current.overlap.as_ref().map(|(k, u)| (k.key_id(), *u))
                == signers.overlap.as_ref().map(|(k, u)| (k.key_id(), *u));
        if !same {
            self.store.set_log_signers(signers)?;
        }
        *self
            .recovery_key
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = read_recovery_key(&self.dir)?;
        Ok(!same)
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

    /// Fetches `card`'s party's key changes from its federation listener
    /// and follows, in order, those not accepted yet (a witness, which
    /// receives no envelopes, and a peer that missed one). Returns how many
    /// it followed; a change that does not verify stops it, recorded.
    pub async fn catch_up_key_changes(&self, card: &CheckedCard) -> Result<usize, NodeError> {
        let client = self.peer_client(card)?;
        let url = format!(
            "{}/federation/v1/key-changes",
            card.card.federation_url.trim_end_matches('/')
        );
        let unreachable = |e: String| NodeError::Io(format!("cannot fetch {url}: {e}"));
        let mut response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("answered {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unreachable(e.to_string()))?
        {
            if body.len() + chunk.len() > MAX_CHANGES_BYTES {
                return Err(unreachable(format!("more than {MAX_CHANGES_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let changes: Vec<KeyChangeNotice> = serde_json::from_slice(&body)
            .map_err(|e| NodeError::Invalid(format!("{url} answered no key changes: {e}")))?;
        let party = card.party.to_string();
        let outcome = self
            .store
            .write(move |tx| {
                let now = now_rfc3339();
                let mut followed = 0;
                for notice in &changes {
                    let signed = &notice.change;
                    let last = db::last_sequence(tx.conn(), &party)?;
                    let sequence = serde_json::from_str::<KeyChange>(&signed.statement)
                        .map(|c| c.sequence)
                        .unwrap_or(0);
                    if sequence != 0 && sequence <= last {
                        continue;
                    }
                    if let Err(why) = accept_key_change(tx.conn(), &party, notice, &now)? {
                        liaison_store::federation::record_rejection(
                            tx.conn(),
                            &liaison_store::federation::Rejection {
                                at: now.clone(),
                                peer: party.clone(),
                                envelope_id: None,
                                code: "bad_key_change".into(),
                                reason: format!(
                                    "the key change {} is refused: {why}",
                                    signed.hash()
                                ),
                            },
                        )?;
                        return Ok(Err(why));
                    }
                    followed += 1;
                }
                Ok(Ok(followed))
            })
            .await?
            .value;
        outcome.map_err(|why| NodeError::Invalid(format!("a key change of {}: {why}", card.party)))
    }

    /// Shared hold on signing with the current log key, kept by a send
    /// until its envelopes are committed (a rotation waits for it).
    pub(crate) async fn signing_gate(&self) -> tokio::sync::OwnedRwLockReadGuard<()> {
        self.signing.clone().read_owned().await
    }

    /// [`Node::catch_up_key_changes`] unless one ran for this peer within
    /// [`CATCH_UP_GAP`]; returns the peer's card as pinned afterwards if it
    /// changed.
    pub(crate) async fn maybe_catch_up(&self, card: &CheckedCard) -> Option<CheckedCard> {
        {
            let mut last = self
                .key_catch_up
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            if last
                .get(card.party.as_str())
                .is_some_and(|t| now.duration_since(*t) < CATCH_UP_GAP)
            {
                return None;
            }
            last.insert(card.party.to_string(), now);
        }
        match self.catch_up_key_changes(card).await {
            Ok(0) => None,
            Ok(_) => self.peer(card.party.as_str()).ok().flatten(),
            Err(e) => {
                tracing::warn!(peer = %card.party, "catching up on key changes: {e}");
                None
            }
        }
    }

    /// This node's keys now and the changes that led to them.
    pub fn keys(&self) -> Result<api::Keys, NodeError> {
        let signers = self.store.log_signers();
        let overlap = signers
            .overlap
            .as_ref()
            .filter(|(_, until)| jiff::Timestamp::now().as_second() <= *until);
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
            tls_fingerprint: self.tls.fingerprint_hex(),
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
                    recorded_at: row.recorded_at.clone(),
                })
            })
            .collect()
    }

    /// Every log key `party` has signed with, the current one first: what
    /// its old checkpoints and receipts verify against.
    pub fn log_keys_of(&self, card: &CheckedCard) -> Result<Vec<NoteVerifier>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, card.party.as_str()))?;
        let mut keys = vec![card.log_key.clone()];
        for row in rows.iter().rev() {
            let (_, _, previous) = parse_signed(row)?;
            let key = NoteVerifier::parse(&previous.log_key)
                .map_err(|e| corrupt(format!("a stored card's log key: {e}")))?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// The party whose rotation replaced the TLS certificate with this
    /// fingerprint, while that rotation's overlap lasts.
    pub(crate) fn party_by_previous_fingerprint(
        &self,
        fingerprint_hex: &str,
    ) -> Result<Option<String>, NodeError> {
        let now = jiff::Timestamp::now();
        for row in self.store.read(db::all)? {
            if row.party == self.party.as_str() || !overlap_open(&row, now) {
                continue;
            }
            let (_, change, previous) = parse_signed(&row)?;
            if previous.tls_fingerprint == fingerprint_hex
                && change.card.tls_fingerprint != fingerprint_hex
            {
                return Ok(Some(row.party));
            }
        }
        Ok(None)
    }

    /// The certificate fingerprints `card`'s party may present now: its
    /// current one, and one it rotated away from while the overlap lasts.
    pub fn accepted_fingerprints(&self, card: &CheckedCard) -> Result<Vec<[u8; 32]>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, card.party.as_str()))?;
        let now = jiff::Timestamp::now();
        let mut out = vec![card.fingerprint];
        for row in rows.iter().filter(|r| overlap_open(r, now)) {
            let (_, _, previous) = parse_signed(row)?;
            if let Some(fp) = liaison_log::Hash::from_hex(&previous.tls_fingerprint)
                && !out.contains(&fp.0)
            {
                out.push(fp.0);
            }
        }
        Ok(out)
    }

    /// An HTTPS client towards `card`'s party that accepts every
    /// certificate it may present now.
    pub fn peer_client(&self, card: &CheckedCard) -> Result<reqwest::Client, NodeError> {
        crate::tls::peer_http_client_any(&self.tls, &self.accepted_fingerprints(card)?)
    }

    /// The keys an envelope from `card`'s party may be signed with now: its
    /// current key, and a key it rotated away from whose overlap has not
    /// ended.
    pub(crate) fn accepted_log_keys(
        &self,
        card: &CheckedCard,
    ) -> Result<Vec<NoteVerifier>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, card.party.as_str()))?;
        let now = jiff::Timestamp::now();
        let mut keys = vec![card.log_key.clone()];
        for row in &rows {
            if overlap_open(row, now) {
                let (_, _, previous) = parse_signed(row)?;
                if let Ok(key) = NoteVerifier::parse(&previous.log_key)
                    && !keys.contains(&key)
                {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }
}

/// Follows a peer's key change inside the write job that records its
/// envelope: checked against the card pinned now and the last change
/// accepted, then the pin moves to the new card. The error says why it was
/// refused.
pub(crate) fn accept_key_change(
    conn: &Connection,
    party: &str,
    notice: &KeyChangeNotice,
    now: &str,
) -> Result<Result<CheckedCard, String>, StoreError> {
    let signed = &notice.change;
    let Some(pinned) = liaison_store::peers::by_party(conn, party)? else {
        return Ok(Err(format!("{party} is not pinned")));
    };
    let card: NodeCard = serde_json::from_str(&pinned.card_json)
        .map_err(|e| StoreError::Corrupt(format!("stored card of {party}: {e}")))?;
    let pinned_card = check_card(&card)
        .map_err(|e| StoreError::Corrupt(format!("stored card of {party}: {e}")))?;
    let last = db::last_sequence(conn, party)?;
    let verified = match signed.verify(&pinned_card, last) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let new_json = serde_json::to_string(&verified.card.card)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let signed_json =
        serde_json::to_string(signed).map_err(|e| StoreError::Invalid(e.to_string()))?;
    if let Some(other) =
        liaison_store::peers::by_fingerprint(conn, &verified.card.card.tls_fingerprint)?
        && other.party != party
    {
        return Ok(Err(format!(
            "the new certificate is pinned for party {}",
            other.party
        )));
    }
    liaison_store::peers::replace_card(
        conn,
        party,
        &new_json,
        &verified.card.card.tls_fingerprint,
        now,
    )?;
    db::record(
        conn,
        &KeyChangeRow {
            party: party.to_owned(),
            sequence: verified.change.sequence,
            kind: verified.change.change.as_str().to_owned(),
            hash: verified.hash.to_hex(),
            signed: signed_json,
            previous_card: pinned.card_json,
            issued_at: verified.change.issued_at.clone(),
            overlap_until: verified.change.overlap_until.clone(),
            compromised_since: verified.change.compromised_since.clone(),
            log_index: notice.log_index,
            recorded_at: now.to_owned(),
        },
    )?;
    // What the revoked key signed since its compromise was accepted
    // without knowing: flag it for the operators.
    if let Some(since) = &verified.change.compromised_since {
        let suspect = liaison_store::federation::received_since(conn, party, since)?;
        if suspect > 0 {
            liaison_store::federation::raise_alert(
                conn,
                "revoked_key",
                party,
                &format!(
                    "{party} revoked its log key, presumed stolen since {since}: {suspect} envelope(s) from {party} accepted since then were signed by that key; check them with {party}"
                ),
                now,
            )?;
        }
    }
    Ok(Ok(verified.card))
}
