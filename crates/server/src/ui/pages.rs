//! The UI's route table: every page and form with what it needs of the
//! visitor and its handler (in one module per page group), and the guard
//! every page runs behind.

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use liaison_core::case::CaseKind;
use liaison_core::roles::Permission;

use super::case_page::{act, attachment, case_page};
use super::cases::{cases, new_case, new_case_page};
use super::dashboard::{dashboard, transparency, transparency_json};
use super::layout::forbidden;
use super::login::{login, login_page, logout, set_lang};
use super::oversight::{audit_page, escalations, peers, run_audit};
use super::{
    UiState, Visitor, content, directory, execution_forms, operations, reference, urlencode,
};
use crate::route_table::{Need, route_table};

use Need::{ActOnTheCase, Nobody, OpenTheKind, Role};
use Permission::{
    EditReference, ManageHashes, ManageUsers, MatchHashes, ReadAggregates, ReadCases,
    ReadOperations, ReadReference,
};

route_table! {
    state: UiState, guard: guarded;

    get "/", Role(ReadAggregates) => get(dashboard);
    get "/login", Nobody => get(login_page);
    // Checked against the pre-login cookie by the handler.
    post "/login", Nobody => post(login);
    post "/logout", Nobody => post(logout);
    post "/lang", Nobody => post(set_lang);
    get "/cases", Role(ReadCases) => get(cases);
    get "/cases/new", OpenTheKind => get(new_case_page);
    post "/cases/new", OpenTheKind => post(new_case);
    get "/cases/{id}", Role(ReadCases) => get(case_page);
    post "/cases/{id}/act", ActOnTheCase => post(act);
    post "/cases/{id}/forward", ActOnTheCase => post(execution_forms::forward);
    post "/cases/{id}/relay", ActOnTheCase => post(execution_forms::relay);
    post "/cases/{id}/notice", ActOnTheCase => post(execution_forms::notice);
    post "/cases/{id}/invite", ActOnTheCase => post(execution_forms::invite);
    post "/cases/{id}/accept", ActOnTheCase => post(execution_forms::accept);
    post "/cases/{id}/leave", ActOnTheCase => post(execution_forms::leave);
    // Multipart: the handler checks the CSRF field before it stores any file.
    post "/cases/{id}/produce", ActOnTheCase => post(execution_forms::produce)
        .layer(DefaultBodyLimit::max(execution_forms::MAX_PRODUCTION_FORM_BYTES));
    get "/attachments/{sha256}", Role(ReadCases) => get(attachment);
    get "/peers", Role(ReadOperations) => get(peers);
    get "/audit", Role(ReadOperations) => get(audit_page);
    post "/audit", Role(ReadOperations) => post(run_audit);
    get "/escalations", Role(ReadOperations) => get(escalations);
    get "/transparency", Role(ReadAggregates) => get(transparency);
    get "/transparency.json", Role(ReadAggregates) => get(transparency_json);
    get "/glossary", Role(ReadReference) => get(reference::glossary);
    post "/glossary", Role(EditReference) => post(reference::new_term);
    get "/glossary/{term}", Role(ReadReference) => get(reference::term_page);
    post "/glossary/{term}/propose", Role(EditReference) => post(reference::propose);
    post "/glossary/{term}/sign", Role(EditReference) => post(reference::sign);
    post "/glossary/{term}/diverge", Role(EditReference) => post(reference::diverge);
    get "/crosswalks", Role(ReadReference) => get(reference::crosswalks);
    get "/norms", Role(ReadReference) => get(reference::norms);
    get "/directory", Role(ReadReference) => get(directory::directory);
    get "/search", Role(ReadReference) => get(reference::search);
    post "/cases/{id}/norms", Role(EditReference) => post(reference::tag_case);
    post "/cases/{id}/update", ActOnTheCase => post(operations::add_update);
    get "/duty", Role(ReadOperations) => get(operations::duty_page);
    post "/duty/shifts", Role(ManageUsers) => post(operations::add_shift);
    post "/duty/shifts/{shift}/remove", Role(ManageUsers) => post(operations::remove_shift);
    post "/duty/ping", Role(Permission::Open(CaseKind::Ping)) => post(operations::send_ping);
    get "/restricted-reads", Role(ManageUsers) => get(operations::reads_page);
    post "/cases/{id}/items", Role(Permission::Act(CaseKind::ContentReport)) => post(content::answer_item);
    get "/hashes", Role(MatchHashes) => get(content::hashes_page);
    // Multipart: the handler checks the CSRF field as it streams the form.
    post "/hashes/lookup", Role(MatchHashes) => post(content::lookup)
        .layer(DefaultBodyLimit::max(content::MAX_LOOKUP_FORM_BYTES));
    post "/hashes/withdraw", Role(ManageHashes) => post(content::withdraw);
    get "/static/style.css", Nobody => get(|| async {
        (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            include_str!("../../assets/style.css"),
        )
    });
    get "/static/app.js", Nobody => get(|| async {
        (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            include_str!("../../assets/app.js"),
        )
    });
}

pub fn routes(state: &UiState) -> Router<UiState> {
    table_router(state, Router::route)
}

/// Puts every page behind `guard`.
fn guarded(route: MethodRouter<UiState>, need: Need, state: &UiState) -> MethodRouter<UiState> {
    route.route_layer(from_fn_with_state((state.clone(), need), guard))
}

/// Reads the visitor once (handlers get it as an extractor); sends a
/// visitor without a session to the login when the route needs a role, and
/// refuses a role without the fixed permission, before the handler or any
/// extractor runs.
async fn guard(
    State((state, need)): State<(UiState, Need)>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let v = Visitor::from_headers(&state, request.headers());
    if need != Need::Nobody {
        let page = page_of(
            request.method() == Method::GET,
            matched.as_ref().map_or("", MatchedPath::as_str),
            request.uri().path(),
        );
        let allowed = match (&v.user, need.fixed()) {
            (None, _) => {
                return Redirect::to(&format!("/login?next={}", urlencode(&page))).into_response();
            }
            (Some(u), Some(p)) => u.role.allows(p),
            (Some(_), None) => true,
        };
        if !allowed {
            return forbidden(&v);
        }
    }
    request.extensions_mut().insert(v);
    next.run(request).await
}

/// The page to come back to after signing in: a page itself, or for a form
/// the nearest page above it (`/duty/shifts/7/remove` → `/duty`).
fn page_of(is_get: bool, template: &str, path: &str) -> String {
    if is_get {
        return path.to_owned();
    }
    let templates: Vec<&str> = template.split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    for n in (1..=templates.len().min(segments.len())).rev() {
        let prefix = templates[..n].join("/");
        if ROUTES.iter().any(|r| r.method == "GET" && r.path == prefix) {
            return segments[..n].join("/");
        }
    }
    "/".to_owned()
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn a_form_comes_back_to_the_page_it_is_on() {
        assert_eq!(page_of(true, "/cases/{id}", "/cases/us-1"), "/cases/us-1");
        assert_eq!(
            page_of(false, "/cases/{id}/act", "/cases/us-1/act"),
            "/cases/us-1"
        );
        assert_eq!(
            page_of(
                false,
                "/duty/shifts/{shift}/remove",
                "/duty/shifts/7/remove"
            ),
            "/duty"
        );
        assert_eq!(page_of(false, "/audit", "/audit"), "/audit");
        assert_eq!(page_of(false, "/cases/new", "/cases/new"), "/cases/new");
        assert_eq!(
            page_of(false, "/hashes/lookup", "/hashes/lookup"),
            "/hashes"
        );
        assert_eq!(page_of(false, "/logout", "/logout"), "/");
    }
}
