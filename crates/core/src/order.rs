//! Direct production orders (Second Additional Protocol art. 7, the EU's
//! e-Evidence orders): an authority orders a provider in another
//! jurisdiction to produce data. Where the provider's jurisdiction requires
//! it (a setting on its authority's card), the order goes to that
//! authority at the same time as a participant; its node confirms receipt
//! with a `notice`, which opens the objection window, and the authority may
//! object with grounds (or consent) within it. The provider discloses only
//! once the window has passed without objection, or after consent.

use jiff::{Timestamp, ToSpan as _};
use liaison_proto::CardNotification;
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::body::{
    Authority, bad, check_authority, labelled_enum, need, optional, parse, time_or_date,
};
use crate::legal::{DataCategory, OffenceRef};

/// Envelope kind of the notified authority's notices in an order's case.
pub const NOTICE: &str = "notice";

/// The longest objection window an authority may state (90 days).
pub const MAX_WINDOW_SECS: u32 = 90 * 24 * 3600;

/// The data categories a direct order asks for.
pub const ORDER_CATEGORIES: [DataCategory; 3] = [
    DataCategory::SubscriberInformation,
    DataCategory::TrafficData,
    DataCategory::ContentData,
];

/// A direct order to a provider in another jurisdiction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionOrder {
    /// The issuing authority's reference.
    pub reference_number: String,
    pub issuing_authority: Authority,
    /// `subscriber_information`, `traffic_data` or `content_data`.
    pub data_category: DataCategory,
    /// Risk to life or safety: hours, not days.
    #[serde(default)]
    pub emergency: bool,
    /// Required in an emergency.
    #[serde(default)]
    pub emergency_reasons: String,
    /// Accounts, addresses or other identifiers the order concerns (1 to 50).
    pub identifiers: Vec<String>,
    /// The period the data should cover (RFC 3339 times or dates; optional).
    #[serde(default)]
    pub period_from: String,
    #[serde(default)]
    pub period_to: String,
    pub offence: OffenceRef,
    /// The law the order is issued under.
    pub legal_basis: String,
    pub summary_of_facts: String,
}

impl ProductionOrder {
    pub fn check(body: &serde_json::Value) -> Result<ProductionOrder, CoreError> {
        let o: ProductionOrder = parse("production order", body)?;
        need("reference_number", &o.reference_number, 200)?;
        check_authority("issuing_authority", &o.issuing_authority)?;
        if !ORDER_CATEGORIES.contains(&o.data_category) {
            return Err(bad(
                "data_category",
                "a production order asks for subscriber_information, traffic_data or content_data",
            ));
        }
        if o.emergency {
            need("emergency_reasons", &o.emergency_reasons, 5_000)?;
        } else {
            optional("emergency_reasons", &o.emergency_reasons, 5_000)?;
        }
        if o.identifiers.is_empty() || o.identifiers.len() > 50 {
            return Err(bad("identifiers", "an order names 1 to 50 identifiers"));
        }
        for id in &o.identifiers {
            need("identifiers", id, 500)?;
        }
        for (field, value) in [("period_from", &o.period_from), ("period_to", &o.period_to)] {
            if !value.is_empty() {
                time_or_date(field, value)?;
            }
        }
        crate::offences::OFFENCES
            .require(&o.offence.id)
            .map_err(|e| bad("offence.id", format!("offence: {e}")))?;
        optional("offence.description", &o.offence.description, 1_000)?;
        need("legal_basis", &o.legal_basis, 2_000)?;
        need("summary_of_facts", &o.summary_of_facts, 20_000)?;
        Ok(o)
    }
}

labelled_enum! {
    /// What a notified authority says about an order.
    NoticeAnswer {
        Received = "received", "Notification received", "Уведомление получено";
        NoObjection = "no_objection", "No objection", "Возражений нет";
        Objection = "objection", "Objection", "Возражение";
    }
}

/// A notified authority's notice in an order's case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    pub answer: NoticeAnswer,
    /// `received`: the seconds the authority has to object from this notice.
    #[serde(default)]
    pub window_secs: Option<u32>,
    /// Required for an objection; optional otherwise.
    #[serde(default)]
    pub grounds: String,
}

impl NoticeBody {
    pub fn check(body: &serde_json::Value) -> Result<NoticeBody, CoreError> {
        let n: NoticeBody = parse("notice", body)?;
        match (n.answer, n.window_secs) {
            (NoticeAnswer::Received, Some(h)) if (1..=MAX_WINDOW_SECS).contains(&h) => {}
            (NoticeAnswer::Received, _) => {
                return Err(bad(
                    "window_secs",
                    format!("a received notice states a window of 1 to {MAX_WINDOW_SECS} seconds"),
                ));
            }
            (_, Some(_)) => {
                return Err(bad(
                    "window_secs",
                    "only a received notice states the window",
                ));
            }
            _ => {}
        }
        if n.answer == NoticeAnswer::Objection {
            need("grounds", &n.grounds, 5_000)?;
        } else {
            optional("grounds", &n.grounds, 5_000)?;
        }
        Ok(n)
    }
}

