//! Operational duties: the duty roster, ping tests of a peer's duty
//! officer (manual and scheduled) with measured response times, and TLP
//! enforcement — who may read a marked case, and the audit trail of reads
//! of TLP:AMBER and stricter content.

use std::collections::BTreeMap;

use jiff::Timestamp;
use liaison_core::calendar::Calendar;
use liaison_core::case::CaseKind;
use liaison_core::directory::{DirectoryEntry, answering_hours};
use liaison_proto::NodeRole;
use liaison_store::StoreError;
use liaison_store::federation::{self as db, CaseRow};
use liaison_store::operations::{self as ops, Shift, TlpRead};
use serde::Serialize;

use crate::federation::{CaseDetail, Sent};
use crate::users::User;
use crate::{Node, NodeError, now_rfc3339};

/// Ping results for one peer, from the ping cases this node sent it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PingStats {
    pub party: String,
    pub sent: u64,
    pub answered: u64,
    /// Pings not yet acknowledged by the peer's duty officer.
    pub waiting: u64,
    pub last_sent: Option<String>,
    /// Seconds from sending to the duty officer's acknowledgement.
    pub last_response_secs: Option<i64>,
    pub median_response_secs: Option<i64>,
    pub max_response_secs: Option<i64>,
    /// When its 24/7 contacts say they answer, from its directory entry
    /// (`24/7` when it states nothing).
    pub stated_hours: Vec<String>,
    /// Pings sent while one of its contacts should answer…
    pub in_hours: u64,
    /// …and those of them not acknowledged within `deadlines.hotline_ack_minutes`.
    pub missed_in_hours: u64,
    /// The latest ping sent within its stated hours was not acknowledged in time.
    pub flagged: bool,
    /// The latest pings (at most 30), oldest first: response times over time.
    pub recent: Vec<PingPoint>,
}

/// One ping of the series.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PingPoint {
    pub sent: String,
    /// Seconds to the acknowledgement (none yet).
    pub response_secs: Option<i64>,
    /// Sent while one of the party's contacts should answer.
    pub in_hours: bool,
    /// Not acknowledged within the limit.
    pub missed: bool,
}

/// How many pings of each party the series keeps.
const RECENT_PINGS: usize = 30;

fn parse_time(field: &str, t: &str) -> Result<Timestamp, NodeError> {
    t.parse::<Timestamp>().map_err(|_| {
        NodeError::Invalid(format!(
            "{field} {t:?} is not an RFC 3339 time (e.g. 2026-11-23T08:00:00Z)"
        ))
    })
}

pub use crate::access::{may_read, readable_levels};

