//! Terrorist-content reports to providers: items (URLs, file hashes, PDQ
//! image hashes) with labels and an urgency tier, the provider's answer per
//! item, and the shared hash lists built from agreed items.
//!
//! Item statuses: `alerted` (sent) → `checked` → `removed` / `still_online`
//! / `disputed` (with a reason). Only the party a report is addressed to
//! answers; `removed` is final. Every answer is a signed `item_status`
//! envelope in the thread, applied in (created, hash) order, so both nodes
//! derive the same statuses.

use serde::{Deserialize, Serialize};

use crate::body::{Authority, bad, check_authority, labelled_enum, need, optional, parse};
use crate::pdq::{MIN_MATCH_QUALITY, PdqHash};
use crate::tlp::Tlp;
use crate::{CoreError, FieldProblem};

/// Envelope kind of an answer about items of a content report.
pub const ITEM_STATUS: &str = "item_status";
/// Envelope kind of a change to the sender's shared hash list.
pub const HASH_LIST: &str = "hashlist";
/// Most items one report (or one answer, or one hash-list change) carries.
pub const MAX_ITEMS: usize = 1000;

labelled_enum!(
    /// What an item is.
    ItemType {
        Url = "url", "URL", "URL-адрес";
        Md5 = "md5", "File MD5", "MD5 файла";
        Sha256 = "sha256", "File SHA-256", "SHA-256 файла";
        Pdq = "pdq", "PDQ image hash", "Хеш изображения PDQ";
    }
);

labelled_enum!(
    /// What the content does (the labels hash-sharing programmes use).
    Behaviour {
        Incitement = "incitement", "Incitement to violence", "Подстрекательство к насилию";
        Recruitment = "recruitment", "Recruitment", "Вербовка";
        Glorification = "glorification", "Glorification of terrorist acts", "Прославление террористических актов";
        Instruction = "instruction", "Instructional material (weapons, attacks)", "Инструкции (оружие, нападения)";
        GraphicViolence = "graphic_violence", "Graphic violence against defenceless people", "Сцены насилия над беззащитными людьми";
        Threat = "threat", "Threat of an attack", "Угроза нападения";
        Financing = "financing", "Financing of terrorism", "Финансирование терроризма";
        Other = "other", "Other terrorist content", "Иные террористические материалы";
    }
);

labelled_enum!(
    /// How fast the item must come down.
    UrgencyTier {
        RemovalOrder = "removal_order", "Removal order (1 hour)", "Предписание об удалении (1 час)";
        Crisis = "crisis", "Crisis protocol", "Кризисный протокол";
        Priority = "priority", "Priority", "Приоритетный";
        Standard = "standard", "Standard", "Обычный";
    }
);

labelled_enum!(
    /// Where an item stands at the provider.
    ItemStatus {
        Alerted = "alerted", "alerted", "направлено";
        Checked = "checked", "checked", "проверено";
        Removed = "removed", "removed", "удалено";
        StillOnline = "still_online", "still online", "всё ещё доступно";
        Disputed = "disputed", "disputed", "оспорено";
    }
);

impl ItemStatus {
    /// Whether the provider has given its final word on the item (no timer runs).
    pub fn is_answered(self) -> bool {
        matches!(self, ItemStatus::Removed | ItemStatus::Disputed)
    }

    /// Whether an item may move from `self` to `to`.
    pub fn check_move(self, to: ItemStatus) -> Result<(), String> {
        let ok = self != ItemStatus::Removed
            && to != ItemStatus::Alerted
            && to != self
            && (to != ItemStatus::Checked || self == ItemStatus::Alerted);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "an item that is {} cannot become {}",
                self.as_str(),
                to.as_str()
            ))
        }
    }
}

/// One reported item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentItem {
    #[serde(rename = "type")]
    pub kind: ItemType,
    pub value: String,
    /// PDQ items: the hash's quality (0–100), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// The organisation the content is attributed to.
    #[serde(default)]
    pub entity: String,
    pub behaviour: Behaviour,
    pub urgency: UrgencyTier,
    #[serde(default)]
    pub description: String,
}

/// Checks an item's value for its type; returns the normalised value
/// (lower-case hex for hashes).
pub fn check_value(field: &str, kind: ItemType, value: &str) -> Result<String, CoreError> {
    let v = value.trim();
    let hex = |n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_hexdigit());
    let ok = match kind {
        ItemType::Url => {
            (v.starts_with("http://") || v.starts_with("https://"))
                && v.len() > 8
                && v.len() <= 2048
                && !v.contains(char::is_whitespace)
        }
        ItemType::Md5 => hex(32),
        ItemType::Sha256 => hex(64),
        ItemType::Pdq => PdqHash::parse(v).is_ok(),
    };
    if !ok {
        return Err(bad(
            field,
            format!(
                "{field} {:?} is not a valid {}",
                v.chars().take(100).collect::<String>(),
                kind.label("en")
            ),
        ));
    }
    Ok(match kind {
        ItemType::Url => v.to_owned(),
        _ => v.to_ascii_lowercase(),
    })
}