/// Checks the notification setting of an authority's card.
pub fn check_notification(n: &CardNotification) -> Result<(), CoreError> {
    if n.categories.is_empty() {
        return Err(CoreError::invalid(
            "notification must name at least one data category",
        ));
    }
    for c in &n.categories {
        if !ORDER_CATEGORIES.iter().any(|k| k.as_str() == c) {
            return Err(CoreError::invalid(format!(
                "notification category {c:?} is not subscriber_information, traffic_data or content_data"
            )));
        }
    }
    if !(1..=MAX_WINDOW_SECS).contains(&n.objection_window_secs) {
        return Err(CoreError::invalid(format!(
            "objection_window_secs must be 1 to {MAX_WINDOW_SECS}"
        )));
    }
    Ok(())
}

/// Whether an authority's setting asks to be notified of orders for `category`.
pub fn requires_notice(n: Option<&CardNotification>, category: DataCategory) -> bool {
    n.is_some_and(|n| n.categories.iter().any(|c| c == category.as_str()))
}

/// A notice as a node holds it: who signed it, when, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldNotice {
    pub sender: String,
    pub created: Timestamp,
    pub body: NoticeBody,
}

/// Where disclosure under an order stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Disclosure {
    /// No authority is notified of this order.
    NotRequired,
    /// The notified authority has not confirmed receipt yet.
    AwaitingNotice { authority: String },
    /// It may still object, until `until`.
    WindowOpen { authority: String, until: String },
    /// It objected: the provider does not disclose.
    Objected {
        authority: String,
        at: String,
        grounds: String,
    },
    /// It consented, or the window passed without objection.
    Cleared { authority: String, at: String },
}

impl Disclosure {
    /// Whether the provider may disclose now.
    pub fn allows(&self) -> bool {
        matches!(self, Disclosure::NotRequired | Disclosure::Cleared { .. })
    }

    pub fn label(&self, lang: &str) -> &'static str {
        let ru = lang == "ru";
        match self {
            Disclosure::NotRequired if ru => "уведомление не требуется",
            Disclosure::NotRequired => "no notification required",
            Disclosure::AwaitingNotice { .. } if ru => "ожидается подтверждение уведомления",
            Disclosure::AwaitingNotice { .. } => "awaiting confirmation of the notification",
            Disclosure::WindowOpen { .. } if ru => "идёт срок для возражений",
            Disclosure::WindowOpen { .. } => "objection window open",
            Disclosure::Objected { .. } if ru => "заявлено возражение: раскрытие запрещено",
            Disclosure::Objected { .. } => "objected: no disclosure",
            Disclosure::Cleared { .. } if ru => "раскрытие разрешено",
            Disclosure::Cleared { .. } => "disclosure cleared",
        }
    }
}

