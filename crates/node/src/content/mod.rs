//! Terrorist-content reports: their items, each answered by the party the
//! report went to (`checked`, `removed`, `still_online`, `disputed`), the
//! statuses both nodes derive from the thread, and a timer per urgency tier
//! while items are unanswered. Agreed hashes join the shared hash lists
//! (`hashlist`).

mod hashlist;

pub(crate) use hashlist::record_arrival;
pub use hashlist::{
    HashMatch, HashQuery, HashSync, LoadedIndex, LookupResult, MAX_RADIUS, SharedIndex,
};

use liaison_core::case::CaseKind;
use liaison_core::content::{
    ContentItem, ContentReport, ITEM_STATUS, ItemState, ItemStatusBody, UrgencyTier, check_answers,
    item_states,
};
use liaison_core::envelope::SignedEnvelope;
use liaison_core::kind::{Refusal, RefusalCode};
use liaison_core::roster::Role;
use liaison_store::Connection;
use liaison_store::StoreError;
use liaison_store::federation::{self as db, CaseRow};
use liaison_store::hashes::{self as hdb};
use serde::Serialize;

use crate::envelopes::Sent;
use crate::{Node, NodeError};

/// The report a case opened with.
pub(crate) fn report_of(
    conn: &Connection,
    case: &CaseRow,
) -> Result<Option<ContentReport>, StoreError> {
    if case.kind != CaseKind::ContentReport {
        return Ok(None);
    }
    let Some(root) = &case.root_hash else {
        return Ok(None);
    };
    let Some(row) = db::envelope_by_hash(conn, root)? else {
        return Ok(None);
    };
    let signed: SignedEnvelope = serde_json::from_str(&row.signed_json).map_err(|e| {
        StoreError::Corrupt(format!("stored envelope {} is unreadable: {e}", row.id))
    })?;
    Ok(ContentReport::check(&signed.envelope.body)
        .ok()
        .map(|(r, _)| r))
}

/// Each party a report went to with where each item stands for it.
pub(crate) type ByProvider = Vec<(String, Vec<ItemState>)>;

/// The report and where each item stands for each party it went to (the
/// requested participants, in roster order), each from that party's own
/// answers applied in (created, hash) order.
pub(crate) fn states_by_provider(
    conn: &Connection,
    case: &CaseRow,
) -> Result<Option<(ContentReport, ByProvider)>, StoreError> {
    let Some(report) = report_of(conn, case)? else {
        return Ok(None);
    };
    let providers: Vec<String> = db::participants(conn, &case.id)?
        .into_iter()
        .filter(|p| p.role == Role::Requested)
        .map(|p| p.party)
        .collect();
    let mut answers: Vec<(String, String, String, ItemStatusBody)> = Vec::new();
    for row in db::envelopes_of_case_of_kind(conn, &case.id, ITEM_STATUS)? {
        // Only the parties the report went to answer (checked on arrival too).
        if !providers.contains(&row.sender) {
            continue;
        }
        let signed: SignedEnvelope = serde_json::from_str(&row.signed_json).map_err(|e| {
            StoreError::Corrupt(format!("stored envelope {} is unreadable: {e}", row.id))
        })?;
        if let Ok(body) = ItemStatusBody::check(&signed.envelope.body) {
            answers.push((row.sender, row.created, row.hash, body));
        }
    }
    answers.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
    let by_provider = providers
        .into_iter()
        .map(|party| {
            let states = item_states(
                report.items.len(),
                answers
                    .iter()
                    .filter(|a| a.0 == party)
                    .map(|(_, c, _, b)| (c.as_str(), b)),
            );
            (party, states)
        })
        .collect();
    Ok(Some((report, by_provider)))
}

