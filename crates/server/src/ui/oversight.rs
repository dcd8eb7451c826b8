//! Peers and their health, the audit, and escalations.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::CheckedForm;
use super::SignedIn;
use super::layout::{Layout, internal};
use super::{UiState, Visitor, html};

pub struct PeerLine {
    pub party: String,
    pub name: String,
    pub role: String,
    pub url: String,
    pub pending: i64,
    pub delivered: i64,
    pub refused: i64,
    pub last_delivery: String,
    pub log_size: String,
    /// The key ID of the log key pinned for it.
    pub log_key: String,
    pub key_changes: Vec<KeyLine>,
}

/// One key change, as the peers page shows it.
pub struct KeyLine {
    pub sequence: u64,
    /// The translation key of its kind.
    pub kind: &'static str,
    pub issued_at: String,
    pub old_key: String,
    pub new_key: String,
    /// The old key is still accepted until then.
    pub overlap_until: String,
    pub compromised_since: String,
    /// A witness's cosigning key ID before and after (empty when it stayed).
    pub old_cosigner: String,
    pub new_cosigner: String,
    /// The certificate fingerprint before and after, shortened (empty when it stayed).
    pub old_certificate: String,
    pub new_certificate: String,
}

/// The key ID of a C2SP verifier key (`name+id+key`).
fn key_id(vkey: &str) -> String {
    vkey.split('+').nth(1).unwrap_or(vkey).to_owned()
}

/// The first 16 hex digits of a certificate fingerprint.
fn short(fingerprint: &str) -> String {
    fingerprint.chars().take(16).collect()
}

fn shown_time(t: &str) -> String {
    t.replace('T', " ").trim_end_matches('Z').to_owned()
}

