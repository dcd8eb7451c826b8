//! The one lifecycle of legal-assistance cases, shared by both parties
//! because every transition is a signed envelope in the case thread.
//!
//! ```text
//! sent → delivered → acknowledged → under_review ⇄ clarification_requested → clarification_provided
//!      → in_execution → partially_executed / executed → closed
//! refused (with grounds) by the requested party; withdrawn by the requesting party;
//! expired (preservation period over, declared by the requested party's node).
//! ```
//!
//! Each transition names the envelope it follows (`parent`). When both
//! parties act at once, the thread forks; every node resolves a fork the
//! same way (the child with the smallest envelope hash wins), so both nodes
//! always compute the same state from the same envelopes.

use serde::{Deserialize, Serialize};

use crate::CoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Sent,
    Delivered,
    Acknowledged,
    UnderReview,
    ClarificationRequested,
    ClarificationProvided,
    InExecution,
    PartiallyExecuted,
    Executed,
    Closed,
    Refused,
    Withdrawn,
    Expired,
}

pub const ALL_STATES: [State; 13] = [
    State::Sent,
    State::Delivered,
    State::Acknowledged,
    State::UnderReview,
    State::ClarificationRequested,
    State::ClarificationProvided,
    State::InExecution,
    State::PartiallyExecuted,
    State::Executed,
    State::Closed,
    State::Refused,
    State::Withdrawn,
    State::Expired,
];

/// Where a case stands: a thread without a lifecycle (a note) is open; a
/// legal case is in a state of its lifecycle. Stored and sent by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseState {
    Open,
    Lifecycle(State),
}

impl CaseState {
    pub const OPEN: &'static str = "open";

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => CaseState::OPEN,
            CaseState::Lifecycle(s) => s.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        if s == CaseState::OPEN {
            return Some(CaseState::Open);
        }
        State::parse(s).map(CaseState::Lifecycle)
    }

    /// The lifecycle state, for a legal case.
    pub fn lifecycle(self) -> Option<State> {
        match self {
            CaseState::Open => None,
            CaseState::Lifecycle(s) => Some(s),
        }
    }

    /// A legal case that no transition leaves (an open thread never is).
    pub fn is_terminal(self) -> bool {
        self.lifecycle().is_some_and(State::is_terminal)
    }
}

impl std::fmt::Display for CaseState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Sent => "sent",
            State::Delivered => "delivered",
            State::Acknowledged => "acknowledged",
            State::UnderReview => "under_review",
            State::ClarificationRequested => "clarification_requested",
            State::ClarificationProvided => "clarification_provided",
            State::InExecution => "in_execution",
            State::PartiallyExecuted => "partially_executed",
            State::Executed => "executed",
            State::Closed => "closed",
            State::Refused => "refused",
            State::Withdrawn => "withdrawn",
            State::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        ALL_STATES.iter().copied().find(|st| st.as_str() == s)
    }

    /// No transition leaves a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Closed | State::Refused | State::Withdrawn | State::Expired
        )
    }

    pub fn label(self, lang: &str) -> &'static str {
        let ru = lang == "ru";
        match self {
            State::Sent => {
                if ru {
                    "отправлен"
                } else {
                    "sent"
                }
            }
            State::Delivered => {
                if ru {
                    "доставлен"
                } else {
                    "delivered"
                }
            }
            State::Acknowledged => {
                if ru {
                    "подтверждён получателем"
                } else {
                    "acknowledged"
                }
            }
            State::UnderReview => {
                if ru {
                    "на рассмотрении"
                } else {
                    "under review"
                }
            }
            State::ClarificationRequested => {
                if ru {
                    "запрошены уточнения"
                } else {
                    "clarification requested"
                }
            }
            State::ClarificationProvided => {
                if ru {
                    "уточнения предоставлены"
                } else {
                    "clarification provided"
                }
            }
            State::InExecution => {
                if ru {
                    "исполняется"
                } else {
                    "in execution"
                }
            }
            State::PartiallyExecuted => {
                if ru {
                    "исполнен частично"
                } else {
                    "partially executed"
                }
            }
            State::Executed => {
                if ru {
                    "исполнен"
                } else {
                    "executed"
                }
            }
            State::Closed => {
                if ru {
                    "закрыт"
                } else {
                    "closed"
                }
            }
            State::Refused => {
                if ru {
                    "отказано"
                } else {
                    "refused"
                }
            }
            State::Withdrawn => {
                if ru {
                    "отозван"
                } else {
                    "withdrawn"
                }
            }
            State::Expired => {
                if ru {
                    "срок истёк"
                } else {
                    "expired"
                }
            }
        }
    }
}

