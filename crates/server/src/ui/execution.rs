//! Forwarding for execution on the case page (what it shows and offers):
//! the forward form on a legal request this authority was asked, the
//! production form on an execution order addressed to this provider, the
//! relay button, each produced file's chain of custody, and for a direct
//! production order where disclosure stands (the notified authority's
//! objection window) with the objection form. The forms' handlers are in
//! `execution_forms`.

use liaison_core::case::CaseKind;
use liaison_core::execution::PRODUCTION;
use liaison_core::roles::Permission;
use liaison_node::federation::CaseDetail;
use liaison_node::users::User;
use liaison_proto::{NodeRole, PartyKind};

use super::UiState;
use super::i18n::Tr;

/// A hand-over line of the custody table: from, to, what carried it, the
/// receipt's status and whether it verifies.
pub struct HopLine {
    pub from: String,
    pub to: String,
    pub kind: String,
    pub receipt: String,
    pub ok: bool,
}

/// What the case page shows and offers for forwarding.
#[derive(Default)]
pub struct ExecutionView {
    /// Providers in this authority's jurisdiction it may forward to (empty: no form).
    pub forward_to: Vec<(String, String)>,
    pub may_produce: bool,
    /// The party a production would be relayed to (empty: no button).
    pub relay_to: String,
    /// Each produced file: name, hash, hand-overs.
    pub custody: Vec<(String, String, Vec<HopLine>)>,
    /// A production order: where disclosure stands, and its detail (who,
    /// until when, the grounds).
    pub disclosure: Option<(String, String)>,
    /// This authority is notified of the order and may still object.
    pub may_object: bool,
}

pub(super) fn view(state: &UiState, t: &Tr, user: Option<&User>, d: &CaseDetail) -> ExecutionView {
    let node = &state.node;
    let me = node.party().as_str();
    let kind = CaseKind::parse(&d.case.kind).ok();
    let may = |k: CaseKind| user.is_some_and(|u| u.role.allows(Permission::Act(k)));
    let open = !matches!(
        d.case.state.as_str(),
        "closed" | "refused" | "withdrawn" | "expired"
    );
    let mut out = ExecutionView::default();
    if let Some(k) = kind
        && k.is_legal()
        && open
        && d.case.responder == me
        && may(k)
    {
        let mine = node.config().node.jurisdiction.clone();
        out.forward_to = node
            .peers()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.card.role == NodeRole::Party && p.kind == PartyKind::Provider)
            .filter(|p| mine.is_some() && p.card.jurisdiction == mine)
            .map(|p| (p.party.to_string(), p.card.name.clone()))
            .collect();
    }
    if let Some(state) = &d.disclosure {
        use liaison_core::order::Disclosure;
        let detail = match state {
            Disclosure::NotRequired => String::new(),
            Disclosure::AwaitingNotice { authority } => authority.clone(),
            Disclosure::WindowOpen { authority, until } => {
                format!("{authority} — {} {until}", t.get("order.until"))
            }
            Disclosure::Objected {
                authority,
                at,
                grounds,
            } => format!("{authority}, {at}: {grounds}"),
            Disclosure::Cleared { authority, at } => format!("{authority}, {at}"),
        };
        out.disclosure = Some((state.label(t.lang).to_owned(), detail));
        out.may_object = open
            && matches!(state, Disclosure::WindowOpen { authority, .. } if authority == me)
            && may(CaseKind::ProductionOrder);
        out.may_produce =
            open && d.case.responder == me && state.allows() && may(CaseKind::ProductionOrder);
    }
    if kind == Some(CaseKind::Execution) && may(CaseKind::Execution) {
        out.may_produce = open && d.case.responder == me;
        let produced = d
            .messages
            .iter()
            .any(|m| m.direction == "in" && m.kind == PRODUCTION);
        if d.case.initiator == me && produced {
            out.relay_to = d
                .case
                .links
                .first()
                .and_then(|id| node.case_detail(id).ok())
                .map(|c| c.case.initiator)
                .unwrap_or_default();
        }
    }
    if kind.is_some_and(|k| {
        k.is_legal() || matches!(k, CaseKind::Execution | CaseKind::ProductionOrder)
    }) {
        out.custody = node
            .custody(&d.case.id)
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let hops = f
                    .hand_overs
                    .into_iter()
                    .map(|h| {
                        let (receipt, ok) = match h.receipt_verified {
                            Some(true) => (t.get("case.receipt_ok"), true),
                            Some(false) => (t.get("case.receipt_bad"), false),
                            None => (t.get("case.receipt_none"), false),
                        };
                        HopLine {
                            from: h.from,
                            to: h.to,
                            kind: t.get(&format!("custody.{}", h.kind)).to_owned(),
                            receipt: receipt.to_owned(),
                            ok,
                        }
                    })
                    .collect();
                (f.name, f.sha256, hops)
            })
            .collect();
    }
    out
}
