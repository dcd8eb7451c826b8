//! Aggregate figures computed from the cases themselves: what the dashboard
//! charts and the transparency report publishes (never content), including
//! each counterpart's responsiveness to requests for assistance (UN GGE
//! norm 13(h)).

use std::collections::BTreeMap;

use jiff::Timestamp;
use liaison_core::case::CaseKind;
use liaison_core::lifecycle::State;
use liaison_store::federation::{self as db, CaseFigures};
use serde::Serialize;

use crate::{Node, NodeError};

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub generated_at: String,
    /// Cases by kind → state → (received, sent).
    pub by_kind_state: BTreeMap<String, BTreeMap<String, (u64, u64)>>,
    pub open_received: u64,
    pub open_sent: u64,
    /// Open legal cases with a deadline already due.
    pub overdue: u64,
    /// Seconds from delivery to acknowledgement, for requests received / sent.
    pub ack_received: Vec<i64>,
    pub ack_sent: Vec<i64>,
    /// Seconds from acknowledgement to execution.
    pub exec_received: Vec<i64>,
    pub exec_sent: Vec<i64>,
    /// Responsiveness of each party to requests for assistance, ours included.
    pub responsiveness: Vec<Responsiveness>,
    /// The log heads these figures were computed at.
    pub checkpoints: Vec<(String, String)>,
    /// Ping tests of each party's 24/7 contact: response times, pings
    /// missed within its stated hours, and whether it is flagged.
    pub pings: Vec<crate::operations::PingStats>,
}

#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Responsiveness {
    pub party: String,
    /// Legal requests it received (from this node, or — for this node — from anyone).
    pub requests: u64,
    pub acknowledged: u64,
    pub executed: u64,
    pub refused: u64,
    pub median_ack_secs: Option<i64>,
}

fn secs_between(a: &Option<String>, b: &Option<String>) -> Option<i64> {
    let a: Timestamp = a.as_deref()?.parse().ok()?;
    let b: Timestamp = b.as_deref()?.parse().ok()?;
    Some((b.as_second() - a.as_second()).max(0))
}

pub fn median(v: &[i64]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    Some(s[s.len() / 2])
}

impl Node {
    pub fn stats(&self) -> Result<Stats, NodeError> {
        let me = self.party.as_str();
        let figures = self.store.read(db::case_figures)?;
        let mut s = Stats {
            generated_at: crate::now_rfc3339(),
            pings: self.ping_stats()?,
            ..Stats::default()
        };
        let mut per_party: BTreeMap<String, (Responsiveness, Vec<i64>)> = BTreeMap::new();
        for f in &figures {
            let sent = f.initiator == me;
            let entry = s
                .by_kind_state
                .entry(f.kind.clone())
                .or_default()
                .entry(f.state.as_str().to_owned())
                .or_default();
            if sent {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
            let state = f.state.lifecycle();
            let legal = CaseKind::parse(&f.kind).is_ok_and(|k| k.has_lifecycle());
            if !f.state.is_terminal() {
                if sent {
                    s.open_sent += 1;
                } else {
                    s.open_received += 1;
                }
            }
            if !legal {
                continue;
            }
            let ack = secs_between(&f.delivered_at, &f.acknowledged_at);
            let exec = secs_between(&f.acknowledged_at, &f.executed_at);
            let (ack_list, exec_list) = if sent {
                (&mut s.ack_sent, &mut s.exec_sent)
            } else {
                (&mut s.ack_received, &mut s.exec_received)
            };
            ack_list.extend(ack);
            exec_list.extend(exec);
            let (r, acks) = per_party.entry(f.responder.clone()).or_default();
            r.party = f.responder.clone();
            r.requests += 1;
            if f.acknowledged_at.is_some() {
                r.acknowledged += 1;
            }
            if matches!(
                state,
                Some(State::Executed | State::Closed | State::PartiallyExecuted)
            ) {
                r.executed += 1;
            }
            if state == Some(State::Refused) {
                r.refused += 1;
            }
            acks.extend(ack);
        }
        s.overdue = self.overdue_cases(&figures)?;
        s.responsiveness = per_party
            .into_values()
            .map(|(mut r, acks)| {
                r.median_ack_secs = median(&acks);
                r
            })
            .collect();
        s.checkpoints
            .push((self.party.to_string(), self.store.checkpoint()?.to_string()));
        for p in self.peers()? {
            let party = p.party.to_string();
            if let Some(last) = self.store.read(|c| db::latest_peer_checkpoint(c, &party))? {
                s.checkpoints.push((party, last.note));
            }
        }
        Ok(s)
    }

    fn overdue_cases(&self, figures: &[CaseFigures]) -> Result<u64, NodeError> {
        let now = Timestamp::now();
        let mut n = 0;
        for f in figures {
            let open = f.state.lifecycle().is_some_and(|s| !s.is_terminal());
            if !open {
                continue;
            }
            let Some(case) = self.store.read(|c| db::case_by_id(c, &f.id))? else {
                continue;
            };
            if self
                .case_deadlines(&case)
                .iter()
                .any(|d| d.due.parse::<Timestamp>().is_ok_and(|due| due < now))
            {
                n += 1;
            }
        }
        Ok(n)
    }
}
