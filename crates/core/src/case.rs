//! Case kinds and their typed message bodies. A case is a thread of
//! envelopes between two parties; its first envelope opens it.

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::body::{bad, need};
use crate::tlp::Tlp;
use liaison_proto::PartyKind;

/// The kinds of case this version knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A free-text message between parties.
    Note,
    /// Expedited preservation of stored data (Budapest art. 29).
    Preservation,
    /// Mutual legal assistance request (art. 31, T-CY template).
    Mla,
    /// Emergency disclosure (risk to life).
    EmergencyDisclosure,
    /// A critical-infrastructure incident notification.
    Incident,
    /// An urgent formal inquiry for the other party's duty officer.
    Hotline,
    /// A reachability check of the other party's duty officer.
    Ping,
    /// A report of terrorist content (URLs, file and image hashes) for a provider.
    ContentReport,
    /// A legal request forwarded by the requested authority to a provider
    /// in its jurisdiction for execution (`execution::ExecutionOrder`).
    Execution,
    /// A direct order to a provider in another jurisdiction
    /// (`order::ProductionOrder`), notified to that jurisdiction's
    /// authority where it requires it.
    ProductionOrder,
    /// A joint investigation team among authorities ([`TeamCharter`]),
    /// extended by invitation.
    JointTeam,
}

/// Every kind: those opened directly, then the execution order.
pub const ALL_KINDS: [CaseKind; 11] = {
    let mut all = [CaseKind::Execution; 11];
    let mut i = 0;
    while i < OPENING_KINDS.len() {
        all[i] = OPENING_KINDS[i];
        i += 1;
    }
    all
};

/// The kinds a case is opened with directly (an execution order is made by
/// forwarding a legal request: `Node::forward`).
pub const OPENING_KINDS: [CaseKind; 10] = [
    CaseKind::Note,
    CaseKind::Preservation,
    CaseKind::Mla,
    CaseKind::EmergencyDisclosure,
    CaseKind::Incident,
    CaseKind::Hotline,
    CaseKind::Ping,
    CaseKind::ContentReport,
    CaseKind::ProductionOrder,
    CaseKind::JointTeam,
];

/// Envelope kind of lifecycle transitions (the case kind names the opening).
pub const TRANSITION: &str = "transition";

