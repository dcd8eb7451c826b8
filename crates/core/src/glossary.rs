//! The shared glossary: each party's definition of a term, the definition
//! the reference group signed, divergences with reasons, and the full history —
//! all derived from signed glossary events exchanged over the federation, so
//! every node that holds the same events shows the same glossary.
//!
//! Events: `propose` (a party's own definition, which it thereby signs as
//! the agreed text), `sign` (another party countersigns a proposal: the
//! definition is agreed once every party of the reference group signed it),
//! `diverge` (a party records that it does not share
//! the definition, with its reasons).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::reference::SeedTerm;

/// Envelope kind of glossary events.
pub const GLOSSARY: &str = "glossary";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum GlossaryBody {
    Propose {
        event_id: String,
        term: String,
        term_en: String,
        term_ru: String,
        definition_en: String,
        definition_ru: String,
        #[serde(default)]
        sources: Vec<String>,
    },
    Sign {
        event_id: String,
        term: String,
        /// The event id of the proposal signed.
        proposal: String,
    },
    Diverge {
        event_id: String,
        term: String,
        reasons_en: String,
        reasons_ru: String,
    },
}

impl GlossaryBody {
    pub fn event_id(&self) -> &str {
        match self {
            GlossaryBody::Propose { event_id, .. }
            | GlossaryBody::Sign { event_id, .. }
            | GlossaryBody::Diverge { event_id, .. } => event_id,
        }
    }

    pub fn term(&self) -> &str {
        match self {
            GlossaryBody::Propose { term, .. }
            | GlossaryBody::Sign { term, .. }
            | GlossaryBody::Diverge { term, .. } => term,
        }
    }

    pub fn action(&self) -> &'static str {
        match self {
            GlossaryBody::Propose { .. } => "propose",
            GlossaryBody::Sign { .. } => "sign",
            GlossaryBody::Diverge { .. } => "diverge",
        }
    }

    /// Parses and checks a glossary event body, naming the bad field.
    pub fn check(body: &serde_json::Value) -> Result<GlossaryBody, CoreError> {
        let b: GlossaryBody = serde_json::from_value(body.clone())
            .map_err(|e| CoreError::invalid(format!("glossary event: {e}")))?;
        let token = |field: &str, v: &str| {
            let ok = (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
            if ok {
                Ok(())
            } else {
                Err(CoreError::field(
                    field,
                    crate::FieldProblem::Invalid,
                    format!("{field} {v:?} is not an id"),
                ))
            }
        };
        let text = |field: &str, v: &str, max: usize| {
            if v.trim().is_empty() {
                Err(CoreError::field(
                    field,
                    crate::FieldProblem::Required,
                    format!("{field} is required"),
                ))
            } else if v.chars().count() > max {
                Err(CoreError::field(
                    field,
                    crate::FieldProblem::TooLong,
                    format!("{field} is longer than {max} characters"),
                ))
            } else {
                Ok(())
            }
        };
        token("event_id", b.event_id())?;
        token("term", b.term())?;
        match &b {
            GlossaryBody::Propose {
                term_en,
                term_ru,
                definition_en,
                definition_ru,
                sources,
                ..
            } => {
                text("term_en", term_en, 200)?;
                text("term_ru", term_ru, 200)?;
                text("definition_en", definition_en, 5000)?;
                text("definition_ru", definition_ru, 5000)?;
                for s in sources {
                    text("sources", s, 300)?;
                }
            }
            GlossaryBody::Sign { proposal, .. } => token("proposal", proposal)?,
            GlossaryBody::Diverge {
                reasons_en,
                reasons_ru,
                ..
            } => {
                // Reasons in at least one language.
                if reasons_en.trim().is_empty() && reasons_ru.trim().is_empty() {
                    return Err(CoreError::field(
                        "reasons_en",
                        crate::FieldProblem::Required,
                        "reasons are required to diverge",
                    ));
                }
                if reasons_en.chars().count() > 5000 || reasons_ru.chars().count() > 5000 {
                    return Err(CoreError::field(
                        "reasons_en",
                        crate::FieldProblem::TooLong,
                        "reasons are longer than 5000 characters",
                    ));
                }
            }
        }
        Ok(b)
    }
}

