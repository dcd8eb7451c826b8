//! No outsider can exhaust a node: sign-in floods, password-check floods,
//! slow connections, image bombs and oversized TAXII posts stay within
//! bounds, measured on real `liaison serve` processes from /proc.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;

const PASSWORD: &str = "a long enough password";

/// Posts the login form as `client` (sent as X-Forwarded-For); the status.
async fn login(
    http: &reqwest::Client,
    base: &str,
    client: &str,
    user: &str,
    password: &str,
) -> u16 {
    let (cookie, token) = login_form(http, base).await;
    let body = serde_urlencoded::to_string([
        ("prelogin", token.as_str()),
        ("username", user),
        ("password", password),
        ("next", "/"),
    ])
    .unwrap();
    match http
        .post(format!("{base}/login"))
        .header("cookie", format!("liaison_prelogin={cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", client)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        // The node may answer (413) and close before a huge form is sent.
        Err(e) if e.is_request() && !e.is_timeout() => 413,
        Err(e) => panic!("{e}"),
    }
}

fn client() -> reqwest::Client {
    install_crypto();
    // No kept-alive connections: the node closes one after refusing a huge
    // body, and a pooled connection could be reused as it closes.
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_failures_are_bounded_cannot_be_spoofed_or_raced_and_lock_out_no_one_else() {
    let tmp = tempfile::tempdir().unwrap();
    // Behind a trusted proxy (loopback): the forwarded address is the client.
    let node = Served::start(tmp.path(), "us", |c| {
        c.limits.trusted_proxies = "127.0.0.1".into()
    });
    let admin = liaison_node::Node::open(&node.dir).unwrap();
    admin
        .add_user("legal", "legal_officer", PASSWORD, "en")
        .await
        .unwrap();
    let http = client();
    let base = node.app.clone();

    // 200 sign-ins with 1.9 MB user names: the memory they leave is small.
    let before = node.rss_mib();
    let long = "x".repeat(1_900_000);
    // (Eight at a time: one socket address may hold only so many connections.)
    let statuses: Vec<u16> =
        futures_util::StreamExt::collect(futures_util::StreamExt::buffer_unordered(
            futures_util::stream::iter((0..200).map(|i| {
                let (http, base, long) = (http.clone(), base.clone(), long.clone());
                async move {
                    login(
                        &http,
                        &base,
                        &format!("198.51.100.{}", i % 250),
                        &format!("{long}{i}"),
                        "x",
                    )
                    .await
                }
            })),
            8,
        ))
        .await;
    assert!(
        statuses.iter().all(|s| [401, 413, 429].contains(s)),
        "{statuses:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let grew = node.rss_mib() - before;
    assert!(grew < 20.0, "resident memory grew by {grew:.1} MiB");

    // Five failures lock this user out from this client only.
    for _ in 0..5 {
        assert_eq!(
            login(&http, &base, "203.0.113.1", "legal", "wrong password!").await,
            401
        );
    }
    assert_eq!(
        login(&http, &base, "203.0.113.1", "legal", PASSWORD).await,
        429
    );
    assert_eq!(
        login(&http, &base, "203.0.113.2", "legal", PASSWORD).await,
        303
    );

    // Twenty guesses in parallel: at most five are checked.
    let guesses: Vec<u16> = futures_util::future::join_all((0..20).map(|_| {
        let (http, base) = (http.clone(), base.clone());
        async move { login(&http, &base, "203.0.113.3", "legal", "parallel guess").await }
    }))
    .await;
    let checked = guesses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 5, "{checked} guesses were checked: {guesses:?}");
    assert!(
        guesses.iter().all(|s| [401, 429].contains(s)),
        "{guesses:?}"
    );

    // Without a trusted proxy, X-Forwarded-For changes nothing: five
    // failures from this socket, whatever it claims, and it is limited.
    let tmp2 = tempfile::tempdir().unwrap();
    let direct = live_node(tmp2.path(), "ru", "party").await;
    direct
        .node
        .add_user("legal", "legal_officer", PASSWORD, "en")
        .await
        .unwrap();
    let base = direct.app_url();
    for i in 0..5 {
        let s = login(
            &http,
            &base,
            &format!("192.0.2.{i}"),
            "legal",
            "wrong password!",
        )
        .await;
        assert_eq!(s, 401);
    }
    assert_eq!(
        login(&http, &base, "192.0.2.99", "legal", PASSWORD).await,
        429
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn password_check_floods_stay_in_bounded_memory_and_tokens_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Served::start(tmp.path(), "us", |_| {});
    let token = node.user_with_token("cert", "cert_analyst").await;
    let http = client();
    let url = format!("{}/api/v1/cases", node.app);
    reset_peak(node.pid());
    let statuses: Vec<u16> = futures_util::future::join_all((0..100).map(|i| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.get(&url)
                .basic_auth(format!("user{i}"), Some("wrong password"))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    }))
    .await;
    let peak = node.peak_mib();
    assert!(peak < 300.0, "peak resident memory {peak:.0} MiB");
    // 0: over the connections one client may hold, closed at once.
    assert!(
        statuses.iter().all(|s| [0, 401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    let unauthorized = http.get(&url).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert!(unauthorized.headers().contains_key("www-authenticate"));
    // The node still answers: a token works.
    let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_guesses_against_one_user_are_throttled_and_successes_need_no_second_check() {
    let net = Net::with(&["us"]).await;
    let n = &net["us"];
    n.node
        .add_user("cert", "cert_analyst", PASSWORD, "en")
        .await
        .unwrap();
    let http = client();
    let url = format!("{}/api/v1/cases", n.app_url());
    for _ in 0..3 {
        let r = http
            .get(&url)
            .basic_auth("cert", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for _ in 0..5 {
        let r = http
            .get(&url)
            .basic_auth("cert", Some("guess"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http
        .get(&url)
        .basic_auth("cert", Some("guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");
}

/// Opens a connection and sends `bytes`; returns it.
fn open(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    s
}

/// Whether the server closed the connection (reading gives EOF or a reset).
fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_idle_connections_are_closed_and_capped_per_client() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Served::start(tmp.path(), "us", |c| {
        c.limits.header_timeout_secs = 1;
        c.limits.body_timeout_secs = 1;
        c.limits.max_connections_per_client = 20;
    });
    let addr = node.app.trim_start_matches("http://").to_owned();
    let slow: Vec<TcpStream> = (0..20)
        .map(|_| open(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // Over the per-client cap: closed at once, before any byte is read.
    let mut extra = open(&addr, b"");
    let start = std::time::Instant::now();
    assert!(closed(&mut extra));
    assert!(start.elapsed() < Duration::from_secs(5));
    // Headers never finished: closed after the header timeout.
    for mut s in slow {
        assert!(closed(&mut s));
    }
    // A body that stops: cut off.
    let mut body = open(
        &addr,
        b"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"to\"",
    );
    assert!(closed(&mut body));
    // A kept-alive connection with no next request is closed too.
    let mut idle = open(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(closed(&mut idle));
    // And the node serves as before.
    let r = client()
        .get(format!("{}/healthz", node.app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(r.headers().contains_key(h), "{h} missing on /healthz");
    }
}

/// A PNG of `w`×`h` 16-bit RGB pixels in blocks of one colour: it
/// compresses to almost nothing (a decompression bomb).
fn png16(w: u32, h: u32) -> Vec<u8> {
    use image::ImageEncoder as _;
    let img = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(w, h, |x, y| {
        let (bx, by) = ((x / 256) as u16, (y / 256) as u16);
        image::Rgb([
            bx.wrapping_mul(3000),
            by.wrapping_mul(3000),
            (bx ^ by).wrapping_mul(2000),
        ])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::Sub,
    )
    .write_image(
        &img.as_raw()
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect::<Vec<u8>>(),
        w,
        h,
        image::ExtendedColorType::Rgb16,
    )
    .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn image_bombs_are_refused_before_decoding_and_lookups_stay_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Served::start(tmp.path(), "us", |_| {});
    let token = node.user_with_token("isp", "provider_liaison").await;
    let http = client();
    let url = format!("{}/api/v1/hashes/lookup", node.app);
    let bomb = tokio::task::spawn_blocking(|| png16(6000, 6000))
        .await
        .unwrap();
    let big = tokio::task::spawn_blocking(|| png16(3000, 3000))
        .await
        .unwrap();
    reset_peak(node.pid());
    let post = |bytes: Vec<u8>| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move {
            let r = http
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "image/png")
                .body(bytes)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let answers = futures_util::future::join_all(
        [bomb.clone(), bomb.clone(), bomb.clone(), bomb]
            .into_iter()
            .map(post),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, 422, "{body}");
        assert!(body.contains("pixels"), "{body}");
    }
    // Within the bound, four at once are decoded one after another.
    let answers = futures_util::future::join_all(
        [big.clone(), big.clone(), big.clone(), big]
            .into_iter()
            .map(post),
    )
    .await;
    for (status, body) in &answers {
        assert!(
            *status == 200 || body.contains("quality"),
            "{status} {body}"
        );
    }
    let peak = node.peak_mib();
    assert!(peak < 400.0, "peak resident memory {peak:.0} MiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_taxii_posts_are_refused_cheaply_and_roles_are_checked_before_the_body() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Served::start(tmp.path(), "us", |c| c.limits.body_timeout_secs = 30);
    let admin = liaison_node::Node::open(&node.dir).unwrap();
    admin
        .add_user("cert", "cert_analyst", PASSWORD, "en")
        .await
        .unwrap();
    admin
        .add_user("isp", "provider_liaison", PASSWORD, "en")
        .await
        .unwrap();
    let url = format!("{}/taxii2/api/collections/shared/objects/", node.app);
    let http = client();
    // 4 MB of empty objects: refused at the cap, nothing stored.
    let mut body = b"{\"objects\": [".to_vec();
    while body.len() < 4_000_000 {
        body.extend_from_slice(b"{},");
    }
    body.extend_from_slice(b"{}]}");
    reset_peak(node.pid());
    let before = node.rss_mib();
    let r = http
        .post(&url)
        .basic_auth("cert", Some(PASSWORD))
        .header("accept", "application/taxii+json;version=2.1")
        .header("content-type", "application/taxii+json;version=2.1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let grew = node.peak_mib() - before;
    assert!(grew < 100.0, "the post cost {grew:.0} MiB");
    assert_eq!(count(&admin, "taxii_status"), 0);
    // A reader that may not write is answered before it sends its body.
    let addr = node.app.trim_start_matches("http://").to_owned();
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("isp:{PASSWORD}"),
    );
    let mut s = open(
        &addr,
        format!(
            "POST /taxii2/api/collections/shared/objects/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nAccept: application/taxii+json;version=2.1\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: 30000000\r\n\r\n"
        )
        .as_bytes(),
    );
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 403");
}
