//! Terrorist-content hash lists: lookups (by hash or by image), the lists
//! within the caller's clearance, and withdrawals.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use liaison_node::Node;
use liaison_node::content::{HashQuery, LookupResult};
use liaison_proto::api;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LookupParams {
    /// Largest PDQ Hamming distance that matches (default `content.match_radius`).
    #[param(minimum = 0)]
    radius: Option<u32>,
}

/// The media types an image to look up may be sent as.
const IMAGE_TYPES: [&str; 4] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/octet-stream",
];

/// Looks hashes up in every list the caller may read: by hashes (JSON), or
/// by an image (its bytes), hashed here.
#[utoipa::path(post, path = "/api/v1/hashes/lookup", tag = "content", params(LookupParams),
    request_body(content(
        (HashQuery = "application/json"),
        (Vec<u8> = "image/jpeg"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/webp"),
        (Vec<u8> = "application/octet-stream"),
    )),
    responses((status = 200, description = "What was asked and found", body = LookupResult)))]
pub(super) async fn lookup(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(params): ApiQuery<LookupParams>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<LookupResult>, ApiError> {
    let clearance = caller.0.clearance;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    let result = if IMAGE_TYPES.contains(&media_type) {
        node.lookup_upload(body.to_vec(), params.radius, clearance)
            .await?
    } else if media_type == "application/json" {
        let mut query: HashQuery = crate::extract::ApiJson::parse(&body)?;
        query.radius = query.radius.or(params.radius);
        node.lookup(&query, clearance)?
    } else {
        return Err(ApiError::unsupported_media_type(
            "send application/json with pdq, md5 or sha256, or an image (image/jpeg, image/png, image/webp)",
        ));
    };
    Ok(Json(result))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HashListQuery {
    /// Only this party's list.
    owner: Option<String>,
    /// Include withdrawn entries.
    #[serde(default)]
    withdrawn: bool,
    /// Most entries (default 100, at most 1,000).
    #[param(minimum = 0)]
    limit: Option<u32>,
    #[param(minimum = 0)]
    offset: Option<u32>,
}

/// The hash lists within the caller's clearance: counts per list, and a page of entries.
#[utoipa::path(get, path = "/api/v1/hashes", tag = "content", params(HashListQuery),
    responses((status = 200, description = "Counts and entries", body = api::HashList)))]
pub(super) async fn hash_list(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(q): ApiQuery<HashListQuery>,
) -> Result<Json<api::HashList>, ApiError> {
    let clearance = caller.0.clearance;
    let entries = node.hash_list(
        q.owner.as_deref(),
        q.withdrawn,
        q.limit.unwrap_or(100) as usize,
        q.offset.unwrap_or(0) as usize,
        clearance,
    )?;
    let counts = node
        .hash_counts(clearance)?
        .into_iter()
        .map(|(owner, kind, live)| api::HashCount { owner, kind, live })
        .collect();
    Ok(Json(api::HashList { counts, entries }))
}

/// Entries of this node's own list to withdraw.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Withdrawal {
    entry_ids: Vec<String>,
    reason: String,
}

/// Withdraws entries of this node's list (signed, sent to every peer).
#[utoipa::path(post, path = "/api/v1/hashes/withdraw", tag = "content", request_body = Withdrawal,
    responses((status = 200, description = "How many were withdrawn", body = api::Withdrawn)))]
pub(super) async fn withdraw_hashes(
    State(node): State<Node>,
    ApiJson(w): ApiJson<Withdrawal>,
) -> Result<Json<api::Withdrawn>, ApiError> {
    let n = node.withdraw_hashes(w.entry_ids, &w.reason).await?;
    Ok(Json(api::Withdrawn {
        withdrawn: n as u64,
    }))
}
