//! TAXII 2.1 on the app listener: discovery (`/taxii2/`), one API root
//! (`/taxii2/api/`), its collections, objects (GET, POST), one object (GET,
//! DELETE), its versions, the manifest, and status. HTTP Basic (or a
//! bearer token) maps to a Liaison user: reading needs `ReadIntel`, adding
//! and deleting `WriteIntel`, and every read is bounded by the user's TLP
//! clearance (restricted reads recorded). Pages follow the collection's
//! order of addition through an index (`next` carries the position).

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Extension, Router};
use liaison_core::roles::Permission;
use liaison_core::stix;
use liaison_core::taxii::EnvelopeError;
use liaison_node::Node;
use liaison_node::rows::{Collection, ObjectQuery, Page, Status, Versions};
use liaison_node::users::User;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::route_table::{Need, route_table};

pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// Largest request body the API root accepts (announced as max_content_length).
const MAX_CONTENT: usize = 32 * 1024 * 1024;
/// Most objects in one page.
const MAX_PAGE: usize = 10_000;
const DEFAULT_PAGE: usize = 1_000;

/// How the app listener is reached: over TLS or not, at which bound address.
#[derive(Clone, Copy)]
struct Secure(bool, std::net::SocketAddr);

use Need::Role;
use Permission::{ReadIntel, WriteIntel};

route_table! {
    state: Node, guard: guarded;

    get "/taxii2/", Role(ReadIntel) => get(discovery);
    get "/taxii2/api/", Role(ReadIntel) => get(api_root);
    get "/taxii2/api/collections/", Role(ReadIntel) => get(collections);
    get "/taxii2/api/collections/{cid}/", Role(ReadIntel) => get(collection);
    get "/taxii2/api/collections/{cid}/objects/", Role(ReadIntel) => get(get_objects);
    // Who may not write is refused before a byte of the body is read.
    post "/taxii2/api/collections/{cid}/objects/", Role(WriteIntel) => post(add_objects);
    get "/taxii2/api/collections/{cid}/objects/{oid}/", Role(ReadIntel) => get(get_object);
    delete "/taxii2/api/collections/{cid}/objects/{oid}/", Role(WriteIntel) => delete(delete_object);
    get "/taxii2/api/collections/{cid}/objects/{oid}/versions/", Role(ReadIntel) => get(versions);
    get "/taxii2/api/collections/{cid}/manifest/", Role(ReadIntel) => get(manifest);
    get "/taxii2/api/status/{sid}/", Role(ReadIntel) => get(status);
}

pub fn routes(node: &Node, tls: bool, bound: std::net::SocketAddr) -> Router<Node> {
    // TAXII URLs end with a slash; clients also build some without it.
    let both = |r: Router<Node>, path: &'static str, m: MethodRouter<Node>| {
        r.route(path, m.clone())
            .route(path.trim_end_matches('/'), m)
    };
    table_router(node, both)
        .layer(DefaultBodyLimit::max(MAX_CONTENT))
        .layer(Extension(Secure(tls, bound)))
}

fn guarded(route: MethodRouter<Node>, need: Need, node: &Node) -> MethodRouter<Node> {
    route.route_layer(from_fn_with_state((node.clone(), need), guard))
}

/// Runs before every TAXII handler: authenticates the caller, then asks for
/// TAXII 2.1 (406) and the route's permission (403), each refusal a TAXII
/// error resource; the handler's `TaxiiCaller` is this caller.
async fn guard(State((node, need)): State<(Node, Need)>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &node).await {
        Ok(c) => c,
        Err(e) => return TaxiiError::from(e).into_response(),
    };
    if let Err(e) = admit(&caller, &parts.headers, need) {
        return e.into_response();
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// A TAXII error message resource.
struct TaxiiError {
    status: StatusCode,
    title: String,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, title: &str, description: impl Into<String>) -> TaxiiError {
        TaxiiError {
            status,
            title: title.to_owned(),
            description: liaison_core::bounded(description.into()),
        }
    }

    fn bad(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }

    fn not_found(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::NOT_FOUND, "Not found", description)
    }
}

impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> TaxiiError {
        TaxiiError::new(e.status, e.code, e.message)
    }
}

