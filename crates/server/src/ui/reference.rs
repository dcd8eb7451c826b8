//! The shared reference in the UI: the glossary side by side in English and
//! Russian (with the forms that propose, sign and diverge), the crosswalks
//! as tables, the norms with their measured figures, search, and norm tags
//! on cases.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use liaison_core::CoreError;
use liaison_core::glossary::{TermState, TermStatus};
use liaison_core::offences::OFFENCES;
use liaison_core::reference::{GLOSSARY_SEED, NORMS, SECTORS, Sector};
use liaison_core::roles::Permission;
use liaison_node::{ErrorKind, NodeError};
use serde::Deserialize;

use super::CheckedForm;
use super::SignedIn;
use super::dashboard::stats_charts;
use super::forms::Submitted;
use super::i18n::Tr;
use super::layout::{Layout, internal, not_found};
use super::{UiState, Visitor, html, urlencode};

// ---------- glossary ----------

pub struct PartyDefinition {
    pub party: String,
    pub en: String,
    pub ru: String,
    pub at: String,
}

/// A term ready for the templates.
pub struct TermView {
    pub id: String,
    pub term_en: String,
    pub term_ru: String,
    pub status: &'static str,
    pub status_label: String,
    /// (en, ru, signed by, at)
    pub agreed: Option<(String, String, String, String)>,
    pub draft: Option<(String, String)>,
    pub definitions: Vec<PartyDefinition>,
    /// (party, reasons en, reasons ru)
    pub divergences: Vec<(String, String, String)>,
    /// Reference-group members the latest proposal still needs.
    pub awaiting: String,
    pub related: Vec<String>,
    pub sources: Vec<String>,
}

fn short_time(at: &str) -> String {
    at.replace('T', " ").trim_end_matches('Z').to_owned()
}

