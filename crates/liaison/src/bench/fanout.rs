//! `liaison bench fanout`: one signed envelope to several participants of a
//! case, done when every recipient's receipt is stored — throughput and
//! latency for 2, 5 and 10 recipients beside the two-party figure (one
//! recipient) measured in the same run, on fresh nodes each time.

use std::path::Path;
use std::time::{Duration, Instant};

use super::Scratch;
use super::federation::{
    body, latencies_to_last_receipt, median, percentile, serving_nodes, wait_for_count,
};
use super::report::{Report, say};
use crate::error::CliError;

/// What one fan-out measured.
struct Fanout {
    recipients: usize,
    /// Messages (each to every recipient) per second, until every receipt is stored.
    messages_per_s: f64,
    /// Receipts stored per second (messages × recipients).
    receipts_per_s: f64,
    /// From opening a case to its last recipient's receipt stored, at a fixed rate.
    p50_ms: i64,
    p99_ms: i64,
}

/// Outbox entries delivered with a verified receipt, to any peer.
pub(super) fn delivered(node: &liaison_node::Node) -> Result<i64, CliError> {
    Ok(node.store().read(|c| {
        Ok(c.sqlite().query_row(
            "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'",
            [],
            |r| r.get(0),
        )?)
    })?)
}

async fn wait_receipts(node: &liaison_node::Node, target: i64) -> Result<(), CliError> {
    wait_for_count(node, target, "receipts stored", delivered).await
}

async fn measure(
    dir: &Path,
    recipients: usize,
    messages: u64,
    rate: u64,
    seconds: u64,
) -> Result<Fanout, CliError> {
    let parties: Vec<String> = (0..=recipients).map(|i| format!("p{i}")).collect();
    let nodes = serving_nodes(dir, &parties).await?;
    let sender = nodes[0].0.clone();
    let to: Vec<String> = parties[1..].to_vec();
    let kind = "note";

    // Throughput: 64 concurrent senders, as fast as the node accepts.
    let start = Instant::now();
    let producers = 64u64;
    let mut tasks = tokio::task::JoinSet::new();
    for p in 0..producers {
        let (sender, to) = (sender.clone(), to.clone());
        tasks.spawn(async move {
            let mut i = p;
            while i < messages {
                sender
                    .open_case_with(&to, kind, body(i), Default::default())
                    .await?;
                i += producers;
            }
            Ok::<_, liaison_node::NodeError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| CliError::io(format!("a sender failed: {e}")))??;
    }
    let receipts = messages as i64 * recipients as i64;
    wait_receipts(&sender, receipts).await?;
    let secs = start.elapsed().as_secs_f64();

    // Latency: a fixed rate, each case until its last receipt.
    let count = rate * seconds;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        ticker.tick().await;
        let (sender, to) = (sender.clone(), to.clone());
        tasks.spawn(async move {
            let began = jiff::Timestamp::now().as_millisecond();
            let sent = sender
                .open_case_with(&to, kind, body(i), Default::default())
                .await?;
            Ok::<_, liaison_node::NodeError>((sent.envelope_hash, began))
        });
    }
    let mut began = std::collections::HashMap::new();
    while let Some(r) = tasks.join_next().await {
        let (hash, t) = r.map_err(|e| CliError::io(format!("a sender failed: {e}")))??;
        began.insert(hash, t);
    }
    wait_receipts(&sender, receipts + count as i64 * recipients as i64).await?;
    let latencies = latencies_to_last_receipt(&sender, &began)?;
    for (_, server) in nodes {
        server.shutdown().await;
    }
    Ok(Fanout {
        recipients,
        messages_per_s: messages as f64 / secs,
        receipts_per_s: receipts as f64 / secs,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    })
}

pub async fn fanout(
    dir: Option<&Path>,
    messages: u64,
    rate: u64,
    seconds: u64,
    rounds: u32,
) -> Result<Report, CliError> {
    let scratch = Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let rounds = rounds.max(1);
    let mut results: Vec<Fanout> = Vec::new();
    for recipients in [1usize, 2, 5, 10] {
        let mut runs = Vec::new();
        for r in 0..rounds {
            eprintln!(
                "{recipients} recipient(s), round {}/{rounds}: {messages} messages, then {rate}/s for {seconds} s …",
                r + 1
            );
            let sub = dir.join(format!("fanout-{recipients}-{r}"));
            runs.push(measure(&sub, recipients, messages, rate, seconds).await?);
        }
        // The round with the median throughput stands for this fan-out.
        let mid = median(&runs.iter().map(|f| f.messages_per_s).collect::<Vec<_>>());
        if let Some(i) = runs.iter().position(|f| f.messages_per_s == mid) {
            results.push(runs.swap_remove(i));
        }
    }
    let Some(two_party) = results.first().map(|f| f.messages_per_s) else {
        return Err(CliError::new("bench_failed", "no fan-out was measured"));
    };
    let mut report = Report::new("fanout");
    report.figure("messages", messages);
    report.figure("rounds", rounds);
    report.figure("latency_rate_per_s", rate);
    say!(
        report,
        "Reference, same run: the two-party figure (one recipient) {two_party:.0} messages/s. Every node runs in this process on the same 2 cores, so each recipient's receiving work is on them too.\n"
    );
    say!(
        report,
        "| recipients | messages/s (each to every recipient) | receipts stored/s | ratio to two-party (messages / receipts) | latency at {rate}/s to the last receipt: p50 / p99 |"
    );
    say!(report, "|---:|---:|---:|---:|---:|");
    for f in &results {
        report.row(
            "fanout",
            serde_json::json!({
                "recipients": f.recipients,
                "messages_per_s": f.messages_per_s,
                "receipts_per_s": f.receipts_per_s,
                "p50_ms": f.p50_ms,
                "p99_ms": f.p99_ms,
            }),
        );
        say!(
            report,
            "| {} | {:.0} | {:.0} | {:.2}× / {:.2}× | {} / {} ms |",
            f.recipients,
            f.messages_per_s,
            f.receipts_per_s,
            f.messages_per_s / two_party,
            f.receipts_per_s / two_party,
            f.p50_ms,
            f.p99_ms
        );
    }
    Ok(report)
}
