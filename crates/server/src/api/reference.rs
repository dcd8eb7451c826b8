//! Reference data: enumerations, the offence crosswalk, sectors, norms and
//! norm tags on cases, the bilingual glossary, search, and the directory.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use liaison_core::glossary::TermState;
use liaison_core::offences::Crosswalk;
use liaison_core::reference::{NORMS, SECTORS, Sectors};
use liaison_core::roles::Permission;
use liaison_node::Node;
use liaison_node::search::SearchHit;
use liaison_proto::api;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// Every enumeration of the forms (kinds, grounds, urgencies…), each value
/// with its English and Russian labels.
#[utoipa::path(get, path = "/api/v1/reference/enumerations", tag = "reference",
    responses((status = 200, description = "Enumerations by name", body = BTreeMap<String, Vec<api::EnumValue>>)))]
pub(super) async fn enumerations() -> Json<BTreeMap<String, Vec<api::EnumValue>>> {
    Json(
        liaison_core::enumerations::all()
            .into_iter()
            .map(|(name, values)| {
                let values = values
                    .into_iter()
                    .map(|(value, en, ru)| api::EnumValue {
                        value: value.to_owned(),
                        en: en.to_owned(),
                        ru: ru.to_owned(),
                    })
                    .collect();
                (name.to_owned(), values)
            })
            .collect(),
    )
}

/// The offence crosswalk: Budapest Convention articles and each party's statutes.
#[utoipa::path(get, path = "/api/v1/reference/offences", tag = "reference",
    responses((status = 200, description = "The crosswalk", body = Crosswalk)))]
pub(super) async fn offences() -> Json<&'static Crosswalk> {
    Json(&liaison_core::offences::OFFENCES)
}

/// Critical-infrastructure sectors of both parties and their correspondences.
#[utoipa::path(get, path = "/api/v1/reference/sectors", tag = "reference",
    responses((status = 200, description = "The sectors", body = Sectors)))]
pub(super) async fn sectors() -> Json<&'static Sectors> {
    Json(&SECTORS)
}

/// The norms, each with the number of this node's cases tagged with it.
#[utoipa::path(get, path = "/api/v1/reference/norms", tag = "reference",
    responses((status = 200, description = "The norms", body = Vec<api::Norm>)))]
pub(super) async fn norms(State(node): State<Node>) -> Result<Json<Vec<api::Norm>>, ApiError> {
    let counts = node.norm_tag_counts()?;
    Ok(Json(
        NORMS
            .norms
            .iter()
            .map(|n| api::Norm {
                id: n.id.clone(),
                en: n.en.clone(),
                ru: n.ru.clone(),
                tagged_cases: counts.iter().find(|(id, _)| *id == n.id).map_or(0, |c| c.1),
            })
            .collect(),
    ))
}

/// A norm to tag a case with, or to untag.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NormTag {
    /// A norm id (`GET /api/v1/reference/norms`).
    norm: String,
    /// `false` removes the tag.
    #[serde(default = "yes")]
    #[schema(default = true)]
    tagged: bool,
}

fn yes() -> bool {
    true
}

/// Tags a case with a norm (or removes the tag).
#[utoipa::path(post, path = "/api/v1/cases/{id}/norms", tag = "reference",
    params(("id" = String, Path, description = "The case id")),
    request_body = NormTag,
    responses((status = 200, description = "The case's tags", body = api::NormTags)))]
pub(super) async fn tag_case(
    State(node): State<Node>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NormTag>,
) -> Result<Json<api::NormTags>, ApiError> {
    // Tagging a case also means reading it.
    let user = caller.require(Permission::ReadCases)?;
    if node.case_for(user, &id)?.is_none() {
        return Err(ApiError::not_found(format!("no case {id}")));
    }
    node.tag_case(&id, &req.norm, req.tagged).await?;
    let norms = node.case_norm_tags(&id)?;
    Ok(Json(api::NormTags { case_id: id, norms }))
}

/// Every glossary term with each party's definition and where they stand.
#[utoipa::path(get, path = "/api/v1/glossary", tag = "glossary",
    responses((status = 200, description = "The glossary", body = Vec<TermState>)))]