/// Where disclosure stands at `at`, from the notices held: only the
/// notified authority's count; the window runs from its first `received`
/// notice; its first decision (objection or consent) made within the
/// window is final, and one made after it counts for nothing.
pub fn disclosure(notified: Option<&str>, notices: &[HeldNotice], at: Timestamp) -> Disclosure {
    let Some(authority) = notified else {
        return Disclosure::NotRequired;
    };
    let theirs = || notices.iter().filter(|n| n.sender == authority);
    let Some((received, secs)) = theirs()
        .filter_map(|n| n.body.window_secs.map(|w| (n.created, w)))
        .min_by_key(|(created, _)| *created)
    else {
        return Disclosure::AwaitingNotice {
            authority: authority.to_owned(),
        };
    };
    let until = received
        .checked_add(i64::from(secs).seconds())
        .unwrap_or(received);
    let decision = theirs()
        .filter(|n| n.body.answer != NoticeAnswer::Received && n.created <= until)
        .min_by_key(|n| n.created);
    match decision {
        Some(n) if n.body.answer == NoticeAnswer::Objection && n.created <= at => {
            Disclosure::Objected {
                authority: authority.to_owned(),
                at: n.created.to_string(),
                grounds: n.body.grounds.clone(),
            }
        }
        Some(n) if n.created <= at => Disclosure::Cleared {
            authority: authority.to_owned(),
            at: n.created.to_string(),
        },
        _ if at >= until => Disclosure::Cleared {
            authority: authority.to_owned(),
            at: until.to_string(),
        },
        _ => Disclosure::WindowOpen {
            authority: authority.to_owned(),
            until: until.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> serde_json::Value {
        json!({
            "reference_number": "US-DOJ-2026-77",
            "issuing_authority": {"name": "DOJ", "contact_person": "J. Smith", "email": "oia@usdoj.example"},
            "data_category": "subscriber_information",
            "identifiers": ["user@ru-isp.example"],
            "offence": {"id": "illegal-access"},
            "legal_basis": "18 U.S.C. 2703(d)",
            "summary_of_facts": "Intrusion into a hospital network."
        })
    }

    #[test]
    fn orders_are_checked_field_by_field() {
        assert!(ProductionOrder::check(&order()).is_ok());
        let mut o = order();
        o["data_category"] = json!("other");
        let e = ProductionOrder::check(&o).unwrap_err();
        assert!(format!("{e:?}").contains("data_category"), "{e}");
        let mut o = order();
        o["emergency"] = json!(true);
        let e = ProductionOrder::check(&o).unwrap_err();
        assert!(format!("{e:?}").contains("emergency_reasons"), "{e}");
        let mut o = order();
        o["identifiers"] = json!([]);
        assert!(ProductionOrder::check(&o).is_err());
        let mut o = order();
        o["period_from"] = json!("yesterday");
        assert!(ProductionOrder::check(&o).is_err());
        let e = NoticeBody::check(&json!({"answer": "objection"})).unwrap_err();
        assert!(format!("{e:?}").contains("grounds"), "{e}");
        assert!(NoticeBody::check(&json!({"answer": "received"})).is_err());
        assert!(NoticeBody::check(&json!({"answer": "received", "window_secs": 345_600})).is_ok());
        assert!(
            NoticeBody::check(&json!({"answer": "no_objection", "window_secs": 345_600})).is_err()
        );
    }

    fn notice(sender: &str, at: &str, answer: NoticeAnswer, window: Option<u32>) -> HeldNotice {
        HeldNotice {
            sender: sender.into(),
            created: at.parse().unwrap(),
            body: NoticeBody {
                answer,
                window_secs: window,
                grounds: "grounds".into(),
            },
        }
    }

    #[test]
    fn the_window_opens_on_receipt_and_the_first_decision_in_it_is_final() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            disclosure(None, &[], t("2026-01-01T00:00:00Z")),
            Disclosure::NotRequired
        );
        let mut held = vec![];
        assert!(matches!(
            disclosure(Some("ru"), &held, t("2026-01-05T00:00:00Z")),
            Disclosure::AwaitingNotice { .. }
        ));
        // Another party's notice counts for nothing.
        held.push(notice(
            "us",
            "2026-01-01T00:00:00Z",
            NoticeAnswer::Received,
            Some(3600),
        ));
        assert!(!disclosure(Some("ru"), &held, t("2026-01-05T00:00:00Z")).allows());
        held.push(notice(
            "ru",
            "2026-01-01T00:00:00Z",
            NoticeAnswer::Received,
            Some(48 * 3600),
        ));
        assert!(matches!(
            disclosure(Some("ru"), &held, t("2026-01-02T00:00:00Z")),
            Disclosure::WindowOpen { .. }
        ));
        assert!(disclosure(Some("ru"), &held, t("2026-01-03T00:00:00Z")).allows());
        // An objection within the window stops it from when it was made.
        let mut objected = held.clone();
        objected.push(notice(
            "ru",
            "2026-01-02T12:00:00Z",
            NoticeAnswer::Objection,
            None,
        ));
        objected.push(notice(
            "ru",
            "2026-01-02T13:00:00Z",
            NoticeAnswer::NoObjection,
            None,
        ));
        assert!(!disclosure(Some("ru"), &objected, t("2026-01-02T11:00:00Z")).allows());
        assert!(matches!(
            disclosure(Some("ru"), &objected, t("2026-01-09T00:00:00Z")),
            Disclosure::Objected { .. }
        ));
        // One made after the window counts for nothing.
        let mut late = held.clone();
        late.push(notice(
            "ru",
            "2026-01-04T00:00:00Z",
            NoticeAnswer::Objection,
            None,
        ));
        assert!(disclosure(Some("ru"), &late, t("2026-01-05T00:00:00Z")).allows());
        // Consent clears it early.
        let mut consent = held;
        consent.push(notice(
            "ru",
            "2026-01-01T01:00:00Z",
            NoticeAnswer::NoObjection,
            None,
        ));
        assert!(disclosure(Some("ru"), &consent, t("2026-01-01T02:00:00Z")).allows());
    }
}
