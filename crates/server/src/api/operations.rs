//! Operations: alerts, escalations, peers and their outboxes, the duty
//! roster, reachability pings, the record of restricted reads, and this
//! node's keys (and its peers' key changes).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use liaison_node::Node;
use liaison_node::federation::Sent;
use liaison_node::operations::PingStats;
use liaison_node::wire::Wire as _;
use liaison_proto::api;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// Open alerts (a peer unreachable, an envelope refused…).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "operations",
    responses((status = 200, description = "Open alerts", body = Vec<api::Alert>)))]
pub(super) async fn alerts(State(node): State<Node>) -> Result<Json<Vec<api::Alert>>, ApiError> {
    Ok(Json(node.alerts(false)?.wire()))
}

/// Deadline escalations of the cases the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/escalations", tag = "operations",
    responses((status = 200, description = "Escalations", body = Vec<api::Escalation>)))]
pub(super) async fn escalations(
    State(node): State<Node>,
    caller: Caller,
) -> Result<Json<Vec<api::Escalation>>, ApiError> {
    Ok(Json(node.escalations_for(&caller.0, 1000)?.wire()))
}

/// Pinned peers, each with this node's outbox towards it.
#[utoipa::path(get, path = "/api/v1/peers", tag = "operations",
    responses((status = 200, description = "Pinned peers", body = Vec<api::Peer>)))]
pub(super) async fn peers(State(node): State<Node>) -> Result<Json<Vec<api::Peer>>, ApiError> {
    let mut out = Vec::new();
    for p in node.peers()? {
        let party = p.party.to_string();
        let h = node.peer_health(&party)?;
        out.push(api::Peer {
            party,
            name: p.card.name,
            role: p.card.role,
            federation_url: p.card.federation_url,
            outbox: api::Outbox {
                pending: h.pending,
                delivered: h.delivered,
                refused: h.refused,
            },
        });
    }
    Ok(Json(out))
}

/// The duty roster and who is on duty now.
#[utoipa::path(get, path = "/api/v1/duty", tag = "operations",
    responses((status = 200, description = "The roster", body = api::Duty)))]
pub(super) async fn duty(State(node): State<Node>) -> Result<Json<api::Duty>, ApiError> {
    Ok(Json(api::Duty {
        roster: node.roster()?.wire(),
        on_duty: node.on_duty()?.wire(),
    }))
}

/// A shift to add to the roster.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewShift {
    name: String,
    email: String,
    #[serde(default)]
    phone: String,
    /// RFC 3339.
    starts: String,
    /// RFC 3339, after `starts`.
    ends: String,
}

/// Adds a shift to the duty roster.
#[utoipa::path(post, path = "/api/v1/duty", tag = "operations", request_body = NewShift,
    responses((status = 201, description = "Added", body = api::ShiftAdded)))]
pub(super) async fn add_shift(
    State(node): State<Node>,
    ApiJson(s): ApiJson<NewShift>,
) -> Result<(StatusCode, Json<api::ShiftAdded>), ApiError> {
    let id = node
        .add_shift(&s.name, &s.email, &s.phone, &s.starts, &s.ends)
        .await?;
    Ok((StatusCode::CREATED, Json(api::ShiftAdded { id })))
}

/// Removes a shift from the roster.
#[utoipa::path(delete, path = "/api/v1/duty/{shift}", tag = "operations",
    params(("shift" = String, Path, description = "The shift id")),
    responses((status = 204, description = "Removed")))]
pub(super) async fn remove_shift(
    State(node): State<Node>,
    ApiPath(shift): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = shift
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("no shift {shift}")))?;
    node.remove_shift(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reachability pings per peer: how many were answered, and how fast.
#[utoipa::path(get, path = "/api/v1/pings", tag = "operations",
    responses((status = 200, description = "Ping figures per peer", body = Vec<PingStats>)))]
pub(super) async fn pings(State(node): State<Node>) -> Result<Json<Vec<PingStats>>, ApiError> {
    Ok(Json(node.ping_stats()?))
}

/// A peer to ping.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PingRequest {
    /// The party code of a pinned peer.
    to: String,
}

