//! The inbox and outbox, and the forms that open a case of every kind.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::case::{ALL_KINDS, CaseKind, OPENING_KINDS};
use liaison_core::lifecycle::ALL_STATES;
use liaison_core::roles::Permission;
use liaison_core::{CoreError, FieldProblem};
use liaison_node::NodeError;
use liaison_node::rows::CaseFilter;
use liaison_node::users::User;
use serde::Deserialize;

use super::CheckedForm;
use super::case_page::tlp_label;
use super::forms::{self, FieldView, Submitted};
use super::i18n::Tr;
use super::layout::{Layout, internal, not_found};
use super::{UiState, Visitor, html};

pub struct CaseLine {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub counterpart: String,
    pub state: String,
    pub state_code: String,
    pub updated: String,
    pub overdue: bool,
    /// TLP code (`clear` … `red`) and label.
    pub tlp: String,
    pub tlp_label: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
pub(super) struct CasesPage {
    l: Layout,
    rows: Vec<CaseLine>,
    box_: String,
    kind: String,
    state: String,
    kinds: Vec<(String, String)>,
    states: Vec<(String, String)>,
    page: usize,
    pages: usize,
    total: i64,
    prev_link: String,
    next_link: String,
}

#[derive(Deserialize)]
pub(super) struct CasesQuery {
    #[serde(rename = "box")]
    box_: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    page: Option<usize>,
}

pub(super) const PAGE_SIZE: usize = 50;

pub(super) async fn cases(
    State(state): State<UiState>,
    v: Visitor,
    Query(q): Query<CasesQuery>,
) -> Response {
    render_cases(&state, &v, q)
}

/// The inbox / outbox page (also used by the rendering benchmark).
pub(super) fn render_cases(state: &UiState, v: &Visitor, q: CasesQuery) -> Response {
    let node = &state.node;
    let box_ = match q.box_.as_deref() {
        Some("out") => "out",
        Some("all") => "all",
        _ => "in",
    };
    let kind = q.kind.filter(|k| CaseKind::parse(k).is_ok());
    let st = q
        .state
        .as_deref()
        .and_then(liaison_core::lifecycle::CaseState::parse);
    let page = q.page.unwrap_or(1).max(1);
    let me = node.party().to_string();
    let levels = v
        .user
        .as_ref()
        .map(liaison_node::operations::readable_levels)
        .unwrap_or_else(|| vec!["clear"]);
    let filter = CaseFilter {
        tlp_levels: &levels,
        outgoing: match box_ {
            "out" => Some(true),
            "in" => Some(false),
            _ => None,
        },
        me: &me,
        kind: kind.as_deref(),
        state: st,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let (rows, total) = match node.case_page(&filter) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let now = jiff::Timestamp::now();
    let lines = rows
        .into_iter()
        .map(|c| {
            let overdue = node
                .case_deadlines(&c)
                .iter()
                .any(|d| d.due.parse::<jiff::Timestamp>().is_ok_and(|due| due < now));
            CaseLine {
                counterpart: if c.initiator == me {
                    c.responder.clone()
                } else {
                    c.initiator.clone()
                },
                kind: v.t.kind(c.kind.as_str()).to_owned(),
                state: v.t.state(c.state.as_str()).to_owned(),
                state_code: c.state.as_str().to_owned(),
                updated: c.updated.replace('T', " ").trim_end_matches('Z').to_owned(),
                subject: liaison_core::case::title(
                    c.kind.as_str(),
                    &c.subject,
                    c.offence.as_deref(),
                    v.t.lang,
                ),
                tlp_label: tlp_label(&v.t, c.tlp.as_str()),
                tlp: c.tlp.as_str().to_owned(),
                id: c.id,
                overdue,
            }
        })
        .collect();
    let pages = (total as usize).div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize| {
        format!(
            "/cases?box={box_}&kind={}&state={}&page={p}",
            kind.as_deref().unwrap_or(""),
            st.map_or("", |s| s.as_str())
        )
    };
    let p = CasesPage {
        l: Layout::new(state, v, box_),
        rows: lines,
        box_: box_.into(),
        kind: kind.clone().unwrap_or_default(),
        state: st.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        kinds: ALL_KINDS
            .iter()
            .map(|k| (k.as_str().to_owned(), k.label(v.t.lang).to_owned()))
            .collect(),
        states: ALL_STATES
            .iter()
            .map(|s| (s.as_str().to_owned(), s.label(v.t.lang).to_owned()))
            .collect(),
        prev_link: if page > 1 {
            link(page - 1)
        } else {
            String::new()
        },
        next_link: if page < pages {
            link(page + 1)
        } else {
            String::new()
        },
        page,
        pages,
        total,
    };
    html(StatusCode::OK, &p)
}

/// Renders the inbox for a user, as the benchmark measures it.
pub fn render_inbox_for_benchmark(state: &UiState, lang: &str, page: usize) -> Response {
    // A legal officer's view: the benchmark's cases are all TLP:CLEAR.
    let v = Visitor {
        user: Some(User {
            username: "benchmark".into(),
            role: liaison_core::roles::Role::LegalOfficer,
            lang: lang.into(),
            clearance: liaison_core::tlp::Tlp::AmberStrict,
        }),
        csrf: String::new(),
        cookie: None,
        t: Tr::new(lang),
    };
    render_cases(
        state,
        &v,
        CasesQuery {
            box_: Some("in".into()),
            kind: None,
            state: None,
            page: Some(page),
        },
    )
}

#[derive(Template)]
#[template(path = "new_case.html")]
pub(super) struct NewCasePage {
    l: Layout,
    kind: String,
    kind_label: String,
    kinds: Vec<(String, String)>,
    peers: Vec<(String, String)>,
    /// The recipients chosen (one, or several where the kind takes them).
    to: Vec<String>,
    /// Whether the kind may open with several recipients.
    many: bool,
    fields: Vec<FieldView>,
    error: String,
}

#[derive(Deserialize)]
pub(super) struct KindQuery {
    kind: Option<String>,
}

pub(super) fn party_peers(state: &UiState) -> Vec<(String, String)> {
    state
        .node
        .peers()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.card.role == liaison_proto::NodeRole::Party)
        .map(|p| (p.party.to_string(), p.card.name.clone()))
        .collect()
}

pub(super) fn new_case_view(
    state: &UiState,
    v: &Visitor,
    kind: CaseKind,
    to: &[String],
    form: &Submitted,
    errors: &HashMap<String, &'static str>,
    error: String,
) -> NewCasePage {
    NewCasePage {
        l: Layout::new(state, v, "new"),
        kind: kind.as_str().into(),
        kind_label: kind.label(v.t.lang).into(),
        kinds: OPENING_KINDS
            .iter()
            .filter(|k| {
                v.user
                    .as_ref()
                    .is_some_and(|u| u.role.allows(Permission::Open(**k)))
            })
            .map(|k| (k.as_str().to_owned(), k.label(v.t.lang).to_owned()))
            .collect(),
        peers: party_peers(state),
        to: to.to_vec(),
        many: kind.takes_many_recipients(),
        fields: forms::views(kind, &v.t, form, errors),
        error,
    }
}

pub(super) async fn new_case_page(
    State(state): State<UiState>,
    v: Visitor,
    Query(q): Query<KindQuery>,
) -> Response {
    let kind = CaseKind::parse(q.kind.as_deref().unwrap_or("mla")).unwrap_or(CaseKind::Mla);
    if let Err(r) = v.require(Permission::Open(kind), "/cases/new") {
        return r;
    }
    let defaults = forms::defaults(kind, &state.node.config().node.name);
    let to: Vec<String> = party_peers(&state)
        .first()
        .map(|p| p.0.clone())
        .into_iter()
        .collect();
    html(
        StatusCode::OK,
        &new_case_view(
            &state,
            &v,
            kind,
            &to,
            &defaults,
            &HashMap::new(),
            String::new(),
        ),
    )
}

/// Turns a node error into field errors (shown in place) or a banner.
pub(super) fn field_errors(
    t: &Tr,
    kind: CaseKind,
    e: &NodeError,
) -> (HashMap<String, &'static str>, String) {
    let mut map = HashMap::new();
    match e {
        NodeError::Core(CoreError::Field {
            field,
            problem,
            message,
        }) => {
            // A nested path (`indicators.1.value`) belongs to the form field holding it.
            let shown = forms::spec(kind)
                .iter()
                .map(|f| f.name)
                .find(|name| field == name || field.starts_with(&format!("{name}.")))
                .unwrap_or(field);
            map.insert(
                shown.to_owned(),
                match problem {
                    FieldProblem::Required => "required",
                    FieldProblem::TooLong => "too_long",
                    FieldProblem::Invalid => "invalid",
                },
            );
            let banner = if t.lang == "en" {
                message.clone()
            } else {
                t.get("error.form").to_owned()
            };
            (map, banner)
        }
        other => {
            let banner = if t.lang == "en" {
                other.to_string()
            } else {
                t.get("error.form").to_owned()
            };
            (map, banner)
        }
    }
}

pub(super) async fn new_case(
    State(state): State<UiState>,
    v: Visitor,
    CheckedForm(form): CheckedForm,
) -> Response {
    let kind = match CaseKind::parse(form.one("kind")) {
        Ok(k) => k,
        Err(_) => return not_found(&state, &v),
    };
    if let Err(r) = v.require(Permission::Open(kind), "/cases/new") {
        return r;
    }
    // Every box ticked (a select sends one).
    let to: Vec<String> = form.all("to").to_vec();
    let body = match forms::body_from_form(kind, &form) {
        Ok(b) => b,
        Err(errors) => {
            let page = new_case_view(
                &state,
                &v,
                kind,
                &to,
                &form,
                &errors,
                v.t.get("error.form").to_owned(),
            );
            return html(StatusCode::BAD_REQUEST, &page);
        }
    };
    let opened = state
        .node
        .open_case_with(&to, kind.as_str(), body, Default::default())
        .await;
    match opened {
        Ok(sent) => Redirect::to(&format!("/cases/{}", sent.case_id)).into_response(),
        Err(e) => {
            let (errors, banner) = field_errors(&v.t, kind, &e);
            html(
                StatusCode::BAD_REQUEST,
                &new_case_view(&state, &v, kind, &to, &form, &errors, banner),
            )
        }
    }
}
