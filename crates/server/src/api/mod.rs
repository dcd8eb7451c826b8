//! The JSON API on the app listener: the route table (every route with what
//! it needs of its caller), one module per route group, and the OpenAPI
//! document generated from the handlers and their types (`doc`, served at
//! `/api/v1/openapi.json`).

mod cases;
mod content;
mod doc;
mod execution;
mod operations;
mod reference;
mod shape;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, delete, get, post};
use liaison_core::case::CaseKind;
use liaison_core::roles::Permission;
use liaison_node::Node;

use crate::auth::guard;
use crate::route_table::{Need, route_table};

pub use doc::openapi_json;

/// Largest image a lookup accepts.
pub const MAX_LOOKUP_IMAGE_BYTES: usize = 32 * 1024 * 1024;
/// Largest JSON body any other route accepts.
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

use Need::{ActOnAnyCase, ActOnTheCase, Nobody, OpenTheKind, Role};
use Permission::{
    EditReference, ManageHashes, ManageKeys, ManageUsers, MatchHashes, ReadCases, ReadOperations,
    ReadReference,
};

route_table! {
    state: Node, guard: guarded;

    get "/api/v1/openapi.json", Nobody => get(openapi);
    get "/api/v1/cases", Role(ReadCases) => get(cases::list_cases);
    post "/api/v1/cases", OpenTheKind => post(cases::open_case);
    get "/api/v1/cases/{id}", Role(ReadCases) => get(cases::show_case);
    post "/api/v1/cases/{id}/actions/{action}", ActOnTheCase => post(cases::act);
    post "/api/v1/cases/{id}/messages", ActOnTheCase => post(cases::reply);
    // The node enforces attachments.max_bytes while streaming.
    post "/api/v1/attachments", ActOnAnyCase => post(cases::upload).layer(DefaultBodyLimit::disable());
    get "/api/v1/attachments/{sha256}", Role(ReadCases) => get(cases::download);
    get "/api/v1/alerts", Role(ReadOperations) => get(operations::alerts);
    get "/api/v1/escalations", Role(ReadOperations) => get(operations::escalations);
    get "/api/v1/peers", Role(ReadOperations) => get(operations::peers);
    get "/api/v1/peers/{party}/keys", Role(ReadOperations) => get(operations::peer_keys);
    get "/api/v1/keys", Role(ReadOperations) => get(operations::keys);
    post "/api/v1/keys/rotate", Role(ManageKeys) => post(operations::rotate_keys);
    get "/api/v1/reference/enumerations", Role(ReadCases) => get(reference::enumerations);
    get "/api/v1/reference/offences", Role(ReadReference) => get(reference::offences);
    get "/api/v1/reference/sectors", Role(ReadReference) => get(reference::sectors);
    get "/api/v1/reference/norms", Role(ReadReference) => get(reference::norms);
    get "/api/v1/directory", Role(ReadReference) => get(reference::directory);
    post "/api/v1/cases/{id}/norms", Role(EditReference) => post(reference::tag_case);
    get "/api/v1/glossary", Role(ReadReference) => get(reference::glossary);
    get "/api/v1/glossary/{id}", Role(ReadReference) => get(reference::glossary_term);
    post "/api/v1/glossary/{id}/propose", Role(EditReference) => post(reference::glossary_propose);
    post "/api/v1/glossary/{id}/sign", Role(EditReference) => post(reference::glossary_sign);
    post "/api/v1/glossary/{id}/diverge", Role(EditReference) => post(reference::glossary_diverge);
    get "/api/v1/search", Role(ReadReference) => get(reference::search);
    post "/api/v1/cases/{id}/updates", ActOnTheCase => post(cases::add_update);
    get "/api/v1/duty", Role(ReadOperations) => get(operations::duty);
    post "/api/v1/duty", Role(ManageUsers) => post(operations::add_shift);
    delete "/api/v1/duty/{shift}", Role(ManageUsers) => delete(operations::remove_shift);
    get "/api/v1/pings", Role(ReadOperations) => get(operations::pings);
    post "/api/v1/pings", Role(Permission::Open(CaseKind::Ping)) => post(operations::send_ping);
    get "/api/v1/tlp-reads", Role(ManageUsers) => get(operations::tlp_reads);
    post "/api/v1/cases/{id}/items", ActOnTheCase => post(cases::answer_items);
    post "/api/v1/cases/{id}/forward", ActOnTheCase => post(execution::forward);
    post "/api/v1/cases/{id}/produce", ActOnTheCase => post(execution::produce);
    post "/api/v1/cases/{id}/relay", ActOnTheCase => post(execution::relay);
    post "/api/v1/cases/{id}/notice", ActOnTheCase => post(execution::notice);
    post "/api/v1/cases/{id}/invite", ActOnTheCase => post(execution::invite);
    post "/api/v1/cases/{id}/accept", ActOnTheCase => post(execution::accept);
    post "/api/v1/cases/{id}/leave", ActOnTheCase => post(execution::leave);
    get "/api/v1/cases/{id}/custody", Role(ReadCases) => get(execution::custody);
    post "/api/v1/hashes/lookup", Role(MatchHashes) => post(content::lookup)
        .layer(DefaultBodyLimit::max(MAX_LOOKUP_IMAGE_BYTES));
    get "/api/v1/hashes", Role(MatchHashes) => get(content::hash_list);
    post "/api/v1/hashes/withdraw", Role(ManageHashes) => post(content::withdraw_hashes);
}

/// Puts the route behind `auth::guard`: every route but a public one
/// authenticates its caller first, and a fixed permission is checked there.
fn guarded(route: MethodRouter<Node>, need: Need, node: &Node) -> MethodRouter<Node> {
    if need == Need::Nobody {
        return route;
    }
    route.route_layer(from_fn_with_state((node.clone(), need.fixed()), guard))
}

pub fn routes(node: &Node) -> Router<Node> {
    table_router(node, Router::route).layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// The OpenAPI document (generated once, from the handlers and their types).
async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}
