//! Deadlines that fire on their own: a worker checks every open case against
//! its deadlines (acknowledgement, response, preservation expiry), records
//! warning and hard escalations once each, and sends them — and every new
//! alert — to the duty officer by e-mail (SMTP) and by a webhook signed with
//! the node's log key. When a preservation period ends, the requested
//! party's node declares it expired with a signed transition, so both sides
//! agree.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::{Timestamp, ToSpan as _};
use liaison_core::calendar::Calendar;
use liaison_core::case::CaseKind;
use liaison_core::lifecycle::State;
use liaison_store::federation::{self as db, CaseRow, Escalation};
use serde::Serialize;
use tokio::sync::watch;

use crate::{Node, NodeError, now_rfc3339};

/// One deadline of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deadline {
    /// `acknowledge`, `respond` or `preservation_expiry`.
    pub name: &'static str,
    pub start: String,
    pub warn: String,
    pub due: String,
}

fn ts(s: &Option<String>) -> Option<Timestamp> {
    s.as_deref().and_then(|t| t.parse().ok())
}

impl Node {
    /// The calendar of the party a case is addressed to.
    fn requested_calendar(&self, case: &CaseRow) -> Calendar {
        let cfg = &self.config.deadlines;
        let own = || Calendar::parse(&cfg.time_zone, &cfg.business_days, &cfg.business_hours).ok();
        let theirs = || {
            self.peer(&case.responder)
                .ok()
                .flatten()
                .and_then(|p| p.card.calendar)
                .and_then(|c| {
                    Calendar::parse(&c.time_zone, &c.business_days, &c.business_hours).ok()
                })
        };
        let cal = if case.responder == self.party.as_str() {
            own()
        } else {
            theirs()
        };
        cal.unwrap_or_else(Calendar::utc_office)
    }

