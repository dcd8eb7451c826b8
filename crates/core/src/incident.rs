//! Typed bodies of the operational kinds: critical-infrastructure incident
//! notifications, hotline inquiries, ping tests, and the updates either
//! party adds to an incident or hotline thread.
//!
//! Severity scale (documented in README): 1 low — minor effect, no essential
//! service disrupted; 2 moderate — one organisation's services affected;
//! 3 high — an essential service or several organisations affected;
//! 4 severe — an essential service disrupted in a sector or region;
//! 5 emergency — threat to life or to critical infrastructure nationally.

use serde::{Deserialize, Serialize};

use crate::body::{
    Authority, bad, check_authority, check_sectors, labelled_enum, need, optional, parse,
};
use crate::tlp::Tlp;
use crate::{CoreError, FieldProblem};

labelled_enum!(
    /// How bad an incident is (see the module documentation for the scale).
    Severity {
        Low = "low", "1 — low: minor effect, no essential service disrupted", "1 — низкая: незначительное воздействие, основные услуги не нарушены";
        Moderate = "moderate", "2 — moderate: one organisation's services affected", "2 — умеренная: затронуты услуги одной организации";
        High = "high", "3 — high: an essential service or several organisations affected", "3 — высокая: затронута основная услуга или несколько организаций";
        Severe = "severe", "4 — severe: an essential service disrupted in a sector or region", "4 — тяжёлая: нарушена основная услуга в отрасли или регионе";
        Emergency = "emergency", "5 — emergency: threat to life or to critical infrastructure nationally", "5 — чрезвычайная: угроза жизни или критической инфраструктуре в масштабе страны";
    }
);

impl Severity {
    /// 1 (low) to 5 (emergency).
    pub fn level(self) -> u8 {
        match self {
            Severity::Low => 1,
            Severity::Moderate => 2,
            Severity::High => 3,
            Severity::Severe => 4,
            Severity::Emergency => 5,
        }
    }

    /// Severe incidents and emergencies count their deadlines in wall-clock time.
    pub fn urgent(self) -> bool {
        self.level() >= 4
    }
}

labelled_enum!(
    /// What the notifying party asks of the recipient.
    IncidentRequest {
        Information = "information", "For information", "Для сведения";
        Assistance = "assistance", "Request for assistance", "Просьба о помощи";
        Mitigation = "mitigation", "Request to mitigate activity from the recipient's territory", "Просьба пресечь деятельность с территории получателя";
    }
);

labelled_enum!(
    /// Kinds of technical indicator (STIX cyber-observable types).
    IndicatorType {
        Ipv4 = "ipv4-addr", "IPv4 address", "IPv4-адрес";
        Ipv6 = "ipv6-addr", "IPv6 address", "IPv6-адрес";
        Domain = "domain-name", "Domain name", "Доменное имя";
        Url = "url", "URL", "URL-адрес";
        Email = "email-addr", "E-mail address", "Адрес электронной почты";
        Sha256 = "file-sha256", "File SHA-256", "SHA-256 файла";
        Md5 = "file-md5", "File MD5", "MD5 файла";
    }
);

/// A technical indicator of an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    #[serde(rename = "type")]
    pub kind: IndicatorType,
    pub value: String,
    #[serde(default)]
    pub description: String,
}

impl Indicator {
    fn check(&self, field: &str) -> Result<(), CoreError> {
        let v = self.value.trim();
        let hex = |n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_hexdigit());
        let ok = match self.kind {
            IndicatorType::Ipv4 => v.parse::<std::net::Ipv4Addr>().is_ok(),
            IndicatorType::Ipv6 => v.parse::<std::net::Ipv6Addr>().is_ok(),
            IndicatorType::Domain => {
                !v.is_empty()
                    && v.len() <= 253
                    && v.contains('.')
                    && v.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            }
            IndicatorType::Url => {
                (v.starts_with("http://") || v.starts_with("https://") || v.starts_with("ftp://"))
                    && v.len() <= 2048
                    && !v.contains(char::is_whitespace)
            }
            IndicatorType::Email => {
                v.find('@').is_some_and(|i| i > 0 && i + 1 < v.len())
                    && !v.contains(char::is_whitespace)
                    && v.len() <= 254
            }
            IndicatorType::Sha256 => hex(64),
            IndicatorType::Md5 => hex(32),
        };
        if !ok || v != self.value {
            return Err(bad(
                &format!("{field}.value"),
                format!(
                    "{field}.value {:?} is not a valid {}",
                    self.value,
                    self.kind.label("en")
                ),
            ));
        }
        optional(&format!("{field}.description"), &self.description, 1000)
    }

    /// The STIX 2.1 pattern that matches this indicator.
    pub fn stix_pattern(&self) -> String {
        let v = self.value.replace('\\', "\\\\").replace('\'', "\\'");
        match self.kind {
            IndicatorType::Sha256 => format!("[file:hashes.'SHA-256' = '{v}']"),
            IndicatorType::Md5 => format!("[file:hashes.MD5 = '{v}']"),
            other => format!("[{}:value = '{v}']", other.as_str()),
        }
    }
}