pub(super) async fn glossary(State(node): State<Node>) -> Result<Json<Vec<TermState>>, ApiError> {
    Ok(Json(node.glossary()?))
}

/// One glossary term.
#[utoipa::path(get, path = "/api/v1/glossary/{id}", tag = "glossary",
    params(("id" = String, Path, description = "The term id")),
    responses((status = 200, description = "The term", body = TermState)))]
pub(super) async fn glossary_term(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TermState>, ApiError> {
    Ok(Json(node.glossary_term(&id)?))
}

/// This party's definition of a term.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Proposal {
    term_en: String,
    term_ru: String,
    definition_en: String,
    definition_ru: String,
    #[serde(default)]
    sources: Vec<String>,
}

fn event_sent(id: String, event_id: String) -> (StatusCode, Json<api::GlossaryEventSent>) {
    (
        StatusCode::CREATED,
        Json(api::GlossaryEventSent { term: id, event_id }),
    )
}

/// Proposes this party's definition of a term (signed, sent to every peer).
#[utoipa::path(post, path = "/api/v1/glossary/{id}/propose", tag = "glossary",
    params(("id" = String, Path, description = "The term id")),
    request_body = Proposal,
    responses((status = 201, description = "Sent", body = api::GlossaryEventSent)))]
pub(super) async fn glossary_propose(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<Proposal>,
) -> Result<(StatusCode, Json<api::GlossaryEventSent>), ApiError> {
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
    Ok(event_sent(id, event_id))
}

/// Signs the other party's current definition of a term (agreement).
#[utoipa::path(post, path = "/api/v1/glossary/{id}/sign", tag = "glossary",
    params(("id" = String, Path, description = "The term id")),
    responses((status = 201, description = "Sent", body = api::GlossaryEventSent)))]
pub(super) async fn glossary_sign(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<api::GlossaryEventSent>), ApiError> {
    let event_id = node.glossary_sign(&id).await?;
    Ok(event_sent(id, event_id))
}

/// Why this party does not accept a definition.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Divergence {
    reasons_en: String,
    reasons_ru: String,
}

/// Records that this party diverges on a term, with its reasons.
#[utoipa::path(post, path = "/api/v1/glossary/{id}/diverge", tag = "glossary",
    params(("id" = String, Path, description = "The term id")),
    request_body = Divergence,
    responses((status = 201, description = "Sent", body = api::GlossaryEventSent)))]
pub(super) async fn glossary_diverge(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<Divergence>,
) -> Result<(StatusCode, Json<api::GlossaryEventSent>), ApiError> {
    let event_id = node
        .glossary_diverge(&id, &d.reasons_en, &d.reasons_ru)
        .await?;
    Ok(event_sent(id, event_id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    /// Words to find, in English or Russian.
    q: String,
    /// `ru` stems the query as Russian; anything else as English.
    #[serde(default)]
    lang: Option<String>,
    /// Most hits (default 20; 1 to 200).
    #[serde(default)]
    #[param(minimum = 0)]
    limit: Option<u32>,
}

/// Searches cases, messages, the glossary and the crosswalk, within the
/// caller's role and clearance.
#[utoipa::path(get, path = "/api/v1/search", tag = "reference", params(SearchQuery),
    responses((status = 200, description = "Hits, best first", body = Vec<SearchHit>)))]
pub(super) async fn search(
    State(node): State<Node>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    let user = &caller.0;
    let lang = match q.lang.as_deref() {
        Some("ru") => "ru",
        _ => "en",
    };
    let limit = q.limit.unwrap_or(20).clamp(1, 200) as usize;
    Ok(Json(node.search_as(
        user.role,
        user.clearance,
        &q.q,
        lang,
        limit,
    )?))
}

/// Every party in this node's directory with its latest published entry,
/// each proved in its owner's log against a witness-cosigned checkpoint.
#[utoipa::path(get, path = "/api/v1/directory", tag = "reference",
    responses((status = 200, description = "The directory", body = Vec<liaison_node::directory::DirectoryListing>)))]
pub(super) async fn directory(
    State(node): State<Node>,
) -> Result<Json<Vec<liaison_node::directory::DirectoryListing>>, ApiError> {
    Ok(Json(node.directory()?))
}
