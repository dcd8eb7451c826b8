//! The shared glossary on a node: signed events sent to every pinned party,
//! recorded with the envelopes that carry them, and the glossary derived
//! from them (`liaison_core::glossary::resolve`).

use std::collections::BTreeSet;

use liaison_core::envelope::SignedEnvelope;
use liaison_core::glossary::{GLOSSARY, GlossaryBody, GlossaryEvent, TermState, resolve};
use liaison_core::reference::GLOSSARY_SEED;
use liaison_store::federation::{self as db, Direction};
use liaison_store::reference::{self as refdb, GlossaryEventRow};
use liaison_store::{Connection, StoreError};

use crate::envelopes::{insert_envelope, random_id};
use crate::{Node, NodeError, now_rfc3339};

fn events(conn: &Connection, term: Option<&str>) -> Result<Vec<GlossaryEvent>, StoreError> {
    Ok(refdb::glossary_events(conn, term)?
        .into_iter()
        .filter_map(|row| {
            let body = serde_json::from_str::<serde_json::Value>(&row.body).ok()?;
            Some(GlossaryEvent {
                party: row.party,
                created: row.created,
                body: GlossaryBody::check(&body).ok()?,
            })
        })
        .collect())
}

/// The state of one term, from the seed and the events this node holds,
/// agreed once every party of `group` signed.
pub(crate) fn term_state(
    conn: &Connection,
    id: &str,
    group: &BTreeSet<String>,
) -> Result<TermState, StoreError> {
    let seed = GLOSSARY_SEED.terms.iter().find(|t| t.id == id);
    Ok(resolve(id, seed, &events(conn, Some(id))?, group))
}

/// Keeps a term's search document current.
pub(crate) fn reindex(conn: &Connection, id: &str) -> Result<(), StoreError> {
    // The searchable text does not depend on who must sign.
    let s = term_state(conn, id, &BTreeSet::new())?;
    let mut text = format!("{} {}", s.term_en, s.term_ru);
    if let Some((en, ru)) = &s.draft {
        text.push_str(&format!(" {en} {ru}"));
    }
    for d in s.definitions.values() {
        text.push_str(&format!(" {} {}", d.en, d.ru));
    }
    refdb::index_glossary_term(conn, id, &liaison_core::text::analyze(&text))
}

/// Records a glossary event that arrived in an envelope (its body already
/// checked on arrival).
pub(crate) fn record_arrival(
    tx: &mut liaison_store::WriteTx<'_>,
    signed: &SignedEnvelope,
    body: &GlossaryBody,
    signed_json: String,
    hash: &str,
    log_index: u64,
    now: &str,
) -> Result<(), StoreError> {
    let conn = tx.conn();
    let e = &signed.envelope;
    insert_envelope(
        conn,
        signed,
        signed_json,
        hash,
        Direction::In,
        log_index,
        now,
    )?;
    let row = GlossaryEventRow {
        event_id: body.event_id().to_owned(),
        term: body.term().to_owned(),
        party: e.sender.clone(),
        body: serde_json::to_string(&e.body).map_err(|err| StoreError::Invalid(err.to_string()))?,
        created: e.created.clone(),
    };
    if refdb::insert_glossary_event(conn, &row, body.action(), Some(hash))? {
        let term = body.term().to_owned();
        tx.defer(move |conn| reindex(conn, &term));
    }
    Ok(())
}

impl Node {
    /// The parties whose signatures agree a definition: `reference.group`
    /// (party codes, comma-separated) or, when that is empty, every pinned
    /// authority and this node if it is one.
    pub fn reference_group(&self) -> Result<BTreeSet<String>, NodeError> {
        let configured: BTreeSet<String> = self
            .config
            .reference
            .group
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if !configured.is_empty() {
            return Ok(configured);
        }
        let mut group = BTreeSet::new();
        if self.role == liaison_proto::NodeRole::Party
            && self.kind() == liaison_proto::PartyKind::Authority
        {
            group.insert(self.party.to_string());
        }
        for p in self.peers()? {
            if p.card.role == liaison_proto::NodeRole::Party
                && p.kind == liaison_proto::PartyKind::Authority
            {
                group.insert(p.party.to_string());
            }
        }
        Ok(group)
    }

    /// Every term: the seed's and any other a party proposed.
    pub fn glossary(&self) -> Result<Vec<TermState>, NodeError> {
        let group = self.reference_group()?;
        Ok(self.store.read(|c| {
            let mut ids: BTreeSet<String> =
                GLOSSARY_SEED.terms.iter().map(|t| t.id.clone()).collect();
            ids.extend(refdb::glossary_events(c, None)?.into_iter().map(|e| e.term));
            let all = events(c, None)?;
            let mut out: Vec<TermState> = ids
                .iter()
                .map(|id| {
                    resolve(
                        id,
                        GLOSSARY_SEED.terms.iter().find(|t| &t.id == id),
                        &all,
                        &group,
                    )
                })
                .collect();
            out.sort_by_key(|a| a.term_en.to_lowercase());
            Ok(out)
        })?)
    }