impl From<liaison_node::NodeError> for TaxiiError {
    fn from(e: liaison_node::NodeError) -> TaxiiError {
        ApiError::from(e).into()
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut r = (self.status, body.to_string()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"liaison-taxii\""),
            );
        }
        r
    }
}

type TaxiiResult = Result<Response, TaxiiError>;

/// The caller of a TAXII request; refusals are TAXII error resources (a
/// 401 with `WWW-Authenticate`), as TAXII clients expect.
struct TaxiiCaller(Caller);

impl axum::extract::FromRequestParts<Node> for TaxiiCaller {
    type Rejection = TaxiiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        node: &Node,
    ) -> Result<TaxiiCaller, TaxiiError> {
        Caller::from_request_parts(parts, node)
            .await
            .map(TaxiiCaller)
            .map_err(TaxiiError::from)
    }
}

fn taxii(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    r
}

/// Whether a media type names TAXII 2.1 (`version` absent means the latest).
fn is_taxii_21(media: &str) -> bool {
    let mut parts = media.split(';').map(|p| p.trim().to_ascii_lowercase());
    if parts.next().as_deref() != Some("application/taxii+json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some(("version", v)) => v.trim() == "2.1",
        _ => true,
    })
}

/// The caller asking for TAXII 2.1 (406 otherwise), allowed what the route
/// needs (every TAXII route names a permission; anything else is refused).
fn admit(caller: &Caller, headers: &HeaderMap, need: Need) -> Result<(), TaxiiError> {
    let acceptable = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(is_taxii_21);
    if !acceptable {
        return Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("send Accept: {MEDIA_TYPE}"),
        ));
    }
    match need.fixed() {
        Some(p) => {
            caller.require(p)?;
            Ok(())
        }
        None => Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this route declares no permission",
        )),
    }
}

/// Where clients reach this node: `app.public_url`, or the address the app
/// listener is bound to — never the request's `Host` header, which the
/// client chooses. (Listening on all interfaces needs `app.public_url`.)
fn base_url(node: &Node, secure: Secure) -> String {
    let configured = node.config().app.public_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    format!("{}://{}", if secure.0 { "https" } else { "http" }, secure.1)
}

async fn discovery(State(node): State<Node>, Extension(secure): Extension<Secure>) -> TaxiiResult {
    let root = format!("{}/taxii2/api/", base_url(&node, secure));
    Ok(taxii(
        StatusCode::OK,
        json!({
            "title": format!("Liaison — {}", node.config().node.name),
            "description": "TAXII 2.1 server of a Liaison node: incident notifications exchanged through it, and indicators shared by CERTs.",
            "default": root,
            "api_roots": [root],
        })
        .to_string(),
    ))
}

async fn api_root(State(node): State<Node>) -> TaxiiResult {
    Ok(taxii(
        StatusCode::OK,
        json!({
            "title": format!("Liaison {} ({})", node.party(), node.config().node.name),
            "versions": [MEDIA_TYPE],
            "max_content_length": MAX_CONTENT,
        })
        .to_string(),
    ))
}

fn collection_json(c: &Collection, user: &User) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "alias": c.alias,
        "can_read": user.role.allows(Permission::ReadIntel),
        "can_write": c.writable && user.role.allows(Permission::WriteIntel),
        "media_types": [stix::MEDIA_TYPE],
    })
}

async fn collections(State(node): State<Node>, TaxiiCaller(caller): TaxiiCaller) -> TaxiiResult {
    let user = &caller.0;
    let list: Vec<Value> = node
        .taxii_collections()?
        .iter()
        .map(|c| collection_json(c, user))
        .collect();
    Ok(taxii(
        StatusCode::OK,
        json!({ "collections": list }).to_string(),
    ))
}

fn find_collection(node: &Node, cid: &str) -> Result<Collection, TaxiiError> {
    node.taxii_collection(cid)?
        .ok_or_else(|| TaxiiError::not_found(format!("no collection {cid}")))
}

async fn collection(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(cid): Path<String>,
) -> TaxiiResult {
    let user = &caller.0;
    let c = find_collection(&node, &cid)?;
    Ok(taxii(StatusCode::OK, collection_json(&c, user).to_string()))
}

type Params = liaison_core::taxii::Query;

fn params(raw: Option<String>, versions: bool) -> Result<Params, TaxiiError> {
    liaison_core::taxii::parse_query(
        raw.as_deref().unwrap_or(""),
        versions,
        DEFAULT_PAGE,
        MAX_PAGE,
    )
    .map_err(TaxiiError::bad)
}

