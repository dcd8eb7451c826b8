//! The one mapping from errors of every layer to HTTP statuses and stable
//! error codes. Bodies are `{"error": {"code": …, "message": …}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use liaison_node::attachments::AttachmentError;
use liaison_node::{ErrorKind, NodeError};
use liaison_proto::ErrorBody;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            // Messages quote input: never echo more of it than this.
            message: liaison_core::bounded(message.into()),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// Well-formed and of the declared shape, but a rule of the domain is
    /// not met (a required text is blank, a party is not pinned, …).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(code = self.code, "{}", self.message);
        }
        let mut r = (self.status, Json(ErrorBody::new(self.code, self.message))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(
                    "Bearer realm=\"liaison\", Basic realm=\"liaison\", charset=\"UTF-8\"",
                ),
            );
        }
        r
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> ApiError {
        let message = e.message();
        match e.kind() {
            ErrorKind::NotFound => ApiError::not_found(message),
            ErrorKind::Invalid => ApiError::unprocessable(message),
            ErrorKind::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            ErrorKind::Internal => ApiError::internal(message),
        }
    }
}

impl From<AttachmentError> for ApiError {
    fn from(e: AttachmentError) -> ApiError {
        let (status, code) = match &e {
            AttachmentError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AttachmentError::Quota(_) => (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded"),
            AttachmentError::BadName => (StatusCode::BAD_REQUEST, "invalid_input"),
            AttachmentError::Witness => (StatusCode::FORBIDDEN, "forbidden"),
            AttachmentError::HashMismatch { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch")
            }
            AttachmentError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AttachmentError::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, e.to_string())
    }
}
