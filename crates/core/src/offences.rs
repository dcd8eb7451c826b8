//! The offence crosswalk (data/offences.toml): Budapest Convention articles
//! as the pivot, each party's statutes mapped to them. Cases name an
//! offence by id; the requested party sees the statutes of its own
//! jurisdiction as a dual-criminality hint.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::CoreError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Crosswalk {
    pub version: String,
    #[serde(rename = "offence")]
    pub offences: Vec<Offence>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Offence {
    pub id: String,
    /// Article of the Budapest Convention, or `none`.
    pub budapest_article: String,
    pub en: String,
    pub ru: String,
    #[serde(default)]
    pub retired: bool,
    #[serde(rename = "statute", default)]
    pub statutes: Vec<Statute>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Statute {
    pub jurisdiction: String,
    pub id: String,
    pub cite: String,
    pub en: String,
    pub ru: String,
}

impl Offence {
    pub fn label(&self, lang: &str) -> &str {
        if lang == "ru" { &self.ru } else { &self.en }
    }
}

impl Crosswalk {
    /// Parses and validates a crosswalk file.
    pub fn parse(text: &str) -> Result<Crosswalk, CoreError> {
        let c: Crosswalk = toml::from_str(text)
            .map_err(|e| CoreError::invalid(format!("offence crosswalk: {}", e.message())))?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), CoreError> {
        let mut ids = HashSet::new();
        for o in &self.offences {
            let ok_id = !o.id.is_empty()
                && o.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok_id {
                return Err(CoreError::invalid(format!(
                    "offence id {:?} must be lowercase letters, digits and hyphens",
                    o.id
                )));
            }
            if !ids.insert(o.id.as_str()) {
                return Err(CoreError::invalid(format!(
                    "offence id {} appears twice",
                    o.id
                )));
            }
            if o.en.trim().is_empty() || o.ru.trim().is_empty() {
                return Err(CoreError::invalid(format!(
                    "offence {} needs English and Russian labels",
                    o.id
                )));
            }
            let article_ok = o.budapest_article == "none"
                || o.budapest_article
                    .parse::<u32>()
                    .is_ok_and(|a| (2..=11).contains(&a));
            if !article_ok {
                return Err(CoreError::invalid(format!(
                    "offence {}: budapest_article {:?} must be 2 to 11 or \"none\"",
                    o.id, o.budapest_article
                )));
            }
            for s in &o.statutes {
                if s.jurisdiction.is_empty()
                    || s.id.is_empty()
                    || s.cite.is_empty()
                    || s.en.is_empty()
                    || s.ru.is_empty()
                {
                    return Err(CoreError::invalid(format!(
                        "offence {}: a statute lacks a field",
                        o.id
                    )));
                }
            }
        }
        for article in 2..=11 {
            if !self
                .offences
                .iter()
                .any(|o| o.budapest_article == article.to_string())
            {
                return Err(CoreError::invalid(format!(
                    "no offence maps Budapest Convention article {article}"
                )));
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Offence> {
        self.offences.iter().find(|o| o.id == id)
    }

    /// Checks that a case may name this offence.
    pub fn require(&self, id: &str) -> Result<&Offence, CoreError> {
        match self.get(id) {
            Some(o) if !o.retired => Ok(o),
            Some(_) => Err(CoreError::invalid(format!("offence.id {id:?} is retired"))),
            None => Err(CoreError::invalid(format!(
                "offence.id {id:?} is not in the offence crosswalk"
            ))),
        }
    }

    /// The statutes of `jurisdiction` corresponding to an offence.
    pub fn counterparts(&self, id: &str, jurisdiction: &str) -> Vec<&Statute> {
        self.get(id)
            .map(|o| {
                o.statutes
                    .iter()
                    .filter(|s| s.jurisdiction == jurisdiction)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The crosswalk shipped with this version. The file is validated by a test,
/// so loading it cannot fail in a released binary; if it ever did, the
/// crosswalk is empty and every case naming an offence is refused with a
/// clear error rather than the program stopping.
pub static OFFENCES: LazyLock<Crosswalk> = LazyLock::new(|| {
    Crosswalk::parse(include_str!("../data/offences.toml")).unwrap_or_else(|e| {
        tracing_free_warning(&e.to_string());
        Crosswalk {
            version: "invalid".into(),
            offences: Vec::new(),
        }
    })
});

fn tracing_free_warning(message: &str) {
    eprintln!("liaison: the built-in offence crosswalk is invalid: {message}");
}

/// The jurisdiction of a party code: the part before the first hyphen
/// (`ru-cert` → `ru`).
pub fn jurisdiction_of(party: &str) -> &str {
    party.split('-').next().unwrap_or(party)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_crosswalk_is_valid_and_covers_articles_2_to_11() {
        let c = Crosswalk::parse(include_str!("../data/offences.toml")).unwrap();
        assert!(c.offences.len() >= 11);
        for o in &c.offences {
            assert!(
                o.statutes.iter().any(|s| s.jurisdiction == "us"),
                "{} has no U.S. statute",
                o.id
            );
            assert!(
                o.statutes.iter().any(|s| s.jurisdiction == "ru"),
                "{} has no Russian article",
                o.id
            );
        }
        assert_eq!(OFFENCES.version, c.version);
    }

    #[test]
    fn counterparts_are_the_recipients_own_law() {
        let cites: Vec<&str> = OFFENCES
            .counterparts("illegal-access", "ru")
            .iter()
            .map(|s| s.cite.as_str())
            .collect();
        assert_eq!(cites, vec!["УК РФ ст. 272"]);
        assert!(OFFENCES.require("no-such-offence").is_err());
        assert_eq!(jurisdiction_of("ru-cert"), "ru");
    }

    #[test]
    fn invalid_files_are_refused_with_the_reason() {
        let dup = "version = \"x\"\n[[offence]]\nid = \"a\"\nbudapest_article = \"2\"\nen = \"A\"\nru = \"А\"\n[[offence]]\nid = \"a\"\nbudapest_article = \"3\"\nen = \"A\"\nru = \"А\"\n";
        assert!(
            Crosswalk::parse(dup)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let missing = "version = \"x\"\n[[offence]]\nid = \"a\"\nbudapest_article = \"2\"\nen = \"A\"\nru = \"А\"\n";
        assert!(
            Crosswalk::parse(missing)
                .unwrap_err()
                .to_string()
                .contains("article 3")
        );
        let bad_article = missing.replace("\"2\"", "\"12\"");
        assert!(
            Crosswalk::parse(&bad_article)
                .unwrap_err()
                .to_string()
                .contains("budapest_article")
        );
    }
}
