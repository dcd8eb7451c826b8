//! Typed bodies of legal-assistance requests and of lifecycle transitions.
//!
//! - Preservation request: the contents Budapest Convention art. 29 lists.
//! - MLA request: the fields of the Council of Europe T-CY request templates.
//! - Emergency disclosure: risk to life and the narrow data sought.
//!
//! Every enumerated field has English and Russian labels. A missing or
//! malformed field is refused with an error naming the field.

use serde::{Deserialize, Serialize};

use crate::body::{
    Authority, bad, check_authority, check_case_ref, check_sectors, labelled_enum, need, optional,
    parse,
};
use crate::lifecycle::Action;
use crate::offences::OFFENCES;
use crate::{CoreError, FieldProblem};

labelled_enum!(
    /// Categories of data a request seeks.
    DataCategory {
        SubscriberInformation = "subscriber_information", "Subscriber information", "Сведения об абоненте";
        TrafficData = "traffic_data", "Traffic data", "Данные о трафике";
        ContentData = "content_data", "Content data", "Данные о содержании";
        DomainRegistration = "domain_registration", "Domain name registration information", "Сведения о регистрации доменного имени";
        Other = "other", "Other data", "Иные данные";
    }
);

labelled_enum!(
    Urgency {
        Normal = "normal", "Normal", "Обычный";
        Urgent = "urgent", "Urgent", "Срочный";
    }
);

labelled_enum!(
    /// New request, or extension / follow-up of an earlier one (T-CY template).
    RequestType {
        New = "new", "New request", "Новый запрос";
        Extension = "extension", "Extension of an earlier request", "Продление ранее направленного запроса";
        FollowUp = "follow_up", "Follow-up of an earlier request", "Дополнение к ранее направленному запросу";
    }
);

labelled_enum!(
    Channel {
        Liaison = "liaison", "Liaison", "Liaison";
        Email = "email", "E-mail", "Электронная почта";
        Diplomatic = "diplomatic", "Diplomatic channels", "Дипломатические каналы";
        CentralAuthority = "central_authority", "Central authority post", "Почта центрального органа";
    }
);

labelled_enum!(
    LegalBasis {
        BudapestConvention = "budapest_convention", "Budapest Convention (ETS 185)", "Будапештская конвенция (ETS 185)";
        BilateralTreaty = "bilateral_treaty", "Bilateral mutual legal assistance treaty", "Двусторонний договор о правовой помощи";
        MultilateralTreaty = "multilateral_treaty", "Other multilateral treaty", "Иной многосторонний договор";
        Reciprocity = "reciprocity", "Reciprocity", "Принцип взаимности";
        Other = "other", "Other basis", "Иное основание";
    }
);

labelled_enum!(
    AssistanceType {
        SubscriberInformation = "subscriber_information", "Subscriber information", "Сведения об абоненте";
        TrafficData = "traffic_data", "Traffic data", "Данные о трафике";
        ContentData = "content_data", "Content data", "Данные о содержании";
        SearchAndSeizure = "search_and_seizure", "Search and seizure", "Обыск и выемка";
        WitnessStatement = "witness_statement", "Statement of a witness", "Допрос свидетеля";
        ServiceOfDocuments = "service_of_documents", "Service of documents", "Вручение документов";
        Other = "other", "Other assistance", "Иная помощь";
    }
);

labelled_enum!(
    /// Why a request is an emergency (Second Additional Protocol art. 9/10).
    RiskType {
        ThreatToLife = "threat_to_life", "Imminent threat to life", "Непосредственная угроза жизни";
        Kidnapping = "kidnapping", "Kidnapping or hostage-taking", "Похищение или захват заложников";
        Terrorism = "terrorism", "Imminent terrorist attack", "Угроза террористического акта";
        ChildSafety = "child_safety", "Child in danger", "Ребёнок в опасности";
        SelfHarm = "self_harm", "Risk of suicide or self-harm", "Угроза самоубийства или причинения вреда себе";
        Other = "other", "Other serious risk", "Иная серьёзная угроза";
    }
);

