//! The pages: handlers and the data each template shows.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use liaison_core::case::{ALL_KINDS, CaseKind};
use liaison_core::lifecycle::{ALL_STATES, Action};
use liaison_core::roles::Permission;
use liaison_core::{CoreError, FieldProblem};
use liaison_node::NodeError;
use liaison_node::federation::CaseDetail;
use liaison_node::stats::{Stats, median};
use liaison_node::users::{SignInError, User};
use liaison_store::federation::{self as db, CaseFilter};
use serde::Deserialize;

use super::charts::{self, Bar};
use super::forms::{self, FieldView, Submitted};
use super::i18n::Tr;
use super::{LANG_COOKIE, PRELOGIN_COOKIE, SESSION_COOKIE, UiState, Visitor, html};

/// Every page and form of the UI as (method, path template): the role ×
/// route matrix test walks this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/lang"),
    ("GET", "/cases"),
    ("GET", "/cases/new"),
    ("POST", "/cases/new"),
    ("GET", "/cases/{id}"),
    ("POST", "/cases/{id}/act"),
    ("GET", "/attachments/{sha256}"),
    ("GET", "/peers"),
    ("GET", "/audit"),
    ("POST", "/audit"),
    ("GET", "/escalations"),
    ("GET", "/transparency"),
    ("GET", "/transparency.json"),
    ("GET", "/glossary"),
    ("POST", "/glossary"),
    ("GET", "/glossary/{term}"),
    ("POST", "/glossary/{term}/propose"),
    ("POST", "/glossary/{term}/sign"),
    ("POST", "/glossary/{term}/diverge"),
    ("GET", "/crosswalks"),
    ("GET", "/norms"),
    ("GET", "/search"),
    ("POST", "/cases/{id}/norms"),
    ("POST", "/cases/{id}/update"),
    ("GET", "/duty"),
    ("POST", "/duty/shifts"),
    ("POST", "/duty/shifts/{shift}/remove"),
    ("POST", "/duty/ping"),
    ("GET", "/restricted-reads"),
    ("POST", "/cases/{id}/items"),
    ("GET", "/hashes"),
    ("POST", "/hashes/lookup"),
    ("POST", "/hashes/withdraw"),
    ("GET", "/static/style.css"),
    ("GET", "/static/app.js"),
];

pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/cases", get(cases))
        .route("/cases/new", get(new_case_page).post(new_case))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/act", post(act))
        .route("/attachments/{sha256}", get(attachment))
        .route("/peers", get(peers))
        .route("/audit", get(audit_page).post(run_audit))
        .route("/escalations", get(escalations))
        .route("/transparency", get(transparency))
        .route("/transparency.json", get(transparency_json))
        .merge(super::reference::routes())
        .merge(super::operations::routes())
        .merge(super::content::routes())
        .route(
            "/static/style.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=3600"),
                    ],
                    include_str!("../../assets/style.css"),
                )
            }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=3600"),
                    ],
                    include_str!("../../assets/app.js"),
                )
            }),
        )
}

/// What every page's frame shows.
pub struct Layout {
    pub t: Tr,
    pub user: Option<User>,
    pub csrf: String,
    pub party: String,
    pub node_name: String,
    pub active: &'static str,
}

impl Layout {
    pub(super) fn new(state: &UiState, v: &Visitor, active: &'static str) -> Layout {
        Layout {
            t: v.t,
            user: v.user.clone(),
            csrf: v.csrf.clone(),
            party: state.node.party.to_string(),
            node_name: state.node.config.node.name.clone(),
            active,
        }
    }

    /// Whether the signed-in user may see a section (for the navigation).
    pub fn can(&self, what: &str) -> bool {
        let Some(u) = &self.user else { return false };
        u.role.allows(match what {
            "cases" => Permission::ReadCases,
            "operations" => Permission::ReadOperations,
            "reference" => Permission::ReadReference,
            "users" => Permission::ManageUsers,
            "hashes" => Permission::MatchHashes,
            _ => Permission::ReadAggregates,
        })
    }

    pub fn user_label(&self) -> String {
        self.user
            .as_ref()
            .map(|u| format!("{} ({})", u.username, self.t.role(u.role.as_str())))
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    l: Layout,
}

pub fn forbidden(v: &Visitor) -> Response {
    let l = Layout {
        t: v.t,
        user: v.user.clone(),
        csrf: v.csrf.clone(),
        party: String::new(),
        node_name: String::new(),
        active: "",
    };
    html(StatusCode::FORBIDDEN, &ForbiddenPage { l })
}

pub(super) fn not_found(state: &UiState, v: &Visitor) -> Response {
    html(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            l: Layout::new(state, v, ""),
        },
    )
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    l: Layout,
}

