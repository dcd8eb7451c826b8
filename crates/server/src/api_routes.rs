//! The JSON API on the app listener (read side; writes come with users and
//! roles).

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use liaison_node::Node;
use liaison_node::federation::CaseDetail;
use liaison_store::federation::{self as db, Alert, CaseRow};
use serde::Deserialize;

use crate::error::ApiError;

pub fn routes() -> Router<Node> {
    Router::new()
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/cases/{id}", get(show_case))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/peers", get(peers))
        .route("/api/v1/escalations", get(escalations))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<usize>,
}

async fn list_cases(
    State(node): State<Node>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<CaseRow>>, ApiError> {
    Ok(Json(node.list_cases(q.limit.unwrap_or(100).min(10_000))?))
}

async fn show_case(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(node.case_detail(&id)?))
}

async fn alerts(State(node): State<Node>) -> Result<Json<Vec<Alert>>, ApiError> {
    Ok(Json(node.store.read(|c| db::alerts(c, false))?))
}

async fn peers(State(node): State<Node>) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let mut out = Vec::new();
    for p in node.peers()? {
        let party = p.party.to_string();
        let (pending, delivered, refused) = node.store.read(|c| db::outbox_counts(c, &party))?;
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

async fn escalations(State(node): State<Node>) -> Result<Json<Vec<db::Escalation>>, ApiError> {
    Ok(Json(node.store.read(|c| db::escalations(c, 1000))?))
}
