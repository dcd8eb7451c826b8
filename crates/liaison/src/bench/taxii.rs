//! `liaison bench taxii`: TAXII 2.1 ingest and paging, side by side with
//! medallion 3.0.0 (the OASIS reference server, memory backend) in the same
//! run, through the same HTTP client, batches and page size.

use super::report::{Report, say};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::CliError;
use crate::output::progress_bar;

const MEDIA: &str = "application/taxii+json;version=2.1";
const BATCH: usize = 1_000;
const PAGE: usize = 1_000;

fn indicator(i: usize) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i / 65_536, i),
        "created": "2026-11-23T00:00:00.000Z", "modified": "2026-11-23T00:00:00.000Z",
        "name": format!("C2 address {i}"),
        "description": "Command-and-control server seen in a reported incident.",
        "indicator_types": ["malicious-activity"],
        "pattern": format!("[ipv4-addr:value = '10.{}.{}.{}']", i / 65_536 % 256, i / 256 % 256, i % 256),
        "pattern_type": "stix", "valid_from": "2026-11-23T00:00:00Z",
    })
}

/// A TAXII server under test: where its collection is and how to sign in.
struct Target {
    name: &'static str,
    objects_url: String,
    auth: Auth,
}

enum Auth {
    Bearer(String),
    Basic(String, String),
}

impl Target {
    fn with_auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::Bearer(t) => r.bearer_auth(t),
            Auth::Basic(u, p) => r.basic_auth(u, Some(p)),
        }
    }
}

