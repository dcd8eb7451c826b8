//! The web UI on the app listener: server-rendered pages (askama) that work
//! without JavaScript, in English and Russian, behind a session login with
//! CSRF tokens on every form and a role check on every page.

// Handlers return a finished `Response` early when a check fails; boxing it
// would only add noise to a path that renders a whole page anyway.
#![allow(clippy::result_large_err)]

mod case_page;
mod cases;
pub mod charts;
mod content;
mod dashboard;
mod directory;
mod execution;
mod execution_forms;
mod forms;
pub mod i18n;
mod layout;
mod login;
mod operations;
mod oversight;
mod pages;
mod reference;
mod team;

pub use cases::render_inbox_for_benchmark;
pub use pages::ROUTES;

use std::convert::Infallible;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::roles::Permission;
use liaison_node::Node;
use liaison_node::users::User;

use self::forms::Submitted;
use self::i18n::Tr;

pub const SESSION_COOKIE: &str = "liaison_session";
const PRELOGIN_COOKIE: &str = "liaison_prelogin";
const LANG_COOKIE: &str = "liaison_lang";

#[derive(Clone)]
pub struct UiState {
    pub node: Node,
    /// Cookies get `Secure` when the app listener speaks TLS.
    pub secure: bool,
}

impl UiState {
    pub fn new(node: Node, secure: bool) -> UiState {
        UiState { node, secure }
    }

    fn cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text =
            format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
    }
}

pub fn routes(state: UiState) -> Router {
    pages::routes(&state).with_state(state)
}

/// Headers on every response of both listeners (pages, API, TAXII, log,
/// federation): a Content Security Policy without inline scripts, and no
/// framing, sniffing, referrers or caching (unless a route allows it).
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The visitor of a page: signed in or not, in which language. An
/// extractor: the route guard (see `pages`) reads it once per request.
#[derive(Clone)]
pub struct Visitor {
    pub user: Option<User>,
    pub csrf: String,
    pub cookie: Option<String>,
    pub t: Tr,
}

impl Visitor {
    pub fn from_headers(state: &UiState, headers: &HeaderMap) -> Visitor {
        let cookie = cookie_value(headers, SESSION_COOKIE).map(str::to_owned);
        let session = cookie
            .as_deref()
            .and_then(|c| state.node.session(c).ok().flatten());
        let lang = match &session {
            Some((u, _)) => u.lang.clone(),
            None => cookie_value(headers, LANG_COOKIE)
                .filter(|l| matches!(*l, "en" | "ru"))
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    i18n::negotiate(
                        headers
                            .get(header::ACCEPT_LANGUAGE)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or(""),
                    )
                    .to_owned()
                }),
        };
        let (user, csrf) = match session {
            Some((u, csrf)) => (Some(u), csrf),
            None => (None, String::new()),
        };
        Visitor {
            user,
            csrf,
            cookie,
            t: Tr::new(&lang),
        }
    }

    /// The signed-in user allowed `p`, or the response to send instead.
    pub fn require(&self, p: Permission, path: &str) -> Result<&User, Response> {
        match &self.user {
            None => Err(Redirect::to(&format!("/login?next={}", urlencode(path))).into_response()),
            Some(u) if u.role.allows(p) => Ok(u),
            Some(_) => Err(layout::forbidden(self)),
        }
    }

    /// Checks the CSRF token of a submitted form.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), Response> {
        if !self.csrf.is_empty() && constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err((StatusCode::FORBIDDEN, self.t.get("error.csrf")).into_response())
        }
    }
}

impl FromRequestParts<UiState> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Visitor, Infallible> {
        Ok(match parts.extensions.get::<Visitor>() {
            Some(v) => v.clone(),
            None => Visitor::from_headers(state, &parts.headers),
        })
    }
}

/// The signed-in user of a page; without a session, the visitor is sent to
/// the login (the guard did so already on every route that needs a role).
pub struct SignedIn(pub User);

impl FromRequestParts<UiState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<SignedIn, Response> {
        let v = Visitor::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        match v.user {
            Some(user) => Ok(SignedIn(user)),
            None => Err(
                Redirect::to(&format!("/login?next={}", urlencode(parts.uri.path())))
                    .into_response(),
            ),
        }
    }
}

/// Largest form a page accepts (the image lookup streams its own).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// A submitted form whose CSRF token is the session's: the only way a
/// handler reads a signed-in visitor's form.
pub struct CheckedForm(pub Submitted);

impl FromRequest<UiState> for CheckedForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &UiState) -> Result<CheckedForm, Response> {
        let (mut parts, body) = request.into_parts();
        let v = Visitor::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        let body = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    v.t.get("error.form_too_large"),
                )
                    .into_response()
            })?;
        let form = Submitted::parse(&body);
        v.check_csrf(form.one("csrf"))?;
        Ok(CheckedForm(form))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub use liaison_core::web::safe_next;

/// Renders an askama template as an HTML response.
pub fn html<T: askama::Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("rendering a page failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}