/// Who may take an action: the party that opened the case, or the one it
/// was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Requesting,
    Requested,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Acknowledge,
    StartReview,
    RequestClarification,
    ProvideClarification,
    StartExecution,
    ReportPartial,
    ReportExecuted,
    Close,
    Refuse,
    Withdraw,
    /// Preservation only: lengthen the preservation period.
    Extend,
    /// Preservation only: the period ran out (sent by the requested node on its own).
    Expire,
}

pub const ALL_ACTIONS: [Action; 12] = [
    Action::Acknowledge,
    Action::StartReview,
    Action::RequestClarification,
    Action::ProvideClarification,
    Action::StartExecution,
    Action::ReportPartial,
    Action::ReportExecuted,
    Action::Close,
    Action::Refuse,
    Action::Withdraw,
    Action::Extend,
    Action::Expire,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::StartReview => "start_review",
            Action::RequestClarification => "request_clarification",
            Action::ProvideClarification => "provide_clarification",
            Action::StartExecution => "start_execution",
            Action::ReportPartial => "report_partial",
            Action::ReportExecuted => "report_executed",
            Action::Close => "close",
            Action::Refuse => "refuse",
            Action::Withdraw => "withdraw",
            Action::Extend => "extend",
            Action::Expire => "expire",
        }
    }

    pub fn parse(s: &str) -> Result<Action, CoreError> {
        ALL_ACTIONS
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = ALL_ACTIONS.iter().map(|a| a.as_str()).collect();
                CoreError::invalid(format!(
                    "action {s:?} is not known (known: {})",
                    known.join(", ")
                ))
            })
    }

    pub fn actor(self) -> Actor {
        match self {
            Action::ProvideClarification | Action::Close | Action::Withdraw | Action::Extend => {
                Actor::Requesting
            }
            _ => Actor::Requested,
        }
    }

    pub fn label(self, lang: &str) -> &'static str {
        let ru = lang == "ru";
        match self {
            Action::Acknowledge => {
                if ru {
                    "подтвердить получение"
                } else {
                    "acknowledge"
                }
            }
            Action::StartReview => {
                if ru {
                    "начать рассмотрение"
                } else {
                    "start review"
                }
            }
            Action::RequestClarification => {
                if ru {
                    "запросить уточнения"
                } else {
                    "request clarification"
                }
            }
            Action::ProvideClarification => {
                if ru {
                    "предоставить уточнения"
                } else {
                    "provide clarification"
                }
            }
            Action::StartExecution => {
                if ru {
                    "начать исполнение"
                } else {
                    "start execution"
                }
            }
            Action::ReportPartial => {
                if ru {
                    "сообщить о частичном исполнении"
                } else {
                    "report partial execution"
                }
            }
            Action::ReportExecuted => {
                if ru {
                    "сообщить об исполнении"
                } else {
                    "report execution"
                }
            }
            Action::Close => {
                if ru {
                    "закрыть"
                } else {
                    "close"
                }
            }
            Action::Refuse => {
                if ru {
                    "отказать"
                } else {
                    "refuse"
                }
            }
            Action::Withdraw => {
                if ru {
                    "отозвать"
                } else {
                    "withdraw"
                }
            }
            Action::Extend => {
                if ru {
                    "продлить сохранение"
                } else {
                    "extend preservation"
                }
            }
            Action::Expire => {
                if ru {
                    "срок сохранения истёк"
                } else {
                    "preservation expired"
                }
            }
        }
    }

    /// The state this action leads to from `from`, or why it is not allowed.
    pub fn apply(self, from: State, preservation: bool) -> Result<State, CoreError> {
        use State::*;
        let to = match (self, from) {
            (Action::Acknowledge, Sent | Delivered) => Some(Acknowledged),
            (Action::StartReview, Acknowledged | ClarificationProvided) => Some(UnderReview),
            (Action::RequestClarification, Acknowledged | UnderReview | InExecution) => {
                Some(ClarificationRequested)
            }
            (Action::ProvideClarification, ClarificationRequested) => Some(ClarificationProvided),
            (Action::StartExecution, Acknowledged | UnderReview | ClarificationProvided) => {
                Some(InExecution)
            }
            (Action::ReportPartial, InExecution | PartiallyExecuted) => Some(PartiallyExecuted),
            (Action::ReportExecuted, InExecution | PartiallyExecuted) => Some(Executed),
            (Action::Close, Executed | PartiallyExecuted) => Some(Closed),
            (
                Action::Refuse,
                Sent
                | Delivered
                | Acknowledged
                | UnderReview
                | ClarificationRequested
                | ClarificationProvided,
            ) => Some(Refused),
            (Action::Withdraw, s) if !s.is_terminal() && s != Executed => Some(Withdrawn),
            (Action::Extend, s) if preservation && !s.is_terminal() => Some(s),
            (Action::Expire, s) if preservation && !s.is_terminal() => Some(Expired),
            _ => None,
        };
        to.ok_or_else(|| {
            CoreError::invalid(format!(
                "{} is not allowed when the case is {}{}",
                self.as_str(),
                from.as_str(),
                if matches!(self, Action::Extend | Action::Expire) && !preservation {
                    " (only preservation requests are extended or expire)"
                } else {
                    ""
                }
            ))
        })
    }
}

