//! `liaison init`: creating a node directory with its keys, configuration,
//! database, and a log whose first entry is the node's card.

use std::fs;
use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;

use liaison_core::PartyCode;
use liaison_log::Hash;
use liaison_log::note::{ED25519, NoteSigner};
use liaison_proto::NodeRole;
use liaison_store::Store;

use crate::config::{AppSection, Config, FederationSection, LogSection, NodeSection};
use crate::{
    COSIGNER_TYPE, Node, NodeDir, NodeError, cosigner_name, parse_kind, parse_role, random_seed,
};

#[derive(Clone, Debug)]
pub struct InitOptions {
    pub party: String,
    pub name: String,
    pub lang: String,
    pub role: String,
    /// The party's kind; by default an authority (a witness for a witness).
    pub kind: Option<String>,
    /// ISO 3166-1 alpha-2 code of its jurisdiction.
    pub jurisdiction: Option<String>,
    pub listen: String,
    pub app_listen: String,
    pub public_url: String,
    /// An authority: data categories of direct orders to providers in its
    /// jurisdiction it must be notified of (comma-separated; `orders.notify`).
    pub notify: String,
}

impl InitOptions {
    pub fn new(party: &str, name: &str) -> InitOptions {
        InitOptions {
            party: party.to_owned(),
            name: name.to_owned(),
            lang: "en".to_owned(),
            role: "party".to_owned(),
            kind: None,
            jurisdiction: None,
            listen: "127.0.0.1:7443".to_owned(),
            app_listen: "127.0.0.1:8080".to_owned(),
            public_url: String::new(),
            notify: String::new(),
        }
    }
}