/// Whether `sender` may send this `item_status` body on `case` now.
pub(crate) fn check_item_status(
    conn: &Connection,
    case: &CaseRow,
    sender: &str,
    body: &serde_json::Value,
    arriving: bool,
) -> Result<(), Refusal> {
    let internal = |e: StoreError| Refusal::new(RefusalCode::Internal, e.to_string());
    if case.kind != CaseKind::ContentReport {
        return Err(Refusal::new(
            RefusalCode::WrongCase,
            format!(
                "case {} is a {}: items are answered only on content reports",
                case.id,
                case.kind.as_str()
            ),
        ));
    }
    // Checked where the answer is sent: on arrival, whether another
    // participant's closing came first would depend on arrival order.
    if !arriving && case.state.is_terminal() {
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "case {} is {}: its items take no more answers",
                case.id, case.state
            ),
        ));
    }
    let body = ItemStatusBody::check(body)
        .map_err(|e| Refusal::new(RefusalCode::BadEnvelope, e.to_string()))?;
    let Some((_, by_provider)) = states_by_provider(conn, case).map_err(internal)? else {
        return Err(Refusal::new(
            RefusalCode::WrongCase,
            format!("case {} has no readable report", case.id),
        ));
    };
    let Some((_, states)) = by_provider.iter().find(|(p, _)| p == sender) else {
        let parties: Vec<&str> = by_provider.iter().map(|(p, _)| p.as_str()).collect();
        return Err(Refusal::new(
            RefusalCode::IllegalTransition,
            format!(
                "only {} (the parties the report went to) answer its items",
                parties.join(", ")
            ),
        ));
    };
    check_answers(states, &body)
        .map_err(|e| Refusal::new(RefusalCode::IllegalTransition, e.to_string()))
}

/// One item of a report as the CLI, API and UI show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    #[schema(value_type = u32)]
    pub index: usize,
    #[serde(flatten)]
    #[schema(inline)]
    pub item: ContentItem,
    /// Where it stands: this node's own answers on a node the report went
    /// to, else the answers of the first party it went to.
    pub state: ItemState,
    /// Where it stands for each party the report went to, in roster order.
    pub by_provider: Vec<ProviderState>,
    /// When the item must be removed or answered (while it is open and a
    /// party it went to has not answered it).
    pub due: Option<String>,
    pub overdue: bool,
    /// The hash-list entry the item became (hash items agreed as removed).
    pub listed_as: Option<String>,
}

/// Where an item stands for one party the report went to.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderState {
    pub party: String,
    pub state: ItemState,
}

fn tier_seconds(cfg: &crate::config::ContentSection, tier: UrgencyTier) -> u64 {
    match tier {
        UrgencyTier::RemovalOrder => u64::from(cfg.removal_order_minutes) * 60,
        UrgencyTier::Crisis => u64::from(cfg.crisis_minutes) * 60,
        UrgencyTier::Priority => u64::from(cfg.priority_hours) * 3600,
        UrgencyTier::Standard => u64::from(cfg.standard_hours) * 3600,
    }
}

/// The name an item deadline of `tier` has (escalations are keyed by it).
pub fn deadline_name(tier: UrgencyTier) -> &'static str {
    match tier {
        UrgencyTier::RemovalOrder => "removal_order",
        UrgencyTier::Crisis => "removal_crisis",
        UrgencyTier::Priority => "removal_priority",
        UrgencyTier::Standard => "removal_standard",
    }
}

