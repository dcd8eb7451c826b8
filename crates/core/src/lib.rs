//! Liaison's domain rules, with no I/O: who a party is (codes, cards), what
//! goes into the log (leaf formats). Later layers persist and transport what
//! this crate defines and checks.

pub mod calendar;
pub mod card;
pub mod case;
pub mod content;
pub mod envelope;
pub mod glossary;
pub mod incident;
pub mod leaf;
pub mod legal;
pub mod lifecycle;
pub mod offences;
pub mod party;
pub mod pdq;
pub mod pdq_index;
pub mod reference;
pub mod roles;
pub mod stix;
pub mod taxii;
pub mod text;
pub mod tlp;

pub use party::PartyCode;

/// A domain rule was broken by some input. The message names the field.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    Invalid(String),
    /// A field of a request body is wrong: forms show `problem` next to
    /// `field` in the user's language; `message` is the English sentence.
    #[error("{message}")]
    Field {
        field: String,
        problem: FieldProblem,
        message: String,
    },
}

/// What is wrong with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    Required,
    TooLong,
    Invalid,
}

impl FieldProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldProblem::Required => "required",
            FieldProblem::TooLong => "too_long",
            FieldProblem::Invalid => "invalid",
        }
    }
}

impl CoreError {
    pub fn invalid(msg: impl Into<String>) -> CoreError {
        CoreError::Invalid(msg.into())
    }

    pub fn field(field: &str, problem: FieldProblem, message: impl Into<String>) -> CoreError {
        CoreError::Field {
            field: field.to_owned(),
            problem,
            message: message.into(),
        }
    }
}
