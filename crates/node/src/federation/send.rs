//! Sending: a case opened, continued or moved along its lifecycle, each as
//! a signed envelope committed to the log and the durable outbox in one
//! transaction before anything leaves the node; messages signed for every
//! party (broadcasts).

use liaison_core::case::{BodySummary, CaseKind, TRANSITION, check_body};
use liaison_core::envelope::{AttachmentRef, Envelope};
use liaison_core::incident::{UPDATE, UpdateBody};
use liaison_core::leaf::LeafEntry;
use liaison_core::legal::TransitionBody;
use liaison_core::lifecycle::Action;
use liaison_core::roster::recipients_from;
use liaison_proto::NodeRole;
use liaison_store::StoreError;
use liaison_store::federation::{self as db, Direction};

use crate::attachments::Attaching;
use crate::envelopes::{Broadcast, Sent, now_ms, random_id};
use crate::{Node, NodeError, now_rfc3339};

impl Node {
    /// Signs a `kind` envelope with `body` for each pinned party of `parties`
    /// (one envelope each: these are per-party messages, not a case's).
    pub(crate) fn sign_for_listed(
        &self,
        parties: &[String],
        kind: &str,
        case_id: &str,
        body: &serde_json::Value,
    ) -> Result<Broadcast, NodeError> {
        self.sign_for(|p| parties.iter().any(|q| q == p), kind, case_id, body)
    }

