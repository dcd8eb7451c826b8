//! STIX data markings resolved to one TLP level, failing closed: an
//! object's level is the strictest of its `object_marking_refs` and its
//! granular markings; a reference resolves through the well-known TLP ids
//! or a marking definition of the same bundle, and anything that cannot be
//! classified (a statement, a custom definition, an unknown id) is RED.

use std::collections::HashMap;

use serde_json::Value;

use crate::tlp::Tlp;

/// The OASIS TLP 2.0 marking extension.
pub const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The marking definitions of one bundle, classified.
#[derive(Clone, Debug, Default)]
pub struct Markings {
    /// id → its TLP level, or `None` if it is not a TLP marking.
    defined: HashMap<String, Option<Tlp>>,
}

impl Markings {
    /// Classifies the marking definitions among `objects`.
    pub fn of_bundle(objects: &[Value]) -> Markings {
        let defined = objects
            .iter()
            .filter(|o| o.get("type").and_then(Value::as_str) == Some("marking-definition"))
            .filter_map(|o| {
                let id = o.get("id")?.as_str()?;
                Some((id.to_owned(), classify(o)))
            })
            .collect();
        Markings { defined }
    }

    /// The level a marking reference stands for.
    pub fn level_of(&self, marking_ref: &str) -> Tlp {
        if let Ok(level) = Tlp::parse(marking_ref)
            && marking_ref.starts_with("marking-definition--")
        {
            return level;
        }
        match self.defined.get(marking_ref) {
            Some(Some(level)) => *level,
            // A statement, a custom definition, or nothing we know of.
            _ => Tlp::Red,
        }
    }

    /// The level of an object: the strictest of its object and granular
    /// markings (`lang` granular markings mark a language, not access);
    /// CLEAR when it carries none. A marking list that is not a list of
    /// strings, or a granular marking that is not an object, is RED.
    pub fn tlp_of(&self, object: &Value) -> Tlp {
        let mut level = Tlp::Clear;
        match object.get("object_marking_refs") {
            None => {}
            Some(Value::Array(refs)) => {
                for r in refs {
                    level = level.max(r.as_str().map_or(Tlp::Red, |r| self.level_of(r)));
                }
            }
            Some(_) => return Tlp::Red,
        }
        match object.get("granular_markings") {
            None => {}
            Some(Value::Array(gs)) => {
                for g in gs {
                    let marking = match g.get("marking_ref") {
                        Some(Value::String(r)) => self.level_of(r),
                        None if g.get("lang").is_some_and(Value::is_string) => Tlp::Clear,
                        _ => Tlp::Red,
                    };
                    level = level.max(marking);
                }
            }
            Some(_) => return Tlp::Red,
        }
        level
    }
}

/// The TLP level a marking definition declares, if it is a TLP marking:
/// the TLP 2.0 extension (`tlp_2_0`) or the STIX 2.1 TLP 1.0 form
/// (`definition_type: "tlp"`, `definition.tlp`).
fn classify(definition: &Value) -> Option<Tlp> {
    let named = |s: &str| match s {
        "clear" | "white" => Some(Tlp::Clear),
        "green" => Some(Tlp::Green),
        "amber" => Some(Tlp::Amber),
        "amber+strict" => Some(Tlp::AmberStrict),
        "red" => Some(Tlp::Red),
        _ => None,
    };
    if let Some(ext) = definition
        .get("extensions")
        .and_then(|e| e.get(TLP_EXTENSION))
    {
        return ext.get("tlp_2_0").and_then(Value::as_str).and_then(named);
    }
    if definition.get("definition_type").and_then(Value::as_str) == Some("tlp") {
        return definition
            .get("definition")
            .and_then(|d| d.get("tlp"))
            .and_then(Value::as_str)
            .and_then(named);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    const CUSTOM: &str = "marking-definition--11111111-2222-4333-8444-555555555555";
    const STATEMENT: &str = "marking-definition--66666666-7777-4888-9999-000000000000";

    fn bundle() -> Vec<Value> {
        vec![
            json!({"type": "marking-definition", "id": CUSTOM, "definition_type": "tlp",
                   "definition": {"tlp": "amber"}}),
            json!({"type": "marking-definition", "id": STATEMENT,
                   "definition_type": "statement", "definition": {"statement": "Copyright"}}),
        ]
    }

    #[test]
    fn every_way_of_marking_resolves_to_the_strictest_and_fails_closed() {
        let m = Markings::of_bundle(&bundle());
        let level = |o: Value| m.tlp_of(&o);
        assert_eq!(level(json!({})), Tlp::Clear);
        assert_eq!(level(json!({"object_marking_refs": [GREEN]})), Tlp::Green);
        assert_eq!(level(json!({"object_marking_refs": [CUSTOM]})), Tlp::Amber);
        assert_eq!(level(json!({"object_marking_refs": [STATEMENT]})), Tlp::Red);
        assert_eq!(
            level(
                json!({"object_marking_refs": ["marking-definition--00000000-0000-4000-8000-000000000000"]})
            ),
            Tlp::Red
        );
        assert_eq!(
            level(
                json!({"granular_markings": [{"marking_ref": CUSTOM, "selectors": ["description"]}]})
            ),
            Tlp::Amber
        );
        assert_eq!(
            level(json!({"object_marking_refs": [GREEN],
                         "granular_markings": [{"marking_ref": STATEMENT, "selectors": ["name"]}]})),
            Tlp::Red
        );
        assert_eq!(
            level(json!({"granular_markings": [{"lang": "ru", "selectors": ["name"]}]})),
            Tlp::Clear
        );
        assert_eq!(
            level(json!({"granular_markings": [{"selectors": ["name"]}]})),
            Tlp::Red
        );
        assert_eq!(level(json!({"granular_markings": "red"})), Tlp::Red);
        assert_eq!(level(json!({"object_marking_refs": [7]})), Tlp::Red);
        // A label is not a marking reference.
        assert_eq!(
            level(json!({"object_marking_refs": ["TLP:CLEAR"]})),
            Tlp::Red
        );
        // The TLP 2.0 extension form of a definition in the bundle.
        let ext = Markings::of_bundle(&[json!({"type": "marking-definition", "id": CUSTOM,
            "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}})]);
        assert_eq!(
            ext.tlp_of(&json!({"object_marking_refs": [CUSTOM]})),
            Tlp::AmberStrict
        );
    }

    proptest! {
        #[test]
        fn adding_a_marking_never_lowers_the_level(
            refs in proptest::collection::vec(prop_oneof![
                Just(GREEN.to_owned()), Just(CUSTOM.to_owned()), Just(STATEMENT.to_owned()),
                "marking-definition--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}",
            ], 0..5),
            extra in prop_oneof![Just(GREEN.to_owned()), Just(CUSTOM.to_owned()), Just(STATEMENT.to_owned())],
        ) {
            let m = Markings::of_bundle(&bundle());
            let before = m.tlp_of(&json!({"object_marking_refs": refs}));
            let mut more = refs.clone();
            more.push(extra.clone());
            let after = m.tlp_of(&json!({"object_marking_refs": more}));
            prop_assert!(after >= before);
            prop_assert!(after >= m.level_of(&extra));
            let granular = m.tlp_of(&json!({"object_marking_refs": refs,
                "granular_markings": [{"marking_ref": extra, "selectors": ["x"]}]}));
            prop_assert_eq!(granular, after);
        }
    }
}
