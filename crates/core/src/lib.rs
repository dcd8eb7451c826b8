//! Liaison's domain rules, with no I/O: who a party is (codes, cards), what
//! goes into the log (leaf formats). Later layers persist and transport what
//! this crate defines and checks.

pub mod calendar;
pub mod card;
pub mod case;
pub mod envelope;
pub mod leaf;
pub mod legal;
pub mod lifecycle;
pub mod offences;
pub mod party;
pub mod roles;

pub use party::PartyCode;

/// A domain rule was broken by some input. The message names the field.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    Invalid(String),
}

impl CoreError {
    pub fn invalid(msg: impl Into<String>) -> CoreError {
        CoreError::Invalid(msg.into())
    }
}
