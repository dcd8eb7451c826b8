//! `liaison bench abuse`: a legitimate user's page and API latency and the
//! node's peak memory while slow connections, bad-password floods, image
//! bombs and oversized TAXII posts run at the same time, beside the same
//! figures without attack, measured on one real `liaison serve` process.
//!
//! Attackers connect from other loopback addresses (127.0.0.2 …) than the
//! user (127.0.0.1): they are other clients, as on a real network.

use super::report::{Report, say};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt as _;

use super::idle::{init_node, memory_mib, serve_node};
use crate::error::CliError;

const PASSWORD: &str = "a long enough password";

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::new("bench_failed", e.to_string())
}

/// A client that connects from `source` (a loopback address).
fn client_from(source: Ipv4Addr) -> Result<reqwest::Client, CliError> {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(failed)
}

/// A 16-bit RGB PNG of one colour per 256-pixel block: tiny on the wire,
/// `w`×`h`×6 bytes once decoded.
pub fn png_bomb(w: u32, h: u32) -> Result<Vec<u8>, CliError> {
    use image::ImageEncoder as _;
    let img = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        let (bx, by) = ((x / 256) as u16, (y / 256) as u16);
        image::Rgb([
            bx.wrapping_mul(3000),
            by.wrapping_mul(3000),
            (bx ^ by).wrapping_mul(2000),
        ])
    });
    let bytes: Vec<u8> = img.as_raw().iter().flat_map(|v| v.to_ne_bytes()).collect();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::Sub,
    )
    .write_image(&bytes, w, h, image::ExtendedColorType::Rgb16)
    .map_err(failed)?;
    Ok(out)
}

/// p50 and p99 of what the legitimate user saw, in milliseconds.
struct Latency {
    page: (f64, f64),
    api: (f64, f64),
    errors: u64,
}

/// The user's traffic for `duration`: a page and an API call in turn.
async fn legitimate(
    app: u16,
    cookie: &str,
    token: &str,
    duration: Duration,
) -> Result<Latency, CliError> {
    let http = client_from(Ipv4Addr::LOCALHOST)?;
    let (mut page, mut api, mut errors) = (Vec::new(), Vec::new(), 0u64);
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let page_request = http
            .get(format!("http://127.0.0.1:{app}/cases"))
            .header("cookie", format!("liaison_session={cookie}"));
        let api_request = http
            .get(format!("http://127.0.0.1:{app}/api/v1/cases?limit=100"))
            .bearer_auth(token);
        for (request, times) in [(page_request, &mut page), (api_request, &mut api)] {
            let t = Instant::now();
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    times.push(t.elapsed().as_micros() as i64);
                }
                _ => errors += 1,
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let p = |v: &[i64], q| super::percentile_ms(v, q);
    Ok(Latency {
        page: (p(&page, 0.5), p(&page, 0.99)),
        api: (p(&api, 0.5), p(&api, 0.99)),
        errors,
    })
}

