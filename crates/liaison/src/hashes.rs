//! `liaison hash …`: PDQ hashes of images and the shared hash list.

use std::path::PathBuf;

use liaison_core::pdq::{PdqOutput, hash_image};
use serde_json::json;

use crate::cli::HashCommand;
use crate::commands::{print_json, progress_bar};
use crate::error::CliError;

pub async fn run(command: HashCommand, json: bool) -> Result<(), CliError> {
    match command {
        HashCommand::Image { files } => image(files, json).await,
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
