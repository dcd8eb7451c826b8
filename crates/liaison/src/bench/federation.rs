//! `liaison bench federation`: signed, receipted messages between two nodes
//! on loopback — throughput over several rounds on fresh nodes (each beside
//! an Ed25519 reference measured just before it), then latency at a fixed rate.

use std::path::Path;
use std::time::{Duration, Instant};

use liaison_log::note::{ED25519, NoteSigner};

use super::report::{Report, say};
use super::{Scratch, fsync_rate};
use crate::error::CliError;
use crate::output::progress_bar;

/// Ed25519 sign + verify pairs per second on one core (the cost floor of
/// a signed, receipted message).
pub(super) fn ed25519_rate(duration: Duration) -> Result<f64, CliError> {
    let signer =
        NoteSigner::new("bench", ED25519, [3; 32]).map_err(|e| CliError::invalid(e.to_string()))?;
    let verifier = signer.verifier();
    let msg = [42u8; 300];
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < duration {
        let sig = signer.sign_raw(&msg);
        verifier
            .verify_raw(&msg, &sig)
            .map_err(|e| CliError::invalid(e.to_string()))?;
        ops += 1;
    }
    Ok(ops as f64 / start.elapsed().as_secs_f64())
}

/// Party nodes on loopback, serving, the first pinned to each other one
/// (and each of those to it): what a sender and its recipients need.
pub(super) async fn serving_nodes(
    dir: &Path,
    parties: &[String],
) -> Result<Vec<(liaison_node::Node, liaison_server::Server)>, CliError> {
    let mut out = Vec::new();
    for party in parties {
        let federation = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| CliError::io(format!("cannot bind: {e}")))?;
        let app = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| CliError::io(format!("cannot bind: {e}")))?;
        let addr = federation
            .local_addr()
            .map_err(|e| CliError::io(e.to_string()))?;
        let mut options =
            liaison_node::InitOptions::new(party, &format!("Benchmark party {party}"));
        options.public_url = format!("https://{addr}");
        let node = liaison_node::init(&dir.join(party), &options).await?;
        let server =
            liaison_server::start(node.clone(), liaison_server::Listeners { federation, app })
                .await?;
        out.push((node, server));
    }
    if let Some(((sender, _), recipients)) = out.split_first() {
        for (recipient, _) in recipients {
            sender.pin_peer(&recipient.card(), false).await?;
            recipient.pin_peer(&sender.card(), false).await?;
        }
    }
    Ok(out)
}

/// Two nodes on loopback, pinned to each other and serving.
async fn node_pair(
    dir: &Path,
) -> Result<Vec<(liaison_node::Node, liaison_server::Server)>, CliError> {
    serving_nodes(dir, &["us".to_owned(), "ru".to_owned()]).await
}

/// Envelopes to `ru` delivered with a verified receipt (read from the
/// outbox index, not by scanning the table: the harness shares the cores).
fn delivered_count(node: &liaison_node::Node) -> Result<i64, CliError> {
    Ok(node.store().read(|c| {
        Ok(c.sqlite().query_row(
            "SELECT COUNT(*) FROM outbox WHERE peer = 'ru' AND state = 'delivered'",
            [],
            |r| r.get(0),
        )?)
    })?)
}

pub(super) async fn wait_delivered(
    node: &liaison_node::Node,
    target: i64,
    message: &'static str,
) -> Result<(), CliError> {
    wait_for_count(node, target, message, delivered_count).await
}

