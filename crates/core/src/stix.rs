//! STIX 2.1: checking objects that arrive (imports, TAXII) and building the
//! objects Liaison publishes for an incident thread — the incident (with the
//! Incident Core Extension), its indicators and their `indicates`
//! relationships, notes for the updates, the parties' identities, a report
//! gathering them, and the TLP 2.0 marking definition that marks them all.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::incident::{IncidentReport, Severity, UpdateBody};
use crate::tlp::Tlp;
use crate::{CoreError, FieldProblem};

/// The Incident Core Extension (OASIS, incident extension definition).
pub const INCIDENT_EXTENSION: &str = "extension-definition--ef765651-680c-498d-9894-99799f2fa126";
pub use crate::markings::{Markings, TLP_EXTENSION};
pub const MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// STIX Cyber-observable object types: they carry no created/modified.
const OBSERVABLES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// What the store needs to know of a checked object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub id: String,
    pub kind: String,
    pub spec_version: String,
    /// `modified`, else `created`; empty for observables (the date added is their version).
    pub version: String,
    /// The strictest TLP marking among `object_marking_refs` (CLEAR if none).
    pub tlp: Tlp,
}

fn invalid(field: &str, message: String) -> CoreError {
    CoreError::field(field, FieldProblem::Invalid, message)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `type--uuid`, with the type it must have if given.
pub fn is_identifier(s: &str, of_type: Option<&str>) -> bool {
    match s.split_once("--") {
        Some((t, u)) => is_type_name(t) && is_uuid(u) && of_type.is_none_or(|want| t == want),
        None => false,
    }
}

fn is_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !t.starts_with('-')
        && !t.ends_with('-')
}

/// A STIX timestamp: RFC 3339 in UTC with a `Z`.
pub fn is_timestamp(s: &str) -> bool {
    s.ends_with('Z') && s.contains('T') && s.parse::<jiff::Timestamp>().is_ok()
}

/// A timestamp as STIX writes it, with milliseconds.
pub fn format_timestamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An RFC 3339 time normalised to the STIX form (the input if it does not parse).
pub fn stix_time(s: &str) -> String {
    s.parse::<jiff::Timestamp>()
        .map(format_timestamp)
        .unwrap_or_else(|_| s.to_owned())
}

