//! Receiving a batch of envelopes from a pinned peer: the pure checks
//! (addressing, signature, typed body) spread over the cores, the checks
//! against what this node holds inside one write job (`arrive`), refusals
//! recorded, and a receipt for each envelope logged (the original one for
//! a redelivery).

use liaison_core::card::CheckedCard;
use liaison_core::case::{CaseKind, opener};
use liaison_core::content::ITEM_STATUS;
use liaison_core::envelope::{DeliveryRequest, DeliveryResponse, DeliveryResult, SignedEnvelope};
use liaison_core::kind::{Body, Refusal, RefusalCode};
use liaison_core::leaf::LeafEntry;
use liaison_log::proof::TlogProof;
use liaison_proto::ErrorDetail;
use liaison_store::federation::{self as db, Direction, EnvelopeRow, Rejection};
use liaison_store::{LogHead, StoreError, WriteTx};

use crate::{Node, NodeError, now_rfc3339};

impl Node {
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
        // An order this authority is notified of is confirmed at once.
        let notified_of_order = request.envelopes.iter().any(|e| {
            e.envelope.kind == CaseKind::ProductionOrder.as_str()
                && e.envelope.recipient != self.party.as_str()
        });
        // A new member gets the earlier thread from whoever invited it.
        let accepted = request
            .envelopes
            .iter()
            .any(|e| e.envelope.kind == liaison_core::team::ACCEPTANCE);
        let mut results: Vec<Option<DeliveryResult>> = vec![None; request.envelopes.len()];
        let mut fresh: Vec<Fresh> = Vec::new();
        let mut rejections: Vec<Rejection> = Vec::new();
        let mut redelivered: Vec<(usize, EnvelopeRow)> = Vec::new();
        // Signature checks dominate the cost: spread them over the cores,
        // as tasks of the runtime's blocking pool, whose threads are reused
        // (not new threads for every request).
        let prechecked = {
            let here = self.here()?;
            // The peer's current key, and one it rotated away from while
            // its overlap lasts.
            let keys = std::sync::Arc::new(self.accepted_log_keys(peer)?);
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let chunk = request.envelopes.len().div_ceil(cores).max(1);
            let mut envelopes = request.envelopes;
            let mut parts = Vec::new();
            while !envelopes.is_empty() {
                let rest = envelopes.split_off(chunk.min(envelopes.len()));
                let part = std::mem::replace(&mut envelopes, rest);
                let (peer, here, keys) = (peer.clone(), here.clone(), keys.clone());
                parts.push(tokio::task::spawn_blocking(move || {
                    part.into_iter()
                        .map(|e| {
                            let check =
                                Node::precheck(&peer, &keys, &here, &e).map(|c| prepare(&e, c));
                            (e, check)
                        })
                        .collect::<Vec<_>>()
                }));
            }
            let mut checked = Vec::with_capacity(results.len());
            for part in parts {
                checked.extend(
                    part.await
                        .map_err(|e| NodeError::Invalid(format!("envelope checks failed: {e}")))?,
                );
            }
            checked
        };
        if prechecked.len() != results.len() {
            return Err(NodeError::Invalid(
                "an envelope check did not finish".into(),
            ));
        }
        for (i, (signed, check)) in prechecked.into_iter().enumerate() {
            match check {
                Err(r) => {
                    rejections.push(rejection(peer.party.as_str(), &signed.envelope.id, &r));
                    results[i] = Some(refusal(&signed.envelope.id, &r));
                }
                Ok(prepared) => fresh.push(Fresh {
                    index: i,
                    stems: prepared.stems,
                    json: prepared.json,
                    signed,
                    hash: prepared.hash.to_hex(),
                    leaf: LeafEntry::envelope(prepared.hash).encode(),
                    body: prepared.body,
                }),
            }
        }
        for r in &rejections {
            tracing::warn!(peer = %r.peer, code = %r.code, "refused an envelope: {}", r.reason);
        }

