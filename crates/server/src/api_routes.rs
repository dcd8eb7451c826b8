//! The JSON API on the app listener. Every route but the OpenAPI document
//! needs a caller (see `auth`) whose role allows what it asks. The routes
//! are described in `openapi.json` (served at `/api/v1/openapi.json`).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use liaison_core::case::CaseKind;
use liaison_core::envelope::AttachmentRef;
use liaison_core::glossary::TermState;
use liaison_core::reference::{NORMS, SECTORS, Sectors};
use liaison_core::roles::Permission;
use liaison_node::Node;
use liaison_node::attachments::Holder;
use liaison_node::federation::{CaseDetail, Sent};
use liaison_node::rows::{Alert, CaseRow, Escalation, TlpRead};
use liaison_node::search::SearchHit;
use serde::Deserialize;

use crate::auth::{Caller, guard};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::route_table::{Need, route_table};

pub const OPENAPI: &str = include_str!("openapi.json");

/// Puts the route behind `auth::guard`: every route but a public one
/// authenticates its caller first, and a fixed permission is checked there.
fn guarded(route: MethodRouter<Node>, need: Need, node: &Node) -> MethodRouter<Node> {
    if need == Need::Nobody {
        return route;
    }
    route.route_layer(from_fn_with_state((node.clone(), need.fixed()), guard))
}

pub fn routes(node: &Node) -> Router<Node> {
    table_router(node, Router::route).layer(DefaultBodyLimit::max(2 * 1024 * 1024))
}

use Need::{ActOnAnyCase, ActOnTheCase, Nobody, OpenTheKind, Role};
use Permission::{
    EditReference, ManageHashes, ManageUsers, MatchHashes, ReadCases, ReadOperations, ReadReference,
};

route_table! {
    state: Node, guard: guarded;

    get "/api/v1/openapi.json", Nobody => get(openapi);
    get "/api/v1/cases", Role(ReadCases) => get(list_cases);
    post "/api/v1/cases", OpenTheKind => post(open_case);
    get "/api/v1/cases/{id}", Role(ReadCases) => get(show_case);
    post "/api/v1/cases/{id}/actions/{action}", ActOnTheCase => post(act);
    post "/api/v1/cases/{id}/messages", ActOnTheCase => post(reply);
    // The node enforces attachments.max_bytes while streaming.
    post "/api/v1/attachments", ActOnAnyCase => post(upload).layer(DefaultBodyLimit::disable());
    get "/api/v1/attachments/{sha256}", Role(ReadCases) => get(download);
    get "/api/v1/alerts", Role(ReadOperations) => get(alerts);
    get "/api/v1/escalations", Role(ReadOperations) => get(escalations);
    get "/api/v1/peers", Role(ReadOperations) => get(peers);
    get "/api/v1/reference/enumerations", Role(ReadCases) => get(enumerations);
    get "/api/v1/reference/offences", Role(ReadReference) => get(offences);
    get "/api/v1/reference/sectors", Role(ReadReference) => get(sectors);
    get "/api/v1/reference/norms", Role(ReadReference) => get(norms);
    post "/api/v1/cases/{id}/norms", Role(EditReference) => post(tag_case);
    get "/api/v1/glossary", Role(ReadReference) => get(glossary);
    get "/api/v1/glossary/{id}", Role(ReadReference) => get(glossary_term);
    post "/api/v1/glossary/{id}/propose", Role(EditReference) => post(glossary_propose);
    post "/api/v1/glossary/{id}/sign", Role(EditReference) => post(glossary_sign);
    post "/api/v1/glossary/{id}/diverge", Role(EditReference) => post(glossary_diverge);
    get "/api/v1/search", Role(ReadReference) => get(search);
    post "/api/v1/cases/{id}/updates", ActOnTheCase => post(add_update);
    get "/api/v1/duty", Role(ReadOperations) => get(duty);
    post "/api/v1/duty", Role(ManageUsers) => post(add_shift);
    delete "/api/v1/duty/{shift}", Role(ManageUsers) => axum::routing::delete(remove_shift);
    get "/api/v1/pings", Role(ReadOperations) => get(pings);
    post "/api/v1/pings", Role(Permission::Open(CaseKind::Ping)) => post(send_ping);
    get "/api/v1/tlp-reads", Role(ManageUsers) => get(tlp_reads);
    post "/api/v1/cases/{id}/items", ActOnTheCase => post(answer_items);
    post "/api/v1/hashes/lookup", Role(MatchHashes) => post(lookup).layer(DefaultBodyLimit::max(MAX_LOOKUP_IMAGE_BYTES));
    get "/api/v1/hashes", Role(MatchHashes) => get(hash_list);
    post "/api/v1/hashes/withdraw", Role(ManageHashes) => post(withdraw_hashes);
}

