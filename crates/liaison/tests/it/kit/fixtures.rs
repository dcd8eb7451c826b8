//! A valid body of every request kind, as the tests send them.

use serde_json::{Value, json};

/// A note (any subject).
pub fn note(subject: &str) -> Value {
    json!({"subject": subject, "text": format!("Text of {subject} — текст")})
}

/// A ping of the other party's duty officer.
pub fn ping_body() -> Value {
    json!({"scheduled": false})
}

pub fn authority(name: &str, email: &str, tz: &str) -> Value {
    json!({"name": name, "contact_person": "Duty prosecutor", "email": email, "time_zone": tz})
}

pub fn mla_body(preservation_case: Option<&str>) -> Value {
    let mut b = json!({
        "date": "2026-11-23", "reference_number": "OIA-2026-0042", "request_type": "new",
        "requested_authority": authority("Генеральная прокуратура Российской Федерации", "mla@genproc.example", "Europe/Moscow"),
        "requesting_authority": authority("U.S. Department of Justice, Office of International Affairs", "oia@usdoj.example", "America/New_York"),
        "preferred_channel": "liaison", "investigating_authority": "FBI Cyber Division",
        "prosecutor_or_court": {"name": "U.S. Attorney's Office, E.D. Va.", "case_numbers": ["1:26-cr-00042"]},
        "legal_basis": "bilateral_treaty", "offence": {"id": "computer-fraud"},
        "summary_of_facts": "A phishing campaign defrauded bank customers of USD 2 million.",
        "assistance_sought": ["subscriber_information", "traffic_data"],
        "assistance_description": "Subscriber records and IP log-ins of the account used to host the phishing kit.",
        "urgency": "normal"
    });
    if let Some(p) = preservation_case {
        b["preservation_case"] = json!(p);
    }
    b
}

pub fn preservation_body() -> Value {
    json!({
        "requesting_authority": authority("U.S. Department of Justice, Office of International Affairs", "oia@usdoj.example", "America/New_York"),
        "offence": {"id": "illegal-access"},
        "summary_of_facts": "Intrusion into a hospital network from a server hosted in the requested state.",
        "data_sought": ["traffic_data", "subscriber_information"],
        "data_description": "Connection logs and subscriber data of server 203.0.113.5",
        "relation_to_offence": "The intruder connected from this server.",
        "custodian": "Hosting provider Example LLC, Moscow",
        "necessity": "The provider deletes logs after 30 days.",
        "mla_to_follow": true
    })
}

pub fn emergency_body() -> Value {
    json!({
        "requesting_authority": authority("U.S. Department of Justice, Office of International Affairs", "oia@usdoj.example", "America/New_York"),
        "risk_type": "kidnapping",
        "risk_description": "A child was abducted; the kidnapper used the account to demand ransom an hour ago.",
        "data_sought": ["subscriber_information", "traffic_data"],
        "data_description": "Subscriber data and the last IP log-ins of the account, last 48 hours only.",
        "custodian": "Mail provider Example, Moscow"
    })
}

pub fn incident_body(tlp: &str) -> Value {
    json!({
        "title": "Wiper malware at a regional grid operator",
        "reporting_team": {"name": "US-CERT", "contact_person": "Duty analyst", "email": "soc@cert.example"},
        "sectors": ["us-energy"],
        "severity": "severe",
        "tlp": tlp,
        "description": "Destructive malware disabled SCADA workstations; its command servers are hosted in the recipient's territory.",
        "indicators": [
            {"type": "ipv4-addr", "value": "198.51.100.23"},
            {"type": "domain-name", "value": "update-check.example"}
        ],
        "request": "mitigation",
        "request_details": "Take down the two command servers and preserve their logs.",
        "first_seen": "2026-11-22T03:10:00Z"
    })
}

pub fn hotline_body() -> Value {
    json!({
        "subject": "Scanning of our grid operators from your address space",
        "inquiry": "Is the activity from 203.0.113.0/24 known to you, and is it state-sponsored?",
        "contact": {"name": "NRRC", "contact_person": "Watch officer", "email": "watch@nrrc.example"},
        "tlp": "TLP:RED"
    })
}

pub const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

pub fn report_body() -> Value {
    report_with(PDQ, &"ab".repeat(32), &"cd".repeat(16))
}

pub fn report_with(pdq: &str, sha256: &str, md5: &str) -> Value {
    json!({
        "title": "Recruitment videos of Group X",
        "reporting_unit": {"name": "Referral Unit", "contact_person": "A. Smith", "email": "iru@example.org"},
        "provider": "ExampleTube",
        "tlp": "amber",
        "items": [
            {"type": "url", "value": "https://video.example/watch?v=1", "behaviour": "recruitment",
             "urgency": "removal_order", "entity": "Group X"},
            {"type": "pdq", "value": pdq, "quality": 100, "behaviour": "glorification",
             "urgency": "standard", "entity": "Group X"},
            {"type": "sha256", "value": sha256, "behaviour": "instruction", "urgency": "priority"},
            {"type": "md5", "value": md5, "behaviour": "threat", "urgency": "standard"}
        ]
    })
}

/// A valid opening body of each kind a case is opened with directly (a new
/// kind must add one; an execution order is made by forwarding).
pub fn opening(kind: liaison_core::case::CaseKind) -> Value {
    use liaison_core::case::CaseKind;
    match kind {
        CaseKind::Execution => panic!("an execution order is made by forwarding, not opened"),
        CaseKind::Note => note("Fixture note"),
        CaseKind::Preservation => preservation_body(),
        CaseKind::Mla => mla_body(None),
        CaseKind::EmergencyDisclosure => emergency_body(),
        CaseKind::Incident => incident_body("TLP:GREEN"),
        CaseKind::Hotline => hotline_body(),
        CaseKind::Ping => ping_body(),
        CaseKind::ContentReport => report_body(),
        CaseKind::ProductionOrder => production_order_body("subscriber_information", false),
        CaseKind::JointTeam => team_charter(),
    }
}

/// The charter of a joint investigation team.
pub fn team_charter() -> Value {
    json!({
        "name": "JIT Hospital Ransomware",
        "purpose": "Joint investigation of the ransomware attacks on hospitals in both countries.",
        "legal_basis": "Second Additional Protocol art. 12; agreement of 1 December 2026",
        "tlp": "amber"
    })
}

/// A direct production order for `category` (an emergency or not).
pub fn production_order_body(category: &str, emergency: bool) -> Value {
    json!({
        "reference_number": "US-2703D-0077",
        "issuing_authority": authority("U.S. Department of Justice, CCIPS", "ccips@usdoj.example", "America/New_York"),
        "data_category": category,
        "emergency": emergency,
        "emergency_reasons": if emergency { "A hostage is held; the account is used for ransom demands." } else { "" },
        "identifiers": ["ransom-ops@mail.ru-isp.example", "198.51.100.23"],
        "period_from": "2026-11-01",
        "period_to": "2026-11-30",
        "offence": {"id": "computer-fraud"},
        "legal_basis": "18 U.S.C. § 2703(d); Second Additional Protocol art. 7",
        "summary_of_facts": "The account sent ransom demands to a U.S. hospital."
    })
}
