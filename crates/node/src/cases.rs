//! Cases: recording their envelopes, checking lifecycle transitions, and
//! keeping each case row (state, deadlines' reference times) derived from
//! the thread, the same way on both nodes.

use liaison_core::case::{BodySummary, CaseKind, TRANSITION};
use liaison_core::envelope::SignedEnvelope;
use liaison_core::incident::{UPDATE, UpdateBody};
use liaison_core::kind::{Refusal, RefusalCode};
use liaison_core::legal::TransitionBody;
use liaison_core::lifecycle::{Action, Actor, CaseState, State, Transition, resolve};
use liaison_store::Connection;
use liaison_store::StoreError;
use liaison_store::WriteTx;
use liaison_store::federation::{self as db, CaseRow, Direction};

/// A transition of a thread with what deadlines need to know of it.
struct Step {
    transition: Transition,
    /// When this node recorded it: deadlines and response times count from
    /// times this node's own log fixes, never from what a sender claims.
    recorded: String,
    /// When its sender signed it (bounded on arrival: not before the
    /// envelope it follows, not after its arrival plus the clock skew).
    created: String,
    days: u32,
}

fn steps(conn: &Connection, case: &CaseRow) -> Result<Vec<Step>, StoreError> {
    let mut out = Vec::new();
    for row in db::envelopes_of_case_of_kind(conn, &case.id, TRANSITION)? {
        let signed: SignedEnvelope = serde_json::from_str(&row.signed_json).map_err(|e| {
            StoreError::Corrupt(format!("stored envelope {} is unreadable: {e}", row.id))
        })?;
        // Stored transitions were checked on arrival; one that no longer
        // parses cannot move the case.
        let Ok(body) = TransitionBody::check(&signed.envelope.body) else {
            continue;
        };
        out.push(Step {
            transition: Transition {
                hash: row.hash.clone(),
                parent: body.parent,
                action: body.action,
                // Everyone on the roster but the requesting party is on the requested side.
                by_requested: row.sender != case.initiator,
            },
            recorded: row.recorded_at.clone(),
            created: row.created.clone(),
            days: body.days.unwrap_or(0),
        });
    }
    Ok(out)
}

/// Whether the requested party has the opening envelope (the receipt is the proof).
fn delivered_at(conn: &Connection, case: &CaseRow) -> Result<Option<String>, StoreError> {
    let Some(root) = &case.root_hash else {
        return Ok(None);
    };
    let Some(row) = db::envelope_by_hash(conn, root)? else {
        return Ok(None);
    };
    Ok(match row.direction {
        Direction::In => Some(row.recorded_at),
        Direction::Out => db::delivered_at(conn, root)?,
    })
}

/// Recomputes a case row from its thread and writes it if it changed (an
/// unchanged row is not rewritten: each write moves three index entries).
/// Returns the row as it now stands.
pub(crate) fn recompute(conn: &Connection, case_id: &str) -> Result<Option<CaseRow>, StoreError> {
    let Some(mut case) = db::case_by_id(conn, case_id)? else {
        return Ok(None);
    };
    // Arrival order, as this node's log fixed it: a sender's future date
    // cannot move a thread to the top of the inbox.
    let updated = db::latest_recorded(conn, case_id)?.unwrap_or(case.created.clone());
    let (state, times) = derive(conn, &case)?;
    if case.state != state || case.updated != updated || case.times != times {
        db::update_case_state(conn, case_id, state, &updated, &times)?;
        (case.state, case.updated, case.times) = (state, updated, times);
    }
    Ok(Some(case))
}

/// A case's state and reference times, from its thread.
fn derive(conn: &Connection, case: &CaseRow) -> Result<(CaseState, db::CaseTimes), StoreError> {
    let kind = case.kind;
    if !kind.has_lifecycle() {
        return Ok((CaseState::Open, db::CaseTimes::default()));
    }
    let root = case.root_hash.clone().unwrap_or_default();
    let delivered = delivered_at(conn, case)?;
    let steps = steps(conn, case)?;
    let transitions: Vec<Transition> = steps.iter().map(|s| s.transition.clone()).collect();
    let (state, chain) = resolve(
        &root,
        delivered.is_some(),
        kind == CaseKind::Preservation,
        &transitions,
    );
    let on_chain = |action: Action| {
        steps
            .iter()
            .filter(|s| s.transition.action == action && chain.contains(&s.transition.hash))
            .map(|s| s.recorded.clone())
            .min()
    };
    let times = db::CaseTimes {
        delivered_at: delivered,
        acknowledged_at: on_chain(Action::Acknowledge),
        executed_at: on_chain(Action::ReportExecuted),
        extension_days: steps
            .iter()
            .filter(|s| s.transition.action == Action::Extend && chain.contains(&s.transition.hash))
            .map(|s| i64::from(s.days))
            .sum(),
    };
    Ok((CaseState::Lifecycle(state), times))
}