/// Creates a node in `dir` (which must be absent or empty) and returns it
/// opened. Checks every option before touching the disk.
pub async fn init(dir: &Path, options: &InitOptions) -> Result<Node, NodeError> {
    let party = PartyCode::parse(&options.party)?;
    let name = options.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(NodeError::Invalid(
            "the name must be 1 to 200 characters".into(),
        ));
    }
    if !matches!(options.lang.as_str(), "en" | "ru") {
        return Err(NodeError::Invalid(format!(
            "language {:?} is not supported: use \"en\" or \"ru\"",
            options.lang
        )));
    }
    let role = parse_role(&options.role)?;
    let kind = options
        .kind
        .as_deref()
        .unwrap_or(liaison_core::card::implied_kind(role).as_str());
    parse_kind(Some(kind), options.jurisdiction.as_deref(), role).map_err(NodeError::Invalid)?;
    let orders = crate::config::OrdersSection {
        notify: options.notify.clone(),
        ..Default::default()
    };
    if let Some(n) = orders.card_notification() {
        if kind != "authority" || options.jurisdiction.is_none() {
            return Err(NodeError::Invalid(
                "--notify is for an authority with a jurisdiction (--kind authority --jurisdiction CC)".into(),
            ));
        }
        liaison_core::order::check_notification(&n)
            .map_err(|e| NodeError::Invalid(format!("--notify: {e}")))?;
    }
    for (what, addr) in [
        ("--listen", &options.listen),
        ("--app-listen", &options.app_listen),
    ] {
        addr.parse::<SocketAddr>().map_err(|_| {
            NodeError::Invalid(format!(
                "{what} {addr:?} is not an address like 127.0.0.1:7443"
            ))
        })?;
    }
    prepare_empty_dir(dir)?;
    let nd = NodeDir::new(dir);
    make_private_dir(&nd.keys())?;

    let log_seed = random_seed()?;
    let provisional = NoteSigner::new("liaison", ED25519, log_seed)
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
    // The origin names the party and the key, so a re-created node is a new log.
    let key_tag = &Hash::of_content(provisional.verifier().public_key().as_bytes()).to_hex()[..8];
    let origin = format!("liaison/{party}/{key_tag}");
    let log_signer = NoteSigner::new(&origin, ED25519, log_seed)
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
    write_private(&nd.log_key(), &format!("{}\n", log_signer.to_encoded()))?;
    // Kept apart from the node: only it revokes a stolen log key.
    let recovery = NoteSigner::new(
        &liaison_core::card::recovery_key_name(&party),
        ED25519,
        random_seed()?,
    )
    .map_err(|e| NodeError::Invalid(e.to_string()))?;
    write_private(&nd.recovery_key(), &format!("{}\n", recovery.to_encoded()))?;
    write_file(
        &nd.recovery_public_key(),
        &format!("{}\n", recovery.verifier().to_encoded()),
        0o644,
    )?;
    if role == NodeRole::Witness {
        let cosigner = NoteSigner::new(
            &cosigner_name(&party, &origin),
            COSIGNER_TYPE,
            random_seed()?,
        )
        .map_err(|e| NodeError::Invalid(e.to_string()))?;
        write_private(&nd.cosigner_key(), &format!("{}\n", cosigner.to_encoded()))?;
        // The same cosigner under a post-quantum key (c2sp.org/tlog-cosignature).
        let ml_dsa = liaison_log::mldsa::MlDsaCosigner::new(cosigner.name(), random_seed()?)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        write_private(
            &nd.ml_dsa_cosigner_key(),
            &format!("{}\n", ml_dsa.to_encoded()),
        )?;
    }
    let (cert_pem, key_pem) = crate::tls::generate_self_signed(&party, name)?;
    write_private(&nd.tls_key(), &key_pem)?;
    write_file(&nd.tls_cert(), &cert_pem, 0o644)?;

    let config = Config {
        node: NodeSection {
            party: party.to_string(),
            name: name.to_owned(),
            lang: options.lang.clone(),
            role: role.to_string(),
            kind: Some(kind.to_owned()),
            jurisdiction: options.jurisdiction.clone(),
        },
        federation: FederationSection {
            listen: options.listen.clone(),
            public_url: options.public_url.clone(),
            max_clock_skew_secs: 300,
            post_quantum_kx: true,
        },
        app: AppSection {
            listen: options.app_listen.clone(),
            public_url: String::new(),
        },
        log: LogSection::default(),
        delivery: Default::default(),
        witness: Default::default(),
        deadlines: Default::default(),
        escalation: Default::default(),
        hotline: Default::default(),
        content: Default::default(),
        attachments: Default::default(),
        limits: Default::default(),
        accounts: Default::default(),
        reference: Default::default(),
        orders,
        directory: Default::default(),
    };
    write_file(&nd.config(), &config.to_toml()?, 0o644)?;
    Store::create(&nd.database())?;
    // Cases and messages live here: owner-only, like the keys. SQLite gives
    // its -wal and -shm files the database file's permissions.
    fs::set_permissions(
        nd.database(),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .map_err(|e| NodeError::io(format!("cannot restrict {}", nd.database().display()), e))?;
    let node = Node::open(dir)?;
    node.log_card_if_changed().await?;
    // The glossary seed is searchable from the start.
    node.rebuild_search_index(|_, _| {}).await?;
    Ok(node)
}

fn prepare_empty_dir(dir: &Path) -> Result<(), NodeError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(NodeError::Invalid(format!(
                    "{} is not empty; choose a new or empty directory",
                    dir.display()
                )));
            }
            // An existing empty directory must still be writable.
            let probe = dir.join(".liaison-init");
            fs::write(&probe, b"")
                .map_err(|e| NodeError::io(format!("cannot write to {}", dir.display()), e))?;
            fs::remove_file(&probe)
                .map_err(|e| NodeError::io(format!("cannot write to {}", dir.display()), e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| NodeError::io(format!("cannot create {}", dir.display()), e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(NodeError::Invalid(
            format!("{} is a file, not a directory", dir.display()),
        )),
        Err(e) => Err(NodeError::io(format!("cannot use {}", dir.display()), e)),
    }
}

fn make_private_dir(path: &Path) -> Result<(), NodeError> {
    fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| NodeError::io(format!("cannot create {}", path.display()), e))
}

pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), NodeError> {
    write_file(path, text, 0o600)
}

/// Writes a new file with `mode` from the start (a key is never readable by
/// others, not even briefly), and fsyncs it.
fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), NodeError> {
    let err = |e| NodeError::io(format!("cannot write {}", path.display()), e);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}