/// One transition in a case thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Envelope hash of the transition.
    pub hash: String,
    /// Envelope hash it follows.
    pub parent: String,
    pub action: Action,
    /// `true` when the requested party sent it.
    pub by_requested: bool,
}

/// The state a thread has reached: walks from the opening envelope, taking
/// at each fork the valid child with the smallest hash. Returns the state
/// and the hashes of transitions on the winning chain (the others were
/// superseded by a concurrent action).
pub fn resolve(
    root: &str,
    delivered: bool,
    preservation: bool,
    transitions: &[Transition],
) -> (State, Vec<String>) {
    let mut state = if delivered {
        State::Delivered
    } else {
        State::Sent
    };
    let mut head = root.to_owned();
    let mut chain = Vec::new();
    loop {
        let mut children: Vec<&Transition> =
            transitions.iter().filter(|t| t.parent == head).collect();
        children.sort_by(|a, b| a.hash.cmp(&b.hash));
        let next = children.into_iter().find_map(|t| {
            let allowed_actor = match t.action.actor() {
                Actor::Requested => t.by_requested,
                Actor::Requesting => !t.by_requested,
            };
            if !allowed_actor {
                return None;
            }
            t.action.apply(state, preservation).ok().map(|s| (t, s))
        });
        match next {
            Some((t, s)) => {
                state = s;
                head = t.hash.clone();
                chain.push(t.hash.clone());
            }
            None => return (state, chain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(hash: &str, parent: &str, action: Action, by_requested: bool) -> Transition {
        Transition {
            hash: hash.into(),
            parent: parent.into(),
            action,
            by_requested,
        }
    }

    #[test]
    fn a_full_lifecycle_with_a_clarification_round() {
        let ts = vec![
            t("a", "root", Action::Acknowledge, true),
            t("b", "a", Action::StartReview, true),
            t("c", "b", Action::RequestClarification, true),
            t("d", "c", Action::ProvideClarification, false),
            t("e", "d", Action::StartReview, true),
            t("f", "e", Action::StartExecution, true),
            t("g", "f", Action::ReportPartial, true),
            t("h", "g", Action::ReportExecuted, true),
            t("i", "h", Action::Close, false),
        ];
        let (state, chain) = resolve("root", true, false, &ts);
        assert_eq!(state, State::Closed);
        assert_eq!(chain.len(), 9);
    }

    #[test]
    fn every_illegal_transition_is_refused() {
        let mut allowed = 0;
        for from in ALL_STATES {
            for action in ALL_ACTIONS {
                if let Ok(to) = action.apply(from, true) {
                    allowed += 1;
                    assert!(!from.is_terminal(), "{action:?} leaves terminal {from:?}");
                    let _ = to;
                } else {
                    let err = action.apply(from, true).unwrap_err().to_string();
                    assert!(
                        err.contains(action.as_str()) && err.contains(from.as_str()),
                        "{err}"
                    );
                }
            }
        }
        assert!(allowed > 20);
        assert!(Action::Extend.apply(State::Acknowledged, false).is_err());
        assert!(Action::Close.apply(State::UnderReview, false).is_err());
        assert!(Action::Acknowledge.apply(State::Closed, false).is_err());
    }

    #[test]
    fn the_wrong_party_cannot_move_the_case() {
        // The requesting party cannot acknowledge its own request.
        let ts = vec![t("a", "root", Action::Acknowledge, false)];
        assert_eq!(resolve("root", true, false, &ts).0, State::Delivered);
    }

    #[test]
    fn concurrent_actions_resolve_the_same_way_everywhere() {
        // The requested party acknowledges while the requesting one withdraws.
        let mut ts = vec![
            t("9f", "root", Action::Acknowledge, true),
            t("1a", "root", Action::Withdraw, false),
        ];
        let (s1, _) = resolve("root", true, false, &ts);
        ts.reverse();
        let (s2, _) = resolve("root", true, false, &ts);
        assert_eq!(s1, s2);
        assert_eq!(s1, State::Withdrawn);
        // A child that is not valid from its parent's state is skipped.
        let ts = vec![
            t("00", "root", Action::Close, false),
            t("ff", "root", Action::Acknowledge, true),
        ];
        assert_eq!(resolve("root", true, false, &ts).0, State::Acknowledged);
    }
}
