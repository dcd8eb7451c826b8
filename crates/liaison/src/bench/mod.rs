//! `liaison bench …`: performance measurements, each beside a reference
//! measured in the same run on the same disk.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_log::note::{ED25519, NoteSigner};
use liaison_store::{Store, WriterOptions};

mod abuse;
mod fanout;
mod federation;
mod idle;
mod keys;
mod network;
mod pdq;
mod report;
mod search;
mod taxii;
pub use abuse::abuse;
pub use fanout::fanout;
pub use federation::federation;
pub use idle::idle;
pub use keys::keys;
pub use network::network;
pub use pdq::pdq;
pub use search::search;
pub use taxii::taxii;

use crate::error::CliError;
pub use report::Report;
use report::say;

// The benchmarks measure the store itself (its writer, its indexes) beside
// references: they are the one part of the binary that reads it directly.
impl From<liaison_store::StoreError> for CliError {
    fn from(e: liaison_store::StoreError) -> CliError {
        liaison_node::NodeError::from(e).into()
    }
}
use crate::output::progress_bar;

/// Raw `fdatasync` rate: 4 KiB written and synced per operation.
fn fsync_rate(dir: &Path, duration: Duration) -> Result<f64, CliError> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path)
        .map_err(|e| CliError::io(format!("cannot create {}: {e}", path.display())))?;
    let block = [7u8; 4096];
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < duration {
        f.write_all(&block)
            .map_err(|e| CliError::io(format!("write: {e}")))?;
        f.sync_data()
            .map_err(|e| CliError::io(format!("fdatasync: {e}")))?;
        ops += 1;
    }
    let rate = ops as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

fn leaf(i: u64) -> Vec<u8> {
    LeafEntry::new(LeafKind::Envelope, &i.to_le_bytes()).encode()
}

fn open_scratch(dir: &Path, name: &str) -> Result<Store, CliError> {
    let path = dir.join(name);
    Store::create(&path)?;
    let signer = NoteSigner::new("bench.liaison/log", ED25519, [1; 32])
        .map_err(|e| CliError::invalid(e.to_string()))?;
    Ok(Store::open(
        &path,
        liaison_store::LogSigners::single(signer),
        WriterOptions { max_batch: 4096 },
    )?)
}

struct Row {
    what: String,
    entries: u64,
    seconds: f64,
    commits: u64,
}

impl Row {
    fn rate(&self) -> f64 {
        self.entries as f64 / self.seconds
    }
}

/// Durable appends with a fixed number of entries per transaction.
async fn sequential(dir: &Path, batch: u64, entries: u64) -> Result<Row, CliError> {
    let store = open_scratch(dir, &format!("seq-{batch}.db"))?;
    let bar = progress_bar("appending");
    bar.set_length(entries);
    let start = Instant::now();
    let mut done = 0u64;
    let mut commits = 0u64;
    // Small batches are slow by design: stop after 5 s and report the rate.
    while done < entries && start.elapsed() < Duration::from_secs(5) {
        let first = done;
        store
            .write(move |tx| {
                for i in first..first + batch {
                    tx.append_leaf(leaf(i));
                }
                Ok(())
            })
            .await?;
        done += batch;
        commits += 1;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    Ok(Row {
        what: format!("{batch} per transaction"),
        entries: done,
        seconds: start.elapsed().as_secs_f64(),
        commits,
    })
}

/// Many concurrent single-entry writers: the writer thread groups them.
async fn concurrent(dir: &Path, writers: u64, entries: u64) -> Result<Row, CliError> {
    let store = open_scratch(dir, &format!("group-{writers}.db"))?;
    let per_writer = entries / writers;
    let bar = progress_bar("appending");
    bar.set_length(per_writer * writers);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let store = store.clone();
        let bar = bar.clone();
        tasks.spawn(async move {
            let mut sizes = Vec::with_capacity(per_writer as usize);
            for i in 0..per_writer {
                let n = w * per_writer + i;
                let c = store.write(move |tx| Ok(tx.append_leaf(leaf(n)))).await?;
                sizes.push(c.head.size);
                bar.inc(1);
            }
            Ok::<_, liaison_store::StoreError>(sizes)
        });
    }
    let mut heads = std::collections::HashSet::new();
    while let Some(joined) = tasks.join_next().await {
        let sizes = joined.map_err(|e| CliError::io(format!("a writer task failed: {e}")))??;
        heads.extend(sizes);
    }
    bar.finish_and_clear();
    Ok(Row {
        what: format!("{writers} concurrent writers, 1 entry each, group commit"),
        entries: per_writer * writers,
        seconds: start.elapsed().as_secs_f64(),
        commits: heads.len() as u64,
    })
}