fn key_lines(history: Vec<liaison_proto::api::KeyChange>) -> Vec<KeyLine> {
    history
        .into_iter()
        .map(|h| {
            let (old_cosigner, new_cosigner) = match (&h.old_cosigner_key, &h.new_cosigner_key) {
                (Some(old), Some(new)) if old != new => (key_id(old), key_id(new)),
                _ => Default::default(),
            };
            let (old_certificate, new_certificate) =
                if h.old_tls_fingerprint == h.new_tls_fingerprint {
                    Default::default()
                } else {
                    (short(&h.old_tls_fingerprint), short(&h.new_tls_fingerprint))
                };
            KeyLine {
                sequence: h.sequence,
                kind: match h.kind.as_str() {
                    "revocation" => "keys.revocation",
                    "recovery_rotation" => "keys.recovery_rotation",
                    _ => "keys.rotation",
                },
                issued_at: shown_time(&h.issued_at),
                old_key: key_id(&h.old_log_key),
                new_key: key_id(&h.new_log_key),
                overlap_until: h
                    .overlap_until
                    .as_deref()
                    .map(shown_time)
                    .unwrap_or_default(),
                compromised_since: h
                    .compromised_since
                    .as_deref()
                    .map(shown_time)
                    .unwrap_or_default(),
                old_cosigner,
                new_cosigner,
                old_certificate,
                new_certificate,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "peers.html")]
pub(super) struct PeersPage {
    l: Layout,
    rows: Vec<PeerLine>,
    last_audit: String,
    /// This node's log key ID, the one it replaced while it still signs
    /// (with until when), and its own key changes.
    own_key: String,
    own_previous: String,
    own_overlap_until: String,
    own_recovery: bool,
    /// A witness's cosigning key ID, and the one it replaced while it still cosigns.
    own_cosigner: String,
    own_previous_cosigner: String,
    own_changes: Vec<KeyLine>,
}

pub(super) async fn peers(State(state): State<UiState>, v: Visitor) -> Response {
    let mut rows = Vec::new();
    for p in state.node.peers().unwrap_or_default() {
        let party = p.party.to_string();
        let health = state.node.peer_health(&party).unwrap_or_default();
        let (pending, delivered, refused) = (health.pending, health.delivered, health.refused);
        let last_delivery = health
            .last_delivery
            .map(|s| s.replace('T', " ").trim_end_matches('Z').to_owned())
            .unwrap_or_else(|| "—".into());
        let log_size = health
            .log_size
            .map(|s| s.to_string())
            .unwrap_or_else(|| "—".into());
        rows.push(PeerLine {
            // Its kind, and the jurisdiction a version 2 card names.
            role: {
                let kind = match p.kind {
                    liaison_proto::PartyKind::Authority => "peers.kind_authority",
                    liaison_proto::PartyKind::Cert => "peers.kind_cert",
                    liaison_proto::PartyKind::Provider => "peers.kind_provider",
                    liaison_proto::PartyKind::Expert => "peers.kind_expert",
                    liaison_proto::PartyKind::Witness => "peers.kind_witness",
                };
                match &p.card.jurisdiction {
                    Some(j) => format!("{} · {j}", v.t.get(kind)),
                    None => v.t.get(kind).to_owned(),
                }
            },
            name: p.card.name.clone(),
            url: p.card.federation_url.clone(),
            party,
            pending,
            delivered,
            refused,
            last_delivery,
            log_size,
            log_key: key_id(&p.card.log_key),
            key_changes: key_lines(state.node.key_history(p.party.as_str()).unwrap_or_default()),
        });
    }
    let own = state.node.keys().ok();
    let last_audit = state
        .node
        .last_audit()
        .ok()
        .and_then(|(_, summary)| summary)
        .unwrap_or_default();
    html(
        StatusCode::OK,
        &PeersPage {
            l: Layout::new(&state, &v, "peers"),
            rows,
            last_audit,
            own_key: own.as_ref().map(|k| key_id(&k.log_key)).unwrap_or_default(),
            own_previous: own
                .as_ref()
                .and_then(|k| k.previous_log_key.as_deref())
                .map(key_id)
                .unwrap_or_default(),
            own_overlap_until: own
                .as_ref()
                .and_then(|k| k.overlap_until.as_deref())
                .map(shown_time)
                .unwrap_or_default(),
            own_recovery: own.as_ref().is_some_and(|k| k.recovery_key.is_some()),
            own_cosigner: own
                .as_ref()
                .and_then(|k| k.cosigner_key.as_deref())
                .map(key_id)
                .unwrap_or_default(),
            own_previous_cosigner: own
                .as_ref()
                .and_then(|k| k.previous_cosigner_key.as_deref())
                .map(key_id)
                .unwrap_or_default(),
            own_changes: own.map(|k| key_lines(k.history)).unwrap_or_default(),
        },
    )
}

pub struct AuditLine {
    pub party: String,
    pub ok: bool,
    pub size: String,
    pub cosigned: String,
    pub cosigned_ml_dsa: String,
    pub checkpoints: usize,
    pub receipts: usize,
    pub problems: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(super) struct AuditPage {
    l: Layout,
    ran_at: String,
    rows: Vec<AuditLine>,
}

/// A JSON array of names as one comma-separated text.
fn names(list: &serde_json::Value) -> String {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub(super) fn audit_lines(report: &serde_json::Value) -> Vec<AuditLine> {
    report["peers"]
        .as_array()
        .map(|peers| {
            peers
                .iter()
                .map(|p| AuditLine {
                    party: p["party"].as_str().unwrap_or("").into(),
                    ok: p["ok"].as_bool().unwrap_or(false),
                    size: p["size"]
                        .as_u64()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "—".into()),
                    cosigned: names(&p["cosigned_by"]),
                    cosigned_ml_dsa: names(&p["cosigned_by_ml_dsa"]),
                    checkpoints: p["checkpoints_checked"].as_u64().unwrap_or(0) as usize,
                    receipts: p["receipts_verified"].as_u64().unwrap_or(0) as usize,
                    problems: p["problems"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|x| {
                                    (
                                        x["kind"].as_str().unwrap_or("").to_owned(),
                                        x["message"].as_str().unwrap_or("").to_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) async fn audit_page(State(state): State<UiState>, v: Visitor) -> Response {
    let last: serde_json::Value = state
        .node
        .last_audit()
        .ok()
        .and_then(|(report, _)| report)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    let page = AuditPage {
        l: Layout::new(&state, &v, "audit"),
        ran_at: last["ran_at"]
            .as_str()
            .unwrap_or("")
            .replace('T', " ")
            .trim_end_matches('Z')
            .to_owned(),
        rows: audit_lines(&last["report"]),
    };
    html(StatusCode::OK, &page)
}

pub(super) async fn run_audit(
    State(state): State<UiState>,
    _v: Visitor,
    CheckedForm(_): CheckedForm,
) -> Response {
    match state.node.audit(None, false).await {
        Ok(report) => {
            let summary = format!(
                "{} — {}",
                liaison_node::now_rfc3339(),
                if report.ok { "OK" } else { "PROBLEMS" }
            );
            let stored =
                serde_json::json!({"ran_at": liaison_node::now_rfc3339(), "report": report})
                    .to_string();
            let _ = state.node.keep_audit(stored, summary).await;
            Redirect::to("/audit").into_response()
        }
        Err(e) => internal(e),
    }
}

pub struct EscalationLine {
    pub at: String,
    pub level: String,
    pub hard: bool,
    pub deadline: String,
    pub subject: String,
    pub case_link: String,
    pub due: String,
    pub email: String,
    pub webhook: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "escalations.html")]
pub(super) struct EscalationsPage {
    l: Layout,
    rows: Vec<EscalationLine>,
}

pub(super) async fn escalations(
    State(state): State<UiState>,
    v: Visitor,
    SignedIn(user): SignedIn,
) -> Response {
    let rows = match state.node.escalations_for(&user, 500) {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let rows = rows
        .into_iter()
        .map(|e| EscalationLine {
            at: e.at.replace('T', " ").trim_end_matches('Z').to_owned(),
            hard: e.level == "hard",
            level: v.t.get(&format!("escalation.{}", e.level)).to_owned(),
            deadline: v.t.get(&format!("deadline.{}", e.deadline)).to_owned(),
            case_link: if e.subject.starts_with("alert:") {
                String::new()
            } else {
                format!("/cases/{}", e.subject)
            },
            subject: e.subject,
            due: e.due.replace('T', " ").trim_end_matches('Z').to_owned(),
            email: e.email_status,
            webhook: e.webhook_status,
            message: if v.t.lang == "en" {
                e.message
            } else {
                String::new()
            },
        })
        .collect();
    html(
        StatusCode::OK,
        &EscalationsPage {
            l: Layout::new(&state, &v, "escalations"),
            rows,
        },
    )
}
