//! Joint investigation teams (Second Additional Protocol art. 12): a case
//! among several authorities, opened with a charter, that its members
//! extend by invitation. Each invitation is a signed envelope to every
//! member and to the invitee, carrying the charter's signed opening and the
//! members' cards (countersigned by the inviter's signature) so that the
//! invitee can check what it is asked to join; the invitee accepts with an
//! envelope of its own, the inviter then hands it the earlier thread byte
//! for byte, and a member may leave. Nobody leaves the roster: a member who
//! left stays on it, marked so.

use liaison_proto::NodeCard;
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::body::{bad, optional, parse};
use crate::card::{CheckedCard, check_card};
use crate::case::{CaseKind, TeamCharter};
use crate::envelope::{Envelope, SignedEnvelope};
use crate::roster::{Participant, Role};

/// Envelope kind of an invitation into a team.
pub const INVITATION: &str = "invitation";
/// Envelope kind of an invitee's acceptance.
pub const ACCEPTANCE: &str = "acceptance";
/// Envelope kind of a member's departure.
pub const DEPARTURE: &str = "departure";
/// Envelope kind of the earlier thread handed to a new member.
pub const THREAD: &str = "thread";

/// The most members (and cards) an invitation lists.
pub const MAX_MEMBERS: usize = 64;
/// The most envelopes a handed-over thread carries.
pub const MAX_THREAD: usize = 2_000;

/// An invitation into a team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    pub invitee: String,
    /// `co_investigator` (an authority or expert) or `executing_provider`.
    pub role: Role,
    #[serde(default)]
    pub note: String,
    /// The team's opening, its signed envelope's JSON byte for byte.
    pub opening: String,
    /// The members when invited (the invitee's roster until it learns more).
    pub members: Vec<Participant>,
    /// The members' cards as the inviter holds them.
    #[schema(value_type = Vec<Object>)]
    pub cards: Vec<NodeCard>,
}

/// A checked invitation: the opening verified against its sender's card.
#[derive(Clone, Debug)]
pub struct CheckedInvitation {
    pub body: InvitationBody,
    pub opening: SignedEnvelope,
    pub opening_hash: liaison_log::Hash,
}

fn cards_of(cards: &[NodeCard]) -> Result<Vec<CheckedCard>, CoreError> {
    if cards.len() > MAX_MEMBERS {
        return Err(bad("cards", format!("at most {MAX_MEMBERS} cards")));
    }
    cards.iter().map(check_card).collect()
}

/// Verifies a signed envelope with the card of its sender among `cards`.
fn verify_with(
    signed: &SignedEnvelope,
    cards: &[CheckedCard],
    field: &str,
) -> Result<liaison_log::Hash, CoreError> {
    let card = cards
        .iter()
        .find(|c| c.party.as_str() == signed.envelope.sender)
        .ok_or_else(|| {
            bad(
                field,
                format!("no card of {} comes with it", signed.envelope.sender),
            )
        })?;
    signed
        .verify(&card.log_key)
        .map_err(|e| bad(field, format!("{}'s envelope: {e}", signed.envelope.sender)))
}

impl InvitationBody {
    /// Checks the invitation against the envelope that carries it.
    pub fn check(e: &Envelope) -> Result<CheckedInvitation, CoreError> {
        let body: InvitationBody = parse("invitation", &e.body)?;
        crate::PartyCode::parse(&body.invitee).map_err(|err| bad("invitee", err.to_string()))?;
        if !matches!(body.role, Role::CoInvestigator | Role::ExecutingProvider) {
            return Err(bad(
                "role",
                "an invitee joins as co_investigator or executing_provider",
            ));
        }
        optional("note", &body.note, 5_000)?;
        if !e.is_addressed_to(&body.invitee) {
            return Err(bad("invitee", "the invitation must go to the invitee"));
        }
        if body.members.is_empty() || body.members.len() > MAX_MEMBERS {
            return Err(bad("members", format!("1 to {MAX_MEMBERS} members")));
        }
        if !body.members.iter().any(|m| m.party == e.sender)
            || body.members.iter().any(|m| m.party == body.invitee)
        {
            return Err(bad(
                "members",
                "the members include the inviter and not the invitee",
            ));
        }
        let cards = cards_of(&body.cards)?;
        let opening: SignedEnvelope = serde_json::from_str(&body.opening)
            .map_err(|err| bad("opening", format!("the opening is unreadable: {err}")))?;
        if opening.envelope.kind != CaseKind::JointTeam.as_str()
            || opening.envelope.case_id != e.case_id
        {
            return Err(bad("opening", "the opening is not this team's"));
        }
        let opening_hash = verify_with(&opening, &cards, "opening")?;
        TeamCharter::check(&opening.envelope.body)?;
        Ok(CheckedInvitation {
            body,
            opening,
            opening_hash,
        })
    }
}

