//! Joint investigation teams on a node: inviting a party (an envelope to
//! every member and the invitee, carrying the charter's signed opening and
//! the members' cards), the invitee's node opening the team from its
//! invitation, accepting, handing a new member the earlier thread, leaving,
//! and the arrival checks every member applies: only members speak in a
//! team, only an invitee accepts, nobody comes back once gone.

use liaison_core::case::{CaseKind, check_body};
use liaison_core::envelope::{Envelope, SignedEnvelope};
use liaison_core::kind::{Body, Refusal, RefusalCode};
use liaison_core::roster::{Membership, Participant, Role};
use liaison_core::team::{
    ACCEPTANCE, CheckedInvitation, DEPARTURE, INVITATION, InvitationBody, MAX_THREAD, THREAD,
    ThreadBody,
};
use liaison_proto::{NodeCard, PartyKind};
use liaison_store::federation::{self as db, CaseRow, Direction};
use liaison_store::{Connection, StoreError};

use crate::envelopes::Sent;
use crate::membership::verifies_with_pin;
use crate::{Node, NodeError};

fn refusal(code: RefusalCode, message: impl Into<String>) -> Refusal {
    Refusal::new(code, message)
}

fn standing(
    conn: &Connection,
    case_id: &str,
    party: &str,
) -> Result<Option<Participant>, StoreError> {
    Ok(db::participants(conn, case_id)?
        .into_iter()
        .find(|p| p.party == party))
}

/// Checks an arriving envelope of a team against the roster held here:
/// members speak, an invitee only accepts its own invitation (which must
/// have arrived), and an invitation names someone not on the roster.
pub(crate) fn check_arrival(
    conn: &Connection,
    me: &str,
    case: &CaseRow,
    e: &Envelope,
    body: &Body,
) -> Result<(), Refusal> {
    let internal = |err: StoreError| refusal(RefusalCode::Internal, err.to_string());
    let sender = standing(conn, &case.id, &e.sender).map_err(internal)?;
    let status = sender.as_ref().map(|p| p.status);
    match body {
        Body::Acceptance(a) => {
            if status != Some(Membership::Invited) {
                return Err(refusal(
                    RefusalCode::IllegalTransition,
                    format!("{} is not invited into team {}", e.sender, case.id),
                ));
            }
            let held = db::envelope_by_hash(conn, &a.invitation).map_err(internal)?;
            match held {
                None => Err(refusal(
                    RefusalCode::NotYet,
                    format!("the invitation {} is not here yet", a.invitation),
                )),
                Some(row)
                    if row.kind == INVITATION
                        && row.case_id == case.id
                        && invitee_of(&row.signed_json).as_deref() == Some(e.sender.as_str()) =>
                {
                    Ok(())
                }
                Some(_) => Err(refusal(
                    RefusalCode::BadEnvelope,
                    format!(
                        "{} is not an invitation of {} into this team",
                        a.invitation, e.sender
                    ),
                )),
            }
        }
        _ if status != Some(Membership::Member) => Err(refusal(
            RefusalCode::WrongCase,
            format!(
                "{} is {} team {}: only its members write in it",
                e.sender,
                match status {
                    Some(Membership::Left) => "gone from",
                    Some(Membership::Invited) => "only invited into",
                    _ => "not a member of",
                },
                case.id
            ),
        )),
        // Two members may invite the same party at once: both invitations
        // stand until it accepts one (whose role then counts everywhere).
        Body::Invitation(inv) => {
            if standing(conn, &case.id, &inv.body.invitee)
                .map_err(internal)?
                .is_some_and(|p| p.status != Membership::Invited)
            {
                return Err(refusal(
                    RefusalCode::IllegalTransition,
                    format!(
                        "{} is already on the roster of team {}",
                        inv.body.invitee, case.id
                    ),
                ));
            }
            Ok(())
        }
        Body::Thread(_) if e.recipient != me => Err(refusal(
            RefusalCode::WrongRecipient,
            "a team's thread is handed to its new member only",
        )),
        // What a party pinned here said must verify with its pinned key.
        Body::Thread(thread) => {
            for (signed, _) in &thread.envelopes {
                if verifies_with_pin(conn, signed).map_err(internal)? == Some(false) {
                    return Err(refusal(
                        RefusalCode::BadEnvelope,
                        format!(
                            "the thread carries an envelope of {} that its pinned key does not sign",
                            signed.envelope.sender
                        ),
                    ));
                }
            }
            Ok(())
        }
        Body::Update { .. } | Body::Departure(_) | Body::Case { .. } => Ok(()),
        _ => Err(refusal(
            RefusalCode::WrongCase,
            format!("team {} takes no {} envelope", case.id, e.kind),
        )),
    }
}