labelled_enum!(
    /// Grounds for refusing a request.
    RefusalGround {
        InsufficientInformation = "insufficient_information", "Insufficient information", "Недостаточно сведений";
        NoDualCriminality = "no_dual_criminality", "No dual criminality", "Отсутствие двойной криминальности";
        PoliticalOffence = "political_offence", "Political offence", "Политическое преступление";
        SovereigntyOrSecurity = "sovereignty_or_security", "Prejudice to sovereignty, security or public order", "Ущерб суверенитету, безопасности или общественному порядку";
        DataNotHeld = "data_not_held", "Data not held or no longer available", "Данные отсутствуют или утрачены";
        NotCompetent = "not_competent", "Not the competent authority", "Запрос направлен не в компетентный орган";
        Other = "other", "Other ground", "Иное основание";
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OffenceRef {
    /// An id of the offence crosswalk.
    pub id: String,
    /// The offence as the requesting party's law names it.
    #[serde(default)]
    pub description: String,
}

/// Budapest Convention art. 29: expedited preservation of stored data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreservationRequest {
    pub requesting_authority: Authority,
    pub offence: OffenceRef,
    pub summary_of_facts: String,
    pub data_sought: Vec<DataCategory>,
    pub data_description: String,
    pub relation_to_offence: String,
    /// The custodian of the data, or where it is located.
    pub custodian: String,
    pub necessity: String,
    /// Art. 29(2)(f): a request for mutual assistance will follow.
    pub mla_to_follow: bool,
    /// At least 60 days (art. 29(7)).
    #[serde(default = "sixty")]
    pub preservation_days: u32,
    #[serde(default = "normal")]
    pub urgency: Urgency,
    /// A preservation request this one extends or supplements.
    #[serde(default)]
    pub origin_case: Option<String>,
    /// Critical-infrastructure sectors concerned: ids of the sector crosswalk.
    #[serde(default)]
    pub sectors: Vec<String>,
}

fn sixty() -> u32 {
    60
}

fn normal() -> Urgency {
    Urgency::Normal
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProsecutorOrCourt {
    pub name: String,
    #[serde(default)]
    pub case_numbers: Vec<String>,
}

/// Art. 31 mutual assistance request (T-CY template fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MlaRequest {
    /// YYYY-MM-DD
    pub date: String,
    pub reference_number: String,
    pub request_type: RequestType,
    /// Required for an extension or follow-up: the earlier case.
    #[serde(default)]
    pub earlier_case: Option<String>,
    pub requested_authority: Authority,
    pub requesting_authority: Authority,
    pub preferred_channel: Channel,
    pub investigating_authority: String,
    pub prosecutor_or_court: ProsecutorOrCourt,
    #[serde(default)]
    pub earlier_requests: Vec<String>,
    pub legal_basis: LegalBasis,
    #[serde(default)]
    pub legal_basis_details: String,
    pub offence: OffenceRef,
    pub summary_of_facts: String,
    pub assistance_sought: Vec<AssistanceType>,
    pub assistance_description: String,
    pub urgency: Urgency,
    /// Required when urgent.
    #[serde(default)]
    pub urgency_reasons: String,
    /// The preservation request this request follows.
    #[serde(default)]
    pub preservation_case: Option<String>,
    /// Critical-infrastructure sectors concerned: ids of the sector crosswalk.
    #[serde(default)]
    pub sectors: Vec<String>,
}

/// Emergency disclosure (Second Additional Protocol art. 9): risk to life,
/// hours not days, the narrowest data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyDisclosureRequest {
    pub requesting_authority: Authority,
    pub risk_type: RiskType,
    pub risk_description: String,
    pub data_sought: Vec<DataCategory>,
    pub data_description: String,
    pub custodian: String,
    #[serde(default)]
    pub offence: Option<OffenceRef>,
    /// Critical-infrastructure sectors concerned: ids of the sector crosswalk.
    #[serde(default)]
    pub sectors: Vec<String>,
}

