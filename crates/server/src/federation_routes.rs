//! Routes only pinned peers reach (federation listener, mutual TLS).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use liaison_core::envelope::DeliveryRequest;
use liaison_node::Node;
use liaison_node::federation::MAX_REQUEST_BYTES;
use liaison_proto::NodeRole;

use crate::PeerIdentity;
use crate::error::ApiError;

pub fn routes() -> Router<Node> {
    Router::new()
        .route("/federation/v1/envelopes", post(receive_envelopes))
        .route("/witness/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

async fn receive_envelopes(
    State(node): State<Node>,
    Extension(peer): Extension<PeerIdentity>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if peer.card.card.role != NodeRole::Party {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "witnesses send no envelopes",
        ));
    }
    // Parse here rather than with the Json extractor to answer in our error format.
    let request: DeliveryRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("the request is not a delivery request: {e}"))
    })?;
    if request.envelopes.len() > 4096 {
        return Err(ApiError::bad_request("at most 4096 envelopes per request"));
    }
    let response = node.receive(&peer.card, request).await?;
    Ok(Json(response).into_response())
}

async fn add_checkpoint(State(node): State<Node>, body: Bytes) -> Result<Response, ApiError> {
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
    let answer = node.witness_add_checkpoint(text).await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok((
        status,
        [(header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response())
}