/// Sends a reachability ping (its answer is due within the hotline's time).
#[utoipa::path(post, path = "/api/v1/pings", tag = "operations", request_body = PingRequest,
    responses((status = 201, description = "Sent", body = Sent)))]
pub(super) async fn send_ping(
    State(node): State<Node>,
    ApiJson(p): ApiJson<PingRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    Ok((StatusCode::CREATED, Json(node.ping(&p.to, false).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReadsQuery {
    /// Most reads to list (default 100, at most 10,000), newest first.
    #[param(minimum = 0)]
    limit: Option<u32>,
}

/// Reads of restricted content: who read what, when, through which door.
#[utoipa::path(get, path = "/api/v1/tlp-reads", tag = "operations", params(ReadsQuery),
    responses((status = 200, description = "Restricted reads", body = Vec<api::TlpRead>)))]
pub(super) async fn tlp_reads(
    State(node): State<Node>,
    ApiQuery(q): ApiQuery<ReadsQuery>,
) -> Result<Json<Vec<api::TlpRead>>, ApiError> {
    Ok(Json(
        node.tlp_reads(q.limit.unwrap_or(100).min(10_000) as usize)?
            .wire(),
    ))
}

/// This node's keys: the log key, the one a rotation replaced while its
/// overlap lasts, the recovery key's public half, and every key change.
#[utoipa::path(get, path = "/api/v1/keys", tag = "operations",
    responses((status = 200, description = "This node's keys", body = api::Keys)))]
pub(super) async fn keys(State(node): State<Node>) -> Result<Json<api::Keys>, ApiError> {
    Ok(Json(node.keys()?))
}

/// A pinned party's key changes, oldest first.
#[utoipa::path(get, path = "/api/v1/peers/{party}/keys", tag = "operations",
    params(("party" = String, Path, description = "A pinned party's code")),
    responses(
        (status = 200, description = "Its key changes", body = Vec<api::KeyChange>),
        (status = 404, description = "Not a pinned party", body = liaison_proto::ErrorBody)))]
pub(super) async fn peer_keys(
    State(node): State<Node>,
    ApiPath(party): ApiPath<String>,
) -> Result<Json<Vec<api::KeyChange>>, ApiError> {
    if node.peer(&party).ok().flatten().is_none() {
        return Err(ApiError::not_found(format!(
            "{party} is not a pinned party"
        )));
    }
    Ok(Json(node.key_history(&party)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Rotate {
    /// How long the old key stays accepted, in seconds (at most 30 days;
    /// default one day).
    #[serde(default = "default_overlap")]
    overlap_secs: u64,
    /// Rotate the log key (every key the node has when none of `log`,
    /// `tls` and `cosigner` is true).
    #[serde(default)]
    log: bool,
    /// Rotate the TLS certificate: the old one is still presented during
    /// the overlap, and peers accept either.
    #[serde(default)]
    tls: bool,
    /// Rotate a witness's cosigning keys (Ed25519 and ML-DSA-44): both
    /// cosigners sign during the overlap.
    #[serde(default)]
    cosigner: bool,
}

fn default_overlap() -> u64 {
    86_400
}

/// Rotates the log key, the TLS certificate, a witness's cosigning keys, or
/// all (as `liaison key rotate`): the key change goes to every pinned
/// party; both log keys sign checkpoints, both cosigners cosign and either
/// certificate is accepted until the overlap ends.
#[utoipa::path(post, path = "/api/v1/keys/rotate", tag = "operations", request_body = Rotate,
    responses(
        (status = 201, description = "Rotated", body = api::KeyRotation),
        (status = 422, description = "An overlap past 30 days, or cosigning keys asked of a party", body = liaison_proto::ErrorBody)))]
pub(super) async fn rotate_keys(
    State(node): State<Node>,
    ApiJson(r): ApiJson<Rotate>,
) -> Result<(StatusCode, Json<api::KeyRotation>), ApiError> {
    let what = liaison_node::keys::KeysToRotate {
        log: r.log,
        tls: r.tls,
        cosigner: r.cosigner,
    };
    let rotated = node.rotate_keys(what, r.overlap_secs).await?;
    Ok((StatusCode::CREATED, Json(rotated)))
}
