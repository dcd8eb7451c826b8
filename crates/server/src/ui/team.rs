//! Joint teams on the case page (what it shows and offers): the invite
//! form (pinned parties not on the roster yet), the accept button for an
//! invitee, the leave button for a member, and the members this node does
//! not pin. A leaf the case page builds on; the handlers are in
//! `execution_forms`.

use liaison_core::case::CaseKind;
use liaison_core::roles::Permission;
use liaison_core::roster::{Membership, Role};
use liaison_node::federation::CaseDetail;
use liaison_node::users::User;
use liaison_proto::{NodeRole, PartyKind};

use super::UiState;

/// What the case page shows and offers for a team.
#[derive(Default)]
pub struct TeamView {
    /// Pinned parties it may invite (empty: no form).
    pub invite_to: Vec<(String, String)>,
    /// Roles an invitee may join as, with their labels.
    pub roles: Vec<(String, String)>,
    pub may_accept: bool,
    pub may_leave: bool,
    /// Members this node does not pin.
    pub unpinned: String,
}

pub(super) fn view(state: &UiState, lang: &str, user: Option<&User>, d: &CaseDetail) -> TeamView {
    let node = &state.node;
    let mut out = TeamView::default();
    if d.case.kind != CaseKind::JointTeam.as_str()
        || !user.is_some_and(|u| u.role.allows(Permission::Act(CaseKind::JointTeam)))
    {
        return out;
    }
    let me = node.party().as_str();
    let mine = d
        .participants
        .iter()
        .find(|p| p.party == me)
        .map(|p| p.status);
    out.may_accept = mine == Some(Membership::Invited);
    out.may_leave = mine == Some(Membership::Member);
    if out.may_leave {
        out.invite_to = node
            .peers()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.card.role == NodeRole::Party && p.kind != PartyKind::Witness)
            .filter(|p| !d.participants.iter().any(|m| m.party == p.party.as_str()))
            .map(|p| (p.party.to_string(), p.card.name.clone()))
            .collect();
        out.roles = [Role::CoInvestigator, Role::ExecutingProvider]
            .iter()
            .map(|r| (r.as_str().to_owned(), r.label(lang).to_owned()))
            .collect();
    }
    out.unpinned = d.unpinned.join(", ");
    out
}
