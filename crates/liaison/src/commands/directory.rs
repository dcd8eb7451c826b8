//! `liaison directory`: publishing this party's entry, fetching the pinned
//! peers' directories, and listing every party with its latest entry.

use std::path::Path;

use liaison_core::directory::ContactPoint;
use liaison_node::Node;

use crate::error::CliError;
use crate::output::print_json;

pub(super) async fn directory(
    dir: &Path,
    publish: Option<&Path>,
    sync: bool,
    json: bool,
) -> Result<(), CliError> {
    let node = Node::open(dir)?;
    if let Some(file) = publish {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::io(format!("cannot read {}: {e}", file.display())))?;
        let contacts: Vec<ContactPoint> = serde_json::from_str(&text).map_err(|e| {
            CliError::invalid(format!(
                "{} is not a list of contact points: {e}",
                file.display()
            ))
        })?;
        let published = node.publish_directory(Some(contacts)).await?;
        if !json {
            eprintln!(
                "{}",
                if published {
                    "Published a new directory entry."
                } else {
                    "The directory entry is unchanged."
                }
            );
        }
    }
    if sync {
        let report = node.sync_directory().await?;
        if !json {
            eprintln!(
                "Fetched {} records: {} new, {} refused.",
                report.fetched, report.added, report.refused
            );
            for u in &report.unreachable {
                eprintln!("  unreachable: {u}");
            }
        }
    }
    let listing = node.directory()?;
    if json {
        return print_json(&listing);
    }
    for l in &listing {
        let kind = l.entry.card.kind.map_or("authority", |k| k.as_str());
        let pinned = match (l.pinned, l.pinned_same_card) {
            _ if l.source == "self" => "this node",
            (true, true) => "pinned",
            (true, false) => "PINNED WITH ANOTHER CARD",
            (false, _) => "not pinned",
        };
        println!(
            "{}\t{}\t{}\t{}\t{} version(s)\twitnessed by {}\t{}\tfingerprint {}",
            l.party,
            kind,
            l.entry.card.jurisdiction.as_deref().unwrap_or("-"),
            l.entry.card.name,
            l.versions,
            if l.witnesses.is_empty() {
                "-".to_owned()
            } else {
                l.witnesses.join(", ")
            },
            pinned,
            l.entry.card.tls_fingerprint
        );
        for c in &l.entry.contacts {
            println!(
                "\t24/7: {} ({}), {}, {} {} [{}]",
                c.name,
                c.role,
                c.hours,
                c.phone,
                c.email,
                c.languages.join(", ")
            );
        }
    }
    Ok(())
}