    /// Signs a `kind` envelope with `body` for every pinned party (the
    /// caller holds [`Node::signing_gate`] until it commits them).
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
                also_to: Vec::new(),
                kind: kind.to_owned(),
                case_id: case_id.to_owned(),
                created: created.clone(),
                body: body.clone(),
                attachments: Vec::new(),
            };
            let signed = envelope.sign(&self.store.log_signer())?;
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
        self.open_case_with(&[to.to_owned()], kind, body, Attaching::none())
            .await
    }

    /// Opens a case with every party of `to` (several only where the kind
    /// takes them: [`CaseKind::takes_many_recipients`]), with attachments
    /// (stored here first). The sender and `to` make the case's roster.
    pub async fn open_case_with(
        &self,
        to: &[String],
        kind: &str,
        body: serde_json::Value,
        attachments: Attaching,
    ) -> Result<Sent, NodeError> {
        let kind = CaseKind::parse(kind)?;
        if kind == CaseKind::Execution {
            return Err(NodeError::Invalid(
                "an execution order is made by forwarding a request: `liaison case forward`".into(),
            ));
        }
        // An order also goes to the authority that must be notified of it.
        let ordered;
        let to = if kind == CaseKind::ProductionOrder {
            ordered = self.order_recipients(to, &body)?;
            ordered.as_slice()
        } else {
            to
        };
        if to.len() > 1 && !kind.takes_many_recipients() && kind != CaseKind::ProductionOrder {
            return Err(NodeError::Invalid(format!(
                "a {} goes to one party; only notes, incident notifications and content reports open with several",
                kind.as_str()
            )));
        }
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
        crate::cases::check_update(&case, self.party.as_str(), tlp.is_some(), false)
            .map_err(|r| NodeError::Store(StoreError::Conflict(r.message)))?;
        self.send_in_case(UPDATE, case_id, body, Vec::new()).await
    }

    /// Adds a free-text message to a note case.
    pub async fn reply(&self, case_id: &str, body: serde_json::Value) -> Result<Sent, NodeError> {
        let case = self
            .store
            .read(|c| db::case_by_id(c, case_id))?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {case_id}"))))?;
        let kind = case.kind;
        if kind == CaseKind::JointTeam {
            return Err(NodeError::Invalid(format!(
                "case {case_id} is a joint team: write in it with `case update`"
            )));
        }
        if kind.has_lifecycle() {
            return Err(NodeError::Invalid(format!(
                "case {case_id} is a {}: move it with `case act` (e.g. request_clarification)",
                kind.as_str()
            )));
        }
        check_body(kind, &body)?;
        self.send_in_case(kind.as_str(), case_id, body, Vec::new())
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
        let body = self
            .store
            .read(move |c| crate::cases::plan(c, &me, &id, action, body))?;
        self.send_in_case(TRANSITION, case_id, body, attachments.0)
            .await
    }

    /// Sends an envelope continuing an existing case (with `attachments`,
    /// stored here) to every other participant.
    pub(crate) async fn send_in_case(
        &self,
        kind: &str,
        case_id: &str,
        body: serde_json::Value,
        attachments: Vec<AttachmentRef>,
    ) -> Result<Sent, NodeError> {
        // Only a team's members write in it.
        let me = self.party.to_string();
        let standing = self.store.read(|c| {
            Ok(match db::case_by_id(c, case_id)? {
                Some(case) if case.kind == CaseKind::JointTeam => db::participants(c, case_id)?
                    .into_iter()
                    .find(|p| p.party == me)
                    .map(|p| p.status),
                _ => Some(liaison_core::roster::Membership::Member),
            })
        })?;
        if standing != Some(liaison_core::roster::Membership::Member) {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "this node is not a member of team {case_id}"
            ))));
        }
        let to = self.others_in_case(case_id)?;
        self.send(&to, kind, case_id, body, None, attachments).await
    }

    /// Every participant of a case but this node, in roster order: who an
    /// envelope of the case goes to.
    pub(super) fn others_in_case(&self, case_id: &str) -> Result<Vec<String>, NodeError> {
        let roster = self.store.read(|c| db::participants(c, case_id))?;
        let mut to = recipients_from(&roster, self.party.as_str());
        // A team's members need not all pin each other: this node writes
        // to those it pins (the case page names the others).
        if self
            .store
            .read(|c| db::case_by_id(c, case_id))?
            .is_some_and(|c| c.kind == CaseKind::JointTeam)
        {
            to.retain(|p| self.peer(p).ok().flatten().is_some());
        }
        if to.is_empty() {
            return Err(NodeError::Store(StoreError::NotFound(format!(
                "case {case_id} has no other participant here"
            ))));
        }
        Ok(to)
    }

    pub(super) async fn send(
        &self,
        to: &[String],
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
        let Some((first, others)) = to.split_first() else {
            return Err(NodeError::Invalid("an envelope needs a recipient".into()));
        };
        for (i, party) in to.iter().enumerate() {
            let peer = self.peer(party)?.ok_or_else(|| {
                NodeError::Invalid(format!(
                    "party {party:?} is not a pinned peer; pin its card with `liaison peer add`"
                ))
            })?;
            if peer.card.role != NodeRole::Party {
                return Err(NodeError::Invalid(format!(
                    "{party} is a witness, not a party: it takes no messages"
                )));
            }
            if opening.is_some() && !CaseKind::parse(kind)?.accepted_among(peer.kind, i == 0) {
                return Err(NodeError::Invalid(format!(
                    "{party} is a party of kind {}, which does not take {kind} cases",
                    peer.kind.as_str()
                )));
            }
        }
        let envelope = Envelope {
            id: random_id()?,
            sender: self.party.to_string(),
            recipient: first.clone(),
            also_to: others.to_vec(),
            kind: kind.to_owned(),
            case_id: case_id.to_owned(),
            created: now_rfc3339(),
            body,
            attachments,
        };
        // Until the envelope is queued, the key that signs it stays current.
        let _gate = self.signing_gate().await;
        let signed = envelope.sign(&self.store.log_signer())?;
        let hash = liaison_log::Hash::of_content(&signed.envelope.canonical_bytes()?);
        let leaf = LeafEntry::envelope(hash).encode();
        let signed_json = serde_json::to_string(&signed)
            .map_err(|e| NodeError::Invalid(format!("cannot encode the envelope: {e}")))?;
        // The title's stems too, when the case is known before the write.
        let existing = match &opening {
            Some(_) => None,
            None => self.store.read(|c| db::case_by_id(c, case_id))?,
        };
        let parts = match (&opening, &existing) {
            (Some(s), _) => Some(crate::search::TitleParts {
                kind,
                subject: &s.subject,
                offence: s.offence.as_deref(),
            }),
            (None, Some(c)) => Some(crate::search::TitleParts {
                kind: c.kind.as_str(),
                subject: &c.subject,
                offence: c.offence.as_deref(),
            }),
            (None, None) => None,
        };
        let stems = crate::search::stems_of(&signed.envelope.body, parts.as_ref());
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
                // One delivery (and one receipt) per recipient.
                for party in signed.envelope.recipients() {
                    db::enqueue(tx.conn(), party, &hex, &now, now_ms())?;
                }
                Ok(Sent {
                    case_id: signed.envelope.case_id.clone(),
                    envelope_id: signed.envelope.id.clone(),
                    envelope_hash: hex,
                    log_index,
                })
            })
            .await?;
        self.wake.queued(to.iter().map(String::as_str));
        Ok(committed.value)
    }
}
