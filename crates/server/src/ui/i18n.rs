//! The message catalogue of the web UI: `i18n/en.toml` and `i18n/ru.toml`,
//! flattened to dotted keys, with CLDR plural forms (English one/other,
//! Russian one/few/many). Labels of domain values (states, actions, kinds,
//! roles, enumerations, offences) come from `liaison-core` in both languages.

use std::collections::HashMap;
use std::sync::LazyLock;

use liaison_core::case::CaseKind;
use liaison_core::lifecycle::{Action, State};
use liaison_core::roles::Role;

fn flatten(prefix: &str, value: &toml::Value, out: &mut HashMap<String, String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

fn load(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    // The catalogues ship inside the binary and are checked by tests; an
    // unreadable one yields keys shown as themselves rather than a crash.
    if let Ok(table) = toml::from_str::<toml::Table>(text) {
        flatten("", &toml::Value::Table(table), &mut out);
    }
    out
}

pub static EN: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| load(include_str!("../../i18n/en.toml")));
pub static RU: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| load(include_str!("../../i18n/ru.toml")));

/// The supported language that best matches an `Accept-Language` header.
pub fn negotiate(accept_language: &str) -> &'static str {
    let mut best = ("en", -1.0f32);
    for part in accept_language.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = if tag.starts_with("ru") {
            "ru"
        } else if tag.starts_with("en") {
            "en"
        } else {
            continue;
        };
        if q > best.1 {
            best = (lang, q);
        }
    }
    best.0
}

/// CLDR plural category of `n` in a language.
pub fn plural(lang: &str, n: i64) -> &'static str {
    let n = n.unsigned_abs();
    if lang == "ru" {
        let (m10, m100) = (n % 10, n % 100);
        if m10 == 1 && m100 != 11 {
            "one"
        } else if (2..=4).contains(&m10) && !(12..=14).contains(&m100) {
            "few"
        } else {
            "many"
        }
    } else if n == 1 {
        "one"
    } else {
        "other"
    }
}

/// Translations for one page render.
#[derive(Clone, Copy)]
pub struct Tr {
    pub lang: &'static str,
    map: &'static HashMap<String, String>,
}

impl Tr {
    pub fn new(lang: &str) -> Tr {
        if lang == "ru" {
            Tr {
                lang: "ru",
                map: &RU,
            }
        } else {
            Tr {
                lang: "en",
                map: &EN,
            }
        }
    }

