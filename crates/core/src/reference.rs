//! The shared reference data shipped with Liaison, each a versioned,
//! reviewable file under `data/` with a loader that validates it:
//! the norms of the 2015 UN GGE report, the critical-infrastructure sector
//! crosswalk (U.S. PPD-21 ↔ Russian 187-FZ), and the glossary seed.
//! (The offence crosswalk is in `offences`.)

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::CoreError;

fn parse_toml<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, CoreError> {
    toml::from_str(text).map_err(|e| CoreError::invalid(format!("{what}: {}", e.message())))
}

fn check_id(what: &str, id: &str) -> Result<(), CoreError> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(CoreError::invalid(format!(
            "{what}: id {id:?} must be lowercase letters, digits and hyphens"
        )));
    }
    Ok(())
}

fn check_labels(what: &str, id: &str, en: &str, ru: &str) -> Result<(), CoreError> {
    let cyrillic = ru
        .chars()
        .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)) || c == 'ё');
    if en.trim().is_empty() || !cyrillic {
        return Err(CoreError::invalid(format!(
            "{what} {id} needs an English and a Russian text"
        )));
    }
    Ok(())
}

// ---------- norms ----------

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Norms {
    pub version: String,
    #[serde(rename = "norm")]
    pub norms: Vec<Norm>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Norm {
    /// `a` … `k` (paragraph 13 of A/70/174).
    pub id: String,
    pub en: String,
    pub ru: String,
}

impl Norm {
    pub fn text(&self, lang: &str) -> &str {
        if lang == "ru" { &self.ru } else { &self.en }
    }
}

impl Norms {
    pub fn parse(text: &str) -> Result<Norms, CoreError> {
        let n: Norms = parse_toml("norms", text)?;
        let ids: Vec<&str> = n.norms.iter().map(|x| x.id.as_str()).collect();
        if ids != ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"] {
            return Err(CoreError::invalid(
                "norms must be exactly 13(a) to 13(k), in order",
            ));
        }
        for x in &n.norms {
            check_labels("norm", &x.id, &x.en, &x.ru)?;
        }
        Ok(n)
    }

    pub fn get(&self, id: &str) -> Option<&Norm> {
        self.norms.iter().find(|n| n.id == id)
    }
}

// ---------- sectors ----------

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sectors {
    pub version: String,
    pub us: Vec<Sector>,
    pub ru: Vec<Sector>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    pub id: String,
    pub en: String,
    pub ru: String,
    /// Ids of the other side's sectors this one corresponds to.
    pub counterparts: Vec<String>,
    /// Why there is no counterpart (required when `counterparts` is empty).
    #[serde(default)]
    pub no_counterpart: Option<String>,
}

impl Sector {
    pub fn label(&self, lang: &str) -> &str {
        if lang == "ru" { &self.ru } else { &self.en }
    }
}

impl Sectors {
    pub fn parse(text: &str) -> Result<Sectors, CoreError> {
        let s: Sectors = parse_toml("sectors", text)?;
        let mut ids = HashSet::new();
        for x in s.us.iter().chain(&s.ru) {
            check_id("sector", &x.id)?;
            check_labels("sector", &x.id, &x.en, &x.ru)?;
            if !ids.insert(x.id.as_str()) {
                return Err(CoreError::invalid(format!(
                    "sector id {} appears twice",
                    x.id
                )));
            }
            match (x.counterparts.is_empty(), &x.no_counterpart) {
                (true, None) => {
                    return Err(CoreError::invalid(format!(
                        "sector {} has no counterpart: say so with no_counterpart",
                        x.id
                    )));
                }
                (false, Some(_)) => {
                    return Err(CoreError::invalid(format!(
                        "sector {} has counterparts and no_counterpart",
                        x.id
                    )));
                }
                _ => {}
            }
        }
        for (side, other) in [(&s.us, &s.ru), (&s.ru, &s.us)] {
            for x in side {
                for c in &x.counterparts {
                    let Some(target) = other.iter().find(|o| &o.id == c) else {
                        return Err(CoreError::invalid(format!(
                            "sector {} links to unknown sector {c}",
                            x.id
                        )));
                    };
                    if !target.counterparts.contains(&x.id) {
                        return Err(CoreError::invalid(format!(
                            "sector {} links to {c} but not back",
                            x.id
                        )));
                    }
                }
            }
        }
        Ok(s)
    }

    pub fn get(&self, id: &str) -> Option<&Sector> {
        self.us.iter().chain(&self.ru).find(|s| s.id == id)
    }

    /// The sectors of `jurisdiction` (`us` or `ru`) that correspond to `id`.
    pub fn counterparts(&self, id: &str, jurisdiction: &str) -> Vec<&Sector> {
        let Some(sector) = self.get(id) else {
            return Vec::new();
        };
        if id.starts_with(&format!("{jurisdiction}-")) {
            return vec![sector];
        }
        sector
            .counterparts
            .iter()
            .filter_map(|c| self.get(c))
            .collect()
    }
}

