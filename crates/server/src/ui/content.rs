//! Terrorist-content pages: answers about the items of a content report,
//! and the provider-facing page that checks an upload (image or hash)
//! against every party's hash list and lists the entries.

use askama::Template;
use axum::extract::{FromRequest as _, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::roles::Permission;
use liaison_node::content::{HashQuery, LookupResult};
use liaison_proto::api::HashEntry;

use super::i18n::Tr;
use super::layout::{Layout, internal, not_found};
use super::operations::refusal;
use super::{CheckedForm, SignedIn};
use super::{UiState, Visitor, html, urlencode};
use crate::api::MAX_LOOKUP_IMAGE_BYTES;

/// Largest lookup form: the image and the other fields.
pub(super) const MAX_LOOKUP_FORM_BYTES: usize = MAX_LOOKUP_IMAGE_BYTES + 64 * 1024;

pub(super) async fn answer_item(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    let path = format!("/cases/{}", urlencode(&id));
    let user = match v.require(Permission::ReadCases, &path) {
        Ok(u) => u.clone(),
        Err(r) => return r,
    };
    match state.node.case_for(&user, &id) {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&state, &v),
        Err(e) => return internal(e),
    }
    let item = form.one("item").parse::<usize>().unwrap_or(usize::MAX);
    let answer = serde_json::json!({"answers": [{
        "item": item,
        "status": form.one("status"),
        "reason": form.one("reason").trim(),
    }]});
    match state.node.answer_items(&id, answer).await {
        Ok(_) => Redirect::to(&path).into_response(),
        Err(e) => {
            let text = refusal(&v.t, &e);
            match super::case_page::case_view(&state, &v, &user, &id, text).await {
                Ok(p) => html(StatusCode::BAD_REQUEST, &p),
                Err(r) => r,
            }
        }
    }
}

pub struct EntryLine {
    pub owner: String,
    pub entry_id: String,
    pub kind: String,
    pub value: String,
    pub behaviour: String,
    pub entity: String,
    pub origin_case: String,
    pub added: String,
    pub withdrawn: String,
    pub distance: String,
    pub ours: bool,
}

