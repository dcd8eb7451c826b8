//! Direct production orders on a node: an authority orders a provider in
//! another jurisdiction; the authority of that jurisdiction is notified as
//! a participant where its card requires it, its node confirms receipt
//! (which opens the objection window) and its officers may object or
//! consent; the provider's node records no disclosure before the window
//! has passed without objection, and none after an objection. Every node
//! of the case applies the same rules to what arrives.

use jiff::Timestamp;
use liaison_core::card::CheckedCard;
use liaison_core::case::CaseKind;
use liaison_core::envelope::{Envelope, SignedEnvelope};
use liaison_core::kind::{Refusal, RefusalCode};
use liaison_core::order::{
    Disclosure, HeldNotice, NOTICE, NoticeAnswer, NoticeBody, ProductionOrder, disclosure,
    requires_notice,
};
use liaison_core::roster::Role;
use liaison_proto::PartyKind;
use liaison_store::federation::{self as db, CaseRow};
use liaison_store::{Connection, StoreError};

use crate::envelopes::Sent;
use crate::{Node, NodeError};

/// What the arrival checks need to know about this node.
#[derive(Clone)]
pub(crate) struct Here {
    pub party: String,
    pub jurisdiction: Option<String>,
    /// The pinned authority of this node's jurisdiction (the one an order
    /// to a provider here is notified to).
    pub authority: Option<CheckedCard>,
}

fn refusal(code: RefusalCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, message)
}

/// The checks of an arriving order that need the sender's card and this
/// node's own authority (pure). The provider takes an order only from a
/// foreign authority, and only with its own authority on the roster where
/// that authority requires notification of the category asked for.
pub(super) fn check_order_on_arrival(
    peer: &CheckedCard,
    here: &Here,
    e: &Envelope,
) -> Result<(), Refusal> {
    if peer.kind != PartyKind::Authority {
        return Err(refusal(
            RefusalCode::NotAccepted,
            format!(
                "{} is a {}: only an authority orders",
                peer.party,
                peer.kind.as_str()
            ),
        ));
    }
    let theirs = peer.card.jurisdiction.as_deref();
    let Some(mine) = here.jurisdiction.as_deref() else {
        return Err(refusal(
            RefusalCode::NotAccepted,
            format!(
                "{} states no jurisdiction: it takes no direct orders",
                here.party
            ),
        ));
    };
    if theirs == Some(mine) {
        return Err(refusal(
            RefusalCode::NotAccepted,
            format!(
                "{} is an authority of {mine}, this party's own jurisdiction: its requests come forwarded, not as direct orders",
                peer.party
            ),
        ));
    }
    if e.recipient != here.party {
        // The notified authority: the order is for a provider of its own
        // jurisdiction (it may not pin every provider; the provider checks).
        return Ok(());
    }
    let order = ProductionOrder::check(&e.body)
        .map_err(|err| refusal(RefusalCode::BadEnvelope, err.to_string()))?;
    let authority = here.authority.as_ref();
    let required =
        authority.filter(|a| requires_notice(a.card.notification.as_ref(), order.data_category));
    match (required, authority, e.also_to.as_slice()) {
        (Some(a), _, [x]) if *x == a.party.as_str() => Ok(()),
        (Some(a), _, _) => Err(refusal(
            RefusalCode::NotAccepted,
            format!(
                "{a} requires to be notified of orders for {} to providers in {mine}: send the order to {a} as well",
                order.data_category.as_str(),
                a = a.party
            ),
        )),
        (None, _, []) => Ok(()),
        (None, Some(a), [x]) if *x == a.party.as_str() => Ok(()),
        (None, _, _) => Err(refusal(
            RefusalCode::BadEnvelope,
            format!("an order is notified only to the authority of {mine}"),
        )),
    }
}

/// The notified authority of a case, from its roster.
fn notified_of(conn: &Connection, case_id: &str) -> Result<Option<String>, StoreError> {
    Ok(db::participants(conn, case_id)?
        .into_iter()
        .find(|p| p.role == Role::NotifiedAuthority)
        .map(|p| p.party))
}

