//! A case with its whole thread, as the CLI, API and UI show it: messages
//! with their receipts (and whether each verifies), the actions this node
//! may take, the offence hint, deadlines and content items.

use liaison_core::case::CaseKind;
use liaison_core::envelope::{AttachmentRef, SignedEnvelope};
use liaison_core::lifecycle::{Action, Actor};
use liaison_core::offences::OFFENCES;
use liaison_log::proof::TlogProof;
use liaison_store::StoreError;
use liaison_store::federation::{self as db, CaseRow, Direction};
use serde::Serialize;

use crate::{Node, NodeError};

/// A case with its whole thread, as the CLI, API and UI show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: liaison_proto::api::Case,
    /// This node's role in the case (`requesting`, `requested`, …).
    pub role: &'static str,
    /// Every party of the case with its role, in roster order.
    pub participants: Vec<liaison_core::roster::Participant>,
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
    /// Joint teams: members (or invitees) this node does not pin, so it
    /// cannot exchange with them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpinned: Vec<String>,
    /// Production orders: where disclosure stands (notification, objection window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<liaison_core::order::Disclosure>,
    pub messages: Vec<MessageView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OffenceHint {
    pub id: String,
    pub budapest_article: String,
    pub en: String,
    pub ru: String,
    pub jurisdiction: String,
    pub statutes: Vec<liaison_core::offences::Statute>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    pub direction: &'static str,
    pub sender: String,
    /// The first (or only) recipient.
    pub recipient: String,
    /// Every recipient, the first one first.
    pub recipients: Vec<String>,
    pub kind: String,
    pub created: String,
    pub body: serde_json::Value,
    pub envelope_hash: String,
    /// This envelope's entry in this node's own log.
    pub log_index: u64,
    /// Outgoing: `pending` while a recipient has no copy yet, `refused` if
    /// one refused it, else `delivered`; incoming: `received`; an earlier
    /// message of a team handed over to this new member: `relayed`.
    pub delivery: String,
    /// The receipt (tlog-proof) issued (incoming) or, outgoing, the first
    /// recipient's (each recipient's is in `receipts`).
    pub receipt: Option<String>,
    /// Whether that receipt's proof verifies now.
    pub receipt_verified: Option<bool>,
    pub last_error: Option<String>,
    /// Outgoing: each recipient's delivery and receipt, in order.
    pub receipts: Vec<RecipientReceipt>,
    /// Attachments listed in the signed envelope.
    pub attachments: Vec<AttachmentRef>,
}

/// One recipient's copy of an outgoing envelope.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RecipientReceipt {
    pub party: String,
    /// `pending`, `delivered` or `refused`.
    pub delivery: &'static str,
    /// That recipient's receipt (a tlog-proof of the envelope in its log).
    pub receipt: Option<String>,
    /// Whether the receipt verifies now against the recipient's pinned key.
    pub receipt_verified: Option<bool>,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

