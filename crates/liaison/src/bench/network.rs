//! `liaison bench network --parties N`: N real nodes (one `liaison serve`
//! process each, own database, loopback ports) and a witness, every party
//! pinned to every other and to the witness; then one broadcast (a glossary
//! proposal from the first party to all others, timed until every receipt
//! is stored) and one directory update (timed until every party holds it,
//! proved against the witness), with each node's resident memory idle and
//! at its peak and the sockets each holds open.

use std::path::Path;
use std::time::{Duration, Instant};

use liaison_node::{InitOptions, Node};

use super::idle::{Running, free_port, memory_mib};
use super::report::{Report, say};
use crate::error::CliError;
use crate::output::progress_bar;

fn failed(message: impl Into<String>) -> CliError {
    CliError::new("bench_failed", message.into())
}

/// Sockets a process holds open (Linux `/proc/PID/fd`).
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// `Pss` and `Anonymous` of a process, in MiB (`/proc/PID/smaps_rollup`):
/// its share of pages it shares with the other nodes (the binary's text),
/// and the memory that is its own.
fn shared_and_own_mib(pid: u32) -> (f64, f64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("Pss:"), field("Anonymous:"))
}

fn max_and_median(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let max = values.last().copied().unwrap_or(0.0);
    (max, super::federation::median(&values))
}