/// An invitee's acceptance of its invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceBody {
    /// The invitation's envelope hash.
    pub invitation: String,
}

impl AcceptanceBody {
    pub fn check(body: &serde_json::Value) -> Result<AcceptanceBody, CoreError> {
        let a: AcceptanceBody = parse("acceptance", body)?;
        if liaison_log::Hash::from_hex(&a.invitation).is_none() {
            return Err(bad("invitation", "invitation must be an envelope hash"));
        }
        Ok(a)
    }
}

/// A member's departure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartureBody {
    #[serde(default)]
    pub text: String,
}

impl DepartureBody {
    pub fn check(body: &serde_json::Value) -> Result<DepartureBody, CoreError> {
        let d: DepartureBody = parse("departure", body)?;
        optional("text", &d.text, 5_000)?;
        Ok(d)
    }
}

/// The earlier thread of a team, handed to a new member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadBody {
    /// Every envelope of the team the sender held, in its order: signed
    /// envelopes' JSON, byte for byte.
    pub envelopes: Vec<String>,
    /// Their senders' cards as the sender holds them.
    #[schema(value_type = Vec<Object>)]
    pub cards: Vec<NodeCard>,
}

/// A checked thread: each envelope verified against its sender's card.
#[derive(Clone, Debug)]
pub struct CheckedThread {
    pub envelopes: Vec<(SignedEnvelope, liaison_log::Hash)>,
}

impl ThreadBody {
    pub fn check(e: &Envelope) -> Result<CheckedThread, CoreError> {
        let body: ThreadBody = parse("thread", &e.body)?;
        if body.envelopes.len() > MAX_THREAD {
            return Err(bad("envelopes", format!("at most {MAX_THREAD} envelopes")));
        }
        let cards = cards_of(&body.cards)?;
        let mut envelopes = Vec::with_capacity(body.envelopes.len());
        for text in &body.envelopes {
            let signed: SignedEnvelope = serde_json::from_str(text)
                .map_err(|err| bad("envelopes", format!("an envelope is unreadable: {err}")))?;
            if signed.envelope.case_id != e.case_id {
                return Err(bad("envelopes", "an envelope is not of this team"));
            }
            let hash = verify_with(&signed, &cards, "envelopes")?;
            envelopes.push((signed, hash));
        }
        Ok(CheckedThread { envelopes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlp::Tlp;
    use serde_json::json;

    #[test]
    fn charters_and_answers_are_checked() {
        let charter = json!({"name": "JIT Ransom", "purpose": "Joint inquiry.", "legal_basis": "SAP art. 12"});
        let (_, tlp) = TeamCharter::check(&charter).unwrap();
        assert_eq!(tlp, Tlp::Amber);
        assert!(TeamCharter::check(&json!({"name": "x", "purpose": "y"})).is_err());
        assert!(AcceptanceBody::check(&json!({"invitation": "zz"})).is_err());
        assert!(AcceptanceBody::check(&json!({"invitation": "ab".repeat(32)})).is_ok());
        assert!(DepartureBody::check(&json!({"text": "Done."})).is_ok());
    }
}