pub(super) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!("page failed: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

// ---------- login ----------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    error: String,
    next: String,
    prelogin: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn random_token() -> String {
    let mut raw = [0u8; 24];
    let _ = getrandom::fill(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

async fn login_page(
    State(state): State<UiState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let prelogin = random_token();
    let page = LoginPage {
        l: Layout::new(&state, &v, "login"),
        error: String::new(),
        next: super::safe_next(q.next.as_deref().unwrap_or("/")),
        prelogin: prelogin.clone(),
    };
    let mut r = html(StatusCode::OK, &page);
    r.headers_mut().append(
        header::SET_COOKIE,
        state.cookie(PRELOGIN_COOKIE, &prelogin, 3600),
    );
    r
}

async fn login(State(state): State<UiState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    // Who counts against the sign-in limits: the socket (or trusted proxy's) client.
    let client = crate::auth::client_of(&parts);
    let headers = parts.headers;
    let body = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response(),
    };
    let v = Visitor::from_headers(&state, &headers);
    let form = Submitted::parse(&body);
    let (username, password, next) = (
        form.one("username").trim().to_owned(),
        form.one("password").to_owned(),
        super::safe_next(form.one("next")),
    );
    let fail = |error_key: &str, status: StatusCode| {
        let prelogin = random_token();
        let page = LoginPage {
            l: Layout::new(&state, &v, "login"),
            error: v.t.get(error_key).to_owned(),
            next: next.clone(),
            prelogin: prelogin.clone(),
        };
        let mut r = html(status, &page);
        r.headers_mut().append(
            header::SET_COOKIE,
            state.cookie(PRELOGIN_COOKIE, &prelogin, 3600),
        );
        r
    };
    // Login CSRF: the form must echo the cookie set with it.
    let cookie = super::cookie_value(&headers, PRELOGIN_COOKIE).unwrap_or("");
    if cookie.is_empty()
        || !super::constant_time_eq(cookie.as_bytes(), form.one("prelogin").as_bytes())
    {
        return fail("error.csrf", StatusCode::FORBIDDEN);
    }
    let user = match state
        .node
        .sign_in(&client, &username, &password, false)
        .await
    {
        Ok(user) => user,
        Err(SignInError::Wrong) => return fail("login.failed", StatusCode::UNAUTHORIZED),
        Err(SignInError::TooMany) => return fail("login.too_many", StatusCode::TOO_MANY_REQUESTS),
        Err(SignInError::Busy) => return fail("login.busy", StatusCode::SERVICE_UNAVAILABLE),
        Err(SignInError::Failed(e)) => return internal(e),
    };
    let (cookie, _csrf) = match state.node.start_session(&user.username).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        state.cookie(SESSION_COOKIE, &cookie, state.node.session_secs()),
    );
    r.headers_mut()
        .append(header::SET_COOKIE, state.cookie(PRELOGIN_COOKIE, "", 0));
    r
}

async fn logout(State(state): State<UiState>, headers: HeaderMap, body: Bytes) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.check_csrf(Submitted::parse(&body).one("csrf")) {
        return r;
    }
    if let Some(c) = &v.cookie
        && let Err(e) = state.node.end_session(c).await
    {
        return internal(e);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, state.cookie(SESSION_COOKIE, "", 0));
    r
}

/// Switches the language: the user's setting, or a cookie before login.
async fn set_lang(State(state): State<UiState>, headers: HeaderMap, body: Bytes) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let form = Submitted::parse(&body);
    let lang = if form.one("lang") == "ru" { "ru" } else { "en" };
    let back = super::safe_next(form.one("next"));
    let mut r = Redirect::to(&back).into_response();
    match &v.user {
        Some(u) => {
            if let Err(resp) = v.check_csrf(form.one("csrf")) {
                return resp;
            }
            if let Err(e) = state.node.set_user_lang(&u.username, lang).await {
                return internal(e);
            }
        }
        None => {
            r.headers_mut().append(
                header::SET_COOKIE,
                state.cookie(LANG_COOKIE, lang, 365 * 86_400),
            );
        }
    }
    r
}

// ---------- dashboard ----------

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
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

async fn dashboard(State(state): State<UiState>, headers: HeaderMap) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let user = match v.require(Permission::ReadAggregates, "/") {
        Ok(u) => u,
        Err(r) => return r,
    };
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

// ---------- cases ----------

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
struct CasesPage {
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
struct CasesQuery {
    #[serde(rename = "box")]
    box_: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    page: Option<usize>,
}

const PAGE_SIZE: usize = 50;

async fn cases(
    State(state): State<UiState>,
    headers: HeaderMap,
    Query(q): Query<CasesQuery>,
) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.require(Permission::ReadCases, "/cases") {
        return r;
    }
    render_cases(&state, &v, q)
}

