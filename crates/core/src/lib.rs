//! Liaison's domain rules, with no I/O: who a party is (codes, cards), what
//! goes into the log (leaf formats). Later layers persist and transport what
//! this crate defines and checks.

pub mod body;
pub mod calendar;
pub mod card;
pub mod case;
pub mod content;
pub mod directory;
pub mod enumerations;
pub mod envelope;
pub mod execution;
pub mod glossary;
pub mod incident;
pub mod jurisdiction;
pub mod keys;
pub mod kind;
pub mod leaf;
pub mod legal;
pub mod lifecycle;
pub mod markings;
pub mod offences;
pub mod order;
pub mod party;
pub mod pdq;
pub mod pdq_index;
pub mod reference;
pub mod roles;
pub mod roster;
pub mod stix;
pub mod taxii;
pub mod team;
pub mod text;
pub mod tlp;
pub mod web;

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
        CoreError::Invalid(bounded(msg.into()))
    }

    pub fn field(field: &str, problem: FieldProblem, message: impl Into<String>) -> CoreError {
        CoreError::Field {
            field: bounded(field.to_owned()),
            problem,
            message: bounded(message.into()),
        }
    }
}

/// Longest message (in characters) an error carries back to whoever sent
/// the input: messages quote input, and input is the sender's to choose.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// `message`, cut to [`MAX_MESSAGE_CHARS`] characters (marked with `…`).
pub fn bounded(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => message,
        Some((cut, _)) => {
            let mut m = message;
            m.truncate(cut);
            m.push('…');
            m
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn messages_are_bounded_and_short_ones_kept(s in "\\PC{0,700}") {
            let b = bounded(s.clone());
            proptest::prop_assert!(b.chars().count() <= MAX_MESSAGE_CHARS + 1);
            if s.chars().count() <= MAX_MESSAGE_CHARS {
                proptest::prop_assert_eq!(b, s);
            } else {
                proptest::prop_assert!(b.ends_with('…'));
            }
        }
    }
}
