//! Test kit: run the CLI, start nodes in process on 127.0.0.1:0, start
//! `liaison serve` as a child process.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub use crate::kit::fixtures::*;
pub use crate::kit::{Net, kind_of, party, witness};
use liaison_node::{InitOptions, Node};
use liaison_server::{Listeners, Server};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_liaison")
}

/// Runs `liaison ARGS` and returns its output.
pub fn liaison(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run liaison")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A port nobody listens on right now (for child processes that must
/// keep their address across restarts).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A node served in this process on ports chosen by the OS.
pub struct LiveNode {
    pub node: Node,
    pub server: Server,
    pub dir: PathBuf,
}

impl LiveNode {
    pub fn fed_url(&self) -> String {
        format!("https://{}", self.server.federation_addr)
    }
    pub fn app_url(&self) -> String {
        format!("http://{}", self.server.app_addr)
    }
}

/// Initialises a node in `root/party` and serves it on 127.0.0.1:0.
pub async fn live_node(root: &Path, party: &str, role: &str) -> LiveNode {
    live_node_as(root, party, role, None).await
}

/// Initialises a node with `role`, changes its configuration, and serves it
/// on 127.0.0.1:0.
pub async fn live_node_as<'a>(
    root: &Path,
    party: &str,
    role: &str,
    change: Option<crate::kit::ConfigChange<'a>>,
) -> LiveNode {
    install_crypto();
    let federation = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = root.join(party);
    let mut options = InitOptions::new(party, &format!("Test party {party}"));
    options.role = role.to_owned();
    options.public_url = format!("https://{}", federation.local_addr().unwrap());
    let mut node = liaison_node::init(&dir, &options).await.unwrap();
    if let Some(change) = change {
        drop(node);
        change_config(&dir, change);
        node = Node::open(&dir).unwrap();
    }
    let server = liaison_server::start(node.clone(), Listeners { federation, app })
        .await
        .unwrap();
    LiveNode { node, server, dir }
}

/// Rewrites a node directory's `liaison.toml` after `change`.
pub fn change_config(dir: &Path, change: impl FnOnce(&mut liaison_node::Config)) {
    let path = dir.join("liaison.toml");
    let mut config =
        liaison_node::Config::from_toml_with_env(&std::fs::read_to_string(&path).unwrap(), |_| {
            None
        })
        .unwrap();
    change(&mut config);
    std::fs::write(&path, config.to_toml().unwrap()).unwrap();
}

/// Pins each node's card in the other.
pub async fn pin_each_other(a: &Node, b: &Node) {
    a.pin_peer(&b.card(), false).await.unwrap();
    b.pin_peer(&a.card(), false).await.unwrap();
}

/// A `liaison serve DIR` child process.
pub struct ServeProcess {
    pub child: Child,
    pub ready_line: String,
}