/// The body of a lifecycle transition envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    pub action: Action,
    /// Envelope hash of the message this transition follows.
    pub parent: String,
    /// Free text: the questions, the answers, the results, the reasons.
    #[serde(default)]
    pub text: String,
    /// Refusals: the ground.
    #[serde(default)]
    pub ground: Option<RefusalGround>,
    /// Preservation extensions: how many more days.
    #[serde(default)]
    pub days: Option<u32>,
}

fn check_offence(field: &str, o: &OffenceRef) -> Result<(), CoreError> {
    OFFENCES
        .require(&o.id)
        .map_err(|e| bad(&format!("{field}.id"), format!("{field}: {e}")))?;
    optional(&format!("{field}.description"), &o.description, 1000)
}

impl PreservationRequest {
    pub fn check(body: &serde_json::Value) -> Result<PreservationRequest, CoreError> {
        let r: PreservationRequest = parse("preservation request", body)?;
        check_authority("requesting_authority", &r.requesting_authority)?;
        check_offence("offence", &r.offence)?;
        check_sectors(&r.sectors)?;
        need("summary_of_facts", &r.summary_of_facts, 20_000)?;
        if r.data_sought.is_empty() {
            return Err(CoreError::field(
                "data_sought",
                FieldProblem::Required,
                "data_sought must name at least one category",
            ));
        }
        need("data_description", &r.data_description, 5_000)?;
        need("relation_to_offence", &r.relation_to_offence, 5_000)?;
        need("custodian", &r.custodian, 1_000)?;
        need("necessity", &r.necessity, 5_000)?;
        if !r.mla_to_follow {
            return Err(bad(
                "mla_to_follow",
                "mla_to_follow must be true: art. 29 preservation precedes a request for mutual assistance",
            ));
        }
        if !(60..=365).contains(&r.preservation_days) {
            return Err(bad(
                "preservation_days",
                "preservation_days must be 60 to 365 (art. 29(7): at least 60)",
            ));
        }
        check_case_ref("origin_case", &r.origin_case)?;
        Ok(r)
    }
}

impl MlaRequest {
    pub fn check(body: &serde_json::Value) -> Result<MlaRequest, CoreError> {
        let r: MlaRequest = parse("MLA request", body)?;
        if jiff::civil::Date::strptime("%Y-%m-%d", &r.date).is_err() {
            return Err(bad("date", format!("date {:?} is not YYYY-MM-DD", r.date)));
        }
        need("reference_number", &r.reference_number, 100)?;
        if r.request_type != RequestType::New && r.earlier_case.is_none() {
            return Err(CoreError::field(
                "earlier_case",
                FieldProblem::Required,
                "earlier_case is required for an extension or a follow-up",
            ));
        }
        check_case_ref("earlier_case", &r.earlier_case)?;
        check_authority("requested_authority", &r.requested_authority)?;
        check_authority("requesting_authority", &r.requesting_authority)?;
        need("investigating_authority", &r.investigating_authority, 300)?;
        need("prosecutor_or_court.name", &r.prosecutor_or_court.name, 300)?;
        for n in &r.prosecutor_or_court.case_numbers {
            need("prosecutor_or_court.case_numbers", n, 100)?;
        }
        for e in &r.earlier_requests {
            need("earlier_requests", e, 200)?;
        }
        optional("legal_basis_details", &r.legal_basis_details, 2_000)?;
        check_offence("offence", &r.offence)?;
        check_sectors(&r.sectors)?;
        need("summary_of_facts", &r.summary_of_facts, 20_000)?;
        if r.assistance_sought.is_empty() {
            return Err(CoreError::field(
                "assistance_sought",
                FieldProblem::Required,
                "assistance_sought must name at least one kind of assistance",
            ));
        }
        need("assistance_description", &r.assistance_description, 10_000)?;
        if r.urgency == Urgency::Urgent {
            need("urgency_reasons", &r.urgency_reasons, 5_000)?;
        }
        check_case_ref("preservation_case", &r.preservation_case)?;
        Ok(r)
    }
}