/// The notices of a case held here, in the order they were recorded.
fn held_notices(conn: &Connection, case_id: &str) -> Result<Vec<HeldNotice>, StoreError> {
    let mut out = Vec::new();
    for row in db::envelopes_of_case_of_kind(conn, case_id, NOTICE)? {
        let signed: SignedEnvelope = serde_json::from_str(&row.signed_json).map_err(|e| {
            StoreError::Corrupt(format!("stored envelope {} is unreadable: {e}", row.id))
        })?;
        // Checked on arrival; one that no longer parses says nothing.
        let (Ok(body), Ok(created)) = (
            NoticeBody::check(&signed.envelope.body),
            row.created.parse::<Timestamp>(),
        ) else {
            continue;
        };
        out.push(HeldNotice {
            sender: row.sender,
            created,
            body,
        });
    }
    Ok(out)
}

/// Where disclosure under an order case stands at `at`, from what is held.
pub(crate) fn disclosure_at(
    conn: &Connection,
    case: &CaseRow,
    at: Timestamp,
) -> Result<Disclosure, StoreError> {
    let notified = notified_of(conn, &case.id)?;
    Ok(disclosure(
        notified.as_deref(),
        &held_notices(conn, &case.id)?,
        at,
    ))
}

/// Checks a notice from `sender` made at `created` against the case as
/// held: only the notified authority sends them; it confirms receipt once,
/// then decides once, within the window.
pub(crate) fn check_notice(
    conn: &Connection,
    case: &CaseRow,
    sender: &str,
    created: &str,
    notice: &NoticeBody,
) -> Result<(), Refusal> {
    let internal = |err: StoreError| refusal(RefusalCode::Internal, err.to_string());
    if case.kind != CaseKind::ProductionOrder {
        return Err(refusal(
            RefusalCode::WrongCase,
            format!(
                "case {} is a {}: notices are about production orders",
                case.id,
                case.kind.as_str()
            ),
        ));
    }
    if notified_of(conn, &case.id).map_err(internal)?.as_deref() != Some(sender) {
        return Err(refusal(
            RefusalCode::IllegalTransition,
            format!("{sender} is not the authority notified of case {}", case.id),
        ));
    }
    let created: Timestamp = created
        .parse()
        .map_err(|_| refusal(RefusalCode::BadEnvelope, "created is not an RFC 3339 time"))?;
    let held: Vec<HeldNotice> = held_notices(conn, &case.id)
        .map_err(internal)?
        .into_iter()
        .filter(|n| n.sender == sender)
        .collect();
    let received = held
        .iter()
        .find(|n| n.body.answer == NoticeAnswer::Received);
    let decided = held
        .iter()
        .find(|n| n.body.answer != NoticeAnswer::Received);
    match (notice.answer, received, decided) {
        (NoticeAnswer::Received, Some(_), _) => Err(refusal(
            RefusalCode::IllegalTransition,
            format!("{sender} has already confirmed receipt of case {}", case.id),
        )),
        (NoticeAnswer::Received, None, _) => Ok(()),
        (_, None, _) => Err(refusal(
            RefusalCode::IllegalTransition,
            "a decision follows the confirmation of receipt",
        )),
        (_, Some(_), Some(d)) => Err(refusal(
            RefusalCode::IllegalTransition,
            format!(
                "{sender} has already answered case {}: {}",
                case.id,
                d.body.answer.label("en")
            ),
        )),
        (_, Some(_), None) => match disclosure(Some(sender), &held, created) {
            Disclosure::WindowOpen { .. } => Ok(()),
            _ => Err(refusal(
                RefusalCode::IllegalTransition,
                format!("the objection window of case {} has closed", case.id),
            )),
        },
    }
}