/// The inbox / outbox page (also used by the rendering benchmark).
fn render_cases(state: &UiState, v: &Visitor, q: CasesQuery) -> Response {
    let node = &state.node;
    let box_ = match q.box_.as_deref() {
        Some("out") => "out",
        Some("all") => "all",
        _ => "in",
    };
    let kind = q.kind.filter(|k| CaseKind::parse(k).is_ok());
    let st = q
        .state
        .filter(|s| liaison_core::lifecycle::State::parse(s).is_some() || s == "open");
    let page = q.page.unwrap_or(1).max(1);
    let me = node.party.to_string();
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
        state: st.as_deref(),
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let (rows, total) = match node.store.read(|c| db::case_page(c, &filter)) {
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
                kind: v.t.kind(&c.kind).to_owned(),
                state: v.t.state(&c.state).to_owned(),
                state_code: c.state.clone(),
                updated: c.updated.replace('T', " ").trim_end_matches('Z').to_owned(),
                subject: liaison_core::case::title(
                    &c.kind,
                    &c.subject,
                    c.offence.as_deref(),
                    v.t.lang,
                ),
                tlp_label: tlp_label(&v.t, &c.tlp),
                tlp: c.tlp,
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
            st.as_deref().unwrap_or("")
        )
    };
    let p = CasesPage {
        l: Layout::new(state, v, box_),
        rows: lines,
        box_: box_.into(),
        kind: kind.clone().unwrap_or_default(),
        state: st.clone().unwrap_or_default(),
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
struct NewCasePage {
    l: Layout,
    kind: String,
    kind_label: String,
    kinds: Vec<(String, String)>,
    peers: Vec<(String, String)>,
    to: String,
    fields: Vec<FieldView>,
    error: String,
}

#[derive(Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

fn party_peers(state: &UiState) -> Vec<(String, String)> {
    state
        .node
        .peers()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.card.role == liaison_proto::NodeRole::Party)
        .map(|p| (p.party.to_string(), p.card.name.clone()))
        .collect()
}

fn new_case_view(
    state: &UiState,
    v: &Visitor,
    kind: CaseKind,
    to: &str,
    form: &Submitted,
    errors: &HashMap<String, &'static str>,
    error: String,
) -> NewCasePage {
    NewCasePage {
        l: Layout::new(state, v, "new"),
        kind: kind.as_str().into(),
        kind_label: kind.label(v.t.lang).into(),
        kinds: ALL_KINDS
            .iter()
            .filter(|k| {
                v.user
                    .as_ref()
                    .is_some_and(|u| u.role.allows(Permission::Open(**k)))
            })
            .map(|k| (k.as_str().to_owned(), k.label(v.t.lang).to_owned()))
            .collect(),
        peers: party_peers(state),
        to: to.into(),
        fields: forms::views(kind, &v.t, form, errors),
        error,
    }
}

