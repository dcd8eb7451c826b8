//! Who is calling the app API: a bearer token (`Authorization: Bearer
//! lia_…`, or `Token lia_…`) or HTTP Basic (username and password, argon2id-checked). Each
//! handler then asks for the permission it needs.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use liaison_core::roles::Permission;
use liaison_node::Node;
use liaison_node::users::User;

use crate::error::ApiError;

/// The authenticated caller of an API request.
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

impl FromRequestParts<Node> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, node: &Node) -> Result<Caller, ApiError> {
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
            let (node, user, password) = (node.clone(), user.to_owned(), password.to_owned());
            // argon2id is deliberately slow: keep it off the async workers.
            let found = tokio::task::spawn_blocking(move || node.check_password(&user, &password))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))??;
            return found.map(Caller).ok_or_else(unauthorized);
        }
        Err(unauthorized())
    }
}
