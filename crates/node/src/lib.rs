//! A Liaison node on disk and its identity.
//!
//! ```text
//! DIR/
//!   liaison.toml           configuration (every key overridable by LIAISON_…)
//!   liaison.db             SQLite database (WAL, synchronous=FULL)
//!   keys/log.key           Ed25519 log signing key (C2SP signer-key text), 0600
//!   keys/log-previous.key  the key a rotation replaced (signs during the overlap)
//!   keys/cosigner.key      Ed25519 witness cosigning key (witnesses only), 0600
//!   keys/cosigner-ml-dsa.key  ML-DSA-44 witness cosigning key (witnesses), 0600
//!   keys/recovery.key      Ed25519 recovery key, 0600: move it offline
//!   keys/recovery.pub      its public half (on the card)
//!   keys/tls.key           TLS private key (PKCS#8 PEM), 0600
//!   keys/tls.crt           self-signed TLS certificate (PEM)
//! ```
//!
//! [`init`] creates a node; [`Node::open`] loads one for the CLI or the
//! server. The node card is derived from the configuration and keys.

pub mod access;
pub mod attachments;
mod cases;
pub mod config;
pub mod content;
pub mod deadlines;
pub mod directory;
mod door;
mod envelopes;
pub mod federation;
pub mod glossary;
mod init;
pub mod keys;
mod membership;
pub mod operations;
mod peer_keys;
mod run;
pub mod search;
pub mod stats;
pub mod stix;
pub mod throttle;
pub mod tls;
pub mod users;
pub mod verify;
mod wake;
pub mod wire;
pub mod workers;

pub use config::Config;
pub use door::{PeerHealth, rows};
pub use init::{InitOptions, init};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use liaison_core::card::{CheckedCard, check_card};
use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_core::{CoreError, PartyCode};
use liaison_log::note::{COSIGNATURE_V1, NoteSigner, NoteVerifier};
use liaison_proto::{CARD_VERSION, NodeCard, NodeRole, PartyKind};
use liaison_store::peers::{PinOutcome, PinnedPeer};
use liaison_store::{Store, StoreError, WriterOptions};

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Core(#[from] CoreError),
    #[error("{0}")]
    Tls(String),
}

/// What kind of failure a [`NodeError`] is, for whoever maps it to an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Invalid,
    Conflict,
    Internal,
}

impl NodeError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            NodeError::Store(StoreError::NotFound(_)) => ErrorKind::NotFound,
            NodeError::Store(StoreError::Conflict(_)) => ErrorKind::Conflict,
            NodeError::Store(StoreError::Invalid(_) | StoreError::Log(_))
            | NodeError::Invalid(_)
            | NodeError::Core(_) => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        }
    }

    /// A stable code for the command line's `--json` errors.
    pub fn code(&self) -> &'static str {
        match self {
            NodeError::Config(_) => "config_error",
            NodeError::Invalid(_) | NodeError::Core(_) => "invalid_input",
            NodeError::Io(_) => "io_error",
            NodeError::Tls(_) => "tls_error",
            NodeError::Store(StoreError::NotFound(_)) => "not_found",
            NodeError::Store(StoreError::Conflict(_)) => "conflict",
            NodeError::Store(StoreError::Invalid(_)) => "invalid_input",
            NodeError::Store(StoreError::Corrupt(_)) => "corrupt",
            NodeError::Store(_) => "store_error",
        }
    }

    /// The sentence of the error, without a layer's prefix ("not found: ").
    pub fn message(&self) -> String {
        match self {
            NodeError::Store(
                StoreError::NotFound(m) | StoreError::Conflict(m) | StoreError::Invalid(m),
            ) => m.clone(),
            other => other.to_string(),
        }
    }

    pub(crate) fn io(what: impl std::fmt::Display, err: std::io::Error) -> NodeError {
        NodeError::Io(format!("{what}: {err}"))
    }
}

/// Paths inside a node directory.
#[derive(Clone, Debug)]
pub struct NodeDir {
    root: PathBuf,
}

