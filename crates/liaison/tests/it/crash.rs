//! Crashes: `kill -9` of real `liaison serve` processes at random moments
//! loses nothing, duplicates nothing, and leaves logs that verify.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use liaison_node::Node;

use crate::support::*;

/// A small deterministic generator; the seed is printed so a failing run
/// can be replayed with LIAISON_CRASH_SEED.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    std::env::var("LIAISON_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

/// Small batches and a short backoff make the stream long, so kills land
/// mid-flight.
fn serve(dir: &Path) -> ServeProcess {
    let mut child = Command::new(bin())
        .args(["serve", dir.to_str().unwrap()])
        .env("RUST_LOG", "error")
        .env("LIAISON_DELIVERY_BATCH", "3")
        .env("LIAISON_DELIVERY_MAX_BACKOFF_SECS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert!(line.contains("serving"), "serve did not start: {line:?}");
    ServeProcess {
        child,
        ready_line: line,
    }
}

/// The node's whole log recomputes from its tiles, and its audit of its
/// peers is clean (the CLI's exit status).
fn verified_and_audited(dir: &Path) {
    let out = liaison(&["log", "verify", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "log of {} does not verify: {}",
        dir.display(),
        stderr(&out)
    );
    let out = liaison(&["audit", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "audit from {}: {}{}",
        dir.display(),
        stdout(&out),
        stderr(&out)
    );
}

fn pin_with_cli(tmp: &Path, a: &Path, b: &Path) {
    let card = liaison(&["card", b.to_str().unwrap()]);
    let path = tmp.join(format!("{}.card", b.file_name().unwrap().to_str().unwrap()));
    std::fs::write(&path, &card.stdout).unwrap();
    let out = liaison(&["peer", "add", a.to_str().unwrap(), path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_sender_and_recipient_during_a_stream_loses_and_duplicates_nothing() {
    let seed = seed();
    eprintln!("crash test seed: {seed} (replay with LIAISON_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let (us_dir, ru_dir) = (tmp.path().join("us"), tmp.path().join("ru"));
    let (_, us_app) = cli_init(&us_dir, "us");
    let (_, ru_app) = cli_init(&ru_dir, "ru");
    pin_with_cli(tmp.path(), &us_dir, &ru_dir);
    pin_with_cli(tmp.path(), &ru_dir, &us_dir);

    install_crypto();
    // This process writes to us's database too (like the CLI does), so
    // messages keep being queued while us's server dies and restarts.
    let producer = Node::open(&us_dir).unwrap();
    let mut us = Some(serve(&us_dir));
    let mut ru = Some(serve(&ru_dir));
    let mut sent = 0u64;
    let trials = 20;
    let http = reqwest::Client::new();
    // Every checkpoint either node publishes during the run.
    let mut published: Vec<(&str, String)> = Vec::new();
    for trial in 0..trials {
        for _ in 0..(5 + rng.below(10)) {
            producer
                .open_case("ru", "note", note(&format!("trial {trial} message {sent}")))
                .await
                .unwrap();
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(250))).await;
        for (party, port) in [("us", us_app), ("ru", ru_app)] {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/log/checkpoint"))
                .send()
                .await
            {
                published.push((party, r.text().await.unwrap()));
            }
        }
        let victim = if rng.below(2) == 0 { &mut us } else { &mut ru };
        victim.take().unwrap().kill9();
        tokio::time::sleep(Duration::from_millis(rng.below(100))).await;
        let dir = if us.is_none() { &us_dir } else { &ru_dir };
        let restarted = serve(dir);
        if us.is_none() {
            us = Some(restarted);
        } else {
            ru = Some(restarted);
        }
    }
    eprintln!("{trials} kills, {sent} messages queued");
    wait_until(90, "every message delivered", || {
        count(&producer, "outbox WHERE state = 'delivered'") == sent as i64
    })
    .await;

    let ru_node = Node::open(&ru_dir).unwrap();
    assert_eq!(
        count(&ru_node, "envelopes WHERE direction = 'in'"),
        sent as i64,
        "received exactly once"
    );
    assert_eq!(
        ru_node.store().log_head().unwrap().size,
        2 + sent,
        "the card, the directory entry, and one log entry per message"
    );
    assert_eq!(count(&producer, "outbox WHERE state != 'delivered'"), 0);
    for dir in [&us_dir, &ru_dir] {
        verified_and_audited(dir);
    }
    // No node ever signed two inconsistent checkpoints, across all the kills:
    // each one published is a prefix of the final tree.
    let nodes = [("us", &producer), ("ru", &ru_node)];
    for (party, note) in &published {
        let node = nodes.iter().find(|(p, _)| p == party).unwrap().1;
        let (cp, _) =
            liaison_log::Checkpoint::open(note, &node.store().log_signer().verifier(), &[])
                .unwrap();
        let head = node.store().log_head().unwrap();
        let proof = node.store().consistency_proof(cp.size, head.size).unwrap();
        liaison_log::tree::verify_consistency(cp.size, head.size, &cp.root, &head.root, &proof)
            .unwrap_or_else(|e| {
                panic!(
                    "{party} published checkpoint {} inconsistent with its final tree: {e}",
                    cp.size
                )
            });
    }
    assert!(published.len() >= trials, "too few checkpoints observed");
    us.take().unwrap().terminate();
    ru.take().unwrap().terminate();
}

/// Five real `liaison serve` processes, every case among all five: `us`
/// opens notes with the four others while `ru` replies into them (so
/// replies often reach a participant before the opening does), any
/// participant is killed with `kill -9` at random moments, and `ngo` is
/// down for half the run. Nothing is lost or duplicated, the long-absent
/// participant catches up in order, and every participant's log verifies
/// and its audit is clean.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_any_participant_during_a_fan_out_loses_and_duplicates_nothing() {
    let seed = seed();
    eprintln!("fan-out crash test seed: {seed} (replay with LIAISON_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let parties = ["us", "ru", "us-isp", "ru-isp", "ngo"];
    let dirs: Vec<_> = parties.iter().map(|p| tmp.path().join(p)).collect();
    for (p, d) in parties.iter().zip(&dirs) {
        cli_init(d, p);
    }
    for a in &dirs {
        for b in &dirs {
            if a != b {
                pin_with_cli(tmp.path(), a, b);
            }
        }
    }
    install_crypto();
    let us = Node::open(&dirs[0]).unwrap();
    let ru = Node::open(&dirs[1]).unwrap();
    let mut running: Vec<Option<ServeProcess>> = dirs.iter().map(|d| Some(serve(d))).collect();
    let others: Vec<String> = parties[1..].iter().map(|p| p.to_string()).collect();
    let (mut opened, mut replies) = (0i64, 0i64);
    let trials = 12;
    for trial in 0..trials {
        // ngo is down from the third trial to the ninth.
        if trial == 2 {
            running[4].take().unwrap().kill9();
        }
        if trial == 8 {
            running[4] = Some(serve(&dirs[4]));
        }
        for _ in 0..(2 + rng.below(4)) {
            us.open_case_with(
                &others,
                "note",
                note(&format!("trial {trial} case {opened}")),
                Default::default(),
            )
            .await
            .unwrap();
            opened += 1;
        }
        let held = ru.list_cases(100).unwrap();
        if !held.is_empty() {
            let case = &held[rng.below(held.len() as u64) as usize].id;
            ru.reply(case, note(&format!("reply {replies}")))
                .await
                .unwrap();
            replies += 1;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
        // Any participant but the absent one dies and comes back.
        let victim = rng.below(4) as usize;
        let victim = if victim == 4 || running[victim].is_none() {
            0
        } else {
            victim
        };
        running[victim].take().unwrap().kill9();
        tokio::time::sleep(Duration::from_millis(rng.below(100))).await;
        running[victim] = Some(serve(&dirs[victim]));
    }
    eprintln!("{trials} kills, {opened} cases opened to 4 parties, {replies} replies to 4");
    let nodes: Vec<Node> = dirs.iter().map(|d| Node::open(d).unwrap()).collect();
    wait_until(120, "every copy delivered", || {
        nodes
            .iter()
            .all(|n| count(n, "outbox WHERE state != 'delivered'") == 0)
    })
    .await;
    assert_eq!(
        count(&us, "outbox"),
        opened * 4,
        "one delivery per recipient"
    );
    assert_eq!(count(&ru, "outbox"), replies * 4);
    // Each participant holds exactly one copy of each envelope addressed to it.
    let expected_in = [
        replies,
        opened,
        opened + replies,
        opened + replies,
        opened + replies,
    ];
    for (n, want) in nodes.iter().zip(expected_in) {
        assert_eq!(
            count(n, "envelopes WHERE direction = 'in'"),
            want,
            "{} received each envelope exactly once",
            n.party()
        );
        let out = count(n, "envelopes WHERE direction = 'out'");
        assert_eq!(
            n.store().log_head().unwrap().size as i64,
            2 + want + out,
            "{}: one log entry per envelope",
            n.party()
        );
        assert_eq!(count(n, "rejections"), 0, "{} refused nothing", n.party());
    }
    // The long-absent participant recorded us's envelopes in us's order.
    let sent_order = strings(
        &us,
        "SELECT envelope_hash FROM outbox WHERE peer = 'ngo' ORDER BY seq",
    );
    let logged_order = strings(
        &nodes[4],
        "SELECT hash FROM envelopes WHERE sender = 'us' ORDER BY log_index",
    );
    assert_eq!(logged_order, sent_order, "ngo caught up in order");
    // Every participant derives the same case from the same envelopes.
    for case in us.list_cases(1000).unwrap() {
        let mut seen = Vec::new();
        for n in &nodes {
            let d = n.case_detail(&case.id).unwrap();
            let mut hashes: Vec<String> =
                d.messages.iter().map(|m| m.envelope_hash.clone()).collect();
            hashes.sort();
            seen.push((d.participants.len(), hashes));
        }
        assert!(
            seen.windows(2).all(|w| w[0] == w[1]),
            "{}: {seen:?}",
            case.id
        );
    }
    for dir in &dirs {
        verified_and_audited(dir);
    }
    for p in running.into_iter().flatten() {
        p.terminate();
    }
}
