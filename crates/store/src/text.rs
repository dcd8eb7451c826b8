//! Enums stored as their text: one conversion each way, so a row holds the
//! domain's type and a stored value the program does not know is an error
//! where it is read, not a string passed on.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// A type stored as one of its names.
pub trait StoredText: Sized {
    fn to_text(&self) -> &'static str;
    fn from_text(text: &str) -> Option<Self>;
}

/// A value in a column as its name (`r.get::<_, Stored<T>>("col")?.0`,
/// `Stored(x)` as a parameter).
pub struct Stored<T>(pub T);

impl<T: StoredText> ToSql for Stored<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_text()))
    }
}

impl<T: StoredText> FromSql for Stored<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        T::from_text(text)
            .map(Stored)
            .ok_or_else(|| FromSqlError::Other(format!("unknown stored value {text:?}").into()))
    }
}

impl StoredText for liaison_core::case::CaseKind {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Self> {
        Self::parse(text).ok()
    }
}

impl StoredText for liaison_core::lifecycle::CaseState {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl StoredText for liaison_core::tlp::Tlp {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Self> {
        Self::parse(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liaison_core::case::{ALL_KINDS, CaseKind};
    use liaison_core::lifecycle::{ALL_STATES, CaseState};
    use liaison_core::tlp::{ALL_LEVELS, Tlp};

    fn round_trip<T: StoredText + PartialEq + std::fmt::Debug + Copy>(value: T) {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let back: Stored<T> = conn
            .query_row("SELECT ?1", [Stored(value)], |r| r.get(0))
            .unwrap();
        assert_eq!(back.0, value);
    }

    #[test]
    fn every_kind_and_marking_round_trips_and_unknown_text_is_an_error() {
        for k in ALL_KINDS {
            round_trip(k);
        }
        for l in ALL_LEVELS {
            round_trip(l);
        }
        round_trip(CaseState::Open);
        for s in ALL_STATES {
            round_trip(CaseState::Lifecycle(s));
        }
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let bad = conn.query_row("SELECT 'parcel'", [], |r| r.get::<_, Stored<CaseKind>>(0));
        assert!(bad.is_err());
        let stored: String = conn
            .query_row("SELECT ?1", [Stored(Tlp::AmberStrict)], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, "amber_strict");
    }
}