async fn new_case_page(
    State(state): State<UiState>,
    headers: HeaderMap,
    Query(q): Query<KindQuery>,
) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let kind = CaseKind::parse(q.kind.as_deref().unwrap_or("mla")).unwrap_or(CaseKind::Mla);
    if let Err(r) = v.require(Permission::Open(kind), "/cases/new") {
        return r;
    }
    let defaults = forms::defaults(kind, &state.node.config.node.name);
    let to = party_peers(&state)
        .first()
        .map(|p| p.0.clone())
        .unwrap_or_default();
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
fn field_errors(t: &Tr, kind: CaseKind, e: &NodeError) -> (HashMap<String, &'static str>, String) {
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

async fn new_case(State(state): State<UiState>, headers: HeaderMap, body: Bytes) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let form = Submitted::parse(&body);
    let kind = match CaseKind::parse(form.one("kind")) {
        Ok(k) => k,
        Err(_) => return not_found(&state, &v),
    };
    if let Err(r) = v.require(Permission::Open(kind), "/cases/new") {
        return r;
    }
    if let Err(r) = v.check_csrf(form.one("csrf")) {
        return r;
    }
    let to = form.one("to").to_owned();
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
    match state.node.open_case(&to, kind.as_str(), body).await {
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

pub struct MessageLine {
    pub created: String,
    pub outgoing: bool,
    pub sender: String,
    pub title: String,
    pub lines: Vec<(String, String)>,
    pub delivery: String,
    pub receipt: String,
    pub receipt_ok: bool,
    pub log_index: u64,
    pub attachments: Vec<(String, String)>,
}

pub struct ActionForm {
    pub action: String,
    pub label: String,
    pub text: bool,
    pub ground: bool,
    pub days: bool,
}

/// An item of a content report on its case page.
pub struct ItemLine {
    pub index: usize,
    pub kind: String,
    pub value: String,
    pub labels: String,
    pub status: String,
    pub status_label: String,
    pub reason: String,
    pub due: String,
    pub overdue: bool,
    pub listed_as: String,
    /// Statuses the provider's side may move the item to now.
    pub moves: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "case.html")]
pub(super) struct CasePage {
    l: Layout,
    title: String,
    d: CaseDetail,
    kind_label: String,
    state_label: String,
    role_label: String,
    messages: Vec<MessageLine>,
    actions: Vec<ActionForm>,
    grounds: Vec<(String, String)>,
    deadlines: Vec<(String, String, bool)>,
    hint: Vec<(String, String)>,
    hint_title: String,
    /// Norms the case is tagged with, and all norms for the tag form: (id, short text).
    norm_tags: Vec<(String, String)>,
    norm_options: Vec<(String, String)>,
    may_tag: bool,
    /// The thread's TLP marking: code, label, who may receive it.
    tlp: (String, String, String),
    /// An update form (incidents, hotline) and whether it may change the marking.
    may_update: bool,
    may_retag: bool,
    severities: Vec<(String, String)>,
    tlps: Vec<(String, String)>,
    /// Content reports: the items, and whether this user answers them.
    items: Vec<ItemLine>,
    may_answer: bool,
    error: String,
}

/// Flattens a request body into (label, value) lines in the user's language.
fn body_lines(t: &Tr, prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                body_lines(t, &path, v, out);
            }
        }
        // Shown as the items table; answers as their own lines.
        serde_json::Value::Array(_) if prefix == "items" => {}
        serde_json::Value::Array(answers) if prefix == "answers" => {
            for a in answers {
                let n = a.get("item").and_then(|x| x.as_u64()).unwrap_or(0);
                let status = a.get("status").and_then(|x| x.as_str()).unwrap_or("");
                let reason = a.get("reason").and_then(|x| x.as_str()).unwrap_or("");
                let mut text = t.value("item_status", status);
                if !reason.is_empty() {
                    text = format!("{text} — {reason}");
                }
                out.push((format!("{} {}", t.get("case.item"), n + 1), text));
            }
        }
        serde_json::Value::Array(items) if prefix == "indicators" => {
            if items.is_empty() {
                return;
            }
            let text = items
                .iter()
                .map(|i| {
                    let s = |k: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or("");
                    let kind = t.value("indicator_type", s("type"));
                    match s("description") {
                        "" => format!("{kind}: {}", s("value")),
                        d => format!("{kind}: {} — {d}", s("value")),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.push((t.get("field.indicators").to_owned(), text));
        }
        other => {
            let key = format!("field.{prefix}");
            let label = t.get(&key);
            if label == key {
                return;
            }
            let text = match other {
                serde_json::Value::String(s) if prefix == "tlp" => tlp_label(t, s),
                serde_json::Value::String(s) if prefix == "offence.id" => t.offence(s),
                serde_json::Value::String(s) => enum_label(t, prefix, s),
                serde_json::Value::Bool(b) => t
                    .get(if *b { "common.yes" } else { "common.no" })
                    .to_owned(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(|s| {
                                if prefix == "sectors" {
                                    t.sector(s)
                                } else {
                                    enum_label(t, prefix, s)
                                }
                            })
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            out.push((label.to_owned(), text));
        }
    }
}

fn enum_label(t: &Tr, field: &str, value: &str) -> String {
    let enumeration = match field {
        "data_sought" => "data_category",
        "assistance_sought" => "assistance_type",
        "request_type" => "request_type",
        "preferred_channel" => "channel",
        "legal_basis" => "legal_basis",
        "urgency" => "urgency",
        "risk_type" => "risk_type",
        "ground" => "refusal_ground",
        "severity" => "severity",
        "request" => "incident_request",
        _ => return value.to_owned(),
    };
    t.value(enumeration, value)
}

/// A TLP marking (any accepted form) as its label in the reader's language.
pub(super) fn tlp_label(t: &Tr, tlp: &str) -> String {
    liaison_core::tlp::Tlp::parse(tlp)
        .map(|l| l.label_in(t.lang).to_owned())
        .unwrap_or_else(|_| tlp.to_owned())
}

/// The case page as `user` may see it. It goes through the node's
/// recorded read, so no rendering of a case (page, or a form's error page)
/// can skip the audit of a restricted read, or show a case above the
/// user's clearance.
pub(super) async fn case_view(
    state: &UiState,
    v: &Visitor,
    user: &User,
    id: &str,
    error: String,
) -> Result<CasePage, Response> {
    let t = v.t;
    let d = match state.node.case_detail_for(user, id, "ui").await {
        Ok(d) => d,
        Err(NodeError::Store(liaison_store::StoreError::NotFound(_))) => {
            return Err(not_found(state, v));
        }
        Err(e) => return Err(internal(e)),
    };
    let messages = d
        .messages
        .iter()
        .map(|m| {
            let mut lines = Vec::new();
            let title = if m.kind == liaison_core::case::TRANSITION {
                let action = m.body.get("action").and_then(|a| a.as_str()).unwrap_or("");
                if let Some(text) = m
                    .body
                    .get("text")
                    .and_then(|x| x.as_str())
                    .filter(|s| !s.is_empty())
                {
                    lines.push((t.get("field.text").to_owned(), text.to_owned()));
                }
                if let Some(g) = m.body.get("ground").and_then(|x| x.as_str()) {
                    lines.push((
                        t.get("field.ground").to_owned(),
                        t.value("refusal_ground", g),
                    ));
                }
                if let Some(days) = m.body.get("days").and_then(|x| x.as_i64()) {
                    lines.push((t.get("field.days").to_owned(), days.to_string()));
                }
                t.action(action).to_owned()
            } else if m.kind == liaison_core::incident::UPDATE {
                body_lines(&t, "", &m.body, &mut lines);
                t.get("case.update").to_owned()
            } else if m.kind == liaison_core::content::ITEM_STATUS {
                body_lines(&t, "", &m.body, &mut lines);
                t.get("case.items_answer").to_owned()
            } else {
                body_lines(&t, "", &m.body, &mut lines);
                // Show the fields in the order of the request form.
                if let Ok(kind) = CaseKind::parse(&m.kind) {
                    let order: Vec<String> = forms::spec(kind)
                        .iter()
                        .map(|f| t.get(&format!("field.{}", f.name)).to_owned())
                        .collect();
                    lines.sort_by_key(|(label, _)| {
                        order.iter().position(|o| o == label).unwrap_or(usize::MAX)
                    });
                }
                t.kind(&m.kind).to_owned()
            };
            let (receipt, receipt_ok) = match m.receipt_verified {
                Some(true) => (t.get("case.receipt_ok").to_owned(), true),
                Some(false) => (t.get("case.receipt_bad").to_owned(), false),
                None => (t.get("case.receipt_none").to_owned(), false),
            };
            let attachments = m
                .attachments
                .iter()
                .map(|a| (a.sha256.clone(), a.name.clone()))
                .collect();
            MessageLine {
                created: m.created.replace('T', " ").trim_end_matches('Z').to_owned(),
                outgoing: m.direction == "out",
                sender: m.sender.clone(),
                title,
                lines,
                delivery: t.get(&format!("delivery.{}", m.delivery)).to_owned(),
                receipt,
                receipt_ok,
                log_index: m.log_index,
                attachments,
            }
        })
        .collect();
    let kind = CaseKind::parse(&d.case.kind).ok();
    let user = v.user.as_ref();
    let may_act = kind.is_some_and(|k| user.is_some_and(|u| u.role.allows(Permission::Act(k))));
    let actions = if may_act {
        d.available_actions
            .iter()
            .filter_map(|a| Action::parse(a).ok())
            .map(|a| ActionForm {
                action: a.as_str().into(),
                label: a.label(t.lang).into(),
                text: !matches!(
                    a,
                    Action::Acknowledge
                        | Action::StartReview
                        | Action::StartExecution
                        | Action::Close
                ),
                ground: a == Action::Refuse,
                days: a == Action::Extend,
            })
            .collect()
    } else {
        Vec::new()
    };
    let now = jiff::Timestamp::now();
    let deadlines = d
        .deadlines
        .iter()
        .map(|dl| {
            let overdue = dl.due.parse::<jiff::Timestamp>().is_ok_and(|due| due < now);
            (
                t.get(&format!("deadline.{}", dl.name)).to_owned(),
                dl.due.replace('T', " ").trim_end_matches('Z').to_owned(),
                overdue,
            )
        })
        .collect();
    let (hint_title, hint) = match &d.offence_hint {
        Some(h) => (
            format!(
                "{} ({} {})",
                if t.lang == "ru" { &h.ru } else { &h.en },
                t.get("case.budapest_article"),
                h.budapest_article
            ),
            h.statutes
                .iter()
                .map(|s| {
                    (
                        s.cite.clone(),
                        if t.lang == "ru" {
                            s.ru.clone()
                        } else {
                            s.en.clone()
                        },
                    )
                })
                .collect(),
        ),
        None => (String::new(), Vec::new()),
    };
    let tags = state
        .node
        .store
        .read(|c| liaison_store::reference::case_norm_tags(c, id))
        .map_err(internal)?;
    let norm_text = |n: &liaison_core::reference::Norm| {
        let text = n.text(t.lang);
        match text.char_indices().nth(90) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        }
    };
    let norms = &liaison_core::reference::NORMS.norms;
    let norm_tags = norms
        .iter()
        .filter(|n| tags.contains(&n.id))
        .map(|n| (n.id.clone(), norm_text(n)))
        .collect();
    let norm_options = norms
        .iter()
        .filter(|n| !tags.contains(&n.id))
        .map(|n| (n.id.clone(), norm_text(n)))
        .collect();
    let may_tag = user.is_some_and(|u| {
        u.role.allows(Permission::EditReference) && u.role.allows(Permission::ReadCases)
    });
    let tlp = liaison_core::tlp::Tlp::parse(&d.case.tlp).unwrap_or(liaison_core::tlp::Tlp::Red);
    let open =
        liaison_core::lifecycle::State::parse(&d.case.state).is_none_or(|s| !s.is_terminal());
    let may_update = open && kind.is_some_and(|k| k.takes_updates()) && may_act;
    let enum_options = |name: &str| {
        liaison_core::legal::enumerations()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, values)| {
                values
                    .into_iter()
                    .map(|(v, en, ru)| {
                        (
                            v.to_owned(),
                            if t.lang == "ru" { ru } else { en }.to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let may_answer =
        open && may_act && d.role == "requested" && kind == Some(CaseKind::ContentReport);
    let items = d
        .items
        .iter()
        .flatten()
        .map(|i| {
            let mut labels = vec![
                t.value("behaviour", i.item.behaviour.as_str()),
                t.value("urgency_tier", i.item.urgency.as_str()),
            ];
            if !i.item.entity.is_empty() {
                labels.push(i.item.entity.clone());
            }
            ItemLine {
                index: i.index,
                kind: t.value("item_type", i.item.kind.as_str()),
                value: i.item.value.clone(),
                labels: labels.join(" · "),
                status: i.state.status.as_str().to_owned(),
                status_label: t.value("item_status", i.state.status.as_str()),
                reason: i.state.reason.clone(),
                due: i
                    .due
                    .as_deref()
                    .map(|d| d.replace('T', " ").trim_end_matches('Z').to_owned())
                    .unwrap_or_default(),
                overdue: i.overdue,
                listed_as: i.listed_as.clone().unwrap_or_default(),
                moves: liaison_core::content::ItemStatus::ALL
                    .iter()
                    .filter(|s| i.state.status.check_move(**s).is_ok())
                    .map(|s| (s.as_str().to_owned(), t.value("item_status", s.as_str())))
                    .collect(),
            }
        })
        .collect();
    Ok(CasePage {
        items,
        may_answer,
        tlp: (
            tlp.as_str().to_owned(),
            tlp.label().to_owned(),
            tlp.meaning(t.lang).to_owned(),
        ),
        may_update,
        may_retag: may_update && d.case.initiator == state.node.party.as_str(),
        severities: enum_options("severity"),
        tlps: enum_options("tlp"),
        norm_tags,
        norm_options,
        may_tag,
        title: liaison_core::case::title(
            &d.case.kind,
            &d.case.subject,
            d.case.offence.as_deref(),
            t.lang,
        ),
        kind_label: t.kind(&d.case.kind).into(),
        state_label: t.state(&d.case.state).into(),
        role_label: t.get(&format!("case.role_{}", d.role)).into(),
        l: Layout::new(state, v, "case"),
        messages,
        actions,
        grounds: liaison_core::legal::RefusalGround::ALL
            .iter()
            .map(|g| (g.as_str().to_owned(), g.label(t.lang).to_owned()))
            .collect(),
        deadlines,
        hint,
        hint_title,
        d,
        error,
    })
}

async fn case_page(
    State(state): State<UiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let user = match v.require(Permission::ReadCases, &format!("/cases/{id}")) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    // A case whose marking excludes the user is not found; restricted reads are recorded.
    match case_view(&state, &v, &user, &id, String::new()).await {
        Ok(p) => html(StatusCode::OK, &p),
        Err(r) => r,
    }
}

async fn act(
    State(state): State<UiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let user = match v.require(Permission::ReadCases, &format!("/cases/{id}")) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let kind = match state.node.case_for(&user, &id) {
        Ok(Some(c)) => CaseKind::parse(&c.kind).unwrap_or(CaseKind::Note),
        Ok(None) => return not_found(&state, &v),
        Err(e) => return internal(e),
    };
    if let Err(r) = v.require(Permission::Act(kind), &format!("/cases/{id}")) {
        return r;
    }
    let form = Submitted::parse(&body);
    if let Err(r) = v.check_csrf(form.one("csrf")) {
        return r;
    }
    let mut details = serde_json::Map::new();
    if !form.one("text").trim().is_empty() {
        details.insert("text".into(), form.one("text").trim().into());
    }
    if !form.one("ground").is_empty() {
        details.insert("ground".into(), form.one("ground").into());
    }
    if !form.one("days").is_empty() {
        details.insert(
            "days".into(),
            form.one("days")
                .parse::<u32>()
                .map(Into::into)
                .unwrap_or(serde_json::Value::Null),
        );
    }
    match state
        .node
        .act(&id, form.one("action"), serde_json::Value::Object(details))
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => {
            let message = match &e {
                NodeError::Core(CoreError::Field { field, problem, .. }) => {
                    format!(
                        "{}: {}",
                        v.t.get(&format!("field.{field}")),
                        v.t.get(&format!("error.{}", problem.as_str()))
                    )
                }
                NodeError::Store(liaison_store::StoreError::Conflict(_)) => {
                    v.t.get("error.not_allowed").to_owned()
                }
                other if v.t.lang == "en" => other.to_string(),
                _ => v.t.get("error.form").to_owned(),
            };
            match case_view(&state, &v, &user, &id, message).await {
                Ok(p) => html(StatusCode::BAD_REQUEST, &p),
                Err(r) => r,
            }
        }
    }
}

/// An attachment, downloaded by a signed-in reader of every case listing it.
async fn attachment(
    State(state): State<UiState>,
    headers: HeaderMap,
    Path(sha256): Path<String>,
) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let path = format!("/attachments/{}", super::urlencode(&sha256));
    let user = match v.require(Permission::ReadCases, &path) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    match crate::downloads::attachment(&state.node, &user, &sha256, "ui").await {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found(&state, &v),
        Err(e) => internal(e.message),
    }
}

// ---------- operations ----------

pub struct PeerLine {
    pub party: String,
    pub name: String,
    pub role: String,
    pub url: String,
    pub pending: i64,
    pub delivered: i64,
    pub refused: i64,
    pub last_delivery: String,
    pub log_size: String,
}

#[derive(Template)]
#[template(path = "peers.html")]
struct PeersPage {
    l: Layout,
    rows: Vec<PeerLine>,
    last_audit: String,
}

async fn peers(State(state): State<UiState>, headers: HeaderMap) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.require(Permission::ReadOperations, "/peers") {
        return r;
    }
    let mut rows = Vec::new();
    for p in state.node.peers().unwrap_or_default() {
        let party = p.party.to_string();
        let (pending, delivered, refused) = state
            .node
            .store
            .read(|c| db::outbox_counts(c, &party))
            .unwrap_or_default();
        let last_delivery = state
            .node
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT MAX(delivered_at) FROM outbox WHERE peer = ?1",
                    [&party],
                    |r| r.get::<_, Option<String>>(0),
                )?)
            })
            .ok()
            .flatten()
            .map(|s| s.replace('T', " ").trim_end_matches('Z').to_owned())
            .unwrap_or_else(|| "—".into());
        let log_size = state
            .node
            .store
            .read(|c| db::peer_checkpoints(c, &party))
            .ok()
            .and_then(|cps| cps.into_iter().map(|c| c.size).max())
            .map(|s| s.to_string())
            .unwrap_or_else(|| "—".into());
        rows.push(PeerLine {
            role: if p.card.role == liaison_proto::NodeRole::Witness {
                v.t.get("peers.witness").into()
            } else {
                v.t.get("peers.party").into()
            },
            name: p.card.name.clone(),
            url: p.card.federation_url.clone(),
            party,
            pending,
            delivered,
            refused,
            last_delivery,
            log_size,
        });
    }
    let last_audit = state
        .node
        .store
        .meta("last_audit_summary")
        .ok()
        .flatten()
        .unwrap_or_default();
    html(
        StatusCode::OK,
        &PeersPage {
            l: Layout::new(&state, &v, "peers"),
            rows,
            last_audit,
        },
    )
}

