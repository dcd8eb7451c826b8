//! `liaison demo`: the parties of the background documents — `us` (English)
//! and `ru` (Russian) — and a neutral witness, on loopback, pinned to each
//! other and served from one process until Ctrl-C.

use std::path::Path;

use liaison_node::{InitOptions, Node};

use crate::error::CliError;

struct DemoParty {
    code: &'static str,
    name: &'static str,
    lang: &'static str,
    role: &'static str,
}

const PARTIES: [DemoParty; 3] = [
    DemoParty {
        code: "us",
        name: "United States — Department of Justice, Office of International Affairs",
        lang: "en",
        role: "party",
    },
    DemoParty {
        code: "ru",
        name: "Российская Федерация — Генеральная прокуратура",
        lang: "ru",
        role: "party",
    },
    DemoParty {
        code: "witness",
        name: "Independent expert group (witness)",
        lang: "en",
        role: "witness",
    },
];

pub async fn run(dir: &Path, base_port: u16) -> Result<(), CliError> {
    let mut nodes = Vec::new();
    for (i, p) in PARTIES.iter().enumerate() {
        let node_dir = dir.join(p.code);
        let node = if node_dir.join("liaison.toml").exists() {
            Node::open(&node_dir)?
        } else {
            let port = |k: u16| -> Result<u16, CliError> {
                base_port
                    .checked_add(2 * i as u16 + k)
                    .ok_or_else(|| CliError::invalid("--base-port is too high"))
            };
            let mut options = InitOptions::new(p.code, p.name);
            options.lang = p.lang.to_owned();
            options.role = p.role.to_owned();
            options.listen = format!("127.0.0.1:{}", port(0)?);
            options.app_listen = format!("127.0.0.1:{}", port(1)?);
            liaison_node::init(&node_dir, &options).await?
        };
        nodes.push(node);
    }
    for a in &nodes {
        for b in &nodes {
            if a.party != b.party {
                a.pin_peer(&b.card(), true).await?;
            }
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
    println!(
        "Liaison demo in {} — three nodes, pinned to each other:\n",
        dir.display()
    );
    for (node, server) in &servers {
        println!(
            "  {:<8} {:<8} app http://{}   federation https://{}   log {}",
            node.party.as_str(),
            node.role.to_string(),
            server.app_addr,
            server.federation_addr,
            node.store.log_origin()
        );
    }
    println!("\nVerify a log:  liaison log verify {}/us", dir.display());
    println!("Stop with Ctrl-C.");
    let _ = tokio::signal::ctrl_c().await;
    for (_, server) in servers {
        server.shutdown().await;
    }
    Ok(())
}