impl CaseKind {
    pub fn parse(s: &str) -> Result<CaseKind, CoreError> {
        ALL_KINDS
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = ALL_KINDS.iter().map(|k| k.as_str()).collect();
                CoreError::invalid(format!(
                    "case kind {s:?} is not known (known: {})",
                    known.join(", ")
                ))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Note => "note",
            CaseKind::Preservation => "preservation",
            CaseKind::Mla => "mla",
            CaseKind::EmergencyDisclosure => "emergency_disclosure",
            CaseKind::Incident => "incident",
            CaseKind::Hotline => "hotline",
            CaseKind::Ping => "ping",
            CaseKind::ContentReport => "content_report",
            CaseKind::Execution => "execution",
            CaseKind::ProductionOrder => "production_order",
            CaseKind::JointTeam => "joint_team",
        }
    }

    /// Legal-assistance kinds (the MLA workflow, legal officers' work).
    pub fn is_legal(self) -> bool {
        matches!(
            self,
            CaseKind::Preservation | CaseKind::Mla | CaseKind::EmergencyDisclosure
        )
    }

    /// Kinds a case of which may open with several recipients: a content
    /// report to several providers, an incident notification to several
    /// CERTs, a note among several parties, a joint team. A legal request
    /// goes to one requested authority.
    pub fn takes_many_recipients(self) -> bool {
        matches!(
            self,
            CaseKind::Note | CaseKind::Incident | CaseKind::ContentReport | CaseKind::JointTeam
        )
    }

    /// Kinds whose threads take updates from either party.
    pub fn takes_updates(self) -> bool {
        matches!(
            self,
            CaseKind::Incident | CaseKind::Hotline | CaseKind::JointTeam
        )
    }

    /// Legal kinds follow the shared lifecycle; notes and joint teams are
    /// plain threads.
    pub fn has_lifecycle(self) -> bool {
        !matches!(self, CaseKind::Note | CaseKind::JointTeam)
    }

    /// Whether a party of `kind` takes cases of this kind: legal assistance
    /// goes to authorities; incidents, the hotline and ping tests to
    /// authorities and CERTs; content reports to authorities and providers;
    /// notes and ping tests to every party; nothing to a witness. Checked
    /// when a case is opened and when it arrives.
    pub fn accepted_by(self, kind: PartyKind) -> bool {
        use PartyKind::{Authority, Cert, Provider, Witness};
        match self {
            CaseKind::Note | CaseKind::Ping => kind != Witness,
            CaseKind::Mla | CaseKind::Preservation | CaseKind::EmergencyDisclosure => {
                kind == Authority
            }
            CaseKind::Incident | CaseKind::Hotline => matches!(kind, Authority | Cert),
            CaseKind::ContentReport | CaseKind::Execution => matches!(kind, Authority | Provider),
            CaseKind::ProductionOrder => kind == Provider,
            CaseKind::JointTeam => kind == Authority,
        }
    }

    /// Whether a party of `kind` takes part in a case of this kind as its
    /// recipient (`first`) or as a further one: the further recipient of an
    /// order is the authority notified of it.
    pub fn accepted_among(self, kind: PartyKind, first: bool) -> bool {
        match (self, first) {
            (CaseKind::ProductionOrder, false) => kind == PartyKind::Authority,
            _ => self.accepted_by(kind),
        }
    }

    pub fn label(self, lang: &str) -> &'static str {
        let ru = lang == "ru";
        match self {
            CaseKind::Note => {
                if ru {
                    "сообщение"
                } else {
                    "note"
                }
            }
            CaseKind::Preservation => {
                if ru {
                    "запрос о сохранении данных"
                } else {
                    "preservation request"
                }
            }
            CaseKind::Mla => {
                if ru {
                    "запрос о правовой помощи"
                } else {
                    "MLA request"
                }
            }
            CaseKind::EmergencyDisclosure => {
                if ru {
                    "запрос об экстренном раскрытии"
                } else {
                    "emergency disclosure request"
                }
            }
            CaseKind::Incident => {
                if ru {
                    "уведомление об инциденте"
                } else {
                    "incident notification"
                }
            }
            CaseKind::Hotline => {
                if ru {
                    "запрос по горячей линии"
                } else {
                    "hotline inquiry"
                }
            }
            CaseKind::Ping => {
                if ru {
                    "проверка связи"
                } else {
                    "ping test"
                }
            }
            CaseKind::ContentReport => {
                if ru {
                    "сообщение о террористических материалах"
                } else {
                    "terrorist content report"
                }
            }
            CaseKind::Execution => {
                if ru {
                    "поручение провайдеру об исполнении"
                } else {
                    "execution order to a provider"
                }
            }
            CaseKind::ProductionOrder => {
                if ru {
                    "приказ о предоставлении данных"
                } else {
                    "production order"
                }
            }
            CaseKind::JointTeam => {
                if ru {
                    "совместная следственная группа"
                } else {
                    "joint investigation team"
                }
            }
        }
    }
}

/// Body of a `note` message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1 to 200 characters once trimmed.
    #[schema(min_length = 1)]
    pub subject: String,
    /// Not blank; at most 100,000 bytes.
    #[schema(min_length = 1)]
    pub text: String,
}

/// The opening of a joint team: what it is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamCharter {
    pub name: String,
    pub purpose: String,
    /// The agreement setting the team up.
    pub legal_basis: String,
    /// TLP marking of the team's thread (default amber).
    #[serde(default)]
    pub tlp: Option<String>,
}

impl TeamCharter {
    pub fn check(body: &serde_json::Value) -> Result<(TeamCharter, Tlp), CoreError> {
        let c: TeamCharter = serde_json::from_value(body.clone())
            .map_err(|e| CoreError::invalid(format!("joint team charter: {e}")))?;
        need("name", &c.name, 200)?;
        need("purpose", &c.purpose, 20_000)?;
        need("legal_basis", &c.legal_basis, 2_000)?;
        let tlp = match &c.tlp {
            Some(t) => Tlp::parse(t).map_err(|e| bad("tlp", format!("tlp: {e}")))?,
            None => Tlp::Amber,
        };
        Ok((c, tlp))
    }
}