fn entry_line(t: &Tr, r: &HashEntry, me: &str, distance: Option<u32>) -> EntryLine {
    EntryLine {
        owner: r.owner.clone(),
        entry_id: r.entry_id.clone(),
        kind: t.value("item_type", &r.kind),
        value: r.value.clone(),
        behaviour: t.value("behaviour", &r.behaviour),
        entity: r.entity.clone(),
        origin_case: r.origin_case.clone(),
        added: r
            .added_at
            .replace('T', " ")
            .trim_end_matches('Z')
            .to_owned(),
        withdrawn: r
            .withdrawn_at
            .as_ref()
            .map(|w| {
                format!(
                    "{} {} — {}",
                    t.get("hashes.withdrawn"),
                    w.replace('T', " ").trim_end_matches('Z'),
                    r.withdraw_reason.clone().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        distance: distance.map(|d| d.to_string()).unwrap_or_default(),
        ours: r.owner == me,
    }
}

#[derive(Template)]
#[template(path = "hashes.html")]
struct HashesPage {
    l: Layout,
    error: String,
    /// Whether a lookup ran, what it computed, and what it found.
    looked_up: bool,
    computed: Vec<(String, String)>,
    matches: Vec<EntryLine>,
    counts: Vec<(String, String, i64)>,
    entries: Vec<EntryLine>,
    may_withdraw: bool,
    radius: u32,
}

fn page(state: &UiState, v: &Visitor, error: String, result: Option<&LookupResult>) -> HashesPage {
    let t = v.t;
    let me = state.node.party().to_string();
    let mut computed = Vec::new();
    let mut matches = Vec::new();
    if let Some(r) = result {
        if let Some(p) = &r.pdq {
            let q = r
                .quality
                .map(|q| format!(" ({} {q})", t.get("hashes.quality")))
                .unwrap_or_default();
            computed.push(("PDQ".to_owned(), format!("{p}{q}")));
        }
        if let Some(m) = &r.md5 {
            computed.push(("MD5".to_owned(), m.clone()));
        }
        if let Some(s) = &r.sha256 {
            computed.push(("SHA-256".to_owned(), s.clone()));
        }
        matches = r
            .matches
            .iter()
            .map(|m| entry_line(&t, &m.entry, &me, Some(m.distance)))
            .collect();
    }
    let clearance = v
        .user
        .as_ref()
        .map_or(liaison_core::tlp::Tlp::Clear, |u| u.clearance);
    let counts = state
        .node
        .hash_counts(clearance)
        .unwrap_or_default()
        .into_iter()
        .map(|(owner, kind, n)| (owner, t.value("item_type", &kind), n))
        .collect();
    let entries = state
        .node
        .hash_list(None, true, 50, 0, clearance)
        .unwrap_or_default()
        .iter()
        .map(|r| entry_line(&t, r, &me, None))
        .collect();
    HashesPage {
        l: Layout::new(state, v, "hashes"),
        error,
        looked_up: result.is_some(),
        computed,
        matches,
        counts,
        entries,
        may_withdraw: v
            .user
            .as_ref()
            .is_some_and(|u| u.role.allows(Permission::ManageHashes)),
        radius: result.map_or(state.node.config().content.match_radius, |r| r.radius),
    }
}

pub(super) async fn hashes_page(State(state): State<UiState>, v: Visitor) -> Response {
    html(StatusCode::OK, &page(&state, &v, String::new(), None))
}

/// The lookup form: an image (multipart upload) or a typed hash. The
/// route guard checked the role before the body is even read.
pub(super) async fn lookup(
    State(state): State<UiState>,
    v: Visitor,
    SignedIn(user): SignedIn,
    request: Request,
) -> Response {
    let clearance = user.clearance;
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(m) => m,
        Err(e) => {
            let text = format!("{} ({e})", v.t.get("error.form"));
            return html(StatusCode::BAD_REQUEST, &page(&state, &v, text, None));
        }
    };
    let (mut csrf, mut image, mut hash, mut hash_type, mut radius) = (
        String::new(),
        Vec::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let text = format!("{} ({e})", v.t.get("error.form"));
                return html(StatusCode::BAD_REQUEST, &page(&state, &v, text, None));
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) => {
                let text = format!("{} ({e})", v.t.get("error.form"));
                return html(StatusCode::BAD_REQUEST, &page(&state, &v, text, None));
            }
        };
        let text = || String::from_utf8_lossy(&data).trim().to_owned();
        match name.as_str() {
            "csrf" => csrf = text(),
            "image" => image = data.to_vec(),
            "hash" => hash = text(),
            "hash_type" => hash_type = text(),
            "radius" => radius = text(),
            _ => {}
        }
    }
    if let Err(r) = v.check_csrf(&csrf) {
        return r;
    }
    let radius = radius.parse::<u32>().ok();
    let node = state.node.clone();
    let outcome = if !image.is_empty() {
        node.lookup_upload(image, radius, clearance).await
    } else {
        let mut q = HashQuery {
            radius,
            ..Default::default()
        };
        match hash_type.as_str() {
            "md5" => q.md5 = Some(hash),
            "sha256" => q.sha256 = Some(hash),
            _ => q.pdq = Some(hash),
        }
        node.lookup(&q, clearance)
    };
    match outcome {
        Ok(result) => html(
            StatusCode::OK,
            &page(&state, &v, String::new(), Some(&result)),
        ),
        Err(e) => {
            let text = refusal(&v.t, &e);
            html(StatusCode::BAD_REQUEST, &page(&state, &v, text, None))
        }
    }
}

pub(super) async fn withdraw(
    State(state): State<UiState>,
    v: Visitor,
    CheckedForm(form): CheckedForm,
) -> Response {
    let reason = form.one("reason").trim().to_owned();
    match state
        .node
        .withdraw_hashes(vec![form.one("entry_id").to_owned()], &reason)
        .await
    {
        Ok(_) => Redirect::to("/hashes").into_response(),
        Err(e) => {
            let text = refusal(&v.t, &e);
            html(StatusCode::BAD_REQUEST, &page(&state, &v, text, None))
        }
    }
}