    /// The deadlines running for a case now.
    pub fn case_deadlines(&self, case: &CaseRow) -> Vec<Deadline> {
        let kind = case.kind;
        let Some(state) = case.state.lifecycle() else {
            return Vec::new();
        };
        if !kind.has_lifecycle() || state.is_terminal() {
            return Vec::new();
        }
        // Content reports run one timer per urgency tier of their open items.
        if kind == CaseKind::ContentReport {
            return self.item_deadlines(case);
        }
        let cfg = &self.config.deadlines;
        let cal = self.requested_calendar(case);
        let wall = |start: Timestamp, secs: u64| {
            start.checked_add((secs as i64).seconds()).unwrap_or(start)
        };
        let mut out = Vec::new();
        // A direct order runs one wall-clock deadline from its delivery
        // until the provider reports it executed.
        let order_due = (kind == CaseKind::ProductionOrder).then(|| {
            if case.urgent {
                u64::from(cfg.production_order_emergency_hours) * 3600
            } else {
                u64::from(cfg.production_order_days) * 24 * 3600
            }
        });
        let mut push =
            |name: &'static str, start: Timestamp, due: Timestamp, warn: Option<Timestamp>| {
                let warn = warn.unwrap_or_else(|| {
                    let span = due.as_second() - start.as_second();
                    Timestamp::from_second(
                        start.as_second() + span * i64::from(cfg.warning_percent.min(100)) / 100,
                    )
                    .unwrap_or(due)
                });
                out.push(Deadline {
                    name,
                    start: start.to_string(),
                    warn: warn.to_string(),
                    due: due.to_string(),
                });
            };
        use State::*;
        if let Some(secs) = order_due {
            if !matches!(state, Executed)
                && let Some(start) =
                    ts(&case.times.delivered_at).or_else(|| ts(&Some(case.created.clone())))
            {
                push("respond", start, wall(start, secs), None);
            }
            return out;
        }
        match state {
            Sent | Delivered => {
                if let Some(start) =
                    ts(&case.times.delivered_at).or_else(|| ts(&Some(case.created.clone())))
                {
                    let due = match kind {
                        CaseKind::Mla if case.urgent => cal.add_business_minutes(
                            start,
                            i64::from(cfg.mla_urgent_ack_business_hours) * 60,
                        ),
                        CaseKind::Mla => cal.add_business_days(start, cfg.mla_ack_business_days),
                        CaseKind::Preservation => {
                            cal.add_business_days(start, cfg.preservation_ack_business_days)
                        }
                        CaseKind::Incident if case.urgent => {
                            wall(start, u64::from(cfg.incident_urgent_ack_minutes) * 60)
                        }
                        CaseKind::Incident => cal.add_business_minutes(
                            start,
                            i64::from(cfg.incident_ack_business_hours) * 60,
                        ),
                        CaseKind::Hotline | CaseKind::Ping => {
                            wall(start, u64::from(cfg.hotline_ack_minutes) * 60)
                        }
                        // A forwarded request keeps its urgency: an
                        // emergency runs in hours, the rest as an MLA request.
                        CaseKind::Execution if !case.urgent => {
                            cal.add_business_days(start, cfg.mla_ack_business_days)
                        }
                        _ => wall(start, cfg.emergency_ack_secs),
                    };
                    push("acknowledge", start, due, None);
                }
            }
            Acknowledged
            | UnderReview
            | ClarificationProvided
            | InExecution
            | PartiallyExecuted => {
                if let Some(start) = ts(&case.times.acknowledged_at) {
                    let due = match kind {
                        CaseKind::Mla if case.urgent => {
                            cal.add_business_days(start, cfg.mla_urgent_execute_business_days)
                        }
                        CaseKind::Mla => {
                            cal.add_business_days(start, cfg.mla_execute_business_days)
                        }
                        CaseKind::Preservation => {
                            cal.add_business_days(start, cfg.preservation_preserve_business_days)
                        }
                        CaseKind::Incident if case.urgent => {
                            wall(start, u64::from(cfg.incident_urgent_respond_hours) * 3600)
                        }
                        CaseKind::Incident => {
                            cal.add_business_days(start, cfg.incident_respond_business_days)
                        }
                        CaseKind::Hotline => {
                            wall(start, u64::from(cfg.hotline_answer_minutes) * 60)
                        }
                        // A ping is answered by its acknowledgement.
                        CaseKind::Ping => return out,
                        CaseKind::Execution if !case.urgent => {
                            cal.add_business_days(start, cfg.mla_execute_business_days)
                        }
                        _ => wall(start, cfg.emergency_execute_secs),
                    };
                    push("respond", start, due, None);
                }
            }
            _ => {}
        }
        if kind == CaseKind::Preservation
            && let Some(start) = ts(&case.times.executed_at)
        {
            let days = i64::from(case.preservation_days.unwrap_or(60)) + case.times.extension_days;
            let due = start.checked_add((days * 24).hours()).unwrap_or(start);
            let warn = due
                .checked_sub((i64::from(cfg.preservation_warning_days) * 24).hours())
                .unwrap_or(start);
            push("preservation_expiry", start, due, Some(warn.max(start)));
        }
        out
    }

    /// One pass: raise what is due, expire what ended, send what is unsent.
    pub async fn check_deadlines(&self) -> Result<(), NodeError> {
        let now = Timestamp::now();
        let cases = self.store.read(db::open_cases)?;
        let email_on = !self.config.escalation.smtp_url.trim().is_empty()
            && !self.escalation_recipients()?.is_empty();
        let webhook_on = !self.config.escalation.webhook_url.trim().is_empty();
        let status = |on: bool| if on { "pending" } else { "off" };
        let mut raise: Vec<(String, String, &'static str, String, String)> = Vec::new();
        let mut expire: Vec<String> = Vec::new();
        for case in &cases {
            // The authority notified of an order watches it; the parties answer for it.
            if case.kind == CaseKind::ProductionOrder
                && case.initiator != self.party.as_str()
                && case.responder != self.party.as_str()
            {
                continue;
            }
            let side = if case.initiator == self.party.as_str() {
                format!("{} has not", case.responder)
            } else {
                "this authority has not".to_owned()
            };
            for d in self.case_deadlines(case) {
                let (Ok(warn), Ok(due)) = (d.warn.parse::<Timestamp>(), d.due.parse::<Timestamp>())
                else {
                    continue;
                };
                let what = match d.name {
                    "acknowledge" => format!("{side} acknowledged"),
                    "respond" => format!("{side} executed"),
                    n if n.starts_with("removal") => {
                        format!("{side} removed or answered every {n} item of")
                    }
                    _ => "the preservation period ends".to_owned(),
                };
                // Case id and kind only: escalations go by e-mail and webhook
                // and are listed to operations roles, whatever the marking.
                let subject = format!("{} {}", case.kind.as_str(), case.id);
                if now >= due {
                    raise.push((
                        case.id.clone(),
                        d.name.to_owned(),
                        "hard",
                        d.due.clone(),
                        format!("DEADLINE MISSED: {what} {subject}; due {}", d.due),
                    ));
                    if d.name == "preservation_expiry" && case.responder == self.party.as_str() {
                        expire.push(case.id.clone());
                    }
                } else if now >= warn {
                    raise.push((
                        case.id.clone(),
                        d.name.to_owned(),
                        "warning",
                        d.due.clone(),
                        format!("Deadline approaching: {what} {subject}; due {}", d.due),
                    ));
                }
            }
        }
        let (email, webhook) = (status(email_on).to_owned(), status(webhook_on).to_owned());
        self.store
            .write(move |tx| {
                let at = now_rfc3339();
                for (subject, deadline, level, due, message) in &raise {
                    if db::raise_escalation(
                        tx.conn(),
                        &at,
                        subject,
                        deadline,
                        level,
                        due,
                        message,
                        &email,
                        &webhook,
                    )? {
                        tracing::warn!("{message}");
                    }
                }
                for alert in db::alerts_to_escalate(tx.conn())? {
                    db::raise_escalation(
                        tx.conn(),
                        &at,
                        &format!("alert:{}:{}", alert.kind, alert.subject),
                        "alert",
                        "hard",
                        &alert.at,
                        &alert.message,
                        &email,
                        &webhook,
                    )?;
                    db::mark_alert_escalated(tx.conn(), alert.id)?;
                }
                Ok(())
            })
            .await?;
        for case_id in expire {
            match self.declare_expired(&case_id).await {
                Ok(_) => tracing::info!(case = %case_id, "preservation period ended: expired"),
                Err(e) => {
                    tracing::warn!(case = %case_id, "cannot declare the preservation expired: {e}")
                }
            }
        }
        self.send_escalations().await
    }

    /// Who escalations are e-mailed to: `escalation.email_to` and whoever
    /// is on duty now according to the roster.
    pub fn escalation_recipients(&self) -> Result<Vec<String>, NodeError> {
        let mut to: Vec<String> = self
            .config
            .escalation
            .email_to
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        for shift in self.on_duty()? {
            if !to.contains(&shift.email) {
                to.push(shift.email);
            }
        }
        Ok(to)
    }

    async fn send_escalations(&self) -> Result<(), NodeError> {
        let max = i64::from(self.config.escalation.max_attempts.max(1));
        for e in self.store.read(|c| db::unsent_escalations(c, max))? {
            let email = match e.email_status.as_str() {
                "sent" | "off" => e.email_status.clone(),
                _ => match self.send_email(&e).await {
                    Ok(()) => "sent".to_owned(),
                    Err(err) => format!("failed: {err}"),
                },
            };
            let webhook = match e.webhook_status.as_str() {
                "sent" | "off" => e.webhook_status.clone(),
                _ => match self.send_webhook(&e).await {
                    Ok(()) => "sent".to_owned(),
                    Err(err) => format!("failed: {err}"),
                },
            };
            if email.starts_with("failed") || webhook.starts_with("failed") {
                tracing::warn!(
                    escalation = e.id,
                    "escalation not delivered: e-mail {email}; webhook {webhook}"
                );
            }
            let id = e.id;
            self.store
                .write(move |tx| db::set_escalation_status(tx.conn(), id, &email, &webhook))
                .await?;
        }
        Ok(())
    }

    async fn send_email(&self, e: &Escalation) -> Result<(), String> {
        use lettre::message::header::ContentType;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let cfg = &self.config.escalation;
        let mut builder = Message::builder()
            .from(
                cfg.email_from
                    .parse()
                    .map_err(|err| format!("escalation.email_from: {err}"))?,
            )
            .subject(format!(
                "[Liaison {}] {} {}: {}",
                self.party,
                e.level.to_uppercase(),
                e.deadline,
                e.subject
            ));
        let recipients = self
            .escalation_recipients()
            .map_err(|err| format!("the duty roster: {err}"))?;
        if recipients.is_empty() {
            return Err("no recipient: escalation.email_to is empty and nobody is on duty".into());
        }
        for to in recipients {
            builder = builder.to(to
                .parse()
                .map_err(|err| format!("escalation recipient {to:?}: {err}"))?);
        }
        let body = format!(
            "{}\n\nCase or subject: {}\nDeadline: {} ({})\nDue: {}\nRaised: {}\nNode: {} ({})\n",
            e.message,
            e.subject,
            e.deadline,
            e.level,
            e.due,
            e.at,
            self.party,
            self.config.node.name
        );
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|err| format!("cannot build the e-mail: {err}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.smtp_url)
            .map_err(|err| format!("escalation.smtp_url: {err}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| format!("SMTP: {err}"))
    }

    async fn send_webhook(&self, e: &Escalation) -> Result<(), String> {
        let body = serde_json::to_vec(
            &serde_json::json!({ "node": self.party.as_str(), "escalation": e }),
        )
        .map_err(|err| err.to_string())?;
        let signature = B64.encode(self.store.log_signer().sign_raw(&body));
        let response = reqwest::Client::new()
            .post(&self.config.escalation.webhook_url)
            .header("content-type", "application/json")
            .header(
                "x-liaison-key",
                self.store.log_signer().verifier().to_encoded(),
            )
            .header("x-liaison-signature", format!("ed25519={signature}"))
            .timeout(Duration::from_secs(20))
            .body(body)
            .send()
            .await
            .map_err(|err| format!("webhook: {err}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", response.status()))
        }
    }
}

/// Checks deadlines every `deadlines.check_interval_secs` until shutdown.
pub async fn run(node: Node, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(node.config.deadlines.check_interval_secs.max(1));
    loop {
        if let Err(e) = node.check_deadlines().await {
            tracing::error!("deadline check: {e}");
        }
        if let Err(e) = node.send_scheduled_pings().await {
            tracing::error!("scheduled pings: {e}");
        }
        if let Err(e) = node.confirm_notifications().await {
            tracing::error!("confirming notified orders: {e}");
        }
        if let Err(e) = node.hand_over_threads().await {
            tracing::error!("handing teams' threads over: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
    }
}