/// Ingests `total` objects in batches; returns (objects so far, seconds of that batch).
async fn ingest(
    http: &reqwest::Client,
    t: &Target,
    total: usize,
    budget: Duration,
) -> Result<Vec<(usize, f64)>, CliError> {
    let bar = progress_bar(if t.name == "liaison" {
        "liaison ingest"
    } else {
        "medallion ingest"
    });
    bar.set_length(total as u64);
    let started = Instant::now();
    let mut out = Vec::new();
    let mut done = 0;
    while done < total {
        let objects: Vec<Value> = (done..(done + BATCH).min(total)).map(indicator).collect();
        let n = objects.len();
        let body = json!({ "objects": objects }).to_string();
        let start = Instant::now();
        let r = t
            .with_auth(http.post(&t.objects_url))
            .header("accept", MEDIA)
            .header("content-type", MEDIA)
            .body(body)
            .send()
            .await
            .map_err(|e| CliError::new("bench_failed", format!("{}: {e}", t.name)))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(CliError::new(
                "bench_failed",
                format!("{} refused a batch: {status} {text}", t.name),
            ));
        }
        let reply: Value = serde_json::from_str(&text).unwrap_or_default();
        if reply["success_count"].as_u64() != Some(n as u64) {
            return Err(CliError::new(
                "bench_failed",
                format!("{} did not add every object: {text:.300}", t.name),
            ));
        }
        done += n;
        out.push((done, start.elapsed().as_secs_f64()));
        bar.set_position(done as u64);
        if started.elapsed() > budget {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(out)
}

/// Pages through the first `count` objects `PAGE` at a time; returns seconds.
async fn page_through(http: &reqwest::Client, t: &Target, count: usize) -> Result<f64, CliError> {
    let start = Instant::now();
    let mut seen = 0;
    let mut next: Option<String> = None;
    while seen < count {
        // `next` tokens are opaque to the client but URL-safe for both servers.
        let url = match &next {
            Some(n) => format!("{}?limit={PAGE}&next={n}", t.objects_url),
            None => format!("{}?limit={PAGE}", t.objects_url),
        };
        let r = t
            .with_auth(http.get(&url))
            .header("accept", MEDIA)
            .send()
            .await
            .map_err(|e| CliError::new("bench_failed", format!("{}: {e}", t.name)))?;
        let v: Value = r
            .json()
            .await
            .map_err(|e| CliError::new("bench_failed", format!("{}: {e}", t.name)))?;
        let got = v["objects"].as_array().map_or(0, Vec::len);
        if got == 0 {
            break;
        }
        seen += got;
        next = v["next"].as_str().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    if seen < count {
        return Err(CliError::new(
            "bench_failed",
            format!("{} returned only {seen} of {count} objects", t.name),
        ));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn python() -> PathBuf {
    std::env::var("LIAISON_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(".venv/bin/python"))
}

/// Starts medallion with the memory backend, one writable collection.
pub(super) fn start_medallion(dir: &Path, port: u16) -> Result<Child, CliError> {
    let data = json!({
        "/discovery": {"title": "medallion", "default": format!("http://127.0.0.1:{port}/api1/"),
                       "api_roots": [format!("http://127.0.0.1:{port}/api1/")]},
        "api1": {
            "information": {"title": "bench", "versions": [MEDIA], "max_content_length": 104857600},
            "status": [],
            "collections": [{"id": "b2e8d4c6-1a3f-4e9b-8d72-6c5a0f1e9d43", "title": "bench",
                "can_read": true, "can_write": true, "media_types": ["application/stix+json;version=2.1"],
                "objects": [], "manifest": []}]
        }
    });
    let data_path = dir.join("medallion-data.json");
    let config_path = dir.join("medallion-config.json");
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": data_path},
        "users": {"bench": "bench"},
        "taxii": {"max_page_size": PAGE},
    });
    for (p, v) in [(&data_path, &data), (&config_path, &config)] {
        std::fs::write(p, v.to_string()).map_err(|e| CliError::io(e.to_string()))?;
    }
    Command::new(python())
        .args(["-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            CliError::new(
                "bench_failed",
                format!(
                    "cannot start medallion with {}: {e} (pip install medallion==3.0.0 into .venv, or set LIAISON_BENCH_PYTHON)",
                    python().display()
                ),
            )
        })
}

pub async fn taxii(
    dir: Option<&Path>,
    objects: usize,
    medallion_objects: usize,
    medallion_budget_secs: u64,
) -> Result<Report, CliError> {
    if objects < 10_000 || medallion_objects < 1 {
        return Err(CliError::new(
            "invalid_input",
            "--objects must be at least 10000 (the paging measure) and --medallion-objects at least 1",
        ));
    }
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    // Liaison: a node serving its app listener, a CERT analyst with an API token.
    let app = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::io(e.to_string()))?;
    let federation = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::io(e.to_string()))?;
    let app_addr = app.local_addr().map_err(|e| CliError::io(e.to_string()))?;
    let node = liaison_node::init(
        &dir.join("liaison"),
        &liaison_node::InitOptions::new("us", "Benchmark party us"),
    )
    .await?;
    node.add_user("bench", "cert_analyst", "benchmark password", "en")
        .await?;
    let token = node.create_token("bench", "bench").await?;
    let server =
        liaison_server::start(node.clone(), liaison_server::Listeners { federation, app }).await?;
    let liaison = Target {
        name: "liaison",
        objects_url: format!(
            "http://{app_addr}/taxii2/api/collections/{}/objects/",
            liaison_store::stix::SHARED_ID
        ),
        auth: Auth::Bearer(token),
    };
    // medallion on a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| CliError::io(e.to_string()))?;
    let mut child = start_medallion(&dir, port)?;
    let medallion = Target {
        name: "medallion",
        objects_url: format!(
            "http://127.0.0.1:{port}/api1/collections/b2e8d4c6-1a3f-4e9b-8d72-6c5a0f1e9d43/objects/"
        ),
        auth: Auth::Basic("bench".into(), "bench".into()),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()
        .map_err(|e| CliError::new("bench_failed", e.to_string()))?;
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !up {
        let _ = child.kill();
        return Err(CliError::new(
            "bench_failed",
            "medallion did not start within 10 s",
        ));
    }

    eprintln!(
        "Ingesting {objects} objects into Liaison and up to {medallion_objects} into medallion ({BATCH} per request) …"
    );
    let result = async {
        let ours = ingest(&http, &liaison, objects, Duration::from_secs(3600)).await?;
        let theirs = ingest(
            &http,
            &medallion,
            medallion_objects,
            Duration::from_secs(medallion_budget_secs),
        )
        .await?;
        eprintln!("Paging through 10,000 objects, {PAGE} per page …");
        let page_ours = page_through(&http, &liaison, 10_000).await?;
        let page_theirs = if theirs.last().map_or(0, |l| l.0) >= 10_000 {
            Some(page_through(&http, &medallion, 10_000).await?)
        } else {
            None
        };
        Ok::<_, CliError>((ours, theirs, page_ours, page_theirs))
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    server.shutdown().await;
    let (ours, theirs, page_ours, page_theirs) = result?;

    // Rates over blocks of objects: is ingest flat as the collection grows?
    let block_rate = |rows: &[(usize, f64)], from: usize, to: usize| -> Option<f64> {
        let secs: f64 = rows
            .iter()
            .filter(|(n, _)| *n > from && *n <= to)
            .map(|(_, s)| *s)
            .sum();
        let n = rows.iter().filter(|(n, _)| *n > from && *n <= to).count() * BATCH;
        (n > 0 && secs > 0.0).then(|| n as f64 / secs)
    };
    let mut report = Report::new("taxii");
    say!(
        report,
        "TAXII 2.1 ingest ({BATCH} objects per POST) and paging ({PAGE} per page), Liaison beside medallion 3.0.0 (memory backend):\n"
    );
    say!(
        report,
        "| objects already in the collection | Liaison objects/s | medallion objects/s | ratio |"
    );
    say!(report, "|---|---:|---:|---:|");
    let mut edges: Vec<usize> = vec![0, 1_000, 5_000, 10_000, 20_000, 50_000];
    let mut e = 100_000;
    while e < objects {
        edges.push(e);
        e *= 2;
    }
    edges.push(objects);
    edges.dedup();
    for w in edges.windows(2) {
        let (from, to) = (w[0], w[1]);
        if from >= objects {
            break;
        }
        let ours = block_rate(&ours, from, to);
        let theirs = block_rate(&theirs, from, to);
        report.row(
            "ingest",
            serde_json::json!({
                "from": from, "to": to, "objects_per_s": ours,
                "medallion_objects_per_s": theirs,
            }),
        );
        let fmt = |r: Option<f64>| r.map(|r| format!("{r:.0}")).unwrap_or_else(|| "—".into());
        let ratio = match (ours, theirs) {
            (Some(a), Some(b)) => format!("{:.1}×", a / b),
            _ => String::new(),
        };
        say!(
            report,
            "| {from}–{to} | {} | {} | {ratio} |",
            fmt(ours),
            fmt(theirs)
        );
    }
    let total_ours: f64 = ours.iter().map(|r| r.1).sum();
    say!(
        report,
        "\nLiaison: {} objects in {total_ours:.1} s ({:.0} objects/s overall), every batch committed durably (fsync) before it is answered.",
        ours.last().map_or(0, |l| l.0),
        ours.last().map_or(0, |l| l.0) as f64 / total_ours.max(1e-9)
    );
    let medallion_done = theirs.last().map_or(0, |l| l.0);
    report.figure("objects", ours.last().map_or(0, |l| l.0));
    report.figure("ingest_secs", total_ours);
    report.figure("medallion_objects", medallion_done);
    report.figure("paging_secs", page_ours);
    report.figure("medallion_paging_secs", page_theirs);
    if medallion_done < medallion_objects {
        say!(
            report,
            "medallion: stopped after {medallion_done} objects (time budget {medallion_budget_secs} s)."
        );
    }
    say!(report, "\n| paging through 10,000 objects | seconds |");
    say!(report, "|---|---:|");
    say!(
        report,
        "| Liaison (collection of {objects}) | **{page_ours:.2}** |"
    );
    match page_theirs {
        Some(s) => say!(
            report,
            "| medallion (collection of {medallion_done}) | {s:.2} |\n\nRatio: {:.0}×",
            s / page_ours.max(1e-9)
        ),
        None => say!(
            report,
            "| medallion | — (fewer than 10,000 objects ingested) |"
        ),
    }
    Ok(report)
}