/// The row of a case its opening envelope creates, as [`recompute`] would
/// derive it from that one envelope (a test keeps the two equal): written
/// once, not inserted and then recomputed.
pub(crate) fn opening_row(
    me: &str,
    e: &liaison_core::envelope::Envelope,
    hash: &str,
    direction: Direction,
    recorded: &str,
    summary: &BodySummary,
) -> Result<CaseRow, StoreError> {
    let kind = CaseKind::parse(&e.kind).map_err(|err| StoreError::Invalid(err.to_string()))?;
    // Each recipient answers for itself, but an order is answered by its
    // provider: the authority notified of it answers for nothing.
    let (initiator, responder) = match direction {
        Direction::Out => (me.to_owned(), e.recipient.clone()),
        Direction::In if kind == CaseKind::ProductionOrder => {
            (e.sender.clone(), e.recipient.clone())
        }
        Direction::In => (e.sender.clone(), me.to_owned()),
    };
    // The requested party holds the opening from the moment it recorded it;
    // the requesting party once the receipt comes back.
    let delivered = (direction == Direction::In).then(|| recorded.to_owned());
    let (state, times) = if kind.has_lifecycle() {
        let (state, _) = resolve(
            hash,
            delivered.is_some(),
            kind == CaseKind::Preservation,
            &[],
        );
        let times = db::CaseTimes {
            delivered_at: delivered,
            ..db::CaseTimes::default()
        };
        (CaseState::Lifecycle(state), times)
    } else {
        (CaseState::Open, db::CaseTimes::default())
    };
    Ok(CaseRow {
        id: e.case_id.clone(),
        kind,
        outgoing: direction == Direction::Out,
        initiator,
        responder,
        subject: summary.subject.clone(),
        state,
        created: e.created.clone(),
        updated: recorded.to_owned(),
        offence: summary.offence.clone(),
        urgent: summary.urgent,
        links: summary.links.clone(),
        root_hash: Some(hash.to_owned()),
        preservation_days: summary.preservation_days,
        tlp: summary.tlp,
        times,
    })
}

/// The steps from the root to envelope `at` (the root or a transition), in order.
fn path_to<'a>(root: &str, steps: &'a [Step], at: &str) -> Option<Vec<&'a Step>> {
    let mut path = Vec::new();
    let mut cursor = at.to_owned();
    while cursor != root {
        let step = steps.iter().find(|s| s.transition.hash == cursor)?;
        path.push(step);
        cursor = step.transition.parent.clone();
        if path.len() > steps.len() {
            return None;
        }
    }
    path.reverse();
    Some(path)
}

/// When a preservation's period ends along `path`: from the report that
/// the data is preserved (the earlier of when it was signed and recorded),
/// plus the days asked for and every extension. `None` before that report.
fn period_end(case: &CaseRow, path: &[&Step]) -> Option<jiff::Timestamp> {
    let executed = path
        .iter()
        .find(|s| s.transition.action == Action::ReportExecuted)?;
    let start = [&executed.recorded, &executed.created]
        .iter()
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .min()?;
    let days = i64::from(case.preservation_days.unwrap_or(60))
        + path
            .iter()
            .filter(|s| s.transition.action == Action::Extend)
            .map(|s| i64::from(s.days))
            .sum::<i64>();
    start
        .checked_add(jiff::SignedDuration::from_hours(days.saturating_mul(24)))
        .ok()
}

/// When the preservation period of a case ends, on its current chain.
pub(crate) fn preservation_ends(
    conn: &Connection,
    case: &CaseRow,
) -> Result<Option<jiff::Timestamp>, StoreError> {
    let root = case.root_hash.clone().unwrap_or_default();
    let steps = steps(conn, case)?;
    let transitions: Vec<Transition> = steps.iter().map(|s| s.transition.clone()).collect();
    let (_, chain) = resolve(
        &root,
        delivered_at(conn, case)?.is_some(),
        true,
        &transitions,
    );
    let at = chain.last().cloned().unwrap_or(root.clone());
    Ok(path_to(&root, &steps, &at).and_then(|p| period_end(case, &p)))
}