    /// The message for `key` (the key itself if missing; tests forbid that).
    pub fn get<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.map.get(key).map(String::as_str).unwrap_or(key)
    }

    /// A counted message: `key.one|few|many|other` with `{n}` replaced.
    pub fn n(&self, key: &str, n: &i64) -> String {
        let form = format!("{key}.{}", plural(self.lang, *n));
        let text = self
            .map
            .get(&form)
            .or_else(|| self.map.get(&format!("{key}.other")))
            .or_else(|| self.map.get(&format!("{key}.many")))
            .map(String::as_str)
            .unwrap_or(key);
        text.replace("{n}", &n.to_string())
    }

    pub fn state(&self, s: &str) -> &'static str {
        match State::parse(s) {
            Some(st) => st.label(self.lang),
            None if self.lang == "ru" => "открыт",
            None => "open",
        }
    }

    pub fn kind(&self, k: &str) -> &'static str {
        CaseKind::parse(k)
            .map(|k| k.label(self.lang))
            .ok()
            .or_else(|| liaison_core::kind::envelope_label(k, self.lang))
            .unwrap_or("?")
    }

    pub fn action(&self, a: &str) -> &'static str {
        Action::parse(a).map(|a| a.label(self.lang)).unwrap_or("?")
    }

    pub fn role(&self, r: &str) -> &'static str {
        Role::parse(r).map(|r| r.label(self.lang)).unwrap_or("?")
    }

    /// The label of an enumerated value (e.g. `data_category`, `traffic_data`).
    pub fn value(&self, enumeration: &str, value: &str) -> String {
        liaison_core::enumerations::all()
            .into_iter()
            .find(|(name, _)| *name == enumeration)
            .and_then(|(_, values)| values.into_iter().find(|(v, _, _)| *v == value))
            .map(|(_, en, ru)| if self.lang == "ru" { ru } else { en })
            .unwrap_or(value)
            .to_owned()
    }

    pub fn offence(&self, id: &str) -> String {
        liaison_core::offences::OFFENCES
            .get(id)
            .map(|o| o.label(self.lang).to_owned())
            .unwrap_or_else(|| id.to_owned())
    }

    pub fn sector(&self, id: &str) -> String {
        liaison_core::reference::SECTORS
            .get(id)
            .map(|s| s.label(self.lang).to_owned())
            .unwrap_or_else(|| id.to_owned())
    }

    /// A duration in the largest sensible unit ("3 h", "2 дн.").
    pub fn duration(&self, secs: &i64) -> String {
        let s = *secs;
        if s < 3600 {
            self.n("unit.minutes", &(s / 60))
        } else if s < 2 * 86_400 {
            self.n("unit.hours", &(s / 3600))
        } else {
            self.n("unit.days", &(s / 86_400))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals_follow_cldr() {
        let forms: Vec<&str> = [1, 2, 5, 11, 12, 21, 22, 25, 101, 111]
            .iter()
            .map(|n| plural("ru", *n))
            .collect();
        assert_eq!(
            forms,
            [
                "one", "few", "many", "many", "many", "one", "few", "many", "one", "many"
            ]
        );
        assert_eq!(plural("en", 1), "one");
        assert_eq!(plural("en", 2), "other");
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_russian_is_russian() {
        let mut en: Vec<&String> = EN
            .keys()
            .filter(|k| {
                !k.ends_with(".few")
                    && !k.ends_with(".many")
                    && !k.ends_with(".other")
                    && !k.ends_with(".one")
            })
            .collect();
        let mut ru: Vec<&String> = RU
            .keys()
            .filter(|k| {
                !k.ends_with(".few")
                    && !k.ends_with(".many")
                    && !k.ends_with(".other")
                    && !k.ends_with(".one")
            })
            .collect();
        en.sort();
        ru.sort();
        assert_eq!(en, ru, "the catalogues differ");
        assert!(EN.len() > 80, "catalogue not loaded");
        for (k, v) in RU.iter() {
            let has_cyrillic = v
                .chars()
                .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)) || c == 'ё');
            let allowed = ["app.name", "lang.en", "lang.ru"].contains(&k.as_str())
                || v.chars().all(|c| !c.is_alphabetic());
            assert!(
                has_cyrillic || allowed,
                "Russian message {k} = {v:?} has no Russian text"
            );
        }
        // Every counted key has every Russian form.
        for k in EN.keys().filter_map(|k| k.strip_suffix(".other")) {
            for form in ["one", "few", "many"] {
                assert!(
                    RU.contains_key(&format!("{k}.{form}")),
                    "{k}.{form} missing in Russian"
                );
            }
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for pat in ["t.get(\"", "t.n(\""] {
                for part in text.split(pat).skip(1) {
                    used.push((pat, part.split('"').next().unwrap().to_owned()));
                }
            }
        }
        assert!(used.len() > 50);
        for (pat, key) in used {
            for (lang, map) in [("en", &*EN), ("ru", &*RU)] {
                let ok = if pat == "t.n(\"" {
                    map.keys().any(|k| k.starts_with(&format!("{key}.")))
                } else {
                    map.contains_key(&key)
                };
                assert!(ok, "{lang} lacks {key}");
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(negotiate("ru-RU,ru;q=0.9,en-US;q=0.8"), "ru");
        assert_eq!(negotiate("de-DE,en;q=0.5"), "en");
        assert_eq!(negotiate("fr"), "en");
        assert_eq!(negotiate("en;q=0.2, ru;q=0.9"), "ru");
    }
}