impl ContentItem {
    fn check(&self, field: &str) -> Result<(), CoreError> {
        let normal = check_value(&format!("{field}.value"), self.kind, &self.value)?;
        if normal != self.value {
            return Err(bad(
                &format!("{field}.value"),
                format!("{field}.value must be written as {normal:?}"),
            ));
        }
        match (self.kind, self.quality) {
            (ItemType::Pdq, Some(q)) if q > 100 => {
                return Err(bad(
                    &format!("{field}.quality"),
                    format!("{field}.quality must be 0 to 100"),
                ));
            }
            (ItemType::Pdq, Some(q)) if q < MIN_MATCH_QUALITY => {
                return Err(bad(
                    &format!("{field}.quality"),
                    format!(
                        "{field}.quality is {q}: PDQ hashes below {MIN_MATCH_QUALITY} are too unreliable to match on"
                    ),
                ));
            }
            (ItemType::Pdq, _) | (_, None) => {}
            (_, Some(_)) => {
                return Err(bad(
                    &format!("{field}.quality"),
                    format!("{field}.quality applies only to PDQ hashes"),
                ));
            }
        }
        optional(&format!("{field}.entity"), &self.entity, 200)?;
        optional(&format!("{field}.description"), &self.description, 2000)
    }
}

/// A report of terrorist content sent to a provider's authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentReport {
    pub title: String,
    /// The referral unit sending the report, and its contact person.
    pub reporting_unit: Authority,
    /// The provider or service the items are on.
    pub provider: String,
    /// TLP marking (label or STIX marking-definition id).
    pub tlp: String,
    #[serde(default)]
    pub legal_basis: String,
    pub items: Vec<ContentItem>,
}

impl ContentReport {
    pub fn check(body: &serde_json::Value) -> Result<(ContentReport, Tlp), CoreError> {
        let r: ContentReport = parse("content_report", body)?;
        need("title", &r.title, 200)?;
        check_authority("reporting_unit", &r.reporting_unit)?;
        need("provider", &r.provider, 200)?;
        let tlp = crate::tlp::Tlp::parse(&r.tlp).map_err(|e| bad("tlp", e.to_string()))?;
        optional("legal_basis", &r.legal_basis, 2000)?;
        if r.items.is_empty() {
            return Err(CoreError::field(
                "items",
                FieldProblem::Required,
                "items must list at least one URL or hash",
            ));
        }
        if r.items.len() > MAX_ITEMS {
            return Err(bad(
                "items",
                format!("a report carries at most {MAX_ITEMS} items"),
            ));
        }
        for (i, item) in r.items.iter().enumerate() {
            item.check(&format!("items[{i}]"))?;
        }
        Ok((r, tlp))
    }

    /// The most urgent tier among the items.
    pub fn most_urgent(&self) -> Option<UrgencyTier> {
        UrgencyTier::ALL
            .iter()
            .copied()
            .find(|t| self.items.iter().any(|i| i.urgency == *t))
    }
}

/// The provider's answer about one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemAnswer {
    /// Index of the item in the report (from 0).
    #[schema(value_type = u32)]
    pub item: usize,
    pub status: ItemStatus,
    /// Required when disputing; otherwise an optional note.
    #[serde(default)]
    pub reason: String,
}

/// Body of an `item_status` envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemStatusBody {
    pub answers: Vec<ItemAnswer>,
}

impl ItemStatusBody {
    pub fn check(body: &serde_json::Value) -> Result<ItemStatusBody, CoreError> {
        let b: ItemStatusBody = parse("item_status", body)?;
        if b.answers.is_empty() || b.answers.len() > MAX_ITEMS {
            return Err(bad(
                "answers",
                format!("answers must hold 1 to {MAX_ITEMS} item answers"),
            ));
        }
        for (i, a) in b.answers.iter().enumerate() {
            if a.status == ItemStatus::Alerted {
                return Err(bad(
                    &format!("answers[{i}].status"),
                    "an item cannot be answered as alerted",
                ));
            }
            if a.status == ItemStatus::Disputed {
                need(&format!("answers[{i}].reason"), &a.reason, 2000)?;
            } else {
                optional(&format!("answers[{i}].reason"), &a.reason, 2000)?;
            }
            if b.answers[..i].iter().any(|x| x.item == a.item) {
                return Err(bad(
                    &format!("answers[{i}].item"),
                    format!("item {} is answered twice", a.item),
                ));
            }
        }
        Ok(b)
    }
}