impl ServeProcess {
    pub fn start(dir: &Path) -> ServeProcess {
        let mut child = Command::new(bin())
            .args(["serve", dir.to_str().unwrap()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn liaison serve");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(line.contains("serving"), "serve did not start: {line:?}");
        ServeProcess {
            child,
            ready_line: line,
        }
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("liaison serve did not stop within 10 s of SIGTERM");
    }
}

/// Initialises a node with the CLI on fixed free ports.
pub fn cli_init(dir: &Path, party: &str) -> (u16, u16) {
    let (fed, app) = (free_port(), free_port());
    let out = liaison(&[
        "init",
        dir.to_str().unwrap(),
        "--party",
        party,
        "--name",
        &format!("Party {party}"),
        "--listen",
        &format!("127.0.0.1:{fed}"),
        "--app-listen",
        &format!("127.0.0.1:{app}"),
    ]);
    assert!(out.status.success(), "init failed: {}", stderr(&out));
    (fed, app)
}

/// Polls `check` every 50 ms until it holds or `secs` pass.
pub async fn wait_until<F: FnMut() -> bool>(secs: u64, what: &str, mut check: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Counts rows of a table with a condition, in the node's database.
pub fn count(node: &Node, sql_where: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {sql_where}");
    node.store()
        .read(|c| Ok(c.sqlite().query_row(&sql, [], |r| r.get(0))?))
        .unwrap()
}

/// The text values of a query's first column, in the node's database.
pub fn strings(node: &Node, sql: &str) -> Vec<String> {
    node.store()
        .read(|c| {
            let mut stmt = c.sqlite().prepare(sql)?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .unwrap()
}

/// A node initialised on a reserved port but not started.
pub async fn idle_node(root: &Path, party: &str) -> Node {
    install_crypto();
    let dir = root.join(party);
    let mut options = InitOptions::new(party, &format!("Test party {party}"));
    options.listen = format!("127.0.0.1:{}", free_port());
    options.app_listen = format!("127.0.0.1:{}", free_port());
    liaison_node::init(&dir, &options).await.unwrap()
}

/// Starts serving an idle node on its configured ports.
pub async fn start(node: &Node) -> Server {
    let listeners = liaison_server::bind(node).await.unwrap();
    liaison_server::start(node.clone(), listeners)
        .await
        .unwrap()
}

/// The Python of the test virtual environment (created by scripts/test),
/// for the reference tools the tests talk to.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("LIAISON_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/test (it creates the virtual environment with the reference tools)",
        p.display()
    );
    p
}

/// A real SMTP server (Python aiosmtpd) printing every message it receives.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    received: std::sync::Arc<std::sync::Mutex<String>>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let port = free_port();
        let mut child = Command::new(python())
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Debugging",
                "-l",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let stdout = child.stdout.take().unwrap();
        let received = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        // Wait until it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink {
            child,
            port,
            received,
        }
    }

