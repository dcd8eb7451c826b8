//! `liaison demo`: the parties of the background documents — `us` (English)
//! and `ru` (Russian) authorities — with a provider in each jurisdiction
//! (`us-isp`, `ru-isp`) and an expert group (`ngo`) whose node is the
//! others' witness, on loopback, pinned to each other, with users of every
//! role and a realistic set of cases in every kind and state (`seed.json`,
//! played by `seed`: forwarding with its chain of custody, direct orders
//! notified to `ru`, a report to both providers, a joint team), served from
//! one process until Ctrl-C.

mod seed;

use std::path::Path;

use liaison_node::{InitOptions, Node};

use crate::error::CliError;

struct DemoParty {
    code: &'static str,
    name: &'static str,
    lang: &'static str,
    role: &'static str,
    kind: &'static str,
    jurisdiction: Option<&'static str>,
    /// Direct orders to providers here that the authority must be notified of.
    notify: &'static str,
    time_zone: &'static str,
}

/// The nodes, parties first (the seed plays on them), the witness last.
const PARTIES: [DemoParty; 5] = [
    DemoParty {
        code: "us",
        name: "United States — Department of Justice, Office of International Affairs",
        lang: "en",
        role: "party",
        kind: "authority",
        jurisdiction: Some("US"),
        notify: "",
        time_zone: "America/New_York",
    },
    DemoParty {
        code: "ru",
        name: "Российская Федерация — Генеральная прокуратура",
        lang: "ru",
        role: "party",
        kind: "authority",
        jurisdiction: Some("RU"),
        notify: "subscriber_information,traffic_data",
        time_zone: "Europe/Moscow",
    },
    DemoParty {
        code: "us-isp",
        name: "ExampleNet Inc. (U.S. provider)",
        lang: "en",
        role: "party",
        kind: "provider",
        jurisdiction: Some("US"),
        notify: "",
        time_zone: "America/New_York",
    },
    DemoParty {
        code: "ru-isp",
        name: "ООО «ПримерТелеком» (российский провайдер)",
        lang: "ru",
        role: "party",
        kind: "provider",
        jurisdiction: Some("RU"),
        notify: "",
        time_zone: "Europe/Moscow",
    },
    DemoParty {
        code: "ngo",
        name: "Independent expert group (witness of the others)",
        lang: "en",
        role: "witness",
        kind: "witness",
        jurisdiction: None,
        notify: "",
        time_zone: "UTC",
    },
];

/// How many parties (not the witness) the seed plays on.
const SEEDED: usize = 4;

/// Every demo user's password (printed with the logins).
pub const DEMO_PASSWORD: &str = "liaison-demo-2026";

const ROLES: [(&str, &str); 6] = [
    ("admin", "administrator"),
    ("legal", "legal_officer"),
    ("cert", "cert_analyst"),
    ("duty", "duty_officer"),
    ("provider", "provider_liaison"),
    ("observer", "observer"),
];

pub async fn run(dir: &Path, base_port: u16, seed: bool) -> Result<(), CliError> {
    let mut nodes = Vec::new();
    let mut fresh = false;
    for (i, p) in PARTIES.iter().enumerate() {
        let node_dir = dir.join(p.code);
        let node = if node_dir.join("liaison.toml").exists() {
            Node::open(&node_dir)?
        } else {
            fresh = true;
            let port = |k: u16| -> Result<u16, CliError> {
                base_port
                    .checked_add(2 * i as u16 + k)
                    .ok_or_else(|| CliError::invalid("--base-port is too high"))
            };
            let mut options = InitOptions::new(p.code, p.name);
            options.lang = p.lang.to_owned();
            options.role = p.role.to_owned();
            options.kind = Some(p.kind.to_owned());
            options.jurisdiction = p.jurisdiction.map(str::to_owned);
            options.notify = p.notify.to_owned();
            options.listen = format!("127.0.0.1:{}", port(0)?);
            options.app_listen = format!("127.0.0.1:{}", port(1)?);
            drop(liaison_node::init(&node_dir, &options).await?);
            // Each authority counts deadlines in its own calendar.
            let path = node_dir.join("liaison.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| CliError::io(e.to_string()))?;
            let mut config = liaison_node::Config::from_toml_with_env(&text, |_| None)?;
            config.deadlines.time_zone = p.time_zone.to_owned();
            config.witness.interval_secs = 2;
            config.directory.sync_secs = 5;
            std::fs::write(&path, config.to_toml()?).map_err(|e| CliError::io(e.to_string()))?;
            let node = Node::open(&node_dir)?;
            for (user, role) in ROLES {
                node.add_user(user, role, DEMO_PASSWORD, p.lang).await?;
            }
            node
        };
        nodes.push(node);
    }
    for a in &nodes {
        for b in &nodes {
            if a.party() != b.party() {
                a.pin_peer(&b.card(), true).await?;
            }
        }
    }
    // Each party's 24/7 point of contact, in the directory.
    for (node, p) in nodes.iter().zip(PARTIES.iter()) {
        if p.role == "party" {
            node.publish_directory(Some(vec![liaison_core::directory::ContactPoint {
                name: format!("{} — duty desk", p.name),
                role: if p.kind == "provider" {
                    "Law-enforcement liaison desk".to_owned()
                } else {
                    "24/7 point of contact (Budapest Convention art. 35)".to_owned()
                },
                languages: if p.lang == "en" {
                    vec!["en".to_owned()]
                } else {
                    vec![p.lang.to_owned(), "en".to_owned()]
                },
                hours: "24/7".to_owned(),
                phone: "+0 000 000 0000".to_owned(),
                email: format!("duty@{}.example", p.code),
            }]))
            .await?;
        }
    }
    let mut servers = Vec::new();
    for node in &nodes {
        let listeners = liaison_server::bind(node).await?;
        servers.push((
            node.clone(),
            liaison_server::start(node.clone(), listeners).await?,
        ));
    }
    if fresh && seed {
        eprintln!("Seeding cases in every kind and state, and the glossary …");
        let parties: Vec<&Node> = nodes.iter().take(SEEDED).collect();
        seed::run(dir, &parties).await?;
    }
    println!(
        "Liaison demo in {} — five nodes, pinned to each other:\n",
        dir.display()
    );
    for (node, server) in &servers {
        println!(
            "  {:<8} {:<8} web http://{}   federation https://{}   log {}",
            node.party().as_str(),
            node.role().to_string(),
            server.app_addr,
            server.federation_addr,
            node.log_origin()
        );
    }
    println!("\nLogins on every party (password {DEMO_PASSWORD}):");
    for (user, role) in ROLES {
        println!("  {user:<9} {role}");
    }
    println!(
        "\nHash matching: sign in to ru as provider and upload {}/demo-image.jpg on /hashes\n(or: liaison hash match {}/ru {}/demo-image.jpg)",
        dir.display(),
        dir.display(),
        dir.display()
    );
    println!("\nVerify a log:  liaison log verify {}/us", dir.display());
    println!("Stop with Ctrl-C.");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let _ = tokio::signal::ctrl_c().await;
    for (_, server) in servers {
        server.shutdown().await;
    }
    Ok(())
}