/// Whether `created` (an envelope's signed time) is acceptable at `now`:
/// not after its arrival plus `skew_secs`, and not before `parent_created`
/// (the envelope it follows). Late arrivals (after an outage) are fine.
pub(crate) fn check_created(
    created: &str,
    parent_created: Option<&str>,
    now: jiff::Timestamp,
    skew_secs: u64,
) -> Result<(), Refusal> {
    let t = created.parse::<jiff::Timestamp>().map_err(|_| {
        Refusal::new(
            RefusalCode::BadEnvelope,
            "created is not an RFC 3339 time".to_owned(),
        )
    })?;
    let skew = jiff::SignedDuration::from_secs(i64::try_from(skew_secs).unwrap_or(i64::MAX));
    if now.checked_add(skew).is_ok_and(|limit| t > limit) {
        return Err(Refusal::new(
            RefusalCode::FromTheFuture,
            format!(
                "the envelope is dated {t}, more than {skew_secs} s after its arrival at {now}"
            ),
        ));
    }
    if let Some(p) = parent_created.and_then(|p| p.parse::<jiff::Timestamp>().ok())
        && t < p
    {
        return Err(Refusal::new(
            RefusalCode::BeforeParent,
            format!("the envelope is dated {t}, before the envelope it follows ({p})"),
        ));
    }
    Ok(())
}

/// The signed time of the envelope an arriving one follows: a transition's
/// parent, or the case's opening envelope for anything else in a case.
pub(crate) fn parent_created(
    conn: &Connection,
    signed: &SignedEnvelope,
) -> Result<Option<String>, StoreError> {
    let e = &signed.envelope;
    let parent = if e.kind == TRANSITION {
        TransitionBody::check(&e.body).ok().map(|b| b.parent)
    } else {
        db::case_by_id(conn, &e.case_id)?.and_then(|c| c.root_hash)
    };
    let Some(parent) = parent else {
        return Ok(None);
    };
    Ok(db::envelope_by_hash(conn, &parent)?.map(|r| r.created))
}

/// The state a thread was in at envelope `at` (the root or a transition).
fn state_at(root: &str, preservation: bool, steps: &[Step], at: &str) -> Option<State> {
    path_to(root, steps, at)?
        .iter()
        .try_fold(State::Delivered, |s, step| {
            step.transition.action.apply(s, preservation).ok()
        })
}

/// Whether `sender` (a participant: arrivals check the roster first) may add
/// an update to `case` now (`retag`: the update changes the marking, which
/// only the notifying party may do). A closed thread takes no update from
/// this node; on arrival (`arriving`) it is not refused for being closed,
/// since whether another participant's closing came first depends on
/// arrival order, and every node must keep the same envelopes.
pub(crate) fn check_update(
    case: &CaseRow,
    sender: &str,
    retag: bool,
    arriving: bool,
) -> Result<(), Refusal> {
    let kind = case.kind;
    if !kind.takes_updates() {
        return Err(Refusal::new(
            RefusalCode::WrongCase,
            format!(
                "case {} is a {}: it takes no updates",
                case.id,
                kind.as_str()
            ),
        ));
    }
    if !arriving && case.state.is_terminal() {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "case {} is {}: it takes no more updates",
                case.id, case.state
            ),
        ));
    }
    if retag && sender != case.initiator {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "only {} (who sent case {}) may change its TLP marking",
                case.initiator, case.id
            ),
        ));
    }
    Ok(())
}