/// Starts every attack; they run until `stop` is set. Counts requests sent.
fn attack(
    app: u16,
    isp_token: String,
    cert_token: String,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, CliError> {
    let mut tasks = Vec::new();
    let target = SocketAddr::from(([127, 0, 0, 1], app));
    // Slow connections: 300 that trickle header bytes and never finish.
    for i in 0..300u32 {
        let (stop, sent) = (stop.clone(), sent.clone());
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i % 4) as u8);
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                    return;
                };
                if socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).is_err() {
                    return;
                }
                let Ok(mut s) = socket.connect(target).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                sent.fetch_add(1, Ordering::Relaxed);
                let _ = s.write_all(b"GET /cases HTTP/1.1\r\nHost: x\r\n").await;
                while !stop.load(Ordering::Relaxed) && s.write_all(b"X-a: b\r\n").await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(900)).await;
                }
            }
        }));
    }
    // Bad-password floods over HTTP Basic, 50 at a time.
    let bad = client_from(Ipv4Addr::new(127, 0, 0, 6))?;
    for i in 0..50u32 {
        let (stop, sent, bad) = (stop.clone(), sent.clone(), bad.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let _ = bad
                    .get(format!("http://127.0.0.1:{app}/api/v1/cases"))
                    .basic_auth(format!("user{i}-{n}"), Some("wrong password"))
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Image bombs (36 megapixels, 16-bit) and images just within the bound.
    let bomb = Arc::new(png_bomb(6000, 6000)?);
    let heavy = Arc::new(png_bomb(4000, 4000)?);
    let images = client_from(Ipv4Addr::new(127, 0, 0, 7))?;
    for i in 0..4u32 {
        let (stop, sent, images, token) = (
            stop.clone(),
            sent.clone(),
            images.clone(),
            isp_token.clone(),
        );
        let body = if i % 2 == 0 {
            bomb.clone()
        } else {
            heavy.clone()
        };
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let _ = images
                    .post(format!("http://127.0.0.1:{app}/api/v1/hashes/lookup"))
                    .bearer_auth(&token)
                    .header("content-type", "image/png")
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Oversized TAXII posts: 4 MB of empty objects.
    let mut empty = b"{\"objects\": [".to_vec();
    while empty.len() < 4_000_000 {
        empty.extend_from_slice(b"{},");
    }
    empty.extend_from_slice(b"{}]}");
    let empty = Arc::new(empty);
    let taxii = client_from(Ipv4Addr::new(127, 0, 0, 8))?;
    for _ in 0..4 {
        let (stop, sent, taxii, token, body) = (
            stop.clone(),
            sent.clone(),
            taxii.clone(),
            cert_token.clone(),
            empty.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let _ = taxii
                    .post(format!(
                        "http://127.0.0.1:{app}/taxii2/api/collections/shared/objects/"
                    ))
                    .bearer_auth(&token)
                    .header("accept", "application/taxii+json;version=2.1")
                    .header("content-type", "application/taxii+json;version=2.1")
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    Ok(tasks)
}

pub async fn abuse(dir: Option<&std::path::Path>, seconds: u64) -> Result<Report, CliError> {
    let scratch = super::Scratch::new(dir)?;
    let dir = scratch.path().to_owned();
    let exe = std::env::current_exe().map_err(|e| CliError::io(e.to_string()))?;
    let node_dir = dir.join("node");
    let app = init_node(&exe, &node_dir)?;
    let node = liaison_node::Node::open(&node_dir)?;
    for (user, role) in [
        ("legal", "legal_officer"),
        ("isp", "provider_liaison"),
        ("cert", "cert_analyst"),
    ] {
        node.add_user(user, role, PASSWORD, "en").await?;
    }
    let (cookie, _) = node.start_session("legal").await?;
    let token = node.create_token("legal", "bench").await?;
    let isp = node.create_token("isp", "bench").await?;
    let cert = node.create_token("cert", "bench").await?;
    let serve = serve_node(&exe, &node_dir, app).await?;
    let pid = serve.0.id();
    let duration = Duration::from_secs(seconds.max(5));

    let reset_peak = || std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let _ = reset_peak();
    let quiet = legitimate(app, &cookie, &token, duration).await?;
    let (_, quiet_peak) = memory_mib(pid)?;

    let _ = reset_peak();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let tasks = attack(app, isp, cert, stop.clone(), sent.clone())?;
    // Let the attacks take hold before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = legitimate(app, &cookie, &token, duration).await?;
    let (_, attacked_peak) = memory_mib(pid)?;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    drop(serve);

    let mut report = Report::new("abuse");
    for (what, l, peak) in [
        ("quiet", &quiet, quiet_peak),
        ("attacked", &attacked, attacked_peak),
    ] {
        report.figure(
            what,
            serde_json::json!({
                "page_p50_ms": l.page.0, "page_p99_ms": l.page.1,
                "api_p50_ms": l.api.0, "api_p99_ms": l.api.1,
                "failed": l.errors, "peak_rss_mib": peak,
            }),
        );
    }
    report.figure("attack_requests", sent.load(Ordering::Relaxed));
    say!(
        report,
        "A signed-in user's requests during {} s, without and with attacks from other addresses\n",
        duration.as_secs()
    );
    say!(
        report,
        "| | page p50 | page p99 | API p50 | API p99 | failed | peak RSS |"
    );
    say!(report, "|---|---:|---:|---:|---:|---:|---:|");
    let row = |report: &mut Report, what: &str, l: &Latency, peak: f64| {
        say!(
            report,
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {peak:.0} MiB |",
            l.page.0,
            l.page.1,
            l.api.0,
            l.api.1,
            l.errors
        );
    };
    row(&mut report, "no attack", &quiet, quiet_peak);
    row(&mut report, "under attack", &attacked, attacked_peak);
    let ratio = |a: f64, b: f64| a / b.max(0.001);
    say!(
        report,
        "| ratio (attack / none) | {:.2}× | {:.2}× | {:.2}× | {:.2}× | | {:.2}× |",
        ratio(attacked.page.0, quiet.page.0),
        ratio(attacked.page.1, quiet.page.1),
        ratio(attacked.api.0, quiet.api.0),
        ratio(attacked.api.1, quiet.api.1),
        ratio(attacked_peak, quiet_peak)
    );
    say!(
        report,
        "\nAttack traffic: 300 slow-header connections, 50 parallel bad HTTP Basic passwords, 4 parallel image lookups (6000×6000 and 4000×4000 16-bit PNGs), 4 parallel 4 MB TAXII posts of empty objects; {} connections and requests sent.",
        sent.load(Ordering::Relaxed)
    );
    Ok(report)
}