impl Node {
    /// Adds a shift to the duty roster; returns its id.
    pub async fn add_shift(
        &self,
        name: &str,
        email: &str,
        phone: &str,
        starts: &str,
        ends: &str,
    ) -> Result<i64, NodeError> {
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(NodeError::Invalid(
                "name must be 1 to 200 characters".into(),
            ));
        }
        if !email
            .find('@')
            .is_some_and(|i| i > 0 && i + 1 < email.len())
            || email.contains(char::is_whitespace)
        {
            return Err(NodeError::Invalid(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let (s, e) = (parse_time("starts", starts)?, parse_time("ends", ends)?);
        if e <= s {
            return Err(NodeError::Invalid(
                "a shift must end after it starts".into(),
            ));
        }
        let shift = Shift {
            id: 0,
            name: name.trim().to_owned(),
            email: email.to_owned(),
            phone: phone.trim().to_owned(),
            // Stored in UTC so that text order is time order.
            starts: s.to_string(),
            ends: e.to_string(),
        };
        Ok(self
            .store
            .write(move |tx| ops::add_shift(tx.conn(), &shift))
            .await?
            .value)
    }

    pub async fn remove_shift(&self, id: i64) -> Result<(), NodeError> {
        let found = self
            .store
            .write(move |tx| ops::remove_shift(tx.conn(), id))
            .await?
            .value;
        if !found {
            return Err(NodeError::Store(StoreError::NotFound(format!(
                "no shift {id} in the roster"
            ))));
        }
        Ok(())
    }

    /// Shifts that have not ended yet.
    pub fn roster(&self) -> Result<Vec<Shift>, NodeError> {
        let now = Timestamp::now().to_string();
        Ok(self.store.read(|c| ops::roster(c, &now))?)
    }

    /// Who is on duty now.
    pub fn on_duty(&self) -> Result<Vec<Shift>, NodeError> {
        let now = Timestamp::now().to_string();
        Ok(self.store.read(|c| ops::on_duty(c, &now))?)
    }

    /// Sends a ping test to a party's duty officer.
    pub async fn ping(&self, to: &str, scheduled: bool) -> Result<Sent, NodeError> {
        self.open_case(
            to,
            CaseKind::Ping.as_str(),
            serde_json::json!({ "scheduled": scheduled }),
        )
        .await
    }

    /// Response times of each pinned party's duty officer to our pings.
    pub fn ping_stats(&self) -> Result<Vec<PingStats>, NodeError> {
        let pings = self.store.read(liaison_store::federation::sent_pings)?;
        let mut per: BTreeMap<String, (PingStats, Vec<i64>)> = BTreeMap::new();
        for p in self.peers()? {
            if p.card.role == NodeRole::Party {
                let party = p.party.to_string();
                per.entry(party.clone()).or_default().0.party = party.clone();
            }
        }
        let limit = i64::from(self.config.deadlines.hotline_ack_minutes) * 60;
        let now = Timestamp::now();
        let mut hours: BTreeMap<String, (Vec<String>, Vec<Calendar>, bool)> = BTreeMap::new();
        for liaison_store::federation::SentPing {
            responder: party,
            created,
            acknowledged_at: acked,
        } in pings
        {
            if !hours.contains_key(&party) {
                hours.insert(party.clone(), self.stated_hours(&party)?);
            }
            let (_, calendars, always) = &hours[&party];
            let (s, times) = per.entry(party.clone()).or_default();
            s.party = party;
            s.sent += 1;
            s.last_sent = Some(created.clone());
            let sent_at = created.parse::<Timestamp>().ok();
            let secs = acked.and_then(|a| {
                let (c, a) = (sent_at?, a.parse::<Timestamp>().ok()?);
                Some((a.as_second() - c.as_second()).max(0))
            });
            match secs {
                Some(secs) => {
                    s.answered += 1;
                    s.last_response_secs = Some(secs);
                    times.push(secs);
                }
                None => s.waiting += 1,
            }
            let in_hours =
                sent_at.is_some_and(|t| *always || calendars.iter().any(|c| c.is_open(t)));
            let missed = match (secs, sent_at) {
                (Some(secs), _) => secs > limit,
                (None, Some(t)) => now.as_second() - t.as_second() > limit,
                (None, None) => false,
            };
            if in_hours {
                s.in_hours += 1;
                s.missed_in_hours += u64::from(missed);
                s.flagged = missed;
            }
            s.recent.push(PingPoint {
                sent: created,
                response_secs: secs,
                in_hours,
                missed,
            });
            if s.recent.len() > RECENT_PINGS {
                s.recent.remove(0);
            }
        }
        for (party, (s, _)) in per.iter_mut() {
            s.stated_hours = match hours.remove(party) {
                Some((stated, _, _)) => stated,
                None => self.stated_hours(party)?.0,
            };
        }
        Ok(per
            .into_values()
            .map(|(mut s, mut times)| {
                times.sort_unstable();
                s.median_response_secs = times.get(times.len() / 2).copied();
                s.max_response_secs = times.last().copied();
                s
            })
            .collect())
    }

    /// When `party`'s 24/7 contacts say they answer, from its latest
    /// directory entry: the stated hours, their calendars, and whether one
    /// answers around the clock (as a party that states nothing is held to).
    fn stated_hours(&self, party: &str) -> Result<(Vec<String>, Vec<Calendar>, bool), NodeError> {
        let latest = self
            .store
            .read(|c| liaison_store::directory::of_owner(c, party))?
            .into_iter()
            .last();
        let contacts = latest
            .and_then(|row| DirectoryEntry::check(row.entry.as_bytes()).ok())
            .map(|(entry, _)| entry.contacts)
            .unwrap_or_default();
        if contacts.is_empty() {
            return Ok((vec!["24/7".to_owned()], Vec::new(), true));
        }
        let mut calendars = Vec::new();
        let mut always = false;
        for c in &contacts {
            match answering_hours(&c.hours) {
                Ok(Some(cal)) => calendars.push(cal),
                // Checked when the entry was taken; "24/7" is the rest.
                _ => always = true,
            }
        }
        Ok((
            contacts.into_iter().map(|c| c.hours).collect(),
            calendars,
            always,
        ))
    }

    /// Sends a scheduled ping to every party whose last ping is older than
    /// `hotline.ping_interval_minutes` (0: no scheduled pings).
    pub async fn send_scheduled_pings(&self) -> Result<(), NodeError> {
        let every = i64::from(self.config.hotline.ping_interval_minutes) * 60;
        if every == 0 {
            return Ok(());
        }
        let now = Timestamp::now().as_second();
        for s in self.ping_stats()? {
            let due = s
                .last_sent
                .as_deref()
                .and_then(|t| t.parse::<Timestamp>().ok())
                .is_none_or(|t| now - t.as_second() >= every);
            if due {
                match self.ping(&s.party, true).await {
                    Ok(sent) => {
                        tracing::info!(peer = %s.party, case = %sent.case_id, "scheduled ping sent")
                    }
                    Err(e) => tracing::warn!(peer = %s.party, "cannot send a scheduled ping: {e}"),
                }
            }
        }
        Ok(())
    }

    /// The cases `user` may read (its clearance covers their marking), newest first.
    pub fn list_cases_for(&self, user: &User, limit: usize) -> Result<Vec<CaseRow>, NodeError> {
        let levels = readable_levels(user);
        Ok(self
            .store
            .read(|c| db::list_cases_marked(c, limit, &levels))?)
    }

    /// A case as `user` may see it: not found if its marking excludes the
    /// user; reads of TLP:AMBER and stricter are recorded (`via`: ui, api…).
    pub async fn case_detail_for(
        &self,
        user: &User,
        id: &str,
        via: &str,
    ) -> Result<CaseDetail, NodeError> {
        self.open_for_reading(user, id, via).await?;
        self.case_detail(id)
    }

    /// The case row if `user` may read the case (not found otherwise),
    /// after recording the read when the marking is TLP:AMBER or stricter.
    pub async fn open_for_reading(
        &self,
        user: &User,
        id: &str,
        via: &str,
    ) -> Result<CaseRow, NodeError> {
        let case = self
            .case_for(user, id)?
            .ok_or_else(|| NodeError::Store(StoreError::NotFound(format!("no case {id}"))))?;
        let tlp = case.tlp;
        if tlp.audited() {
            self.record_reads(vec![TlpRead {
                at: now_rfc3339(),
                username: user.username.clone(),
                object: id.to_owned(),
                tlp: tlp.as_str().to_owned(),
                via: via.to_owned(),
            }])
            .await?;
        }
        Ok(case)
    }

    /// Records reads of restricted content, durably, before they are served.
    pub async fn record_reads(&self, reads: Vec<TlpRead>) -> Result<(), NodeError> {
        if reads.is_empty() {
            return Ok(());
        }
        self.store
            .write(move |tx| ops::record_reads(tx.conn(), &reads))
            .await?;
        Ok(())
    }

    pub fn tlp_reads(&self, limit: usize) -> Result<Vec<TlpRead>, NodeError> {
        Ok(self.store.read(|c| ops::recent_reads(c, limit))?)
    }

    /// The escalations `user` may see, newest first: those of cases its
    /// clearance covers, and alerts.
    pub fn escalations_for(
        &self,
        user: &User,
        limit: usize,
    ) -> Result<Vec<liaison_store::federation::Escalation>, NodeError> {
        let levels = readable_levels(user);
        Ok(self
            .store
            .read(|c| db::escalations_marked(c, limit, &levels))?)
    }

    /// A case row, if `user` may read it.
    pub fn case_for(&self, user: &User, id: &str) -> Result<Option<CaseRow>, NodeError> {
        Ok(self
            .store
            .read(|c| db::case_by_id(c, id))?
            .filter(|c| may_read(user, c)))
    }
}