/// What opening or continuing a case needs from a body: its subject line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodySummary {
    pub subject: String,
    /// The offence the request names (an id of the crosswalk).
    pub offence: Option<String>,
    /// Urgent requests get shorter deadlines.
    pub urgent: bool,
    /// Preservation requests: the period asked for.
    pub preservation_days: Option<u32>,
    /// Cases this one follows (preservation → MLA, extensions).
    pub links: Vec<String>,
    /// The TLP marking of the thread (incidents and hotline inquiries).
    pub tlp: Tlp,
}

/// Parses and checks a message body of `kind`, naming the offending field.
pub fn check_body(kind: CaseKind, body: &serde_json::Value) -> Result<BodySummary, CoreError> {
    match kind {
        CaseKind::Note => {
            let note: NoteBody = serde_json::from_value(body.clone())
                .map_err(|e| CoreError::invalid(format!("note body: {e}")))?;
            let subject = note.subject.trim();
            if subject.is_empty() || subject.chars().count() > 200 {
                return Err(CoreError::invalid("subject must be 1 to 200 characters"));
            }
            if note.text.trim().is_empty() || note.text.len() > 100_000 {
                return Err(CoreError::invalid("text must be 1 to 100000 bytes"));
            }
            Ok(BodySummary {
                subject: subject.to_owned(),
                offence: None,
                urgent: false,
                preservation_days: None,
                links: Vec::new(),
                tlp: Tlp::Clear,
            })
        }
        CaseKind::Preservation => {
            let r = crate::legal::PreservationRequest::check(body)?;
            Ok(BodySummary {
                // Legal cases keep a language-neutral subject; titles are
                // composed in the reader's language (see `title`).
                subject: String::new(),
                offence: Some(r.offence.id.clone()),
                urgent: r.urgency == crate::legal::Urgency::Urgent,
                preservation_days: Some(r.preservation_days),
                links: r.origin_case.into_iter().collect(),
                tlp: Tlp::Clear,
            })
        }
        CaseKind::Mla => {
            let r = crate::legal::MlaRequest::check(body)?;
            Ok(BodySummary {
                subject: r.reference_number.clone(),
                offence: Some(r.offence.id.clone()),
                urgent: r.urgency == crate::legal::Urgency::Urgent,
                preservation_days: None,
                links: r
                    .preservation_case
                    .iter()
                    .chain(r.earlier_case.iter())
                    .cloned()
                    .collect(),
                tlp: Tlp::Clear,
            })
        }
        CaseKind::EmergencyDisclosure => {
            let r = crate::legal::EmergencyDisclosureRequest::check(body)?;
            Ok(BodySummary {
                subject: r.risk_type.as_str().to_owned(),
                offence: r.offence.map(|o| o.id),
                urgent: true,
                preservation_days: None,
                links: Vec::new(),
                tlp: Tlp::Clear,
            })
        }
        CaseKind::Incident => {
            let (r, tlp) = crate::incident::IncidentReport::check(body)?;
            Ok(BodySummary {
                subject: r.title,
                offence: None,
                urgent: r.severity.urgent(),
                preservation_days: None,
                links: Vec::new(),
                tlp,
            })
        }
        CaseKind::Hotline => {
            let (h, tlp) = crate::incident::HotlineInquiry::check(body)?;
            Ok(BodySummary {
                subject: h.subject,
                offence: None,
                urgent: true,
                preservation_days: None,
                links: h.incident_case.into_iter().collect(),
                tlp,
            })
        }
        CaseKind::ContentReport => {
            let (r, tlp) = crate::content::ContentReport::check(body)?;
            Ok(BodySummary {
                urgent: matches!(
                    r.most_urgent(),
                    Some(
                        crate::content::UrgencyTier::RemovalOrder
                            | crate::content::UrgencyTier::Crisis
                    )
                ),
                subject: r.title,
                offence: None,
                preservation_days: None,
                links: Vec::new(),
                tlp,
            })
        }
        CaseKind::Execution => {
            let order = crate::execution::ExecutionOrder::check(body)?;
            let original = &order.original.envelope;
            let kind = CaseKind::parse(&original.kind)?;
            if !kind.is_legal() {
                return Err(CoreError::invalid(format!(
                    "only a legal request is forwarded for execution, not a {}",
                    kind.as_str()
                )));
            }
            // The forward says what the original says, marking included:
            // it never widens it.
            let of_original = check_body(kind, &original.body)?;
            Ok(BodySummary {
                links: vec![original.case_id.clone()],
                ..of_original
            })
        }
        CaseKind::ProductionOrder => {
            let o = crate::order::ProductionOrder::check(body)?;
            Ok(BodySummary {
                subject: o.reference_number,
                offence: Some(o.offence.id),
                urgent: o.emergency,
                preservation_days: None,
                links: Vec::new(),
                tlp: Tlp::Clear,
            })
        }
        CaseKind::JointTeam => {
            let (c, tlp) = TeamCharter::check(body)?;
            Ok(BodySummary {
                subject: c.name,
                offence: None,
                urgent: false,
                preservation_days: None,
                links: Vec::new(),
                tlp,
            })
        }
        CaseKind::Ping => {
            crate::incident::PingBody::check(body)?;
            Ok(BodySummary {
                subject: String::new(),
                offence: None,
                urgent: true,
                preservation_days: None,
                links: Vec::new(),
                tlp: Tlp::Clear,
            })
        }
    }
}