/// A glossary event as both nodes hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlossaryEvent {
    pub party: String,
    pub created: String,
    pub body: GlossaryBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TermStatus {
    Proposed,
    Agreed,
    Divergent,
}

impl TermStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            TermStatus::Proposed => "proposed",
            TermStatus::Agreed => "agreed",
            TermStatus::Divergent => "divergent",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Definition {
    pub en: String,
    pub ru: String,
    pub event_id: String,
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Agreed {
    pub en: String,
    pub ru: String,
    pub proposal: String,
    pub signed_by: Vec<String>,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HistoryLine {
    pub at: String,
    pub party: String,
    pub action: String,
    pub event_id: String,
    pub summary: String,
}

/// A term as the glossary shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TermState {
    pub id: String,
    pub term_en: String,
    pub term_ru: String,
    /// The project's draft definition (from the seed), if any.
    pub draft: Option<(String, String)>,
    pub related: Vec<String>,
    pub sources: Vec<String>,
    /// Each party's current definition.
    pub definitions: BTreeMap<String, Definition>,
    pub status: TermStatus,
    pub agreed: Option<Agreed>,
    /// Parties that diverge, with their reasons (en, ru).
    pub divergences: BTreeMap<String, (String, String)>,
    /// Members of the reference group whose signature the latest proposal
    /// still needs before it is agreed (its author's is implied).
    pub awaiting: Vec<String>,
    pub history: Vec<HistoryLine>,
}

/// Derives a term's state from its seed entry and events. The events are
/// applied in (created, event id) order, so the result does not depend on
/// the order in which a node received them. The latest proposal is agreed
/// once every party of the reference `group` has signed it (its author by
/// proposing it) and at least one party besides its author has; an empty
/// group asks only the latter.
pub fn resolve(
    id: &str,
    seed: Option<&SeedTerm>,
    events: &[GlossaryEvent],
    group: &BTreeSet<String>,
) -> TermState {
    let mut ordered: Vec<&GlossaryEvent> = events.iter().filter(|e| e.body.term() == id).collect();
    ordered.sort_by(|a, b| (&a.created, a.body.event_id()).cmp(&(&b.created, b.body.event_id())));
    let mut s = TermState {
        id: id.to_owned(),
        term_en: seed.map(|t| t.en.clone()).unwrap_or_else(|| id.to_owned()),
        term_ru: seed.map(|t| t.ru.clone()).unwrap_or_else(|| id.to_owned()),
        draft: seed.map(|t| (t.definition_en.clone(), t.definition_ru.clone())),
        related: seed.map(|t| t.related.clone()).unwrap_or_default(),
        sources: seed.map(|t| t.sources.clone()).unwrap_or_default(),
        definitions: BTreeMap::new(),
        status: TermStatus::Proposed,
        agreed: None,
        divergences: BTreeMap::new(),
        awaiting: Vec::new(),
        history: Vec::new(),
    };
    // Who signed the latest proposal, in order (its author first).
    let mut signers: Vec<String> = Vec::new();
    // Proposals by event id: what a signature may refer to.
    let mut proposals: BTreeMap<&str, (String, String)> = BTreeMap::new();
    let mut latest_proposal: Option<&str> = None;
    for e in ordered {
        let summary = match &e.body {
            GlossaryBody::Propose {
                event_id,
                term_en,
                term_ru,
                definition_en,
                definition_ru,
                sources,
                ..
            } => {
                s.term_en = term_en.clone();
                s.term_ru = term_ru.clone();
                for src in sources {
                    if !s.sources.contains(src) {
                        s.sources.push(src.clone());
                    }
                }
                s.definitions.insert(
                    e.party.clone(),
                    Definition {
                        en: definition_en.clone(),
                        ru: definition_ru.clone(),
                        event_id: event_id.clone(),
                        created: e.created.clone(),
                    },
                );
                proposals.insert(event_id, (definition_en.clone(), definition_ru.clone()));
                latest_proposal = Some(event_id);
                signers = vec![e.party.clone()];
                s.divergences.remove(&e.party);
                s.status = if s.divergences.is_empty() {
                    TermStatus::Proposed
                } else {
                    TermStatus::Divergent
                };
                definition_en.clone()
            }
            GlossaryBody::Sign { proposal, .. } => {
                match proposals.get(proposal.as_str()) {
                    // Only the latest proposal can be agreed, and not by its author alone.
                    Some((en, ru)) if Some(proposal.as_str()) == latest_proposal => {
                        if !signers.contains(&e.party) {
                            signers.push(e.party.clone());
                        }
                        s.divergences.remove(&e.party);
                        let complete = signers.len() > 1
                            && group.iter().all(|member| signers.contains(member));
                        if complete {
                            s.agreed = Some(Agreed {
                                en: en.clone(),
                                ru: ru.clone(),
                                proposal: proposal.clone(),
                                signed_by: signers.clone(),
                                at: e.created.clone(),
                            });
                        }
                        s.status = match (s.divergences.is_empty(), complete) {
                            (false, _) => TermStatus::Divergent,
                            (true, true) => TermStatus::Agreed,
                            (true, false) => TermStatus::Proposed,
                        };
                        format!("signed {proposal}")
                    }
                    _ => format!("signature of {proposal} not applicable"),
                }
            }
            GlossaryBody::Diverge {
                reasons_en,
                reasons_ru,
                ..
            } => {
                s.divergences
                    .insert(e.party.clone(), (reasons_en.clone(), reasons_ru.clone()));
                s.status = TermStatus::Divergent;
                if reasons_en.is_empty() {
                    reasons_ru.clone()
                } else {
                    reasons_en.clone()
                }
            }
        };
        s.history.push(HistoryLine {
            at: e.created.clone(),
            party: e.party.clone(),
            action: e.body.action().to_owned(),
            event_id: e.body.event_id().to_owned(),
            summary,
        });
    }
    let agreed_latest = s
        .agreed
        .as_ref()
        .is_some_and(|a| Some(a.proposal.as_str()) == latest_proposal);
    if latest_proposal.is_some() && !agreed_latest {
        s.awaiting = group
            .iter()
            .filter(|m| !signers.contains(m))
            .cloned()
            .collect();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn propose(party: &str, at: &str, id: &str, text: &str) -> GlossaryEvent {
        GlossaryEvent {
            party: party.into(),
            created: at.into(),
            body: GlossaryBody::Propose {
                event_id: id.into(),
                term: "cybercrime".into(),
                term_en: "cybercrime".into(),
                term_ru: "киберпреступность".into(),
                definition_en: text.into(),
                definition_ru: format!("{text} (ru)"),
                sources: vec![],
            },
        }
    }

    fn sign(party: &str, at: &str, id: &str, proposal: &str) -> GlossaryEvent {
        GlossaryEvent {
            party: party.into(),
            created: at.into(),
            body: GlossaryBody::Sign {
                event_id: id.into(),
                term: "cybercrime".into(),
                proposal: proposal.into(),
            },
        }
    }

    #[test]
    fn agreement_needs_both_parties_and_any_order_gives_the_same_state() {
        let mut events = vec![
            propose("us", "2026-01-01T00:00:00Z", "p1", "A"),
            sign("ru", "2026-01-02T00:00:00Z", "s1", "p1"),
        ];
        let none = BTreeSet::new();
        let s = resolve("cybercrime", None, &events, &none);
        assert_eq!(s.status, TermStatus::Agreed);
        assert_eq!(s.agreed.as_ref().unwrap().signed_by, ["us", "ru"]);
        events.reverse();
        assert_eq!(resolve("cybercrime", None, &events, &none), s);
        // A party cannot agree its own proposal alone.
        let alone = vec![
            propose("us", "2026-01-01T00:00:00Z", "p1", "A"),
            sign("us", "2026-01-02T00:00:00Z", "s1", "p1"),
        ];
        assert_eq!(
            resolve("cybercrime", None, &alone, &none).status,
            TermStatus::Proposed
        );
    }

    fn group(parties: &[&str]) -> BTreeSet<String> {
        parties.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn a_reference_group_agrees_only_when_every_member_signed() {
        let g = group(&["us", "ru", "kz"]);
        let mut events = vec![
            propose("us", "2026-01-01T00:00:00Z", "p1", "A"),
            sign("ru", "2026-01-02T00:00:00Z", "s1", "p1"),
            // An expert outside the group may sign; it does not stand for a member.
            sign("ngo", "2026-01-02T06:00:00Z", "s2", "p1"),
        ];
        let s = resolve("cybercrime", None, &events, &g);
        assert_eq!(s.status, TermStatus::Proposed);
        assert_eq!(s.awaiting, ["kz"]);
        assert!(s.agreed.is_none());
        events.push(sign("kz", "2026-01-03T00:00:00Z", "s3", "p1"));
        let s = resolve("cybercrime", None, &events, &g);
        assert_eq!(s.status, TermStatus::Agreed);
        assert!(s.awaiting.is_empty());
        assert_eq!(
            s.agreed.as_ref().unwrap().signed_by,
            ["us", "ru", "ngo", "kz"]
        );
        // Any order of arrival gives the same state.
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(resolve("cybercrime", None, &reversed, &g), s);
        // A member that diverges is named, and the term is divergent.
        events.push(GlossaryEvent {
            party: "kz".into(),
            created: "2026-01-04T00:00:00Z".into(),
            body: GlossaryBody::Diverge {
                event_id: "d1".into(),
                term: "cybercrime".into(),
                reasons_en: "Our code defines it narrowly.".into(),
                reasons_ru: String::new(),
            },
        });
        let s = resolve("cybercrime", None, &events, &g);
        assert_eq!(s.status, TermStatus::Divergent);
        assert_eq!(s.divergences.keys().collect::<Vec<_>>(), ["kz"]);
        // A new proposal needs every member again.
        events.push(propose("ru", "2026-01-05T00:00:00Z", "p2", "B"));
        let s = resolve("cybercrime", None, &events, &g);
        assert_eq!(s.awaiting, ["kz", "us"]);
    }

    #[test]
    fn a_new_proposal_reopens_and_a_divergence_is_kept_with_reasons() {
        let events = vec![
            propose("us", "2026-01-01T00:00:00Z", "p1", "A"),
            sign("ru", "2026-01-02T00:00:00Z", "s1", "p1"),
            propose("ru", "2026-01-03T00:00:00Z", "p2", "B"),
            sign("us", "2026-01-03T12:00:00Z", "s2", "p1"),
        ];
        let none = BTreeSet::new();
        let s = resolve("cybercrime", None, &events, &none);
        assert_eq!(
            s.status,
            TermStatus::Proposed,
            "a signature of an outdated proposal does not agree"
        );
        assert_eq!(
            s.agreed.as_ref().unwrap().en,
            "A",
            "the earlier agreed text stays on record"
        );
        assert_eq!(s.definitions["ru"].en, "B");
        let mut with_divergence = events.clone();
        with_divergence.push(GlossaryEvent {
            party: "us".into(),
            created: "2026-01-04T00:00:00Z".into(),
            body: GlossaryBody::Diverge {
                event_id: "d1".into(),
                term: "cybercrime".into(),
                reasons_en: "Scope differs.".into(),
                reasons_ru: String::new(),
            },
        });
        let s = resolve("cybercrime", None, &with_divergence, &none);
        assert_eq!(s.status, TermStatus::Divergent);
        assert_eq!(s.divergences["us"].0, "Scope differs.");
        assert_eq!(s.history.len(), 5);
    }

    #[test]
    fn event_bodies_are_checked() {
        let ok = serde_json::json!({"action": "diverge", "event_id": "e1", "term": "cybercrime", "reasons_en": "x", "reasons_ru": ""});
        assert!(GlossaryBody::check(&ok).is_ok());
        let bad = serde_json::json!({"action": "diverge", "event_id": "e1", "term": "cybercrime", "reasons_en": "", "reasons_ru": ""});
        assert!(GlossaryBody::check(&bad).is_err());
        let bad = serde_json::json!({"action": "propose", "event_id": "e1", "term": "Bad Id", "term_en": "x", "term_ru": "х", "definition_en": "d", "definition_ru": "о"});
        assert!(
            GlossaryBody::check(&bad)
                .unwrap_err()
                .to_string()
                .contains("term")
        );
    }
}
