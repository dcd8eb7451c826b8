//! The `liaison` command: create, run, inspect and verify Liaison nodes.
//!
//! Every command prints its result on stdout and, on failure, one sentence
//! on stderr (or `{"error":{"code":…,"message":…}}` with `--json`) and exits
//! non-zero.

mod allocator;
mod bench;
mod cli;
mod commands;
mod demo;
mod error;
mod output;

use clap::Parser as _;

use crate::cli::Cli;
use crate::error::CliError;

fn main() {
    let cli = Cli::parse();
    // Before any thread starts: the long-running commands settle the
    // allocator first (this may start the process again).
    if matches!(
        cli.command,
        cli::Command::Serve { .. } | cli::Command::Demo { .. }
    ) {
        allocator::settle();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,liaison=info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // reqwest and rustls need a process-wide crypto provider; ring is the
    // only one compiled in. Installing fails only if one is already set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => report(
            json,
            &CliError::io(format!("cannot start the async runtime: {e}")),
        ),
    };
    if let Err(e) = runtime.block_on(commands::run(cli)) {
        report(json, &e);
    }
}

fn report(json: bool, e: &CliError) -> ! {
    if json {
        let body = liaison_proto::ErrorBody::new(e.code, e.message.clone());
        eprintln!(
            "{}",
            serde_json::to_string(&body).unwrap_or_else(|_| e.message.clone())
        );
    } else {
        eprintln!("liaison: {}", e.message);
    }
    std::process::exit(e.exit_code)
}
