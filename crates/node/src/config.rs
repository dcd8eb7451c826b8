//! The node's configuration: `liaison.toml` in the node directory, where
//! every key can be overridden by an environment variable named
//! `LIAISON_<SECTION>_<KEY>` (e.g. `LIAISON_FEDERATION_LISTEN`).
//!
//! The struct below is the one declaration of each key: its default, its
//! type, and (through serde) its TOML and environment names.

use serde::{Deserialize, Serialize};

use crate::NodeError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub node: NodeSection,
    pub federation: FederationSection,
    pub app: AppSection,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub delivery: DeliverySection,
    #[serde(default)]
    pub witness: WitnessSection,
    #[serde(default)]
    pub deadlines: DeadlinesSection,
    #[serde(default)]
    pub escalation: EscalationSection,
    #[serde(default)]
    pub attachments: AttachmentsSection,
    #[serde(default)]
    pub hotline: HotlineSection,
    #[serde(default)]
    pub content: ContentSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub accounts: AccountsSection,
    #[serde(default)]
    pub reference: ReferenceSection,
    #[serde(default)]
    pub orders: OrdersSection,
    #[serde(default)]
    pub directory: DirectorySection,
}

/// The directory: how often the pinned peers' directories are fetched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectorySection {
    pub sync_secs: u64,
}

impl Default for DirectorySection {
    fn default() -> Self {
        DirectorySection { sync_secs: 60 }
    }
}

/// Direct production orders to providers in this authority's jurisdiction:
/// which it must be notified of (stated on its card) and how long it takes
/// to object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersSection {
    /// Data categories, separated by commas (`subscriber_information`,
    /// `traffic_data`, `content_data`); empty: no notification required.
    pub notify: String,
    /// Seconds to object from receiving an order (96 hours by default).
    pub objection_window_secs: u32,
}

impl Default for OrdersSection {
    fn default() -> Self {
        OrdersSection {
            notify: String::new(),
            objection_window_secs: 96 * 3600,
        }
    }
}

impl OrdersSection {
    /// The card's notification setting, if any categories are named.
    pub fn card_notification(&self) -> Option<liaison_proto::CardNotification> {
        let categories: Vec<String> = self
            .notify
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        (!categories.is_empty()).then_some(liaison_proto::CardNotification {
            categories,
            objection_window_secs: self.objection_window_secs,
        })
    }
}

/// The shared reference: whose signatures agree a glossary definition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReferenceSection {
    /// The reference group, as party codes separated by commas; empty:
    /// every pinned authority and this node if it is one.
    pub group: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Party code, e.g. `us`.
    pub party: String,
    /// Display name of the party.
    pub name: String,
    /// Language of the party's officials: `en` or `ru`.
    pub lang: String,
    /// `party` or `witness`.
    pub role: String,
    /// `authority`, `cert`, `provider`, `expert` or `witness`; absent in a
    /// node made before party kinds (its card stays a version 1 card, read
    /// by peers as an authority's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// ISO 3166-1 alpha-2 code of the party's jurisdiction, e.g. `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSection {
    /// Address of the federation listener (HTTPS, mutual TLS).
    pub listen: String,
    /// URL peers use to reach this node; empty means `https://<listen>`.
    #[serde(default)]
    pub public_url: String,
    /// An envelope dated more than this after its arrival is refused.
    #[serde(default = "default_clock_skew")]
    pub max_clock_skew_secs: u64,
    /// Offer and prefer the hybrid post-quantum key exchange X25519MLKEM768
    /// on federation connections (classical X25519 stays accepted).
    #[serde(default = "default_true")]
    pub post_quantum_kx: bool,
}

fn default_clock_skew() -> u64 {
    300
}

fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSection {
    /// Address of the app listener (UI, API). Plain HTTP is only allowed on
    /// loopback addresses.
    pub listen: String,
    /// The address clients use for the app listener (TAXII discovery
    /// names it); empty: `http(s)://<listen>`.
    #[serde(default)]
    pub public_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Most writes group-committed in one transaction (one fsync).
    pub max_batch: u32,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection { max_batch: 4096 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySection {
    /// Longest wait between two delivery attempts to an unreachable peer.
    pub max_backoff_secs: u64,
    /// An envelope undelivered this long is raised as an alert (and still retried).
    pub alert_after_secs: u64,
    /// Most envelopes sent to a peer in one request.
    pub batch: u32,
    /// A peer's delivery worker (and its connection) ends after its stream
    /// has been empty this long; the next envelope starts another.
    pub idle_worker_secs: u64,
}

impl Default for DeliverySection {
    fn default() -> Self {
        DeliverySection {
            max_backoff_secs: 60,
            alert_after_secs: 900,
            batch: 256,
            idle_worker_secs: 30,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessSection {
    /// How often (seconds) a party submits its latest checkpoint to its
    /// pinned witnesses for cosigning.
    pub interval_secs: u64,
    /// An audit requires every party's checkpoint to carry an ML-DSA-44
    /// cosignature by a pinned witness (post-quantum witnessing).
    #[serde(default)]
    pub require_ml_dsa: bool,
}

impl Default for WitnessSection {
    fn default() -> Self {
        WitnessSection {
            interval_secs: 5,
            require_ml_dsa: false,
        }
    }
}

/// When requests must be answered. Business time is counted in this
/// authority's calendar for requests it receives (peers learn it from the
/// card); emergencies count wall-clock time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadlinesSection {
    /// IANA time zone of this authority, e.g. `Europe/Moscow`.
    pub time_zone: String,
    /// Business days, e.g. `mon-fri` or `mon,tue,wed,thu,fri`.
    pub business_days: String,
    /// Business hours, e.g. `09:00-18:00`.
    pub business_hours: String,
    pub mla_ack_business_days: u32,
    pub mla_urgent_ack_business_hours: u32,
    pub mla_execute_business_days: u32,
    pub mla_urgent_execute_business_days: u32,
    pub preservation_ack_business_days: u32,
    /// Time to confirm the data is preserved, after acknowledging.
    pub preservation_preserve_business_days: u32,
    /// Warn this many days before a preservation period ends.
    pub preservation_warning_days: u32,
    pub emergency_ack_secs: u64,
    pub emergency_execute_secs: u64,
    /// Incidents of severity 1–3: acknowledgement in business hours.
    pub incident_ack_business_hours: u32,
    /// Severe incidents and emergencies (4–5): acknowledgement in wall-clock minutes.
    pub incident_urgent_ack_minutes: u32,
    pub incident_respond_business_days: u32,
    pub incident_urgent_respond_hours: u32,
    /// A duty officer acknowledges a hotline inquiry or a ping within this.
    pub hotline_ack_minutes: u32,
    /// …and answers a hotline inquiry (reports it executed) within this.
    pub hotline_answer_minutes: u32,
    /// A provider answers a direct production order within this many days…
    pub production_order_days: u32,
    /// …or hours in an emergency.
    pub production_order_emergency_hours: u32,
    /// The warning level fires when this share of the time has passed.
    pub warning_percent: u32,
    /// How often deadlines are checked.
    pub check_interval_secs: u64,
}

impl Default for DeadlinesSection {
    fn default() -> Self {
        DeadlinesSection {
            time_zone: "UTC".into(),
            business_days: "mon-fri".into(),
            business_hours: "09:00-18:00".into(),
            mla_ack_business_days: 2,
            mla_urgent_ack_business_hours: 4,
            mla_execute_business_days: 30,
            mla_urgent_execute_business_days: 5,
            preservation_ack_business_days: 1,
            preservation_preserve_business_days: 2,
            preservation_warning_days: 7,
            emergency_ack_secs: 3600,
            emergency_execute_secs: 24 * 3600,
            incident_ack_business_hours: 4,
            incident_urgent_ack_minutes: 60,
            incident_respond_business_days: 5,
            incident_urgent_respond_hours: 24,
            hotline_ack_minutes: 10,
            hotline_answer_minutes: 240,
            production_order_days: 10,
            production_order_emergency_hours: 8,
            warning_percent: 75,
            check_interval_secs: 30,
        }
    }
}

/// Terrorist-content reports: how long a provider has per urgency tier, and
/// how close a PDQ hash must be to match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentSection {
    /// Removal orders: the item must be removed (or disputed) within this.
    pub removal_order_minutes: u32,
    pub crisis_minutes: u32,
    pub priority_hours: u32,
    pub standard_hours: u32,
    /// PDQ matches are hashes within this Hamming distance (31 is the usual threshold).
    pub match_radius: u32,
}

impl Default for ContentSection {
    fn default() -> Self {
        ContentSection {
            removal_order_minutes: 60,
            crisis_minutes: 240,
            priority_hours: 24,
            standard_hours: 72,
            match_radius: liaison_core::pdq::DEFAULT_MATCH_RADIUS,
        }
    }
}

/// The hotline: scheduled ping tests of each party's duty officer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotlineSection {
    /// Send each pinned party a ping this often (0: only manual pings).
    pub ping_interval_minutes: u32,
}

/// Where missed deadlines and alerts go: the duty officer's e-mail (SMTP)
/// and a webhook signed with the node's log key. Empty means off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationSection {
    /// Comma-separated addresses of the duty officers.
    pub email_to: String,
    pub email_from: String,
    /// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS)
    /// or `smtps://user:password@host:465`.
    pub smtp_url: String,
    pub webhook_url: String,
    /// Attempts per escalation and channel before giving up (each is kept).
    pub max_attempts: u32,
}

impl Default for EscalationSection {
    fn default() -> Self {
        EscalationSection {
            email_to: String::new(),
            email_from: "liaison@localhost".into(),
            smtp_url: String::new(),
            webhook_url: String::new(),
            max_attempts: 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentsSection {
    /// Largest attachment accepted, in bytes.
    pub max_bytes: u64,
    /// Bytes one user may have stored that no message lists yet.
    pub user_pending_bytes: u64,
    /// Bytes one peer may have pushed that none of its envelopes lists yet.
    pub peer_pending_bytes: u64,
    /// Files no message lists are removed this long after they were stored.
    pub unreferenced_hours: u64,
}

impl Default for AttachmentsSection {
    fn default() -> Self {
        AttachmentsSection {
            max_bytes: 100 * 1024 * 1024,
            user_pending_bytes: 1024 * 1024 * 1024,
            peer_pending_bytes: 4 * 1024 * 1024 * 1024,
            unreferenced_hours: 24,
        }
    }
}

/// What an outsider can make the node spend: connections, time, password
/// checks, image decoding, request sizes. Applies to both listeners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    /// Open connections per listener.
    pub max_connections: u32,
    /// Open connections per client address (IPv6: per /64) per listener.
    pub max_connections_per_client: u32,
    /// Time to finish a TLS handshake and a request's headers; a
    /// kept-alive connection that sends no next request in this time is
    /// closed too.
    pub header_timeout_secs: u64,
    /// A request body that sends nothing for this long is cut off.
    pub body_timeout_secs: u64,
    /// A request (its body read, its answer produced) takes at most this
    /// long — long enough for the largest attachment upload. (Streaming an
    /// answer to a slow reader is bounded by the connection caps.)
    pub request_timeout_secs: u64,
    /// Password checks and hashes (argon2id, 19 MiB each) running at once,
    /// on workers shared by the nodes of one process (the first sizes them).
    pub password_checks: u32,
    /// Failed sign-ins per user name and client address in the window.
    pub login_failures_per_user: u32,
    /// Failed sign-ins per client address (any user names) in the window.
    pub login_failures_per_client: u32,
    pub login_window_secs: u64,
    /// Comma-separated addresses of reverse proxies whose
    /// `X-Forwarded-For` is believed; empty: the socket address decides.
    pub trusted_proxies: String,
    /// Images hashed at once (decoding is the costly part).
    pub image_hashes: u32,
    /// Largest image decoded for a lookup, in megapixels.
    pub image_megapixels: u32,
    /// STIX objects per TAXII request.
    pub taxii_objects: u32,
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            max_connections: 1024,
            max_connections_per_client: 64,
            header_timeout_secs: 10,
            body_timeout_secs: 30,
            request_timeout_secs: 600,
            password_checks: 2,
            login_failures_per_user: 5,
            login_failures_per_client: 50,
            login_window_secs: 300,
            trusted_proxies: String::new(),
            image_hashes: 1,
            image_megapixels: 24,
            taxii_objects: 10_000,
        }
    }
}

/// Users' credentials: how long sessions and API tokens last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsSection {
    pub session_hours: u32,
    /// A new API token is valid this many days (`liaison user token --days`).
    pub token_days: u32,
}

