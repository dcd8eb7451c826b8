//! What every typed body shares: enumerations with English and Russian
//! labels (`labelled_enum!`), an authority and its contact point, and the
//! field checks whose errors name the field. A leaf: the modules of each
//! kind of body build on it.

use serde::{Deserialize, Serialize};

use crate::{CoreError, FieldProblem};

/// Declares an enumeration carried in request bodies, with its wire values
/// and labels in both languages.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal, $en:literal, $ru:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $value)] $variant,)*
        }

        // By hand: the derive does not see a `rename` that a macro passes on.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($value),*]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value),* }
            }

            pub fn label(self, lang: &str) -> &'static str {
                match self { $($name::$variant => if lang == "ru" { $ru } else { $en }),* }
            }
        }
    };
}

pub(crate) use labelled_enum;

/// An authority and its contact point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    pub name: String,
    pub contact_person: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
    /// e.g. "09:00–18:00 Mon–Fri"
    #[serde(default)]
    pub office_hours: String,
    /// IANA time zone, e.g. "Europe/Moscow".
    #[serde(default)]
    pub time_zone: String,
}

pub(crate) fn need(field: &str, value: &str, max: usize) -> Result<(), CoreError> {
    if value.trim().is_empty() {
        return Err(CoreError::field(
            field,
            FieldProblem::Required,
            format!("{field} is required"),
        ));
    }
    optional(field, value, max)
}

pub(crate) fn optional(field: &str, value: &str, max: usize) -> Result<(), CoreError> {
    if value.chars().count() > max {
        return Err(CoreError::field(
            field,
            FieldProblem::TooLong,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// A period's bound: an RFC 3339 time or a date (`2026-10-31`).
pub(crate) fn time_or_date(field: &str, value: &str) -> Result<(), CoreError> {
    if value.parse::<jiff::Timestamp>().is_ok() || value.parse::<jiff::civil::Date>().is_ok() {
        Ok(())
    } else {
        Err(bad(
            field,
            format!("{field} must be an RFC 3339 time or a date"),
        ))
    }
}

pub(crate) fn bad(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::field(field, FieldProblem::Invalid, message)
}

pub(crate) fn check_authority(field: &str, a: &Authority) -> Result<(), CoreError> {
    need(&format!("{field}.name"), &a.name, 300)?;
    need(&format!("{field}.contact_person"), &a.contact_person, 200)?;
    need(&format!("{field}.email"), &a.email, 254)?;
    let at = a.email.find('@');
    if !at.is_some_and(|i| i > 0 && i + 1 < a.email.len()) || a.email.contains(char::is_whitespace)
    {
        return Err(bad(
            &format!("{field}.email"),
            format!("{field}.email {:?} is not an e-mail address", a.email),
        ));
    }
    optional(&format!("{field}.phone"), &a.phone, 50)?;
    optional(&format!("{field}.office_hours"), &a.office_hours, 200)?;
    if !a.time_zone.is_empty() && jiff::tz::TimeZone::get(&a.time_zone).is_err() {
        return Err(bad(
            &format!("{field}.time_zone"),
            format!(
                "{field}.time_zone {:?} is not an IANA time zone",
                a.time_zone
            ),
        ));
    }
    Ok(())
}

pub(crate) fn check_sectors(sectors: &[String]) -> Result<(), CoreError> {
    if sectors.len() > 32 {
        return Err(bad("sectors", "sectors: at most 32"));
    }
    for id in sectors {
        if crate::reference::SECTORS.get(id).is_none() {
            return Err(bad(
                "sectors",
                format!("sectors: {id:?} is not an id of the sector crosswalk"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_case_ref(field: &str, id: &Option<String>) -> Result<(), CoreError> {
    if let Some(id) = id {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(bad(field, format!("{field} {id:?} is not a case id")));
        }
    }
    Ok(())
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    what: &str,
    body: &serde_json::Value,
) -> Result<T, CoreError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names a missing or unknown field in backquotes: `missing field `x``.
        let named = |prefix: &str| {
            inner
                .strip_prefix(prefix)
                .and_then(|r| r.split('`').next())
                .map(str::to_owned)
        };
        // The path of the value at fault, as forms name fields (`a.b`, `list.0.c`).
        let at = |field: String| {
            let base = path
                .trim_start_matches('.')
                .replace('[', ".")
                .replace(']', "");
            match (base.is_empty() || base == "?", field.is_empty()) {
                (true, _) => field,
                (false, true) => base,
                (false, false) => format!("{base}.{field}"),
            }
        };
        match (named("missing field `"), named("unknown field `")) {
            (Some(f), _) => {
                let field = at(f);
                CoreError::field(
                    &field,
                    FieldProblem::Required,
                    format!("{what}: {field}: {inner}"),
                )
            }
            (_, Some(f)) => {
                // serde reports an unknown field at the path of its parent.
                let field = at(f);
                CoreError::field(
                    &field,
                    FieldProblem::Invalid,
                    format!("{what}: {field}: {inner}"),
                )
            }
            _ if path == "." || path.is_empty() => CoreError::invalid(format!("{what}: {inner}")),
            _ => {
                let field = at(String::new());
                CoreError::field(
                    &field,
                    FieldProblem::Invalid,
                    format!("{what}: {field}: {inner}"),
                )
            }
        }
    })
}