fn term_view(t: &Tr, s: &TermState) -> TermView {
    TermView {
        id: s.id.clone(),
        term_en: s.term_en.clone(),
        term_ru: s.term_ru.clone(),
        status: s.status.as_str(),
        status_label: t
            .get(&format!("glossary.status_{}", s.status.as_str()))
            .to_owned(),
        agreed: s.agreed.as_ref().map(|a| {
            (
                a.en.clone(),
                a.ru.clone(),
                a.signed_by.join(", "),
                short_time(&a.at),
            )
        }),
        draft: s.draft.clone(),
        definitions: s
            .definitions
            .iter()
            .map(|(party, d)| PartyDefinition {
                party: party.clone(),
                en: d.en.clone(),
                ru: d.ru.clone(),
                at: short_time(&d.created),
            })
            .collect(),
        divergences: s
            .divergences
            .iter()
            .map(|(party, (en, ru))| (party.clone(), en.clone(), ru.clone()))
            .collect(),
        awaiting: s.awaiting.join(", "),
        related: s.related.clone(),
        // Seed sources are keys of the seed's bibliography; proposals may cite freely.
        sources: s
            .sources
            .iter()
            .map(|k| GLOSSARY_SEED.sources.get(k).unwrap_or(k).clone())
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    l: Layout,
    terms: Vec<TermView>,
    status: String,
    /// (status code, label, count)
    filters: Vec<(String, String, usize)>,
    may_edit: bool,
    error: String,
    form: Submitted,
}

#[derive(Deserialize)]
pub(super) struct StatusQuery {
    status: Option<String>,
}

fn glossary_view(
    state: &UiState,
    v: &Visitor,
    status: &str,
    error: String,
    form: Submitted,
) -> Result<GlossaryPage, Response> {
    let all = state.node.glossary().map_err(internal)?;
    let filters = [
        TermStatus::Proposed,
        TermStatus::Agreed,
        TermStatus::Divergent,
    ]
    .iter()
    .map(|st| {
        (
            st.as_str().to_owned(),
            v.t.get(&format!("glossary.status_{}", st.as_str()))
                .to_owned(),
            all.iter().filter(|t| t.status == *st).count(),
        )
    })
    .collect();
    let terms = all
        .iter()
        .filter(|t| status.is_empty() || t.status.as_str() == status)
        .map(|s| term_view(&v.t, s))
        .collect();
    Ok(GlossaryPage {
        l: Layout::new(state, v, "glossary"),
        terms,
        status: status.to_owned(),
        filters,
        may_edit: may(v, Permission::EditReference),
        error,
        form,
    })
}

fn may(v: &Visitor, p: Permission) -> bool {
    v.user.as_ref().is_some_and(|u| u.role.allows(p))
}

pub(super) async fn glossary(
    State(state): State<UiState>,
    v: Visitor,
    Query(q): Query<StatusQuery>,
) -> Response {
    let status = q
        .status
        .as_deref()
        .filter(|s| matches!(*s, "proposed" | "agreed" | "divergent"))
        .unwrap_or("");
    match glossary_view(&state, &v, status, String::new(), Submitted::default()) {
        Ok(p) => html(StatusCode::OK, &p),
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "glossary_term.html")]
struct TermPage {
    l: Layout,
    term: TermView,
    /// (at, party, action, summary)
    history: Vec<(String, String, String, String)>,
    may_edit: bool,
    /// The other party's proposal this party may countersign: (party, event id).
    signable: Option<(String, String)>,
    /// The propose form, prefilled.
    form: Submitted,
    error: String,
}

fn term_view_page(
    state: &UiState,
    v: &Visitor,
    id: &str,
    error: String,
    form: Option<Submitted>,
) -> Result<TermPage, Response> {
    let s = match state.node.glossary_term(id) {
        Ok(s) => s,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found(state, v)),
        Err(e) => return Err(internal(e)),
    };
    let me = state.node.party().to_string();
    let latest = s
        .definitions
        .iter()
        .max_by(|a, b| (&a.1.created, &a.1.event_id).cmp(&(&b.1.created, &b.1.event_id)));
    let already_agreed = s
        .agreed
        .as_ref()
        .is_some_and(|a| latest.is_some_and(|l| l.1.event_id == a.proposal));
    let signable = latest
        .filter(|(party, _)| **party != me && !already_agreed)
        .map(|(party, d)| (party.clone(), d.event_id.clone()));
    let form = form.unwrap_or_else(|| {
        // Start from this party's own text, else the agreed one, else the draft.
        let (en, ru) = s
            .definitions
            .get(&me)
            .map(|d| (d.en.clone(), d.ru.clone()))
            .or_else(|| s.agreed.as_ref().map(|a| (a.en.clone(), a.ru.clone())))
            .or_else(|| s.draft.clone())
            .unwrap_or_default();
        let mut f = Submitted::default();
        for (k, val) in [
            ("term_en", s.term_en.clone()),
            ("term_ru", s.term_ru.clone()),
            ("definition_en", en),
            ("definition_ru", ru),
            ("sources", s.sources.join(", ")),
        ] {
            f.0.insert(k.to_owned(), vec![val]);
        }
        f
    });
    let history = s
        .history
        .iter()
        .map(|h| {
            (
                short_time(&h.at),
                h.party.clone(),
                v.t.get(&format!("glossary.action_{}", h.action)).to_owned(),
                h.summary.clone(),
            )
        })
        .collect();
    Ok(TermPage {
        l: Layout::new(state, v, "glossary"),
        term: term_view(&v.t, &s),
        history,
        may_edit: may(v, Permission::EditReference),
        signable,
        form,
        error,
    })
}

pub(super) async fn term_page(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    match term_view_page(&state, &v, &id, String::new(), None) {
        Ok(p) => html(StatusCode::OK, &p),
        Err(r) => r,
    }
}

/// A refused glossary change, in the visitor's language.
fn refusal(t: &Tr, e: &NodeError) -> String {
    match e {
        NodeError::Core(CoreError::Field { field, problem, .. }) => format!(
            "{}: {}",
            t.get(&format!("glossary.{field}")),
            t.get(&format!("error.{}", problem.as_str()))
        ),
        other if t.lang == "en" => other.to_string(),
        other => format!("{} ({other})", t.get("glossary.refused")),
    }
}

fn sources(form: &Submitted) -> Vec<String> {
    form.one("sources")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn after_change(
    state: &UiState,
    v: &Visitor,
    id: &str,
    result: Result<String, NodeError>,
    form: Option<Submitted>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/glossary/{}", urlencode(id))).into_response(),
        Err(e) if e.kind() == ErrorKind::NotFound => not_found(state, v),
        Err(e) => match term_view_page(state, v, id, refusal(&v.t, &e), form) {
            Ok(p) => html(StatusCode::BAD_REQUEST, &p),
            Err(r) => r,
        },
    }
}

