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

/// A party of a case with its role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Participant {
    pub party: String,
    pub role: Role,
}

/// The roster an opening envelope makes: its sender, then its recipients in
/// the order the envelope names them. An order to a provider (forwarded
/// or direct) names the provider first, then the authority notified of it.
pub fn opening_roster(opening: &Envelope) -> Vec<Participant> {
    let to_provider = CaseKind::parse(&opening.kind)
        .is_ok_and(|k| matches!(k, CaseKind::Execution | CaseKind::ProductionOrder));
    std::iter::once(Participant {
        party: opening.sender.clone(),
        role: Role::Requesting,
    })
    .chain(
        opening
            .recipients()
            .enumerate()
            .map(|(i, party)| Participant {
                party: party.to_owned(),
                role: match (to_provider, i) {
                    (false, _) => Role::Requested,
                    (true, 0) => Role::ExecutingProvider,
                    (true, _) => Role::NotifiedAuthority,
                },
            }),
    )
    .collect()
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
/// participant, in roster order (the first becomes `recipient`).
pub fn recipients_from(roster: &[Participant], sender: &str) -> Vec<String> {
    roster
        .iter()
        .filter(|p| p.party != sender)
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