/// Waits, with a progress bar, until `count` reaches `target` (10 minutes at most).
pub(super) async fn wait_for_count(
    node: &liaison_node::Node,
    target: i64,
    message: &'static str,
    count: fn(&liaison_node::Node) -> Result<i64, CliError>,
) -> Result<(), CliError> {
    let bar = progress_bar(message);
    bar.set_length(target as u64);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let n = count(node)?;
        bar.set_position(n as u64);
        if n >= target {
            break;
        }
        if Instant::now() > deadline {
            return Err(CliError::new(
                "bench_failed",
                format!("only {n} of {target} done ({message}) in 10 minutes"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bar.finish_and_clear();
    Ok(())
}

/// For each envelope in `began` (hash → when its sending began, ms), the
/// time until its last recipient's receipt was stored, sorted.
pub(super) fn latencies_to_last_receipt(
    node: &liaison_node::Node,
    began: &std::collections::HashMap<String, i64>,
) -> Result<Vec<i64>, CliError> {
    let last: Vec<(String, i64)> = node.store().read(|c| {
        let mut stmt = c.sqlite().prepare(
            "SELECT envelope_hash, MAX(delivered_ms) FROM outbox GROUP BY envelope_hash",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    })?;
    let mut latencies: Vec<i64> = last
        .iter()
        .filter_map(|(h, d)| began.get(h).map(|b| d - b))
        .collect();
    latencies.sort_unstable();
    Ok(latencies)
}

pub(super) fn body(i: u64) -> serde_json::Value {
    serde_json::json!({
        "subject": format!("Benchmark message {i}"),
        "text": "Request to preserve subscriber information and traffic data for the account named in the attached order. Запрос о сохранении данных.",
    })
}

pub(super) fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The middle value (the upper one of an even count).
pub(super) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One throughput round on fresh nodes: 64 concurrent senders open note
/// cases as fast as they are accepted; done when every receipt is stored.
struct Round {
    ed25519: f64,
    throughput: f64,
    queued_secs: f64,
}

/// Queues `messages` notes from `us` to `ru` as fast as they are accepted,
/// from 64 concurrent senders.
pub(super) async fn queue_notes(us: &liaison_node::Node, messages: u64) -> Result<(), CliError> {
    let producers = 64u64;
    let mut tasks = tokio::task::JoinSet::new();
    for p in 0..producers {
        let us = us.clone();
        tasks.spawn(async move {
            let mut i = p;
            while i < messages {
                us.open_case("ru", "note", body(i)).await?;
                i += producers;
            }
            Ok::<_, liaison_node::NodeError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| CliError::io(format!("a producer failed: {e}")))??;
    }
    Ok(())
}

async fn throughput_round(dir: &Path, messages: u64) -> Result<Round, CliError> {
    // The reference just before the round, so both see the machine alike.
    let ed25519 = ed25519_rate(Duration::from_secs(1))?;
    let nodes = node_pair(dir).await?;
    let us = nodes[0].0.clone();
    let start = Instant::now();
    queue_notes(&us, messages).await?;
    let queued_secs = start.elapsed().as_secs_f64();
    wait_delivered(&us, messages as i64, "delivered and receipted").await?;
    let total = start.elapsed().as_secs_f64();
    for (_, server) in nodes {
        server.shutdown().await;
    }
    Ok(Round {
        ed25519,
        throughput: messages as f64 / total,
        queued_secs,
    })
}

pub async fn federation(
    dir: Option<&Path>,
    messages: u64,
    rounds: u32,
    rate: u64,
    seconds: u64,
) -> Result<Report, CliError> {
    let scratch = Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    eprintln!("Measuring the raw fsync rate …");
    let fsync = fsync_rate(&dir, Duration::from_secs(2))?;

    let rounds = rounds.max(1);
    let mut done = Vec::new();
    for r in 0..rounds {
        eprintln!(
            "Round {}/{rounds}: Ed25519 reference, then {messages} signed messages from us to ru as fast as they are accepted …",
            r + 1
        );
        done.push(throughput_round(&dir.join(format!("throughput-{r}")), messages).await?);
    }
    let ratios: Vec<f64> = done.iter().map(|r| r.throughput / r.ed25519).collect();
    let ratio = median(&ratios);
    let throughput = median(&done.iter().map(|r| r.throughput).collect::<Vec<_>>());
    let ed = median(&done.iter().map(|r| r.ed25519).collect::<Vec<_>>());
    let queued = median(&done.iter().map(|r| r.queued_secs).collect::<Vec<_>>());

    let nodes = node_pair(&dir.join("latency")).await?;
    let us = nodes[0].0.clone();
    let count = rate * seconds;
    eprintln!("Sending {count} messages at a fixed {rate}/s for {seconds} s …");
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        ticker.tick().await;
        let us = us.clone();
        tasks.spawn(async move {
            let began = jiff::Timestamp::now().as_millisecond();
            let sent = us.open_case("ru", "note", body(i)).await?;
            Ok::<_, liaison_node::NodeError>((sent.envelope_hash, began))
        });
    }
    let mut began = std::collections::HashMap::new();
    while let Some(r) = tasks.join_next().await {
        let (hash, t) = r.map_err(|e| CliError::io(format!("a sender failed: {e}")))??;
        began.insert(hash, t);
    }
    wait_delivered(&us, count as i64, "delivered and receipted").await?;
    let latencies = latencies_to_last_receipt(&us, &began)?;
    for (_, server) in nodes {
        server.shutdown().await;
    }

    let (p50, p90, p99, max) = (
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0),
    );
    let mut report = Report::new("federation");
    report.figure("ed25519_sign_verify_per_s", ed);
    report.figure("fsync_per_s", fsync);
    report.figure("messages", messages);
    report.figure("rounds", rounds);
    report.figure("throughput_per_s", throughput);
    report.figure("ratio_to_ed25519", ratio);
    report.figure("ratio_to_fsync", throughput / fsync);
    report.figure("queued_secs", queued);
    for r in &done {
        report.row(
            "round",
            serde_json::json!({
                "ed25519_sign_verify_per_s": r.ed25519,
                "throughput_per_s": r.throughput,
                "ratio_to_ed25519": r.throughput / r.ed25519,
                "queued_secs": r.queued_secs,
            }),
        );
    }
    report.figure("latency_rate_per_s", rate);
    report.figure("latency_secs", seconds);
    report.figure("latency_p50_ms", p50);
    report.figure("latency_p90_ms", p90);
    report.figure("latency_p99_ms", p99);
    report.figure("latency_max_ms", max);
    say!(
        report,
        "Reference, same run: Ed25519 sign+verify {ed:.0}/s on one core (median of the {rounds} measured before each round); raw fdatasync {fsync:.0}/s\n"
    );
    say!(
        report,
        "| signed + receipted messages, us → ru on one machine | figure | ratio to reference |"
    );
    say!(report, "|---|---:|---:|");
    for (n, r) in done.iter().enumerate() {
        say!(
            report,
            "| round {}: {messages} messages, 64 concurrent senders | {:.0}/s | {:.2}× Ed25519 ({:.0}/s) |",
            n + 1,
            r.throughput,
            r.throughput / r.ed25519,
            r.ed25519
        );
    }
    say!(
        report,
        "| **throughput, median of {rounds} rounds** | **{throughput:.0}/s** | **{ratio:.2}× Ed25519 sign+verify**, {:.2}× fsync |",
        throughput / fsync
    );
    say!(
        report,
        "| time to queue them durably (sender side, median) | {queued:.2} s | |"
    );
    say!(
        report,
        "| latency at {rate}/s for {seconds} s: p50 / p90 / p99 / max | {p50} / {p90} / {p99} / {max} ms | |"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0]), 4.0);
        assert_eq!(median(&[]), 0.0);
    }
}
