//! Roles of the people who use a node, and what each may do.

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::case::CaseKind;
use crate::tlp::Tlp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    LegalOfficer,
    CertAnalyst,
    DutyOfficer,
    ProviderLiaison,
    Observer,
}

pub const ALL_ROLES: [Role; 6] = [
    Role::Administrator,
    Role::LegalOfficer,
    Role::CertAnalyst,
    Role::DutyOfficer,
    Role::ProviderLiaison,
    Role::Observer,
];

/// Something a request asks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See cases and their threads.
    ReadCases,
    /// Open a case of this kind.
    Open(CaseKind),
    /// Move a case of this kind along its lifecycle, or reply to it.
    Act(CaseKind),
    /// Alerts, escalations, peers, audits.
    ReadOperations,
    /// Users and tokens.
    ManageUsers,
    /// Aggregate figures and log heads (the transparency report).
    ReadAggregates,
    /// The shared reference: glossary, crosswalks, norms.
    ReadReference,
    /// Propose, sign or diverge from glossary definitions; tag cases with norms.
    EditReference,
    /// Read STIX objects (TAXII collections, exports), within the user's TLP clearance.
    ReadIntel,
    /// Add STIX objects to writable collections (TAXII, imports).
    WriteIntel,
    /// Look hashes and images up in the shared hash lists.
    MatchHashes,
    /// Withdraw entries of this party's hash list (everywhere).
    ManageHashes,
    /// Rotate this node's keys.
    ManageKeys,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role, CoreError> {
        ALL_ROLES
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = ALL_ROLES.iter().map(|r| r.as_str()).collect();
                CoreError::invalid(format!(
                    "role {s:?} is not known (known: {})",
                    known.join(", ")
                ))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::LegalOfficer => "legal_officer",
            Role::CertAnalyst => "cert_analyst",
            Role::DutyOfficer => "duty_officer",
            Role::ProviderLiaison => "provider_liaison",
            Role::Observer => "observer",
        }
    }

    pub fn label(self, lang: &str) -> &'static str {
        let ru = lang == "ru";
        match self {
            Role::Administrator => {
                if ru {
                    "администратор"
                } else {
                    "administrator"
                }
            }
            Role::LegalOfficer => {
                if ru {
                    "сотрудник центрального органа"
                } else {
                    "legal officer"
                }
            }
            Role::CertAnalyst => {
                if ru {
                    "аналитик CERT"
                } else {
                    "CERT analyst"
                }
            }
            Role::DutyOfficer => {
                if ru {
                    "дежурный"
                } else {
                    "duty officer"
                }
            }
            Role::ProviderLiaison => {
                if ru {
                    "представитель провайдера"
                } else {
                    "provider liaison"
                }
            }
            Role::Observer => {
                if ru {
                    "наблюдатель"
                } else {
                    "observer"
                }
            }
        }
    }

    /// The most restrictive TLP marking this role reads unless a user is
    /// given another clearance: RED for those who handle incidents around
    /// the clock, AMBER+STRICT inside the authority, AMBER for provider
    /// liaisons (clients of the recipient), CLEAR for observers.
    pub fn default_clearance(self) -> Tlp {
        match self {
            Role::Administrator | Role::CertAnalyst | Role::DutyOfficer => Tlp::Red,
            Role::LegalOfficer => Tlp::AmberStrict,
            Role::ProviderLiaison => Tlp::Amber,
            Role::Observer => Tlp::Clear,
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        use CaseKind::*;
        use Permission::*;
        match self {
            Role::Administrator => true,
            Role::Observer => matches!(p, ReadAggregates | ReadReference),
            Role::LegalOfficer => {
                matches!(
                    p,
                    ReadCases
                        | ReadOperations
                        | ReadAggregates
                        | ReadReference
                        | EditReference
                        | MatchHashes
                        | ManageHashes
                        | Open(
                            Note | Preservation
                                | Mla
                                | EmergencyDisclosure
                                | ContentReport
                                | ProductionOrder
                                | JointTeam
                        )
                        | Act(Note
                            | Preservation
                            | Mla
                            | EmergencyDisclosure
                            | ContentReport
                            | Execution
                            | ProductionOrder
                            | JointTeam)
                )
            }
            Role::CertAnalyst => {
                matches!(
                    p,
                    ReadCases
                        | ReadOperations
                        | ReadAggregates
                        | ReadReference
                        | EditReference
                        | ReadIntel
                        | WriteIntel
                        | MatchHashes
                        | Open(Note | Incident | Hotline | Ping)
                        | Act(Note | Incident | Hotline | Ping)
                )
            }
            Role::DutyOfficer => {
                matches!(
                    p,
                    ReadCases
                        | ReadOperations
                        | ReadAggregates
                        | ReadReference
                        | ReadIntel
                        | MatchHashes
                        | Open(Note | Hotline | Ping | EmergencyDisclosure)
                        | Act(Note
                            | EmergencyDisclosure
                            | Incident
                            | Hotline
                            | Ping
                            | ContentReport
                            | Execution
                            | ProductionOrder)
                )
            }
            Role::ProviderLiaison => {
                matches!(
                    p,
                    ReadCases
                        | ReadAggregates
                        | ReadReference
                        | ReadIntel
                        | MatchHashes
                        | Open(Note)
                        | Act(Note
                            | Preservation
                            | EmergencyDisclosure
                            | ContentReport
                            | Execution
                            | ProductionOrder
                            | JointTeam)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observers_see_aggregates_only_and_administrators_everything() {
        for p in [
            Permission::ReadCases,
            Permission::Open(CaseKind::Note),
            Permission::ManageUsers,
            Permission::ReadOperations,
        ] {
            assert!(!Role::Observer.allows(p));
            assert!(Role::Administrator.allows(p));
        }
        assert!(Role::Observer.allows(Permission::ReadAggregates));
        assert!(Role::LegalOfficer.allows(Permission::Open(CaseKind::Mla)));
        assert!(!Role::CertAnalyst.allows(Permission::Open(CaseKind::Mla)));
        assert!(Role::DutyOfficer.allows(Permission::Act(CaseKind::EmergencyDisclosure)));
        assert!(!Role::LegalOfficer.allows(Permission::ManageUsers));
        assert!(Role::CertAnalyst.allows(Permission::Open(CaseKind::Incident)));
        assert!(!Role::LegalOfficer.allows(Permission::Open(CaseKind::Incident)));
        assert!(Role::DutyOfficer.allows(Permission::Act(CaseKind::Hotline)));
        assert!(Role::DutyOfficer.allows(Permission::Act(CaseKind::Ping)));
        assert!(!Role::ProviderLiaison.allows(Permission::Act(CaseKind::Hotline)));
        assert_eq!(Role::Observer.default_clearance(), Tlp::Clear);
        for r in ALL_ROLES {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
            assert_ne!(r.label("ru"), r.label("en"));
        }
    }
}