/// Where one item stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemState {
    pub status: ItemStatus,
    pub reason: String,
    /// When the last answer was given.
    pub at: Option<String>,
}

/// Checks an answer against the current statuses.
pub fn check_answers(states: &[ItemState], body: &ItemStatusBody) -> Result<(), CoreError> {
    for (i, a) in body.answers.iter().enumerate() {
        let Some(state) = states.get(a.item) else {
            return Err(bad(
                &format!("answers[{i}].item"),
                format!("the report has no item {}", a.item),
            ));
        };
        state.status.check_move(a.status).map_err(|m| {
            bad(
                &format!("answers[{i}].status"),
                format!("item {}: {m}", a.item),
            )
        })?;
    }
    Ok(())
}

/// Applies the answers of a thread, in order (`(created, body)`), to a
/// report of `items` items; answers that do not fit are skipped, as every
/// node skips them.
pub fn item_states<'a>(
    items: usize,
    answers: impl IntoIterator<Item = (&'a str, &'a ItemStatusBody)>,
) -> Vec<ItemState> {
    let mut states = vec![
        ItemState {
            status: ItemStatus::Alerted,
            reason: String::new(),
            at: None,
        };
        items
    ];
    for (created, body) in answers {
        if check_answers(&states, body).is_err() {
            continue;
        }
        for a in &body.answers {
            states[a.item] = ItemState {
                status: a.status,
                reason: a.reason.clone(),
                at: Some(created.to_owned()),
            };
        }
    }
    states
}

/// An entry of a party's shared hash list, as it travels between nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HashEntry {
    /// The owner's stable id for the entry (e.g. `<case>#<item>`).
    pub entry_id: String,
    #[serde(rename = "type")]
    pub kind: ItemType,
    pub value: String,
    #[serde(default)]
    pub entity: String,
    pub behaviour: Behaviour,
    pub urgency: UrgencyTier,
    /// The report the entry was agreed in.
    #[serde(default)]
    pub origin_case: String,
    /// The marking of that report: the entry is shown, matched and sent
    /// only where the report itself may go. An entry without one (from an
    /// older node) is treated as the strictest.
    #[serde(default = "strictest")]
    pub tlp: Tlp,
}

fn strictest() -> Tlp {
    Tlp::Red
}

/// Body of a `hashlist` envelope: additions to, or withdrawals from, the
/// sender's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum HashListBody {
    Add {
        entries: Vec<HashEntry>,
    },
    Withdraw {
        entry_ids: Vec<String>,
        reason: String,
    },
}

