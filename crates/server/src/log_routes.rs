//! The log, read-only, in the C2SP tlog-tiles layout under `/log/`:
//! `/log/checkpoint`, `/log/tile/<L>/<N>[.p/<W>]`, `/log/tile/entries/<N>[.p/<W>]`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use liaison_log::tiles::TileRef;
use liaison_node::Node;

use crate::error::ApiError;

pub fn routes() -> Router<Node> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/proof/inclusion/{index}/{size}", get(inclusion))
        .route("/log/proof/consistency/{old}/{new}", get(consistency))
}

/// The checkpoint, with the witness cosignatures that match it.
async fn checkpoint(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let note = node.checkpoint_with_cosignatures()?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note.to_string(),
    ))
}

async fn tile(
    State(node): State<Node>,
    Path(path): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let tile =
        TileRef::parse(&format!("tile/{path}")).map_err(|e| ApiError::not_found(e.to_string()))?;
    let bytes = node
        .log_tile(tile)?
        .ok_or_else(|| ApiError::not_found(format!("the log has no tile {}", tile.path())))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    ))
}

fn proof_text(hashes: Vec<liaison_log::Hash>) -> impl IntoResponse {
    let mut text = String::new();
    for h in hashes {
        text.push_str(&h.to_base64());
        text.push('\n');
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text)
}

/// Inclusion proof of leaf `index` in the tree of `size` (one base64 hash per line).
async fn inclusion(
    State(node): State<Node>,
    Path((index, size)): Path<(u64, u64)>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(proof_text(node.inclusion_proof(index, size)?))
}

/// Consistency proof between two tree sizes (one base64 hash per line).
async fn consistency(
    State(node): State<Node>,
    Path((old, new)): Path<(u64, u64)>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(proof_text(node.consistency_proof(old, new)?))
}