/// Initialises the nodes (parties `p001…`, then the witness `wit`) with
/// their ports; answers each one's directory and app port.
async fn init_nodes(dir: &Path, parties: usize) -> Result<Vec<(String, u16)>, CliError> {
    let bar = progress_bar("initialising the nodes");
    bar.set_length(parties as u64 + 1);
    let mut out = Vec::new();
    // Ports freed again may come back from the kernel: each is used once.
    let mut taken = std::collections::HashSet::new();
    let mut port = || -> Result<u16, CliError> {
        loop {
            let p = free_port()?;
            if taken.insert(p) {
                return Ok(p);
            }
        }
    };
    let codes = (1..=parties)
        .map(|i| format!("p{i:03}"))
        .chain(std::iter::once("wit".to_owned()));
    for code in codes {
        let (fed, app) = (port()?, port()?);
        let mut options = InitOptions::new(&code, &format!("Network party {code}"));
        options.listen = format!("127.0.0.1:{fed}");
        options.app_listen = format!("127.0.0.1:{app}");
        if code == "wit" {
            options.role = "witness".into();
        }
        let node_dir = dir.join(&code);
        drop(liaison_node::init(&node_dir, &options).await?);
        // Rounds that let a directory update converge in seconds.
        let path = node_dir.join("liaison.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| CliError::io(e.to_string()))?;
        let mut config = liaison_node::Config::from_toml_with_env(&text, |_| None)?;
        config.witness.interval_secs = 2;
        config.directory.sync_secs = 5;
        std::fs::write(&path, config.to_toml()?).map_err(|e| CliError::io(e.to_string()))?;
        out.push((code, app));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// Pins every node to every other (the pins of one node are written
/// together: the writer commits them in a few transactions).
async fn pin_all(dir: &Path, codes: &[String]) -> Result<(), CliError> {
    let mut cards = Vec::new();
    for code in codes {
        cards.push(Node::open(&dir.join(code))?.card());
    }
    let bar = progress_bar("pinning every node to every other");
    bar.set_length(codes.len() as u64);
    for code in codes {
        let node = Node::open(&dir.join(code))?;
        let pins = cards
            .iter()
            .filter(|c| c.party != *code)
            .map(|c| node.pin_peer(c, false));
        for pinned in futures_util::future::join_all(pins).await {
            pinned?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

async fn wait_until(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> Result<bool, CliError>,
) -> Result<Duration, CliError> {
    let start = Instant::now();
    while !done()? {
        if start.elapsed() > limit {
            return Err(failed(format!("{what}: not done in {} s", limit.as_secs())));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(start.elapsed())
}

pub async fn network(dir: Option<&Path>, parties: usize) -> Result<Report, CliError> {
    if !(2..=500).contains(&parties) {
        return Err(CliError::invalid("--parties must be 2 to 500"));
    }
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let exe = std::env::current_exe().map_err(|e| CliError::io(e.to_string()))?;
    let nodes = init_nodes(&dir, parties).await?;
    let codes: Vec<String> = nodes.iter().map(|(c, _)| c.clone()).collect();
    pin_all(&dir, &codes).await?;

    // Every node serves in its own process.
    let started = Instant::now();
    let bar = progress_bar("starting the nodes");
    bar.set_length(nodes.len() as u64);
    let mut running = Vec::new();
    for (code, app) in &nodes {
        running.push(super::idle::serve_node(&exe, &dir.join(code), *app).await?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let startup_ms = started.elapsed().as_millis() as u64;
    let handles: Vec<Node> = codes[..parties]
        .iter()
        .map(|c| Node::open(&dir.join(c)))
        .collect::<Result<_, _>>()?;
    // Idle: every node has cosigned checkpoints and synchronised once.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let pids: Vec<u32> = running.iter().map(|r: &Running| r.0.id()).collect();
    let idle: Vec<f64> = pids
        .iter()
        .map(|p| memory_mib(*p).map(|(rss, _)| rss))
        .collect::<Result<_, _>>()?;
    let (pss, anon): (Vec<f64>, Vec<f64>) = pids.iter().map(|p| shared_and_own_mib(*p)).unzip();
    // The witness is started last: the parties' figures without it.
    let witness_idle = idle.last().copied().unwrap_or(0.0);
    let (parties_idle_max, _) = max_and_median(idle[..parties].to_vec());

    // One broadcast: a glossary proposal from the first party to every other.
    let first = &handles[0];
    let began = Instant::now();
    first
        .glossary_propose(
            "sinkhole",
            "sinkhole",
            "синкхол",
            "A server that takes over the domains of a botnet.",
            "Сервер, перехватывающий домены ботнета.",
            vec!["project".into()],
        )
        .await?;
    let others = (parties - 1) as i64;
    wait_until(
        "every receipt of the broadcast",
        Duration::from_secs(600),
        || Ok(super::fanout::delivered(first)? >= others),
    )
    .await?;
    let broadcast_ms = began.elapsed().as_millis() as u64;

    // One directory update, until every other party holds it.
    let contact = liaison_core::directory::ContactPoint {
        name: "p001 duty desk".into(),
        role: "24/7 point of contact".into(),
        languages: vec!["en".into()],
        hours: "24/7".into(),
        phone: "+0 000 000 0001".into(),
        email: "duty@p001.example".into(),
    };
    let began = Instant::now();
    first.publish_directory(Some(vec![contact])).await?;
    let converged = |node: &Node| -> Result<bool, CliError> {
        Ok(node.directory()?.iter().any(|l| {
            l.party == "p001"
                && l.entry
                    .contacts
                    .first()
                    .is_some_and(|c| c.name == "p001 duty desk")
        }))
    };
    let bar = progress_bar("directory converging");
    bar.set_length(others as u64);
    wait_until(
        "every directory converged",
        Duration::from_secs(600),
        || {
            let mut n = 0;
            for node in &handles[1..] {
                if converged(node)? {
                    n += 1;
                }
            }
            bar.set_position(n);
            Ok(n >= others as u64)
        },
    )
    .await?;
    bar.finish_and_clear();
    let directory_ms = began.elapsed().as_millis() as u64;

    let peaks: Vec<f64> = pids
        .iter()
        .map(|p| memory_mib(*p).map(|(_, peak)| peak))
        .collect::<Result<_, _>>()?;
    let sockets: Vec<f64> = pids.iter().map(|p| open_sockets(*p) as f64).collect();
    let (idle_max, idle_median) = max_and_median(idle);
    let (pss_max, pss_median) = max_and_median(pss);
    let (anon_max, anon_median) = max_and_median(anon);
    let (peak_max, peak_median) = max_and_median(peaks);
    let (sockets_max, sockets_median) = max_and_median(sockets);
    drop(handles);
    drop(running);

    let mib = 1024.0 * 1024.0;
    let mut report = Report::new("network");
    report.figure("parties", parties as u64);
    report.figure("startup_ms", startup_ms);
    report.figure("broadcast_all_receipts_ms", broadcast_ms);
    report.figure("directory_converged_ms", directory_ms);
    report.figure("idle_rss_bytes_max", (idle_max * mib) as u64);
    report.figure("idle_rss_bytes_median", (idle_median * mib) as u64);
    report.figure(
        "idle_rss_bytes_max_parties",
        (parties_idle_max * mib) as u64,
    );
    report.figure("idle_rss_bytes_witness", (witness_idle * mib) as u64);
    report.figure("idle_pss_bytes_max", (pss_max * mib) as u64);
    report.figure("idle_pss_bytes_median", (pss_median * mib) as u64);
    report.figure("idle_anonymous_bytes_max", (anon_max * mib) as u64);
    report.figure("idle_anonymous_bytes_median", (anon_median * mib) as u64);
    report.figure("peak_rss_bytes_max", (peak_max * mib) as u64);
    report.figure("open_sockets_max", sockets_max as u64);
    report.figure("open_sockets_median", sockets_median as u64);
    say!(
        report,
        "{parties} parties and a witness, one `liaison serve` process each, every one pinned to every other\n"
    );
    say!(report, "| figure | value |");
    say!(report, "|---|---:|");
    say!(report, "| all {parties} nodes serving | {startup_ms} ms |");
    say!(
        report,
        "| one broadcast (glossary proposal) until all {others} receipts are stored | {broadcast_ms} ms |"
    );
    say!(
        report,
        "| one directory update until all {others} parties hold it, proved | {directory_ms} ms |"
    );
    say!(
        report,
        "| resident memory per node, idle (max / median) | {idle_max:.1} / {idle_median:.1} MiB |"
    );
    say!(
        report,
        "| resident memory, idle: the parties' max / the witness | {parties_idle_max:.1} / {witness_idle:.1} MiB |"
    );
    say!(
        report,
        "| proportional share per node, idle (PSS, max / median) | {pss_max:.1} / {pss_median:.1} MiB |"
    );
    say!(
        report,
        "| anonymous memory per node, idle (max / median) | {anon_max:.1} / {anon_median:.1} MiB |"
    );
    say!(
        report,
        "| peak resident memory per node (max / median) | {peak_max:.1} / {peak_median:.1} MiB |"
    );
    say!(
        report,
        "| sockets open per node after both (max / median) | {sockets_max:.0} / {sockets_median:.0} |"
    );
    Ok(report)
}
