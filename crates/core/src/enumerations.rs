//! Every enumeration of the typed bodies with its values and labels in
//! both languages, for forms and API clients.

use crate::legal::{
    AssistanceType, Channel, DataCategory, LegalBasis, RefusalGround, RequestType, RiskType,
    Urgency,
};

/// A value of an enumeration: (wire value, English label, Russian label).
pub type EnumValue = (&'static str, &'static str, &'static str);

/// Every enumeration with its values and labels (for forms and API clients).
pub fn all() -> Vec<(&'static str, Vec<EnumValue>)> {
    fn list<T: Copy>(
        all: &[T],
        s: fn(T) -> &'static str,
        l: fn(T, &str) -> &'static str,
    ) -> Vec<EnumValue> {
        all.iter()
            .map(|v| (s(*v), l(*v, "en"), l(*v, "ru")))
            .collect()
    }
    vec![
        (
            "data_category",
            list(DataCategory::ALL, DataCategory::as_str, DataCategory::label),
        ),
        (
            "severity",
            list(
                crate::incident::Severity::ALL,
                crate::incident::Severity::as_str,
                crate::incident::Severity::label,
            ),
        ),
        (
            "incident_request",
            list(
                crate::incident::IncidentRequest::ALL,
                crate::incident::IncidentRequest::as_str,
                crate::incident::IncidentRequest::label,
            ),
        ),
        (
            "indicator_type",
            list(
                crate::incident::IndicatorType::ALL,
                crate::incident::IndicatorType::as_str,
                crate::incident::IndicatorType::label,
            ),
        ),
        (
            "item_type",
            list(
                crate::content::ItemType::ALL,
                crate::content::ItemType::as_str,
                crate::content::ItemType::label,
            ),
        ),
        (
            "behaviour",
            list(
                crate::content::Behaviour::ALL,
                crate::content::Behaviour::as_str,
                crate::content::Behaviour::label,
            ),
        ),
        (
            "urgency_tier",
            list(
                crate::content::UrgencyTier::ALL,
                crate::content::UrgencyTier::as_str,
                crate::content::UrgencyTier::label,
            ),
        ),
        (
            "item_status",
            list(
                crate::content::ItemStatus::ALL,
                crate::content::ItemStatus::as_str,
                crate::content::ItemStatus::label,
            ),
        ),
        (
            "tlp",
            crate::tlp::ALL_LEVELS
                .iter()
                .map(|t| (t.as_str(), t.label_in("en"), t.label_in("ru")))
                .collect(),
        ),
        (
            "urgency",
            list(Urgency::ALL, Urgency::as_str, Urgency::label),
        ),
        (
            "request_type",
            list(RequestType::ALL, RequestType::as_str, RequestType::label),
        ),
        (
            "channel",
            list(Channel::ALL, Channel::as_str, Channel::label),
        ),
        (
            "legal_basis",
            list(LegalBasis::ALL, LegalBasis::as_str, LegalBasis::label),
        ),
        (
            "assistance_type",
            list(
                AssistanceType::ALL,
                AssistanceType::as_str,
                AssistanceType::label,
            ),
        ),
        (
            "risk_type",
            list(RiskType::ALL, RiskType::as_str, RiskType::label),
        ),
        (
            "refusal_ground",
            list(
                RefusalGround::ALL,
                RefusalGround::as_str,
                RefusalGround::label,
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enumeration_has_both_labels() {
        for (name, values) in all() {
            for (v, en, ru) in values {
                assert!(!en.is_empty() && !ru.is_empty(), "{name}.{v}");
                assert!(
                    ru.chars()
                        .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c)))
                        || v == "liaison",
                    "{name}.{v} Russian label {ru:?}"
                );
            }
        }
    }
}
