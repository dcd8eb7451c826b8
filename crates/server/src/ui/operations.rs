//! Operational pages: the duty page (who is on duty, the roster, hotline
//! inquiries and pings waiting for acknowledgement, ping response times per
//! peer), updates to incident and hotline threads, and the audit trail of
//! reads of restricted content.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::CoreError;
use liaison_core::case::CaseKind;
use liaison_core::roles::Permission;
use liaison_node::operations::PingStats;
use liaison_node::rows::{CaseRow, Shift, TlpRead};
use liaison_node::{ErrorKind, NodeError};

use super::CheckedForm;
use super::case_page::tlp_label;
use super::forms::indicators_from_text;
use super::i18n::Tr;
use super::layout::{Layout, internal, not_found};
use super::{UiState, Visitor, html, urlencode};

/// A refusal in the visitor's language (field errors named by their label,
/// or by their path when the catalogue has none, e.g. `answers[0].reason`).
pub(super) fn refusal(t: &Tr, e: &NodeError) -> String {
    match e {
        NodeError::Core(CoreError::Field { field, problem, .. }) => {
            let key = format!("field.{}", field.split('.').next().unwrap_or(field));
            let label = t.get(&key);
            format!(
                "{}: {}",
                if label == key { field.as_str() } else { label },
                t.get(&format!("error.{}", problem.as_str()))
            )
        }
        other if t.lang == "en" => other.to_string(),
        other => format!("{} ({other})", t.get("error.refused")),
    }
}

pub(super) async fn add_update(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    let path = format!("/cases/{}", urlencode(&id));
    let user = match v.require(Permission::ReadCases, &path) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let kind = match state.node.case_for(&user, &id) {
        Ok(Some(c)) => c.kind,
        Ok(None) => return not_found(&state, &v),
        Err(e) => return internal(e),
    };
    if let Err(r) = v.require(Permission::Act(kind), &path) {
        return r;
    }
    let mut update = serde_json::Map::new();
    update.insert("text".into(), form.one("text").trim().into());
    if !form.one("severity").is_empty() {
        update.insert("severity".into(), form.one("severity").into());
    }
    if !form.one("tlp").is_empty() {
        update.insert("tlp".into(), form.one("tlp").into());
    }
    let indicators = indicators_from_text(form.one("indicators"));
    if indicators.as_array().is_some_and(|a| !a.is_empty()) {
        update.insert("indicators".into(), indicators);
    }
    match state
        .node
        .update(&id, serde_json::Value::Object(update))
        .await
    {
        Ok(_) => Redirect::to(&path).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, refusal(&v.t, &e)).into_response(),
    }
}

/// A case waiting for this node's duty officer.
pub struct Waiting {
    pub id: String,
    pub kind: String,
    pub kind_code: String,
    pub from: String,
    pub title: String,
    pub since: String,
    pub tlp: String,
    pub tlp_label: String,
    pub may_ack: bool,
}

#[derive(Template)]
#[template(path = "duty.html")]
struct DutyPage {
    l: Layout,
    on_duty: Vec<Shift>,
    roster: Vec<Shift>,
    waiting: Vec<Waiting>,
    pings: Vec<PingStats>,
    may_manage: bool,
    may_ping: bool,
    error: String,
}

fn secs(t: &Tr, s: &Option<i64>) -> String {
    match s {
        Some(s) if *s < 120 => format!("{s} s"),
        Some(s) => t.duration(s),
        None => "—".into(),
    }
}

impl DutyPage {
    fn response(&self, s: &Option<i64>) -> String {
        secs(&self.l.t, s)
    }

    /// The party's response times over time, as SVG.
    fn series(&self, p: &PingStats) -> String {
        let points: Vec<(Option<i64>, bool)> = p
            .recent
            .iter()
            .map(|r| (r.response_secs, r.missed))
            .collect();
        super::charts::ping_series(self.l.t.get("duty.series"), &points)
    }
}