/// A deterministic identifier: exporting the same thing twice gives the
/// same id, so consumers see new versions rather than new objects. The
/// UUID is shaped as version 4 (random-looking) from a SHA-256 of the seed.
pub fn derived_id(kind: &str, seed: &str) -> String {
    let digest = Sha256::digest(format!("liaison/stix/{kind}/{seed}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{kind}--{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Checks one STIX 2.1 object alone: markings that are not well-known TLP
/// ids resolve to RED (see [`check_object_in`]).
pub fn check_object(v: &Value) -> Result<ObjectMeta, CoreError> {
    check_object_in(v, &Markings::default())
}

/// Checks one STIX 2.1 object: common properties, identifiers, timestamps,
/// the required properties of the types Liaison exchanges, references;
/// its TLP level resolves through the marking definitions of its bundle.
pub fn check_object_in(v: &Value, markings: &Markings) -> Result<ObjectMeta, CoreError> {
    let o = v
        .as_object()
        .ok_or_else(|| CoreError::invalid("a STIX object must be a JSON object"))?;
    let s = |k: &str| o.get(k).and_then(Value::as_str);
    let kind = s("type").ok_or_else(|| {
        CoreError::field("type", FieldProblem::Required, "the object has no type")
    })?;
    if !is_type_name(kind) || kind == "bundle" {
        return Err(invalid(
            "type",
            format!("type {kind:?} is not a STIX object type"),
        ));
    }
    let id = s("id").ok_or_else(|| {
        CoreError::field(
            "id",
            FieldProblem::Required,
            format!("the {kind} has no id"),
        )
    })?;
    if !is_identifier(id, Some(kind)) {
        return Err(invalid(
            "id",
            format!("id {id:?} is not \"{kind}--\" followed by a UUID"),
        ));
    }
    let observable = OBSERVABLES.contains(&kind);
    let spec_version = match s("spec_version") {
        Some("2.1") => "2.1",
        None if observable => "2.1",
        Some(other) => {
            return Err(invalid(
                "spec_version",
                format!("{id}: spec_version {other:?} is not 2.1"),
            ));
        }
        None => {
            return Err(CoreError::field(
                "spec_version",
                FieldProblem::Required,
                format!("{id}: spec_version is required"),
            ));
        }
    };
    let time = |k: &str, required: bool| -> Result<Option<&str>, CoreError> {
        match o.get(k) {
            Some(Value::String(t)) if is_timestamp(t) => Ok(Some(t.as_str())),
            Some(other) => Err(invalid(
                k,
                format!("{id}: {k} {other} is not a timestamp (e.g. 2026-11-23T08:00:00.000Z)"),
            )),
            None if required => Err(CoreError::field(
                k,
                FieldProblem::Required,
                format!("{id}: {k} is required"),
            )),
            None => Ok(None),
        }
    };
    let marking = kind == "marking-definition";
    let created = time("created", !observable)?;
    let modified = time("modified", !observable && !marking)?;
    if let (Some(c), Some(m)) = (created, modified)
        && let (Ok(c), Ok(m)) = (c.parse::<jiff::Timestamp>(), m.parse::<jiff::Timestamp>())
        && m < c
    {
        return Err(invalid(
            "modified",
            format!("{id}: modified is before created"),
        ));
    }
    let need_str = |k: &str| -> Result<(), CoreError> {
        match o.get(k) {
            Some(Value::String(x)) if !x.trim().is_empty() => Ok(()),
            Some(_) => Err(invalid(k, format!("{id}: {k} must be a non-empty string"))),
            None => Err(CoreError::field(
                k,
                FieldProblem::Required,
                format!("{id}: {k} is required for a {kind}"),
            )),
        }
    };
    let refs = |k: &str, required: bool| -> Result<(), CoreError> {
        match o.get(k) {
            Some(Value::Array(a)) if !a.is_empty() || !required => {
                for r in a {
                    if !r.as_str().is_some_and(|r| is_identifier(r, None)) {
                        return Err(invalid(
                            k,
                            format!("{id}: {k} holds {r}, not an identifier"),
                        ));
                    }
                }
                Ok(())
            }
            Some(_) => Err(invalid(
                k,
                format!("{id}: {k} must be a non-empty list of identifiers"),
            )),
            None if required => Err(CoreError::field(
                k,
                FieldProblem::Required,
                format!("{id}: {k} is required for a {kind}"),
            )),
            None => Ok(()),
        }
    };
    let one_ref = |k: &str, of: Option<&str>| -> Result<(), CoreError> {
        match o.get(k) {
            None => Ok(()),
            Some(Value::String(r)) if is_identifier(r, of) => Ok(()),
            Some(other) => Err(invalid(
                k,
                format!("{id}: {k} {other} is not a valid reference"),
            )),
        }
    };
    match kind {
        "incident" | "identity" => need_str("name")?,
        "report" => {
            need_str("name")?;
            time("published", true)?;
            refs("object_refs", true)?;
        }
        "grouping" => {
            need_str("context")?;
            refs("object_refs", true)?;
        }
        "indicator" => {
            need_str("pattern")?;
            need_str("pattern_type")?;
            time("valid_from", true)?;
        }
        "note" => {
            need_str("content")?;
            refs("object_refs", true)?;
        }
        "relationship" => {
            need_str("relationship_type")?;
            for k in ["source_ref", "target_ref"] {
                if o.get(k).is_none() {
                    return Err(CoreError::field(
                        k,
                        FieldProblem::Required,
                        format!("{id}: {k} is required for a relationship"),
                    ));
                }
                one_ref(k, None)?;
            }
        }
        "marking-definition" => {
            let defined = o.get("definition").is_some_and(Value::is_object)
                && o.get("definition_type").is_some_and(Value::is_string);
            let extended = o.get("extensions").is_some_and(Value::is_object);
            if !defined && !extended {
                return Err(CoreError::field(
                    "definition",
                    FieldProblem::Required,
                    format!(
                        "{id}: a marking definition needs definition_type and definition, or extensions"
                    ),
                ));
            }
        }
        _ => {}
    }
    one_ref("created_by_ref", Some("identity"))?;
    refs("object_marking_refs", false)?;
    if let Some(ext) = o.get("extensions")
        && !ext.is_object()
    {
        return Err(invalid(
            "extensions",
            format!("{id}: extensions must be an object"),
        ));
    }
    if let Some(g) = o.get("granular_markings") {
        check_granular(id, g)?;
    }
    let tlp = markings.tlp_of(v);
    Ok(ObjectMeta {
        id: id.to_owned(),
        kind: kind.to_owned(),
        spec_version: spec_version.to_owned(),
        version: modified.or(created).unwrap_or("").to_owned(),
        tlp,
    })
}

/// Granular markings: each an object with non-empty string `selectors`
/// and exactly one of `marking_ref` (an identifier) or `lang`.
fn check_granular(id: &str, g: &Value) -> Result<(), CoreError> {
    let bad = |why: &str| invalid("granular_markings", format!("{id}: {why}"));
    let list = g
        .as_array()
        .ok_or_else(|| bad("granular_markings must be a list"))?;
    for m in list {
        let o = m
            .as_object()
            .ok_or_else(|| bad("each granular marking is an object"))?;
        let selectors_ok = o
            .get("selectors")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                !s.is_empty() && s.iter().all(|x| x.as_str().is_some_and(|x| !x.is_empty()))
            });
        if !selectors_ok {
            return Err(bad(
                "a granular marking needs a non-empty list of selectors",
            ));
        }
        match (o.get("marking_ref"), o.get("lang")) {
            (Some(Value::String(r)), None) if is_identifier(r, Some("marking-definition")) => {}
            (None, Some(Value::String(l))) if !l.is_empty() => {}
            _ => {
                return Err(bad(
                    "a granular marking names one marking_ref (a marking-definition id) or one lang",
                ));
            }
        }
    }
    Ok(())
}

/// The objects of a bundle (or of a TAXII envelope: `{"objects": […]}`).
pub fn objects_of(v: &Value) -> Result<&Vec<Value>, CoreError> {
    let o = v
        .as_object()
        .ok_or_else(|| CoreError::invalid("a bundle must be a JSON object"))?;
    if let Some(t) = o.get("type")
        && t != "bundle"
    {
        return Err(CoreError::invalid(format!("type is {t}, not \"bundle\"")));
    }
    if let Some(id) = o.get("id")
        && !id
            .as_str()
            .is_some_and(|i| is_identifier(i, Some("bundle")))
    {
        return Err(CoreError::invalid(format!(
            "bundle id {id} is not bundle--<UUID>"
        )));
    }
    o.get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| CoreError::invalid("the bundle has no \"objects\" list"))
}

