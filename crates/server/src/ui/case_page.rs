//! One case: its thread as a timeline, receipts, deadlines, the actions
//! the user may take, and its attachments.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::CoreError;
use liaison_core::case::CaseKind;
use liaison_core::lifecycle::Action;
use liaison_core::roles::Permission;
use liaison_node::federation::CaseDetail;
use liaison_node::users::User;
use liaison_node::{ErrorKind, NodeError};

use super::CheckedForm;
use super::SignedIn;
use super::forms::{self};
use super::i18n::Tr;
use super::layout::{Layout, internal, not_found};
use super::{UiState, Visitor, html};

pub struct MessageLine {
    pub created: String,
    pub outgoing: bool,
    pub sender: String,
    pub title: String,
    pub lines: Vec<(String, String)>,
    pub delivery: String,
    pub receipt: String,
    pub receipt_ok: bool,
    /// Every recipient, when there are several.
    pub recipients: String,
    /// Outgoing to several: each recipient's delivery, receipt and whether it verifies.
    pub receipts: Vec<(String, String, String, bool)>,
    pub log_index: u64,
    pub attachments: Vec<(String, String)>,
}

pub struct ActionForm {
    pub action: String,
    pub label: String,
    pub text: bool,
    pub ground: bool,
    pub days: bool,
}

/// An item of a content report on its case page.
pub struct ItemLine {
    pub index: usize,
    pub kind: String,
    pub value: String,
    pub labels: String,
    pub status: String,
    pub status_label: String,
    pub reason: String,
    pub due: String,
    pub overdue: bool,
    pub listed_as: String,
    /// A report to several parties: where the item stands for each.
    pub by_provider: Vec<(String, String)>,
    /// Statuses the provider's side may move the item to now.
    pub moves: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "case.html")]
pub(super) struct CasePage {
    l: Layout,
    title: String,
    d: CaseDetail,
    kind_label: String,
    state_label: String,
    /// The case's roster: party, its role, whether it is this node.
    participants: Vec<(String, String, bool)>,
    /// Forwarding for execution: forms, relay, chain of custody.
    ex: super::execution::ExecutionView,
    /// Joint teams: invite, accept, leave.
    team: super::team::TeamView,
    messages: Vec<MessageLine>,
    actions: Vec<ActionForm>,
    grounds: Vec<(String, String)>,
    deadlines: Vec<(String, String, bool)>,
    hint: Vec<(String, String)>,
    hint_title: String,
    /// Norms the case is tagged with, and all norms for the tag form: (id, short text).
    norm_tags: Vec<(String, String)>,
    norm_options: Vec<(String, String)>,
    may_tag: bool,
    /// The thread's TLP marking: code, label, who may receive it.
    tlp: (String, String, String),
    /// An update form (incidents, hotline) and whether it may change the marking.
    may_update: bool,
    may_retag: bool,
    severities: Vec<(String, String)>,
    tlps: Vec<(String, String)>,
    /// Content reports: the items, and whether this user answers them.
    items: Vec<ItemLine>,
    may_answer: bool,
    error: String,
}