fn check_indicators(indicators: &[Indicator]) -> Result<(), CoreError> {
    if indicators.len() > 1000 {
        return Err(bad("indicators", "indicators: at most 1000"));
    }
    for (i, ind) in indicators.iter().enumerate() {
        ind.check(&format!("indicators.{i}"))?;
    }
    Ok(())
}

fn check_tlp(field: &str, tlp: &str) -> Result<Tlp, CoreError> {
    Tlp::parse(tlp).map_err(|e| bad(field, format!("{field}: {e}")))
}

fn check_time(field: &str, t: &Option<String>) -> Result<(), CoreError> {
    if let Some(t) = t
        && t.parse::<jiff::Timestamp>().is_err()
    {
        return Err(bad(
            field,
            format!("{field} {t:?} is not an RFC 3339 time (e.g. 2026-11-23T08:00:00Z)"),
        ));
    }
    Ok(())
}

/// A critical-infrastructure incident notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentReport {
    pub title: String,
    /// The notifying party's team (CERT) and its contact person.
    pub reporting_team: Authority,
    /// Affected sectors: ids of the sector crosswalk (at least one).
    pub sectors: Vec<String>,
    pub severity: Severity,
    /// A TLP marking (label or STIX marking-definition id).
    pub tlp: String,
    pub description: String,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    pub request: IncidentRequest,
    /// What the recipient is asked to do (required unless for information).
    #[serde(default)]
    pub request_details: String,
    /// When the activity was first seen (RFC 3339).
    #[serde(default)]
    pub first_seen: Option<String>,
}

impl IncidentReport {
    pub fn check(body: &serde_json::Value) -> Result<(IncidentReport, Tlp), CoreError> {
        let r: IncidentReport = parse("incident", body)?;
        need("title", &r.title, 200)?;
        check_authority("reporting_team", &r.reporting_team)?;
        if r.sectors.is_empty() {
            return Err(CoreError::field(
                "sectors",
                FieldProblem::Required,
                "sectors must name at least one affected sector",
            ));
        }
        check_sectors(&r.sectors)?;
        let tlp = check_tlp("tlp", &r.tlp)?;
        need("description", &r.description, 20_000)?;
        check_indicators(&r.indicators)?;
        if r.request != IncidentRequest::Information {
            need("request_details", &r.request_details, 5_000)?;
        } else {
            optional("request_details", &r.request_details, 5_000)?;
        }
        check_time("first_seen", &r.first_seen)?;
        Ok((r, tlp))
    }
}

/// A formal inquiry through the hotline, for the other party's duty officer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotlineInquiry {
    pub subject: String,
    pub inquiry: String,
    /// Who is asking and how to call back.
    pub contact: Authority,
    /// A TLP marking; TLP:AMBER when absent.
    #[serde(default)]
    pub tlp: Option<String>,
    /// An incident case this inquiry is about.
    #[serde(default)]
    pub incident_case: Option<String>,
}

impl HotlineInquiry {
    pub fn check(body: &serde_json::Value) -> Result<(HotlineInquiry, Tlp), CoreError> {
        let h: HotlineInquiry = parse("hotline inquiry", body)?;
        need("subject", &h.subject, 200)?;
        need("inquiry", &h.inquiry, 20_000)?;
        check_authority("contact", &h.contact)?;
        let tlp = match &h.tlp {
            Some(t) => check_tlp("tlp", t)?,
            None => Tlp::Amber,
        };
        crate::body::check_case_ref("incident_case", &h.incident_case)?;
        Ok((h, tlp))
    }
}

/// A reachability check of the other party's duty officer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PingBody {
    /// Sent by the schedule rather than by a person.
    #[serde(default)]
    pub scheduled: bool,
    #[serde(default)]
    pub text: String,
}

