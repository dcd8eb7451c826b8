//! `liaison key`: rotating this node's log key and its recovery key,
//! carrying key changes by hand where the network cannot, and reading key
//! histories.

use liaison_log::note::NoteSigner;
use liaison_node::Node;
use liaison_node::keys::KeysToRotate;

use crate::cli::KeyCommand;
use crate::error::CliError;
use crate::output::print_json;

/// A signer key file (the recovery key's).
fn read_key(path: &std::path::Path) -> Result<NoteSigner, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?;
    NoteSigner::parse(&text).map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))
}

pub(super) async fn key(command: KeyCommand, json: bool) -> Result<(), CliError> {
    match command {
        KeyCommand::Rotate {
            dir,
            log,
            tls,
            cosigner,
            overlap_secs,
        } => {
            let node = Node::open(&dir)?;
            let what = KeysToRotate { log, tls, cosigner };
            let rotated = node.rotate_keys(what, overlap_secs).await?;
            if json {
                return print_json(&rotated);
            }
            let mut lines = vec![format!("Keys rotated (key change {}).", rotated.sequence)];
            if rotated.old_log_key != rotated.new_log_key {
                lines.push(format!(
                    "Log key: {} -> {}",
                    rotated.old_log_key, rotated.new_log_key
                ));
            }
            lines.push(format!("TLS certificate: {}", rotated.tls_fingerprint));
            if let Some(key) = &rotated.cosigner_key {
                lines.push(format!("Cosigning key: {key} (and a new ML-DSA-44 key)"));
            }
            lines.push(format!(
                "The replaced keys stay accepted until {}; sent to {} pinned part{}: {}.",
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
            ));
            println!("{}", lines.join("\n"));
            Ok(())
        }
        KeyCommand::RotateRecovery {
            dir,
            recovery_key,
            out,
        } => {
            let old = read_key(&recovery_key)?;
            let node = Node::open(&dir)?;
            let (sequence, sent_to) = node.rotate_recovery_key(&old, &out).await?;
            if json {
                return print_json(&serde_json::json!({
                    "sequence": sequence,
                    "recovery_key": node.recovery_public_key().map(|k| k.to_encoded()),
                    "recovery_key_file": out,
                    "sent_to": sent_to,
                }));
            }
            println!(
                "Recovery key replaced (key change {sequence}); sent to {} pinned part{}.\nThe new recovery key is in {}: move it offline and delete it here. The old one no longer counts.",
                sent_to.len(),
                if sent_to.len() == 1 { "y" } else { "ies" },
                out.display()
            );
            Ok(())
        }
        KeyCommand::Revoke {
            dir,
            recovery_key,
            compromised_since,
        } => {
            let since: jiff::Timestamp = compromised_since.parse().map_err(|_| {
                CliError::invalid(format!(
                    "--compromised-since {compromised_since:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z"
                ))
            })?;
            let recovery = read_key(&recovery_key)?;
            let node = Node::open(&dir)?;
            let (revoked, sent_to) = node.revoke_log_key(&recovery, since).await?;
            if json {
                return print_json(&serde_json::json!({"change": revoked, "sent_to": sent_to}));
            }
            println!(
                "Log key {} revoked (key change {}), presumed stolen since {}.\nNew log key: {}\nSent to {} pinned part{}; they refuse what the revoked key signs and flag what they accepted from it since then. Put the recovery key back offline.",
                revoked.old_log_key,
                revoked.sequence,
                revoked.compromised_since.as_deref().unwrap_or_default(),
                revoked.new_log_key,
                sent_to.len(),
                if sent_to.len() == 1 { "y" } else { "ies" },
            );
            Ok(())
        }
        KeyCommand::Export { dir, out } => {
            let node = Node::open(&dir)?;
            let changes = node.own_key_changes()?;
            let text = serde_json::to_string_pretty(&changes)
                .map_err(|e| CliError::invalid(format!("cannot encode the key changes: {e}")))?;
            std::fs::write(&out, text)
                .map_err(|e| CliError::io(format!("cannot write {}: {e}", out.display())))?;
            if json {
                return print_json(&serde_json::json!({
                    "party": node.party().to_string(),
                    "changes": changes.len(),
                    "out": out,
                }));
            }
            println!(
                "{} key change{} of {} written to {}: hand it to the peer's operator, who runs `liaison key follow DIR {}`.",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" },
                node.party(),
                out.display(),
                out.display()
            );
            Ok(())
        }
        KeyCommand::Follow { dir, file } => {
            let node = Node::open(&dir)?;
            let (party, followed) = node.follow_key_changes_file(&file).await?;
            let log_key = node
                .peer(&party)?
                .map(|card| card.card.log_key)
                .unwrap_or_default();
            if json {
                return print_json(&serde_json::json!({
                    "party": party,
                    "followed": followed,
                    "log_key": log_key,
                }));
            }
            println!(
                "{party}: followed {followed} key change{}; the pinned log key is now {log_key}.",
                if followed == 1 { "" } else { "s" },
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
