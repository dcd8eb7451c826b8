//! The CLI contract: every command, every refusal, one clear sentence.

use std::os::unix::fs::PermissionsExt as _;

use crate::support::*;

#[test]
fn init_creates_keys_owner_only_and_a_log_starting_with_the_card() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    cli_init(&dir, "us");
    for f in ["keys/log.key", "keys/tls.key", "liaison.db"] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f} has mode {mode:o}");
    }
    let conn = rusqlite::Connection::open(dir.join("liaison.db")).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let verify = liaison(&["log", "verify", dir.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert!(stdout(&verify).contains("1 card"), "{}", stdout(&verify));
    assert!(stdout(&verify).contains("first entry commits to the node's card"));
}

#[test]
fn init_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("something"), "x").unwrap();
    let out = liaison(&[
        "init",
        tmp.path().to_str().unwrap(),
        "--party",
        "us",
        "--name",
        "US",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not empty"), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim().lines().count(), 1);
}

#[test]
fn init_refuses_an_invalid_party_code() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["US", "u", "1st", "a b"] {
        let out = liaison(&[
            "init",
            tmp.path().join("n").to_str().unwrap(),
            "--party",
            bad,
            "--name",
            "X",
        ]);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(stderr(&out).contains("party code"), "{}", stderr(&out));
        assert!(
            !tmp.path().join("n").exists(),
            "a refused init left files behind"
        );
    }
}

