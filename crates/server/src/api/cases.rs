//! Cases: lists, one case with its thread, opening, actions, replies,
//! updates, item answers, and attachments (upload, download).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use liaison_core::case::{CaseKind, NoteBody};
use liaison_core::content::ItemStatusBody;
use liaison_core::envelope::AttachmentRef;
use liaison_core::incident::UpdateBody;
use liaison_core::roles::Permission;
use liaison_node::Node;
use liaison_node::attachments::{Holder, StoredAttachment};
use liaison_node::federation::{CaseDetail, Sent};
use liaison_node::wire::Wire as _;
use liaison_proto::api;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Most cases to list (default 100, at most 10,000), newest first.
    #[param(minimum = 0)]
    limit: Option<u32>,
}

/// The cases the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(ListQuery),
    responses((status = 200, description = "The cases", body = Vec<api::Case>)))]
pub(super) async fn list_cases(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<api::Case>>, ApiError> {
    let user = &caller.0;
    let limit = q.limit.unwrap_or(100).min(10_000) as usize;
    Ok(Json(node.list_cases_for(user, limit)?.wire()))
}

/// One case with its thread, each receipt and whether it verifies (a read
/// of a restricted case is recorded first).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    responses((status = 200, description = "The case", body = CaseDetail)))]
pub(super) async fn show_case(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(node.case_detail_for(&caller.0, &id, "api").await?))
}

/// Who a case opens with: one pinned party, or several.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub(super) enum Recipients {
    One(String),
    Several(Vec<String>),
}

impl Recipients {
    fn into_vec(self) -> Vec<String> {
        match self {
            Recipients::One(party) => vec![party],
            Recipients::Several(parties) => parties,
        }
    }
}

/// A case to open with one pinned party or several.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OpenCase {
    /// The party code of a pinned peer, or a list of them (notes, incident
    /// notifications and content reports may go to several at once).
    to: Recipients,
    /// `note`, `preservation`, `mla`, `emergency_disclosure`, `incident`,
    /// `hotline`, `ping` or `content_report`.
    kind: String,
    /// The body the kind calls for (the document names it per kind).
    #[schema(value_type = Object)]
    body: serde_json::Value,
    /// Files uploaded by the caller beforehand (`POST /api/v1/attachments`).
    #[serde(default)]
    attachments: Vec<AttachmentRef>,
}

/// Opens a case: committed to the log and the outbox before this answers.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = OpenCase,
    responses((status = 201, description = "Opened", body = Sent)))]
pub(super) async fn open_case(
    State(node): State<Node>,
    caller: Caller,
    ApiJson(req): ApiJson<OpenCase>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let kind = CaseKind::parse(&req.kind).map_err(|e| ApiError::bad_request(e.to_string()))?;
    caller.require(Permission::Open(kind))?;
    let attaching = node.attaching_for(&caller.0, req.attachments)?;
    let sent = node
        .open_case_with(&req.to.into_vec(), kind.as_str(), req.body, attaching)
        .await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

/// The kind of a case the caller may read (a case its marking hides is not found).
pub(super) fn case_kind(node: &Node, caller: &Caller, id: &str) -> Result<CaseKind, ApiError> {
    // Who may not read cases at all is refused before anything is looked up.
    caller.require(Permission::ReadCases)?;
    let case = node
        .case_for(&caller.0, id)?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    Ok(case.kind)
}

/// Body of an action: its details (by action: `text`, `ground`, `days`…),
/// and optionally attachments.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct ActionRequest {
    #[serde(default)]
    attachments: Vec<AttachmentRef>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    details: serde_json::Map<String, serde_json::Value>,
}

/// Takes an action on a case (acknowledge, execute, refuse, withdraw…).
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions/{action}", tag = "cases",
    params(("id" = String, Path, description = "The case id"),
        ("action" = String, Path, description = "The action, e.g. `acknowledge`")),
    request_body(content = Option<ActionRequest>, description = "Optional details"),
    responses((status = 200, description = "Done", body = api::ActionDone)))]
