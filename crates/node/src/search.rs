//! Full-text search over case threads and the glossary, in English and
//! Russian (Snowball stems, see `liaison_core::text`), through SQLite FTS5
//! ranked by BM25. Results respect the caller's rights: case threads only
//! for roles that may read cases.

use liaison_core::case::title;
use liaison_core::roles::{Permission, Role};
use liaison_core::text::{analyze, stems};
use liaison_store::federation as db;
use liaison_store::reference as refdb;
use liaison_store::{Connection, StoreError};
use serde::Serialize;

use crate::{Node, NodeError};

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

/// Indexes one envelope of a case (called in the transaction that records it).
pub(crate) fn index_envelope(
    conn: &Connection,
    hash: &str,
    case_id: &str,
    case_title: &str,
    body: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut text = case_title.to_owned();
    body_text(body, &mut text);
    refdb::index_new_doc(conn, hash, "case", Some(case_id), &analyze(&text))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    /// `case` or `glossary`.
    pub kind: String,
    /// Case id or glossary term id.
    pub id: String,
    pub title: String,
}

impl Node {
    /// The best hits for `query` that `role` may see, best first.
    pub fn search(
        &self,
        role: Role,
        query: &str,
        lang: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>, NodeError> {
        let terms = stems(query);
        let mut kinds = vec!["glossary"];
        if role.allows(Permission::ReadCases) {
            kinds.push("case");
        }
        // Several envelopes of one case may match: fetch more, keep the best per case.
        let hits = self
            .store
            .read(|c| refdb::search(c, &terms, &kinds, limit * 4))?;
        let mut out: Vec<SearchHit> = Vec::new();
        for h in hits {
            let (kind, id) = match (&h.kind[..], &h.case_id) {
                ("case", Some(case)) => ("case", case.clone()),
                ("glossary", _) => ("glossary", h.doc.trim_start_matches("glossary:").to_owned()),
                _ => continue,
            };
            if out.iter().any(|o| o.kind == kind && o.id == id) {
                continue;
            }
            let title = if kind == "case" {
                match self.store.read(|c| db::case_by_id(c, &id))? {
                    Some(c) => title(&c.kind, &c.subject, c.offence.as_deref(), lang),
                    None => continue,
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
        let hashes: Vec<(String, String)> = self.store.read(|c| {
            let mut stmt = c.prepare(
                "SELECT hash, case_id FROM envelopes WHERE kind != 'glossary' ORDER BY log_index",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })?;
        let terms: Vec<String> = self.glossary()?.into_iter().map(|t| t.id).collect();
        let total = (hashes.len() + terms.len()) as u64;
        self.store.write(|tx| refdb::clear_index(tx.conn())).await?;
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
                        let t = format!(
                            "{} {}",
                            title(&case.kind, &case.subject, case.offence.as_deref(), "en"),
                            title(&case.kind, &case.subject, case.offence.as_deref(), "ru")
                        );
                        index_envelope(tx.conn(), hash, case_id, &t, &signed.envelope.body)?;
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
        Ok(total)
    }
}