/// A bundle of `objects` with a fresh-looking but deterministic id.
pub fn bundle(objects: Vec<Value>, seed: &str) -> Value {
    json!({"type": "bundle", "id": derived_id("bundle", seed), "objects": objects})
}

/// The TLP 2.0 marking definition of a level (OASIS extension form).
pub fn tlp_marking(level: Tlp) -> Value {
    let name = match level {
        Tlp::Clear => "clear",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        Tlp::AmberStrict => "amber+strict",
        Tlp::Red => "red",
    };
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": level.marking_id(),
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.label(),
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": name}
        }
    })
}

/// An update of an incident thread, for export.
pub struct ThreadUpdate {
    /// Envelope hash (the note's id derives from it).
    pub hash: String,
    pub sender: String,
    pub created: String,
    pub body: UpdateBody,
}

/// An incident thread, as the node holds it.
pub struct IncidentThread<'a> {
    pub case_id: &'a str,
    pub initiator: &'a str,
    /// Party code → display name, for identities.
    pub party_names: Vec<(String, String)>,
    pub created: &'a str,
    pub updated: &'a str,
    /// Lifecycle state (`delivered`, `in_execution`, `closed`, …).
    pub state: &'a str,
    pub tlp: Tlp,
    pub report: &'a IncidentReport,
    pub updates: Vec<ThreadUpdate>,
}

fn identity_of(party: &str, names: &[(String, String)]) -> Value {
    let name = names
        .iter()
        .find(|(p, _)| p == party)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| party.to_owned());
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": derived_id("identity", party),
        "created": "2020-01-01T00:00:00.000Z",
        "modified": "2020-01-01T00:00:00.000Z",
        "name": name,
        "identity_class": "organization",
    })
}

fn severity_score(s: Severity) -> u8 {
    s.level() * 20
}