/// Flattens a request body into (label, value) lines in the user's language.
pub(super) fn body_lines(
    t: &Tr,
    prefix: &str,
    value: &serde_json::Value,
    out: &mut Vec<(String, String)>,
) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                body_lines(t, &path, v, out);
            }
        }
        // Shown as the items table; answers as their own lines.
        serde_json::Value::Array(_) if prefix == "items" => {}
        serde_json::Value::Array(answers) if prefix == "answers" => {
            for a in answers {
                let n = a.get("item").and_then(|x| x.as_u64()).unwrap_or(0);
                let status = a.get("status").and_then(|x| x.as_str()).unwrap_or("");
                let reason = a.get("reason").and_then(|x| x.as_str()).unwrap_or("");
                let mut text = t.value("item_status", status);
                if !reason.is_empty() {
                    text = format!("{text} — {reason}");
                }
                out.push((format!("{} {}", t.get("case.item"), n + 1), text));
            }
        }
        serde_json::Value::Array(items) if prefix == "indicators" => {
            if items.is_empty() {
                return;
            }
            let text = items
                .iter()
                .map(|i| {
                    let s = |k: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or("");
                    let kind = t.value("indicator_type", s("type"));
                    match s("description") {
                        "" => format!("{kind}: {}", s("value")),
                        d => format!("{kind}: {} — {d}", s("value")),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.push((t.get("field.indicators").to_owned(), text));
        }
        other => {
            let key = format!("field.{prefix}");
            let label = t.get(&key);
            if label == key {
                return;
            }
            let text = match other {
                serde_json::Value::String(s) if prefix == "tlp" => tlp_label(t, s),
                serde_json::Value::String(s) if prefix == "offence.id" => t.offence(s),
                serde_json::Value::String(s) => enum_label(t, prefix, s),
                serde_json::Value::Bool(b) => t
                    .get(if *b { "common.yes" } else { "common.no" })
                    .to_owned(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(|s| {
                                if prefix == "sectors" {
                                    t.sector(s)
                                } else {
                                    enum_label(t, prefix, s)
                                }
                            })
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            out.push((label.to_owned(), text));
        }
    }
}

pub(super) fn enum_label(t: &Tr, field: &str, value: &str) -> String {
    let enumeration = match field {
        "data_sought" => "data_category",
        "assistance_sought" => "assistance_type",
        "request_type" => "request_type",
        "preferred_channel" => "channel",
        "legal_basis" => "legal_basis",
        "urgency" => "urgency",
        "risk_type" => "risk_type",
        "ground" => "refusal_ground",
        "severity" => "severity",
        "request" => "incident_request",
        _ => return value.to_owned(),
    };
    t.value(enumeration, value)
}

/// A TLP marking (any accepted form) as its label in the reader's language.
pub(super) fn tlp_label(t: &Tr, tlp: &str) -> String {
    liaison_core::tlp::Tlp::parse(tlp)
        .map(|l| l.label_in(t.lang).to_owned())
        .unwrap_or_else(|_| tlp.to_owned())
}

/// The case page as `user` may see it. It goes through the node's
/// recorded read, so no rendering of a case (page, or a form's error page)
/// can skip the audit of a restricted read, or show a case above the
/// user's clearance.
pub(super) async fn case_view(
    state: &UiState,
    v: &Visitor,
    user: &User,
    id: &str,
    error: String,
) -> Result<CasePage, Response> {
    let t = v.t;
    let d = match state.node.case_detail_for(user, id, "ui").await {
        Ok(d) => d,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(not_found(state, v));
        }
        Err(e) => return Err(internal(e)),
    };
    let messages = d
        .messages
        .iter()
        .map(|m| {
            let mut lines = Vec::new();
            let title = if m.kind == liaison_core::case::TRANSITION {
                let action = m.body.get("action").and_then(|a| a.as_str()).unwrap_or("");
                if let Some(text) = m
                    .body
                    .get("text")
                    .and_then(|x| x.as_str())
                    .filter(|s| !s.is_empty())
                {
                    lines.push((t.get("field.text").to_owned(), text.to_owned()));
                }
                if let Some(g) = m.body.get("ground").and_then(|x| x.as_str()) {
                    lines.push((
                        t.get("field.ground").to_owned(),
                        t.value("refusal_ground", g),
                    ));
                }
                if let Some(days) = m.body.get("days").and_then(|x| x.as_i64()) {
                    lines.push((t.get("field.days").to_owned(), days.to_string()));
                }
                t.action(action).to_owned()
            } else if m.kind == liaison_core::incident::UPDATE {
                body_lines(&t, "", &m.body, &mut lines);
                t.get("case.update").to_owned()
            } else if m.kind == liaison_core::content::ITEM_STATUS {
                body_lines(&t, "", &m.body, &mut lines);
                t.get("case.items_answer").to_owned()
            } else {
                body_lines(&t, "", &m.body, &mut lines);
                // Show the fields in the order of the request form.
                if let Ok(kind) = CaseKind::parse(&m.kind) {
                    let order: Vec<String> = forms::spec(kind)
                        .iter()
                        .map(|f| t.get(&format!("field.{}", f.name)).to_owned())
                        .collect();
                    lines.sort_by_key(|(label, _)| {
                        order.iter().position(|o| o == label).unwrap_or(usize::MAX)
                    });
                }
                t.kind(&m.kind).to_owned()
            };
            let proof = |verified: Option<bool>| match verified {
                Some(true) => (t.get("case.receipt_ok").to_owned(), true),
                Some(false) => (t.get("case.receipt_bad").to_owned(), false),
                None => (t.get("case.receipt_none").to_owned(), false),
            };
            let (receipt, receipt_ok) = proof(m.receipt_verified);
            let receipts = if m.receipts.len() > 1 {
                m.receipts
                    .iter()
                    .map(|r| {
                        let (text, ok) = proof(r.receipt_verified);
                        (
                            r.party.clone(),
                            t.get(&format!("delivery.{}", r.delivery)).to_owned(),
                            text,
                            ok,
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let attachments = m
                .attachments
                .iter()
                .map(|a| (a.sha256.clone(), a.name.clone()))
                .collect();
            MessageLine {
                created: m.created.replace('T', " ").trim_end_matches('Z').to_owned(),
                outgoing: m.direction == "out",
                sender: m.sender.clone(),
                title,
                lines,
                delivery: t.get(&format!("delivery.{}", m.delivery)).to_owned(),
                receipt,
                receipt_ok,
                recipients: if m.recipients.len() > 1 {
                    m.recipients.join(", ")
                } else {
                    String::new()
                },
                receipts,
                log_index: m.log_index,
                attachments,
            }
        })
        .collect();
    let kind = CaseKind::parse(&d.case.kind).ok();
    let user = v.user.as_ref();
    let may_act = kind.is_some_and(|k| user.is_some_and(|u| u.role.allows(Permission::Act(k))));
    let actions = if may_act {
        d.available_actions
            .iter()
            .filter_map(|a| Action::parse(a).ok())
            .map(|a| ActionForm {
                action: a.as_str().into(),
                label: a.label(t.lang).into(),
                text: !matches!(
                    a,
                    Action::Acknowledge
                        | Action::StartReview
                        | Action::StartExecution
                        | Action::Close
                ),
                ground: a == Action::Refuse,
                days: a == Action::Extend,
            })
            .collect()
    } else {
        Vec::new()
    };
    let now = jiff::Timestamp::now();
    let deadlines = d
        .deadlines
        .iter()
        .map(|dl| {
            let overdue = dl.due.parse::<jiff::Timestamp>().is_ok_and(|due| due < now);
            (
                t.get(&format!("deadline.{}", dl.name)).to_owned(),
                dl.due.replace('T', " ").trim_end_matches('Z').to_owned(),
                overdue,
            )
        })
        .collect();
    let (hint_title, hint) = match &d.offence_hint {
        Some(h) => (
            format!(
                "{} ({} {})",
                if t.lang == "ru" { &h.ru } else { &h.en },
                t.get("case.budapest_article"),
                h.budapest_article
            ),
            h.statutes
                .iter()
                .map(|s| {
                    (
                        s.cite.clone(),
                        if t.lang == "ru" {
                            s.ru.clone()
                        } else {
                            s.en.clone()
                        },
                    )
                })
                .collect(),
        ),
        None => (String::new(), Vec::new()),
    };
    let tags = state.node.case_norm_tags(id).map_err(internal)?;
    let norm_text = |n: &liaison_core::reference::Norm| {
        let text = n.text(t.lang);
        match text.char_indices().nth(90) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        }
    };
    let norms = &liaison_core::reference::NORMS.norms;
    let norm_tags = norms
        .iter()
        .filter(|n| tags.contains(&n.id))
        .map(|n| (n.id.clone(), norm_text(n)))
        .collect();
    let norm_options = norms
        .iter()
        .filter(|n| !tags.contains(&n.id))
        .map(|n| (n.id.clone(), norm_text(n)))
        .collect();
    let may_tag = user.is_some_and(|u| {
        u.role.allows(Permission::EditReference) && u.role.allows(Permission::ReadCases)
    });
    let tlp = liaison_core::tlp::Tlp::parse(&d.case.tlp).unwrap_or(liaison_core::tlp::Tlp::Red);
    let open =
        liaison_core::lifecycle::State::parse(&d.case.state).is_none_or(|s| !s.is_terminal());
    let may_update = open && kind.is_some_and(|k| k.takes_updates()) && may_act;
    let enum_options = |name: &str| {
        liaison_core::enumerations::all()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, values)| {
                values
                    .into_iter()
                    .map(|(v, en, ru)| {
                        (
                            v.to_owned(),
                            if t.lang == "ru" { ru } else { en }.to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let may_answer =
        open && may_act && d.role == "requested" && kind == Some(CaseKind::ContentReport);
    let items = d
        .items
        .iter()
        .flatten()
        .map(|i| {
            let mut labels = vec![
                t.value("behaviour", i.item.behaviour.as_str()),
                t.value("urgency_tier", i.item.urgency.as_str()),
            ];
            if !i.item.entity.is_empty() {
                labels.push(i.item.entity.clone());
            }
            ItemLine {
                index: i.index,
                kind: t.value("item_type", i.item.kind.as_str()),
                value: i.item.value.clone(),
                labels: labels.join(" · "),
                status: i.state.status.as_str().to_owned(),
                status_label: t.value("item_status", i.state.status.as_str()),
                reason: i.state.reason.clone(),
                due: i
                    .due
                    .as_deref()
                    .map(|d| d.replace('T', " ").trim_end_matches('Z').to_owned())
                    .unwrap_or_default(),
                overdue: i.overdue,
                listed_as: i.listed_as.clone().unwrap_or_default(),
                by_provider: if i.by_provider.len() > 1 {
                    i.by_provider
                        .iter()
                        .map(|p| {
                            (
                                p.party.clone(),
                                t.value("item_status", p.state.status.as_str()),
                            )
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                moves: liaison_core::content::ItemStatus::ALL
                    .iter()
                    .filter(|s| i.state.status.check_move(**s).is_ok())
                    .map(|s| (s.as_str().to_owned(), t.value("item_status", s.as_str())))
                    .collect(),
            }
        })
        .collect();
    let ex = super::execution::view(state, &t, user, &d);
    let team = super::team::view(state, t.lang, user, &d);
    Ok(CasePage {
        ex,
        team,
        items,
        may_answer,
        tlp: (
            tlp.as_str().to_owned(),
            tlp.label().to_owned(),
            tlp.meaning(t.lang).to_owned(),
        ),
        may_update,
        may_retag: may_update && d.case.initiator == state.node.party().as_str(),
        severities: enum_options("severity"),
        tlps: enum_options("tlp"),
        norm_tags,
        norm_options,
        may_tag,
        title: liaison_core::case::title(
            &d.case.kind,
            &d.case.subject,
            d.case.offence.as_deref(),
            t.lang,
        ),
        kind_label: t.kind(&d.case.kind).into(),
        state_label: t.state(&d.case.state).into(),
        participants: d
            .participants
            .iter()
            .map(|p| {
                let role = match p.status {
                    liaison_core::roster::Membership::Member => p.role.label(t.lang).to_owned(),
                    other => format!("{}, {}", p.role.label(t.lang), other.label(t.lang)),
                };
                (
                    p.party.clone(),
                    role,
                    p.party == state.node.party().as_str(),
                )
            })
            .collect(),
        l: Layout::new(state, v, "case"),
        messages,
        actions,
        grounds: liaison_core::legal::RefusalGround::ALL
            .iter()
            .map(|g| (g.as_str().to_owned(), g.label(t.lang).to_owned()))
            .collect(),
        deadlines,
        hint,
        hint_title,
        d,
        error,
    })
}

pub(super) async fn case_page(
    State(state): State<UiState>,
    v: Visitor,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Response {
    // A case whose marking excludes the user is not found; restricted reads are recorded.
    match case_view(&state, &v, &user, &id, String::new()).await {
        Ok(p) => html(StatusCode::OK, &p),
        Err(r) => r,
    }
}

pub(super) async fn act(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    let user = match v.require(Permission::ReadCases, &format!("/cases/{id}")) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    let kind = match state.node.case_for(&user, &id) {
        Ok(Some(c)) => c.kind,
        Ok(None) => return not_found(&state, &v),
        Err(e) => return internal(e),
    };
    if let Err(r) = v.require(Permission::Act(kind), &format!("/cases/{id}")) {
        return r;
    }
    let mut details = serde_json::Map::new();
    if !form.one("text").trim().is_empty() {
        details.insert("text".into(), form.one("text").trim().into());
    }
    if !form.one("ground").is_empty() {
        details.insert("ground".into(), form.one("ground").into());
    }
    if !form.one("days").is_empty() {
        details.insert(
            "days".into(),
            form.one("days")
                .parse::<u32>()
                .map(Into::into)
                .unwrap_or(serde_json::Value::Null),
        );
    }
    match state
        .node
        .act(&id, form.one("action"), serde_json::Value::Object(details))
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => {
            let message = match &e {
                NodeError::Core(CoreError::Field { field, problem, .. }) => {
                    format!(
                        "{}: {}",
                        v.t.get(&format!("field.{field}")),
                        v.t.get(&format!("error.{}", problem.as_str()))
                    )
                }
                e if e.kind() == ErrorKind::Conflict => v.t.get("error.not_allowed").to_owned(),
                other if v.t.lang == "en" => other.to_string(),
                _ => v.t.get("error.form").to_owned(),
            };
            match case_view(&state, &v, &user, &id, message).await {
                Ok(p) => html(StatusCode::BAD_REQUEST, &p),
                Err(r) => r,
            }
        }
    }
}

/// An attachment, downloaded by a signed-in reader of every case listing it.
pub(super) async fn attachment(
    State(state): State<UiState>,
    v: Visitor,
    SignedIn(user): SignedIn,
    Path(sha256): Path<String>,
) -> Response {
    match crate::downloads::attachment(&state.node, &user, &sha256, "ui").await {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found(&state, &v),
        Err(e) => internal(e.message),
    }
}