/// Plans this node's transition on a case: checks that we may take it now
/// and names the envelope it follows.
pub(crate) fn plan(
    conn: &Connection,
    me: &str,
    case_id: &str,
    action: Action,
    mut body: TransitionBody,
) -> Result<serde_json::Value, StoreError> {
    let case = db::case_by_id(conn, case_id)?
        .ok_or_else(|| StoreError::NotFound(format!("no case {case_id}")))?;
    let kind = case.kind;
    if !kind.has_lifecycle() {
        return Err(StoreError::Invalid(format!(
            "case {case_id} is a {} and has no lifecycle",
            kind.as_str()
        )));
    }
    if kind == CaseKind::ProductionOrder && case.initiator != me && case.responder != me {
        return Err(StoreError::Conflict(format!(
            "this authority is notified of case {case_id}: it objects or consents (`case object`, `case consent`) and takes no lifecycle action"
        )));
    }
    let we_requested = case.initiator == me;
    let allowed = match action.actor() {
        Actor::Requesting => we_requested,
        Actor::Requested => !we_requested,
    };
    if !allowed {
        let who = if we_requested {
            "the requesting party"
        } else {
            "the requested party"
        };
        return Err(StoreError::Conflict(format!(
            "{} is not an action for {who} (this node is {who} of case {case_id})",
            action.as_str()
        )));
    }
    let root = case.root_hash.clone().unwrap_or_default();
    let delivered = delivered_at(conn, &case)?.is_some();
    let steps = steps(conn, &case)?;
    let transitions: Vec<Transition> = steps.iter().map(|s| s.transition.clone()).collect();
    let (state, chain) = resolve(
        &root,
        delivered,
        kind == CaseKind::Preservation,
        &transitions,
    );
    action
        .apply(state, kind == CaseKind::Preservation)
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    body.action = action;
    body.parent = chain.last().cloned().unwrap_or(root);
    let body = serde_json::to_value(&body).map_err(|e| StoreError::Invalid(e.to_string()))?;
    TransitionBody::check(&body).map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(body)
}