fn query<'a>(collection: &'a str, p: Params) -> ObjectQuery<'a> {
    ObjectQuery {
        collection,
        after_seq: p.after_seq,
        added_after: p.added_after,
        ids: p.ids,
        types: p.types,
        spec_versions: p.spec_versions,
        versions: p.versions,
        tlp_levels: &[],
        limit: p.limit,
    }
}

/// The date headers of a page.
fn dated(mut r: Response, page: &Page) -> Response {
    if let (Some(first), Some(last)) = (page.objects.first(), page.objects.last()) {
        for (name, value) in [
            ("x-taxii-date-added-first", &first.date_added),
            ("x-taxii-date-added-last", &last.date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                r.headers_mut().insert(name, v);
            }
        }
    }
    r
}

/// `{"more": …, "next": …, <key>: [...]}` with each item already JSON.
fn envelope(page: &Page, key: &str, items: impl Iterator<Item = String>) -> String {
    let mut out =
        String::with_capacity(page.objects.iter().map(|o| o.json.len() + 1).sum::<usize>() + 64);
    out.push_str(&format!("{{\"more\":{}", page.next.is_some()));
    if let Some(n) = page.next {
        out.push_str(&format!(",\"next\":\"s{n}\""));
    }
    if !page.objects.is_empty() {
        out.push_str(&format!(",\"{key}\":["));
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&item);
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// What a read endpoint pages over: all objects, or one object's versions.
enum Reading {
    Objects,
    Manifest,
    Object(String),
    Versions(String),
}

/// The page a read endpoint answers with, within the caller's clearance.
async fn read(
    node: &Node,
    caller: &Caller,
    cid: &str,
    raw: Option<String>,
    reading: &Reading,
) -> TaxiiResult {
    let user = &caller.0;
    let c = find_collection(node, cid)?;
    let mut p = params(raw, !matches!(reading, Reading::Versions(_)))?;
    if let Reading::Object(oid) | Reading::Versions(oid) = reading {
        p.ids = vec![oid.clone()];
    }
    if let Reading::Versions(_) = reading {
        p.versions = Versions {
            all: true,
            ..Versions::default()
        };
    }
    let page = node.stix_page(user, "taxii", query(&c.id, p)).await?;
    if let Reading::Object(oid) | Reading::Versions(oid) = reading
        && page.objects.is_empty()
        && page.next.is_none()
    {
        return Err(TaxiiError::not_found(format!(
            "no object {oid} in {}",
            c.alias
        )));
    }
    let body = match reading {
        Reading::Objects | Reading::Object(_) => envelope(
            &page,
            "objects",
            page.objects.iter().map(|o| o.json.clone()),
        ),
        Reading::Manifest => envelope(
            &page,
            "objects",
            page.objects.iter().map(|o| {
                json!({
                    "id": o.id,
                    "date_added": o.date_added,
                    "version": o.version,
                    "media_type": stix::MEDIA_TYPE,
                })
                .to_string()
            }),
        ),
        Reading::Versions(_) => envelope(
            &page,
            "versions",
            page.objects
                .iter()
                .map(|o| Value::String(o.version.clone()).to_string()),
        ),
    };
    Ok(dated(taxii(StatusCode::OK, body), &page))
}

async fn get_objects(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(cid): Path<String>,
    RawQuery(raw): RawQuery,
) -> TaxiiResult {
    read(&node, &caller, &cid, raw, &Reading::Objects).await
}

async fn manifest(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(cid): Path<String>,
    RawQuery(raw): RawQuery,
) -> TaxiiResult {
    read(&node, &caller, &cid, raw, &Reading::Manifest).await
}

async fn get_object(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> TaxiiResult {
    read(&node, &caller, &cid, raw, &Reading::Object(oid)).await
}

async fn versions(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> TaxiiResult {
    read(&node, &caller, &cid, raw, &Reading::Versions(oid)).await
}

async fn delete_object(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> TaxiiResult {
    let user = caller.0;
    let c = find_collection(&node, &cid)?;
    if !c.writable {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("collection {} is read-only", c.alias),
        ));
    }
    let p = params(raw, true)?;
    // Only what the user may see can be deleted: hidden objects are "not found".
    let mut probe = query(
        &c.id,
        Params {
            ids: vec![oid.clone()],
            ..p
        },
    );
    probe.limit = 1;
    let visible = node.stix_page(&user, "taxii", probe.clone()).await?;
    if visible.objects.is_empty() {
        return Err(TaxiiError::not_found(format!(
            "no object {oid} in {}",
            c.alias
        )));
    }
    node.delete_stix_object(&user, &c.id, &oid, probe.versions.clone())
        .await?;
    Ok(taxii(StatusCode::OK, String::new()))
}

fn status_json(s: &Status) -> String {
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Array(Vec::new()));
    json!({
        "id": s.id,
        "status": "complete",
        "request_timestamp": s.request_timestamp,
        "total_count": s.total,
        "success_count": s.success,
        "failure_count": s.failure,
        "pending_count": 0,
        "successes": parse(&s.successes),
        "failures": parse(&s.failures),
    })
    .to_string()
}

/// Most status details kept per request (the counts stay exact).
const MAX_STATUS_DETAILS: usize = 1_000;

async fn add_objects(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: axum::body::Body,
) -> TaxiiResult {
    let user = caller.0;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_taxii_21(content_type) {
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send Content-Type: {MEDIA_TYPE}"),
        ));
    }
    let c = find_collection(&node, &cid)?;
    if !c.writable {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("collection {} is read-only", c.alias),
        ));
    }
    let body = axum::body::to_bytes(body, MAX_CONTENT).await.map_err(|_| {
        TaxiiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("at most {MAX_CONTENT} bytes per request"),
        )
    })?;
    let request_timestamp = stix::format_timestamp(jiff::Timestamp::now());
    let max = node.config().limits.taxii_objects.max(1) as usize;
    let objects = {
        // Parsed one object at a time from the borrowed body: one copy.
        let raw = liaison_core::taxii::envelope_objects(&body, max).map_err(|e| match e {
            EnvelopeError::TooMany(_) => TaxiiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too many objects",
                e.to_string(),
            ),
            EnvelopeError::Invalid(m) => TaxiiError::bad(m),
        })?;
        raw.iter()
            .map(|o| serde_json::from_str::<Value>(o.get()).unwrap_or(Value::Null))
            .collect::<Vec<Value>>()
    };
    drop(body);
    let outcome = node.add_stix_objects(&c.id, objects, |_, _| {}).await?;
    let successes: Vec<Value> = outcome
        .accepted
        .iter()
        .take(MAX_STATUS_DETAILS)
        .map(|a| {
            let mut s = json!({"id": a.id, "version": a.version});
            if a.already_present {
                s["message"] = json!("already present");
            }
            s
        })
        .collect();
    let failures: Vec<Value> = outcome
        .refused
        .iter()
        .take(MAX_STATUS_DETAILS)
        .map(|r| {
            json!({
                "id": r.id.clone().unwrap_or_else(|| format!("object #{}", r.index)),
                "version": r.version.clone().unwrap_or_default(),
                "message": r.reason,
            })
        })
        .collect();
    let status = Status {
        id: random_uuid()?,
        collection: c.id.clone(),
        username: user.username.clone(),
        request_timestamp,
        total: (outcome.accepted.len() + outcome.refused.len()) as i64,
        success: outcome.accepted.len() as i64,
        failure: outcome.refused.len() as i64,
        successes: Value::Array(successes).to_string(),
        failures: Value::Array(failures).to_string(),
    };
    node.put_taxii_status(status.clone()).await?;
    Ok(taxii(StatusCode::ACCEPTED, status_json(&status)))
}

fn random_uuid() -> Result<String, TaxiiError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        TaxiiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            e.to_string(),
        )
    })?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

async fn status(
    State(node): State<Node>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(sid): Path<String>,
) -> TaxiiResult {
    // A status names the objects its poster sent: only the poster reads it.
    let user = &caller.0;
    let s = node
        .taxii_status(&sid, user)?
        .ok_or_else(|| TaxiiError::not_found(format!("no status {sid}")))?;
    Ok(taxii(StatusCode::OK, status_json(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert!(is_taxii_21("application/taxii+json;version=2.1"));
        assert!(is_taxii_21("application/taxii+json; version=2.1"));
        assert!(is_taxii_21("application/taxii+json"));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
        assert!(!is_taxii_21("application/json"));
    }
}