impl NodeDir {
    pub fn new(root: &Path) -> NodeDir {
        NodeDir {
            root: root.to_owned(),
        }
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("liaison.toml")
    }
    pub fn database(&self) -> PathBuf {
        self.root.join("liaison.db")
    }
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    pub fn log_key(&self) -> PathBuf {
        self.keys().join("log.key")
    }
    /// A rotation's new log key until its transaction commits.
    pub fn pending_log_key(&self) -> PathBuf {
        self.keys().join("log.key.new")
    }
    /// The log key a rotation replaced (it signs during the overlap).
    pub fn previous_log_key(&self) -> PathBuf {
        self.keys().join("log-previous.key")
    }
    pub fn cosigner_key(&self) -> PathBuf {
        self.keys().join("cosigner.key")
    }
    /// The recovery key's secret, written by `init` to be moved offline.
    pub fn recovery_key(&self) -> PathBuf {
        self.keys().join("recovery.key")
    }
    /// The recovery key's public half: what the card names.
    pub fn recovery_public_key(&self) -> PathBuf {
        self.keys().join("recovery.pub")
    }
    /// A recovery rotation's new public half until its transaction commits.
    pub fn pending_recovery_public_key(&self) -> PathBuf {
        self.keys().join("recovery.pub.new")
    }
    pub fn ml_dsa_cosigner_key(&self) -> PathBuf {
        self.keys().join("cosigner-ml-dsa.key")
    }
    /// A witness's new cosigning keys until the change that names them commits.
    pub fn pending_cosigner_key(&self) -> PathBuf {
        self.keys().join("cosigner.key.new")
    }
    pub fn pending_ml_dsa_cosigner_key(&self) -> PathBuf {
        self.keys().join("cosigner-ml-dsa.key.new")
    }
    /// The cosigning keys a rotation replaced (they cosign during the overlap).
    pub fn previous_cosigner_key(&self) -> PathBuf {
        self.keys().join("cosigner-previous.key")
    }
    pub fn previous_ml_dsa_cosigner_key(&self) -> PathBuf {
        self.keys().join("cosigner-ml-dsa-previous.key")
    }
    /// A TLS rotation's new key and certificate until its change commits.
    pub fn pending_tls_key(&self) -> PathBuf {
        self.keys().join("tls.key.new")
    }
    pub fn pending_tls_cert(&self) -> PathBuf {
        self.keys().join("tls.crt.new")
    }
    /// The TLS key and certificate a rotation replaced (presented during the overlap).
    pub fn previous_tls_key(&self) -> PathBuf {
        self.keys().join("tls-previous.key")
    }
    pub fn previous_tls_cert(&self) -> PathBuf {
        self.keys().join("tls-previous.crt")
    }
    pub fn tls_key(&self) -> PathBuf {
        self.keys().join("tls.key")
    }
    pub fn tls_cert(&self) -> PathBuf {
        self.keys().join("tls.crt")
    }
}

/// An opened node: configuration, keys and database.
#[derive(Clone)]
pub struct Node {
    dir: NodeDir,
    config: Config,
    party: PartyCode,
    role: NodeRole,
    /// Kind and jurisdiction (none for a node made before party kinds).
    kind: Option<(PartyKind, Option<String>)>,
    store: Store,
    /// A witness's cosigners (none for a party); a rotation replaces them.
    cosigners: Arc<std::sync::RwLock<Option<Arc<keys::CosignerSet>>>>,
    /// The recovery key's public half (nodes made before it have none);
    /// a recovery rotation replaces it.
    recovery_key: Arc<std::sync::RwLock<Option<NoteVerifier>>>,
    tls: Arc<tls::TlsKeys>,
    /// Tells the delivery supervisor for whom this process queued envelopes.
    pub(crate) wake: Arc<wake::OutboxWake>,
    /// Wakes the delivery supervisor when this process pins a peer (a
    /// stored permit: a pin made while it looks at the outbox is not
    /// missed).
    pub(crate) pinned: Arc<tokio::sync::Notify>,
    /// Delivery workers running (one per peer with something to send).
    pub(crate) delivering: Arc<std::sync::atomic::AtomicUsize>,
    /// Receipts issued but not yet stored (they are stored in the
    /// background), so a quick redelivery still gets the original one.
    pub(crate) issued: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// The PDQ matching index of the live hash lists (loaded on first use).
    pub(crate) hash_index: content::SharedIndex,
    /// One hash-list synchronisation at a time, and whether one is due.
    pub(crate) hash_sync: Arc<content::HashSync>,
    /// Bytes of attachment uploads in progress, per holder (quotas).
    pub(crate) attachment_inflight: Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
    /// Images being decoded for lookups (`limits.image_hashes` at once).
    pub(crate) image_workers: Arc<workers::Workers>,
    /// Failed sign-ins, password checks at once, remembered Basic successes.
    pub(crate) guard: users::Guard,
    /// Held (shared) by every send from signing to commit, and exclusively
    /// by a rotation: what the old key signed is queued before the key
    /// change, and nothing is signed with it after.
    pub(crate) signing: Arc<tokio::sync::RwLock<()>>,
    /// When this node last fetched each peer's key changes, and for what
    /// (see `Node::maybe_catch_up`).
    pub(crate) key_catch_up:
        Arc<std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u64)>>>,
}