/// Checks a transition that arrived from `sender` against the thread this
/// node holds. Returns a refusal code and reason.
pub(crate) fn check_arrival(
    conn: &Connection,
    me: &str,
    signed: &SignedEnvelope,
    skew_secs: u64,
) -> Result<(), Refusal> {
    let e = &signed.envelope;
    let internal = |err: StoreError| Refusal::new(RefusalCode::Internal, err.to_string());
    let case = db::case_by_id(conn, &e.case_id)
        .map_err(internal)?
        .ok_or_else(|| {
            // Another participant's opening may not have arrived yet; the
            // sender's own would have (its envelopes arrive in order).
            if liaison_core::case::opener(&e.case_id) == Some(e.sender.as_str()) {
                Refusal::new(
                    RefusalCode::UnknownCase,
                    format!("case {} is not known here", e.case_id),
                )
            } else {
                Refusal::new(
                    RefusalCode::NotYet,
                    format!("case {} is not known here yet", e.case_id),
                )
            }
        })?;
    let kind = case.kind;
    if !kind.has_lifecycle() {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!("case {} has no lifecycle", e.case_id),
        ));
    }
    let body = TransitionBody::check(&e.body)
        .map_err(|err| Refusal::new(RefusalCode::BadEnvelope, err.to_string()))?;
    // The authority notified of an order answers with notices, not steps.
    if kind == CaseKind::ProductionOrder && e.sender != case.initiator && e.sender != case.responder
    {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "{} takes no lifecycle action in case {}",
                e.sender, e.case_id
            ),
        ));
    }
    let by_requested = e.sender != case.initiator;
    let allowed = match body.action.actor() {
        Actor::Requesting => !by_requested,
        Actor::Requested => by_requested,
    };
    if !allowed {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "{} may not {} case {}",
                e.sender,
                body.action.as_str(),
                e.case_id
            ),
        ));
    }
    let root = case.root_hash.clone().unwrap_or_default();
    let steps = steps(conn, &case).map_err(internal)?;
    let preservation = kind == CaseKind::Preservation;
    if body.parent != root && !steps.iter().any(|s| s.transition.hash == body.parent) {
        // Unknown here: the envelope it follows (another participant's) may
        // not have arrived yet. One known elsewhere is in no case of this thread.
        // Only a participant other than the sender and this node can have
        // sent it: the sender's own envelopes arrive in order.
        let known = db::envelope_by_hash(conn, &body.parent)
            .map_err(internal)?
            .is_some();
        let others = db::participants(conn, &case.id)
            .map_err(internal)?
            .iter()
            .any(|p| p.party != e.sender && p.party != me);
        if !known && others {
            return Err(Refusal::new(
                RefusalCode::NotYet,
                format!(
                    "the envelope it follows ({}) has not arrived here yet",
                    body.parent
                ),
            ));
        }
    }
    let Some(state) = state_at(&root, preservation, &steps, &body.parent) else {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "the envelope it follows ({}) is not in case {}",
                body.parent, e.case_id
            ),
        ));
    };
    body.action
        .apply(state, preservation)
        .map_err(|err| Refusal::new(RefusalCode::IllegalTransition, err.to_string()))?;
    // A preservation expires only once its period (with extensions) ended.
    if body.action == Action::Expire {
        let ends = path_to(&root, &steps, &body.parent).and_then(|p| period_end(&case, &p));
        let now = jiff::Timestamp::now();
        let skew = jiff::SignedDuration::from_secs(i64::try_from(skew_secs).unwrap_or(i64::MAX));
        match ends {
            Some(end) if now.checked_add(skew).is_ok_and(|t| t >= end) => {}
            Some(end) => {
                return Err(Refusal::new(
                    RefusalCode::IllegalTransition,
                    format!(
                        "the preservation period of case {} ends at {end}: it cannot expire before",
                        e.case_id
                    ),
                ));
            }
            None => {
                return Err(Refusal::new(
                    RefusalCode::IllegalTransition,
                    format!(
                        "case {}: no preservation was reported, so no period can have ended",
                        e.case_id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Records an envelope of a case (opening it when `opening` is given) and
/// updates the case row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    tx: &mut WriteTx<'_>,
    me: &str,
    signed: &SignedEnvelope,
    signed_json: String,
    hash: &str,
    direction: Direction,
    log_index: u64,
    now: &str,
    opening: Option<&BodySummary>,
    stems: &crate::search::Stems,
) -> Result<(), StoreError> {
    let conn = tx.conn();
    let e = &signed.envelope;
    let opened = match opening {
        Some(summary) => {
            let row = opening_row(me, e, hash, direction, now, summary)?;
            db::insert_case(conn, &row)?;
            db::record_opening_roster(conn, &e.case_id, &liaison_core::roster::opening_roster(e))?;
            Some(row)
        }
        None => None,
    };
    crate::envelopes::insert_envelope(conn, signed, signed_json, hash, direction, log_index, now)?;
    crate::membership::apply(conn, e)?;
    let case = match opened {
        Some(row) => row,
        None => {
            // Only the notifying party re-marks its incident (checked on arrival too).
            if e.kind == UPDATE
                && let Ok((_, Some(tlp))) = UpdateBody::check(&e.body)
                && db::case_by_id(conn, &e.case_id)?.is_some_and(|c| c.initiator == e.sender)
            {
                db::set_case_tlp(conn, &e.case_id, tlp)?;
            }
            let Some(case) = recompute(conn, &e.case_id)? else {
                return Ok(());
            };
            case
        }
    };
    // Incidents are published as STIX to the node's TAXII collection, in this transaction.
    if case.kind == CaseKind::Incident {
        crate::stix::publish_incident(conn, &e.case_id)?;
    }
    // The thread is searchable in both languages' titles.
    let parts = crate::search::TitleParts {
        kind: case.kind.as_str(),
        subject: &case.subject,
        offence: case.offence.as_deref(),
    };
    crate::search::index_envelope(tx, hash, &e.case_id, &parts, stems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    proptest! {
        #[test]
        fn created_is_accepted_exactly_between_its_parent_and_arrival_plus_skew(
            created in -100_000i64..100_000,
            parent in proptest::option::of(-100_000i64..100_000),
            skew in 0u64..1000,
        ) {
            let now = ts(0);
            let result = check_created(
                &ts(created).to_string(),
                parent.map(|p| ts(p).to_string()).as_deref(),
                now,
                skew,
            );
            let ok = created <= skew as i64 && parent.is_none_or(|p| created >= p);
            prop_assert_eq!(result.is_ok(), ok, "{:?}", result);
        }

        #[test]
        fn created_that_is_not_a_time_is_refused(s in "\\PC{0,30}") {
            prop_assume!(s.parse::<jiff::Timestamp>().is_err());
            prop_assert!(check_created(&s, None, ts(0), 300).is_err());
        }
    }

    fn step(action: Action, recorded: i64, created: i64, days: u32) -> Step {
        Step {
            transition: Transition {
                hash: format!("{action:?}{recorded}"),
                parent: String::new(),
                action,
                by_requested: true,
            },
            recorded: ts(recorded).to_string(),
            created: ts(created).to_string(),
            days,
        }
    }

    /// An opening's row is written once, in its final form: it must be
    /// what recomputing it from the thread gives, for every kind, in both
    /// directions.
    #[tokio::test]
    async fn an_opening_row_is_what_recomputing_it_gives() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tmp = tempfile::tempdir().unwrap();
        let mut o = crate::InitOptions::new("us", "US");
        o.listen = "127.0.0.1:0".into();
        o.app_listen = "127.0.0.1:0".into();
        let node = crate::init(&tmp.path().join("n"), &o).await.unwrap();
        let store = node.store().clone();
        for kind in liaison_core::case::ALL_KINDS {
            for direction in [Direction::Out, Direction::In] {
                let (sender, recipient) = match direction {
                    Direction::Out => ("us", "ru"),
                    Direction::In => ("ru", "us"),
                };
                let id = crate::envelopes::random_id().unwrap();
                let envelope = liaison_core::envelope::Envelope {
                    id: id.clone(),
                    sender: sender.into(),
                    recipient: recipient.into(),
                    also_to: Vec::new(),
                    kind: kind.as_str().into(),
                    case_id: format!("{sender}-{}", &id[..20]),
                    // Signed a while before it is recorded.
                    created: (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60))
                        .to_string(),
                    body: serde_json::json!({"subject": "Opening"}),
                    attachments: Vec::new(),
                };
                let signed = envelope.sign(&store.log_signer()).unwrap();
                let summary = BodySummary {
                    subject: "Opening".into(),
                    offence: Some("illegal_access".into()),
                    urgent: true,
                    preservation_days: Some(90),
                    links: Vec::new(),
                    tlp: liaison_core::tlp::Tlp::Amber,
                };
                let case_id = signed.envelope.case_id.clone();
                let (written, recomputed) = store
                    .write(move |tx| {
                        let hash = signed.envelope.hash().unwrap().to_hex();
                        let json = serde_json::to_string(&signed).unwrap();
                        let index = tx.append_leaf(b"entry".to_vec());
                        let now = crate::now_rfc3339();
                        let stems = crate::search::stems_of(&signed.envelope.body, None);
                        record(
                            tx,
                            "us",
                            &signed,
                            json,
                            &hash,
                            direction,
                            index,
                            &now,
                            Some(&summary),
                            &stems,
                        )?;
                        let written = db::case_by_id(tx.conn(), &case_id)?;
                        let recomputed = recompute(tx.conn(), &case_id)?;
                        Ok((written, recomputed))
                    })
                    .await
                    .unwrap()
                    .value;
                let written = written.unwrap();
                assert_eq!(
                    Some(&written),
                    recomputed.as_ref(),
                    "{kind:?} {direction:?}"
                );
                let expected = match (kind.has_lifecycle(), direction) {
                    (false, _) => "open",
                    (true, Direction::Out) => "sent",
                    (true, Direction::In) => "delivered",
                };
                assert_eq!(written.state.as_str(), expected, "{kind:?} {direction:?}");
            }
        }
    }

    #[test]
    fn a_period_runs_from_the_preservation_report_plus_extensions() {
        let mut case = CaseRow {
            id: "us-1".into(),
            kind: CaseKind::Preservation,
            initiator: "us".into(),
            responder: "ru".into(),
            outgoing: true,
            subject: "s".into(),
            state: CaseState::Lifecycle(State::Executed),
            created: ts(0).to_string(),
            updated: ts(0).to_string(),
            offence: None,
            urgent: false,
            links: vec![],
            root_hash: Some("r".into()),
            preservation_days: Some(60),
            tlp: liaison_core::tlp::Tlp::Clear,
            times: db::CaseTimes::default(),
        };
        let ack = step(Action::Acknowledge, 10, 10, 0);
        let done = step(Action::ReportExecuted, 100, 90, 0);
        let more = step(Action::Extend, 200, 200, 30);
        assert_eq!(period_end(&case, &[&ack]), None);
        // The earlier of signed and recorded times starts it.
        assert_eq!(
            period_end(&case, &[&ack, &done]),
            Some(ts(90 + 60 * 86_400))
        );
        assert_eq!(
            period_end(&case, &[&ack, &done, &more]),
            Some(ts(90 + 90 * 86_400))
        );
        case.preservation_days = None;
        assert_eq!(period_end(&case, &[&done]), Some(ts(90 + 60 * 86_400)));
    }
}
