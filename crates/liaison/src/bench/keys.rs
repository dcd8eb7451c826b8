//! `liaison bench keys`: federation throughput under the key lifecycle. Each
//! round measures, on fresh nodes, a single log key; both parties inside a
//! rotation's overlap (every checkpoint signed by two keys, the old key
//! still accepted); a witness cosigning both logs with Ed25519 and
//! ML-DSA-44 twice a second; and the same inside the witness's own
//! rotation overlap (two cosigners, four lines) — beside Ed25519 and
//! ML-DSA-44 references measured in the same run.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use liaison_log::Checkpoint;
use liaison_log::mldsa::MlDsaCosigner;
use liaison_log::note::parse_note;

use super::federation::{ed25519_rate, median, queue_notes, serving_nodes, wait_delivered};
use super::report::{Report, say};
use crate::error::CliError;

/// ML-DSA-44 cosign + verify pairs per second on one core.
fn ml_dsa_rate(duration: Duration) -> Result<f64, CliError> {
    let bad = |e: liaison_log::LogError| CliError::invalid(e.to_string());
    let cosigner = MlDsaCosigner::new("bench/witness", [5; 32]).map_err(bad)?;
    let verifier = cosigner.verifier();
    let checkpoint = Checkpoint::new("bench/log", 1, liaison_log::Hash::empty_root());
    let text = checkpoint.to_text();
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < duration {
        let line = cosigner.cosign(&checkpoint, ops).map_err(bad)?;
        let note = parse_note(&format!("{text}\n{line}")).map_err(bad)?;
        verifier
            .verify_any(&checkpoint, &note.signatures)
            .map_err(bad)?;
        ops += 1;
    }
    Ok(ops as f64 / start.elapsed().as_secs_f64())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// One log key each.
    Single,
    /// Both parties rotated with a day's overlap: two keys sign.
    Overlap,
    /// A witness pinned by both cosigns their checkpoints every 500 ms.
    Witnessed,
    /// The same, the witness inside its own rotation's overlap: its old and
    /// new cosigners both sign.
    WitnessOverlap,
}

impl Setup {
    const ALL: [Setup; 4] = [
        Setup::Single,
        Setup::Overlap,
        Setup::Witnessed,
        Setup::WitnessOverlap,
    ];

    fn label(self) -> &'static str {
        match self {
            Setup::Single => "single log key",
            Setup::Overlap => "during a rotation's overlap (two keys sign every checkpoint)",
            Setup::Witnessed => {
                "with a witness cosigning both logs (Ed25519 + ML-DSA-44) every 500 ms"
            }
            Setup::WitnessOverlap => {
                "the same, inside the witness's rotation overlap (two cosigners, four lines)"
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Setup::Single => "single",
            Setup::Overlap => "overlap",
            Setup::Witnessed => "witnessed",
            Setup::WitnessOverlap => "witness_overlap",
        }
    }
}

/// A witness serving on loopback.
async fn serving_witness(
    dir: &Path,
) -> Result<(liaison_node::Node, liaison_server::Server), CliError> {
    let bind = || async {
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| CliError::io(format!("cannot bind: {e}")))
    };
    let (federation, app) = (bind().await?, bind().await?);
    let addr = federation
        .local_addr()
        .map_err(|e| CliError::io(e.to_string()))?;
    let mut options = liaison_node::InitOptions::new("wit", "Benchmark witness");
    options.role = "witness".into();
    options.public_url = format!("https://{addr}");
    let node = liaison_node::init(&dir.join("wit"), &options).await?;
    let server =
        liaison_server::start(node.clone(), liaison_server::Listeners { federation, app }).await?;
    Ok((node, server))
}