fn read_text(path: &Path) -> Result<String, NodeError> {
    std::fs::read_to_string(path)
        .map_err(|e| NodeError::io(format!("cannot read {}", path.display()), e))
}

/// A node's kind and jurisdiction, parsed and checked as a card's are. The
/// message names the settings as `node.kind` and `node.jurisdiction`
/// (`--kind` and `--jurisdiction` of `liaison init`).
pub(crate) fn parse_kind(
    kind: Option<&str>,
    jurisdiction: Option<&str>,
    role: NodeRole,
) -> Result<Option<(PartyKind, Option<String>)>, String> {
    let Some(kind) = kind else {
        if jurisdiction.is_some() {
            return Err("a jurisdiction (node.jurisdiction) needs a kind (node.kind)".into());
        }
        return Ok(None);
    };
    let kind = PartyKind::parse(kind).ok_or_else(|| {
        format!(
            "kind {kind:?} (node.kind) is not one of authority, cert, provider, expert, witness"
        )
    })?;
    liaison_core::card::check_kind(kind, role, jurisdiction)
        .map_err(|e| format!("node.kind, node.jurisdiction: {e}"))?;
    Ok(Some((kind, jurisdiction.map(str::to_owned))))
}

pub(crate) fn parse_role(role: &str) -> Result<NodeRole, NodeError> {
    match role {
        "party" => Ok(NodeRole::Party),
        "witness" => Ok(NodeRole::Witness),
        other => Err(NodeError::Config(format!(
            "node.role {other:?} is not \"party\" or \"witness\""
        ))),
    }
}

