//! `liaison stix`: STIX 2.1 imports and exports.

use liaison_node::Node;

use crate::cli::StixCommand;
use crate::error::CliError;
use crate::output::{print_json, progress_bar};

pub(super) async fn stix(command: StixCommand, json: bool) -> Result<(), CliError> {
    match command {
        StixCommand::Import {
            dir,
            file,
            collection,
        } => {
            let node = Node::open(&dir)?;
            let text = std::fs::read(&file)
                .map_err(|e| CliError::new("io", format!("cannot read {}: {e}", file.display())))?;
            let bundle: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
                CliError::new(
                    "invalid_input",
                    format!("{} is not JSON: {e}", file.display()),
                )
            })?;
            let objects = liaison_core::stix::objects_of(&bundle)
                .map_err(liaison_node::NodeError::from)?
                .clone();
            let bar = progress_bar("importing");
            bar.set_length(objects.len() as u64);
            let outcome = node
                .add_stix_objects(&collection, objects, |done, _| bar.set_position(done))
                .await?;
            bar.finish_and_clear();
            if json {
                print_json(&outcome)?;
            } else {
                let present = outcome
                    .accepted
                    .iter()
                    .filter(|a| a.already_present)
                    .count();
                println!(
                    "{} objects added, {present} already present, {} refused",
                    outcome.accepted.len() - present,
                    outcome.refused.len()
                );
                for r in &outcome.refused {
                    println!(
                        "refused #{} {}: {}",
                        r.index,
                        r.id.as_deref().unwrap_or("(no id)"),
                        r.reason
                    );
                }
            }
            if outcome.refused.is_empty() {
                Ok(())
            } else {
                Err(CliError::new(
                    "partially_imported",
                    format!(
                        "{} of {} objects were refused (the others were imported)",
                        outcome.refused.len(),
                        outcome.refused.len() + outcome.accepted.len()
                    ),
                ))
            }
        }
        StixCommand::Export {
            dir,
            case,
            max_tlp,
            out,
        } => {
            let node = Node::open(&dir)?;
            let ceiling =
                liaison_core::tlp::Tlp::parse(&max_tlp).map_err(liaison_node::NodeError::from)?;
            let bundle = node
                .export_incidents(case.as_deref(), ceiling, "cli")
                .await?;
            let n = bundle["objects"].as_array().map_or(0, Vec::len);
            let text = serde_json::to_string_pretty(&bundle)
                .map_err(|e| CliError::new("internal", e.to_string()))?;
            match out {
                Some(path) => {
                    let bar = progress_bar("writing");
                    bar.set_length(text.len() as u64);
                    std::fs::write(&path, &text).map_err(|e| {
                        CliError::new("io", format!("cannot write {}: {e}", path.display()))
                    })?;
                    bar.finish_and_clear();
                    eprintln!("{n} objects written to {}", path.display());
                }
                None => println!("{text}"),
            }
            Ok(())
        }
    }
}