// ---------- glossary seed ----------

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlossarySeed {
    pub version: String,
    pub sources: BTreeMap<String, String>,
    #[serde(rename = "term")]
    pub terms: Vec<SeedTerm>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedTerm {
    pub id: String,
    pub en: String,
    pub ru: String,
    pub definition_en: String,
    pub definition_ru: String,
    #[serde(default)]
    pub related: Vec<String>,
    pub sources: Vec<String>,
}

impl GlossarySeed {
    pub fn parse(text: &str) -> Result<GlossarySeed, CoreError> {
        let g: GlossarySeed = parse_toml("glossary", text)?;
        let ids: HashSet<&str> = g.terms.iter().map(|t| t.id.as_str()).collect();
        if ids.len() != g.terms.len() {
            return Err(CoreError::invalid("a glossary id appears twice"));
        }
        for t in &g.terms {
            check_id("glossary term", &t.id)?;
            check_labels("glossary term", &t.id, &t.en, &t.ru)?;
            check_labels(
                "glossary definition",
                &t.id,
                &t.definition_en,
                &t.definition_ru,
            )?;
            for r in &t.related {
                if !ids.contains(r.as_str()) {
                    return Err(CoreError::invalid(format!(
                        "glossary term {} relates to unknown term {r}",
                        t.id
                    )));
                }
            }
            if t.sources.is_empty() {
                return Err(CoreError::invalid(format!(
                    "glossary term {} cites no source",
                    t.id
                )));
            }
            for s in &t.sources {
                if !g.sources.contains_key(s) {
                    return Err(CoreError::invalid(format!(
                        "glossary term {} cites unknown source {s}",
                        t.id
                    )));
                }
            }
        }
        Ok(g)
    }
}

fn load<T>(what: &str, parsed: Result<T, CoreError>, empty: impl FnOnce() -> T) -> T {
    // The files ship in the binary and tests validate them; an invalid one
    // yields empty data (and a message) rather than a crash.
    parsed.unwrap_or_else(|e| {
        eprintln!("liaison: the built-in {what} file is invalid: {e}");
        empty()
    })
}

pub static NORMS: LazyLock<Norms> = LazyLock::new(|| {
    load(
        "norms",
        Norms::parse(include_str!("../data/norms.toml")),
        || Norms {
            version: "invalid".into(),
            norms: Vec::new(),
        },
    )
});

pub static SECTORS: LazyLock<Sectors> = LazyLock::new(|| {
    load(
        "sectors",
        Sectors::parse(include_str!("../data/sectors.toml")),
        || Sectors {
            version: "invalid".into(),
            us: Vec::new(),
            ru: Vec::new(),
        },
    )
});

pub static GLOSSARY_SEED: LazyLock<GlossarySeed> = LazyLock::new(|| {
    load(
        "glossary",
        GlossarySeed::parse(include_str!("../data/glossary.toml")),
        || GlossarySeed {
            version: "invalid".into(),
            sources: BTreeMap::new(),
            terms: Vec::new(),
        },
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_are_valid() {
        assert_eq!(
            Norms::parse(include_str!("../data/norms.toml"))
                .unwrap()
                .norms
                .len(),
            11
        );
        let s = Sectors::parse(include_str!("../data/sectors.toml")).unwrap();
        assert_eq!(s.us.len(), 16, "the sixteen U.S. sectors");
        assert_eq!(s.ru.len(), 13, "the spheres of 187-FZ");
        let g = GlossarySeed::parse(include_str!("../data/glossary.toml")).unwrap();
        assert!(g.terms.len() >= 40, "{} terms", g.terms.len());
        assert_eq!(NORMS.get("h").map(|n| n.id.as_str()), Some("h"));
        assert_eq!(GLOSSARY_SEED.terms.len(), g.terms.len());
    }

    #[test]
    fn sector_links_are_many_to_many_and_explicit() {
        let energy: Vec<&str> = SECTORS
            .counterparts("us-energy", "ru")
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(energy, ["ru-energy", "ru-fuel-energy-complex"]);
        assert!(SECTORS.counterparts("us-water", "ru").is_empty());
        assert!(SECTORS.get("us-water").unwrap().no_counterpart.is_some());
    }

    #[test]
    fn invalid_crosswalks_are_refused_with_the_reason() {
        let one_way = "version = \"x\"\n[[us]]\nid = \"us-a\"\nen = \"A\"\nru = \"А\"\ncounterparts = [\"ru-a\"]\n[[ru]]\nid = \"ru-a\"\nen = \"A\"\nru = \"А\"\ncounterparts = []\nno_counterpart = \"none\"\n";
        assert!(
            Sectors::parse(one_way)
                .unwrap_err()
                .to_string()
                .contains("not back")
        );
        let unknown = one_way.replace("[\"ru-a\"]", "[\"ru-zzz\"]");
        assert!(
            Sectors::parse(&unknown)
                .unwrap_err()
                .to_string()
                .contains("unknown sector ru-zzz")
        );
        let silent = "version = \"x\"\n[[us]]\nid = \"us-a\"\nen = \"A\"\nru = \"А\"\ncounterparts = []\n[[ru]]\nid = \"ru-a\"\nen = \"A\"\nru = \"А\"\ncounterparts = []\nno_counterpart = \"none\"\n";
        assert!(
            Sectors::parse(silent)
                .unwrap_err()
                .to_string()
                .contains("no_counterpart")
        );
        let bad_norms = "version = \"x\"\n[[norm]]\nid = \"a\"\nen = \"A\"\nru = \"А\"\n";
        assert!(Norms::parse(bad_norms).is_err());
        let glossary = "version = \"x\"\n[sources]\ns = \"S\"\n[[term]]\nid = \"t\"\nen = \"t\"\nru = \"т\"\ndefinition_en = \"d\"\ndefinition_ru = \"о\"\nrelated = [\"nope\"]\nsources = [\"s\"]\n";
        assert!(
            GlossarySeed::parse(glossary)
                .unwrap_err()
                .to_string()
                .contains("unknown term nope")
        );
    }
}