impl HashListBody {
    pub fn check(body: &serde_json::Value) -> Result<HashListBody, CoreError> {
        let b: HashListBody = parse("hashlist", body)?;
        let entry_id_ok = |id: &str| {
            !id.is_empty()
                && id.len() <= 200
                && id
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_#.:".contains(&c))
        };
        match &b {
            HashListBody::Add { entries } => {
                if entries.is_empty() || entries.len() > MAX_ITEMS {
                    return Err(bad(
                        "entries",
                        format!("entries must hold 1 to {MAX_ITEMS} hashes"),
                    ));
                }
                for (i, e) in entries.iter().enumerate() {
                    if !entry_id_ok(&e.entry_id) {
                        return Err(bad(
                            &format!("entries[{i}].entry_id"),
                            "an entry id is 1 to 200 letters, digits or -_#.:",
                        ));
                    }
                    if e.kind == ItemType::Url {
                        return Err(bad(
                            &format!("entries[{i}].type"),
                            "a hash list holds hashes (md5, sha256, pdq), not URLs",
                        ));
                    }
                    let normal = check_value(&format!("entries[{i}].value"), e.kind, &e.value)?;
                    if normal != e.value {
                        return Err(bad(
                            &format!("entries[{i}].value"),
                            "hash values are lower-case hex",
                        ));
                    }
                    optional(&format!("entries[{i}].entity"), &e.entity, 200)?;
                    optional(&format!("entries[{i}].origin_case"), &e.origin_case, 200)?;
                }
            }
            HashListBody::Withdraw { entry_ids, reason } => {
                if entry_ids.is_empty() || entry_ids.len() > MAX_ITEMS {
                    return Err(bad(
                        "entry_ids",
                        format!("entry_ids must hold 1 to {MAX_ITEMS} ids"),
                    ));
                }
                if let Some(i) = entry_ids.iter().position(|id| !entry_id_ok(id)) {
                    return Err(bad(
                        &format!("entry_ids[{i}]"),
                        "an entry id is 1 to 200 letters, digits or -_#.:",
                    ));
                }
                need("reason", reason, 2000)?;
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn report() -> serde_json::Value {
        json!({
            "title": "Recruitment videos",
            "reporting_unit": {"name": "Referral Unit", "contact_person": "A. Smith", "email": "iru@example.org"},
            "provider": "ExampleTube",
            "tlp": "amber",
            "items": [
                {"type": "url", "value": "https://video.example/watch?v=1", "behaviour": "recruitment", "urgency": "removal_order"},
                {"type": "pdq", "value": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "quality": 90,
                 "entity": "Group X", "behaviour": "glorification", "urgency": "standard"},
                {"type": "sha256", "value": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                 "behaviour": "instruction", "urgency": "priority"}
            ]
        })
    }

    #[test]
    fn a_report_checks_and_bad_items_are_named() {
        let (r, tlp) = ContentReport::check(&report()).unwrap();
        assert_eq!(tlp, Tlp::Amber);
        assert_eq!(r.most_urgent(), Some(UrgencyTier::RemovalOrder));
        for (path, value, field) in [
            ("/items/0/value", json!("ftp://x"), "items[0].value"),
            ("/items/1/value", json!("F8F8"), "items[1].value"),
            ("/items/1/quality", json!(30), "items[1].quality"),
            (
                "/items/2/value",
                json!("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),
                "items[2].value",
            ),
            ("/items/0/behaviour", json!("rumour"), "items.0.behaviour"),
            ("/items", json!([]), "items"),
        ] {
            let mut b = report();
            *b.pointer_mut(path).unwrap() = value;
            let e = ContentReport::check(&b).unwrap_err();
            assert!(
                matches!(&e, CoreError::Field { field: f, .. } if f == field),
                "{path}: {e:?}"
            );
        }
    }

    #[test]
    fn item_statuses_follow_the_answers_and_removed_is_final() {
        let a = |item, status, reason: &str| ItemStatusBody {
            answers: vec![ItemAnswer {
                item,
                status,
                reason: reason.into(),
            }],
        };
        let answers = [
            a(0, ItemStatus::Checked, ""),
            a(0, ItemStatus::Removed, ""),
            a(0, ItemStatus::StillOnline, ""), // skipped: removed is final
            a(1, ItemStatus::Disputed, "Satire, not glorification"),
            a(2, ItemStatus::StillOnline, ""),
            a(5, ItemStatus::Removed, ""), // skipped: no such item
        ];
        let states = item_states(3, answers.iter().map(|b| ("2026-11-23T10:00:00Z", b)));
        assert_eq!(states[0].status, ItemStatus::Removed);
        assert_eq!(states[1].status, ItemStatus::Disputed);
        assert_eq!(states[1].reason, "Satire, not glorification");
        assert_eq!(states[2].status, ItemStatus::StillOnline);
        assert!(check_answers(&states, &a(0, ItemStatus::Checked, "")).is_err());
        assert!(check_answers(&states, &a(2, ItemStatus::Checked, "")).is_err());
        assert!(check_answers(&states, &a(2, ItemStatus::Removed, "")).is_ok());
        assert!(
            ItemStatusBody::check(&json!({"answers": [{"item": 0, "status": "disputed"}]}))
                .is_err()
        );
        assert!(
            ItemStatusBody::check(&json!({"answers": [{"item": 0, "status": "alerted"}]})).is_err()
        );
        assert!(
            ItemStatusBody::check(&json!({"answers": [
            {"item": 0, "status": "removed"}, {"item": 0, "status": "checked"}]}))
            .is_err()
        );
    }

    #[test]
    fn hash_list_bodies_check() {
        let add = json!({"op": "add", "entries": [{"entry_id": "us-abc#1", "type": "pdq",
            "value": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
            "behaviour": "glorification", "urgency": "standard"}]});
        assert!(matches!(
            HashListBody::check(&add).unwrap(),
            HashListBody::Add { .. }
        ));
        let mut url = add.clone();
        url["entries"][0]["type"] = json!("url");
        assert!(HashListBody::check(&url).is_err());
        let w = json!({"op": "withdraw", "entry_ids": ["us-abc#1"], "reason": "Added by mistake"});
        assert!(HashListBody::check(&w).is_ok());
        assert!(
            HashListBody::check(&json!({"op": "withdraw", "entry_ids": ["a b"], "reason": "x"}))
                .is_err()
        );
        assert!(
            HashListBody::check(&json!({"op": "withdraw", "entry_ids": ["a"], "reason": ""}))
                .is_err()
        );
        assert!(HashListBody::check(&json!({"op": "drop"})).is_err());
    }
}
