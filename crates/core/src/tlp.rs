//! Traffic Light Protocol 2.0: the five levels, every id common tools use
//! for them (OASIS TLP 2.0 extension marking definitions, the STIX 2.1
//! specification's TLP 1.0 definitions as python-stix2 ships them,
//! OpenCTI's AMBER+STRICT, and the labels), normalised to one level.
//!
//! Levels are ordered by how far they restrict sharing: a reader whose
//! clearance is `Amber` may see CLEAR, GREEN and AMBER, never AMBER+STRICT
//! or RED.

use serde::{Deserialize, Serialize};

use crate::{CoreError, FieldProblem};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tlp {
    /// No limit on disclosure.
    Clear,
    /// The community, not the public.
    Green,
    /// The recipient organisation and its clients, on a need-to-know basis.
    Amber,
    /// The recipient organisation only.
    AmberStrict,
    /// Named recipients only.
    Red,
}

pub const ALL_LEVELS: [Tlp; 5] = [
    Tlp::Clear,
    Tlp::Green,
    Tlp::Amber,
    Tlp::AmberStrict,
    Tlp::Red,
];

/// The OASIS TLP 2.0 extension's marking definitions (the ids Liaison exports).
const TLP2: [(Tlp, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// Older ids still in use: STIX 2.1 TLP 1.0 definitions (python-stix2,
/// OpenCTI) and OpenCTI's AMBER+STRICT.
const LEGACY: [(Tlp, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

impl Tlp {
    /// The level a marking names: a TLP 2.0 or older marking-definition id,
    /// or a label (`TLP:AMBER+STRICT`, `amber+strict`, `amber_strict`,
    /// `TLP:WHITE`, …), case-insensitive.
    pub fn parse(s: &str) -> Result<Tlp, CoreError> {
        let t = s.trim();
        if let Some((level, _)) = TLP2
            .iter()
            .chain(LEGACY.iter())
            .find(|(_, id)| id.eq_ignore_ascii_case(t))
        {
            return Ok(*level);
        }
        let label = t.to_ascii_lowercase();
        let label = label.strip_prefix("tlp:").unwrap_or(&label);
        match label.replace(['_', ' ', '-'], "+").as_str() {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amberstrict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(CoreError::field(
                "tlp",
                FieldProblem::Invalid,
                format!(
                    "{s:?} is not a TLP marking (TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED or a STIX marking-definition id of one)"
                ),
            )),
        }
    }

    /// The most restrictive of several markings (an object marked GREEN and
    /// AMBER is AMBER); `None` if none of them is a TLP marking.
    pub fn strictest<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        ids.into_iter().filter_map(|i| Tlp::parse(i).ok()).max()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber_strict",
            Tlp::Red => "red",
        }
    }

    /// The label as TLP 2.0 writes it.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The label with, in Russian, who may receive it.
    pub fn label_in(self, lang: &str) -> &'static str {
        if lang != "ru" {
            return self.label();
        }
        match self {
            Tlp::Clear => "TLP:CLEAR — без ограничений",
            Tlp::Green => "TLP:GREEN — сообщество",
            Tlp::Amber => "TLP:AMBER — организация и её клиенты",
            Tlp::AmberStrict => "TLP:AMBER+STRICT — только организация",
            Tlp::Red => "TLP:RED — только названные получатели",
        }
    }

    /// The TLP 2.0 extension marking-definition id.
    pub fn marking_id(self) -> &'static str {
        TLP2.iter()
            .find(|(l, _)| *l == self)
            .map(|(_, id)| *id)
            .unwrap_or(TLP2[0].1)
    }

    /// Whether a reader cleared up to `clearance` may see this.
    pub fn visible_to(self, clearance: Tlp) -> bool {
        self <= clearance
    }

    /// Reads of these levels are recorded.
    pub fn audited(self) -> bool {
        self >= Tlp::Amber
    }

    /// Who may receive it, in the reader's language.
    pub fn meaning(self, lang: &str) -> &'static str {
        let ru = lang == "ru";
        match self {
            Tlp::Clear if ru => "без ограничений",
            Tlp::Clear => "no limit on disclosure",
            Tlp::Green if ru => "сообщество, но не публично",
            Tlp::Green => "the community, not the public",
            Tlp::Amber if ru => "организация-получатель и её клиенты, при необходимости",
            Tlp::Amber => "the recipient organisation and its clients, need to know",
            Tlp::AmberStrict if ru => "только организация-получатель",
            Tlp::AmberStrict => "the recipient organisation only",
            Tlp::Red if ru => "только названные получатели",
            Tlp::Red => "named recipients only",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_and_label_of_the_reference_table_normalises() {
        for (level, id) in TLP2.iter().chain(LEGACY.iter()) {
            assert_eq!(Tlp::parse(id).unwrap(), *level, "{id}");
            assert_eq!(Tlp::parse(&id.to_uppercase()).unwrap(), *level);
        }
        for (label, level) in [
            ("TLP:CLEAR", Tlp::Clear),
            ("TLP:WHITE", Tlp::Clear),
            ("tlp:green", Tlp::Green),
            ("AMBER", Tlp::Amber),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("amber_strict", Tlp::AmberStrict),
            ("Red", Tlp::Red),
        ] {
            assert_eq!(Tlp::parse(label).unwrap(), level, "{label}");
            assert_eq!(Tlp::parse(level.label()).unwrap(), level);
            assert_eq!(Tlp::parse(level.as_str()).unwrap(), level);
            assert_eq!(Tlp::parse(level.marking_id()).unwrap(), level);
        }
        assert!(Tlp::parse("TLP:PURPLE").is_err());
        assert!(Tlp::parse("marking-definition--00000000-0000-4000-8000-000000000000").is_err());
    }

    #[test]
    fn clearance_orders_the_levels() {
        assert!(Tlp::Green.visible_to(Tlp::Amber));
        assert!(!Tlp::AmberStrict.visible_to(Tlp::Amber));
        assert!(!Tlp::Red.visible_to(Tlp::AmberStrict));
        assert!(Tlp::Red.visible_to(Tlp::Red));
        assert_eq!(
            Tlp::strictest(["TLP:GREEN", "not a marking", LEGACY[2].1]),
            Some(Tlp::Amber)
        );
        assert!(Tlp::Amber.audited() && !Tlp::Green.audited());
    }
}