/// Checks a production in an order case at the time it was made: not
/// before the notified authority confirmed receipt and the window passed
/// (or it consented), never after an objection.
pub(crate) fn check_production(
    conn: &Connection,
    case: &CaseRow,
    created: &str,
) -> Result<(), Refusal> {
    // Only a direct order is notified (a forward is the authority's own).
    if case.kind != CaseKind::ProductionOrder {
        return Ok(());
    }
    let internal = |err: StoreError| refusal(RefusalCode::Internal, err.to_string());
    let created: Timestamp = created
        .parse()
        .map_err(|_| refusal(RefusalCode::BadEnvelope, "created is not an RFC 3339 time"))?;
    match disclosure_at(conn, case, created).map_err(internal)? {
        Disclosure::NotRequired | Disclosure::Cleared { .. } => Ok(()),
        // The notice may still be on its way from the authority.
        Disclosure::AwaitingNotice { authority } => Err(refusal(
            RefusalCode::NotYet,
            format!("{authority}'s confirmation of the notification is not here yet"),
        )),
        Disclosure::WindowOpen { authority, until } => Err(refusal(
            RefusalCode::IllegalTransition,
            format!("disclosed before {authority}'s objection window ended ({until})"),
        )),
        Disclosure::Objected { authority, .. } => Err(refusal(
            RefusalCode::IllegalTransition,
            format!("disclosed after {authority} objected"),
        )),
    }
}

impl Node {
    /// What the arrival checks need to know about this node.
    pub(crate) fn here(&self) -> Result<Here, NodeError> {
        let jurisdiction = self.config.node.jurisdiction.clone();
        let authority = match &jurisdiction {
            Some(j) => self.authority_of(j)?,
            None => None,
        };
        Ok(Here {
            party: self.party.to_string(),
            jurisdiction,
            authority,
        })
    }

    /// The pinned authority of `jurisdiction` (one that requires
    /// notification first, then by party code).
    fn authority_of(&self, jurisdiction: &str) -> Result<Option<CheckedCard>, NodeError> {
        let mut found: Vec<CheckedCard> = self
            .peers()?
            .into_iter()
            .filter(|p| {
                p.kind == PartyKind::Authority
                    && p.card.jurisdiction.as_deref() == Some(jurisdiction)
            })
            .collect();
        found.sort_by_key(|p| (p.card.notification.is_none(), p.party.to_string()));
        Ok(found.into_iter().next())
    }

    /// Who an order goes to: the provider, and the authority of its
    /// jurisdiction where that authority requires notification.
    pub(crate) fn order_recipients(
        &self,
        to: &[String],
        body: &serde_json::Value,
    ) -> Result<Vec<String>, NodeError> {
        let [provider] = to else {
            return Err(NodeError::Invalid(
                "a production order goes to one provider (its authority is added when it requires notification)".into(),
            ));
        };
        if self.kind() != PartyKind::Authority {
            return Err(NodeError::Invalid(
                "only an authority issues production orders".into(),
            ));
        }
        let card = self.peer(provider)?.ok_or_else(|| {
            NodeError::Invalid(format!("party {provider:?} is not a pinned peer"))
        })?;
        let theirs = card.card.jurisdiction.clone();
        let mine = self.config.node.jurisdiction.clone();
        match &theirs {
            None => {
                return Err(NodeError::Invalid(format!(
                    "{provider} states no jurisdiction: it takes no direct orders"
                )));
            }
            Some(j) if Some(j) == mine.as_ref() => {
                return Err(NodeError::Invalid(format!(
                    "{provider} is in this authority's own jurisdiction ({j}): a direct order goes to a provider abroad"
                )));
            }
            Some(_) => {}
        }
        let order = ProductionOrder::check(body)?;
        let mut recipients = vec![provider.clone()];
        if let Some(j) = &theirs
            && let Some(a) = self.authority_of(j)?
            && requires_notice(a.card.notification.as_ref(), order.data_category)
        {
            recipients.push(a.party.to_string());
        }
        Ok(recipients)
    }

    /// Where disclosure under order `case_id` stands now.
    pub fn disclosure(&self, case_id: &str) -> Result<Option<Disclosure>, NodeError> {
        let id = case_id.to_owned();
        Ok(self.store.read(move |c| match db::case_by_id(c, &id)? {
            Some(case) if case.kind == CaseKind::ProductionOrder => {
                disclosure_at(c, &case, Timestamp::now()).map(Some)
            }
            _ => Ok(None),
        })?)
    }