/// The party that opened a case, from its id (`<party>-<hex>`: party codes
/// may hold '-', the random part never does).
pub fn opener(case_id: &str) -> Option<&str> {
    case_id.rsplit_once('-').map(|(party, _)| party)
}

/// A case's title in `lang`: notes keep their subject as written; legal
/// requests are titled from their kind, reference and offence (or risk).
pub fn title(kind: &str, subject: &str, offence: Option<&str>, lang: &str) -> String {
    let offence_label = || {
        offence
            .and_then(|o| crate::offences::OFFENCES.get(o))
            .map(|o| o.label(lang).to_owned())
            .unwrap_or_default()
    };
    match CaseKind::parse(kind) {
        Ok(CaseKind::Mla) => format!(
            "{} {subject}: {}",
            CaseKind::Mla.label(lang),
            offence_label()
        ),
        Ok(CaseKind::Execution) => format!("{}: {subject}", CaseKind::Execution.label(lang)),
        Ok(CaseKind::ProductionOrder) => format!(
            "{} {subject}: {}",
            CaseKind::ProductionOrder.label(lang),
            offence_label()
        ),
        Ok(CaseKind::Preservation) => format!(
            "{}: {}",
            CaseKind::Preservation.label(lang),
            offence_label()
        ),
        Ok(CaseKind::Ping) => CaseKind::Ping.label(lang).to_owned(),
        Ok(CaseKind::EmergencyDisclosure) => {
            let risk = crate::legal::RiskType::ALL
                .iter()
                .find(|r| r.as_str() == subject)
                .map(|r| r.label(lang))
                .unwrap_or(subject);
            format!("{}: {risk}", CaseKind::EmergencyDisclosure.label(lang))
        }
        _ => subject.to_owned(),
    }
    .chars()
    .enumerate()
    .map(|(i, c)| {
        if i == 0 {
            c.to_uppercase().next().unwrap_or(c)
        } else {
            c
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn note_bodies_are_checked_field_by_field() {
        assert!(check_body(CaseKind::Note, &json!({"subject": "Hello", "text": "Body"})).is_ok());
        let e = check_body(CaseKind::Note, &json!({"subject": "Hello"})).unwrap_err();
        assert!(e.to_string().contains("text"), "{e}");
        let e = check_body(CaseKind::Note, &json!({"subject": " ", "text": "x"})).unwrap_err();
        assert!(e.to_string().contains("subject"), "{e}");
        let e = check_body(
            CaseKind::Note,
            &json!({"subject": "a", "text": "x", "extra": 1}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
    }
}