fn invitee_of(signed_json: &str) -> Option<String> {
    let signed: SignedEnvelope = serde_json::from_str(signed_json).ok()?;
    serde_json::from_value::<InvitationBody>(signed.envelope.body)
        .ok()
        .map(|b| b.invitee)
}

/// Opens a team on the invitee's node from its invitation: the case as the
/// charter's signed opening states it, the members the invitation lists,
/// and this node invited (the invitation itself is then recorded in it).
pub(crate) fn open_from_invitation(
    conn: &Connection,
    me: &str,
    invitation: &CheckedInvitation,
    now: &str,
) -> Result<(), StoreError> {
    // An opener pinned here must have signed it with its pinned key.
    if verifies_with_pin(conn, &invitation.opening)? == Some(false) {
        return Err(StoreError::Invalid(format!(
            "the team's opening is not signed by the key pinned for {}",
            invitation.opening.envelope.sender
        )));
    }
    let opening = &invitation.opening.envelope;
    let summary = check_body(CaseKind::JointTeam, &opening.body)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let row = crate::cases::opening_row(
        me,
        opening,
        &invitation.opening_hash.to_hex(),
        Direction::In,
        now,
        &summary,
    )?;
    db::insert_case(conn, &row)?;
    for m in &invitation.body.members {
        db::add_participant(
            conn,
            &row.id,
            &Participant {
                status: Membership::Member,
                ..m.clone()
            },
        )?;
    }
    db::add_participant(
        conn,
        &row.id,
        &Participant {
            party: me.to_owned(),
            role: invitation.body.role,
            status: Membership::Invited,
        },
    )?;
    Ok(())
}

impl Node {
    fn team(&self, case_id: &str) -> Result<CaseRow, NodeError> {
        let case = self
            .store
            .read(|c| db::case_by_id(c, case_id))?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {case_id}"))))?;
        if case.kind != CaseKind::JointTeam {
            return Err(NodeError::Invalid(format!(
                "case {case_id} is a {}, not a joint team",
                case.kind.as_str()
            )));
        }
        Ok(case)
    }

    fn my_standing(&self, case_id: &str) -> Result<Option<Membership>, NodeError> {
        let me = self.party.to_string();
        Ok(self
            .store
            .read(|c| standing(c, case_id, &me))?
            .map(|p| p.status))
    }

    /// The card of `party` as this node holds it (its own for itself).
    fn card_of(&self, party: &str) -> Result<Option<NodeCard>, NodeError> {
        if party == self.party.as_str() {
            return Ok(Some(self.card()));
        }
        Ok(self.peer(party)?.map(|p| p.card))
    }