pub struct AuditLine {
    pub party: String,
    pub ok: bool,
    pub size: String,
    pub cosigned: String,
    pub checkpoints: usize,
    pub receipts: usize,
    pub problems: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    ran_at: String,
    rows: Vec<AuditLine>,
}

fn audit_lines(report: &serde_json::Value) -> Vec<AuditLine> {
    report["peers"]
        .as_array()
        .map(|peers| {
            peers
                .iter()
                .map(|p| AuditLine {
                    party: p["party"].as_str().unwrap_or("").into(),
                    ok: p["ok"].as_bool().unwrap_or(false),
                    size: p["size"]
                        .as_u64()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "—".into()),
                    cosigned: p["cosigned_by"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default(),
                    checkpoints: p["checkpoints_checked"].as_u64().unwrap_or(0) as usize,
                    receipts: p["receipts_verified"].as_u64().unwrap_or(0) as usize,
                    problems: p["problems"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|x| {
                                    (
                                        x["kind"].as_str().unwrap_or("").to_owned(),
                                        x["message"].as_str().unwrap_or("").to_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn audit_page(State(state): State<UiState>, headers: HeaderMap) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.require(Permission::ReadOperations, "/audit") {
        return r;
    }
    let last: serde_json::Value = state
        .node
        .store
        .meta("last_audit")
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    let page = AuditPage {
        l: Layout::new(&state, &v, "audit"),
        ran_at: last["ran_at"]
            .as_str()
            .unwrap_or("")
            .replace('T', " ")
            .trim_end_matches('Z')
            .to_owned(),
        rows: audit_lines(&last["report"]),
    };
    html(StatusCode::OK, &page)
}

async fn run_audit(State(state): State<UiState>, headers: HeaderMap, body: Bytes) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.require(Permission::ReadOperations, "/audit") {
        return r;
    }
    if let Err(r) = v.check_csrf(Submitted::parse(&body).one("csrf")) {
        return r;
    }
    match state.node.audit(None).await {
        Ok(report) => {
            let summary = format!(
                "{} — {}",
                liaison_node::now_rfc3339(),
                if report.ok { "OK" } else { "PROBLEMS" }
            );
            let stored =
                serde_json::json!({"ran_at": liaison_node::now_rfc3339(), "report": report})
                    .to_string();
            let _ = state
                .node
                .store
                .write(move |tx| {
                    liaison_store::set_meta(tx.conn(), "last_audit", &stored)?;
                    liaison_store::set_meta(tx.conn(), "last_audit_summary", &summary)
                })
                .await;
            Redirect::to("/audit").into_response()
        }
        Err(e) => internal(e),
    }
}

pub struct EscalationLine {
    pub at: String,
    pub level: String,
    pub hard: bool,
    pub deadline: String,
    pub subject: String,
    pub case_link: String,
    pub due: String,
    pub email: String,
    pub webhook: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "escalations.html")]
struct EscalationsPage {
    l: Layout,
    rows: Vec<EscalationLine>,
}

async fn escalations(State(state): State<UiState>, headers: HeaderMap) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    let user = match v.require(Permission::ReadOperations, "/escalations") {
        Ok(u) => u,
        Err(r) => return r,
    };
    let rows = match state.node.escalations_for(user, 500) {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let rows = rows
        .into_iter()
        .map(|e| EscalationLine {
            at: e.at.replace('T', " ").trim_end_matches('Z').to_owned(),
            hard: e.level == "hard",
            level: v.t.get(&format!("escalation.{}", e.level)).to_owned(),
            deadline: v.t.get(&format!("deadline.{}", e.deadline)).to_owned(),
            case_link: if e.subject.starts_with("alert:") {
                String::new()
            } else {
                format!("/cases/{}", e.subject)
            },
            subject: e.subject,
            due: e.due.replace('T', " ").trim_end_matches('Z').to_owned(),
            email: e.email_status,
            webhook: e.webhook_status,
            message: if v.t.lang == "en" {
                e.message
            } else {
                String::new()
            },
        })
        .collect();
    html(
        StatusCode::OK,
        &EscalationsPage {
            l: Layout::new(&state, &v, "escalations"),
            rows,
        },
    )
}

// ---------- transparency ----------

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    l: Layout,
    s: Stats,
    rows: Vec<(String, String, u64, u64)>,
    by_kind_chart: String,
    responsiveness_chart: String,
    medians: Vec<(String, String, String)>,
}

async fn transparency(State(state): State<UiState>, headers: HeaderMap) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.require(Permission::ReadAggregates, "/transparency") {
        return r;
    }
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
async fn transparency_json(State(state): State<UiState>, headers: HeaderMap) -> Response {
    let v = Visitor::from_headers(&state, &headers);
    if let Err(r) = v.require(Permission::ReadAggregates, "/transparency") {
        return r;
    }
    match state.node.stats() {
        Ok(s) => (
            [(header::CONTENT_TYPE, "application/json"), (header::CONTENT_DISPOSITION, "attachment; filename=\"liaison-transparency.json\"")],
            serde_json::to_string_pretty(&serde_json::json!({
                "party": state.node.party.as_str(),
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