impl EmergencyDisclosureRequest {
    pub fn check(body: &serde_json::Value) -> Result<EmergencyDisclosureRequest, CoreError> {
        let r: EmergencyDisclosureRequest = parse("emergency disclosure request", body)?;
        check_authority("requesting_authority", &r.requesting_authority)?;
        need("risk_description", &r.risk_description, 10_000)?;
        if r.data_sought.is_empty() {
            return Err(CoreError::field(
                "data_sought",
                FieldProblem::Required,
                "data_sought must name at least one category",
            ));
        }
        if r.data_sought.contains(&DataCategory::ContentData) && r.data_sought.len() > 2 {
            return Err(bad(
                "data_sought",
                "data_sought: an emergency request asks for the narrowest data; split broader needs into an MLA request",
            ));
        }
        need("data_description", &r.data_description, 2_000)?;
        need("custodian", &r.custodian, 1_000)?;
        check_sectors(&r.sectors)?;
        if let Some(o) = &r.offence {
            check_offence("offence", o)?;
        }
        Ok(r)
    }
}

impl TransitionBody {
    pub fn check(body: &serde_json::Value) -> Result<TransitionBody, CoreError> {
        let t: TransitionBody = parse("transition", body)?;
        if t.parent.len() != 64
            || !t
                .parent
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(bad(
                "parent",
                "parent must be the 64-hex-digit hash of the envelope this follows",
            ));
        }
        optional("text", &t.text, 20_000)?;
        match t.action {
            Action::RequestClarification | Action::ProvideClarification | Action::Withdraw => {
                need("text", &t.text, 20_000)?;
            }
            Action::Refuse => {
                if t.ground.is_none() {
                    return Err(CoreError::field(
                        "ground",
                        FieldProblem::Required,
                        "ground is required to refuse",
                    ));
                }
                need("text", &t.text, 20_000)?;
            }
            Action::Extend if !t.days.is_some_and(|d| (1..=365).contains(&d)) => {
                return Err(CoreError::field(
                    "days",
                    FieldProblem::Required,
                    "days (1 to 365) is required to extend",
                ));
            }
            _ => {}
        }
        if t.action != Action::Extend && t.days.is_some() {
            return Err(CoreError::invalid("days is only for extend"));
        }
        if t.action != Action::Refuse && t.ground.is_some() {
            return Err(CoreError::invalid("ground is only for refuse"));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn authority() -> serde_json::Value {
        json!({"name": "Office of International Affairs", "contact_person": "J. Doe", "email": "oia@example.gov", "time_zone": "America/New_York"})
    }

    pub(crate) fn mla() -> serde_json::Value {
        json!({
            "date": "2026-11-23", "reference_number": "OIA-2026-0042", "request_type": "new",
            "requested_authority": {"name": "Генеральная прокуратура", "contact_person": "И. Иванов", "email": "mla@example.ru", "time_zone": "Europe/Moscow"},
            "requesting_authority": authority(), "preferred_channel": "liaison",
            "investigating_authority": "FBI Cyber Division",
            "prosecutor_or_court": {"name": "U.S. Attorney, E.D. Va.", "case_numbers": ["1:26-cr-00042"]},
            "legal_basis": "bilateral_treaty", "offence": {"id": "computer-fraud"},
            "summary_of_facts": "Phishing campaign against bank customers.",
            "assistance_sought": ["subscriber_information", "traffic_data"],
            "assistance_description": "Subscriber and log-in records for account X.", "urgency": "normal"
        })
    }

    #[test]
    fn a_complete_mla_request_passes() {
        let r = MlaRequest::check(&mla()).unwrap();
        assert_eq!(
            crate::case::title("mla", &r.reference_number, Some(&r.offence.id), "en"),
            "MLA request OIA-2026-0042: Computer-related fraud"
        );
        assert_eq!(
            crate::case::title("mla", &r.reference_number, Some(&r.offence.id), "ru"),
            "Запрос о правовой помощи OIA-2026-0042: Мошенничество с использованием компьютерных технологий"
        );
    }

    #[test]
    fn sectors_are_ids_of_the_crosswalk() {
        let mut m = mla();
        m["sectors"] = json!(["us-financial-services", "ru-banking-finance"]);
        assert_eq!(MlaRequest::check(&m).unwrap().sectors.len(), 2);
        m["sectors"] = json!(["us-financial-services", "ru-hairdressing"]);
        let e = MlaRequest::check(&m).unwrap_err().to_string();
        assert!(e.contains("ru-hairdressing"), "{e}");
    }

    #[test]
    fn missing_and_malformed_fields_are_named() {
        let mut m = mla();
        m.as_object_mut().unwrap().remove("summary_of_facts");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("summary_of_facts")
        );
        let mut m = mla();
        m["requesting_authority"]["email"] = json!("not-an-address");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("requesting_authority.email")
        );
        let mut m = mla();
        m["offence"]["id"] = json!("jaywalking");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("offence")
        );
        let mut m = mla();
        m["urgency"] = json!("urgent");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("urgency_reasons")
        );
        let mut m = mla();
        m["request_type"] = json!("extension");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("earlier_case")
        );
        let mut m = mla();
        m["preferred_channel"] = json!("pigeon");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("pigeon")
        );
        let mut m = mla();
        m["requested_authority"]["time_zone"] = json!("Mars/Olympus");
        assert!(
            MlaRequest::check(&m)
                .unwrap_err()
                .to_string()
                .contains("time_zone")
        );
    }

    #[test]
    fn preservation_needs_sixty_days_and_an_mla_to_follow() {
        let p = json!({
            "requesting_authority": authority(), "offence": {"id": "illegal-access"},
            "summary_of_facts": "Intrusion into a hospital network.", "data_sought": ["traffic_data"],
            "data_description": "Connection logs of server 203.0.113.5", "relation_to_offence": "The intruder connected from it.",
            "custodian": "Hosting provider X, Moscow", "necessity": "Logs are deleted after 30 days.", "mla_to_follow": true
        });
        assert_eq!(
            PreservationRequest::check(&p).unwrap().preservation_days,
            60
        );
        let mut short = p.clone();
        short["preservation_days"] = json!(30);
        assert!(
            PreservationRequest::check(&short)
                .unwrap_err()
                .to_string()
                .contains("preservation_days")
        );
        let mut no_mla = p.clone();
        no_mla["mla_to_follow"] = json!(false);
        assert!(
            PreservationRequest::check(&no_mla)
                .unwrap_err()
                .to_string()
                .contains("mla_to_follow")
        );
    }

    #[test]
    fn transitions_carry_what_their_action_needs() {
        let parent = "a".repeat(64);
        assert!(TransitionBody::check(&json!({"action": "acknowledge", "parent": parent})).is_ok());
        assert!(
            TransitionBody::check(&json!({"action": "refuse", "parent": parent, "text": "x"}))
                .unwrap_err()
                .to_string()
                .contains("ground")
        );
        assert!(
            TransitionBody::check(&json!({"action": "extend", "parent": parent}))
                .unwrap_err()
                .to_string()
                .contains("days")
        );
        assert!(
            TransitionBody::check(&json!({"action": "acknowledge", "parent": "short"}))
                .unwrap_err()
                .to_string()
                .contains("parent")
        );
        assert!(TransitionBody::check(&json!({"action": "fly", "parent": parent})).is_err());
    }
}