    /// The notified authority's answer to an order: an objection (with
    /// grounds) or consent, within the window its node opened.
    pub async fn answer_notice(
        &self,
        case_id: &str,
        answer: NoticeAnswer,
        grounds: &str,
    ) -> Result<Sent, NodeError> {
        if answer == NoticeAnswer::Received {
            return Err(NodeError::Invalid(
                "this node confirms receipt of an order by itself; answer objection or no_objection".into(),
            ));
        }
        self.confirm_notifications().await?;
        let body = serde_json::to_value(NoticeBody {
            answer,
            window_secs: None,
            grounds: grounds.to_owned(),
        })
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
        NoticeBody::check(&body)?;
        self.send_notice(case_id, body).await
    }

    async fn send_notice(&self, case_id: &str, body: serde_json::Value) -> Result<Sent, NodeError> {
        // One notice at a time: the check and the send must not interleave
        // with another's (two confirmations, or two decisions, would be).
        static SENDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = SENDING.lock().await;
        let notice = NoticeBody::check(&body)?;
        let me = self.party.to_string();
        let id = case_id.to_owned();
        let now = crate::now_rfc3339();
        self.store.read(move |c| {
            let case = db::case_by_id(c, &id)?
                .ok_or_else(|| StoreError::NotFound(format!("no case {id}")))?;
            check_notice(c, &case, &me, &now, &notice).map_err(|r| StoreError::Conflict(r.message))
        })?;
        self.send_in_case(NOTICE, case_id, body, Vec::new()).await
    }

    /// Confirms receipt of every order this authority is notified of and
    /// has not confirmed yet (run after orders arrive, and by the deadline
    /// worker): the confirmation opens the objection window.
    pub async fn confirm_notifications(&self) -> Result<usize, NodeError> {
        let me = self.party.to_string();
        let pending: Vec<String> = self.store.read(move |c| {
            let mut out = Vec::new();
            for case in db::open_cases(c)? {
                if case.kind != CaseKind::ProductionOrder
                    || notified_of(c, &case.id)?.as_deref() != Some(me.as_str())
                {
                    continue;
                }
                if !held_notices(c, &case.id)?
                    .iter()
                    .any(|n| n.sender == me && n.body.answer == NoticeAnswer::Received)
                {
                    out.push(case.id);
                }
            }
            Ok(out)
        })?;
        let window = self.config.orders.objection_window_secs;
        let mut sent = 0;
        for case_id in pending {
            let body = serde_json::json!({"answer": "received", "window_secs": window});
            match self.send_notice(&case_id, body).await {
                Ok(_) => sent += 1,
                // Confirmed meanwhile by a concurrent pass.
                Err(NodeError::Store(StoreError::Conflict(m))) => {
                    tracing::debug!("no confirmation for {case_id}: {m}");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }

    /// Refuses a production under an order this node may not disclose yet.
    pub(crate) fn check_disclosure_allowed(&self, case: &CaseRow) -> Result<(), NodeError> {
        if case.kind != CaseKind::ProductionOrder {
            return Ok(());
        }
        let id = case.id.clone();
        let state = self
            .store
            .read(|c| disclosure_at(c, case, Timestamp::now()))?;
        let conflict = |m: String| Err(NodeError::Store(StoreError::Conflict(m)));
        match state {
            Disclosure::NotRequired | Disclosure::Cleared { .. } => Ok(()),
            Disclosure::AwaitingNotice { authority } => conflict(format!(
                "{authority} has not confirmed the notification of case {id} yet: nothing is disclosed before its objection window has passed"
            )),
            Disclosure::WindowOpen { authority, until } => conflict(format!(
                "{authority} may object to case {id} until {until}: nothing is disclosed before then unless it consents"
            )),
            Disclosure::Objected {
                authority, grounds, ..
            } => conflict(format!(
                "{authority} objected to case {id} ({grounds}): nothing is disclosed"
            )),
        }
    }
}