pub async fn log(dir: Option<&Path>, entries: u64) -> Result<Report, CliError> {
    let scratch = Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    eprintln!("Measuring the raw fsync rate of {} …", dir.display());
    let fsync = fsync_rate(&dir, Duration::from_secs(3))?;
    let mut rows = Vec::new();
    for batch in [1u64, 16, 256, 1024, 4096] {
        eprintln!("Appending with {batch} entries per transaction …");
        rows.push(sequential(&dir, batch, entries).await?);
    }
    eprintln!("Appending from 256 concurrent writers …");
    rows.push(concurrent(&dir, 256, entries).await?);

    let mut report = Report::new("log");
    report.figure("fsync_per_s", fsync);
    say!(
        report,
        "Raw fdatasync rate of this disk (4 KiB per op): {fsync:.0}/s\n"
    );
    say!(
        report,
        "| durable appends | entries | commits (fsyncs) | entries/s | ratio to raw fsync rate |"
    );
    say!(report, "|---|---:|---:|---:|---:|");
    for r in &rows {
        report.row(
            "appends",
            serde_json::json!({
                "what": r.what, "entries": r.entries, "commits": r.commits,
                "entries_per_s": r.rate(), "ratio_to_fsync": r.rate() / fsync,
            }),
        );
        say!(
            report,
            "| {} | {} | {} | {:.0} | {:.1}× |",
            r.what,
            r.entries,
            r.commits,
            r.rate(),
            r.rate() / fsync
        );
    }
    Ok(report)
}

/// The directory a benchmark works in: the one given (created if missing,
/// kept afterwards), or a new one here, removed when the run ends.
struct Scratch {
    path: PathBuf,
    remove: bool,
}