pub(super) async fn propose(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    let result = state
        .node
        .glossary_propose(
            &id,
            form.one("term_en").trim(),
            form.one("term_ru").trim(),
            form.one("definition_en").trim(),
            form.one("definition_ru").trim(),
            sources(&form),
        )
        .await;
    after_change(&state, &v, &id, result, Some(form))
}

pub(super) async fn sign(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(_): CheckedForm,
) -> Response {
    let result = state.node.glossary_sign(&id).await;
    after_change(&state, &v, &id, result, None)
}

pub(super) async fn diverge(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    let result = state
        .node
        .glossary_diverge(
            &id,
            form.one("reasons_en").trim(),
            form.one("reasons_ru").trim(),
        )
        .await;
    after_change(&state, &v, &id, result, None)
}

/// Proposes a term the glossary does not have yet.
pub(super) async fn new_term(
    State(state): State<UiState>,
    v: Visitor,
    CheckedForm(form): CheckedForm,
) -> Response {
    let id = form.one("id").trim().to_owned();
    let result = if state.node.glossary_term(&id).is_ok() {
        Err(NodeError::Core(CoreError::field(
            "term",
            liaison_core::FieldProblem::Invalid,
            format!("the glossary already has a term {id}; propose a definition on its page"),
        )))
    } else {
        state
            .node
            .glossary_propose(
                &id,
                form.one("term_en").trim(),
                form.one("term_ru").trim(),
                form.one("definition_en").trim(),
                form.one("definition_ru").trim(),
                sources(&form),
            )
            .await
    };
    match result {
        Ok(_) => Redirect::to(&format!("/glossary/{}", urlencode(&id))).into_response(),
        Err(e) => match glossary_view(&state, &v, "", refusal(&v.t, &e), form) {
            Ok(p) => html(StatusCode::BAD_REQUEST, &p),
            Err(r) => r,
        },
    }
}

// ---------- crosswalks ----------

pub struct SectorLine {
    pub id: String,
    pub label: String,
    pub counterparts: Vec<String>,
    pub no_counterpart: String,
}

/// An offence and each party's statutes: (cite, label).
pub struct OffenceLine {
    pub article: String,
    pub label: String,
    pub us: Vec<(String, String)>,
    pub ru: Vec<(String, String)>,
    pub retired: bool,
}

#[derive(Template)]
#[template(path = "crosswalks.html")]
struct CrosswalksPage {
    l: Layout,
    sectors_version: String,
    offences_version: String,
    us: Vec<SectorLine>,
    ru: Vec<SectorLine>,
    offences: Vec<OffenceLine>,
}

fn sector_lines(t: &Tr, sectors: &[Sector]) -> Vec<SectorLine> {
    sectors
        .iter()
        .map(|s| SectorLine {
            id: s.id.clone(),
            label: s.label(t.lang).to_owned(),
            counterparts: s.counterparts.iter().map(|c| t.sector(c)).collect(),
            no_counterpart: s.no_counterpart.clone().unwrap_or_default(),
        })
        .collect()
}

pub(super) async fn crosswalks(State(state): State<UiState>, v: Visitor) -> Response {
    let t = v.t;
    let statutes = |o: &liaison_core::offences::Offence, j: &str| {
        o.statutes
            .iter()
            .filter(|s| s.jurisdiction == j)
            .map(|s| {
                (
                    s.cite.clone(),
                    if t.lang == "ru" { &s.ru } else { &s.en }.clone(),
                )
            })
            .collect()
    };
    let offences = OFFENCES
        .offences
        .iter()
        .map(|o| OffenceLine {
            article: o.budapest_article.clone(),
            label: o.label(t.lang).to_owned(),
            us: statutes(o, "us"),
            ru: statutes(o, "ru"),
            retired: o.retired,
        })
        .collect();
    html(
        StatusCode::OK,
        &CrosswalksPage {
            l: Layout::new(&state, &v, "crosswalks"),
            sectors_version: SECTORS.version.clone(),
            offences_version: OFFENCES.version.clone(),
            us: sector_lines(&t, &SECTORS.us),
            ru: sector_lines(&t, &SECTORS.ru),
            offences,
        },
    )
}