    /// Invites a pinned party into team `case_id` (this node a member).
    pub async fn invite(
        &self,
        case_id: &str,
        invitee: &str,
        role: Role,
        note: &str,
    ) -> Result<Sent, NodeError> {
        let case = self.team(case_id)?;
        let conflict = |m: String| NodeError::Store(StoreError::Conflict(m));
        if self.my_standing(case_id)? != Some(Membership::Member) {
            return Err(conflict(format!(
                "this node is not a member of team {case_id}"
            )));
        }
        let peer = self
            .peer(invitee)?
            .ok_or_else(|| NodeError::Invalid(format!("party {invitee:?} is not a pinned peer")))?;
        if peer.kind == PartyKind::Witness {
            return Err(NodeError::Invalid(format!(
                "{invitee} is a witness: it joins no team"
            )));
        }
        let roster = self.store.read(|c| db::participants(c, case_id))?;
        if roster.iter().any(|p| p.party == invitee) {
            return Err(conflict(format!(
                "{invitee} is already on the roster of team {case_id}"
            )));
        }
        let members: Vec<Participant> = roster
            .into_iter()
            .filter(|p| p.status == Membership::Member)
            .collect();
        let mut cards = Vec::new();
        for m in &members {
            // A member this node does not pin is listed without its card.
            if let Some(card) = self.card_of(&m.party)? {
                cards.push(card);
            }
        }
        let root = case.root_hash.clone().unwrap_or_default();
        let opening = self
            .store
            .read(|c| db::envelope_by_hash(c, &root))?
            .ok_or_else(|| {
                NodeError::Invalid(format!("the opening of team {case_id} is not here"))
            })?;
        let body = serde_json::to_value(InvitationBody {
            invitee: invitee.to_owned(),
            role,
            note: note.to_owned(),
            opening: opening.signed_json,
            members: members.clone(),
            cards,
        })
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let me = self.party.as_str();
        let mut to: Vec<String> = members
            .iter()
            .filter(|m| m.party != me)
            .map(|m| m.party.clone())
            .collect();
        to.push(invitee.to_owned());
        let probe = Envelope {
            id: String::new(),
            sender: me.to_owned(),
            recipient: to[0].clone(),
            also_to: to[1..].to_vec(),
            kind: INVITATION.into(),
            case_id: case_id.to_owned(),
            created: String::new(),
            body: body.clone(),
            attachments: Vec::new(),
        };
        InvitationBody::check(&probe)?;
        self.send(&to, INVITATION, case_id, body, None, Vec::new())
            .await
    }

