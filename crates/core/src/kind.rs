//! Every kind of envelope, each with its typed body and its checks, and
//! the refusals a recipient answers with (stable codes). A node handles an
//! arriving envelope by matching on [`Body`]: adding a kind is a compile
//! error wherever it must be handled.

use crate::case::{BodySummary, CaseKind, TRANSITION, check_body};
use crate::content::{HASH_LIST, HashListBody, ITEM_STATUS, ItemStatusBody};
use crate::envelope::Envelope;
use crate::execution::{CheckedRelay, PRODUCTION, ProductionBody, RELAY, RelayBody};
use crate::glossary::{GLOSSARY, GlossaryBody};
use crate::incident::{UPDATE, UpdateBody};
use crate::keys::{KEY_CHANGE, KeyChangeNotice, key_change_case};
use crate::legal::TransitionBody;
use crate::order::{NOTICE, NoticeBody};
use crate::team::{
    ACCEPTANCE, AcceptanceBody, CheckedInvitation, CheckedThread, DEPARTURE, DepartureBody,
    INVITATION, InvitationBody, THREAD, ThreadBody,
};
use crate::tlp::Tlp;

/// The checked body of an envelope, by kind.
#[derive(Clone, Debug)]
pub enum Body {
    /// A case kind: the opening of a case (or, for notes, a reply in one).
    Case {
        kind: CaseKind,
        summary: BodySummary,
    },
    /// A lifecycle step of a case.
    Transition(TransitionBody),
    /// An update in an incident or hotline thread; `retag` is a new marking.
    Update {
        body: UpdateBody,
        retag: Option<Tlp>,
    },
    /// Answers about items of a content report.
    ItemStatus(ItemStatusBody),
    /// A change to the sender's hash list.
    HashList(HashListBody),
    /// A glossary event.
    Glossary(GlossaryBody),
    /// A provider's production in an execution case.
    Production(ProductionBody),
    /// A production relayed into the original case.
    Relay(Box<CheckedRelay>),
    /// A notified authority's notice about a production order.
    Notice(NoticeBody),
    /// An invitation into a joint team.
    Invitation(Box<CheckedInvitation>),
    /// An invitee's acceptance.
    Acceptance(AcceptanceBody),
    /// A member leaving a team.
    Departure(DepartureBody),
    /// A team's earlier thread handed to a new member.
    Thread(Box<CheckedThread>),
    /// The sender's keys change (checked against its pinned card on arrival).
    KeyChange(Box<KeyChangeNotice>),
}

impl Body {
    /// Checks an envelope's body against its kind (and the case id that
    /// kind requires).
    pub fn check(e: &Envelope) -> Result<Body, Refusal> {
        let bad = |err: crate::CoreError| Refusal::new(RefusalCode::BadEnvelope, err.to_string());
        match e.kind.as_str() {
            PRODUCTION => Ok(Body::Production(ProductionBody::check(e).map_err(bad)?)),
            NOTICE => Ok(Body::Notice(NoticeBody::check(&e.body).map_err(bad)?)),
            INVITATION => Ok(Body::Invitation(Box::new(
                InvitationBody::check(e).map_err(bad)?,
            ))),
            ACCEPTANCE => Ok(Body::Acceptance(
                AcceptanceBody::check(&e.body).map_err(bad)?,
            )),
            DEPARTURE => Ok(Body::Departure(DepartureBody::check(&e.body).map_err(bad)?)),
            THREAD => Ok(Body::Thread(Box::new(ThreadBody::check(e).map_err(bad)?))),
            RELAY => Ok(Body::Relay(Box::new(RelayBody::check(e).map_err(bad)?))),
            KEY_CHANGE => {
                if e.case_id != key_change_case(&e.sender) {
                    return Err(Refusal::new(
                        RefusalCode::BadEnvelope,
                        format!("a key change's case_id must be {KEY_CHANGE}-<sender>"),
                    ));
                }
                let notice: KeyChangeNotice =
                    serde_json::from_value(e.body.clone()).map_err(|err| {
                        Refusal::new(
                            RefusalCode::BadEnvelope,
                            format!("the key change is not a signed statement: {err}"),
                        )
                    })?;
                Ok(Body::KeyChange(Box::new(notice)))
            }
            TRANSITION => Ok(Body::Transition(
                TransitionBody::check(&e.body).map_err(bad)?,
            )),
            UPDATE => {
                let (body, retag) = UpdateBody::check(&e.body).map_err(bad)?;
                Ok(Body::Update { body, retag })
            }
            ITEM_STATUS => Ok(Body::ItemStatus(
                ItemStatusBody::check(&e.body).map_err(bad)?,
            )),
            HASH_LIST => {
                let body = HashListBody::check(&e.body).map_err(bad)?;
                if e.case_id != format!("{HASH_LIST}-{}", e.sender) {
                    return Err(Refusal::new(
                        RefusalCode::BadEnvelope,
                        format!("a hash-list envelope's case_id must be {HASH_LIST}-<sender>"),
                    ));
                }
                Ok(Body::HashList(body))
            }
            GLOSSARY => {
                let body = GlossaryBody::check(&e.body).map_err(bad)?;
                if e.case_id != format!("glossary-{}", body.term()) {
                    return Err(Refusal::new(
                        RefusalCode::BadEnvelope,
                        "a glossary envelope's case_id must be glossary-<term>",
                    ));
                }
                Ok(Body::Glossary(body))
            }
            other => {
                let kind = CaseKind::parse(other).map_err(bad)?;
                // An order goes to its provider, and to the authority
                // notified of it if there is one.
                let most = if kind == CaseKind::ProductionOrder {
                    1
                } else {
                    0
                };
                if e.also_to.len() > most && !kind.takes_many_recipients() {
                    return Err(Refusal::new(
                        RefusalCode::BadEnvelope,
                        format!("a {} goes to one party, not to several", kind.as_str()),
                    ));
                }
                let summary = check_body(kind, &e.body).map_err(bad)?;
                Ok(Body::Case { kind, summary })
            }
        }
    }
}

