//! `liaison bench idle`: resident memory of `liaison serve` when idle (a
//! fresh node, then after a few requests) and of the seeded demo (five
//! nodes in one process), beside medallion 3.0.0 idle in the same run.

use super::report::{Report, say};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::CliError;

/// `VmRSS` and `VmHWM` of a process, in MiB (Linux `/proc`).
pub(super) fn memory_mib(pid: u32) -> Result<(f64, f64), CliError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| CliError::io(format!("cannot read the memory of process {pid}: {e}")))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

pub(super) fn free_port() -> Result<u16, CliError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| CliError::io(e.to_string()))
}

async fn wait_for_port(port: u16, what: &str) -> Result<(), CliError> {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(CliError::new(
        "bench_failed",
        format!("{what} did not start within 30 s"),
    ))
}

/// Initialises a node (party `us`) on free loopback ports; its app port.
pub(super) fn init_node(exe: &Path, node_dir: &Path) -> Result<u16, CliError> {
    let (fed, app) = (free_port()?, free_port()?);
    let init = Command::new(exe)
        .arg("init")
        .arg(node_dir)
        .args(["--party", "us", "--name", "Bench"])
        .args(["--listen", &format!("127.0.0.1:{fed}")])
        .args(["--app-listen", &format!("127.0.0.1:{app}")])
        .output()
        .map_err(|e| CliError::io(e.to_string()))?;
    if !init.status.success() {
        return Err(CliError::new(
            "bench_failed",
            String::from_utf8_lossy(&init.stderr).into_owned(),
        ));
    }
    Ok(app)
}

/// `liaison serve` of a node, once its app port answers.
pub(super) async fn serve_node(exe: &Path, node_dir: &Path, app: u16) -> Result<Running, CliError> {
    let serve = Running(
        Command::new(exe)
            .arg("serve")
            .arg(node_dir)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| CliError::io(e.to_string()))?,
    );
    wait_for_port(app, "liaison serve").await?;
    Ok(serve)
}

/// Kills a child when dropped (also on early returns).
pub(super) struct Running(pub(super) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn idle(dir: Option<&Path>) -> Result<Report, CliError> {
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let exe = std::env::current_exe().map_err(|e| CliError::io(e.to_string()))?;
    let settle = Duration::from_secs(3);
    let mut rows: Vec<(String, f64, f64)> = Vec::new();

    // A fresh node.
    let node_dir = dir.join("node");
    let app = init_node(&exe, &node_dir)?;
    let serve = serve_node(&exe, &node_dir, app).await?;
    tokio::time::sleep(settle).await;
    let (rss, _) = memory_mib(serve.0.id())?;
    rows.push(("liaison serve, fresh node, idle".into(), rss, rss));
    let http = reqwest::Client::new();
    for path in [
        "/login",
        "/api/v1/openapi.json",
        "/log/checkpoint",
        "/taxii2/",
    ] {
        let _ = http
            .get(format!("http://127.0.0.1:{app}{path}"))
            .send()
            .await;
    }
    tokio::time::sleep(settle).await;
    let (rss, peak) = memory_mib(serve.0.id())?;
    rows.push((
        "liaison serve, after a few requests, idle".into(),
        rss,
        peak,
    ));
    drop(serve);

    // The seeded demo: five nodes, every kind of case, in one process.
    let base = free_port()?.saturating_sub(10).max(20_000);
    let mut demo = Running(
        Command::new(&exe)
            .arg("demo")
            .arg("--dir")
            .arg(dir.join("demo"))
            .args(["--base-port", &base.to_string()])
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| CliError::io(e.to_string()))?,
    );
    let out = demo
        .0
        .stdout
        .take()
        .ok_or_else(|| CliError::io("no output from the demo"))?;
    let started = tokio::task::spawn_blocking(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.starts_with("Stop with"))
    })
    .await
    .unwrap_or(false);
    if !started {
        return Err(CliError::new("bench_failed", "the demo did not start"));
    }
    tokio::time::sleep(settle).await;
    let (rss, peak) = memory_mib(demo.0.id())?;
    rows.push((
        "liaison demo: five nodes (us, ru, us-isp, ru-isp, ngo) seeded, one process, idle".into(),
        rss,
        peak,
    ));
    drop(demo);

    // The reference: medallion, the OASIS TAXII server, idle.
    let port = free_port()?;
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(e.to_string()))?;
    let medallion = Running(super::taxii::start_medallion(&dir, port)?);
    wait_for_port(port, "medallion").await?;
    tokio::time::sleep(settle).await;
    let (reference, _) = memory_mib(medallion.0.id())?;
    drop(medallion);

    let mut report = Report::new("idle");
    report.figure("medallion_idle_rss_mib", reference);
    for (what, rss, peak) in &rows {
        report.row(
            "processes",
            serde_json::json!({
                "process": what, "rss_mib": rss, "peak_mib": peak,
                "ratio_to_medallion": rss / reference.max(f64::MIN_POSITIVE),
            }),
        );
    }
    say!(
        report,
        "Resident memory (VmRSS after {} s idle; peak is VmHWM)\n",
        settle.as_secs()
    );
    say!(report, "| process | RSS | peak | ratio to medallion idle |");
    say!(report, "|---|---:|---:|---:|");
    for (what, rss, peak) in &rows {
        say!(
            report,
            "| {what} | {rss:.1} MiB | {peak:.1} MiB | {:.2}× |",
            rss / reference.max(f64::MIN_POSITIVE)
        );
    }
    say!(
        report,
        "| medallion 3.0.0 (memory backend), idle | {reference:.1} MiB | | 1× |"
    );
    Ok(report)
}