pub(super) async fn act(
    State(node): State<Node>,
    caller: Caller,
    ApiPath((id, action)): ApiPath<(String, String)>,
    body: Option<ApiJson<Option<ActionRequest>>>,
) -> Result<Json<api::ActionDone>, ApiError> {
    caller.require(Permission::Act(case_kind(&node, &caller, &id)?))?;
    // No body, or `null`: an action without details.
    let req = body.and_then(|ApiJson(b)| b).unwrap_or_default();
    let attaching = node.attaching_for(&caller.0, req.attachments)?;
    let sent = node
        .act_with(
            &id,
            &action,
            serde_json::Value::Object(req.details),
            attaching,
        )
        .await?;
    let state = node.case_detail(&id)?.case.state;
    Ok(Json(api::ActionDone {
        case_id: id,
        envelope_id: sent.envelope_id,
        state,
    }))
}

/// Sends `message` in case `id` if the caller may act on the case's kind
/// (checked before the message is built or sent: futures run when awaited).
pub(super) async fn in_case(
    node: &Node,
    caller: &Caller,
    id: &str,
    message: impl std::future::Future<Output = Result<Sent, liaison_node::NodeError>>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    caller.require(Permission::Act(case_kind(node, caller, id)?))?;
    Ok((StatusCode::CREATED, Json(message.await?)))
}

/// Replies in a case with a note.
#[utoipa::path(post, path = "/api/v1/cases/{id}/messages", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    request_body = NoteBody,
    responses((status = 201, description = "Sent", body = Sent)))]
pub(super) async fn reply(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.reply(&id, body)).await
}

/// An update in an incident or hotline thread.
#[utoipa::path(post, path = "/api/v1/cases/{id}/updates", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    request_body = UpdateBody,
    responses((status = 201, description = "Sent", body = Sent)))]
pub(super) async fn add_update(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.update(&id, body)).await
}

/// The provider's answers about items of a content report.
#[utoipa::path(post, path = "/api/v1/cases/{id}/items", tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    request_body = ItemStatusBody,
    responses((status = 201, description = "Sent", body = Sent)))]
pub(super) async fn answer_items(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    in_case(&node, &caller, &id, node.answer_items(&id, body)).await
}

/// Streams an upload into the attachment store (at most
/// `attachments.max_bytes`); answers its hash and size, to name it in an
/// opening or an action.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored", body = StoredAttachment)))]
pub(super) async fn upload(
    State(node): State<Node>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<StoredAttachment>), ApiError> {
    let empty = || ApiError::bad_request("the body is empty: send the file's bytes");
    if headers
        .get(axum::http::header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() == b"0")
    {
        return Err(empty());
    }
    let allowed = [
        CaseKind::Note,
        CaseKind::Preservation,
        CaseKind::Mla,
        CaseKind::EmergencyDisclosure,
    ]
    .iter()
    .any(|k| caller.0.role.allows(Permission::Act(*k)));
    if !allowed {
        caller.require(Permission::Act(CaseKind::Mla))?;
    }
    let stored = node
        .store_attachment_as(
            Holder::User(&caller.0.username),
            body.into_data_stream(),
            None,
        )
        .await?;
    if stored.size == 0 {
        // Streamed without a length: nothing came. The empty file stays
        // unlisted and is swept like any unlisted upload.
        return Err(empty());
    }
    Ok((StatusCode::CREATED, Json(stored)))
}

/// An attachment, to a reader of every case that lists it (a restricted
/// read is recorded first).
#[utoipa::path(get, path = "/api/v1/attachments/{sha256}", tag = "attachments",
    params(("sha256" = String, Path, description = "64 lowercase hex digits")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>)))]
pub(super) async fn download(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(sha256): ApiPath<String>,
) -> Result<Response, ApiError> {
    crate::downloads::attachment(&node, &caller.0, &sha256, "api").await
}
