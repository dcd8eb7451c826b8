//! What every command shares: JSON output, progress bars, reading JSON files
//! (a leaf of the binary).

use std::path::Path;

use crate::error::CliError;

pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::io(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

pub fn progress_bar(message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

pub(super) fn read_body(path: &Path) -> Result<serde_json::Value, CliError> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| CliError::io(format!("cannot read standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::invalid(format!("{} is not JSON: {e}", path.display())))
}
