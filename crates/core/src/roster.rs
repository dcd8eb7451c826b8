//! A case's roster: the parties that take part in it and each one's role.
//! The opening envelope makes it (its sender requests, its recipients are
//! requested); every later envelope of the case goes to every participant
//! but its sender. Participants are never removed: one who leaves stays
//! listed, so the roster only grows and every node derives the same one
//! from the same envelopes, whatever order they arrived in.

use serde::{Deserialize, Serialize};

use crate::body::labelled_enum;
use crate::case::CaseKind;
use crate::envelope::Envelope;

labelled_enum! {
    /// What a party is in a case.
    Role {
        Requesting = "requesting", "Requesting party", "Запрашивающая сторона";
        Requested = "requested", "Requested party", "Запрашиваемая сторона";
        ExecutingProvider = "executing_provider", "Executing provider", "Исполняющий провайдер";
        NotifiedAuthority = "notified_authority", "Notified authority", "Уведомляемый орган";
        CoInvestigator = "co_investigator", "Co-investigator", "Участник совместного расследования";
    }
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == text)
    }
}

labelled_enum! {
    /// Where a participant stands: a member, invited into a team and not
    /// yet accepted, or gone (it stays on the roster).
    Membership {
        Member = "member", "member", "участник";
        Invited = "invited", "invited", "приглашён";
        Left = "left", "left", "вышел";
    }
}

impl Membership {
    pub fn parse(text: &str) -> Option<Membership> {
        Membership::ALL.iter().copied().find(|m| m.as_str() == text)
    }
}

// By hand: `labelled_enum!` declares the enum and derives no `Default`.
#[allow(clippy::derivable_impls)]
impl Default for Membership {
    fn default() -> Self {
        Membership::Member
    }
}

/// A party of a case with its role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Participant {
    pub party: String,
    pub role: Role,
    #[serde(default)]
    pub status: Membership,
}

/// The roster an opening envelope makes: its sender, then its recipients in
/// the order the envelope names them. An order to a provider (forwarded
/// or direct) names the provider first, then the authority notified of it.
pub fn opening_roster(opening: &Envelope) -> Vec<Participant> {
    let kind = CaseKind::parse(&opening.kind).ok();
    let to_provider = matches!(kind, Some(CaseKind::Execution | CaseKind::ProductionOrder));
    let team = kind == Some(CaseKind::JointTeam);
    let first = Participant {
        party: opening.sender.clone(),
        role: if team {
            Role::CoInvestigator
        } else {
            Role::Requesting
        },
        status: Membership::Member,
    };
    let rest = opening
        .recipients()
        .enumerate()
        .map(|(i, party)| Participant {
            party: party.to_owned(),
            role: match (to_provider, team, i) {
                (_, true, _) => Role::CoInvestigator,
                (false, _, _) => Role::Requested,
                (true, _, 0) => Role::ExecutingProvider,
                (true, _, _) => Role::NotifiedAuthority,
            },
            status: Membership::Member,
        });
    std::iter::once(first).chain(rest).collect()
}

/// Whether a roster says more than a case row does (initiator requesting,
/// responder requested): then it is stored.
pub fn needs_storing(roster: &[Participant]) -> bool {
    roster.len() > 2
        || roster
            .iter()
            .any(|p| !matches!(p.role, Role::Requesting | Role::Requested))
}

/// Who an envelope of the case from `sender` goes to: every other
/// member, in roster order (the first becomes `recipient`).
pub fn recipients_from(roster: &[Participant], sender: &str) -> Vec<String> {
    roster
        .iter()
        .filter(|p| p.party != sender && p.status == Membership::Member)
        .map(|p| p.party.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opening_makes_the_roster_and_each_message_goes_to_the_others() {
        let e = Envelope {
            id: "x".into(),
            sender: "us".into(),
            recipient: "us-isp".into(),
            also_to: vec!["ru-isp".into()],
            kind: "content_report".into(),
            case_id: "us-1".into(),
            created: "2026-12-01T00:00:00Z".into(),
            body: serde_json::json!({}),
            attachments: vec![],
        };
        let roster = opening_roster(&e);
        let parties: Vec<_> = roster.iter().map(|p| (p.party.as_str(), p.role)).collect();
        assert_eq!(
            parties,
            [
                ("us", Role::Requesting),
                ("us-isp", Role::Requested),
                ("ru-isp", Role::Requested)
            ]
        );
        assert_eq!(recipients_from(&roster, "ru-isp"), ["us", "us-isp"]);
        assert_eq!(recipients_from(&roster, "us"), ["us-isp", "ru-isp"]);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
            assert_ne!(r.label("en"), r.label("ru"));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
