//! Running a node and checking it: `serve`, `log`, `audit`.

use std::io::Write as _;
use std::path::Path;

use liaison_log::note::NoteVerifier;
use liaison_node::Node;
use liaison_node::verify::{TileSource, VerifyReport, verify_log};

use crate::cli::LogCommand;
use crate::error::CliError;
use crate::output::{print_json, progress_bar};

pub(super) async fn serve(dir: &Path) -> Result<(), CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    // Watched before "serving" is announced: a signal sent as soon as the
    // line appears must reach the clean shutdown, not the default handler.
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| CliError::io(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| CliError::io(format!("cannot watch SIGINT: {e}")))?;
    let node = Node::open(dir)?;
    let listeners = liaison_server::bind(&node).await?;
    let mut server = liaison_server::start(node.clone(), listeners).await?;
    let scheme = if server.app_tls { "https" } else { "http" };
    println!(
        "liaison: serving party {} — federation https://{}, app {scheme}://{}",
        node.party(),
        server.federation_addr,
        server.app_addr
    );
    let _ = std::io::stdout().flush();
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = server.stopped() => {
            return Err(CliError::new("server_error", "a listener stopped unexpectedly"));
        }
    }
    eprintln!("liaison: shutting down");
    server.shutdown().await;
    eprintln!("liaison: stopped cleanly");
    Ok(())
}

pub(super) async fn log(command: LogCommand, json: bool) -> Result<(), CliError> {
    match command {
        LogCommand::Checkpoint { dir } => {
            let node = Node::open(&dir)?;
            print!("{}", node.log_checkpoint()?);
            Ok(())
        }
        LogCommand::Verify {
            target,
            key,
            as_dir,
        } => {
            let (source, log_key) = verify_source(&target, key.as_deref(), as_dir.as_deref())?;
            let bar = progress_bar("verifying tiles");
            let result = verify_log(&source, &log_key, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await;
            bar.finish_and_clear();
            let report = result
                .map_err(|e| CliError::verification(format!("the log does not verify: {e}")))?;
            print_report(&report, json)
        }
    }
}

pub(super) fn print_report(report: &VerifyReport, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(report);
    }
    let kinds: Vec<String> = report
        .entry_kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    println!(
        "Verified log {}: checkpoint signature valid; {} entries ({}) each match their leaf hash; {} tiles consistent; recomputed root {} equals the checkpoint's.{}",
        report.origin,
        report.size,
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        },
        report.tiles_checked,
        report.root,
        if report.first_entry_is_card {
            " The first entry commits to the node's card."
        } else {
            ""
        }
    );
    Ok(())
}

/// Decides where tiles come from and which key must have signed them.
pub(super) fn verify_source(
    target: &str,
    key: Option<&str>,
    as_dir: Option<&Path>,
) -> Result<(TileSource, NoteVerifier), CliError> {
    let parse_key =
        |k: &str| NoteVerifier::parse(k).map_err(|e| CliError::invalid(format!("--key: {e}")));
    if !(target.starts_with("http://") || target.starts_with("https://")) {
        let node = Node::open(Path::new(target))?;
        let log_key = match key {
            Some(k) => parse_key(k)?,
            None => node.log_verifier(),
        };
        return Ok((TileSource::Local(Box::new(node)), log_key));
    }
    let base_url = target.trim_end_matches('/').to_owned();
    if base_url.starts_with("http://") {
        let log_key = parse_key(key.ok_or_else(|| CliError::invalid("verifying a URL needs --key (the log's verifier key) or --as DIR with the peer pinned"))?)?;
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| CliError::io(format!("cannot build the HTTP client: {e}")))?;
        return Ok((TileSource::Remote { client, base_url }, log_key));
    }
    let dir = as_dir.ok_or_else(|| {
        CliError::invalid("an https:// federation URL needs --as DIR: the node whose TLS identity and pinned peers to use")
    })?;
    let node = Node::open(dir)?;
    let peer = node
        .peers()?
        .into_iter()
        .find(|p| base_url.starts_with(p.card.federation_url.trim_end_matches('/')))
        .ok_or_else(|| {
            CliError::invalid(format!(
                "no pinned peer of {} serves {base_url}",
                dir.display()
            ))
        })?;
    let log_key = match key {
        Some(k) => parse_key(k)?,
        None => peer.log_key.clone(),
    };
    let client = liaison_node::tls::peer_http_client(&node.tls(), peer.fingerprint)?;
    Ok((TileSource::Remote { client, base_url }, log_key))
}

pub(super) async fn audit(
    dir: &Path,
    peer: Option<&str>,
    require_ml_dsa: bool,
    json: bool,
) -> Result<(), CliError> {
    let node = Node::open(dir)?;
    let report = node.audit(peer, require_ml_dsa).await?;
    if json {
        print_json(&report)?;
    } else {
        for p in &report.peers {
            let head = match (p.size, &p.root) {
                (Some(s), Some(r)) => format!("log size {s}, root {r}"),
                _ => "log unavailable".to_owned(),
            };
            let cosigned = if p.cosigned_by.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", p.cosigned_by.join(", "))
            };
            let cosigned = if p.cosigned_by_ml_dsa.is_empty() {
                cosigned
            } else {
                format!(
                    "{cosigned} (ML-DSA-44: {})",
                    p.cosigned_by_ml_dsa.join(", ")
                )
            };
            println!(
                "{}: {} — {head}{cosigned}; {} checkpoints consistent, {} receipts included",
                p.party,
                if p.ok { "OK" } else { "PROBLEMS" },
                p.checkpoints_checked,
                p.receipts_verified
            );
            for problem in &p.problems {
                println!("  {}: {}", problem.kind, problem.message);
            }
        }
        if report.peers.is_empty() {
            println!("No pinned parties to audit.");
        }
    }
    if report.ok {
        Ok(())
    } else {
        Err(CliError::verification(
            "the audit found problems (listed above)",
        ))
    }
}
