//! Signing in and out, and choosing the language.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use liaison_node::users::SignInError;
use serde::Deserialize;

use super::forms::Submitted;
use super::layout::{Layout, internal};
use super::{LANG_COOKIE, PRELOGIN_COOKIE, SESSION_COOKIE, UiState, Visitor, html};

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    l: Layout,
    error: String,
    next: String,
    prelogin: String,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

pub(super) fn random_token() -> String {
    let mut raw = [0u8; 24];
    let _ = getrandom::fill(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) async fn login_page(
    State(state): State<UiState>,
    v: Visitor,
    Query(q): Query<NextQuery>,
) -> Response {
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

pub(super) async fn login(
    State(state): State<UiState>,
    request: axum::extract::Request,
) -> Response {
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

pub(super) async fn logout(State(state): State<UiState>, v: Visitor, body: Bytes) -> Response {
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
pub(super) async fn set_lang(State(state): State<UiState>, v: Visitor, body: Bytes) -> Response {
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