/// Whether a receipt is a proof, signed by `key`, that `envelope` is in that log.
fn receipt_verifies(
    text: &str,
    envelope: &liaison_core::envelope::Envelope,
    key: &liaison_log::note::NoteVerifier,
) -> bool {
    TlogProof::parse(text)
        .ok()
        .zip(envelope.leaf().ok())
        .is_some_and(|(p, leaf)| {
            p.verify(&liaison_log::hash::leaf_hash(&leaf.encode()), key, &[])
                .is_ok()
        })
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
        let deliveries = self.store.read(|c| db::deliveries_of_case(c, id))?;
        let participants = self.store.read(|c| db::participants(c, id))?;
        let mut keys = std::collections::HashMap::new();
        for p in &participants {
            if let Some(peer) = self.peer(&p.party)? {
                keys.insert(p.party.clone(), peer.log_key);
            }
        }
        let held: std::collections::HashSet<String> = rows.iter().map(|r| r.hash.clone()).collect();
        let mut messages = Vec::new();
        for row in rows {
            let signed: SignedEnvelope = serde_json::from_str(&row.signed_json).map_err(|e| {
                NodeError::Invalid(format!("stored envelope {} is unreadable: {e}", row.id))
            })?;
            let receipts: Vec<RecipientReceipt> = deliveries
                .iter()
                .filter(|d| d.envelope_hash == row.hash)
                .map(|d| RecipientReceipt {
                    party: d.peer.clone(),
                    delivery: d.state.as_str(),
                    receipt_verified: d.receipt.as_deref().and_then(|text| {
                        let key = keys.get(&d.peer)?;
                        Some(receipt_verifies(text, &signed.envelope, key))
                    }),
                    receipt: d.receipt.clone(),
                    delivered_at: d.delivered_at.clone(),
                    last_error: d.last_error.clone(),
                })
                .collect();
            let (delivery, last_error) = match row.direction {
                Direction::In => ("received".to_owned(), None),
                Direction::Out => {
                    let worst = receipts
                        .iter()
                        .find(|r| r.delivery == "refused")
                        .or_else(|| receipts.iter().find(|r| r.delivery == "pending"));
                    match worst {
                        Some(r) => (r.delivery.to_owned(), r.last_error.clone()),
                        None => ("delivered".to_owned(), None),
                    }
                }
            };
            let (receipt, receipt_verified) = match row.direction {
                Direction::In => {
                    let key = self.store.log_signer().verifier();
                    let verified = row
                        .receipt
                        .as_deref()
                        .map(|text| receipt_verifies(text, &signed.envelope, &key));
                    (row.receipt.clone(), verified)
                }
                Direction::Out => receipts
                    .iter()
                    .find(|r| r.party == row.recipient)
                    .map_or((None, None), |r| (r.receipt.clone(), r.receipt_verified)),
            };
            if row.kind == liaison_core::team::THREAD
                && let Ok(thread) = liaison_core::team::ThreadBody::check(&signed.envelope)
            {
                // The earlier thread, as the member who invited this one held it.
                for (earlier, hash) in thread.envelopes {
                    let hash = hash.to_hex();
                    if held.contains(&hash) {
                        continue;
                    }
                    let e = earlier.envelope;
                    messages.push(MessageView {
                        id: e.id.clone(),
                        direction: "relayed",
                        recipients: e.recipients().map(str::to_owned).collect(),
                        sender: e.sender,
                        recipient: e.recipient,
                        kind: e.kind,
                        created: e.created,
                        attachments: e.attachments,
                        body: e.body,
                        envelope_hash: hash,
                        log_index: row.log_index,
                        delivery: "relayed".to_owned(),
                        receipt: None,
                        receipt_verified: None,
                        last_error: None,
                        receipts: Vec::new(),
                    });
                }
            }
            messages.push(MessageView {
                id: row.id,
                direction: match row.direction {
                    Direction::In => "in",
                    Direction::Out => "out",
                },
                sender: row.sender,
                recipient: row.recipient,
                recipients: signed.envelope.recipients().map(str::to_owned).collect(),
                kind: row.kind,
                created: row.created,
                attachments: signed.envelope.attachments.clone(),
                body: signed.envelope.body,
                envelope_hash: row.hash,
                log_index: row.log_index,
                delivery,
                receipt,
                receipt_verified,
                last_error,
                receipts,
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
        let me = self.party.as_str();
        let notified =
            case.kind == CaseKind::ProductionOrder && case.initiator != me && case.responder != me;
        let available_actions = match (case.kind, case.state.lifecycle()) {
            (kind, Some(state)) if kind.has_lifecycle() && !notified => {
                liaison_core::lifecycle::ALL_ACTIONS
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
                    .collect()
            }
            _ => Vec::new(),
        };
        let deadlines = self.case_deadlines(&case);
        let items = if case.kind == CaseKind::ContentReport {
            Some(self.content_items(&case)?)
        } else {
            None
        };
        let disclosure = self.disclosure(id)?;
        let unpinned = if case.kind == CaseKind::JointTeam {
            let mut out = Vec::new();
            for p in &participants {
                if p.party != me
                    && p.status != liaison_core::roster::Membership::Left
                    && self.peer(&p.party)?.is_none()
                {
                    out.push(p.party.clone());
                }
            }
            out
        } else {
            Vec::new()
        };
        Ok(CaseDetail {
            deadlines,
            items,
            disclosure,
            unpinned,
            case: crate::wire::Wire::wire(case),
            role: participants
                .iter()
                .find(|p| p.party == self.party.as_str())
                .map_or(
                    if requesting {
                        "requesting"
                    } else {
                        "requested"
                    },
                    |p| p.role.as_str(),
                ),
            participants,
            available_actions,
            followed_by,
            offence_hint,
            messages,
        })
    }
}