// ---------- norms ----------

pub struct NormLine {
    pub id: String,
    pub text: String,
    pub other: String,
    pub tagged: i64,
}

pub struct ResponsivenessLine {
    pub party: String,
    pub requests: u64,
    pub acknowledged: u64,
    pub executed: u64,
    pub refused: u64,
    pub median_ack: String,
}

#[derive(Template)]
#[template(path = "norms.html")]
struct NormsPage {
    l: Layout,
    norms: Vec<NormLine>,
    responsiveness: Vec<ResponsivenessLine>,
    responsiveness_chart: String,
    generated_at: String,
}

pub(super) async fn norms(State(state): State<UiState>, v: Visitor) -> Response {
    let t = v.t;
    let (counts, stats) = match (state.node.norm_tag_counts(), state.node.stats()) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) => return internal(e),
        (_, Err(e)) => return internal(e),
    };
    let other = if t.lang == "ru" { "en" } else { "ru" };
    let norms = NORMS
        .norms
        .iter()
        .map(|n| NormLine {
            id: n.id.clone(),
            text: n.text(t.lang).to_owned(),
            other: n.text(other).to_owned(),
            tagged: counts.iter().find(|(id, _)| *id == n.id).map_or(0, |c| c.1),
        })
        .collect();
    let (_, _, _, responsiveness_chart) = stats_charts(&t, &stats);
    let responsiveness = stats
        .responsiveness
        .iter()
        .map(|r| ResponsivenessLine {
            party: r.party.clone(),
            requests: r.requests,
            acknowledged: r.acknowledged,
            executed: r.executed,
            refused: r.refused,
            median_ack: r
                .median_ack_secs
                .map(|d| t.duration(&d))
                .unwrap_or_else(|| "—".into()),
        })
        .collect();
    html(
        StatusCode::OK,
        &NormsPage {
            l: Layout::new(&state, &v, "norms"),
            norms,
            responsiveness,
            responsiveness_chart,
            generated_at: short_time(&stats.generated_at),
        },
    )
}

/// Tags or untags a case with a norm (form fields `norm`, `op=add|remove`).
pub(super) async fn tag_case(
    State(state): State<UiState>,
    v: Visitor,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm,
) -> Response {
    let path = format!("/cases/{id}");
    match v.require(Permission::ReadCases, &path) {
        Err(r) => return r,
        Ok(user) => match state.node.case_for(user, &id) {
            Ok(Some(_)) => {}
            Ok(None) => return not_found(&state, &v),
            Err(e) => return internal(e),
        },
    }
    let on = form.one("op") != "remove";
    match state.node.tag_case(&id, form.one("norm"), on).await {
        Ok(()) => Redirect::to(&format!("{path}#norms")).into_response(),
        Err(e) if e.kind() == ErrorKind::NotFound => not_found(&state, &v),
        Err(e) => (StatusCode::BAD_REQUEST, refusal(&v.t, &e)).into_response(),
    }
}

// ---------- search ----------

pub struct HitLine {
    pub kind: String,
    pub href: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    hits: Vec<HitLine>,
    cases_searched: bool,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    q: Option<String>,
}

pub(super) async fn search(
    State(state): State<UiState>,
    v: Visitor,
    SignedIn(user): SignedIn,
    Query(q): Query<SearchQuery>,
) -> Response {
    let query = q.q.unwrap_or_default();
    let hits = if query.trim().is_empty() {
        Vec::new()
    } else {
        match state
            .node
            .search_as(user.role, user.clearance, &query, v.t.lang, 50)
        {
            Ok(h) => h,
            Err(e) => return internal(e),
        }
    };
    let hits = hits
        .into_iter()
        .map(|h| HitLine {
            kind: v.t.get(&format!("search.kind_{}", h.kind)).to_owned(),
            href: match h.kind.as_str() {
                "case" => format!("/cases/{}", urlencode(&h.id)),
                _ => format!("/glossary/{}", urlencode(&h.id)),
            },
            title: h.title,
        })
        .collect();
    html(
        StatusCode::OK,
        &SearchPage {
            l: Layout::new(&state, &v, "search"),
            q: query,
            hits,
            cases_searched: user.role.allows(Permission::ReadCases),
        },
    )
}