/// Largest image a lookup accepts.
pub const MAX_LOOKUP_IMAGE_BYTES: usize = 32 * 1024 * 1024;

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<usize>,
}

async fn list_cases(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<CaseRow>>, ApiError> {
    let user = &caller.0;
    Ok(Json(node.list_cases_for(
        user,
        q.limit.unwrap_or(100).min(10_000),
    )?))
}

async fn show_case(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let user = &caller.0;
    Ok(Json(node.case_detail_for(user, &id, "api").await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCase {
    to: String,
    kind: String,
    body: serde_json::Value,
    #[serde(default)]
    attachments: Vec<AttachmentRef>,
}

async fn open_case(
    State(node): State<Node>,
    caller: Caller,
    ApiJson(req): ApiJson<OpenCase>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let kind = CaseKind::parse(&req.kind).map_err(|e| ApiError::bad_request(e.to_string()))?;
    caller.require(Permission::Open(kind))?;
    let attaching = node.attaching_for(&caller.0, req.attachments)?;
    let sent = node
        .open_case_with(&req.to, kind.as_str(), req.body, attaching)
        .await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

/// The kind of a case the caller may read (a case its marking hides is not found).
fn case_kind(node: &Node, caller: &Caller, id: &str) -> Result<CaseKind, ApiError> {
    // Who may not read cases at all is refused before anything is looked up.
    caller.require(Permission::ReadCases)?;
    let case = node
        .case_for(&caller.0, id)?
        .ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    CaseKind::parse(&case.kind).map_err(|e| ApiError::internal(e.to_string()))
}

/// Body of an action: its details, and optionally attachments.
#[derive(Deserialize, Default)]
struct ActionRequest {
    #[serde(default)]
    attachments: Vec<AttachmentRef>,
    #[serde(flatten)]
    details: serde_json::Map<String, serde_json::Value>,
}

async fn act(
    State(node): State<Node>,
    caller: Caller,
    ApiPath((id, action)): ApiPath<(String, String)>,
    body: Option<ApiJson<ActionRequest>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Act(case_kind(&node, &caller, &id)?))?;
    let req = body.map(|ApiJson(b)| b).unwrap_or_default();
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
    Ok(Json(
        serde_json::json!({ "case_id": id, "envelope_id": sent.envelope_id, "state": state }),
    ))
}

async fn reply(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    caller.require(Permission::Act(case_kind(&node, &caller, &id)?))?;
    Ok((StatusCode::CREATED, Json(node.reply(&id, body).await?)))
}

/// Streams an upload into the attachment store; answers its hash and size.
async fn upload(
    State(node): State<Node>,
    caller: Caller,
    body: Body,
) -> Result<
    (
        StatusCode,
        Json<liaison_node::attachments::StoredAttachment>,
    ),
    ApiError,
> {
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
    Ok((StatusCode::CREATED, Json(stored)))
}

async fn download(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(sha256): ApiPath<String>,
) -> Result<Response, ApiError> {
    let user = &caller.0;
    crate::downloads::attachment(&node, user, &sha256, "api").await
}

async fn alerts(State(node): State<Node>) -> Result<Json<Vec<Alert>>, ApiError> {
    Ok(Json(node.alerts(false)?))
}

async fn escalations(
    State(node): State<Node>,
    caller: Caller,
) -> Result<Json<Vec<Escalation>>, ApiError> {
    let user = &caller.0;
    Ok(Json(node.escalations_for(user, 1000)?))
}

async fn peers(State(node): State<Node>) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let mut out = Vec::new();
    for p in node.peers()? {
        let party = p.party.to_string();
        let h = node.peer_health(&party)?;
        let (pending, delivered, refused) = (h.pending, h.delivered, h.refused);
        out.push(serde_json::json!({
            "party": party,
            "name": p.card.name,
            "role": p.card.role,
            "federation_url": p.card.federation_url,
            "outbox": {"pending": pending, "delivered": delivered, "refused": refused},
        }));
    }
    Ok(Json(out))
}

async fn enumerations() -> Result<Json<serde_json::Value>, ApiError> {
    let mut out = serde_json::Map::new();
    for (name, values) in liaison_core::enumerations::all() {
        let values: Vec<serde_json::Value> = values
            .into_iter()
            .map(|(v, en, ru)| serde_json::json!({"value": v, "en": en, "ru": ru}))
            .collect();
        out.insert(name.to_owned(), serde_json::Value::Array(values));
    }
    Ok(Json(serde_json::Value::Object(out)))
}

async fn offences() -> Result<Json<&'static liaison_core::offences::Crosswalk>, ApiError> {
    Ok(Json(&liaison_core::offences::OFFENCES))
}

async fn sectors() -> Result<Json<&'static Sectors>, ApiError> {
    Ok(Json(&SECTORS))
}

/// The norms, each with the number of this node's cases tagged with it.
async fn norms(State(node): State<Node>) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let counts = node.norm_tag_counts()?;
    Ok(Json(
        NORMS
            .norms
            .iter()
            .map(|n| {
                let tagged = counts.iter().find(|(id, _)| *id == n.id).map_or(0, |c| c.1);
                serde_json::json!({"id": n.id, "en": n.en, "ru": n.ru, "tagged_cases": tagged})
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormTag {
    norm: String,
    /// false removes the tag.
    #[serde(default = "yes")]
    tagged: bool,
}

fn yes() -> bool {
    true
}

async fn tag_case(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NormTag>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Tagging a case also means reading it.
    let user = caller.require(Permission::ReadCases)?;
    if node.case_for(user, &id)?.is_none() {
        return Err(ApiError::not_found(format!("no case {id}")));
    }
    node.tag_case(&id, &req.norm, req.tagged).await?;
    let norms = node.case_norm_tags(&id)?;
    Ok(Json(serde_json::json!({ "case_id": id, "norms": norms })))
}

async fn glossary(State(node): State<Node>) -> Result<Json<Vec<TermState>>, ApiError> {
    Ok(Json(node.glossary()?))
}

async fn glossary_term(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TermState>, ApiError> {
    Ok(Json(node.glossary_term(&id)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Proposal {
    term_en: String,
    term_ru: String,
    definition_en: String,
    definition_ru: String,
    #[serde(default)]
    sources: Vec<String>,
}

fn event_sent(id: &str, event_id: String) -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "term": id, "event_id": event_id })),
    )
}

async fn glossary_propose(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<Proposal>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let event_id = node
        .glossary_propose(
            &id,
            &p.term_en,
            &p.term_ru,
            &p.definition_en,
            &p.definition_ru,
            p.sources,
        )
        .await?;
    Ok(event_sent(&id, event_id))
}

async fn glossary_sign(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let event_id = node.glossary_sign(&id).await?;
    Ok(event_sent(&id, event_id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Divergence {
    reasons_en: String,
    reasons_ru: String,
}

async fn glossary_diverge(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<Divergence>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let event_id = node
        .glossary_diverge(&id, &d.reasons_en, &d.reasons_ru)
        .await?;
    Ok(event_sent(&id, event_id))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn search(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    let user = &caller.0;
    let lang = match q.lang.as_deref() {
        Some("ru") => "ru",
        _ => "en",
    };
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    Ok(Json(node.search_as(
        user.role,
        user.clearance,
        &q.q,
        lang,
        limit,
    )?))
}

async fn add_update(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    caller.require(Permission::Act(case_kind(&node, &caller, &id)?))?;
    Ok((StatusCode::CREATED, Json(node.update(&id, body).await?)))
}

async fn duty(State(node): State<Node>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(
        serde_json::json!({ "roster": node.roster()?, "on_duty": node.on_duty()? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewShift {
    name: String,
    email: String,
    #[serde(default)]
    phone: String,
    starts: String,
    ends: String,
}

async fn add_shift(
    State(node): State<Node>,
    ApiJson(s): ApiJson<NewShift>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = node
        .add_shift(&s.name, &s.email, &s.phone, &s.starts, &s.ends)
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
}

async fn remove_shift(
    State(node): State<Node>,
    ApiPath(shift): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = shift
        .parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("no shift {shift}")))?;
    node.remove_shift(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pings(
    State(node): State<Node>,
) -> Result<Json<Vec<liaison_node::operations::PingStats>>, ApiError> {
    Ok(Json(node.ping_stats()?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PingRequest {
    to: String,
}

async fn send_ping(
    State(node): State<Node>,
    ApiJson(p): ApiJson<PingRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    Ok((StatusCode::CREATED, Json(node.ping(&p.to, false).await?)))
}

#[derive(Deserialize)]
struct ReadsQuery {
    limit: Option<usize>,
}

async fn tlp_reads(
    State(node): State<Node>,
    ApiQuery(q): ApiQuery<ReadsQuery>,
) -> Result<Json<Vec<TlpRead>>, ApiError> {
    Ok(Json(node.tlp_reads(q.limit.unwrap_or(100).min(10_000))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"].as_str().unwrap().get(..1), Some("3"));
        let paths = doc["paths"].as_object().unwrap();
        let mut documented = Vec::new();
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        let mut listed: Vec<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        documented.sort();
        listed.sort();
        assert_eq!(documented, listed);
    }
}

async fn answer_items(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    caller.require(Permission::Act(case_kind(&node, &caller, &id)?))?;
    Ok((
        StatusCode::CREATED,
        Json(node.answer_items(&id, body).await?),
    ))
}

#[derive(Deserialize)]
struct LookupParams {
    radius: Option<u32>,
}

/// A lookup by hashes (JSON) or by an image (its bytes, `Content-Type: image/…`).
async fn lookup(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(params): ApiQuery<LookupParams>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<liaison_node::content::LookupResult>, ApiError> {
    let clearance = caller.0.clearance;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let result = if content_type.starts_with("image/")
        || content_type.starts_with("application/octet-stream")
    {
        node.lookup_upload(body.to_vec(), params.radius, clearance)
            .await?
    } else if content_type.starts_with("application/json") {
        let mut query: liaison_node::content::HashQuery = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the lookup is not valid JSON: {e}")))?;
        query.radius = query.radius.or(params.radius);
        node.lookup(&query, clearance)?
    } else {
        return Err(ApiError::unsupported_media_type(
            "send application/json with pdq, md5 or sha256, or an image (image/jpeg, image/png, image/webp)",
        ));
    };
    Ok(Json(result))
}

#[derive(Deserialize)]
struct HashListQuery {
    owner: Option<String>,
    #[serde(default)]
    withdrawn: bool,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn hash_list(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(q): ApiQuery<HashListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clearance = caller.0.clearance;
    let entries = node.hash_list(
        q.owner.as_deref(),
        q.withdrawn,
        q.limit.unwrap_or(100),
        q.offset.unwrap_or(0),
        clearance,
    )?;
    let counts: Vec<serde_json::Value> = node
        .hash_counts(clearance)?
        .into_iter()
        .map(|(owner, kind, n)| serde_json::json!({"owner": owner, "type": kind, "live": n}))
        .collect();
    Ok(Json(
        serde_json::json!({ "counts": counts, "entries": entries }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Withdrawal {
    entry_ids: Vec<String>,
    reason: String,
}

async fn withdraw_hashes(
    State(node): State<Node>,
    ApiJson(w): ApiJson<Withdrawal>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let n = node.withdraw_hashes(w.entry_ids, &w.reason).await?;
    Ok(Json(serde_json::json!({ "withdrawn": n })))
}
