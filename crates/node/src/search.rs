//! Full-text search over case threads and the glossary, in English and
//! Russian (Snowball stems, see `liaison_core::text`), through SQLite FTS5
//! ranked by BM25. Results respect the caller's rights: case threads only
//! for roles that may read cases.

use liaison_core::case::title;
use liaison_core::roles::{Permission, Role};
use liaison_core::text::{analyze, stems};
use liaison_core::tlp::Tlp;
use liaison_store::StoreError;
use liaison_store::federation as db;
use liaison_store::reference as refdb;
use serde::Serialize;

use crate::{Node, NodeError};

/// How many of the newest matching case messages a query ranks. Fewer
/// matches are ranked exactly; a word in most of a million messages costs
/// the ranking of this many (see BENCHMARKS.md, search).
pub const RANK_WINDOW: usize = 2000;

const INDEX_STATE: &str = "search_index";

/// The words of a message body worth indexing: every string in it.
fn body_text(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => {
            out.push(' ');
            out.push_str(s);
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| body_text(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| body_text(v, out)),
        _ => {}
    }
}

/// What a message is indexed under, stemmed before its write job so that
/// the single writer thread does not spend its time stemming: its body,
/// and its case's title when known (an opening, or a case read before).
#[derive(Clone, Debug, Default)]
pub(crate) struct Stems {
    pub title: Option<String>,
    pub body: String,
}

/// The stems of a message body, and of its case's title if `title` is given.
pub(crate) fn stems_of(body: &serde_json::Value, title: Option<&TitleParts<'_>>) -> Stems {
    let mut text = String::new();
    body_text(body, &mut text);
    Stems {
        title: title.map(|t| analyze(&t.both_languages())),
        body: analyze(&text),
    }
}

/// What a case's title is made of.
pub(crate) struct TitleParts<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    pub offence: Option<&'a str>,
}

impl TitleParts<'_> {
    pub(crate) fn both_languages(&self) -> String {
        let t = |lang| title(self.kind, self.subject, self.offence, lang);
        format!("{} {}", t("en"), t("ru"))
    }
}

/// Indexes one envelope of a case, in the transaction that records it (at
/// the end of its batch, see `WriteTx::defer`).
pub(crate) fn index_envelope(
    tx: &mut liaison_store::WriteTx<'_>,
    hash: &str,
    case_id: &str,
    case_title: &TitleParts<'_>,
    stems: &Stems,
) -> Result<(), StoreError> {
    let title = match &stems.title {
        Some(t) => t.clone(),
        None => analyze(&case_title.both_languages()),
    };
    let stems = format!("{title} {}", stems.body);
    let (hash, case_id) = (hash.to_owned(), case_id.to_owned());
    tx.defer(move |conn| refdb::index_case_message(conn, &hash, &case_id, &stems));
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// `case` or `glossary`.
    pub kind: String,
    /// Case id or glossary term id.
    pub id: String,
    pub title: String,
}

