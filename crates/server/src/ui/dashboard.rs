//! The dashboard and the transparency report: aggregate figures and charts.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::roles::Permission;
use liaison_node::stats::{Stats, median};

use super::SignedIn;
use super::charts::{self, Bar};
use super::i18n::Tr;
use super::layout::{Layout, internal};
use super::{UiState, Visitor, html};

#[derive(Template)]
#[template(path = "dashboard.html")]
pub(super) struct DashboardPage {
    l: Layout,
    s: Stats,
    by_kind_chart: String,
    ack_chart: String,
    exec_chart: String,
    responsiveness_chart: String,
    median_ack_received: String,
    median_ack_sent: String,
}

pub(super) fn stats_charts(t: &Tr, s: &Stats) -> (String, String, String, String) {
    let mut rows = Vec::new();
    for (kind, states) in &s.by_kind_state {
        for (state, (received, sent)) in states {
            let open =
                liaison_core::lifecycle::State::parse(state).is_none_or(|st| !st.is_terminal());
            if open {
                rows.push(Bar {
                    label: format!("{} · {}", t.kind(kind), t.state(state)),
                    values: vec![*received, *sent],
                });
            }
        }
    }
    let series = vec![
        t.get("dash.received").to_owned(),
        t.get("dash.sent").to_owned(),
    ];
    let by_kind = charts::bars(t.get("dash.open_by_kind"), &series, &rows);
    let ack = charts::duration_chart(
        t.get("dash.time_to_ack"),
        t.lang,
        [t.get("dash.received"), t.get("dash.sent")],
        &s.ack_received,
        &s.ack_sent,
    );
    let exec = charts::duration_chart(
        t.get("dash.time_to_exec"),
        t.lang,
        [t.get("dash.received"), t.get("dash.sent")],
        &s.exec_received,
        &s.exec_sent,
    );
    let resp_rows: Vec<Bar> = s
        .responsiveness
        .iter()
        .map(|r| Bar {
            label: r.party.clone(),
            values: vec![r.requests, r.acknowledged, r.executed],
        })
        .collect();
    let resp = charts::bars(
        t.get("dash.responsiveness"),
        &[
            t.get("dash.requests").to_owned(),
            t.get("dash.acknowledged").to_owned(),
            t.get("dash.executed").to_owned(),
        ],
        &resp_rows,
    );
    (by_kind, ack, exec, resp)
}

pub(super) async fn dashboard(
    State(state): State<UiState>,
    v: Visitor,
    SignedIn(user): SignedIn,
) -> Response {
    if !user.role.allows(Permission::ReadCases) {
        return Redirect::to("/transparency").into_response();
    }
    let s = match state.node.stats() {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let (by_kind_chart, ack_chart, exec_chart, responsiveness_chart) = stats_charts(&v.t, &s);
    let fmt = |d: Option<i64>| d.map(|d| v.t.duration(&d)).unwrap_or_else(|| "—".into());
    let page = DashboardPage {
        median_ack_received: fmt(median(&s.ack_received)),
        median_ack_sent: fmt(median(&s.ack_sent)),
        l: Layout::new(&state, &v, "dashboard"),
        s,
        by_kind_chart,
        ack_chart,
        exec_chart,
        responsiveness_chart,
    };
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "transparency.html")]
pub(super) struct TransparencyPage {
    l: Layout,
    s: Stats,
    rows: Vec<(String, String, u64, u64)>,
    by_kind_chart: String,
    responsiveness_chart: String,
    medians: Vec<(String, String, String)>,
}

pub(super) async fn transparency(State(state): State<UiState>, v: Visitor) -> Response {
    let s = match state.node.stats() {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let (by_kind_chart, _, _, responsiveness_chart) = stats_charts(&v.t, &s);
    let mut rows = Vec::new();
    for (kind, states) in &s.by_kind_state {
        for (st, (received, sent)) in states {
            rows.push((
                v.t.kind(kind).to_owned(),
                v.t.state(st).to_owned(),
                *received,
                *sent,
            ));
        }
    }
    let fmt = |d: Option<i64>| d.map(|d| v.t.duration(&d)).unwrap_or_else(|| "—".into());
    let medians = s
        .responsiveness
        .iter()
        .map(|r| {
            (
                r.party.clone(),
                format!("{}/{}", r.acknowledged, r.requests),
                fmt(r.median_ack_secs),
            )
        })
        .collect();
    html(
        StatusCode::OK,
        &TransparencyPage {
            l: Layout::new(&state, &v, "transparency"),
            s,
            rows,
            by_kind_chart,
            responsiveness_chart,
            medians,
        },
    )
}

/// The transparency report as JSON: aggregate figures only, with the log
/// checkpoints they were computed at.
pub(super) async fn transparency_json(State(state): State<UiState>, _v: Visitor) -> Response {
    match state.node.stats() {
        Ok(s) => (
            [(header::CONTENT_TYPE, "application/json"), (header::CONTENT_DISPOSITION, "attachment; filename=\"liaison-transparency.json\"")],
            serde_json::to_string_pretty(&serde_json::json!({
                "party": state.node.party().as_str(),
                "generated_at": s.generated_at,
                "cases_by_kind_and_state": s.by_kind_state,
                "open_received": s.open_received,
                "open_sent": s.open_sent,
                "overdue": s.overdue,
                "median_seconds_to_acknowledge": {"received": median(&s.ack_received), "sent": median(&s.ack_sent)},
                "median_seconds_to_execute": {"received": median(&s.exec_received), "sent": median(&s.exec_sent)},
                "responsiveness": s.responsiveness,
                "log_checkpoints": s.checkpoints.iter().map(|(p, n)| serde_json::json!({"party": p, "checkpoint": n})).collect::<Vec<_>>(),
            }))
            .unwrap_or_default(),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}