        // Commit every new envelope of the batch in one write job, with every
        // refusal (recorded even though the envelopes are not kept).
        let me = self.party.to_string();
        let my_kind = self.kind();
        let from = peer.party.to_string();
        let skew = self.config.federation.max_clock_skew_secs;
        let batch = fresh;
        let committed = self
            .store
            .write(move |tx| {
                for r in &rejections {
                    db::record_rejection(tx.conn(), r)?;
                }
                let mut outcomes = Vec::new();
                let mut withdrawn: Vec<i64> = Vec::new();
                for fresh in batch {
                    let (i, id, hash) = (
                        fresh.index,
                        fresh.signed.envelope.id.clone(),
                        fresh.hash.clone(),
                    );
                    let mut arrival = arrive(tx, (&me, my_kind), skew, fresh, &mut withdrawn)?;
                    if let Arrival::Refused(r) = arrival {
                        // "Not yet" records nothing: the sender tries again.
                        arrival = if r.code == RefusalCode::NotYet {
                            Arrival::Deferred(r)
                        } else {
                            db::record_rejection(tx.conn(), &rejection(&from, &id, &r))?;
                            Arrival::Refused(r)
                        };
                    }
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
                        deferred: None,
                    });
                }
                Arrival::Existing(existing) => redelivered.push((i, *existing)),
                Arrival::Deferred(r) => {
                    tracing::debug!(peer = %peer.party, "put an envelope off: {}", r.message);
                    results[i] = Some(DeliveryResult {
                        id,
                        receipt: None,
                        error: None,
                        deferred: Some(ErrorDetail {
                            code: r.code.as_str().to_owned(),
                            message: r.message,
                        }),
                    });
                }
                Arrival::Refused(r) => {
                    tracing::warn!(peer = %peer.party, code = r.code.as_str(), "refused an envelope: {}", r.message);
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
        if accepted {
            let node = self.clone();
            tokio::spawn(async move {
                if let Err(e) = node.hand_over_threads().await {
                    tracing::error!("handing teams' threads over: {e}");
                }
            });
        }
        if notified_of_order {
            let node = self.clone();
            tokio::spawn(async move {
                if let Err(e) = node.confirm_notifications().await {
                    tracing::error!("confirming notified orders: {e}");
                }
            });
        }
        Ok(DeliveryResponse {
            results: results.into_iter().flatten().collect(),
        })
    }

    /// A redelivered envelope gets its original receipt and changes nothing
    /// (a receipt is rebuilt only if the node stopped before storing it).
    pub(super) fn issued_receipts(
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
                // That head's checkpoint: the proof goes to its size.
                let checkpoint = self.store.signed_checkpoint_at(head.size)?;
                let r = self.receipt_for(row.log_index, head, &checkpoint)?;
                to_store.push((row.hash.clone(), r.clone()));
                r
            }
        };
        Ok(DeliveryResult {
            id: row.id,
            receipt: Some(receipt),
            error: None,
            deferred: None,
        })
    }

    pub(super) fn receipt_for(
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
        keys: &[liaison_log::note::NoteVerifier],
        here: &super::orders::Here,
        signed: &SignedEnvelope,
    ) -> Result<(liaison_log::Hash, Body), Refusal> {
        let e = &signed.envelope;
        let me = here.party.as_str();
        if e.sender != peer.party.as_str() {
            return Err(Refusal::new(
                RefusalCode::WrongSender,
                format!(
                    "the envelope claims sender {:?} but arrived from {}",
                    e.sender, peer.party
                ),
            ));
        }
        if peer.card.role != liaison_proto::NodeRole::Party
            && e.kind != liaison_core::keys::KEY_CHANGE
        {
            return Err(Refusal::new(
                RefusalCode::NotAccepted,
                "a witness sends no envelopes but its own key changes",
            ));
        }
        if !e.is_addressed_to(me) {
            return Err(Refusal::new(
                RefusalCode::WrongRecipient,
                format!("the envelope is addressed to {:?}, not {me}", e.recipient),
            ));
        }
        let hash = keys
            .iter()
            .find_map(|key| signed.verify(key).ok())
            .or_else(|| {
                (e.kind == liaison_core::keys::KEY_CHANGE).then_some(())?;
                let key = new_key_of(&Body::check(e).ok()?)?;
                signed.verify(&key).ok()
            })
            .map_or_else(|| signed.verify(&peer.log_key), Ok)
            .map_err(|err| Refusal::new(RefusalCode::BadEnvelope, err.to_string()))?;
        let body = Body::check(e)?;
        super::execution::check_on_arrival(peer, here.jurisdiction.as_deref(), e, &body)?;
        if let Body::Case {
            kind: CaseKind::ProductionOrder,
            ..
        } = body
        {
            super::orders::check_order_on_arrival(peer, here, e)?;
        }
        Ok((hash, body))
    }
}
/// The log key a key change names for its party's new card. An envelope
/// carrying a revocation is signed by that key: the key it revokes may
/// have been rotated away by a thief, and the statement inside, checked in
/// full when it is recorded, is what decides.
fn new_key_of(body: &Body) -> Option<liaison_log::note::NoteVerifier> {
    let Body::KeyChange(notice) = body else {
        return None;
    };
    let change: liaison_core::keys::KeyChange =
        serde_json::from_str(&notice.change.statement).ok()?;
    liaison_log::note::NoteVerifier::parse(&change.card.log_key).ok()
}