#[test]
fn init_names_the_kind_and_jurisdiction_on_the_card_and_refuses_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("n");
    let init = |kind: &str, jurisdiction: &str| {
        liaison(&[
            "init",
            dir.to_str().unwrap(),
            "--party",
            "pv",
            "--name",
            "P",
            "--kind",
            kind,
            "--jurisdiction",
            jurisdiction,
        ])
    };
    for (kind, jurisdiction, refused) in [
        ("telco", "US", "kind"),
        ("provider", "UK", "jurisdiction"),
        ("witness", "US", "witness"),
    ] {
        let out = init(kind, jurisdiction);
        assert!(!out.status.success(), "{kind} {jurisdiction} accepted");
        assert!(stderr(&out).contains(refused), "{}", stderr(&out));
        assert!(!dir.exists(), "a refused init left files behind");
    }
    let out = init("provider", "DE");
    assert!(out.status.success(), "{}", stderr(&out));
    let card: serde_json::Value =
        serde_json::from_slice(&liaison(&["card", dir.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(card["liaison_card"], 2);
    assert_eq!(card["kind"], "provider");
    assert_eq!(card["jurisdiction"], "DE");
}

#[test]
fn init_refuses_an_unwritable_path() {
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    let target = if nix_is_root() {
        "/proc/liaison-node".to_owned()
    } else {
        locked.join("n").to_str().unwrap().to_owned()
    };
    let out = liaison(&["init", &target, "--party", "us", "--name", "X"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot"), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim().lines().count(), 1);
}

fn nix_is_root() -> bool {
    // Root ignores directory permissions; /proc refuses everyone.
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

#[test]
fn json_errors_have_a_code_and_a_message() {
    let out = liaison(&["--json", "card", "/nonexistent/liaison"]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert!(v["error"]["code"].is_string());
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a Liaison node directory")
    );
}

#[test]
fn card_is_valid_and_peers_pin_it_but_not_a_changed_one_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let (us, ru) = (tmp.path().join("us"), tmp.path().join("ru"));
    cli_init(&us, "us");
    cli_init(&ru, "ru");
    let card = liaison(&["card", ru.to_str().unwrap()]);
    assert!(card.status.success());
    let card_path = tmp.path().join("ru.card.json");
    std::fs::write(&card_path, &card.stdout).unwrap();
    let parsed: liaison_proto::NodeCard = serde_json::from_slice(&card.stdout).unwrap();
    liaison_core::card::check_card(&parsed).unwrap();

    let add = liaison(&[
        "peer",
        "add",
        us.to_str().unwrap(),
        card_path.to_str().unwrap(),
    ]);
    assert!(add.status.success(), "{}", stderr(&add));
    let again = liaison(&[
        "peer",
        "add",
        us.to_str().unwrap(),
        card_path.to_str().unwrap(),
    ]);
    assert!(stdout(&again).contains("already pinned"));

    let mut changed = parsed.clone();
    changed.name = "Someone else".into();
    std::fs::write(&card_path, serde_json::to_string(&changed).unwrap()).unwrap();
    let refused = liaison(&[
        "peer",
        "add",
        us.to_str().unwrap(),
        card_path.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--replace"),
        "{}",
        stderr(&refused)
    );
    let replaced = liaison(&[
        "peer",
        "add",
        us.to_str().unwrap(),
        card_path.to_str().unwrap(),
        "--replace",
    ]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));

    let mut forged = parsed.clone();
    forged.tls_fingerprint = "00".repeat(32);
    std::fs::write(&card_path, serde_json::to_string(&forged).unwrap()).unwrap();
    let refused = liaison(&[
        "peer",
        "add",
        us.to_str().unwrap(),
        card_path.to_str().unwrap(),
        "--replace",
    ]);
    assert!(
        stderr(&refused).contains("tls_fingerprint"),
        "{}",
        stderr(&refused)
    );

    std::fs::write(&card_path, "{not json").unwrap();
    let refused = liaison(&[
        "peer",
        "add",
        us.to_str().unwrap(),
        card_path.to_str().unwrap(),
    ]);
    assert!(
        stderr(&refused).contains("is not a node card"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn config_keys_are_overridden_by_environment_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    cli_init(&dir, "us");
    let out = std::process::Command::new(bin())
        .args(["card", dir.to_str().unwrap()])
        .env(
            "LIAISON_FEDERATION_PUBLIC_URL",
            "https://liaison.example.org:7443",
        )
        .env("LIAISON_NODE_NAME", "Overridden name")
        .output()
        .unwrap();
    let card: liaison_proto::NodeCard = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(card.federation_url, "https://liaison.example.org:7443");
    assert_eq!(card.name, "Overridden name");
    let out = std::process::Command::new(bin())
        .args(["card", dir.to_str().unwrap()])
        .env("LIAISON_LOG_MAX_BATCH", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("LIAISON_LOG_MAX_BATCH"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    let (_, app) = cli_init(&dir, "us");
    let serve = ServeProcess::start(&dir);
    assert!(serve.ready_line.contains(&format!("127.0.0.1:{app}")));
    let status = serve.terminate();
    assert!(status.success(), "exit status {status}");
    let verify = liaison(&["log", "verify", dir.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

/// The environment a running process started with.
fn environment_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap()
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// `liaison serve DIR` with `env` set (and none of the allocator's
/// variables otherwise), once it serves.
fn serve_with(dir: &std::path::Path, env: &[(&str, &str)]) -> std::process::Child {
    let mut command = std::process::Command::new(bin());
    command
        .args(["serve", dir.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .env_remove("GLIBC_TUNABLES")
        .env_remove("MALLOC_ARENA_MAX")
        .env_remove("LIAISON_ALLOCATOR_SETTLED")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.contains("serving"), "{line}");
    child
}

#[test]
fn serve_runs_with_two_malloc_arenas_unless_the_operator_chose() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    cli_init(&dir, "us");
    // The same process (the pid it was started as) runs with the tunable.
    let mut child = serve_with(&dir, &[]);
    let env = environment_of(child.id());
    assert!(
        env.contains(&"GLIBC_TUNABLES=glibc.malloc.arena_max=2".to_owned()),
        "{env:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // An operator's own setting is kept as it is, and a process started
    // again never starts itself once more (even if glibc erased the tunable).
    for set in [
        ("MALLOC_ARENA_MAX", "4"),
        ("LIAISON_ALLOCATOR_SETTLED", "1"),
    ] {
        let mut child = serve_with(&dir, &[set]);
        let env = environment_of(child.id());
        assert!(env.contains(&format!("{}={}", set.0, set.1)), "{env:?}");
        assert!(
            !env.iter().any(|v| v.starts_with("GLIBC_TUNABLES=")),
            "{env:?}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[test]
fn bench_json_prints_the_figures_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bench");
    let out = liaison(&[
        "--json",
        "bench",
        "federation",
        "--dir",
        dir.to_str().unwrap(),
        "--messages",
        "200",
        "--rounds",
        "2",
        "--rate",
        "50",
        "--seconds",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)));
    assert_eq!(figures["bench"], "federation");
    assert_eq!(figures["messages"], 200);
    let throughput = figures["throughput_per_s"].as_f64().unwrap();
    let ed = figures["ed25519_sign_verify_per_s"].as_f64().unwrap();
    assert!(throughput > 0.0 && ed > 0.0);
    // Each round has its own reference; the ratio reported is a round's.
    let rounds = figures["round"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    let ratio = figures["ratio_to_ed25519"].as_f64().unwrap();
    assert!(rounds.iter().any(|r| {
        let (t, e) = (
            r["throughput_per_s"].as_f64().unwrap(),
            r["ed25519_sign_verify_per_s"].as_f64().unwrap(),
        );
        (ratio - t / e).abs() < 1e-9
    }));
    assert!(
        figures["latency_p99_ms"].as_i64().unwrap() >= figures["latency_p50_ms"].as_i64().unwrap()
    );

    let out = liaison(&[
        "bench",
        "log",
        "--dir",
        dir.to_str().unwrap(),
        "--entries",
        "64",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("| durable appends |"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn user_commands_answer_json_when_asked() {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("us");
    cli_init(&dir, "us");
    let d = dir.to_str().unwrap();
    let mut add = std::process::Command::new(bin())
        .args(["--json", "user", "add", d, "ivan", "--role", "observer"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success());
    let added: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["created"], true);

    let out = liaison(&["--json", "user", "token", d, "ivan", "--days", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)));
    assert_eq!(token["username"], "ivan");
    assert_eq!(token["days"], 3);
    assert!(token["token"].as_str().unwrap().len() > 20);
    let out = liaison(&["--json", "user", "token", "revoke", d, "ivan", "--all"]);
    let revoked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(revoked["revoked"], 1);
    let out = liaison(&["--json", "user", "disable", d, "ivan"]);
    let disabled: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(disabled["disabled"], true);
}
