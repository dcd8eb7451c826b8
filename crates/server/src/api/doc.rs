//! The OpenAPI document, generated from the handlers' `utoipa::path`
//! declarations and the types they take and answer, then completed from the
//! route table: every refusal each route can answer, with the
//! `{"error": {…}}` body, and who may call it.

use std::sync::LazyLock;

use liaison_proto::ErrorBody;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, Header, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder,
};

use super::{ROUTES, cases, content, execution, operations, reference, shape};
use crate::route_table::Need;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Liaison app API",
        description = "The JSON API of a Liaison node: cases with pinned parties, reference data, operations and hash lists. Every answer that refuses has the body `{\"error\": {\"code\", \"message\"}}`; codes are stable.",
    ),
    paths(
        cases::list_cases,
        cases::show_case,
        cases::open_case,
        cases::act,
        cases::reply,
        cases::add_update,
        cases::answer_items,
        execution::forward,
        execution::produce,
        execution::relay,
        execution::notice,
        execution::invite,
        execution::accept,
        execution::leave,
        execution::custody,
        cases::upload,
        cases::download,
        operations::alerts,
        operations::escalations,
        operations::peers,
        operations::peer_keys,
        operations::keys,
        operations::rotate_keys,
        operations::duty,
        operations::add_shift,
        operations::remove_shift,
        operations::pings,
        operations::send_ping,
        operations::tlp_reads,
        reference::enumerations,
        reference::offences,
        reference::sectors,
        reference::norms,
        reference::tag_case,
        reference::glossary,
        reference::glossary_term,
        reference::glossary_propose,
        reference::glossary_sign,
        reference::glossary_diverge,
        reference::search,
        reference::directory,
        content::lookup,
        content::hash_list,
        content::withdraw_hashes,
        openapi_document,
    ),
    components(schemas(
        ErrorBody,
        liaison_core::case::NoteBody,
        liaison_core::legal::PreservationRequest,
        liaison_core::legal::MlaRequest,
        liaison_core::legal::EmergencyDisclosureRequest,
        liaison_core::incident::IncidentReport,
        liaison_core::incident::HotlineInquiry,
        liaison_core::incident::PingBody,
        liaison_core::content::ContentReport,
        liaison_core::order::ProductionOrder,
        liaison_core::case::TeamCharter,
    ))
)]
struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
#[allow(dead_code)] // Declares the route; `super::openapi` serves it.
fn openapi_document() {}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    shape::complete(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        // Infallible in practice: the document is plain data.
        format!("{{\"error\":{{\"code\":\"internal\",\"message\":\"{e}\"}}}}")
    })
});

/// The document as served.
pub fn openapi_json() -> &'static str {
    &DOCUMENT
}

/// The generated document, completed from the route table.
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("basic", Vec::<String>::new()),
    ]);
    for route in ROUTES {
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        if let Some(op) = operation(item, route.method) {
            complete(op, route.method, route.path, route.need);
        }
    }
    doc
}

fn operation<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        "DELETE" => item.delete.as_mut(),
        _ => None,
    }
}

/// Adds every refusal the route can answer.
fn complete(op: &mut Operation, method: &str, path: &str, need: Need) {
    let mut refusals: Vec<(u16, &str)> = Vec::new();
    if need == Need::Nobody {
        op.security = Some(Vec::new());
    } else {
        refusals.extend([
            (401, "Not signed in: no credentials, or wrong ones"),
            (403, "The caller's role may not do this"),
            (
                429,
                "Too many failed sign-ins from this client or for this user",
            ),
            (503, "Too many password checks in progress; try again"),
        ]);
    }
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
    let has_path = path.contains('{');
    let has_body = op.request_body.is_some();
    if has_query {
        refusals.push((400, "The query string does not match its parameters"));
    }
    if has_path {
        refusals.push((400, "A path parameter does not match its declaration"));
    }
    if has_body {
        refusals.extend([
            (
                400,
                "The body is not well-formed or does not match its schema",
            ),
            (413, "The body is too large"),
            (415, "The body is not of a media type this route takes"),
        ]);
    }
    if has_path || method != "GET" {
        refusals.push((404, "Nothing by that name (or nothing the caller may read)"));
    }
    if method != "GET" {
        refusals.push((409, "The case or entry is not in a state that allows this"));
    }
    if has_query || has_path || has_body {
        refusals.push((
            422,
            "Of the declared shape, but a rule of the domain is not met (the message names the field or the rule)",
        ));
    }
    for (status, description) in refusals {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(refusal(status, description)));
    }
}

fn refusal(status: u16, description: &str) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    if status == 401 {
        response = response.header(
            "WWW-Authenticate",
            Header::new(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String),
            ),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(openapi_json()).unwrap();
        assert_eq!(doc["openapi"].as_str().unwrap().get(..1), Some("3"));
        let mut documented = Vec::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                documented.push((method.to_uppercase(), path.clone()));
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path} has no success response"
                );
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

    #[test]
    fn every_link_names_an_operation_of_the_document() {
        let doc: serde_json::Value = serde_json::from_str(openapi_json()).unwrap();
        let mut ids = Vec::new();
        let mut linked = Vec::new();
        for ops in doc["paths"].as_object().unwrap().values() {
            for op in ops.as_object().unwrap().values() {
                ids.extend(op["operationId"].as_str().map(str::to_owned));
                for response in op["responses"].as_object().unwrap().values() {
                    for link in response["links"].as_object().into_iter().flatten() {
                        linked.push(link.1["operationId"].as_str().unwrap().to_owned());
                    }
                }
            }
        }
        assert!(!linked.is_empty());
        for id in linked {
            assert!(ids.contains(&id), "a link names no operation {id}");
        }
    }

    #[test]
    fn every_protected_route_documents_its_refusals_and_the_public_one_no_security() {
        let doc: serde_json::Value = serde_json::from_str(openapi_json()).unwrap();
        for route in ROUTES {
            let op = &doc["paths"][route.path][route.method.to_lowercase()];
            if route.need == Need::Nobody {
                assert_eq!(op["security"], serde_json::json!([]), "{}", route.path);
            } else {
                for status in ["401", "403", "429"] {
                    assert_eq!(
                        op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{} {} {status}",
                        route.method,
                        route.path
                    );
                }
            }
        }
    }
}
