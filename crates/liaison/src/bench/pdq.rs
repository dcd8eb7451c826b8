//! `liaison bench pdq`: exact PDQ matching at radius 31 and PDQ hashing,
//! beside Python threatexchange 1.2.17's `PDQIndex` and Python `pdqhash`
//! on the same hashes, queries and images, in the same run, one core each.

use super::report::{Report, say};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use liaison_core::pdq::{DEFAULT_MATCH_RADIUS, PdqHash, hash_image};
use liaison_core::pdq_index::PdqIndex;

use crate::error::CliError;
use crate::output::progress_bar;

/// A small deterministic generator (SplitMix64): the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hash(&mut self) -> PdqHash {
        PdqHash([self.next(), self.next(), self.next(), self.next()])
    }
}

/// Half near-duplicates (an entry with 0–31 bits flipped; the entry must
/// be found), half random hashes.
fn queries(rng: &mut Rng, hashes: &[PdqHash], n: usize) -> Vec<(PdqHash, Option<usize>)> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let target = rng.below(hashes.len() as u64) as usize;
                let mut q = hashes[target];
                let flips = rng.below(u64::from(DEFAULT_MATCH_RADIUS) + 1);
                let mut flipped = 0;
                while flipped < flips {
                    let bit = rng.below(256) as usize;
                    let before = q;
                    q.0[bit / 64] ^= 1 << (bit % 64);
                    if q.distance(&hashes[target]) > before.distance(&hashes[target]) {
                        flipped += 1;
                    } else {
                        q = before;
                    }
                }
                (q, Some(target))
            } else {
                (rng.hash(), None)
            }
        })
        .collect()
}

