//! `liaison key`: rotating this node's log key and reading key histories.

use liaison_node::Node;

use crate::cli::KeyCommand;
use crate::error::CliError;
use crate::output::print_json;

pub(super) async fn key(command: KeyCommand, json: bool) -> Result<(), CliError> {
    match command {
        KeyCommand::Rotate {
            dir,
            log: _,
            overlap_secs,
        } => {
            let node = Node::open(&dir)?;
            let rotated = node.rotate_log_key(overlap_secs).await?;
            if json {
                return print_json(&rotated);
            }
            println!(
                "Log key rotated (key change {}).\nOld key: {}\nNew key: {}\nBoth sign checkpoints until {}; sent to {} pinned part{}: {}.",
                rotated.sequence,
                rotated.old_log_key,
                rotated.new_log_key,
                rotated.overlap_until,
                rotated.sent_to.len(),
                if rotated.sent_to.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                if rotated.sent_to.is_empty() {
                    "none".to_owned()
                } else {
                    rotated.sent_to.join(", ")
                }
            );
            Ok(())
        }
        KeyCommand::History { dir, peer } => {
            let node = Node::open(&dir)?;
            let party = match &peer {
                Some(p) => {
                    if node.peer(p)?.is_none() {
                        return Err(CliError::invalid(format!("{p} is not a pinned party")));
                    }
                    p.clone()
                }
                None => node.party().to_string(),
            };
            let history = node.key_history(&party)?;
            if json {
                return print_json(&history);
            }
            if history.is_empty() {
                println!("{party}: no key change; the first card's keys are in use.");
            }
            for h in &history {
                println!(
                    "{party} #{} {} at {}{}{}\n  log key {} → {}\n  TLS {} → {}",
                    h.sequence,
                    h.kind,
                    h.issued_at,
                    h.overlap_until
                        .as_ref()
                        .map(|u| format!(", old keys accepted until {u}"))
                        .unwrap_or_default(),
                    h.compromised_since
                        .as_ref()
                        .map(|c| format!(", compromised since {c}"))
                        .unwrap_or_default(),
                    h.old_log_key,
                    h.new_log_key,
                    h.old_tls_fingerprint,
                    h.new_tls_fingerprint
                );
            }
            Ok(())
        }
    }
}
