//! The forms of the UI: one field list per case kind, rendering data, and
//! the conversion of a submitted form into the typed JSON body the node
//! checks. Field names are the body's paths (`requesting_authority.email`),
//! so a validation error names the field to show it next to.

use std::collections::HashMap;

use liaison_core::case::CaseKind;
use serde_json::{Map, Value};

use super::i18n::Tr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Text,
    LongText,
    Email,
    Date,
    Number,
    Checkbox,
    /// One value of a core enumeration.
    Select(&'static str),
    /// Several values of a core enumeration.
    Multi(&'static str),
    /// An offence of the crosswalk (`offence.id`).
    Offence,
    /// Strings separated by commas or new lines.
    List,
    /// Critical-infrastructure sectors of the crosswalk, both jurisdictions.
    Sectors,
    /// Indicators, one per line: `type value [description]`.
    Indicators,
    /// Content-report items, one per line: `type value behaviour urgency [entity]`.
    ContentItems,
}

#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub input: Input,
    pub required: bool,
}

const fn f(name: &'static str, input: Input, required: bool) -> FieldSpec {
    FieldSpec {
        name,
        input,
        required,
    }
}

use Input::*;

const NOTE: &[FieldSpec] = &[f("subject", Text, true), f("text", LongText, true)];

const PRESERVATION: &[FieldSpec] = &[
    f("requesting_authority.name", Text, true),
    f("requesting_authority.contact_person", Text, true),
    f("requesting_authority.email", Email, true),
    f("requesting_authority.phone", Text, false),
    f("offence.id", Offence, true),
    f("offence.description", Text, false),
    f("summary_of_facts", LongText, true),
    f("data_sought", Multi("data_category"), true),
    f("data_description", LongText, true),
    f("relation_to_offence", LongText, true),
    f("custodian", Text, true),
    f("necessity", LongText, true),
    f("mla_to_follow", Checkbox, true),
    f("preservation_days", Number, true),
    f("urgency", Select("urgency"), true),
    f("origin_case", Text, false),
    f("sectors", Sectors, false),
];

const MLA: &[FieldSpec] = &[
    f("date", Date, true),
    f("reference_number", Text, true),
    f("request_type", Select("request_type"), true),
    f("earlier_case", Text, false),
    f("requested_authority.name", Text, true),
    f("requested_authority.contact_person", Text, true),
    f("requested_authority.email", Email, true),
    f("requesting_authority.name", Text, true),
    f("requesting_authority.contact_person", Text, true),
    f("requesting_authority.email", Email, true),
    f("requesting_authority.phone", Text, false),
    f("requesting_authority.office_hours", Text, false),
    f("requesting_authority.time_zone", Text, false),
    f("preferred_channel", Select("channel"), true),
    f("investigating_authority", Text, true),
    f("prosecutor_or_court.name", Text, true),
    f("prosecutor_or_court.case_numbers", List, false),
    f("earlier_requests", List, false),
    f("legal_basis", Select("legal_basis"), true),
    f("legal_basis_details", Text, false),
    f("offence.id", Offence, true),
    f("offence.description", Text, false),
    f("summary_of_facts", LongText, true),
    f("assistance_sought", Multi("assistance_type"), true),
    f("assistance_description", LongText, true),
    f("urgency", Select("urgency"), true),
    f("urgency_reasons", LongText, false),
    f("preservation_case", Text, false),
    f("sectors", Sectors, false),
];

const EMERGENCY: &[FieldSpec] = &[
    f("requesting_authority.name", Text, true),
    f("requesting_authority.contact_person", Text, true),
    f("requesting_authority.email", Email, true),
    f("requesting_authority.phone", Text, false),
    f("risk_type", Select("risk_type"), true),
    f("risk_description", LongText, true),
    f("data_sought", Multi("data_category"), true),
    f("data_description", LongText, true),
    f("custodian", Text, true),
    f("sectors", Sectors, false),
];

const INCIDENT: &[FieldSpec] = &[
    f("title", Text, true),
    f("reporting_team.name", Text, true),
    f("reporting_team.contact_person", Text, true),
    f("reporting_team.email", Email, true),
    f("reporting_team.phone", Text, false),
    f("sectors", Sectors, true),
    f("severity", Select("severity"), true),
    f("tlp", Select("tlp"), true),
    f("description", LongText, true),
    f("indicators", Indicators, false),
    f("request", Select("incident_request"), true),
    f("request_details", LongText, false),
    f("first_seen", Text, false),
];

const HOTLINE: &[FieldSpec] = &[
    f("subject", Text, true),
    f("inquiry", LongText, true),
    f("contact.name", Text, true),
    f("contact.contact_person", Text, true),
    f("contact.email", Email, true),
    f("contact.phone", Text, false),
    f("tlp", Select("tlp"), true),
    f("incident_case", Text, false),
];

const PING: &[FieldSpec] = &[f("text", Text, false)];

