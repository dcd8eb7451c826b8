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

use liaison_core::card::CheckedCard;
use liaison_core::case::{BodySummary, CaseKind, TRANSITION, check_body};
use liaison_core::content::ITEM_STATUS;
use liaison_core::envelope::{
    AttachmentRef, DeliveryRequest, DeliveryResponse, DeliveryResult, Envelope, SignedEnvelope,
    new_id,
};
use liaison_core::incident::{UPDATE, UpdateBody};
use liaison_core::kind::{Body, Refusal, RefusalCode};
use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_core::legal::TransitionBody;
use liaison_core::lifecycle::{Action, Actor};
use liaison_core::offences::OFFENCES;
use liaison_log::proof::TlogProof;
use liaison_proto::{ErrorDetail, NodeRole};
use liaison_store::federation::{self as db, CaseRow, Direction, EnvelopeRow, Rejection};
use liaison_store::{LogHead, StoreError, WriteTx};
use serde::Serialize;

use crate::attachments::Attaching;
use crate::{Node, NodeError, now_rfc3339};

/// Largest delivery request body accepted.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// What `send` committed.
#[derive(Clone, Debug, Serialize)]
pub struct Sent {
    pub case_id: String,
    pub envelope_id: String,
    pub envelope_hash: String,
    pub log_index: u64,
}

/// A fresh envelope (or event) id.
pub(crate) fn random_id() -> Result<String, NodeError> {
    let mut r = [0u8; 10];
    getrandom::fill(&mut r)
        .map_err(|e| NodeError::Invalid(format!("no randomness available: {e}")))?;
    Ok(new_id(r))
}

