//! Routes only pinned peers reach (federation listener, mutual TLS).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use liaison_core::envelope::DeliveryRequest;
use liaison_node::Node;
use liaison_node::attachments::{AttachmentError, Holder};
use liaison_node::federation::MAX_REQUEST_BYTES;
use liaison_node::rows::Rejection;
use liaison_proto::NodeRole;

use crate::PeerIdentity;
use crate::error::ApiError;

pub fn routes() -> Router<Node> {
    Router::new()
        .route("/federation/v1/envelopes", post(receive_envelopes))
        .route("/witness/add-checkpoint", post(add_checkpoint))
        .route("/federation/v1/directory", get(directory))
        .route("/federation/v1/key-changes", get(key_changes))
        .route(
            "/federation/v1/attachments/{sha256}",
            get(has_attachment)
                .put(receive_attachment)
                // The node enforces attachments.max_bytes while streaming.
                .layer(DefaultBodyLimit::disable()),
        )
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

async fn receive_envelopes(
    State(node): State<Node>,
    Extension(peer): Extension<PeerIdentity>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Parse here rather than with the Json extractor to answer in our error format.
    let request: DeliveryRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("the request is not a delivery request: {e}"))
    })?;
    // A witness opens no cases: it sends only its own key changes.
    if peer.card.card.role != NodeRole::Party
        && request
            .envelopes
            .iter()
            .any(|e| e.envelope.kind != liaison_core::keys::KEY_CHANGE)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "witnesses send no envelopes but their key changes",
        ));
    }
    if request.envelopes.len() > 4096 {
        return Err(ApiError::bad_request("at most 4096 envelopes per request"));
    }
    // The pin may have moved since the connection opened (a key change
    // that arrived on it): check against the card pinned now.
    let Some(card) = node.peer(peer.card.party.as_str())? else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this party is no longer pinned",
        ));
    };
    let response = node.receive(&card, request).await?;
    Ok(Json(response).into_response())
}

/// This node's key changes, oldest first: how a witness, or a peer that
/// missed one, follows the chain from the card it pins.
async fn key_changes(State(node): State<Node>) -> Result<Response, ApiError> {
    Ok(Json(node.own_key_changes()?).into_response())
}

/// Where a peer's directory fetch goes on from.
#[derive(serde::Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

/// The directory records this node recorded after `?after=`, each with its
/// owner's proof, and the cursor to go on from.
async fn directory(
    State(node): State<Node>,
    Query(after): Query<After>,
) -> Result<Response, ApiError> {
    let page = tokio::task::spawn_blocking(move || node.directory_records(after.after))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(Json(page).into_response())
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

/// Whether this peer may learn that we hold the file: only a file it pushed
/// or that an envelope between us lists. Witnesses hold no attachments.
async fn has_attachment(
    State(node): State<Node>,
    Extension(peer): Extension<PeerIdentity>,
    Path(sha256): Path<String>,
) -> Result<StatusCode, ApiError> {
    if peer.card.card.role != NodeRole::Party {
        return Err(ApiError::from(AttachmentError::Witness));
    }
    if node.peer_knows_attachment(peer.card.party.as_str(), &sha256)? {
        Ok(StatusCode::OK)
    } else {
        Ok(StatusCode::NOT_FOUND)
    }
}

/// A peer pushes an attachment before the envelope that references it; its
/// content must hash to the name it is sent under. The whole body is read
/// and checked even when the file is already here, so a peer learns nothing
/// of files it did not send.
async fn receive_attachment(
    State(node): State<Node>,
    Extension(peer): Extension<PeerIdentity>,
    Path(sha256): Path<String>,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    if peer.card.card.role != NodeRole::Party {
        return Err(ApiError::from(AttachmentError::Witness));
    }
    if liaison_node::attachments::canonical_sha256(&sha256).is_none() {
        return Err(ApiError::from(AttachmentError::BadName));
    }
    if node.peer_knows_attachment(peer.card.party.as_str(), &sha256)? {
        return Ok(StatusCode::OK);
    }
    match node
        .store_attachment_as(
            Holder::Peer(peer.card.party.as_str()),
            body.into_data_stream(),
            Some(&sha256),
        )
        .await
    {
        Ok(_) => Ok(StatusCode::CREATED),
        Err(e @ AttachmentError::HashMismatch { .. }) => {
            let rejection = Rejection {
                at: liaison_node::now_rfc3339(),
                peer: peer.card.party.to_string(),
                envelope_id: None,
                code: "attachment_corrupted".into(),
                reason: e.to_string(),
            };
            tracing::warn!(peer = %peer.card.party, "refused an attachment: {e}");
            node.record_rejection(rejection).await?;
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "attachment_corrupted",
                e.to_string(),
            ))
        }
        Err(e) => Err(ApiError::from(e)),
    }
}
