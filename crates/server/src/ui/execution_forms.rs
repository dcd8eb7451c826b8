//! The forwarding forms of the case page: forward a request to a
//! provider, produce on a provider (multipart, files streamed into the
//! attachment store), relay a production, object to (or consent to) a
//! production order this authority is notified of, and invite into, accept
//! or leave a joint team.

use axum::extract::{FromRequest as _, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::envelope::AttachmentRef;
use liaison_core::order::NoticeAnswer;
use liaison_core::roles::Permission;
use liaison_node::NodeError;
use liaison_node::attachments::Holder;
use liaison_node::users::User;

use super::case_page::case_view;
use super::layout::{internal, not_found};
use super::{CheckedForm, UiState, Visitor, html};

/// Most bytes of a production form (its files and fields).
pub const MAX_PRODUCTION_FORM_BYTES: usize = 256 * 1024 * 1024;

/// The case a form acts on, with the caller's right to act on its kind.
fn acting(state: &UiState, v: &Visitor, id: &str) -> Result<User, Response> {
    let user = v
        .require(Permission::ReadCases, &format!("/cases/{id}"))?
        .clone();
    let kind = match state.node.case_for(&user, id) {
        Ok(Some(c)) => c.kind,
        Ok(None) => return Err(not_found(state, v)),
        Err(e) => return Err(internal(e)),
    };
    v.require(Permission::Act(kind), &format!("/cases/{id}"))?;
    Ok(user)
}

/// Back to the case page, or the page again with the error.
async fn done(
    state: &UiState,
    v: &Visitor,
    user: &User,
    id: &str,
    to: &str,
    outcome: Result<(), liaison_node::NodeError>,
) -> Response {
    match outcome {
        Ok(()) => Redirect::to(&format!("/cases/{to}")).into_response(),
        Err(e) => {
            let message = if v.t.lang == "en" {
                e.to_string()
            } else {
                v.t.get("error.form").to_owned()
            };
            match case_view(state, v, user, id, message).await {
                Ok(p) => html(StatusCode::BAD_REQUEST, &p),
                Err(r) => r,
            }
        }
    }
}

/// The case page again, with what was wrong with the form.
async fn form_refused(
    state: &UiState,
    v: &Visitor,
    user: &User,
    id: &str,
    error: String,
) -> Response {
    let text = format!("{} ({error})", v.t.get("error.form"));
    match case_view(state, v, user, id, text).await {
        Ok(p) => html(StatusCode::BAD_REQUEST, &p),
        Err(r) => r,
    }
}

/// Runs a form on case `id` once the caller may act on it, then goes to
/// the case the form names (its answer) or shows the page with the error.
async fn run_form<Fut>(
    state: &UiState,
    v: &Visitor,
    id: &str,
    run: impl FnOnce() -> Fut,
) -> Response
where
    Fut: std::future::Future<Output = Result<String, liaison_node::NodeError>>,
{
    let user = match acting(state, v, id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let outcome = run().await;
    let to = outcome.as_ref().map(String::clone).unwrap_or_default();
    done(state, v, &user, id, &to, outcome.map(|_| ())).await
}

pub(super) async fn forward(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    run_form(&state, &v, &id, || async {
        let sent = state
            .node
            .forward(&id, form.one("to"), form.one("note").trim())
            .await?;
        Ok(sent.case_id)
    })
    .await
}

/// The notified authority's objection or consent to a production order.
pub(super) async fn notice(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    run_form(&state, &v, &id, || async {
        let answer = match form.one("answer") {
            "objection" => NoticeAnswer::Objection,
            "no_objection" => NoticeAnswer::NoObjection,
            other => {
                return Err(NodeError::Invalid(format!(
                    "answer {other:?} is not objection or no_objection"
                )));
            }
        };
        state
            .node
            .answer_notice(&id, answer, form.one("grounds").trim())
            .await?;
        Ok(id.clone())
    })
    .await
}

pub(super) async fn relay(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(_form): CheckedForm,
) -> Response {
    run_form(&state, &v, &id, || async {
        Ok(state.node.relay(&id).await?.case_id)
    })
    .await
}

/// The production form: files and the statement's fields, streamed (each
/// file into the attachment store as it arrives, held for this user).
pub(super) async fn produce(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let user = match acting(&state, &v, &id) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let bad = |e: String| form_refused(&state, &v, &user, &id, e);
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(m) => m,
        Err(e) => return bad(e.to_string()).await,
    };
    let mut fields = serde_json::Map::new();
    let mut files: Vec<AttachmentRef> = Vec::new();
    let mut csrf_checked = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return bad(e.to_string()).await,
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            // The form's token comes first: nothing is stored for a forged form.
            if !csrf_checked {
                return bad("the form token must come first".into()).await;
            }
            let filename = field.file_name().unwrap_or("file").to_owned();
            let media = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let stored = match state
                .node
                .store_attachment_as(Holder::User(&user.username), field, None)
                .await
            {
                Ok(s) => s,
                Err(e) => return bad(e.to_string()).await,
            };
            if stored.size > 0 {
                files.push(AttachmentRef {
                    sha256: stored.sha256,
                    size: stored.size,
                    name: filename,
                    media_type: media,
                });
            }
            continue;
        }
        let text = match field.text().await {
            Ok(t) => t.trim().to_owned(),
            Err(e) => return bad(e.to_string()).await,
        };
        match name.as_str() {
            "csrf" => {
                if let Err(r) = v.check_csrf(&text) {
                    return r;
                }
                csrf_checked = true;
            }
            "period_from" | "period_to" | "legal_basis" | "text" => {
                fields.insert(name, text.into());
            }
            _ => {}
        }
    }
    if !csrf_checked {
        return bad("the form token is missing".into()).await;
    }
    let attaching = match state.node.attaching_for(&user, files) {
        Ok(a) => a,
        Err(e) => return bad(e.to_string()).await,
    };
    let sent = state
        .node
        .produce(&id, serde_json::Value::Object(fields), attaching)
        .await;
    done(&state, &v, &user, &id, &id, sent.map(|_| ())).await
}

pub(super) async fn invite(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    run_form(&state, &v, &id, || async {
        let role = liaison_core::roster::Role::parse(form.one("role")).ok_or_else(|| {
            NodeError::Invalid(format!(
                "role {:?} is not co_investigator or executing_provider",
                form.one("role")
            ))
        })?;
        state
            .node
            .invite(&id, form.one("to"), role, form.one("note").trim())
            .await?;
        Ok(id.clone())
    })
    .await
}

pub(super) async fn accept(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(_form): CheckedForm,
) -> Response {
    run_form(&state, &v, &id, || async {
        state.node.accept_invitation(&id).await?;
        Ok(id.clone())
    })
    .await
}

pub(super) async fn leave(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    run_form(&state, &v, &id, || async {
        state.node.leave_team(&id, form.one("text").trim()).await?;
        Ok(id.clone())
    })
    .await
}
