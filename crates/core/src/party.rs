//! Party codes: the short names parties know each other by (`us`, `ru`,
//! `ru-cert`, `ewi-witness`).

use std::fmt;

use crate::CoreError;

/// A validated party code: 2–32 characters, lowercase ASCII letters, digits
/// and inner hyphens, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyCode(String);

impl PartyCode {
    pub fn parse(s: &str) -> Result<PartyCode, CoreError> {
        let ok = (2..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && !s.contains("--")
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(PartyCode(s.to_owned()))
        } else {
            Err(CoreError::invalid(format!(
                "party code {s:?} is invalid: use 2 to 32 lowercase letters, digits or inner hyphens, starting with a letter (e.g. \"us\", \"ru-cert\")"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_usual_codes() {
        for ok in ["us", "ru", "ru-cert", "ewi-witness", "a1"] {
            assert!(PartyCode::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_bad_codes() {
        for bad in [
            "",
            "u",
            "US",
            "1us",
            "us-",
            "-us",
            "u--s",
            "us ru",
            "us/ru",
            "ру",
            &"a".repeat(33),
        ] {
            assert!(PartyCode::parse(bad).is_err(), "{bad}");
        }
    }
}