impl Node {
    /// The items of a content report with their statuses and timers.
    pub fn content_items(&self, case: &CaseRow) -> Result<Vec<ItemView>, NodeError> {
        let found = self.store.read(|c| {
            let Some((report, by_provider)) = states_by_provider(c, case)? else {
                return Ok(None);
            };
            let mut listed = Vec::new();
            for i in 0..report.items.len() {
                let entry_id = format!("{}#{i}", case.id);
                listed.push(hdb::by_entry(c, &case.initiator, &entry_id)?.map(|_| entry_id));
            }
            Ok(Some((report, by_provider, listed)))
        })?;
        let Some((report, by_provider, listed)) = found else {
            return Err(NodeError::Invalid(format!(
                "case {} is not a content report",
                case.id
            )));
        };
        // A provider sees its own answers; the reporter the first party's.
        let mine = by_provider
            .iter()
            .position(|(p, _)| p == self.party.as_str());
        let shown = mine.unwrap_or(0);
        // Timers run from delivery: the provider's side cannot act before.
        let start = case
            .times
            .delivered_at
            .as_deref()
            .and_then(|d| d.parse::<jiff::Timestamp>().ok());
        let open_case = !case.state.is_terminal();
        let now = jiff::Timestamp::now();
        Ok(report
            .items
            .into_iter()
            .zip(listed)
            .enumerate()
            .map(|(index, (item, listed_as))| {
                let all: Vec<ProviderState> = by_provider
                    .iter()
                    .filter_map(|(party, states)| {
                        Some(ProviderState {
                            party: party.clone(),
                            state: states.get(index)?.clone(),
                        })
                    })
                    .collect();
                // A provider's timer runs on its own answer; the reporter's
                // while any party it went to has not answered.
                let unanswered = |p: &ProviderState| !p.state.status.is_answered();
                let waiting = match mine {
                    Some(i) => all.get(i).is_some_and(unanswered),
                    None => all.iter().any(unanswered),
                };
                let due = start.filter(|_| open_case && waiting).map(|s| {
                    s.checked_add(jiff::SignedDuration::from_secs(tier_seconds(
                        &self.config.content,
                        item.urgency,
                    )
                        as i64))
                        .unwrap_or(s)
                });
                let state = all
                    .get(shown)
                    .map(|p| p.state.clone())
                    .unwrap_or(ItemState {
                        status: liaison_core::content::ItemStatus::Alerted,
                        reason: String::new(),
                        at: None,
                    });
                ItemView {
                    index,
                    overdue: due.is_some_and(|d| now >= d),
                    due: due.map(|d| d.to_string()),
                    item,
                    state,
                    by_provider: all,
                    listed_as,
                }
            })
            .collect())
    }

    /// Per-tier item deadlines of an open content report: one per tier that
    /// still has unanswered items, counted from delivery.
    pub(crate) fn item_deadlines(&self, case: &CaseRow) -> Vec<crate::deadlines::Deadline> {
        let Ok(items) = self.content_items(case) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for tier in UrgencyTier::ALL {
            let due = items
                .iter()
                .filter(|i| i.item.urgency == *tier)
                .filter_map(|i| i.due.clone())
                .min();
            let Some(due) = due else { continue };
            let (Ok(d), Some(start)) = (
                due.parse::<jiff::Timestamp>(),
                case.times.delivered_at.clone(),
            ) else {
                continue;
            };
            let Ok(s) = start.parse::<jiff::Timestamp>() else {
                continue;
            };
            let span = d.as_second() - s.as_second();
            let warn = jiff::Timestamp::from_second(
                s.as_second()
                    + span * i64::from(self.config.deadlines.warning_percent.min(100)) / 100,
            )
            .unwrap_or(d);
            out.push(crate::deadlines::Deadline {
                name: deadline_name(*tier),
                start,
                warn: warn.to_string(),
                due,
            });
        }
        out
    }

    /// Answers items of a content report addressed to this party: a signed
    /// `item_status` envelope in the thread.
    pub async fn answer_items(
        &self,
        case_id: &str,
        body: serde_json::Value,
    ) -> Result<Sent, NodeError> {
        let case = self
            .store
            .read(|c| db::case_by_id(c, case_id))?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {case_id}"))))?;
        ItemStatusBody::check(&body)?;
        let me = self.party.to_string();
        let checked = {
            let (case, body) = (case.clone(), body.clone());
            self.store
                .read(move |c| Ok(check_item_status(c, &case, &me, &body, false)))?
        };
        if let Err(refusal) = checked {
            return Err(match refusal.code {
                RefusalCode::BadEnvelope => NodeError::Invalid(refusal.message),
                _ => NodeError::Store(StoreError::Conflict(refusal.message)),
            });
        }
        self.send_in_case(ITEM_STATUS, case_id, body, Vec::new())
            .await
    }
}