impl Default for AccountsSection {
    fn default() -> Self {
        AccountsSection {
            session_hours: 12,
            token_days: 90,
        }
    }
}

pub const ENV_PREFIX: &str = "LIAISON_";

impl Config {
    /// Parses TOML text, then applies environment overrides from `env`.
    pub fn from_toml_with_env(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, NodeError> {
        let parsed: Config = toml::from_str(text)
            .map_err(|e| NodeError::Config(format!("liaison.toml: {}", e.message())))?;
        parsed.with_env(env)
    }

    /// Applies `LIAISON_<SECTION>_<KEY>` overrides to every key.
    pub fn with_env(&self, env: impl Fn(&str) -> Option<String>) -> Result<Config, NodeError> {
        let mut table = toml::Table::try_from(self)
            .map_err(|e| NodeError::Config(format!("cannot represent the configuration: {e}")))?;
        for (section, value) in table.iter_mut() {
            let toml::Value::Table(keys) = value else {
                continue;
            };
            for (key, value) in keys.iter_mut() {
                let var = format!(
                    "{ENV_PREFIX}{}_{}",
                    section.to_uppercase(),
                    key.to_uppercase()
                );
                let Some(raw) = env(&var) else { continue };
                *value = match value {
                    toml::Value::String(_) => toml::Value::String(raw),
                    toml::Value::Integer(_) => {
                        toml::Value::Integer(raw.trim().parse().map_err(|_| {
                            NodeError::Config(format!("{var}={raw:?} is not an integer"))
                        })?)
                    }
                    toml::Value::Boolean(_) => {
                        toml::Value::Boolean(raw.trim().parse().map_err(|_| {
                            NodeError::Config(format!("{var}={raw:?} is not true or false"))
                        })?)
                    }
                    _ => {
                        return Err(NodeError::Config(format!(
                            "{var} cannot be set from the environment"
                        )));
                    }
                };
            }
        }
        table.try_into().map_err(|e: toml::de::Error| {
            NodeError::Config(format!("environment override: {}", e.message()))
        })
    }

    pub fn to_toml(&self) -> Result<String, NodeError> {
        toml::to_string_pretty(self)
            .map_err(|e| NodeError::Config(format!("cannot write the configuration: {e}")))
    }

    /// The URL on the card: `public_url`, or `https://<listen>`.
    pub fn federation_url(&self) -> String {
        if self.federation.public_url.is_empty() {
            format!("https://{}", self.federation.listen)
        } else {
            self.federation.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Every environment variable that can override a key, with its value.
    pub fn variables(&self) -> Result<Vec<(String, String)>, NodeError> {
        let table = toml::Table::try_from(self)
            .map_err(|e| NodeError::Config(format!("cannot represent the configuration: {e}")))?;
        let mut out = Vec::new();
        for (section, value) in &table {
            let toml::Value::Table(keys) = value else {
                continue;
            };
            for (key, value) in keys {
                let shown = match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push((
                    format!(
                        "{ENV_PREFIX}{}_{}",
                        section.to_uppercase(),
                        key.to_uppercase()
                    ),
                    shown,
                ));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config {
        Config {
            node: NodeSection {
                party: "us".into(),
                name: "United States".into(),
                lang: "en".into(),
                role: "party".into(),
                kind: Some("authority".into()),
                jurisdiction: Some("US".into()),
            },
            federation: FederationSection {
                listen: "127.0.0.1:7443".into(),
                public_url: String::new(),
                max_clock_skew_secs: 300,
                post_quantum_kx: true,
            },
            app: AppSection {
                listen: "127.0.0.1:8080".into(),
                public_url: String::new(),
            },
            log: LogSection::default(),
            delivery: DeliverySection::default(),
            witness: WitnessSection::default(),
            deadlines: DeadlinesSection::default(),
            escalation: EscalationSection::default(),
            attachments: AttachmentsSection::default(),
            hotline: HotlineSection::default(),
            content: ContentSection::default(),
            limits: LimitsSection::default(),
            accounts: AccountsSection::default(),
            reference: ReferenceSection::default(),
            orders: OrdersSection {
                notify: "subscriber_information".into(),
                objection_window_secs: 96 * 3600,
            },
            directory: DirectorySection::default(),
        }
    }

    #[test]
    fn every_key_is_overridable_from_the_environment() {
        let c = sample();
        let vars = c.variables().unwrap();
        assert!(vars.len() >= 8);
        for (var, current) in &vars {
            // A switch is turned over; anything else is set to a number.
            let value = match current.as_str() {
                "false" => "true",
                "true" => "false",
                _ => "42",
            };
            let overridden = c
                .with_env(|name| (name == var).then(|| value.to_owned()))
                .unwrap();
            assert_ne!(overridden, c, "{var} had no effect");
        }
    }

    #[test]
    fn toml_round_trips_and_env_wins() {
        let text = sample().to_toml().unwrap();
        let c = Config::from_toml_with_env(&text, |v| {
            (v == "LIAISON_FEDERATION_LISTEN").then(|| "0.0.0.0:9000".to_owned())
        })
        .unwrap();
        assert_eq!(c.federation.listen, "0.0.0.0:9000");
        assert_eq!(c.federation_url(), "https://0.0.0.0:9000");
    }

    #[test]
    fn bad_values_are_named() {
        let err = sample()
            .with_env(|v| (v == "LIAISON_LOG_MAX_BATCH").then(|| "many".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("LIAISON_LOG_MAX_BATCH"), "{err}");
        let err = Config::from_toml_with_env("[node]\nparty = 1\n", |_| None).unwrap_err();
        assert!(err.to_string().contains("liaison.toml"), "{err}");
    }
}
