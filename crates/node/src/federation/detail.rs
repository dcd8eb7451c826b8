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
                    Some(u) => (u.state.as_str().to_owned(), u.last_error.clone()),
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
        let available_actions = match (case.kind, case.state.lifecycle()) {
            (kind, Some(state)) if kind.has_lifecycle() => liaison_core::lifecycle::ALL_ACTIONS
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
        let items = if case.kind == CaseKind::ContentReport {
            Some(self.content_items(&case)?)
        } else {
            None
        };
        Ok(CaseDetail {
            deadlines,
            items,
            case: crate::wire::Wire::wire(case),
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