impl Node {
    /// The best hits for `query` that `role` may see with its default TLP
    /// clearance, best first.
    pub fn search(
        &self,
        role: Role,
        query: &str,
        lang: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>, NodeError> {
        self.search_as(role, role.default_clearance(), query, lang, limit)
    }

    /// The best hits for `query` that a reader with this role and TLP
    /// clearance may see, best first: cases whose marking excludes the
    /// reader never appear.
    pub fn search_as(
        &self,
        role: Role,
        clearance: Tlp,
        query: &str,
        lang: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>, NodeError> {
        let terms = stems(query);
        // The glossary is small: ranked exactly. Case threads may be millions
        // of messages: ranked within the newest RANK_WINDOW matches.
        let mut hits: Vec<(&str, refdb::Hit)> = self
            .store
            .read(|c| refdb::search_glossary(c, &terms, limit))?
            .into_iter()
            .map(|h| ("glossary", h))
            .collect();
        if role.allows(Permission::ReadCases) {
            // The marking is filtered in the query: `limit` counts readable cases only.
            let levels: Vec<&str> = liaison_core::tlp::ALL_LEVELS
                .iter()
                .filter(|l| l.visible_to(clearance))
                .map(|l| l.as_str())
                .collect();
            let cases = self
                .store
                .read(|c| refdb::search_cases(c, &terms, limit, Some(RANK_WINDOW), &levels))?;
            hits.extend(cases.into_iter().map(|h| ("case", h)));
        }
        // BM25 scores of two indexes: each index's own statistics, the same scale.
        hits.sort_by(|a, b| a.1.rank.total_cmp(&b.1.rank));
        let mut out: Vec<SearchHit> = Vec::new();
        for (kind, h) in hits {
            let id = match (kind, h.case_id) {
                ("case", Some(case)) => case,
                ("glossary", _) => h.doc,
                _ => continue,
            };
            if out.iter().any(|o| o.kind == kind && o.id == id) {
                continue;
            }
            let title = if kind == "case" {
                match self.store.read(|c| db::case_by_id(c, &id))? {
                    Some(c) if c.tlp.visible_to(clearance) => {
                        title(c.kind.as_str(), &c.subject, c.offence.as_deref(), lang)
                    }
                    _ => continue,
                }
            } else {
                let t = self.glossary_term(&id)?;
                if lang == "ru" {
                    format!("{} ({})", t.term_ru, t.term_en)
                } else {
                    format!("{} ({})", t.term_en, t.term_ru)
                }
            };
            out.push(SearchHit {
                kind: kind.to_owned(),
                id,
                title,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Rebuilds the whole index from the database; `progress(done, total)`.
    pub async fn rebuild_search_index(
        &self,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<u64, NodeError> {
        let hashes = self.store.read(db::case_envelope_hashes)?;
        let terms: Vec<String> = self.glossary()?.into_iter().map(|t| t.id).collect();
        let total = (hashes.len() + terms.len()) as u64;
        // Marked until the last chunk: a rebuild cut short resumes at the next start.
        self.store
            .write(|tx| {
                refdb::clear_index(tx.conn())?;
                liaison_store::set_meta(tx.conn(), INDEX_STATE, "rebuilding")
            })
            .await?;
        let mut done = 0u64;
        for chunk in hashes.chunks(2000) {
            let n = chunk.len() as u64;
            let chunk = chunk.to_vec();
            self.store
                .write(move |tx| {
                    for (hash, case_id) in &chunk {
                        let Some(row) = db::envelope_by_hash(tx.conn(), hash)? else {
                            continue;
                        };
                        let Some(case) = db::case_by_id(tx.conn(), case_id)? else {
                            continue;
                        };
                        let signed: liaison_core::envelope::SignedEnvelope =
                            serde_json::from_str(&row.signed_json).map_err(|e| {
                                StoreError::Corrupt(format!("envelope {hash}: {e}"))
                            })?;
                        let stems = stems_of(&signed.envelope.body, None);
                        let parts = TitleParts {
                            kind: case.kind.as_str(),
                            subject: &case.subject,
                            offence: case.offence.as_deref(),
                        };
                        index_envelope(tx, hash, case_id, &parts, &stems)?;
                    }
                    Ok(())
                })
                .await?;
            done += n;
            progress(done, total);
        }
        for chunk in terms.chunks(200) {
            let n = chunk.len() as u64;
            let chunk = chunk.to_vec();
            self.store
                .write(move |tx| {
                    for id in &chunk {
                        crate::glossary::reindex(tx.conn(), id)?;
                    }
                    Ok(())
                })
                .await?;
            done += n;
            progress(done, total);
        }
        self.store
            .write(|tx| {
                refdb::optimize_index(tx.conn())?;
                liaison_store::set_meta(tx.conn(), INDEX_STATE, "complete")
            })
            .await?;
        Ok(total)
    }

    /// False while a rebuild of the index has not finished (it was cut short).
    pub fn search_index_complete(&self) -> Result<bool, NodeError> {
        Ok(self.store.meta(INDEX_STATE)?.as_deref() != Some("rebuilding"))
    }
}