/// Every STIX object Liaison publishes for an incident thread.
pub fn incident_objects(t: &IncidentThread<'_>) -> Vec<Value> {
    let r = t.report;
    let marking = t.tlp.marking_id();
    let created = stix_time(t.created);
    let modified = stix_time(t.updated).max(created.clone());
    let incident_id = derived_id("incident", t.case_id);
    let author = derived_id("identity", t.initiator);
    // The incident speaks for its notifying party: only its updates change
    // the severity (the other party's appear in its own notes).
    let severity = t
        .updates
        .iter()
        .filter(|u| u.sender == t.initiator)
        .filter_map(|u| u.body.severity)
        .next_back()
        .unwrap_or(r.severity);
    let status = match t.state {
        "sent" | "delivered" => "new",
        "closed" | "refused" | "withdrawn" | "expired" => "closed",
        _ => "open",
    };
    let mut description = r.description.clone();
    if !r.request_details.is_empty() {
        description.push_str(&format!(
            "\n\n{}: {}",
            r.request.label("en"),
            r.request_details
        ));
    }
    let mut labels: Vec<String> = r.sectors.iter().map(|s| format!("sector:{s}")).collect();
    labels.push(format!("severity:{}", severity.as_str()));
    let mut incident = json!({
        "type": "incident",
        "spec_version": "2.1",
        "id": incident_id,
        "created": created,
        "modified": modified,
        "name": r.title,
        "description": description,
        "created_by_ref": author,
        "labels": labels,
        "object_marking_refs": [marking],
        "extensions": {
            INCIDENT_EXTENSION: {
                "extension_type": "property-extension",
                "determination": "confirmed",
                "investigation_status": status,
                "criticality": severity_score(severity),
            }
        }
    });
    if let Some(first) = &r.first_seen
        && let Some(o) = incident.as_object_mut()
    {
        o.insert("first_seen".into(), Value::String(stix_time(first)));
    }
    let mut objects = vec![tlp_marking(t.tlp)];
    let mut parties: Vec<&str> = vec![t.initiator];
    for u in &t.updates {
        if !parties.contains(&u.sender.as_str()) {
            parties.push(&u.sender);
        }
    }
    objects.extend(parties.iter().map(|p| identity_of(p, &t.party_names)));
    let mut refs = vec![Value::String(incident_id.clone())];
    objects.push(incident);
    let indicator = |ind: &crate::incident::Indicator, by: &str, at: &str| {
        let pattern = ind.stix_pattern();
        let id = derived_id("indicator", &format!("{}/{pattern}", t.case_id));
        let mut o = Map::new();
        for (k, v) in [
            ("type", json!("indicator")),
            ("spec_version", json!("2.1")),
            ("id", json!(id)),
            ("created", json!(at)),
            ("modified", json!(at)),
            (
                "name",
                json!(format!("{} {}", ind.kind.as_str(), ind.value)),
            ),
            ("indicator_types", json!(["malicious-activity"])),
            ("pattern", json!(pattern)),
            ("pattern_type", json!("stix")),
            ("valid_from", json!(at)),
            ("created_by_ref", json!(derived_id("identity", by))),
            ("object_marking_refs", json!([marking])),
        ] {
            o.insert(k.into(), v);
        }
        if !ind.description.is_empty() {
            o.insert("description".into(), json!(ind.description));
        }
        let rel = json!({
            "type": "relationship",
            "spec_version": "2.1",
            "id": derived_id("relationship", &format!("{id}/indicates")),
            "created": at,
            "modified": at,
            "relationship_type": "indicates",
            "source_ref": id,
            "target_ref": incident_id,
            "object_marking_refs": [marking],
        });
        (Value::Object(o), rel)
    };
    let mut seen = std::collections::HashSet::new();
    let mut add = |objects: &mut Vec<Value>, refs: &mut Vec<Value>, (o, rel): (Value, Value)| {
        let id = o["id"].as_str().unwrap_or("").to_owned();
        if seen.insert(id.clone()) {
            refs.push(Value::String(id));
            refs.push(rel["id"].clone());
            objects.push(o);
            objects.push(rel);
        }
    };
    for ind in &r.indicators {
        let pair = indicator(ind, t.initiator, &created);
        add(&mut objects, &mut refs, pair);
    }
    for u in &t.updates {
        let at = stix_time(&u.created);
        for ind in &u.body.indicators {
            let pair = indicator(ind, &u.sender, &at);
            add(&mut objects, &mut refs, pair);
        }
        let mut content = u.body.text.clone();
        if let Some(s) = u.body.severity {
            content.push_str(&format!("\n\nSeverity: {}", s.label("en")));
        }
        let note = json!({
            "type": "note",
            "spec_version": "2.1",
            "id": derived_id("note", &u.hash),
            "created": at,
            "modified": at,
            "content": content,
            "object_refs": [incident_id],
            "created_by_ref": derived_id("identity", &u.sender),
            "object_marking_refs": [marking],
        });
        refs.push(note["id"].clone());
        objects.push(note);
    }
    objects.push(json!({
        "type": "report",
        "spec_version": "2.1",
        "id": derived_id("report", t.case_id),
        "created": created,
        "modified": modified,
        "name": format!("Liaison incident {}: {}", t.case_id, r.title),
        "report_types": ["incident"],
        "published": created,
        "object_refs": refs,
        "created_by_ref": author,
        "object_marking_refs": [marking],
    }));
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_report() -> IncidentReport {
        IncidentReport::check(&crate::incident::tests::incident())
            .unwrap()
            .0
    }

    #[test]
    fn published_incident_objects_check_and_carry_the_marking() {
        let r = thread_report();
        let t = IncidentThread {
            case_id: "us-0123456789abcdef0123",
            initiator: "us",
            party_names: vec![("us".into(), "US-CERT".into())],
            created: "2026-11-23T08:00:00Z",
            updated: "2026-11-23T09:30:00Z",
            state: "acknowledged",
            tlp: Tlp::Amber,
            report: &r,
            updates: vec![ThreadUpdate {
                hash: "ab".repeat(32),
                sender: "us".into(),
                created: "2026-11-23T09:30:00Z".into(),
                body: UpdateBody::check(&json!({"text": "Second server", "severity": "emergency",
                    "indicators": [{"type": "ipv4-addr", "value": "203.0.113.9"}]}))
                .unwrap()
                .0,
            }],
        };
        let objects = incident_objects(&t);
        let kinds: Vec<&str> = objects
            .iter()
            .map(|o| o["type"].as_str().unwrap())
            .collect();
        for k in [
            "marking-definition",
            "identity",
            "incident",
            "indicator",
            "relationship",
            "note",
            "report",
        ] {
            assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
        }
        for o in &objects {
            let meta = check_object(o).unwrap_or_else(|e| panic!("{o}: {e}"));
            if meta.kind != "marking-definition" && meta.kind != "identity" {
                assert_eq!(meta.tlp, Tlp::Amber, "{o}");
            }
        }
        let incident = objects.iter().find(|o| o["type"] == "incident").unwrap();
        assert_eq!(
            incident["extensions"][INCIDENT_EXTENSION]["criticality"],
            100
        );
        assert_eq!(incident["modified"], "2026-11-23T09:30:00.000Z");
        // Deterministic: the same thread gives the same objects.
        assert_eq!(objects, incident_objects(&t));
        assert_eq!(
            objects.iter().filter(|o| o["type"] == "indicator").count(),
            4
        );
    }

    #[test]
    fn bad_objects_are_refused_naming_the_property() {
        let good = json!({"type": "indicator", "spec_version": "2.1",
            "id": "indicator--8b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            "created": "2026-11-23T00:00:00.000Z", "modified": "2026-11-23T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.23']", "pattern_type": "stix",
            "valid_from": "2026-11-23T00:00:00Z",
            "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]});
        let meta = check_object(&good).unwrap();
        assert_eq!(
            (meta.version.as_str(), meta.tlp),
            ("2026-11-23T00:00:00.000Z", Tlp::Green)
        );
        for (field, value) in [
            ("id", json!("indicator--not-a-uuid")),
            ("id", json!("malware--8b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")),
            ("spec_version", json!("2.0")),
            ("created", json!("yesterday")),
            ("modified", json!("2025-01-01T00:00:00Z")),
            ("pattern", json!("")),
            ("valid_from", Value::Null),
            ("object_marking_refs", json!(["TLP:RED"])),
            (
                "created_by_ref",
                json!("indicator--8b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"),
            ),
        ] {
            let mut bad = good.clone();
            if value.is_null() {
                bad.as_object_mut().unwrap().remove(field);
            } else {
                bad[field] = value;
            }
            let e = check_object(&bad).unwrap_err().to_string();
            assert!(e.contains(field), "{field}: {e}");
        }
        // Observables need no timestamps.
        assert!(check_object(&json!({"type": "ipv4-addr", "id": "ipv4-addr--8b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "value": "1.2.3.4"})).is_ok());
        assert!(objects_of(&json!({"type": "bundle", "id": "bundle--1", "objects": []})).is_err());
    }

    #[test]
    fn derived_ids_are_version_4_shaped_and_stable() {
        let a = derived_id("incident", "us-1");
        assert_eq!(a, derived_id("incident", "us-1"));
        assert_ne!(a, derived_id("incident", "us-2"));
        assert!(is_identifier(&a, Some("incident")));
        assert_eq!(&a[10 + 14..10 + 15], "4");
        assert_eq!(
            format_timestamp("2026-11-23T08:00:00Z".parse().unwrap()),
            "2026-11-23T08:00:00.000Z"
        );
    }
}
