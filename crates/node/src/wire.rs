//! The API's wire types (`liaison_proto::api`) from the rows this node
//! keeps: the one place a store row becomes JSON for a client.

use liaison_proto::api;
use liaison_store::federation::{Alert, CaseRow, CaseTimes, Escalation};
use liaison_store::hashes::HashRow;
use liaison_store::operations::{Shift, TlpRead};

/// A row as the API shows it.
pub trait Wire {
    type Out;
    fn wire(self) -> Self::Out;
}

impl Wire for CaseRow {
    type Out = api::Case;
    fn wire(self) -> api::Case {
        let CaseTimes {
            delivered_at,
            acknowledged_at,
            executed_at,
            extension_days,
        } = self.times;
        api::Case {
            id: self.id,
            kind: self.kind.as_str().to_owned(),
            initiator: self.initiator,
            responder: self.responder,
            outgoing: self.outgoing,
            subject: self.subject,
            state: self.state.as_str().to_owned(),
            created: self.created,
            updated: self.updated,
            offence: self.offence,
            urgent: self.urgent,
            links: self.links,
            root_hash: self.root_hash,
            preservation_days: self.preservation_days,
            tlp: self.tlp.as_str().to_owned(),
            times: api::CaseTimes {
                delivered_at,
                acknowledged_at,
                executed_at,
                extension_days,
            },
        }
    }
}

impl Wire for Alert {
    type Out = api::Alert;
    fn wire(self) -> api::Alert {
        api::Alert {
            id: self.id,
            at: self.at,
            kind: self.kind,
            subject: self.subject,
            message: self.message,
            resolved_at: self.resolved_at,
        }
    }
}

impl Wire for Escalation {
    type Out = api::Escalation;
    fn wire(self) -> api::Escalation {
        api::Escalation {
            id: self.id,
            at: self.at,
            subject: self.subject,
            deadline: self.deadline,
            level: self.level,
            due: self.due,
            message: self.message,
            email_status: self.email_status,
            webhook_status: self.webhook_status,
            attempts: self.attempts,
        }
    }
}

impl Wire for TlpRead {
    type Out = api::TlpRead;
    fn wire(self) -> api::TlpRead {
        api::TlpRead {
            at: self.at,
            username: self.username,
            object: self.object,
            tlp: self.tlp,
            via: self.via,
        }
    }
}

impl Wire for HashRow {
    type Out = api::HashEntry;
    fn wire(self) -> api::HashEntry {
        api::HashEntry {
            id: self.id,
            owner: self.owner,
            entry_id: self.entry_id,
            kind: self.kind,
            value: self.value,
            entity: self.entity,
            behaviour: self.behaviour,
            urgency: self.urgency,
            origin_case: self.origin_case,
            added_at: self.added_at,
            withdrawn_at: self.withdrawn_at,
            withdraw_reason: self.withdraw_reason,
            tlp: self.tlp,
        }
    }
}

impl Wire for Shift {
    type Out = api::Shift;
    fn wire(self) -> api::Shift {
        api::Shift {
            id: self.id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            starts: self.starts,
            ends: self.ends,
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    type Out = Vec<T::Out>;
    fn wire(self) -> Vec<T::Out> {
        self.into_iter().map(Wire::wire).collect()
    }
}