    pub fn glossary_term(&self, id: &str) -> Result<TermState, NodeError> {
        let known = GLOSSARY_SEED.terms.iter().any(|t| t.id == id)
            || !self
                .store
                .read(|c| refdb::glossary_events(c, Some(id)))?
                .is_empty();
        if !known {
            return Err(NodeError::Store(StoreError::NotFound(format!(
                "no glossary term {id}"
            ))));
        }
        let group = self.reference_group()?;
        Ok(self.store.read(|c| term_state(c, id, &group))?)
    }

    /// Proposes this party's definition of a term (and signs it as the
    /// agreed text, pending the signatures of the reference group).
    pub async fn glossary_propose(
        &self,
        term: &str,
        term_en: &str,
        term_ru: &str,
        definition_en: &str,
        definition_ru: &str,
        sources: Vec<String>,
    ) -> Result<String, NodeError> {
        let body = GlossaryBody::Propose {
            event_id: random_id()?,
            term: term.to_owned(),
            term_en: term_en.to_owned(),
            term_ru: term_ru.to_owned(),
            definition_en: definition_en.to_owned(),
            definition_ru: definition_ru.to_owned(),
            sources,
        };
        self.send_glossary(body).await
    }

    /// Countersigns the latest proposal of another party: the definition is
    /// agreed once every party of the reference group has.
    pub async fn glossary_sign(&self, term: &str) -> Result<String, NodeError> {
        let state = self.glossary_term(term)?;
        let me = self.party.as_str();
        let latest = state
            .definitions
            .iter()
            .max_by(|a, b| (&a.1.created, &a.1.event_id).cmp(&(&b.1.created, &b.1.event_id)))
            .ok_or_else(|| {
                NodeError::Invalid(format!("no party has proposed a definition of {term} yet"))
            })?;
        if latest.0 == me {
            return Err(NodeError::Invalid(format!(
                "the latest proposal for {term} is this party's own; the other parties must sign it"
            )));
        }
        let body = GlossaryBody::Sign {
            event_id: random_id()?,
            term: term.to_owned(),
            proposal: latest.1.event_id.clone(),
        };
        self.send_glossary(body).await
    }

    /// Marks a term divergent for this party, with its reasons.
    pub async fn glossary_diverge(
        &self,
        term: &str,
        reasons_en: &str,
        reasons_ru: &str,
    ) -> Result<String, NodeError> {
        self.glossary_term(term)?;
        let body = GlossaryBody::Diverge {
            event_id: random_id()?,
            term: term.to_owned(),
            reasons_en: reasons_en.to_owned(),
            reasons_ru: reasons_ru.to_owned(),
        };
        self.send_glossary(body).await
    }

    /// Records an event and sends it, signed, to every pinned party.
    async fn send_glossary(&self, body: GlossaryBody) -> Result<String, NodeError> {
        let _gate = self.signing_gate().await;
        let value = serde_json::to_value(&body).map_err(|e| NodeError::Invalid(e.to_string()))?;
        GlossaryBody::check(&value)?;
        let envelopes =
            self.sign_for_parties(GLOSSARY, &format!("glossary-{}", body.term()), &value)?;
        if envelopes.is_empty() {
            return Err(NodeError::Invalid(
                "no party is pinned: a glossary change needs someone to agree with".into(),
            ));
        }
        let recipients = envelopes.recipients();
        let created = now_rfc3339();
        let row = GlossaryEventRow {
            event_id: body.event_id().to_owned(),
            term: body.term().to_owned(),
            party: self.party.to_string(),
            body: value.to_string(),
            created,
        };
        let (action, term, event_id) = (
            body.action(),
            body.term().to_owned(),
            body.event_id().to_owned(),
        );
        self.store
            .write(move |tx| {
                let now = now_rfc3339();
                refdb::insert_glossary_event(tx.conn(), &row, action, None)?;
                envelopes.commit(tx, &now)?;
                tx.defer(move |conn| reindex(conn, &term));
                Ok(())
            })
            .await?;
        self.wake.queued(recipients.iter().map(String::as_str));
        Ok(event_id)
    }
}

impl Node {
    /// Tags (or untags) a case with a norm of the 2015 UN GGE report.
    pub async fn tag_case(&self, case_id: &str, norm: &str, on: bool) -> Result<(), NodeError> {
        if liaison_core::reference::NORMS.get(norm).is_none() {
            return Err(NodeError::Invalid(format!(
                "norm {norm:?} is not one of 13(a) to 13(k)"
            )));
        }
        if self.store.read(|c| db::case_by_id(c, case_id))?.is_none() {
            return Err(NodeError::Store(StoreError::NotFound(format!(
                "no case {case_id}"
            ))));
        }
        let (c, n) = (case_id.to_owned(), norm.to_owned());
        self.store
            .write(move |tx| refdb::tag_case(tx.conn(), &c, &n, on))
            .await?;
        Ok(())
    }
}