/// An envelope that passed the pure checks, with what recording it needs,
/// computed beside the checks (spread over the cores, off the writer).
struct Prepared {
    hash: liaison_log::Hash,
    body: Body,
    /// The stems for the search index.
    stems: crate::search::Stems,
    /// The envelope as stored.
    json: Result<String, String>,
}

fn prepare(signed: &SignedEnvelope, (hash, body): (liaison_log::Hash, Body)) -> Prepared {
    // An opening's title is known from its body.
    let parts = match &body {
        Body::Case { summary, kind } => Some(crate::search::TitleParts {
            kind: kind.as_str(),
            subject: &summary.subject,
            offence: summary.offence.as_deref(),
        }),
        _ => None,
    };
    let stems = crate::search::stems_of(&signed.envelope.body, parts.as_ref());
    let json = serde_json::to_string(signed).map_err(|e| e.to_string());
    Prepared {
        hash,
        body,
        stems,
        json,
    }
}

/// A new envelope of a batch that passed the checks, on its way to the log.
struct Fresh {
    index: usize,
    signed: SignedEnvelope,
    hash: String,
    leaf: Vec<u8>,
    body: Body,
    stems: crate::search::Stems,
    json: Result<String, String>,
}

/// What became of an envelope in the receiving transaction.
enum Arrival {
    Logged(u64),
    Existing(Box<EnvelopeRow>),
    Refused(Refusal),
    /// Not recorded yet: it follows something that has not arrived.
    Deferred(Refusal),
}

/// What is recorded of a refused envelope (its id only if it is one: an
/// envelope refused for its shape may carry anything there).
fn rejection(peer: &str, id: &str, r: &Refusal) -> Rejection {
    Rejection {
        at: now_rfc3339(),
        peer: peer.to_owned(),
        envelope_id: Some(id.to_owned()).filter(|s| s.len() <= 64),
        code: r.code.as_str().to_owned(),
        reason: r.message.clone(),
    }
}

fn refusal(id: &str, r: &Refusal) -> DeliveryResult {
    DeliveryResult {
        id: id.chars().take(64).collect(),
        receipt: None,
        error: Some(ErrorDetail {
            code: r.code.as_str().to_owned(),
            message: r.message.clone(),
        }),
        deferred: None,
    }
}

