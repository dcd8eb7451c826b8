//! Wire types that leave a Liaison node: the node card handed out of band,
//! and the JSON error body of every API. Shared by the server, the CLI and
//! any client; no logic beyond (de)serialisation lives here.

pub mod api;

use serde::{Deserialize, Serialize};

/// Format version of [`NodeCard`]: version 2 names the party's kind and
/// jurisdiction.
pub const CARD_VERSION: u32 = 2;

/// Cards of version 1 (before party kinds) are still read: their party is
/// an authority (a witness if its role says so) with no jurisdiction given.
pub const CARD_VERSION_1: u32 = 1;

/// What kind of party a node is: which requests it takes follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartyKind {
    /// A state authority (central authority, police, prosecutor).
    Authority,
    /// A computer emergency response team.
    Cert,
    /// A service provider (hosting, platform, network).
    Provider,
    /// An independent expert or non-governmental organisation.
    Expert,
    /// A neutral log witness.
    Witness,
}

impl PartyKind {
    pub const ALL: [PartyKind; 5] = [
        PartyKind::Authority,
        PartyKind::Cert,
        PartyKind::Provider,
        PartyKind::Expert,
        PartyKind::Witness,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Authority => "authority",
            PartyKind::Cert => "cert",
            PartyKind::Provider => "provider",
            PartyKind::Expert => "expert",
            PartyKind::Witness => "witness",
        }
    }

    pub fn parse(s: &str) -> Option<PartyKind> {
        PartyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What a party hands to another out of band to be pinned: who it is, where
/// its federation listener is, which key signs its log, and which TLS
/// certificate it presents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeCard {
    pub liaison_card: u32,
    /// Short lowercase code, e.g. `us`, `ru`, `ru-cert`.
    pub party: String,
    /// Display name of the authority or organisation.
    pub name: String,
    /// `party` or `witness`.
    pub role: NodeRole,
    /// Preferred language of the party's officials (`en` or `ru`).
    pub lang: String,
    /// Base URL of the federation listener (HTTPS, mutual TLS).
    pub federation_url: String,
    /// Origin line of the party's log checkpoints.
    pub log_origin: String,
    /// C2SP verifier key of the log (`<name>+<id>+<base64>`).
    pub log_key: String,
    /// Witness cosigning key (C2SP verifier key, type 0x04), for witnesses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigner_key: Option<String>,
    /// Post-quantum witness cosigning key (C2SP vkey of type 0x06,
    /// ML-DSA-44), under the same name as `cosigner_key`; witnesses made
    /// before it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigner_key_ml_dsa: Option<String>,
    /// The party's recovery key (Ed25519 note key named
    /// `liaison/<party>/recovery`), kept offline: only it can revoke the
    /// log key or replace itself. Nodes made before it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_key: Option<String>,
    /// PEM of the self-signed TLS certificate the node presents.
    pub tls_certificate: String,
    /// Lowercase hex SHA-256 of the certificate's DER: what peers pin.
    pub tls_fingerprint: String,
    /// The authority's business calendar, for deadlines of requests sent to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CardCalendar>,
    /// What kind of party this is (version 2; a version 1 card has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PartyKind>,
    /// Its jurisdiction: an ISO 3166-1 alpha-2 code, e.g. `US`, `RU` (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// An authority that requires to be notified of direct production
    /// orders to providers in its jurisdiction (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<CardNotification>,
}

/// Which direct orders to providers of its jurisdiction an authority
/// requires to be notified of, and how long it takes to object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardNotification {
    /// Data categories (`subscriber_information`, `traffic_data`, `content_data`).
    pub categories: Vec<String>,
    /// Seconds the authority has to object once it received an order.
    pub objection_window_secs: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardCalendar {
    /// IANA time zone.
    pub time_zone: String,
    /// e.g. `mon-fri`
    pub business_days: String,
    /// e.g. `09:00-18:00`
    pub business_hours: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Party,
    Witness,
}

impl std::fmt::Display for NodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NodeRole::Party => "party",
            NodeRole::Witness => "witness",
        })
    }
}

/// `{"error": {"code": …, "message": …}}`: the body of every error answer
/// and of `--json` CLI errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `invalid_input`.
    pub code: String,
    /// One sentence for a person.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }
}