/// Stores the row of an envelope sent or received.
pub(crate) fn insert_envelope(
    conn: &rusqlite::Connection,
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
pub(crate) struct Broadcast(Vec<(SignedEnvelope, liaison_log::Hash, String)>);

impl Broadcast {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends each envelope to the log, stores it and queues it for
    /// delivery, inside the caller's write job.
    pub(crate) fn commit(self, tx: &mut WriteTx<'_>, now: &str) -> Result<(), StoreError> {
        for (signed, hash, json) in self.0 {
            let leaf = LeafEntry {
                kind: LeafKind::Envelope,
                content_hash: hash,
            }
            .encode();
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

impl Node {
    /// Signs a `kind` envelope with `body` for one pinned party (none if
    /// `party` is not a pinned party).
    pub(crate) fn sign_for_party(
        &self,
        party: &str,
        kind: &str,
        case_id: &str,
        body: &serde_json::Value,
    ) -> Result<Broadcast, NodeError> {
        self.sign_for(|p| p == party, kind, case_id, body)
    }

    /// Signs a `kind` envelope with `body` for every pinned party.
    pub(crate) fn sign_for_parties(
        &self,
        kind: &str,
        case_id: &str,
        body: &serde_json::Value,
    ) -> Result<Broadcast, NodeError> {
        self.sign_for(|_| true, kind, case_id, body)
    }

    fn sign_for(
        &self,
        include: impl Fn(&str) -> bool,
        kind: &str,
        case_id: &str,
        body: &serde_json::Value,
    ) -> Result<Broadcast, NodeError> {
        let created = now_rfc3339();
        let mut envelopes = Vec::new();
        for peer in self.peers()? {
            if peer.card.role != NodeRole::Party || !include(peer.party.as_str()) {
                continue;
            }
            let envelope = Envelope {
                id: random_id()?,
                sender: self.party.to_string(),
                recipient: peer.party.to_string(),
                kind: kind.to_owned(),
                case_id: case_id.to_owned(),
                created: created.clone(),
                body: body.clone(),
                attachments: Vec::new(),
            };
            let signed = envelope.sign(self.store.log_signer())?;
            let hash = liaison_log::Hash::of_content(&signed.envelope.canonical_bytes()?);
            let json =
                serde_json::to_string(&signed).map_err(|e| NodeError::Invalid(e.to_string()))?;
            envelopes.push((signed, hash, json));
        }
        Ok(Broadcast(envelopes))
    }

    /// Opens a case with `to`: its first envelope, committed to the log and
    /// the outbox. Returns at once; delivery happens in the background.
    pub async fn open_case(
        &self,
        to: &str,
        kind: &str,
        body: serde_json::Value,
    ) -> Result<Sent, NodeError> {
        self.open_case_with(to, kind, body, Attaching::none()).await
    }

    /// [`Node::open_case`] with attachments (stored here first).
    pub async fn open_case_with(
        &self,
        to: &str,
        kind: &str,
        body: serde_json::Value,
        attachments: Attaching,
    ) -> Result<Sent, NodeError> {
        let kind = CaseKind::parse(kind)?;
        let summary = check_body(kind, &body)?;
        for linked in &summary.links {
            if self.store.read(|c| db::case_by_id(c, linked))?.is_none() {
                return Err(NodeError::Invalid(format!(
                    "the linked case {linked} is not known here"
                )));
            }
        }
        let id = random_id()?;
        let case_id = format!("{}-{}", self.party, &id[..20]);
        self.send(
            to,
            kind.as_str(),
            &case_id,
            body,
            Some(summary),
            attachments.0,
        )
        .await
    }

    /// Adds an update to an incident or hotline thread (either party, while
    /// the case is open; only the notifying party may change the marking).
    pub async fn update(&self, case_id: &str, body: serde_json::Value) -> Result<Sent, NodeError> {
        let case = self
            .store
            .read(|c| db::case_by_id(c, case_id))?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {case_id}"))))?;
        let (_, tlp) = UpdateBody::check(&body)?;
        crate::cases::check_update(&case, self.party.as_str(), tlp.is_some())
            .map_err(|r| NodeError::Store(StoreError::Conflict(r.message)))?;
        let to = if case.initiator == self.party.as_str() {
            case.responder
        } else {
            case.initiator
        };
        self.send(&to, UPDATE, case_id, body, None, Vec::new())
            .await
    }

    /// Adds a free-text message to a note case.
    pub async fn reply(&self, case_id: &str, body: serde_json::Value) -> Result<Sent, NodeError> {
        let case = self
            .store
            .read(|c| db::case_by_id(c, case_id))?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {case_id}"))))?;
        let kind = CaseKind::parse(&case.kind)?;
        if kind.has_lifecycle() {
            return Err(NodeError::Invalid(format!(
                "case {case_id} is a {}: move it with `case act` (e.g. request_clarification)",
                kind.as_str()
            )));
        }
        check_body(kind, &body)?;
        let to = if case.initiator == self.party.as_str() {
            case.responder
        } else {
            case.initiator
        };
        self.send(&to, kind.as_str(), case_id, body, None, Vec::new())
            .await
    }

    /// Takes a lifecycle action on a legal case: a signed transition
    /// envelope, following the case's current head. Refused with a clear
    /// error if this party may not take it now.
    pub async fn act(
        &self,
        case_id: &str,
        action: &str,
        details: serde_json::Value,
    ) -> Result<Sent, NodeError> {
        self.act_with(case_id, action, details, Attaching::none())
            .await
    }

    /// [`Node::act`] with attachments (e.g. the evidence an execution report carries).
    pub async fn act_with(
        &self,
        case_id: &str,
        action: &str,
        details: serde_json::Value,
        attachments: Attaching,
    ) -> Result<Sent, NodeError> {
        let action = Action::parse(action)?;
        if action == Action::Expire {
            return Err(NodeError::Store(StoreError::Conflict(
                "a preservation expires on its own when its period ends: nobody declares it".into(),
            )));
        }
        self.take_action(case_id, action, details, attachments)
            .await
    }

    /// Declares a preservation expired, once its period (with extensions)
    /// has ended: only this node's deadline worker does, on the requested side.
    pub(crate) async fn declare_expired(&self, case_id: &str) -> Result<Sent, NodeError> {
        let id = case_id.to_owned();
        let ends = self.store.read(move |c| match db::case_by_id(c, &id)? {
            Some(case) => crate::cases::preservation_ends(c, &case),
            None => Ok(None),
        })?;
        if ends.is_none_or(|end| jiff::Timestamp::now() < end) {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "the preservation period of case {case_id} has not ended"
            ))));
        }
        let text =
            "The preservation period has ended; the data is no longer held under this request.";
        self.take_action(
            case_id,
            Action::Expire,
            serde_json::json!({ "text": text }),
            Attaching::none(),
        )
        .await
    }

    async fn take_action(
        &self,
        case_id: &str,
        action: Action,
        details: serde_json::Value,
        attachments: Attaching,
    ) -> Result<Sent, NodeError> {
        let mut details = match details {
            serde_json::Value::Null => serde_json::json!({}),
            serde_json::Value::Object(o) => serde_json::Value::Object(o),
            _ => {
                return Err(NodeError::Invalid(
                    "the action body must be a JSON object".into(),
                ));
            }
        };
        // The node fills in the action and the envelope it follows.
        if let Some(o) = details.as_object_mut() {
            o.insert("action".into(), serde_json::json!(action.as_str()));
            o.insert("parent".into(), serde_json::json!("0".repeat(64)));
        }
        let body = TransitionBody::check(&details)?;
        let me = self.party.to_string();
        let id = case_id.to_owned();
        let planned = self
            .store
            .read(move |c| crate::cases::plan(c, &me, &id, action, body))?;
        self.send(
            &planned.to,
            TRANSITION,
            case_id,
            planned.body,
            None,
            attachments.0,
        )
        .await
    }

    /// Sends an envelope continuing an existing case.
    pub(crate) async fn send_in_case(
        &self,
        to: &str,
        kind: &str,
        case_id: &str,
        body: serde_json::Value,
    ) -> Result<Sent, NodeError> {
        self.send(to, kind, case_id, body, None, Vec::new()).await
    }

    async fn send(
        &self,
        to: &str,
        kind: &str,
        case_id: &str,
        body: serde_json::Value,
        opening: Option<BodySummary>,
        attachments: Vec<AttachmentRef>,
    ) -> Result<Sent, NodeError> {
        for a in &attachments {
            if self.has_attachment(&a.sha256) != Some(a.size) {
                return Err(NodeError::Invalid(format!(
                    "attachment {} ({}) is not stored here with size {}",
                    a.name, a.sha256, a.size
                )));
            }
        }
        let peer = self.peer(to)?.ok_or_else(|| {
            NodeError::Invalid(format!(
                "party {to:?} is not a pinned peer; pin its card with `liaison peer add`"
            ))
        })?;
        if peer.card.role != NodeRole::Party {
            return Err(NodeError::Invalid(format!(
                "{to} is a witness, not a party: it takes no messages"
            )));
        }
        let envelope = Envelope {
            id: random_id()?,
            sender: self.party.to_string(),
            recipient: to.to_owned(),
            kind: kind.to_owned(),
            case_id: case_id.to_owned(),
            created: now_rfc3339(),
            body,
            attachments,
        };
        let signed = envelope.sign(self.store.log_signer())?;
        let hash = liaison_log::Hash::of_content(&signed.envelope.canonical_bytes()?);
        let leaf = LeafEntry {
            kind: LeafKind::Envelope,
            content_hash: hash,
        }
        .encode();
        let signed_json = serde_json::to_string(&signed)
            .map_err(|e| NodeError::Invalid(format!("cannot encode the envelope: {e}")))?;
        let stems = crate::search::body_stems(&signed.envelope.body);
        let me = self.party.to_string();
        let committed = self
            .store
            .write(move |tx| {
                let now = now_rfc3339();
                let log_index = tx.append_leaf(leaf);
                let hex = hash.to_hex();
                crate::cases::record(
                    tx,
                    &me,
                    &signed,
                    signed_json,
                    &hex,
                    Direction::Out,
                    log_index,
                    &now,
                    opening.as_ref(),
                    &stems,
                )?;
                db::enqueue(tx.conn(), &signed.envelope.recipient, &hex, &now, now_ms())?;
                Ok(Sent {
                    case_id: signed.envelope.case_id.clone(),
                    envelope_id: signed.envelope.id.clone(),
                    envelope_hash: hex,
                    log_index,
                })
            })
            .await?;
        self.wake.notify_waiters();
        Ok(committed.value)
    }

    /// Receives a batch of envelopes from `peer` (identified by its TLS
    /// certificate): refuses what is malformed, forged, misaddressed or
    /// replayed with changes (recording why), commits the rest to the log,
    /// and answers each with a receipt.
    pub async fn receive(
        &self,
        peer: &CheckedCard,
        request: DeliveryRequest,
    ) -> Result<DeliveryResponse, NodeError> {
        // Attachments are pushed before their envelopes; one still missing
        // makes the whole request retry later (not a refusal).
        for e in &request.envelopes {
            for a in &e.envelope.attachments {
                // Only a file this peer pushed (or exchanged with us before)
                // counts: a peer cannot list what it never sent.
                if self.has_attachment(&a.sha256) != Some(a.size)
                    || !self.peer_knows_attachment(peer.party.as_str(), &a.sha256)?
                {
                    return Err(NodeError::Store(StoreError::Conflict(format!(
                        "attachment {} of envelope {} has not arrived; send it first",
                        a.sha256, e.envelope.id
                    ))));
                }
            }
        }
        // Answers about report items may make hashes agreed: list them after.
        let has_item_answers = request
            .envelopes
            .iter()
            .any(|e| e.envelope.kind == ITEM_STATUS);
        let mut results: Vec<Option<DeliveryResult>> = vec![None; request.envelopes.len()];
        let mut fresh: Vec<Fresh> = Vec::new();
        let mut rejections: Vec<Rejection> = Vec::new();
        let mut redelivered: Vec<(usize, EnvelopeRow)> = Vec::new();
        // Signature checks dominate the cost: spread them over the cores.
        let prechecked = {
            let peer = peer.clone();
            let me = self.party.to_string();
            tokio::task::spawn_blocking(move || {
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                let chunk = request.envelopes.len().div_ceil(threads).max(1);
                let checks: Vec<Vec<_>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = request
                        .envelopes
                        .chunks(chunk)
                        .map(|part| {
                            scope.spawn(|| {
                                part.iter()
                                    .map(|e| Node::precheck(&peer, &me, e))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().unwrap_or_default())
                        .collect()
                });
                request
                    .envelopes
                    .into_iter()
                    .zip(checks.into_iter().flatten())
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| NodeError::Invalid(format!("envelope checks failed: {e}")))?
        };
        if prechecked.len() != results.len() {
            return Err(NodeError::Invalid(
                "an envelope check did not finish".into(),
            ));
        }
        for (i, (signed, check)) in prechecked.into_iter().enumerate() {
            let outcome = check.and_then(|(hash, body)| {
                self.check_incoming(&signed, hash)
                    .map(|incoming| (incoming, body))
            });
            match outcome {
                Err(r) => {
                    rejections.push(Rejection {
                        at: now_rfc3339(),
                        peer: peer.party.to_string(),
                        envelope_id: Some(signed.envelope.id.clone()).filter(|s| s.len() <= 64),
                        code: r.code.as_str().to_owned(),
                        reason: r.message.clone(),
                    });
                    results[i] = Some(refusal(&signed.envelope.id, &r));
                }
                Ok((Incoming::Duplicate(row), _)) => redelivered.push((i, *row)),
                Ok((Incoming::New { hash, leaf }, body)) => fresh.push(Fresh {
                    index: i,
                    stems: crate::search::body_stems(&signed.envelope.body),
                    signed,
                    hash,
                    leaf,
                    body,
                }),
            }
        }
        if !rejections.is_empty() {
            for r in &rejections {
                tracing::warn!(peer = %r.peer, code = %r.code, "refused an envelope: {}", r.reason);
            }
            // Refusals are recorded even though the envelopes are not kept.
            self.store
                .write(move |tx| {
                    for r in &rejections {
                        db::record_rejection(tx.conn(), r)?;
                    }
                    Ok(())
                })
                .await?;
        }

        // Commit every new envelope of the batch in one write job.
        let me = self.party.to_string();
        let skew = self.config.federation.max_clock_skew_secs;
        let batch = fresh;
        let committed = self
            .store
            .write(move |tx| {
                let mut outcomes = Vec::new();
                let mut withdrawn: Vec<i64> = Vec::new();
                for fresh in batch {
                    let (i, id, hash) = (
                        fresh.index,
                        fresh.signed.envelope.id.clone(),
                        fresh.hash.clone(),
                    );
                    let arrival = arrive(tx, &me, skew, fresh, &mut withdrawn)?;
                    outcomes.push((i, id, hash, arrival));
                }
                Ok((outcomes, withdrawn))
            })
            .await?;
        let (outcomes, withdrawn) = committed.value;
        self.drop_from_index(&withdrawn);

        let head = committed.head;
        let mut receipts_to_store: Vec<(String, String)> = Vec::new();
        let indices: Vec<u64> = outcomes
            .iter()
            .filter_map(|(_, _, _, o)| match o {
                Arrival::Logged(index) => Some(*index),
                _ => None,
            })
            .collect();
        let mut proofs = self
            .store
            .inclusion_proofs(&indices, head.size)?
            .into_iter();
        for (i, id, hash, outcome) in outcomes {
            match outcome {
                Arrival::Logged(index) => {
                    let inclusion = proofs
                        .next()
                        .ok_or_else(|| NodeError::Invalid("a receipt proof is missing".into()))?;
                    let receipt = TlogProof {
                        extra: None,
                        index,
                        inclusion,
                        checkpoint: committed.checkpoint.to_string(),
                    }
                    .encode();
                    receipts_to_store.push((hash, receipt.clone()));
                    results[i] = Some(DeliveryResult {
                        id,
                        receipt: Some(receipt),
                        error: None,
                    });
                }
                Arrival::Existing(existing) => redelivered.push((i, *existing)),
                Arrival::Refused(r) => {
                    tracing::warn!(peer = %peer.party, code = r.code.as_str(), "refused an envelope: {}", r.message);
                    let rejection = Rejection {
                        at: now_rfc3339(),
                        peer: peer.party.to_string(),
                        envelope_id: Some(id.clone()),
                        code: r.code.as_str().to_owned(),
                        reason: r.message.clone(),
                    };
                    self.store
                        .write(move |tx| db::record_rejection(tx.conn(), &rejection))
                        .await?;
                    results[i] = Some(refusal(&id, &r));
                }
            }
        }
        for (i, row) in redelivered {
            results[i] = Some(self.redelivery_result(row, &mut receipts_to_store)?);
        }
        if !receipts_to_store.is_empty() {
            // A receipt is derived data (index, proof, signed checkpoint):
            // storing it need not delay the answer. If the node stops first,
            // a redelivery rebuilds it from the durable entry.
            self.issued_receipts()
                .extend(receipts_to_store.iter().cloned());
            let node = self.clone();
            tokio::spawn(async move {
                let hashes: Vec<String> =
                    receipts_to_store.iter().map(|(h, _)| h.clone()).collect();
                let stored = node
                    .store
                    .write(move |tx| {
                        for (hash, receipt) in &receipts_to_store {
                            db::set_receipt(tx.conn(), hash, receipt)?;
                        }
                        Ok(())
                    })
                    .await;
                if let Err(e) = stored {
                    tracing::error!("cannot store issued receipts: {e}");
                }
                let mut issued = node.issued_receipts();
                for h in hashes {
                    issued.remove(&h);
                }
            });
        }
        if has_item_answers {
            self.request_hash_sync();
        }
        Ok(DeliveryResponse {
            results: results.into_iter().flatten().collect(),
        })
    }

    /// A redelivered envelope gets its original receipt and changes nothing
    /// (a receipt is rebuilt only if the node stopped before storing it).
    fn issued_receipts(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        // A poisoned map only means a panic elsewhere; its entries are intact.
        self.issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn redelivery_result(
        &self,
        row: EnvelopeRow,
        to_store: &mut Vec<(String, String)>,
    ) -> Result<DeliveryResult, NodeError> {
        let in_flight = self.issued_receipts().get(&row.hash).cloned();
        let receipt = match row.receipt.or(in_flight) {
            Some(r) => r,
            None => {
                let head = self.store.log_head()?;
                let checkpoint = self.store.checkpoint()?;
                let r = self.receipt_for(row.log_index, head, &checkpoint)?;
                to_store.push((row.hash.clone(), r.clone()));
                r
            }
        };
        Ok(DeliveryResult {
            id: row.id,
            receipt: Some(receipt),
            error: None,
        })
    }

    fn receipt_for(
        &self,
        index: u64,
        head: LogHead,
        checkpoint: &str,
    ) -> Result<String, NodeError> {
        let proof = TlogProof {
            extra: None,
            index,
            inclusion: self.store.inclusion_proof(index, head.size)?,
            checkpoint: checkpoint.to_owned(),
        };
        Ok(proof.encode())
    }

    /// The costly, pure checks of one envelope: addressing, signature, body.
    /// Returns the envelope hash and its typed body.
    fn precheck(
        peer: &CheckedCard,
        me: &str,
        signed: &SignedEnvelope,
    ) -> Result<(liaison_log::Hash, Body), Refusal> {
        let e = &signed.envelope;
        if e.sender != peer.party.as_str() {
            return Err(Refusal::new(
                RefusalCode::WrongSender,
                format!(
                    "the envelope claims sender {:?} but arrived from {}",
                    e.sender, peer.party
                ),
            ));
        }
        if e.recipient != me {
            return Err(Refusal::new(
                RefusalCode::WrongRecipient,
                format!("the envelope is addressed to {:?}, not {me}", e.recipient),
            ));
        }
        let hash = signed
            .verify(&peer.log_key)
            .map_err(|err| Refusal::new(RefusalCode::BadEnvelope, err.to_string()))?;
        Ok((hash, Body::check(e)?))
    }

    /// The checks against what this node already holds: duplicates,
    /// replays with changes, cases between other parties.
    fn check_incoming(
        &self,
        signed: &SignedEnvelope,
        hash: liaison_log::Hash,
    ) -> Result<Incoming, Refusal> {
        let e = &signed.envelope;
        let existing = self
            .store
            .read(|c| db::envelope_by_sender_id(c, &e.sender, &e.id))
            .map_err(|err| Refusal::new(RefusalCode::Internal, err.to_string()))?;
        if let Some(row) = existing {
            if row.hash == hash.to_hex() {
                return Ok(Incoming::Duplicate(Box::new(row)));
            }
            return Err(Refusal::new(
                RefusalCode::ReplayedWithChanges,
                format!(
                    "envelope {} was received before with different content",
                    e.id
                ),
            ));
        }
        if let Some(case) = self
            .store
            .read(|c| db::case_by_id(c, &e.case_id))
            .map_err(|err| Refusal::new(RefusalCode::Internal, err.to_string()))?
            && case.initiator != e.sender
            && case.responder != e.sender
        {
            return Err(Refusal::new(
                RefusalCode::WrongCase,
                format!(
                    "case {} is not between {} and {}",
                    e.case_id, e.sender, self.party
                ),
            ));
        }
        let leaf = LeafEntry {
            kind: LeafKind::Envelope,
            content_hash: hash,
        }
        .encode();
        Ok(Incoming::New {
            hash: hash.to_hex(),
            leaf,
        })
    }
}

/// A new envelope of a batch that passed the checks, on its way to the log.
struct Fresh {
    index: usize,
    signed: SignedEnvelope,
    hash: String,
    leaf: Vec<u8>,
    body: Body,
    /// The body's stems for the search index, computed off the writer.
    stems: String,
}

/// What became of an envelope in the receiving transaction.
enum Arrival {
    Logged(u64),
    Existing(Box<EnvelopeRow>),
    Refused(Refusal),
}

enum Incoming {
    New { hash: String, leaf: Vec<u8> },
    Duplicate(Box<EnvelopeRow>),
}

fn refusal(id: &str, r: &Refusal) -> DeliveryResult {
    DeliveryResult {
        id: id.chars().take(64).collect(),
        receipt: None,
        error: Some(ErrorDetail {
            code: r.code.as_str().to_owned(),
            message: r.message.clone(),
        }),
    }
}

/// Records one new envelope of a batch inside the receiving write job,
/// after the checks that need what this node holds (its case, the
/// envelope it follows, its dates); a refusal records nothing. Every kind
/// is handled here: the match is exhaustive over [`Body`].
fn arrive(
    tx: &mut WriteTx<'_>,
    me: &str,
    skew: u64,
    fresh: Fresh,
    withdrawn: &mut Vec<i64>,
) -> Result<Arrival, StoreError> {
    let Fresh {
        signed,
        hash,
        leaf,
        body,
        stems,
        ..
    } = fresh;
    let e = &signed.envelope;
    let conn = tx.conn();
    // A concurrent request may have stored it meanwhile.
    if let Some(existing) = db::envelope_by_sender_id(conn, &e.sender, &e.id)? {
        return Ok(Arrival::Existing(Box::new(existing)));
    }
    // Dates are checked against this node's clock and the envelope followed
    // (which may be earlier in this batch).
    let parent = crate::cases::parent_created(conn, &signed)?;
    if let Err(r) =
        crate::cases::check_created(&e.created, parent.as_deref(), jiff::Timestamp::now(), skew)
    {
        return Ok(Arrival::Refused(r));
    }
    let json = serde_json::to_string(&signed)
        .map_err(|err| StoreError::Invalid(format!("cannot encode the envelope: {err}")))?;
    let now = now_rfc3339();
    let refused = |code, message: String| Ok(Arrival::Refused(Refusal::new(code, message)));
    let case = db::case_by_id(conn, &e.case_id)?;
    let opening = match (&body, &case) {
        (Body::HashList(_), _) => {
            let log_index = tx.append_leaf(leaf);
            withdrawn.extend(crate::content::record_arrival(
                conn, &signed, json, &hash, log_index, &now,
            )?);
            return Ok(Arrival::Logged(log_index));
        }
        (Body::Glossary(_), _) => {
            let log_index = tx.append_leaf(leaf);
            crate::glossary::record_arrival(tx, &signed, json, &hash, log_index, &now)?;
            return Ok(Arrival::Logged(log_index));
        }
        // Checked again here: the thread may have moved since.
        (Body::Transition(_), _) => match crate::cases::check_arrival(conn, &signed, skew) {
            Ok(()) => None,
            Err(r) => return Ok(Arrival::Refused(r)),
        },
        (Body::Update { retag, .. }, Some(c)) => {
            match crate::cases::check_update(c, &e.sender, retag.is_some()) {
                Ok(()) => None,
                Err(r) => return Ok(Arrival::Refused(r)),
            }
        }
        (Body::ItemStatus(_), Some(c)) => {
            match crate::content::check_item_status(conn, c, &e.sender, &e.body) {
                Ok(()) => None,
                Err(r) => return Ok(Arrival::Refused(r)),
            }
        }
        (Body::Update { .. } | Body::ItemStatus(_), None) => {
            return refused(RefusalCode::WrongCase, format!("no case {}", e.case_id));
        }
        // Only threads without a lifecycle (notes) take more envelopes of
        // their own kind: a second opening of a request would rewrite what
        // the other party said.
        (Body::Case { kind, .. }, Some(c)) if c.kind == kind.as_str() && !kind.has_lifecycle() => {
            None
        }
        (Body::Case { kind, .. }, Some(c)) if c.kind == kind.as_str() => {
            return refused(
                RefusalCode::OpeningInCase,
                format!(
                    "case {} is already open: a {} opens a case and cannot be sent into one",
                    c.id,
                    kind.as_str()
                ),
            );
        }
        (Body::Case { kind, .. }, Some(c)) => {
            return refused(
                RefusalCode::WrongCase,
                format!("case {} is a {}, not a {}", c.id, c.kind, kind.as_str()),
            );
        }
        (Body::Case { .. }, None) if !e.case_id.starts_with(&format!("{}-", e.sender)) => {
            return refused(
                RefusalCode::WrongCase,
                format!(
                    "a new case from {} must have an id starting with \"{}-\"",
                    e.sender, e.sender
                ),
            );
        }
        (Body::Case { summary, .. }, None) => Some(summary),
    };
    let log_index = tx.append_leaf(leaf);
    crate::cases::record(
        tx,
        me,
        &signed,
        json,
        &hash,
        Direction::In,
        log_index,
        &now,
        opening,
        &stems,
    )?;
    Ok(Arrival::Logged(log_index))
}

/// A case with its whole thread, as the CLI, API and UI show it.
#[derive(Clone, Debug, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseRow,
    /// Which side of the case this node is: `requesting` or `requested`.
    pub role: &'static str,
    /// Actions this node may take now.
    pub available_actions: Vec<&'static str>,
    /// Cases that follow this one (e.g. the MLA request after a preservation).
    pub followed_by: Vec<String>,
    /// The offence named, with the statutes of this node's jurisdiction:
    /// an indicative dual-criminality hint, not legal advice.
    pub offence_hint: Option<OffenceHint>,
    /// Deadlines running now.
    pub deadlines: Vec<crate::deadlines::Deadline>,
    /// Content reports: each item with its status and timer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<crate::content::ItemView>>,
    pub messages: Vec<MessageView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OffenceHint {
    pub id: String,
    pub budapest_article: String,
    pub en: String,
    pub ru: String,
    pub jurisdiction: String,
    pub statutes: Vec<liaison_core::offences::Statute>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    pub id: String,
    pub direction: &'static str,
    pub sender: String,
    pub recipient: String,
    pub kind: String,
    pub created: String,
    pub body: serde_json::Value,
    pub envelope_hash: String,
    /// This envelope's entry in this node's own log.
    pub log_index: u64,
    /// Outgoing: `pending`, `delivered` or `refused`; incoming: `received`.
    pub delivery: String,
    /// The receipt (tlog-proof) received (outgoing) or issued (incoming).
    pub receipt: Option<String>,
    /// Whether that receipt's proof verifies now.
    pub receipt_verified: Option<bool>,
    pub last_error: Option<String>,
    /// Attachments listed in the signed envelope.
    pub attachments: Vec<AttachmentRef>,
}

impl Node {
    pub fn list_cases(&self, limit: usize) -> Result<Vec<CaseRow>, NodeError> {
        Ok(self.store.read(|c| db::list_cases(c, limit))?)
    }

    pub fn case_detail(&self, id: &str) -> Result<CaseDetail, NodeError> {
        let case = self
            .store
            .read(|c| db::case_by_id(c, id))?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {id}"))))?;
        let rows = self.store.read(|c| db::envelopes_of_case(c, id))?;
        let undelivered = self.store.read(|c| db::undelivered(c, None))?;
        let mut messages = Vec::new();
        for row in rows {
            let signed: SignedEnvelope = serde_json::from_str(&row.signed_json).map_err(|e| {
                NodeError::Invalid(format!("stored envelope {} is unreadable: {e}", row.id))
            })?;
            let (delivery, last_error) = match row.direction {
                Direction::In => ("received".to_owned(), None),
                Direction::Out => match undelivered.iter().find(|u| u.envelope_hash == row.hash) {
                    Some(u) => (u.state.clone(), u.last_error.clone()),
                    None => ("delivered".to_owned(), None),
                },
            };
            let key = match row.direction {
                Direction::In => Some(self.store.log_signer().verifier()),
                Direction::Out => self.peer(&row.recipient)?.map(|p| p.log_key),
            };
            let receipt_verified = match (&row.receipt, key) {
                (Some(text), Some(key)) => Some(
                    TlogProof::parse(text)
                        .ok()
                        .zip(signed.envelope.leaf().ok())
                        .is_some_and(|(p, leaf)| {
                            p.verify(&liaison_log::hash::leaf_hash(&leaf.encode()), &key, &[])
                                .is_ok()
                        }),
                ),
                _ => None,
            };
            messages.push(MessageView {
                id: row.id,
                direction: match row.direction {
                    Direction::In => "in",
                    Direction::Out => "out",
                },
                sender: row.sender,
                recipient: row.recipient,
                kind: row.kind,
                created: row.created,
                attachments: signed.envelope.attachments.clone(),
                body: signed.envelope.body,
                envelope_hash: row.hash,
                log_index: row.log_index,
                delivery,
                receipt: row.receipt,
                receipt_verified,
                last_error,
            });
        }
        let followed_by = self
            .store
            .read(|c| db::cases_linking_to(c, id))?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let requesting = case.initiator == self.party.as_str();
        let jurisdiction = liaison_core::offences::jurisdiction_of(self.party.as_str()).to_owned();
        let offence_hint = case
            .offence
            .as_deref()
            .and_then(|o| OFFENCES.get(o))
            .map(|o| OffenceHint {
                id: o.id.clone(),
                budapest_article: o.budapest_article.clone(),
                en: o.en.clone(),
                ru: o.ru.clone(),
                statutes: OFFENCES
                    .counterparts(&o.id, &jurisdiction)
                    .into_iter()
                    .cloned()
                    .collect(),
                jurisdiction,
            });
        let available_actions = match (
            CaseKind::parse(&case.kind),
            liaison_core::lifecycle::State::parse(&case.state),
        ) {
            (Ok(kind), Some(state)) if kind.has_lifecycle() => liaison_core::lifecycle::ALL_ACTIONS
                .iter()
                .filter(|a| {
                    a.actor()
                        == if requesting {
                            Actor::Requesting
                        } else {
                            Actor::Requested
                        }
                })
                .filter(|a| **a != Action::Expire)
                .filter(|a| a.apply(state, kind == CaseKind::Preservation).is_ok())
                .map(|a| a.as_str())
                .collect(),
            _ => Vec::new(),
        };
        let deadlines = self.case_deadlines(&case);
        let items = if case.kind == CaseKind::ContentReport.as_str() {
            Some(self.content_items(&case)?)
        } else {
            None
        };
        Ok(CaseDetail {
            deadlines,
            items,
            case,
            role: if requesting {
                "requesting"
            } else {
                "requested"
            },
            available_actions,
            followed_by,
            offence_hint,
            messages,
        })
    }
}
