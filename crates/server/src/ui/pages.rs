//! The UI's route table: every page and form, and the handler of each (in
//! one module per page group).

use axum::Router;
use axum::http::header;
use axum::routing::{get, post};

use super::UiState;
use super::case_page::{act, attachment, case_page};
use super::cases::{cases, new_case, new_case_page};
use super::dashboard::{dashboard, transparency, transparency_json};
use super::login::{login, login_page, logout, set_lang};
use super::oversight::{audit_page, escalations, peers, run_audit};

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