    pub fn received(&self) -> String {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves a node after changing its configuration.
pub async fn live_node_with(
    root: &Path,
    party: &str,
    change: impl FnOnce(&mut liaison_node::Config),
) -> LiveNode {
    live_node_as(root, party, "party", Some(Box::new(change))).await
}

/// A signed-in browser-less visitor of one node's UI.
pub struct Page {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

/// The peers page of `node` as a new viewer reading in `lang` sees it.
pub async fn peers_page(node: &LiveNode, lang: &str) -> String {
    let page = Page::new(
        &node.node,
        node.app_url(),
        &format!("viewer-{lang}"),
        "legal_officer",
        lang,
    )
    .await;
    let (status, html) = page.get("/peers").await;
    assert_eq!(status, 200, "{html}");
    html
}

impl Page {
    pub async fn new(
        node: &liaison_node::Node,
        base: String,
        user: &str,
        role: &str,
        lang: &str,
    ) -> Page {
        node.add_user(user, role, "a long enough password", lang)
            .await
            .unwrap();
        let (cookie, csrf) = node.start_session(user).await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Page {
            http,
            base,
            cookie,
            csrf,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("liaison_session={}", self.cookie))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("liaison_session={}", self.cookie))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// Posts a multipart form (as a browser sends a file upload).
    pub async fn post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> (u16, String) {
        let boundary = "liaison-test-boundary-7d3f";
        let mut body = Vec::new();
        let mut fields = fields.to_vec();
        fields.insert(0, ("csrf", self.csrf.as_str()));
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("liaison_session={}", self.cookie))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("liaison_session={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// A body as JSON, or its text as a JSON string.
fn json_or_text(bytes: Vec<u8>) -> serde_json::Value {
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

/// A script's view of one node's JSON API (and TAXII), as one user.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// Adds `user` with `role` to `node` and takes an API token for it.
    pub async fn as_user(node: &Node, base: String, user: &str, role: &str) -> Api {
        node.add_user(user, role, "a long enough password", "en")
            .await
            .unwrap();
        let token = node.create_token(user, "test").await.unwrap();
        Api {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base,
            token,
        }
    }

    /// GET: status and body (JSON, or the text as a JSON string).
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, bytes) = self.get_bytes(path).await;
        (status, json_or_text(bytes))
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, json_or_text(r.bytes().await.unwrap().to_vec()))
    }

    pub async fn upload(&self, bytes: Vec<u8>) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/attachments", self.base))
            .bearer_auth(&self.token)
            .body(bytes)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }
}

/// A `liaison serve` process of a node initialised by the CLI, with its
/// configuration changed first; its app URL.
pub struct Served {
    pub process: ServeProcess,
    pub dir: PathBuf,
    pub app: String,
}

impl Served {
    pub fn start(
        root: &Path,
        party: &str,
        change: impl FnOnce(&mut liaison_node::Config),
    ) -> Served {
        let dir = root.join(party);
        let (_, app) = cli_init(&dir, party);
        change_config(&dir, change);
        let process = ServeProcess::start(&dir);
        Served {
            process,
            dir,
            app: format!("http://127.0.0.1:{app}"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// The node's resident memory now, in MiB (`VmRSS`).
    pub fn rss_mib(&self) -> f64 {
        proc_status_kib(self.pid(), "VmRSS") as f64 / 1024.0
    }

    /// The most the node has been resident, in MiB (`VmHWM`).
    pub fn peak_mib(&self) -> f64 {
        proc_status_kib(self.pid(), "VmHWM") as f64 / 1024.0
    }
}

pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Resets the peak resident size of a process (`VmHWM`) to its current size.
pub fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        // A test that fails half-way leaves no node running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh login form of a node's UI: the prelogin cookie and its token.
pub async fn login_form(http: &reqwest::Client, base: &str) -> (String, String) {
    let r = http.get(format!("{base}/login")).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("liaison_prelogin="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap();
    let html = r.text().await.unwrap();
    let token = html
        .split("name=\"prelogin\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    (cookie, token)
}

impl Served {
    /// Adds a user to the served node (through the database) and takes a token for it.
    pub async fn user_with_token(&self, user: &str, role: &str) -> String {
        let node = Node::open(&self.dir).unwrap();
        node.add_user(user, role, "a long enough password", "en")
            .await
            .unwrap();
        node.create_token(user, "test").await.unwrap()
    }
}

/// Delivers `envelopes` from `from` to `to` over the federation listener,
/// as `from`'s delivery worker would, and returns the answer.
pub async fn deliver(
    from: &Node,
    to: &LiveNode,
    envelopes: Vec<liaison_core::envelope::SignedEnvelope>,
) -> liaison_core::envelope::DeliveryResponse {
    let client =
        liaison_node::tls::peer_http_client(&from.tls(), to.node.tls().fingerprint()).unwrap();
    client
        .post(format!("{}/federation/v1/envelopes", to.fed_url()))
        .json(&liaison_core::envelope::DeliveryRequest { envelopes })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs `e` with `from`'s real log key and delivers it to `to` over the
/// federation listener, as `from`'s node would.
pub async fn forge(
    from: &LiveNode,
    to: &LiveNode,
    e: liaison_core::envelope::Envelope,
) -> liaison_core::envelope::DeliveryResponse {
    let signed = e.sign(&from.node.store().log_signer()).unwrap();
    deliver(&from.node, to, vec![signed]).await
}

/// How long a deadline runs, in seconds, from its start to when it is due.
pub fn deadline_secs(d: &liaison_node::deadlines::Deadline) -> i64 {
    d.due.parse::<jiff::Timestamp>().unwrap().as_second()
        - d.start.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// Audits every peer of `node`; fails the test with what it found.
pub async fn assert_clean_audit(node: &Node) {
    let report = node.audit(None, false).await.unwrap();
    assert!(
        report.ok,
        "audit of {} found problems: {:#?}",
        node.party(),
        report.peers
    );
}
