//! `liaison bench …`: performance measurements, each beside a reference
//! measured in the same run on the same disk.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_log::note::{ED25519, NoteSigner};
use liaison_store::{Store, WriterOptions};

use crate::commands::progress_bar;
use crate::error::CliError;

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
        signer,
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

pub async fn log(dir: Option<&Path>, entries: u64) -> Result<(), CliError> {
    let scratch_used = dir.is_none();
    let dir = match dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(|e| CliError::io(format!("cannot create {}: {e}", d.display())))?;
            d.to_owned()
        }
        None => tempfile_dir()?,
    };
    eprintln!("Measuring the raw fsync rate of {} …", dir.display());
    let fsync = fsync_rate(&dir, Duration::from_secs(3))?;
    let mut rows = Vec::new();
    for batch in [1u64, 16, 256, 1024, 4096] {
        eprintln!("Appending with {batch} entries per transaction …");
        rows.push(sequential(&dir, batch, entries).await?);
    }
    eprintln!("Appending from 256 concurrent writers …");
    rows.push(concurrent(&dir, 256, entries).await?);

    println!("Raw fdatasync rate of this disk (4 KiB per op): {fsync:.0}/s\n");
    println!(
        "| durable appends | entries | commits (fsyncs) | entries/s | ratio to raw fsync rate |"
    );
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.1}× |",
            r.what,
            r.entries,
            r.commits,
            r.rate(),
            r.rate() / fsync
        );
    }
    if scratch_used {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf, CliError> {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).map_err(|e| CliError::io(format!("no randomness: {e}")))?;
    // In the working directory, not /tmp: /tmp may be a RAM disk, which
    // would make fsync figures meaningless.
    let dir = std::path::PathBuf::from(format!("liaison-bench-{:016x}", u64::from_le_bytes(seed)));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::io(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}