fn python() -> PathBuf {
    std::env::var("LIAISON_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(".venv/bin/python"))
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

fn run_python(args: &[&std::ffi::OsStr]) -> Result<serde_json::Value, CliError> {
    let out = Command::new(python())
        .args(args)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .map_err(|e| {
            CliError::new(
                "bench_failed",
                format!(
                    "cannot run {}: {e} (pip install -r requirements-bench.txt into .venv, or set LIAISON_BENCH_PYTHON)",
                    python().display()
                ),
            )
        })?;
    if !out.status.success() {
        return Err(CliError::new(
            "bench_failed",
            format!(
                "the reference run failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| CliError::new("bench_failed", format!("reference output: {e}")))
}

struct IndexRun {
    inserts_per_sec: f64,
    load_secs: f64,
    queries_per_sec: f64,
    recall: f64,
}

fn run_ours(hashes: &[PdqHash], qs: &[(PdqHash, Option<usize>)]) -> Result<IndexRun, CliError> {
    // Incremental additions, one at a time (as hash-list changes arrive).
    let bar = progress_bar("adding one by one");
    bar.set_length(hashes.len() as u64);
    let start = Instant::now();
    let mut incremental = PdqIndex::new();
    for (i, h) in hashes.iter().enumerate() {
        incremental.insert(i as i64, *h);
        if i % 65_536 == 0 {
            bar.set_position(i as u64);
        }
    }
    let inserts_per_sec = hashes.len() as f64 / start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    drop(incremental);
    // What a node builds when it loads its lists.
    let start = Instant::now();
    let index = PdqIndex::from_entries(hashes.iter().enumerate().map(|(i, h)| (i as i64, *h)));
    let load_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut expected = 0usize;
    let mut found = 0usize;
    let mut results = Vec::with_capacity(qs.len());
    for (q, target) in qs {
        let m = index.search(q, DEFAULT_MATCH_RADIUS);
        if let Some(t) = target {
            expected += 1;
            if m.iter().any(|m| m.key == *t as i64) {
                found += 1;
            }
        }
        results.push(m.len());
    }
    let queries_per_sec = qs.len() as f64 / start.elapsed().as_secs_f64();

    // Exactness: the first queries again by brute force over every hash.
    for ((q, _), n) in qs.iter().zip(&results).take(200) {
        let brute = hashes
            .iter()
            .filter(|h| h.distance(q) <= DEFAULT_MATCH_RADIUS)
            .count();
        if brute != *n {
            return Err(CliError::new(
                "bench_failed",
                format!("the index found {n} matches where a full scan finds {brute}"),
            ));
        }
    }
    Ok(IndexRun {
        inserts_per_sec,
        load_secs,
        queries_per_sec,
        recall: found as f64 / expected.max(1) as f64,
    })
}

pub async fn pdq(
    dir: Option<&Path>,
    sizes: Vec<usize>,
    query_count: usize,
    reference_queries: usize,
    images: usize,
) -> Result<Report, CliError> {
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let mut report = Report::new("pdq");
    report.figure("radius", DEFAULT_MATCH_RADIUS);
    report.figure("queries", query_count);
    say!(
        report,
        "PDQ matching at Hamming distance ≤ {DEFAULT_MATCH_RADIUS}: {query_count} queries (half near-duplicates, half random), one core"
    );
    say!(
        report,
        "| hashes | Liaison load (s) | Liaison additions/s (one by one) | Liaison queries/s | recall | threatexchange PDQIndex queries/s | recall | ratio |"
    );
    say!(report, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for size in sizes {
        let mut rng = Rng(0x5eed_0000 + size as u64);
        let hashes: Vec<PdqHash> = (0..size).map(|_| rng.hash()).collect();
        let qs = queries(&mut rng, &hashes, query_count);
        let ours = tokio::task::block_in_place(|| run_ours(&hashes, &qs))?;

        let hashes_file = dir.join(format!("hashes-{size}.txt"));
        let queries_file = dir.join(format!("queries-{size}.txt"));
        let mut text = String::with_capacity(size * 65);
        for h in &hashes {
            text.push_str(&h.to_hex());
            text.push('\n');
        }
        std::fs::write(&hashes_file, text).map_err(|e| CliError::io(e.to_string()))?;
        let mut text = String::new();
        for (q, t) in &qs {
            text.push_str(&format!("{} {}\n", q, t.map_or(-1, |t| t as i64)));
        }
        std::fs::write(&queries_file, text).map_err(|e| CliError::io(e.to_string()))?;
        eprint!("threatexchange PDQIndex on {size} hashes… ");
        let _ = std::io::stderr().flush();
        let limit = reference_queries.to_string();
        let r = tokio::task::block_in_place(|| {
            run_python(&[
                script("pdq_bench.py").as_os_str(),
                "index".as_ref(),
                hashes_file.as_os_str(),
                queries_file.as_os_str(),
                limit.as_ref(),
            ])
        })?;
        eprintln!("done");
        let ref_qps = r["queries"].as_f64().unwrap_or(0.0) / r["seconds"].as_f64().unwrap_or(1.0);
        report.row(
            "matching",
            serde_json::json!({
                "hashes": size, "load_secs": ours.load_secs,
                "additions_per_s": ours.inserts_per_sec,
                "queries_per_s": ours.queries_per_sec, "recall": ours.recall,
                "reference_queries_per_s": ref_qps,
                "reference_recall": r["recall"].as_f64().unwrap_or(0.0),
                "ratio": ours.queries_per_sec / ref_qps.max(f64::MIN_POSITIVE),
            }),
        );
        say!(
            report,
            "| {size} | {:.2} | {:.0} | {:.0} | {:.3} | {:.0} | {:.3} | {:.0}× |",
            ours.load_secs,
            ours.inserts_per_sec,
            ours.queries_per_sec,
            ours.recall,
            ref_qps,
            r["recall"].as_f64().unwrap_or(0.0),
            ours.queries_per_sec / ref_qps.max(f64::MIN_POSITIVE)
        );
    }

    if images > 0 {
        let image_dir = dir.join("images");
        eprint!("generating {images} test images… ");
        let count = images.div_ceil(15).to_string();
        tokio::task::block_in_place(|| {
            run_python(&[
                script("pdq_reference.py").as_os_str(),
                image_dir.as_os_str(),
                count.as_ref(),
            ])
        })?;
        eprintln!("done");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&image_dir)
            .map_err(|e| CliError::io(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        let bytes: Vec<Vec<u8>> = files
            .iter()
            .map(std::fs::read)
            .collect::<Result<_, _>>()
            .map_err(|e| CliError::io(e.to_string()))?;
        let start = Instant::now();
        for b in &bytes {
            hash_image(b).map_err(|e| CliError::new("bench_failed", e.to_string()))?;
        }
        let ours = files.len() as f64 / start.elapsed().as_secs_f64();
        let bench_script = script("pdq_bench.py");
        let mut args: Vec<&std::ffi::OsStr> = vec![bench_script.as_os_str(), "hash".as_ref()];
        args.extend(files.iter().map(|f| f.as_os_str()));
        let r = tokio::task::block_in_place(|| run_python(&args))?;
        let reference = r["images"].as_f64().unwrap_or(0.0) / r["seconds"].as_f64().unwrap_or(1.0);
        report.figure(
            "hashing",
            serde_json::json!({
                "images": files.len(), "images_per_s": ours,
                "reference_images_per_s": reference,
                "ratio": ours / reference.max(f64::MIN_POSITIVE),
            }),
        );
        say!(
            report,
            "\nPDQ hashing (decode + hash, {} JPEG/PNG/WebP files up to 1024×683, one core): Liaison {ours:.0} images/s, Python pdqhash (PIL decode) {reference:.0} images/s, ratio {:.1}×",
            files.len(),
            ours / reference.max(f64::MIN_POSITIVE)
        );
    }
    Ok(report)
}