/// The label of an envelope kind that continues a case (case kinds label
/// themselves: `CaseKind::label`).
pub fn envelope_label(kind: &str, lang: &str) -> Option<&'static str> {
    let ru = lang == "ru";
    let (en, ru_label) = match kind {
        PRODUCTION => ("production of data", "выдача данных"),
        RELAY => (
            "production relayed unchanged",
            "выдача, пересланная без изменений",
        ),
        NOTICE => (
            "notice of the notified authority",
            "ответ уведомляемого органа",
        ),
        INVITATION => ("invitation into the team", "приглашение в группу"),
        ACCEPTANCE => ("invitation accepted", "приглашение принято"),
        DEPARTURE => ("left the team", "выход из группы"),
        THREAD => (
            "earlier thread handed over",
            "передача предыдущей переписки",
        ),
        UPDATE => ("update", "дополнение"),
        ITEM_STATUS => ("answers about items", "ответы по материалам"),
        TRANSITION => ("lifecycle step", "шаг рассмотрения"),
        _ => return None,
    };
    Some(if ru { ru_label } else { en })
}

/// Why a recipient refused an envelope: the code travels in the answer and
/// is recorded with the refusal; it never changes once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefusalCode {
    WrongSender,
    WrongRecipient,
    BadEnvelope,
    ReplayedWithChanges,
    WrongCase,
    UnknownCase,
    IllegalTransition,
    OpeningInCase,
    FromTheFuture,
    BeforeParent,
    /// The recipient's kind of party does not take cases of this kind.
    NotAccepted,
    /// Not a refusal but "not yet": the recipient does not hold the case or
    /// the envelope this one follows (another participant sends it), so it
    /// records nothing now and the sender delivers it again later.
    NotYet,
    Internal,
}

impl RefusalCode {
    pub const ALL: [RefusalCode; 13] = [
        RefusalCode::WrongSender,
        RefusalCode::WrongRecipient,
        RefusalCode::BadEnvelope,
        RefusalCode::ReplayedWithChanges,
        RefusalCode::WrongCase,
        RefusalCode::UnknownCase,
        RefusalCode::IllegalTransition,
        RefusalCode::OpeningInCase,
        RefusalCode::FromTheFuture,
        RefusalCode::BeforeParent,
        RefusalCode::NotAccepted,
        RefusalCode::NotYet,
        RefusalCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::WrongSender => "wrong_sender",
            RefusalCode::WrongRecipient => "wrong_recipient",
            RefusalCode::BadEnvelope => "bad_envelope",
            RefusalCode::ReplayedWithChanges => "replayed_with_changes",
            RefusalCode::WrongCase => "wrong_case",
            RefusalCode::UnknownCase => "unknown_case",
            RefusalCode::IllegalTransition => "illegal_transition",
            RefusalCode::OpeningInCase => "opening_in_case",
            RefusalCode::FromTheFuture => "from_the_future",
            RefusalCode::BeforeParent => "before_parent",
            RefusalCode::NotAccepted => "not_accepted",
            RefusalCode::NotYet => "not_yet",
            RefusalCode::Internal => "internal",
        }
    }
}

/// A refusal: its code and a sentence (bounded: it may quote input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: crate::bounded(message.into()),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn envelope(kind: &str, case: &str, body: Value) -> Envelope {
        Envelope {
            id: "0".repeat(32),
            sender: "us".into(),
            recipient: "ru".into(),
            also_to: Vec::new(),
            kind: kind.into(),
            case_id: case.into(),
            created: "2026-12-01T00:00:00Z".into(),
            body,
            attachments: vec![],
        }
    }

    #[test]
    fn each_kind_checks_its_body_and_case_id() {
        let note = serde_json::json!({"subject": "s", "text": "t"});
        assert!(matches!(
            Body::check(&envelope("note", "us-1", note.clone())),
            Ok(Body::Case {
                kind: CaseKind::Note,
                ..
            })
        ));
        let e = Body::check(&envelope("nonsense", "us-1", note.clone())).unwrap_err();
        assert_eq!(e.code, RefusalCode::BadEnvelope);
        let e = Body::check(&envelope(
            HASH_LIST,
            "hashlist-ru",
            serde_json::json!({"op": "withdraw", "entry_ids": ["a"], "reason": "r"}),
        ))
        .unwrap_err();
        assert_eq!(e.code, RefusalCode::BadEnvelope, "{e}");
        assert!(
            Body::check(&envelope(
                HASH_LIST,
                "hashlist-us",
                serde_json::json!({"op": "withdraw", "entry_ids": ["a"], "reason": "r"})
            ))
            .is_ok()
        );
        let codes: std::collections::HashSet<&str> =
            RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes.len(), RefusalCode::ALL.len());
    }
}
