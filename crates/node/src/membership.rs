//! Team membership as recorded envelopes change it: an invitation puts its
//! invitee on the roster as invited, an acceptance makes it a member, a
//! departure marks a member as gone, and a handed-over thread replays the
//! changes it carries — only those whose signature verifies with the key
//! this node pinned for their sender: the member handing the thread over
//! vouches for the rest, but does not get to speak for anyone this node
//! knows. A leaf: recording calls it in its transaction, in both
//! directions, so every member's node holds the same roster.

use liaison_core::envelope::{Envelope, SignedEnvelope};
use liaison_core::roster::{Membership, Participant};
use liaison_core::team::{
    ACCEPTANCE, AcceptanceBody, DEPARTURE, INVITATION, InvitationBody, THREAD, ThreadBody,
};
use liaison_log::note::NoteVerifier;
use liaison_store::federation as db;
use liaison_store::{Connection, StoreError};

/// Whether `signed` verifies with the log key this node pinned for its
/// sender (`None`: the sender is not pinned here).
pub(crate) fn verifies_with_pin(
    conn: &Connection,
    signed: &SignedEnvelope,
) -> Result<Option<bool>, StoreError> {
    let Some(peer) = liaison_store::peers::by_party(conn, &signed.envelope.sender)? else {
        return Ok(None);
    };
    let key = serde_json::from_str::<liaison_proto::NodeCard>(&peer.card_json)
        .ok()
        .and_then(|card| NoteVerifier::parse(&card.log_key).ok())
        .ok_or_else(|| {
            StoreError::Corrupt(format!("the pinned card of {} is unreadable", peer.party))
        })?;
    Ok(Some(signed.verify(&key).is_ok()))
}

/// Applies what `e` (recorded, checked) changes in its case's roster.
pub(crate) fn apply(conn: &Connection, e: &Envelope) -> Result<(), StoreError> {
    match e.kind.as_str() {
        INVITATION => {
            // Checked on arrival (or when made); one that no longer parses
            // changes nothing.
            if let Ok(invitation) = serde_json::from_value::<InvitationBody>(e.body.clone()) {
                db::add_participant(
                    conn,
                    &e.case_id,
                    &Participant {
                        party: invitation.invitee,
                        role: invitation.role,
                        status: Membership::Invited,
                    },
                )?;
            }
        }
        ACCEPTANCE => {
            // In the role of the invitation it accepted (checked to be held).
            let invitation = serde_json::from_value::<AcceptanceBody>(e.body.clone())
                .ok()
                .and_then(|a| db::envelope_by_hash(conn, &a.invitation).transpose())
                .transpose()?
                .and_then(|row| serde_json::from_str::<SignedEnvelope>(&row.signed_json).ok())
                .and_then(|s| serde_json::from_value::<InvitationBody>(s.envelope.body).ok());
            match invitation {
                Some(i) => db::admit(conn, &e.case_id, &e.sender, i.role)?,
                None => db::set_membership(conn, &e.case_id, &e.sender, Membership::Member)?,
            };
        }
        DEPARTURE => {
            db::set_membership(conn, &e.case_id, &e.sender, Membership::Left)?;
        }
        THREAD => {
            if let Ok(thread) = serde_json::from_value::<ThreadBody>(e.body.clone()) {
                for text in &thread.envelopes {
                    let Ok(signed) = serde_json::from_str::<SignedEnvelope>(text) else {
                        continue;
                    };
                    // A thread inside a thread replays nothing more.
                    if signed.envelope.kind != THREAD
                        && signed.envelope.case_id == e.case_id
                        && verifies_with_pin(conn, &signed)? == Some(true)
                    {
                        apply(conn, &signed.envelope)?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}