fn duty_view(state: &UiState, v: &Visitor, error: String) -> Result<DutyPage, Response> {
    let node = &state.node;
    let user = v.user.clone();
    let readable = |c: &CaseRow| {
        user.as_ref()
            .is_some_and(|u| liaison_node::operations::may_read(u, c))
    };
    let waiting = node
        .open_cases()
        .map_err(internal)?
        .into_iter()
        .filter(|c| !c.outgoing && matches!(c.state.as_str(), "sent" | "delivered"))
        .filter(|c| matches!(c.kind.as_str(), "hotline" | "ping" | "incident"))
        .filter(readable)
        .map(|c| {
            let kind = c.kind;
            Waiting {
                kind: v.t.kind(kind.as_str()).to_owned(),
                kind_code: kind.as_str().to_owned(),
                from: c.initiator.clone(),
                title: liaison_core::case::title(
                    c.kind.as_str(),
                    &c.subject,
                    c.offence.as_deref(),
                    v.t.lang,
                ),
                since: c.created.replace('T', " ").trim_end_matches('Z').to_owned(),
                tlp_label: tlp_label(&v.t, c.tlp.as_str()),
                tlp: c.tlp.as_str().to_owned(),
                may_ack: user
                    .as_ref()
                    .is_some_and(|u| u.role.allows(Permission::Act(kind))),
                id: c.id,
            }
        })
        .collect();
    Ok(DutyPage {
        l: Layout::new(state, v, "duty"),
        on_duty: node.on_duty().map_err(internal)?,
        roster: node.roster().map_err(internal)?,
        waiting,
        pings: node.ping_stats().map_err(internal)?,
        may_manage: v
            .user
            .as_ref()
            .is_some_and(|u| u.role.allows(Permission::ManageUsers)),
        may_ping: v
            .user
            .as_ref()
            .is_some_and(|u| u.role.allows(Permission::Open(CaseKind::Ping))),
        error,
    })
}

pub(super) async fn duty_page(State(state): State<UiState>, v: Visitor) -> Response {
    match duty_view(&state, &v, String::new()) {
        Ok(p) => html(StatusCode::OK, &p),
        Err(r) => r,
    }
}

fn back_to_duty(state: &UiState, v: &Visitor, result: Result<(), NodeError>) -> Response {
    match result {
        Ok(()) => Redirect::to("/duty").into_response(),
        Err(e) if e.kind() == ErrorKind::NotFound => not_found(state, v),
        Err(e) => match duty_view(state, v, refusal(&v.t, &e)) {
            Ok(p) => html(StatusCode::BAD_REQUEST, &p),
            Err(r) => r,
        },
    }
}

pub(super) async fn add_shift(
    State(state): State<UiState>,
    v: Visitor,
    CheckedForm(form): CheckedForm,
) -> Response {
    // The form's datetime-local fields are UTC.
    let utc = |s: &str| {
        let s = s.trim();
        if s.len() == 16 {
            format!("{s}:00Z")
        } else {
            s.to_owned()
        }
    };
    let result = state
        .node
        .add_shift(
            form.one("name"),
            form.one("email").trim(),
            form.one("phone"),
            &utc(form.one("starts")),
            &utc(form.one("ends")),
        )
        .await
        .map(|_| ());
    back_to_duty(&state, &v, result)
}

pub(super) async fn remove_shift(
    State(state): State<UiState>,
    v: Visitor,
    Path(shift): Path<String>,
    CheckedForm(_): CheckedForm,
) -> Response {
    let Ok(id) = shift.parse::<i64>() else {
        return not_found(&state, &v);
    };
    let result = state.node.remove_shift(id).await;
    back_to_duty(&state, &v, result)
}

pub(super) async fn send_ping(
    State(state): State<UiState>,
    v: Visitor,
    CheckedForm(form): CheckedForm,
) -> Response {
    let result = state.node.ping(form.one("to"), false).await.map(|_| ());
    back_to_duty(&state, &v, result)
}

#[derive(Template)]
#[template(path = "reads.html")]
struct ReadsPage {
    l: Layout,
    reads: Vec<TlpRead>,
}

pub(super) async fn reads_page(State(state): State<UiState>, v: Visitor) -> Response {
    match state.node.tlp_reads(1000) {
        Ok(reads) => html(
            StatusCode::OK,
            &ReadsPage {
                l: Layout::new(&state, &v, "reads"),
                reads,
            },
        ),
        Err(e) => internal(e),
    }
}
