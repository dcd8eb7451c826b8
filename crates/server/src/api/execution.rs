//! Forwarding for execution: forward a legal request to a provider, produce
//! on a provider (for a forward or a direct production order), relay a
//! production, each produced file's chain of custody, and the notified
//! authority's answer to a direct order.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use liaison_core::envelope::AttachmentRef;
use liaison_core::order::NoticeAnswer;
use liaison_core::roster::Role;
use liaison_node::Node;
use liaison_node::federation::{CustodyFile, Sent};
use serde::Deserialize;
use utoipa::ToSchema;

use super::cases::{case_kind, in_case};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};

/// Where to forward a request, with instructions.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ForwardRequest {
    /// A pinned provider in this authority's jurisdiction.
    to: String,
    #[serde(default)]
    note: String,
}

/// Forwards a legal request this authority was asked to a provider in its
/// jurisdiction: an execution case carrying the original signed request.
#[utoipa::path(post, path = "/api/v1/cases/{id}/forward", tag = "cases",
    params(("id" = String, Path, description = "The legal case")),
    request_body = ForwardRequest,
    responses((status = 201, description = "Forwarded (the execution case)", body = Sent)))]
pub(super) async fn forward(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ForwardRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.forward(&id, &req.to, &req.note)).await
}

/// What a provider produced: its statement and the files (uploaded first).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProduceRequest {
    /// RFC 3339 times or dates.
    period_from: String,
    period_to: String,
    legal_basis: String,
    #[serde(default)]
    text: String,
    /// The files produced (`POST /api/v1/attachments` first).
    attachments: Vec<AttachmentRef>,
}

/// Answers an execution order or a production order addressed to this
/// provider with the data.
#[utoipa::path(post, path = "/api/v1/cases/{id}/produce", tag = "cases",
    params(("id" = String, Path, description = "The execution case")),
    request_body = ProduceRequest,
    responses((status = 201, description = "Produced", body = Sent)))]
pub(super) async fn produce(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ProduceRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let files = node.attaching_for(&caller.0, req.attachments)?;
    let statement = serde_json::json!({
        "period_from": req.period_from,
        "period_to": req.period_to,
        "legal_basis": req.legal_basis,
        "text": req.text,
    });
    in_case(&node, &caller, &id, node.produce(&id, statement, files)).await
}

/// The notified authority's answer to a production order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NoticeRequest {
    /// `objection` (with grounds) or `no_objection`.
    answer: NoticeAnswer,
    #[serde(default)]
    grounds: String,
}

/// Objects to (or consents to) a production order this authority is
/// notified of, within the objection window its node opened.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notice", tag = "cases",
    params(("id" = String, Path, description = "The production order")),
    request_body = NoticeRequest,
    responses((status = 201, description = "Answered", body = Sent)))]
pub(super) async fn notice(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NoticeRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(
        &node,
        &caller,
        &id,
        node.answer_notice(&id, req.answer, &req.grounds),
    )
    .await
}

/// Whom to invite into a team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteRequest {
    /// A pinned party.
    to: String,
    /// `co_investigator` or `executing_provider`.
    role: Role,
    #[serde(default)]
    note: String,
}

/// Invites a pinned party into a joint team this node is a member of.
#[utoipa::path(post, path = "/api/v1/cases/{id}/invite", tag = "cases",
    params(("id" = String, Path, description = "The joint team")),
    request_body = InviteRequest,
    responses((status = 201, description = "Invited", body = Sent)))]
pub(super) async fn invite(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(
        &node,
        &caller,
        &id,
        node.invite(&id, &req.to, req.role, &req.note),
    )
    .await
}

/// Accepts this node's invitation into a joint team.
#[utoipa::path(post, path = "/api/v1/cases/{id}/accept", tag = "cases",
    params(("id" = String, Path, description = "The joint team")),
    responses((status = 201, description = "Accepted", body = Sent)))]
pub(super) async fn accept(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.accept_invitation(&id)).await
}

/// Why a member leaves.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LeaveRequest {
    #[serde(default)]
    text: String,
}

/// Leaves a joint team (this node stays on its roster, marked gone).
#[utoipa::path(post, path = "/api/v1/cases/{id}/leave", tag = "cases",
    params(("id" = String, Path, description = "The joint team")),
    request_body = LeaveRequest,
    responses((status = 201, description = "Left", body = Sent)))]
pub(super) async fn leave(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<LeaveRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.leave_team(&id, &req.text)).await
}

/// Relays the provider's latest production, unchanged, to the requesting authority.
#[utoipa::path(post, path = "/api/v1/cases/{id}/relay", tag = "cases",
    params(("id" = String, Path, description = "The execution case")),
    responses((status = 201, description = "Relayed", body = Sent)))]
pub(super) async fn relay(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.relay(&id)).await
}

/// Each file produced for a case with every hand-over and its receipt.
#[utoipa::path(get, path = "/api/v1/cases/{id}/custody", tag = "cases",
    params(("id" = String, Path, description = "A legal case or an execution case")),
    responses((status = 200, description = "The chain of custody", body = Vec<CustodyFile>)))]
pub(super) async fn custody(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<CustodyFile>>, ApiError> {
    case_kind(&node, &caller, &id)?;
    Ok(Json(node.custody(&id)?))
}
