//! `liaison peer`: pinning parties from their cards.

use std::path::Path;

use liaison_node::Node;
use liaison_node::rows::PinOutcome;
use liaison_proto::NodeCard;
use serde_json::json;

use crate::cli::PeerCommand;
use crate::error::CliError;
use crate::output::print_json;

pub(super) fn read_card(path: &Path) -> Result<NodeCard, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::invalid(format!("{} is not a node card: {e}", path.display())))
}

pub(super) async fn peer(command: PeerCommand, json: bool) -> Result<(), CliError> {
    match command {
        PeerCommand::Add {
            dir,
            card_file: None,
            from_directory: Some(party),
            fingerprint,
            ..
        } => {
            let node = Node::open(&dir)?;
            let checked = node
                .pin_from_directory(&party, fingerprint.as_deref().unwrap_or_default())
                .await?;
            let card = &checked.card;
            if json {
                print_json(
                    &json!({"party": checked.party.as_str(), "outcome": "pinned", "fingerprint": card.tls_fingerprint}),
                )
            } else {
                println!(
                    "Peer {} ({}) pinned from the directory: certificate {}, log {}.",
                    checked.party, card.name, card.tls_fingerprint, card.log_origin
                );
                Ok(())
            }
        }
        PeerCommand::Add {
            dir,
            card_file,
            replace,
            ..
        } => {
            let node = Node::open(&dir)?;
            let path = card_file
                .ok_or_else(|| CliError::invalid("give a card file or --from-directory"))?;
            let card = read_card(&path)?;
            let (checked, outcome) = node.pin_peer(&card, replace).await?;
            let what = match outcome {
                PinOutcome::Added => "pinned",
                PinOutcome::Unchanged => "already pinned with this card",
                PinOutcome::Replaced => "re-pinned with its new card",
            };
            if json {
                print_json(
                    &json!({"party": checked.party.as_str(), "outcome": what, "fingerprint": card.tls_fingerprint}),
                )
            } else {
                println!(
                    "Peer {} ({}) {what}: certificate {}, log {}.",
                    checked.party, card.name, card.tls_fingerprint, card.log_origin
                );
                Ok(())
            }
        }
        PeerCommand::List { dir } => {
            let node = Node::open(&dir)?;
            let peers = node.peers()?;
            if json {
                let cards: Vec<&NodeCard> = peers.iter().map(|p| &p.card).collect();
                print_json(&cards)
            } else {
                if peers.is_empty() {
                    println!("No peers pinned. Pin one with `liaison peer add DIR CARD_FILE`.");
                }
                for p in peers {
                    println!(
                        "{}\t{}\t{}\t{}",
                        p.party, p.card.role, p.card.federation_url, p.card.name
                    );
                }
                Ok(())
            }
        }
    }
}