/// Waits until `node` pins `party` with `log_key`.
async fn wait_pinned(
    node: &liaison_node::Node,
    party: &str,
    log_key: &str,
) -> Result<(), CliError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.peer(party)?.is_none_or(|p| p.card.log_key != log_key) {
        if Instant::now() > deadline {
            return Err(CliError::new(
                "bench_failed",
                format!("{} did not follow {party}'s rotation in 60 s", node.party()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

struct Measured {
    throughput: f64,
    /// Cosignatures the witness gave during the stream.
    cosignatures: u64,
}

async fn round(dir: &Path, messages: u64, setup: Setup) -> Result<Measured, CliError> {
    let mut nodes = serving_nodes(dir, &["us".to_owned(), "ru".to_owned()]).await?;
    let (us, ru) = (nodes[0].0.clone(), nodes[1].0.clone());
    if setup == Setup::Overlap {
        let to_us = us.rotate_log_key(86_400).await?;
        let to_ru = ru.rotate_log_key(86_400).await?;
        wait_pinned(&ru, "us", &to_us.new_log_key).await?;
        wait_pinned(&us, "ru", &to_ru.new_log_key).await?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let cosigned = Arc::new(AtomicU64::new(0));
    let mut cosigning = None;
    if matches!(setup, Setup::Witnessed | Setup::WitnessOverlap) {
        let (witness, server) = serving_witness(dir).await?;
        for party in [&us, &ru] {
            party.pin_peer(&witness.card(), false).await?;
            witness.pin_peer(&party.card(), false).await?;
        }
        if setup == Setup::WitnessOverlap {
            let rotated = witness.rotate_keys(Default::default(), 86_400).await?;
            for party in [&us, &ru] {
                wait_pinned(party, "wit", &rotated.new_log_key).await?;
            }
        }
        let card = us
            .peer("wit")?
            .ok_or_else(|| CliError::invalid("the witness is not pinned"))?;
        let (parties, stop, cosigned) = ([us.clone(), ru.clone()], stop.clone(), cosigned.clone());
        cosigning = Some(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for party in &parties {
                    match party.request_cosignature(&card).await {
                        Ok(()) => cosigned.fetch_add(1, Ordering::Relaxed),
                        Err(e) => return Err(CliError::invalid(format!("cosigning: {e}"))),
                    };
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(())
        }));
        nodes.push((witness, server));
    }
    let start = Instant::now();
    queue_notes(&us, messages).await?;
    wait_delivered(&us, messages as i64, "delivered and receipted").await?;
    let throughput = messages as f64 / start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    if let Some(task) = cosigning {
        task.await
            .map_err(|e| CliError::io(format!("the cosigning loop failed: {e}")))??;
    }
    for (_, server) in nodes {
        server.shutdown().await;
    }
    Ok(Measured {
        throughput,
        cosignatures: cosigned.load(Ordering::Relaxed),
    })
}

pub async fn keys(dir: Option<&Path>, messages: u64, rounds: u32) -> Result<Report, CliError> {
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let rounds = rounds.max(1);
    let mut ed25519 = Vec::new();
    let mut ml_dsa = Vec::new();
    // Per setup, the throughput of each round.
    let mut figures: Vec<Vec<Measured>> = Setup::ALL.iter().map(|_| Vec::new()).collect();
    for r in 0..rounds {
        ed25519.push(ed25519_rate(Duration::from_secs(1))?);
        ml_dsa.push(ml_dsa_rate(Duration::from_secs(1))?);
        // The setups one after the other in each round, so all see
        // the machine alike.
        for (i, setup) in Setup::ALL.into_iter().enumerate() {
            eprintln!(
                "Round {}/{rounds}: {messages} signed messages from us to ru, {} …",
                r + 1,
                setup.label()
            );
            let at = dir.join(format!("{}-{r}", setup.name()));
            figures[i].push(round(&at, messages, setup).await?);
        }
    }
    let ed = median(&ed25519);
    let pq = median(&ml_dsa);
    let medians: Vec<f64> = figures
        .iter()
        .map(|f| median(&f.iter().map(|m| m.throughput).collect::<Vec<_>>()))
        .collect();
    let single = medians[0];
    let mut report = Report::new("keys");
    report.figure("messages", messages);
    report.figure("rounds", rounds);
    report.figure("ed25519_sign_verify_per_s", ed);
    report.figure("ml_dsa_44_cosign_verify_per_s", pq);
    for (setup, m) in Setup::ALL.iter().zip(&medians) {
        report.figure(&format!("{}_throughput_per_s", setup.name()), *m);
        report.figure(&format!("{}_ratio_to_single", setup.name()), m / single);
    }
    let cosignatures: u64 = figures[2..].iter().flatten().map(|m| m.cosignatures).sum();
    report.figure("witness_cosignatures", cosignatures);
    say!(
        report,
        "Reference, same run: Ed25519 sign+verify {ed:.0}/s, ML-DSA-44 cosign+verify {pq:.0}/s on one core (medians)\n"
    );
    say!(
        report,
        "| signed + receipted messages, us → ru, 64 concurrent senders | throughput (median of {rounds}) | ratio to single key | ratio to Ed25519 |"
    );
    say!(report, "|---|---:|---:|---:|");
    for (setup, m) in Setup::ALL.iter().zip(&medians) {
        say!(
            report,
            "| {} | {m:.0}/s | {:.2}× | {:.2}× |",
            setup.label(),
            m / single,
            m / ed
        );
    }
    say!(
        report,
        "\nThe witness gave {cosignatures} cosignatures (each an Ed25519 and an ML-DSA-44 line per cosigner) during the witnessed streams."
    );
    Ok(report)
}
