//! Forwarding for execution on a node: the requested authority forwards a
//! legal request to a provider in its jurisdiction, the provider produces
//! the data with a signed statement, the authority relays the production
//! unchanged to the requesting authority, and every node shows each
//! produced file's chain of custody with the receipt of each hand-over.

use liaison_core::card::CheckedCard;
use liaison_core::case::CaseKind;
use liaison_core::envelope::{Envelope, SignedEnvelope};
use liaison_core::execution::{ExecutionOrder, PRODUCTION, ProductionBody, RELAY, RelayBody};
use liaison_core::kind::{Body, Refusal, RefusalCode};
use liaison_core::leaf::LeafEntry;
use liaison_log::Hash;
use liaison_log::note::NoteVerifier;
use liaison_log::proof::TlogProof;
use liaison_proto::PartyKind;
use liaison_store::StoreError;
use liaison_store::federation::{self as db, CaseRow, Direction, EnvelopeRow};
use serde::Serialize;

use crate::attachments::Attaching;
use crate::envelopes::Sent;
use crate::{Node, NodeError};

/// One produced file and every hand-over it went through, in order.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CustodyFile {
    pub sha256: String,
    pub size: u64,
    pub name: String,
    pub hand_overs: Vec<HandOver>,
}

/// A hand-over of a file: the signed envelope that carried it and the
/// receipt its recipient gave (whether that receipt verifies now).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HandOver {
    pub from: String,
    pub to: String,
    /// `production` (provider to authority) or `relay` (authority to authority).
    pub kind: &'static str,
    pub envelope_hash: String,
    /// When its sender signed it.
    pub created: String,
    /// Whether the recipient's receipt proves the envelope in its log
    /// (`None`: no receipt held here yet).
    pub receipt_verified: Option<bool>,
}

fn proves(receipt: &str, hash: Hash, key: &NoteVerifier) -> bool {
    let leaf = LeafEntry::envelope(hash).encode();
    TlogProof::parse(receipt).is_ok_and(|p| {
        p.verify(&liaison_log::hash::leaf_hash(&leaf), key, &[])
            .is_ok()
    })
}

fn unreadable(row: &EnvelopeRow) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("stored envelope {} is unreadable: {e}", row.id))
}