/// Records one new envelope of a batch inside the receiving write job,
/// after the checks that need what this node holds (its case, the
/// envelope it follows, its dates); a refusal records nothing. Every kind
/// is handled here: the match is exhaustive over [`Body`].
fn arrive(
    tx: &mut WriteTx<'_>,
    (me, my_kind): (&str, liaison_proto::PartyKind),
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
        json,
        ..
    } = fresh;
    let e = &signed.envelope;
    let conn = tx.conn();
    let refused = |code, message: String| Ok(Arrival::Refused(Refusal::new(code, message)));
    // A redelivery gets its original receipt; the same id with other
    // content is a replay with changes.
    if let Some(existing) = db::envelope_by_sender_id(conn, &e.sender, &e.id)? {
        if existing.hash == hash {
            return Ok(Arrival::Existing(Box::new(existing)));
        }
        return refused(
            RefusalCode::ReplayedWithChanges,
            format!(
                "envelope {} was received before with different content",
                e.id
            ),
        );
    }
    let case = db::case_by_id(conn, &e.case_id)?;
    // The two parties a case row names are on its roster: only anyone
    // else needs the roster read.
    if let Some(c) = &case
        && c.initiator != e.sender
        && c.responder != e.sender
        && db::role_in(conn, &c.id, &e.sender)?.is_none()
    {
        return refused(
            RefusalCode::WrongCase,
            format!("{} is not a participant of case {}", e.sender, e.case_id),
        );
    }
    // In a team only its members write (and an invitee accepts).
    if let Some(c) = &case
        && c.kind == CaseKind::JointTeam
        && let Err(r) = super::teams::check_arrival(conn, me, c, e, &body)
    {
        return Ok(Arrival::Refused(r));
    }
    // Dates are checked against this node's clock and the envelope followed
    // (which may be earlier in this batch).
    let parent = crate::cases::parent_created(conn, &signed)?;
    if let Err(r) =
        crate::cases::check_created(&e.created, parent.as_deref(), jiff::Timestamp::now(), skew)
    {
        return Ok(Arrival::Refused(r));
    }
    let json =
        json.map_err(|err| StoreError::Invalid(format!("cannot encode the envelope: {err}")))?;
    let now = now_rfc3339();
    let opening = match (&body, &case) {
        (Body::HashList(list), _) => {
            let log_index = tx.append_leaf(leaf);
            withdrawn.extend(crate::content::record_arrival(
                conn, &signed, list, json, &hash, log_index, &now,
            )?);
            return Ok(Arrival::Logged(log_index));
        }
        // A peer's keys change: the pin follows if the statement holds.
        (Body::KeyChange(change), _) => {
            if let Err(why) =
                crate::peer_keys::accept_key_change(conn, &e.sender, change, skew, &now)?
            {
                return refused(
                    RefusalCode::BadEnvelope,
                    format!("the key change is refused: {why}"),
                );
            }
            let log_index = tx.append_leaf(leaf);
            crate::envelopes::insert_envelope(
                tx.conn(),
                &signed,
                json,
                &hash,
                Direction::In,
                log_index,
                &now,
            )?;
            return Ok(Arrival::Logged(log_index));
        }
        (Body::Glossary(event), _) => {
            let log_index = tx.append_leaf(leaf);
            crate::glossary::record_arrival(tx, &signed, event, json, &hash, log_index, &now)?;
            return Ok(Arrival::Logged(log_index));
        }
        // Checked again here: the thread may have moved since.
        (Body::Transition(_), _) => match crate::cases::check_arrival(conn, me, &signed, skew) {
            Ok(()) => None,
            Err(r) => return Ok(Arrival::Refused(r)),
        },
        (Body::Update { retag, .. }, Some(c)) => {
            match crate::cases::check_update(c, &e.sender, retag.is_some(), true) {
                Ok(()) => None,
                Err(r) => return Ok(Arrival::Refused(r)),
            }
        }
        (Body::ItemStatus(_), Some(c)) => {
            match crate::content::check_item_status(conn, c, &e.sender, &e.body, true) {
                Ok(()) => None,
                Err(r) => return Ok(Arrival::Refused(r)),
            }
        }
        // Another participant's opening may not have arrived yet; the
        // sender's own would have (its envelopes arrive in order).
        // An invitee learns of its team from its invitation.
        (Body::Invitation(invitation), None) if invitation.body.invitee == me => {
            match super::teams::open_from_invitation(conn, me, invitation, &now) {
                Ok(()) => None,
                Err(StoreError::Invalid(m)) => return refused(RefusalCode::BadEnvelope, m),
                Err(err) => return Err(err),
            }
        }
        (
            Body::Invitation(_) | Body::Acceptance(_) | Body::Departure(_) | Body::Thread(_),
            Some(c),
        ) if c.kind != CaseKind::JointTeam => {
            return refused(
                RefusalCode::WrongCase,
                format!("case {} is a {}, not a joint team", c.id, c.kind.as_str()),
            );
        }
        (
            Body::Invitation(_) | Body::Acceptance(_) | Body::Departure(_) | Body::Thread(_),
            Some(_),
        ) => None,
        (Body::Notice(notice), Some(c)) => {
            match super::orders::check_notice(conn, c, &e.sender, &e.created, notice) {
                Ok(()) => None,
                Err(r) => return Ok(Arrival::Refused(r)),
            }
        }
        (
            Body::Update { .. }
            | Body::ItemStatus(_)
            | Body::Production(_)
            | Body::Relay(_)
            | Body::Notice(_)
            | Body::Invitation(_)
            | Body::Acceptance(_)
            | Body::Departure(_)
            | Body::Thread(_),
            None,
        ) => {
            return if opener(&e.case_id) != Some(&e.sender) {
                refused(
                    RefusalCode::NotYet,
                    format!("case {} is not known here yet", e.case_id),
                )
            } else {
                refused(RefusalCode::WrongCase, format!("no case {}", e.case_id))
            };
        }
        // Only the provider an execution order went to produces, in that case.
        (Body::Production(_), Some(c))
            if !matches!(c.kind, CaseKind::Execution | CaseKind::ProductionOrder) =>
        {
            return refused(
                RefusalCode::WrongCase,
                format!(
                    "case {} is a {}: productions answer execution and production orders",
                    c.id,
                    c.kind.as_str()
                ),
            );
        }
        (Body::Production(_), Some(c)) if e.sender != c.responder => {
            return refused(
                RefusalCode::IllegalTransition,
                format!(
                    "only {} (the provider the order went to) produces in case {}",
                    c.responder, c.id
                ),
            );
        }
        (Body::Production(_), Some(c)) => {
            match super::orders::check_production(conn, c, &e.created) {
                Ok(()) => None,
                Err(r) => return Ok(Arrival::Refused(r)),
            }
        }
        // Only the requested authority relays, into the legal case it was asked.
        (Body::Relay(_), Some(c)) if !c.kind.is_legal() || e.sender != c.responder => {
            return refused(
                RefusalCode::WrongCase,
                format!(
                    "{} relays nothing into case {}: only the requested authority of a legal request does",
                    e.sender, c.id
                ),
            );
        }
        (Body::Relay(_), Some(_)) => None,
        // Only notes take more envelopes of their own kind: a second
        // opening of a request would rewrite what the other party said.
        (Body::Case { kind, .. }, Some(c)) if c.kind == *kind && *kind == CaseKind::Note => None,
        (Body::Case { kind, .. }, Some(c)) if c.kind == *kind => {
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
                format!(
                    "case {} is a {}, not a {}",
                    c.id,
                    c.kind.as_str(),
                    kind.as_str()
                ),
            );
        }
        // A reply into a thread someone else opened, before its opening.
        (Body::Case { kind, .. }, None)
            if *kind == CaseKind::Note && opener(&e.case_id) != Some(&e.sender) =>
        {
            return refused(
                RefusalCode::NotYet,
                format!("case {} is not known here yet", e.case_id),
            );
        }
        (Body::Case { .. }, None) if opener(&e.case_id) != Some(&e.sender) => {
            return refused(
                RefusalCode::WrongCase,
                format!(
                    "a new case from {} must have an id starting with \"{}-\"",
                    e.sender, e.sender
                ),
            );
        }
        (Body::Case { kind, .. }, None) if !kind.accepted_among(my_kind, e.recipient == me) => {
            return refused(
                RefusalCode::NotAccepted,
                format!(
                    "{me} is a party of kind {}, which does not take {} cases",
                    my_kind.as_str(),
                    kind.as_str()
                ),
            );
        }
        (Body::Case { summary, .. }, None) => Some(summary),
    };
    // A reply's title is its case's, not its own subject's.
    let stems = if opening.is_some() {
        stems
    } else {
        crate::search::Stems {
            title: None,
            ..stems
        }
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