impl PingBody {
    pub fn check(body: &serde_json::Value) -> Result<PingBody, CoreError> {
        let p: PingBody = parse("ping", body)?;
        optional("text", &p.text, 1000)?;
        Ok(p)
    }
}

/// Envelope kind of updates in an incident or hotline thread.
pub const UPDATE: &str = "update";

/// An update either party adds to an incident or hotline thread: new
/// information, indicators, a changed severity, or (by the notifying party
/// only) a changed marking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// Not blank.
    #[schema(min_length = 1, max_length = 20_000)]
    pub text: String,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub tlp: Option<String>,
}

impl UpdateBody {
    pub fn check(body: &serde_json::Value) -> Result<(UpdateBody, Option<Tlp>), CoreError> {
        let u: UpdateBody = parse("update", body)?;
        need("text", &u.text, 20_000)?;
        check_indicators(&u.indicators)?;
        let tlp = match &u.tlp {
            Some(t) => Some(check_tlp("tlp", t)?),
            None => None,
        };
        Ok((u, tlp))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn incident() -> serde_json::Value {
        json!({
            "title": "Wiper malware at a regional grid operator",
            "reporting_team": {"name": "US-CERT", "contact_person": "Duty analyst", "email": "soc@cert.example"},
            "sectors": ["us-energy"],
            "severity": "severe",
            "tlp": "TLP:AMBER",
            "description": "Destructive malware disabled SCADA workstations; command servers are hosted in the recipient's territory.",
            "indicators": [
                {"type": "ipv4-addr", "value": "198.51.100.23"},
                {"type": "domain-name", "value": "update-check.example"},
                {"type": "file-sha256", "value": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
            ],
            "request": "mitigation",
            "request_details": "Take down the two command servers and preserve their logs.",
            "first_seen": "2026-11-22T03:10:00Z"
        })
    }

    #[test]
    fn a_complete_incident_passes_and_its_marking_is_normalised() {
        let (r, tlp) = IncidentReport::check(&incident()).unwrap();
        assert_eq!(tlp, Tlp::Amber);
        assert!(r.severity.urgent());
        assert_eq!(
            r.indicators[2].stix_pattern(),
            "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']"
        );
        assert_eq!(
            r.indicators[0].stix_pattern(),
            "[ipv4-addr:value = '198.51.100.23']"
        );
        let mut b = incident();
        b["tlp"] = json!("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed");
        assert_eq!(IncidentReport::check(&b).unwrap().1, Tlp::Red);
    }

    #[test]
    fn bad_incidents_name_the_field() {
        let cases = [
            ("sectors", json!([])),
            ("sectors", json!(["us-moon-base"])),
            ("tlp", json!("TLP:PURPLE")),
            ("severity", json!("apocalyptic")),
            ("first_seen", json!("yesterday")),
        ];
        for (field, value) in cases {
            let mut b = incident();
            b[field] = value;
            let e = IncidentReport::check(&b).unwrap_err().to_string();
            assert!(e.contains(field), "{field}: {e}");
        }
        let mut b = incident();
        b["indicators"][0]["value"] = json!("999.1.1.1");
        let e = IncidentReport::check(&b).unwrap_err().to_string();
        assert!(e.contains("indicators.0.value"), "{e}");
        let mut b = incident();
        b["request_details"] = json!("");
        assert!(IncidentReport::check(&b).is_err());
    }

    #[test]
    fn hotline_pings_and_updates() {
        let h = json!({"subject": "Scanning of our grid from your address space", "inquiry": "Is this activity known to you?",
            "contact": {"name": "NRRC", "contact_person": "Watch officer", "email": "watch@nrrc.example"}});
        assert_eq!(HotlineInquiry::check(&h).unwrap().1, Tlp::Amber);
        assert!(PingBody::check(&json!({"scheduled": true})).is_ok());
        assert!(PingBody::check(&json!({"nope": 1})).is_err());
        let (u, tlp) = UpdateBody::check(
            &json!({"text": "Second server found", "severity": "emergency", "tlp": "red",
            "indicators": [{"type": "url", "value": "https://update-check.example/p"}]}),
        )
        .unwrap();
        assert_eq!(
            (u.severity, tlp),
            (Some(Severity::Emergency), Some(Tlp::Red))
        );
        assert!(UpdateBody::check(&json!({"text": ""})).is_err());
    }
}