/// The checks of forwarding envelopes that need the sender's card (pure:
/// run beside the signature checks). An execution order comes only from an
/// authority of this provider's jurisdiction that was asked the request it
/// carries; a relay carries a production of a provider in the relaying
/// authority's jurisdiction, made in an execution case that authority
/// opened, with that authority's receipt proving it in its log.
pub(super) fn check_on_arrival(
    peer: &CheckedCard,
    my_jurisdiction: Option<&str>,
    e: &Envelope,
    body: &Body,
) -> Result<(), Refusal> {
    let refuse = |code, message: String| Err(Refusal::new(code, message));
    match body {
        Body::Case {
            kind: CaseKind::Execution,
            ..
        } => {
            if peer.kind != PartyKind::Authority {
                return refuse(
                    RefusalCode::NotAccepted,
                    format!(
                        "{} is a {}: only an authority forwards a request",
                        peer.party,
                        peer.kind.as_str()
                    ),
                );
            }
            let theirs = peer.card.jurisdiction.as_deref();
            if my_jurisdiction.is_none() || theirs != my_jurisdiction {
                return refuse(
                    RefusalCode::NotAccepted,
                    format!(
                        "{} (jurisdiction {}) is not an authority of this provider's jurisdiction ({})",
                        peer.party,
                        theirs.unwrap_or("unknown"),
                        my_jurisdiction.unwrap_or("unknown")
                    ),
                );
            }
            let order = ExecutionOrder::check(&e.body)
                .map_err(|err| Refusal::new(RefusalCode::BadEnvelope, err.to_string()))?;
            if !order.original.envelope.is_addressed_to(&e.sender) {
                return refuse(
                    RefusalCode::BadEnvelope,
                    format!("the request it forwards was not addressed to {}", e.sender),
                );
            }
            Ok(())
        }
        Body::Relay(r) => {
            if r.provider.card.jurisdiction != peer.card.jurisdiction {
                return refuse(
                    RefusalCode::BadEnvelope,
                    format!(
                        "the production comes from a provider outside {}'s jurisdiction",
                        e.sender
                    ),
                );
            }
            if liaison_core::case::opener(&r.production.envelope.case_id) != Some(e.sender.as_str())
            {
                return refuse(
                    RefusalCode::BadEnvelope,
                    format!(
                        "the production answers an execution order {} did not make",
                        e.sender
                    ),
                );
            }
            let leaf = LeafEntry::envelope(r.production_hash).encode();
            let proved = TlogProof::parse(&r.relay.production_receipt).is_ok_and(|p| {
                p.verify(&liaison_log::hash::leaf_hash(&leaf), &peer.log_key, &[])
                    .is_ok()
            });
            if !proved {
                return refuse(
                    RefusalCode::BadEnvelope,
                    "the relay's production_receipt does not prove the production in the sender's log"
                        .to_owned(),
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn not_found(case_id: &str) -> NodeError {
    NodeError::Store(StoreError::NotFound(format!("no case {case_id}")))
}

impl Node {
    fn case_row(&self, case_id: &str) -> Result<CaseRow, NodeError> {
        self.store
            .read(|c| db::case_by_id(c, case_id))?
            .ok_or_else(|| not_found(case_id))
    }

    /// Forwards a legal request this node was asked to a provider in its
    /// jurisdiction: an execution order carrying the original signed
    /// request byte for byte, the requesting authority's card and `note`.
    pub async fn forward(&self, case_id: &str, to: &str, note: &str) -> Result<Sent, NodeError> {
        let case = self.case_row(case_id)?;
        let conflict = |m: String| NodeError::Store(StoreError::Conflict(m));
        if !case.kind.is_legal() {
            return Err(conflict(format!(
                "case {case_id} is a {}: only legal requests are forwarded for execution",
                case.kind.as_str()
            )));
        }
        if case.responder != self.party.as_str() {
            return Err(conflict(format!(
                "case {case_id} was asked of {}: only the requested authority forwards it",
                case.responder
            )));
        }
        if case.state.is_terminal() {
            return Err(conflict(format!("case {case_id} is {}", case.state)));
        }
        let provider = self
            .peer(to)?
            .ok_or_else(|| NodeError::Invalid(format!("party {to:?} is not a pinned peer")))?;
        if provider.kind != PartyKind::Provider {
            return Err(NodeError::Invalid(format!(
                "{to} is a party of kind {}: requests are forwarded to providers",
                provider.kind.as_str()
            )));
        }
        let mine = self.config.node.jurisdiction.as_deref();
        let theirs = provider.card.jurisdiction.as_deref();
        if mine.is_none() || mine != theirs {
            return Err(NodeError::Invalid(format!(
                "{to} is in jurisdiction {}, not this authority's ({}): a request is forwarded to a provider in the requested authority's own jurisdiction",
                theirs.unwrap_or("unknown"),
                mine.unwrap_or("unknown")
            )));
        }
        let requesting = self.peer(&case.initiator)?.ok_or_else(|| {
            NodeError::Invalid(format!(
                "the requesting party {} is not pinned here",
                case.initiator
            ))
        })?;
        let root = case.root_hash.clone().unwrap_or_default();
        let original = self
            .store
            .read(|c| db::envelope_by_hash(c, &root))?
            .ok_or_else(|| not_found(case_id))?;
        let order = ExecutionOrder {
            original: original.signed_json,
            requesting_card: requesting.card,
            note: note.to_owned(),
        };
        let body = serde_json::to_value(&order).map_err(|e| NodeError::Invalid(e.to_string()))?;
        let summary = liaison_core::case::check_body(CaseKind::Execution, &body)?;
        let id = crate::envelopes::random_id()?;
        let exec_id = format!("{}-{}", self.party, &id[..20]);
        self.send(
            &[to.to_owned()],
            CaseKind::Execution.as_str(),
            &exec_id,
            body,
            Some(summary),
            Vec::new(),
        )
        .await
    }

    /// Answers an execution order or a direct production order addressed to
    /// this provider with the data (attachments, stored here first) and a
    /// signed statement of them. Under an order notified to an authority,
    /// nothing is disclosed before its objection window has passed without
    /// objection (or it consented).
    pub async fn produce(
        &self,
        case_id: &str,
        statement: serde_json::Value,
        files: Attaching,
    ) -> Result<Sent, NodeError> {
        let case = self.case_row(case_id)?;
        if !matches!(case.kind, CaseKind::Execution | CaseKind::ProductionOrder)
            || case.responder != self.party.as_str()
        {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "case {case_id} is not an order addressed to {}",
                self.party
            ))));
        }
        if case.state.is_terminal() {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "case {case_id} is {}",
                case.state
            ))));
        }
        self.check_disclosure_allowed(&case)?;
        let mut statement = match statement {
            serde_json::Value::Object(o) => o,
            _ => {
                return Err(NodeError::Invalid(
                    "the statement must be a JSON object".into(),
                ));
            }
        };
        // The statement lists the files it carries, as the envelope does.
        let produced: Vec<serde_json::Value> = files
            .0
            .iter()
            .map(|a| serde_json::json!({"sha256": a.sha256, "size": a.size, "name": a.name}))
            .collect();
        statement.insert("produced".into(), serde_json::Value::Array(produced));
        let body = serde_json::Value::Object(statement);
        let probe = liaison_core::envelope::Envelope {
            id: String::new(),
            sender: String::new(),
            recipient: String::new(),
            also_to: Vec::new(),
            kind: PRODUCTION.into(),
            case_id: String::new(),
            created: String::new(),
            body: body.clone(),
            attachments: files.0.clone(),
        };
        ProductionBody::check(&probe)?;
        self.send_in_case(PRODUCTION, case_id, body, files.0).await
    }

    /// Relays the provider's latest production in execution case `case_id`,
    /// unchanged, into the legal case it executes: to the requesting
    /// authority, with the provider's card and this node's receipt for it.
    pub async fn relay(&self, case_id: &str) -> Result<Sent, NodeError> {
        let exec = self.case_row(case_id)?;
        if exec.kind != CaseKind::Execution || exec.initiator != self.party.as_str() {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "case {case_id} is not an execution order this node made"
            ))));
        }
        let original_id = exec
            .links
            .first()
            .cloned()
            .ok_or_else(|| not_found(case_id))?;
        // The request it executes, which this node was asked.
        if self.case_row(&original_id)?.responder != self.party.as_str() {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "case {original_id} was not asked of {}",
                self.party
            ))));
        }
        let production = self
            .store
            .read(|c| db::envelopes_of_case_of_kind(c, case_id, PRODUCTION))?
            .into_iter()
            .rfind(|r| r.direction == Direction::In)
            .ok_or_else(|| {
                NodeError::Store(StoreError::Conflict(format!(
                    "{} has produced nothing in case {case_id} yet",
                    exec.responder
                )))
            })?;
        let provider = self.peer(&exec.responder)?.ok_or_else(|| {
            NodeError::Invalid(format!(
                "the provider {} is not pinned here",
                exec.responder
            ))
        })?;
        let in_flight = self.issued_receipts().get(&production.hash).cloned();
        let receipt = match production.receipt.clone().or(in_flight) {
            Some(r) => r,
            None => {
                let head = self.store.log_head()?;
                // That head's checkpoint: the proof goes to its size.
                let checkpoint = self.store.signed_checkpoint_at(head.size)?;
                self.receipt_for(production.log_index, head, &checkpoint)?
            }
        };
        let signed: SignedEnvelope = serde_json::from_str(&production.signed_json)
            .map_err(unreadable(&production))
            .map_err(NodeError::Store)?;
        let body = RelayBody {
            production: production.signed_json.clone(),
            provider_card: provider.card,
            production_receipt: receipt,
        };
        let body = serde_json::to_value(&body).map_err(|e| NodeError::Invalid(e.to_string()))?;
        self.send_in_case(RELAY, &original_id, body, signed.envelope.attachments)
            .await
    }

    /// Every file produced for a case (a legal case, or an execution
    /// order), with each hand-over and whether its receipt verifies.
    pub fn custody(&self, case_id: &str) -> Result<Vec<CustodyFile>, NodeError> {
        let case = self.case_row(case_id)?;
        let mut cases = vec![case.id.clone()];
        cases.extend(
            self.store
                .read(|c| db::cases_linking_to(c, case_id))?
                .into_iter()
                .filter(|c| c.kind == CaseKind::Execution)
                .map(|c| c.id),
        );
        let own = self.store.log_signer().verifier();
        let key_of = |party: &str| -> Result<Option<NoteVerifier>, NodeError> {
            if party == self.party.as_str() {
                return Ok(Some(own.clone()));
            }
            Ok(self.peer(party)?.map(|p| p.log_key))
        };
        let mut files: Vec<CustodyFile> = Vec::new();
        let add = |files: &mut Vec<CustodyFile>, signed: &SignedEnvelope, hop: HandOver| {
            for a in &signed.envelope.attachments {
                let i = match files.iter().position(|f| f.sha256 == a.sha256) {
                    Some(i) => i,
                    None => {
                        files.push(CustodyFile {
                            sha256: a.sha256.clone(),
                            size: a.size,
                            name: a.name.clone(),
                            hand_overs: Vec::new(),
                        });
                        files.len() - 1
                    }
                };
                let hops = &mut files[i].hand_overs;
                if !hops
                    .iter()
                    .any(|h| h.envelope_hash == hop.envelope_hash && h.to == hop.to)
                {
                    hops.push(hop.clone());
                }
            }
        };
        for id in &cases {
            let rows = self.store.read(|c| db::envelopes_of_case(c, id))?;
            let deliveries = self.store.read(|c| db::deliveries_of_case(c, id))?;
            for row in rows
                .iter()
                .filter(|r| r.kind == PRODUCTION || r.kind == RELAY)
            {
                let signed: SignedEnvelope = serde_json::from_str(&row.signed_json)
                    .map_err(unreadable(row))
                    .map_err(NodeError::Store)?;
                let Some(hash) = Hash::from_hex(&row.hash) else {
                    continue;
                };
                // The hand-over this envelope is: to each recipient.
                let kind = if row.kind == PRODUCTION {
                    "production"
                } else {
                    "relay"
                };
                if row.kind == RELAY
                    && let Ok(relay) = RelayBody::check(&signed.envelope)
                {
                    // The production it carries, receipted by the relaying party.
                    let verified = key_of(&signed.envelope.sender)?.map(|k| {
                        proves(&relay.relay.production_receipt, relay.production_hash, &k)
                    });
                    add(
                        &mut files,
                        &relay.production,
                        HandOver {
                            from: relay.production.envelope.sender.clone(),
                            to: signed.envelope.sender.clone(),
                            kind: "production",
                            envelope_hash: relay.production_hash.to_hex(),
                            created: relay.production.envelope.created.clone(),
                            receipt_verified: verified,
                        },
                    );
                }
                for to in signed.envelope.recipients() {
                    let receipt = match row.direction {
                        // Issued here; stored just after the answer went out.
                        Direction::In => row
                            .receipt
                            .clone()
                            .or_else(|| self.issued_receipts().get(&row.hash).cloned()),
                        Direction::Out => deliveries
                            .iter()
                            .find(|d| d.envelope_hash == row.hash && d.peer == to)
                            .and_then(|d| d.receipt.clone()),
                    };
                    let verified = match &receipt {
                        Some(text) => key_of(to)?.map(|k| proves(text, hash, &k)),
                        None => None,
                    };
                    add(
                        &mut files,
                        &signed,
                        HandOver {
                            from: signed.envelope.sender.clone(),
                            to: to.to_owned(),
                            kind,
                            envelope_hash: row.hash.clone(),
                            created: row.created.clone(),
                            receipt_verified: verified,
                        },
                    );
                }
            }
        }
        for f in &mut files {
            f.hand_overs.sort_by(|a, b| a.created.cmp(&b.created));
        }
        Ok(files)
    }
}