    /// Accepts this node's invitation into team `case_id`: to every member,
    /// each of which this node must pin (trust stays the operator's decision).
    pub async fn accept_invitation(&self, case_id: &str) -> Result<Sent, NodeError> {
        self.team(case_id)?;
        if self.my_standing(case_id)? != Some(Membership::Invited) {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "this node is not invited into team {case_id}"
            ))));
        }
        let me = self.party.to_string();
        let invitation = self
            .store
            .read(|c| db::envelopes_of_case_of_kind(c, case_id, INVITATION))?
            .into_iter()
            .rfind(|r| invitee_of(&r.signed_json).as_deref() == Some(me.as_str()))
            .ok_or_else(|| NodeError::Invalid(format!("no invitation into {case_id} is here")))?;
        let roster = self.store.read(|c| db::participants(c, case_id))?;
        let to = liaison_core::roster::recipients_from(&roster, &me);
        let unpinned: Vec<&str> = to
            .iter()
            .filter(|p| self.peer(p).ok().flatten().is_none())
            .map(String::as_str)
            .collect();
        if !unpinned.is_empty() {
            return Err(NodeError::Invalid(format!(
                "pin every member of team {case_id} before accepting (`liaison peer add`): {} (their cards are in the invitation)",
                unpinned.join(", ")
            )));
        }
        // Every member is pinned now: the charter must be what its opener
        // signed with the key pinned here, not only what the inviter vouched.
        let opening: SignedEnvelope =
            serde_json::from_str::<SignedEnvelope>(&invitation.signed_json)
                .ok()
                .and_then(|inv| serde_json::from_value::<InvitationBody>(inv.envelope.body).ok())
                .and_then(|body| serde_json::from_str(&body.opening).ok())
                .ok_or_else(|| {
                    NodeError::Store(StoreError::Corrupt(format!(
                        "the stored invitation into {case_id} is unreadable"
                    )))
                })?;
        let opener = opening.envelope.sender.clone();
        match self.store.read(|c| verifies_with_pin(c, &opening))? {
            Some(true) => {}
            Some(false) => {
                return Err(NodeError::Invalid(format!(
                    "the charter of team {case_id} is not signed by the key pinned for {opener}: not accepting"
                )));
            }
            None => {
                return Err(NodeError::Invalid(format!(
                    "pin {opener}, who opened team {case_id}, before accepting (`liaison peer add`)"
                )));
            }
        }
        let body = serde_json::json!({"invitation": invitation.hash});
        self.send(&to, ACCEPTANCE, case_id, body, None, Vec::new())
            .await
    }

    /// Leaves team `case_id`: this node stays on the roster, marked gone,
    /// and takes no part in the team any more.
    pub async fn leave_team(&self, case_id: &str, text: &str) -> Result<Sent, NodeError> {
        self.team(case_id)?;
        if self.my_standing(case_id)? != Some(Membership::Member) {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "this node is not a member of team {case_id}"
            ))));
        }
        let body = serde_json::json!({"text": text});
        liaison_core::team::DepartureBody::check(&body)?;
        self.send_in_case(DEPARTURE, case_id, body, Vec::new())
            .await
    }

    /// Hands each member this node invited, once it accepted, the earlier
    /// thread (run after acceptances arrive, and by the deadline worker).
    pub async fn hand_over_threads(&self) -> Result<usize, NodeError> {
        let due: Vec<(String, String)> = self.store.read(move |c| {
            let mut out = Vec::new();
            for case in db::cases_of_kind(c, CaseKind::JointTeam)? {
                let rows = db::envelopes_of_case(c, &case.id)?;
                let invited_by_me = rows
                    .iter()
                    .filter(|r| r.kind == INVITATION && r.direction == Direction::Out)
                    .filter_map(|r| invitee_of(&r.signed_json));
                for invitee in invited_by_me {
                    let member = standing(c, &case.id, &invitee)?
                        .is_some_and(|p| p.status != Membership::Invited);
                    let handed = rows.iter().any(|r| {
                        r.kind == THREAD && r.direction == Direction::Out && r.recipient == invitee
                    });
                    if member && !handed {
                        out.push((case.id.clone(), invitee));
                    }
                }
            }
            Ok(out)
        })?;
        let mut sent = 0;
        for (case_id, to) in due {
            self.hand_over_thread(&case_id, &to).await?;
            sent += 1;
        }
        Ok(sent)
    }

    async fn hand_over_thread(&self, case_id: &str, to: &str) -> Result<Sent, NodeError> {
        // One hand-over at a time, so none goes twice.
        static HANDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = HANDING.lock().await;
        let rows = self.store.read(|c| db::envelopes_of_case(c, case_id))?;
        if rows
            .iter()
            .any(|r| r.kind == THREAD && r.direction == Direction::Out && r.recipient == to)
        {
            return Err(NodeError::Store(StoreError::Conflict(format!(
                "the thread of {case_id} went to {to} already"
            ))));
        }
        let mut senders: Vec<&str> = rows.iter().map(|r| r.sender.as_str()).collect();
        senders.sort_unstable();
        senders.dedup();
        let mut cards = Vec::new();
        for s in senders {
            if let Some(card) = self.card_of(s)? {
                cards.push(card);
            }
        }
        // Only what this node can vouch for goes: envelopes of senders it pins.
        let envelopes: Vec<String> = rows
            .iter()
            .filter(|r| r.kind != THREAD && cards.iter().any(|c| c.party == r.sender))
            .map(|r| r.signed_json.clone())
            .take(MAX_THREAD)
            .collect();
        let body = serde_json::to_value(ThreadBody { envelopes, cards })
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        self.send(&[to.to_owned()], THREAD, case_id, body, None, Vec::new())
            .await
    }
}