impl Scratch {
    fn new(dir: Option<&Path>) -> Result<Scratch, CliError> {
        match dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| CliError::io(format!("cannot create {}: {e}", d.display())))?;
                Ok(Scratch {
                    path: d.to_owned(),
                    remove: false,
                })
            }
            None => Ok(Scratch {
                path: tempfile_dir()?,
                remove: true,
            }),
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn tempfile_dir() -> Result<PathBuf, CliError> {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).map_err(|e| CliError::io(format!("no randomness: {e}")))?;
    // In the working directory, not /tmp: /tmp may be a RAM disk, which
    // would make fsync figures meaningless.
    let dir = std::path::PathBuf::from(format!("liaison-bench-{:016x}", u64::from_le_bytes(seed)));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::io(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

pub async fn ui(dir: Option<&Path>, cases: u64, runs: usize) -> Result<Report, CliError> {
    let scratch = Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let mut options = liaison_node::InitOptions::new("us", "Benchmark party us");
    options.listen = "127.0.0.1:0".into();
    options.app_listen = "127.0.0.1:0".into();
    let node = liaison_node::init(&dir.join("ui"), &options).await?;
    eprintln!("Inserting {cases} cases …");
    let bar = progress_bar("inserting");
    bar.set_length(cases);
    let chunk = 10_000u64;
    let mut done = 0u64;
    while done < cases {
        let (from, to) = (done, (done + chunk).min(cases));
        node.store()
            .write(move |tx| {
                let mut stmt = tx.conn().sqlite().prepare_cached(
                    "INSERT INTO cases (id, kind, initiator, responder, outgoing, subject, state, created, updated, offence, urgent, links, root_hash, delivered_at)
                     VALUES (?1, ?2, ?3, ?4, ?3 = 'us', ?5, ?6, ?7, ?7, ?8, 0, '[]', NULL, ?7)",
                )?;
                for i in from..to {
                    let incoming = i % 2 == 0;
                    let (kind, state) = [("mla", "under_review"), ("preservation", "executed"), ("emergency_disclosure", "acknowledged"), ("note", "open"), ("mla", "closed")][(i % 5) as usize];
                    let day = 1 + i % 28;
                    let created = format!("2026-{:02}-{day:02}T{:02}:{:02}:00Z", 1 + (i / 28) % 11, i % 24, i % 60);
                    stmt.execute(rusqlite_params(&[
                        &format!("{}-{i:020}", if incoming { "ru" } else { "us" }),
                        kind,
                        if incoming { "ru" } else { "us" },
                        if incoming { "us" } else { "ru" },
                        &format!("OIA-2026-{i:06}"),
                        state,
                        &created,
                        "computer-fraud",
                    ]))?;
                }
                Ok(())
            })
            .await?;
        done = to;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    let state = liaison_server::ui::UiState::new(node.clone(), false);
    let mut page_times = Vec::new();
    let mut sql_times = Vec::new();
    for run in 0..runs {
        let page = 1 + (run * 37) % 1000;
        let start = Instant::now();
        let response = liaison_server::ui::render_inbox_for_benchmark(
            &state,
            if run % 2 == 0 { "en" } else { "ru" },
            page,
        );
        let status = response.status();
        let body = axum_body_len(response).await;
        page_times.push(start.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() || body < 1000 {
            return Err(CliError::new(
                "bench_failed",
                format!("the inbox page answered {status} with {body} bytes"),
            ));
        }
        let start = Instant::now();
        node.store().read(|c| {
            let mut stmt = c.sqlite().prepare_cached("SELECT id, kind, subject, state, updated FROM cases WHERE outgoing = 0 ORDER BY outgoing, updated DESC, id LIMIT 50 OFFSET ?1")?;
            let rows: Vec<(String, String, String, String, String)> = stmt
                .query_map([((page - 1) * 50) as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows.len())
        })?;
        sql_times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    let (p50, p99) = (pct(&mut page_times, 0.5), pct(&mut page_times, 0.99));
    let (s50, s99) = (pct(&mut sql_times, 0.5), pct(&mut sql_times, 0.99));
    let mut report = Report::new("ui");
    report.figure("cases", cases);
    report.figure("renders", runs);
    report.figure("page_p50_ms", p50);
    report.figure("page_p99_ms", p99);
    report.figure("sql_p50_ms", s50);
    report.figure("sql_p99_ms", s99);
    report.figure("ratio_to_sql", p50 / s50.max(0.001));
    say!(
        report,
        "Inbox page (50 rows of {cases} cases, count, deadlines, template, English and Russian), {runs} renders:\n"
    );
    say!(
        report,
        "| what | p50 | p99 | ratio to the bare SQL page query (p50) |"
    );
    say!(report, "|---|---:|---:|---:|");
    say!(
        report,
        "| render the inbox page | {p50:.2} ms | {p99:.2} ms | {:.1}× |",
        p50 / s50.max(0.001)
    );
    say!(
        report,
        "| reference: the page's SQL query alone | {s50:.2} ms | {s99:.2} ms | 1.0× |"
    );
    Ok(report)
}

fn rusqlite_params<'a>(values: &'a [&'a str]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(values.iter())
}

async fn axum_body_len(response: axum::response::Response) -> usize {
    use http_body_util::BodyExt as _;
    response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().len())
        .unwrap_or(0)
}

/// The `p` percentile of durations in microseconds, in milliseconds.
fn percentile_ms(micros: &[i64], p: f64) -> f64 {
    if micros.is_empty() {
        return 0.0;
    }
    let mut sorted = micros.to_vec();
    sorted.sort_unstable();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
}
