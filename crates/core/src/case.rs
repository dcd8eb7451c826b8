//! Case kinds and their typed message bodies. A case is a thread of
//! envelopes between two parties; its first envelope opens it.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The kinds of case this version knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A free-text message between parties.
    Note,
}

impl CaseKind {
    pub fn parse(s: &str) -> Result<CaseKind, CoreError> {
        match s {
            "note" => Ok(CaseKind::Note),
            other => Err(CoreError::invalid(format!(
                "case kind {other:?} is not known (known: note)"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Note => "note",
        }
    }
}

/// Body of a `note` message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub subject: String,
    pub text: String,
}

/// What opening or continuing a case needs from a body: its subject line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodySummary {
    pub subject: String,
}

/// Parses and checks a message body of `kind`, naming the offending field.
pub fn check_body(kind: CaseKind, body: &serde_json::Value) -> Result<BodySummary, CoreError> {
    match kind {
        CaseKind::Note => {
            let note: NoteBody = serde_json::from_value(body.clone())
                .map_err(|e| CoreError::invalid(format!("note body: {e}")))?;
            let subject = note.subject.trim();
            if subject.is_empty() || subject.chars().count() > 200 {
                return Err(CoreError::invalid("subject must be 1 to 200 characters"));
            }
            if note.text.trim().is_empty() || note.text.len() > 100_000 {
                return Err(CoreError::invalid("text must be 1 to 100000 bytes"));
            }
            Ok(BodySummary {
                subject: subject.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn note_bodies_are_checked_field_by_field() {
        assert!(check_body(CaseKind::Note, &json!({"subject": "Hello", "text": "Body"})).is_ok());
        let e = check_body(CaseKind::Note, &json!({"subject": "Hello"})).unwrap_err();
        assert!(e.to_string().contains("text"), "{e}");
        let e = check_body(CaseKind::Note, &json!({"subject": " ", "text": "x"})).unwrap_err();
        assert!(e.to_string().contains("subject"), "{e}");
        let e = check_body(
            CaseKind::Note,
            &json!({"subject": "a", "text": "x", "extra": 1}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
    }
}