const CONTENT_REPORT: &[FieldSpec] = &[
    f("title", Text, true),
    f("reporting_unit.name", Text, true),
    f("reporting_unit.contact_person", Text, true),
    f("reporting_unit.email", Email, true),
    f("reporting_unit.phone", Text, false),
    f("provider", Text, true),
    f("tlp", Select("tlp"), true),
    f("legal_basis", Text, false),
    f("items", ContentItems, true),
];

const PRODUCTION_ORDER: &[FieldSpec] = &[
    f("reference_number", Text, true),
    f("issuing_authority.name", Text, true),
    f("issuing_authority.contact_person", Text, true),
    f("issuing_authority.email", Email, true),
    f("issuing_authority.phone", Text, false),
    f("data_category", Select("data_category"), true),
    f("identifiers", List, true),
    f("period_from", Text, false),
    f("period_to", Text, false),
    f("offence.id", Offence, true),
    f("offence.description", Text, false),
    f("legal_basis", Text, true),
    f("summary_of_facts", LongText, true),
    f("emergency", Checkbox, false),
    f("emergency_reasons", LongText, false),
];

const JOINT_TEAM: &[FieldSpec] = &[
    f("name", Text, true),
    f("purpose", LongText, true),
    f("legal_basis", Text, true),
    f("tlp", Select("tlp"), true),
];

pub fn spec(kind: CaseKind) -> &'static [FieldSpec] {
    match kind {
        CaseKind::Note => NOTE,
        CaseKind::Preservation => PRESERVATION,
        CaseKind::Mla => MLA,
        CaseKind::EmergencyDisclosure => EMERGENCY,
        CaseKind::Incident => INCIDENT,
        CaseKind::Hotline => HOTLINE,
        CaseKind::Ping => PING,
        CaseKind::ContentReport => CONTENT_REPORT,
        CaseKind::ProductionOrder => PRODUCTION_ORDER,
        CaseKind::JointTeam => JOINT_TEAM,
        // Made by forwarding a request, not from a form of its own.
        CaseKind::Execution => &[],
    }
}

/// Parses indicator lines (`type value [description]`); the node checks
/// each value.
pub fn indicators_from_text(text: &str) -> Value {
    Value::Array(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let mut parts = line.splitn(3, char::is_whitespace);
                let kind = parts.next().unwrap_or("").trim();
                let value = parts.next().unwrap_or("").trim();
                let description = parts.next().unwrap_or("").trim();
                let mut o = Map::new();
                o.insert("type".into(), Value::String(kind.to_owned()));
                o.insert("value".into(), Value::String(value.to_owned()));
                if !description.is_empty() {
                    o.insert("description".into(), Value::String(description.to_owned()));
                }
                Value::Object(o)
            })
            .collect(),
    )
}

/// Parses content-report item lines (`type value behaviour urgency
/// [entity]`); the node checks each part.
pub fn content_items_from_text(text: &str) -> Value {
    Value::Array(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let mut parts = line.splitn(5, char::is_whitespace);
                let mut o = Map::new();
                for key in ["type", "value", "behaviour", "urgency"] {
                    o.insert(
                        key.into(),
                        Value::String(parts.next().unwrap_or("").trim().to_owned()),
                    );
                }
                let entity = parts.next().unwrap_or("").trim();
                if !entity.is_empty() {
                    o.insert("entity".into(), Value::String(entity.to_owned()));
                }
                Value::Object(o)
            })
            .collect(),
    )
}

/// A submitted form: every value of every field name.
#[derive(Clone, Debug, Default)]
pub struct Submitted(pub HashMap<String, Vec<String>>);

impl Submitted {
    pub fn parse(body: &[u8]) -> Submitted {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_default().push(v);
        }
        Submitted(map)
    }

    pub fn one(&self, name: &str) -> &str {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Builds the typed JSON body from a form; returns field errors for values
/// that cannot even be typed (a number that is not one).
pub fn body_from_form(
    kind: CaseKind,
    form: &Submitted,
) -> Result<Value, HashMap<String, &'static str>> {
    let mut root = Map::new();
    let mut errors = HashMap::new();
    for field in spec(kind) {
        let raw = form.one(field.name).trim();
        let value = match field.input {
            Text | LongText | Email | Date | Select(_) | Offence => {
                if raw.is_empty() && !field.required {
                    continue;
                }
                Value::String(raw.to_owned())
            }
            Number => match raw.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) if raw.is_empty() && !field.required => continue,
                Err(_) => {
                    errors.insert(field.name.to_owned(), "invalid");
                    continue;
                }
            },
            Checkbox => Value::Bool(!raw.is_empty()),
            Indicators => indicators_from_text(raw),
            ContentItems => content_items_from_text(raw),
            Multi(_) | Sectors => Value::Array(
                form.all(field.name)
                    .iter()
                    .map(|v| Value::String(v.clone()))
                    .collect(),
            ),
            List => Value::Array(
                raw.split([',', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
        };
        insert_path(&mut root, field.name, value);
    }
    if errors.is_empty() {
        Ok(Value::Object(root))
    } else {
        Err(errors)
    }
}

fn insert_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            root.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = root
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = child {
                insert_path(m, rest, value);
            }
        }
    }
}

