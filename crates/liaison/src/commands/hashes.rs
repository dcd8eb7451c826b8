//! `liaison hash …`: PDQ hashes of images and the shared hash list.

use std::path::PathBuf;

use liaison_core::pdq::{PdqOutput, hash_image};
use liaison_node::Node;
use liaison_node::content::{HashQuery, LookupResult};
use serde_json::json;

use crate::cli::HashCommand;
use crate::error::CliError;
use crate::output::{print_json, progress_bar};

pub async fn run(command: HashCommand, json: bool) -> Result<(), CliError> {
    match command {
        HashCommand::Image { files } => image(files, json).await,
        HashCommand::Match {
            dir,
            files,
            pdq,
            md5,
            sha256,
            radius,
        } => {
            if files.is_empty() && pdq.is_empty() && md5.is_empty() && sha256.is_empty() {
                return Err(CliError::invalid(
                    "give image files, or hashes with --pdq, --md5 or --sha256",
                ));
            }
            let node = Node::open(&dir)?;
            let mut results: Vec<(String, LookupResult)> = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f)
                    .map_err(|e| CliError::io(format!("cannot read {}: {e}", f.display())))?;
                let r = node
                    .lookup_image(&bytes, radius, liaison_core::tlp::Tlp::Red)
                    .map_err(|e| CliError::invalid(format!("{}: {e}", f.display())))?;
                results.push((f.display().to_string(), r));
            }
            let queries = pdq
                .iter()
                .map(|h| {
                    (
                        h,
                        HashQuery {
                            pdq: Some(h.clone()),
                            ..Default::default()
                        },
                    )
                })
                .chain(md5.iter().map(|h| {
                    (
                        h,
                        HashQuery {
                            md5: Some(h.clone()),
                            ..Default::default()
                        },
                    )
                }))
                .chain(sha256.iter().map(|h| {
                    (
                        h,
                        HashQuery {
                            sha256: Some(h.clone()),
                            ..Default::default()
                        },
                    )
                }));
            for (h, mut q) in queries {
                q.radius = radius;
                results.push((h.clone(), node.lookup(&q, liaison_core::tlp::Tlp::Red)?));
            }
            if json {
                let items: Vec<serde_json::Value> = results
                    .iter()
                    .map(|(query, r)| {
                        let mut v = serde_json::to_value(r).unwrap_or_default();
                        v["query"] = json!(query);
                        v
                    })
                    .collect();
                return print_json(&items);
            }
            for (query, r) in &results {
                if r.matches.is_empty() {
                    println!("{query}: no match within {} bits", r.radius);
                }
                for m in &r.matches {
                    println!(
                        "{query}: {} {} {} (distance {}; {} list, {}, {})",
                        m.entry.kind,
                        m.entry.value,
                        m.entry.entry_id,
                        m.distance,
                        m.entry.owner,
                        m.entry.behaviour,
                        if m.entry.entity.is_empty() {
                            "-"
                        } else {
                            &m.entry.entity
                        },
                    );
                }
            }
            Ok(())
        }
        HashCommand::List {
            dir,
            owner,
            withdrawn,
            limit,
        } => {
            let node = Node::open(&dir)?;
            let rows = node.hash_list(
                owner.as_deref(),
                withdrawn,
                limit,
                0,
                liaison_core::tlp::Tlp::Red,
            )?;
            if json {
                return print_json(&rows);
            }
            for (owner, kind, n) in node.hash_counts(liaison_core::tlp::Tlp::Red)? {
                println!("{owner}: {n} live {kind} hashes");
            }
            for r in rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}{}",
                    r.owner,
                    r.entry_id,
                    r.kind,
                    r.value,
                    r.behaviour,
                    r.added_at,
                    r.withdrawn_at
                        .map(|w| format!(
                            "\twithdrawn {w}: {}",
                            r.withdraw_reason.unwrap_or_default()
                        ))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        HashCommand::Withdraw {
            dir,
            entry_ids,
            reason,
        } => {
            let node = Node::open(&dir)?;
            let n = node.withdraw_hashes(entry_ids, &reason).await?;
            if json {
                print_json(&json!({ "withdrawn": n }))
            } else {
                println!("{n} entries withdrawn; the withdrawal goes to every party");
                Ok(())
            }
        }
    }
}

/// Reads and hashes one file; the error names the file.
pub fn hash_file(path: &std::path::Path) -> Result<PdqOutput, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?;
    hash_image(&bytes).map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))
}

/// Prints `hash,quality,file` per image, as ThreatExchange's PDQ photo
/// hasher does; unreadable files are reported and the rest still hashed.
async fn image(files: Vec<PathBuf>, json: bool) -> Result<(), CliError> {
    let results = tokio::task::spawn_blocking(move || {
        let bar = progress_bar("hashing");
        bar.set_length(files.len() as u64);
        let out: Vec<(PathBuf, Result<PdqOutput, CliError>)> = files
            .into_iter()
            .map(|f| {
                let r = hash_file(&f);
                bar.inc(1);
                (f, r)
            })
            .collect();
        bar.finish_and_clear();
        out
    })
    .await
    .map_err(|e| CliError::io(format!("hashing stopped: {e}")))?;
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    if json {
        let items: Vec<serde_json::Value> = results
            .iter()
            .map(|(f, r)| match r {
                Ok(o) => json!({
                    "file": f, "hash": o.hash, "quality": o.quality,
                    "width": o.width, "height": o.height,
                }),
                Err(e) => json!({"file": f, "error": {"code": e.code, "message": e.message}}),
            })
            .collect();
        print_json(&items)?;
    } else {
        for (f, r) in &results {
            match r {
                Ok(o) => println!("{},{},{}", o.hash, o.quality, f.display()),
                Err(e) => eprintln!("{}", e.message),
            }
        }
    }
    if failed > 0 {
        return Err(CliError::invalid(format!(
            "{failed} of {} files could not be hashed",
            results.len()
        )));
    }
    Ok(())
}