impl Node {
    pub fn dir(&self) -> &NodeDir {
        &self.dir
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// This node's party code.
    pub fn party(&self) -> &PartyCode {
        &self.party
    }

    pub fn role(&self) -> NodeRole {
        self.role
    }

    /// What kind of party this node is (an authority, or a witness, for a
    /// node made before party kinds).
    pub fn kind(&self) -> PartyKind {
        self.kind.as_ref().map_or_else(
            || liaison_core::card::implied_kind(self.role),
            |(kind, _)| *kind,
        )
    }

    /// The TLS identity this node presents now (a rotation's replaced one
    /// while its overlap lasts).
    pub fn tls(&self) -> Arc<tls::TlsIdentity> {
        self.tls.presented()
    }

    /// Every TLS identity of this node (the federation listener's
    /// certificate resolver reads it at each handshake).
    pub fn tls_keys(&self) -> &Arc<tls::TlsKeys> {
        &self.tls
    }

    /// The store itself, for tests and benchmarks only: the listeners and
    /// the CLI go through the node (the tidy test keeps them off it).
    #[doc(hidden)]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Opens the node in `dir`, with environment overrides applied.
    pub fn open(dir: &Path) -> Result<Node, NodeError> {
        let dir = NodeDir::new(dir);
        if !dir.config().exists() {
            return Err(NodeError::Invalid(format!(
                "{} is not a Liaison node directory (no liaison.toml); create one with `liaison init`",
                dir.root().display()
            )));
        }
        let config =
            Config::from_toml_with_env(&read_text(&dir.config())?, |v| std::env::var(v).ok())?;
        let party = PartyCode::parse(&config.node.party)?;
        let role = parse_role(&config.node.role)?;
        let kind = parse_kind(
            config.node.kind.as_deref(),
            config.node.jurisdiction.as_deref(),
            role,
        )
        .map_err(NodeError::Config)?;
        if let Some(n) = config.orders.card_notification() {
            if !matches!(kind, Some((PartyKind::Authority, Some(_)))) {
                return Err(NodeError::Config(
                    "orders.notify: only an authority with a jurisdiction requires notification of orders".into(),
                ));
            }
            liaison_core::order::check_notification(&n)
                .map_err(|e| NodeError::Config(format!("orders.notify: {e}")))?;
        }
        let log_signer = NoteSigner::parse(&read_text(&dir.log_key())?)
            .map_err(|e| NodeError::Invalid(format!("{}: {e}", dir.log_key().display())))?;
        let store = Store::open(
            &dir.database(),
            liaison_store::LogSigners::single(log_signer),
            WriterOptions {
                max_batch: config.log.max_batch.max(1) as usize,
            },
        )?;
        let last = keys::last_change(&store, party.as_str())?;
        store.set_log_signers(keys::settle_log_keys(&dir, last.as_ref())?)?;
        let tls = Arc::new(tls::TlsKeys::from_set(keys::settle_tls(
            &dir,
            last.as_ref(),
            config.federation.post_quantum_kx,
        )?));
        let recovery_key = Arc::new(std::sync::RwLock::new(keys::read_recovery_key(&dir)?));
        let cosigners = match role {
            NodeRole::Witness => Some(Arc::new(keys::settle_cosigners(&dir, last.as_ref())?)),
            NodeRole::Party => None,
        };
        Ok(Node {
            dir,
            party,
            role,
            kind,
            store,
            cosigners: Arc::new(std::sync::RwLock::new(cosigners)),
            recovery_key,
            tls,
            wake: Arc::new(wake::OutboxWake::default()),
            pinned: Arc::new(tokio::sync::Notify::new()),
            delivering: Arc::default(),
            issued: Default::default(),
            hash_index: Default::default(),
            hash_sync: Arc::new(content::HashSync::new()),
            attachment_inflight: Default::default(),
            image_workers: Arc::new(workers::Workers::new(
                "image",
                config.limits.image_hashes.max(1) as usize,
                64,
            )),
            guard: users::Guard::new(&config.limits)?,
            key_catch_up: Default::default(),
            signing: Default::default(),
            config,
        })
    }

    /// This node's card, as peers should pin it.
    pub fn card(&self) -> NodeCard {
        let cosigners = self.cosigners();
        // A node made before party kinds keeps its version 1 card.
        let (version, kind, jurisdiction) = match &self.kind {
            Some((kind, jurisdiction)) => (CARD_VERSION, Some(*kind), jurisdiction.clone()),
            None => (liaison_proto::CARD_VERSION_1, None, None),
        };
        NodeCard {
            liaison_card: version,
            kind,
            jurisdiction,
            party: self.party.to_string(),
            name: self.config.node.name.clone(),
            role: self.role,
            lang: self.config.node.lang.clone(),
            federation_url: self.config.federation_url(),
            log_origin: self.store.log_origin().to_owned(),
            log_key: self.store.log_signer().verifier().to_encoded(),
            cosigner_key: cosigners
                .as_ref()
                .map(|c| c.current.ed25519.verifier().to_encoded()),
            cosigner_key_ml_dsa: cosigners
                .as_ref()
                .and_then(|c| c.current.ml_dsa.as_ref())
                .map(|k| k.verifier().to_encoded()),
            recovery_key: self
                .recovery_public_key()
                .as_ref()
                .map(NoteVerifier::to_encoded),
            tls_certificate: self.tls.current().certificate_pem.clone(),
            tls_fingerprint: self.tls.current().fingerprint_hex(),
            notification: match &self.kind {
                Some((liaison_proto::PartyKind::Authority, Some(_))) => {
                    self.config.orders.card_notification()
                }
                _ => None,
            },
            calendar: Some(liaison_proto::CardCalendar {
                time_zone: self.config.deadlines.time_zone.clone(),
                business_days: self.config.deadlines.business_days.clone(),
                business_hours: self.config.deadlines.business_hours.clone(),
            }),
        }
    }

    /// The exact bytes the log commits to for the card.
    pub fn card_json(&self) -> Result<String, NodeError> {
        serde_json::to_string_pretty(&self.card())
            .map_err(|e| NodeError::Invalid(format!("cannot encode the card: {e}")))
    }

    /// Commits the current card to the log unless the last committed card
    /// is the same. The first entry of every log is its card.
    pub async fn log_card_if_changed(&self) -> Result<bool, NodeError> {
        let json = self.card_json()?;
        let committed = self
            .store
            .write(move |tx| {
                let last = liaison_store::get_meta(tx.conn(), "card_json")?;
                if last.as_deref() == Some(json.as_str()) {
                    return Ok(false);
                }
                liaison_store::set_meta(tx.conn(), "card_json", &json)?;
                tx.append_leaf(LeafEntry::new(LeafKind::Card, json.as_bytes()).encode());
                Ok(true)
            })
            .await?;
        Ok(committed.value)
    }

    /// Pins a peer from its card (checked first). A changed card for an
    /// already pinned party needs `replace`.
    pub async fn pin_peer(
        &self,
        card: &NodeCard,
        replace: bool,
    ) -> Result<(CheckedCard, PinOutcome), NodeError> {
        let checked = check_card(card)?;
        if checked.party == self.party {
            return Err(NodeError::Invalid(format!(
                "the card is for party {}, which is this node itself",
                checked.party
            )));
        }
        let peer = PinnedPeer {
            party: checked.party.to_string(),
            card_json: serde_json::to_string(card)
                .map_err(|e| NodeError::Invalid(format!("cannot encode the card: {e}")))?,
            fingerprint: card.tls_fingerprint.clone(),
            pinned_at: now_rfc3339(),
        };
        let pinned = card.clone();
        let outcome = self
            .store
            .write(move |tx| {
                // A card a recorded key change replaced would roll the pin
                // back to keys the party gave up (or lost).
                for row in liaison_store::keys::of_party(tx.conn(), &peer.party)? {
                    let replaced: NodeCard = serde_json::from_str(&row.previous_card)
                        .map_err(|e| StoreError::Corrupt(format!("a stored card: {e}")))?;
                    if peer_keys::same_keys(&replaced, &pinned) {
                        return Err(StoreError::Conflict(format!(
                            "this card of {} was replaced by its key change {} of {}: pin its current card, or follow its chain with `liaison key follow`",
                            peer.party, row.sequence, row.issued_at
                        )));
                    }
                }
                liaison_store::peers::pin(tx.conn(), &peer, replace)
            })
            .await?
            .value;
        // Delivery workers start for a new peer at once.
        self.pinned.notify_one();
        Ok((checked, outcome))
    }

    /// Every pinned peer, with its checked card.
    /// Delivery workers running in this process: one per peer with
    /// envelopes to send, none for the quiet ones.
    pub fn delivery_workers(&self) -> usize {
        self.delivering.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn peers(&self) -> Result<Vec<CheckedCard>, NodeError> {
        let rows = self.store.read(liaison_store::peers::all)?;
        rows.iter().map(checked_from_row).collect()
    }

    /// The pinned peer presenting the certificate with this fingerprint.
    pub fn peer_by_fingerprint(
        &self,
        fingerprint: &[u8; 32],
    ) -> Result<Option<CheckedCard>, NodeError> {
        let hex = liaison_log::Hash(*fingerprint).to_hex();
        let row = self
            .store
            .read(|c| liaison_store::peers::by_fingerprint(c, &hex))?;
        if let Some(row) = row {
            return checked_from_row(&row).map(Some);
        }
        // A certificate a peer rotated away from, while its overlap lasts.
        match self.party_by_previous_fingerprint(&hex)? {
            Some(party) => self.peer(&party),
            None => Ok(None),
        }
    }

    pub fn peer(&self, party: &str) -> Result<Option<CheckedCard>, NodeError> {
        let row = self
            .store
            .read(|c| liaison_store::peers::by_party(c, party))?;
        row.as_ref().map(checked_from_row).transpose()
    }
}

/// Checked cards by their JSON: checking parses a certificate and a key, and
/// peers are looked up for every message.
static CHECKED_CARDS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, CheckedCard>>,
> = std::sync::LazyLock::new(Default::default);

fn checked_from_row(row: &PinnedPeer) -> Result<CheckedCard, NodeError> {
    let cache = || {
        CHECKED_CARDS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(c) = cache().get(&row.card_json) {
        return Ok(c.clone());
    }
    let checked = check_card_json(row)?;
    let mut map = cache();
    if map.len() > 1024 {
        map.clear();
    }
    map.insert(row.card_json.clone(), checked.clone());
    Ok(checked)
}

fn check_card_json(row: &PinnedPeer) -> Result<CheckedCard, NodeError> {
    let card: NodeCard = serde_json::from_str(&row.card_json).map_err(|e| {
        NodeError::Invalid(format!("stored card of {} is unreadable: {e}", row.party))
    })?;
    Ok(check_card(&card)?)
}

/// The current UTC time as RFC 3339, to the second.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

/// A fresh random 32-byte seed from the operating system.
pub(crate) fn random_seed() -> Result<[u8; 32], NodeError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| NodeError::Invalid(format!("no randomness available: {e}")))?;
    Ok(seed)
}

pub(crate) fn cosigner_name(party: &PartyCode, log_origin: &str) -> String {
    // Distinct from the log key name: the cosigner key has its own identity.
    let suffix = log_origin.rsplit('/').next().unwrap_or_default();
    format!("liaison/{party}/witness/{suffix}")
}

pub(crate) const COSIGNER_TYPE: u8 = COSIGNATURE_V1;
