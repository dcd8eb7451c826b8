//! Who is calling the app API: a bearer token (`Authorization: Bearer
//! lia_…`, or `Token lia_…`) or HTTP Basic (username and password, argon2id-checked). The
//! API's `guard` checks the permission a route declares; handlers whose need depends on
//! the request (the kind of case) ask for it themselves.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use liaison_core::roles::Permission;
use liaison_node::Node;
use liaison_node::users::{SignInError, User};

use crate::limits::{ClientAddr, TrustedProxies, client_key};

use crate::error::ApiError;

/// The authenticated caller of an API request.
#[derive(Clone)]
pub struct Caller(pub User);

impl Caller {
    /// Refuses the request unless the caller's role allows `p`.
    pub fn require(&self, p: Permission) -> Result<&User, ApiError> {
        if self.0.role.allows(p) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the role {} may not do this", self.0.role.as_str()),
            ))
        }
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "sign in: send `Authorization: Bearer <token>` (liaison user token) or HTTP Basic credentials",
    )
}

/// The client a request counts against for rate limits: its socket
/// address, or the forwarded one when it comes through a trusted proxy.
pub fn client_of(parts: &Parts) -> String {
    let socket = parts
        .extensions
        .get::<ClientAddr>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let ip = match parts.extensions.get::<TrustedProxies>() {
        Some(t) => t.client(socket, &parts.headers),
        None => socket,
    };
    client_key(ip)
}

/// How a refused sign-in is answered.
pub fn sign_in_refused(e: SignInError) -> ApiError {
    match e {
        SignInError::Wrong => unauthorized(),
        SignInError::TooMany => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            e.to_string(),
        ),
        SignInError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string()),
        SignInError::Failed(e) => e.into(),
    }
}

/// Runs before a declared route's handler (see `api`): authenticates
/// the caller and refuses it unless its role allows `needed`, when the route
/// declares a fixed permission. The handler's `Caller` is then this one, so
/// a request is authenticated once.
pub async fn guard(
    State((node, needed)): State<(Node, Option<Permission>)>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let caller = Caller::authenticate(&mut parts, &node).await?;
    if let Some(p) = needed {
        caller.require(p)?;
    }
    parts.extensions.insert(caller);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

impl FromRequestParts<Node> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, node: &Node) -> Result<Caller, ApiError> {
        match parts.extensions.remove::<Caller>() {
            Some(guarded) => Ok(guarded),
            None => Caller::authenticate(parts, node).await,
        }
    }
}

impl Caller {
    async fn authenticate(parts: &mut Parts, node: &Node) -> Result<Caller, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        // `Token` is how taxii2-client's TokenAuth sends the same tokens.
        if let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("Token "))
        {
            return node
                .user_by_token(token.trim())?
                .map(Caller)
                .ok_or_else(unauthorized);
        }
        if let Some(basic) = header.strip_prefix("Basic ") {
            let decoded = B64.decode(basic.trim()).map_err(|_| unauthorized())?;
            let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
            let (user, password) = text.split_once(':').ok_or_else(unauthorized)?;
            // Throttled per user and client, argon2id checks bounded: see Node::sign_in.
            return node
                .sign_in(&client_of(parts), user, password, true)
                .await
                .map(Caller)
                .map_err(sign_in_refused);
        }
        Err(unauthorized())
    }
}