/// One field, ready for the template.
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<OptionView>,
    pub error: String,
}

pub struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The fields of a kind's form in `t`'s language, filled with `form` and
/// showing `errors` (field → problem code).
pub fn views(
    kind: CaseKind,
    t: &Tr,
    form: &Submitted,
    errors: &HashMap<String, &'static str>,
) -> Vec<FieldView> {
    spec(kind)
        .iter()
        .map(|field| {
            let submitted = form.all(field.name);
            let options = match field.input {
                Select(e) | Multi(e) => liaison_core::enumerations::all()
                    .into_iter()
                    .find(|(name, _)| *name == e)
                    .map(|(_, values)| {
                        values
                            .into_iter()
                            .map(|(v, en, ru)| OptionView {
                                value: v.to_owned(),
                                label: if t.lang == "ru" { ru } else { en }.to_owned(),
                                selected: submitted.iter().any(|s| s == v),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                Offence => liaison_core::offences::OFFENCES
                    .offences
                    .iter()
                    .filter(|o| !o.retired)
                    .map(|o| OptionView {
                        value: o.id.clone(),
                        label: o.label(t.lang).to_owned(),
                        selected: submitted.contains(&o.id),
                    })
                    .collect(),
                Sectors => {
                    let crosswalk = &liaison_core::reference::SECTORS;
                    crosswalk
                        .us
                        .iter()
                        .map(|s| (t.get("crosswalk.us_short"), s))
                        .chain(
                            crosswalk
                                .ru
                                .iter()
                                .map(|s| (t.get("crosswalk.ru_short"), s)),
                        )
                        .map(|(side, s)| OptionView {
                            value: s.id.clone(),
                            label: format!("{side}: {}", s.label(t.lang)),
                            selected: submitted.contains(&s.id),
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            FieldView {
                name: field.name,
                label: t.get(&format!("field.{}", field.name)).to_owned(),
                kind: match field.input {
                    Text => "text",
                    LongText | Indicators | ContentItems => "textarea",
                    Email => "email",
                    Date => "date",
                    Number => "number",
                    Checkbox => "checkbox",
                    Select(_) | Offence => "select",
                    Multi(_) | Sectors => "multi",
                    List => "list",
                },
                required: field.required,
                value: form.one(field.name).to_owned(),
                options,
                error: errors
                    .get(field.name)
                    .map(|p| t.get(&format!("error.{p}")).to_owned())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Sensible starting values for a new request.
pub fn defaults(kind: CaseKind, node_name: &str) -> Submitted {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    let mut set = |k: &str, v: &str| {
        m.insert(k.to_owned(), vec![v.to_owned()]);
    };
    set("requesting_authority.name", node_name);
    match kind {
        CaseKind::Mla => {
            set("date", &jiff::Zoned::now().date().to_string());
            set("request_type", "new");
            set("preferred_channel", "liaison");
            set("legal_basis", "bilateral_treaty");
            set("urgency", "normal");
        }
        CaseKind::Preservation => {
            set("preservation_days", "60");
            set("mla_to_follow", "on");
            set("urgency", "normal");
        }
        CaseKind::Incident => {
            set("reporting_team.name", node_name);
            set("severity", "moderate");
            set("tlp", "amber");
            set("request", "information");
        }
        CaseKind::Hotline => {
            set("contact.name", node_name);
            set("tlp", "amber");
        }
        _ => {}
    }
    Submitted(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_become_typed_bodies() {
        let form = Submitted::parse(
            b"subject=Hi&text=Hello&preservation_days=60&data_sought=traffic_data&data_sought=content_data",
        );
        let body = body_from_form(CaseKind::Note, &form).unwrap();
        assert_eq!(body, serde_json::json!({"subject": "Hi", "text": "Hello"}));
        let form = Submitted::parse(b"requesting_authority.name=A&preservation_days=sixty&data_sought=traffic_data&data_sought=content_data&mla_to_follow=on");
        let errors = body_from_form(CaseKind::Preservation, &form).unwrap_err();
        assert_eq!(errors.get("preservation_days"), Some(&"invalid"));
        let form = Submitted::parse(b"requesting_authority.name=A&preservation_days=61&data_sought=traffic_data&data_sought=content_data&mla_to_follow=on");
        let body = body_from_form(CaseKind::Preservation, &form).unwrap();
        assert_eq!(body["requesting_authority"]["name"], "A");
        assert_eq!(
            body["data_sought"],
            serde_json::json!(["traffic_data", "content_data"])
        );
        assert_eq!(body["mla_to_follow"], true);
        assert_eq!(body["preservation_days"], 61);
    }

    #[test]
    fn every_field_of_every_form_has_labels() {
        for kind in liaison_core::case::ALL_KINDS {
            for field in spec(kind) {
                for lang in ["en", "ru"] {
                    let t = Tr::new(lang);
                    let key = format!("field.{}", field.name);
                    assert_ne!(t.get(&key), key.as_str(), "{lang} lacks {key}");
                }
            }
        }
    }
}
