//! Federation between real nodes: nothing lost, nothing duplicated, every
//! refusal recorded, every lie caught by the audit.

use liaison_core::envelope::{DeliveryRequest, DeliveryResponse, Envelope, SignedEnvelope};
use liaison_node::Node;

use crate::support::*;

async fn post(
    from: &Node,
    to: &Node,
    url: &str,
    envelopes: Vec<SignedEnvelope>,
) -> reqwest::Response {
    let client = liaison_node::tls::peer_http_client(&from.tls(), to.tls().fingerprint()).unwrap();
    client
        .post(format!("{url}/federation/v1/envelopes"))
        .json(&DeliveryRequest { envelopes })
        .send()
        .await
        .unwrap()
}

fn envelope(from: &Node, to: &str, id: &str, subject: &str) -> Envelope {
    Envelope {
        id: id.into(),
        sender: from.party().to_string(),
        recipient: to.into(),
        also_to: Vec::new(),
        kind: "note".into(),
        case_id: format!("{}-{id}", from.party()),
        created: "2026-11-23T12:00:00Z".into(),
        body: note(subject),
        attachments: vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_is_delivered_receipted_and_shown_on_both_sides() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let sent = us
        .node
        .open_case("ru", "note", note("Phishing wave"))
        .await
        .unwrap();
    wait_until(10, "delivery", || {
        count(&us.node, "outbox WHERE state = 'delivered'") == 1
    })
    .await;
    // ru stores the receipt it issued just after answering.
    wait_until(10, "issued receipt stored", || {
        count(&ru.node, "envelopes WHERE receipt IS NOT NULL") == 1
    })
    .await;
    let mine = us.node.case_detail(&sent.case_id).unwrap();
    let theirs = ru.node.case_detail(&sent.case_id).unwrap();
    assert_eq!(mine.messages.len(), 1);
    assert_eq!(
        theirs.messages[0].envelope_hash,
        mine.messages[0].envelope_hash
    );
    assert_eq!(mine.messages[0].receipt_verified, Some(true));
    assert_eq!(theirs.messages[0].receipt_verified, Some(true));
    assert_eq!(theirs.case.subject, "Phishing wave");
    // The reply travels back in the same case.
    ru.node
        .reply(&sent.case_id, note("Re: Phishing wave"))
        .await
        .unwrap();
    wait_until(10, "reply", || {
        us.node.case_detail(&sent.case_id).unwrap().messages.len() == 2
    })
    .await;
    assert_clean_audit(&us.node).await;
    assert_clean_audit(&ru.node).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recipient_down_while_500_messages_are_sent_then_started() {
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    let ru = idle_node(net.root(), "ru").await;
    pin_each_other(&us.node, &ru).await;
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..500 {
        let node = us.node.clone();
        sends.spawn(async move {
            node.open_case("ru", "note", note(&format!("message {i}")))
                .await
                .unwrap()
        });
    }
    while sends.join_next().await.is_some() {}
    wait_until(10, "a failed delivery attempt", || {
        count(&us.node, "outbox WHERE attempts > 0") > 0
    })
    .await;
    assert_eq!(count(&us.node, "outbox WHERE state = 'pending'"), 500);

    let ru_server = start(&ru).await;
    wait_until(60, "all 500 delivered", || {
        count(&us.node, "outbox WHERE state = 'delivered'") == 500
    })
    .await;
    assert_eq!(count(&ru, "envelopes WHERE direction = 'in'"), 500);
    assert_eq!(count(&ru, "cases"), 500);
    // The card and the directory entry, then exactly one entry per message.
    assert_eq!(ru.store().log_head().unwrap().size, 502);
    assert_clean_audit(&us.node).await;
    assert_clean_audit(&ru).await;
    ru_server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redelivery_returns_the_original_receipt_and_changes_nothing() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let e = envelope(&us.node, "ru", "0000000000aa", "twice")
        .sign(&us.node.store().log_signer())
        .unwrap();
    let first: DeliveryResponse = post(&us.node, &ru.node, &ru.fed_url(), vec![e.clone()])
        .await
        .json()
        .await
        .unwrap();
    let size = ru.node.store().log_head().unwrap().size;
    let second: DeliveryResponse = post(&us.node, &ru.node, &ru.fed_url(), vec![e])
        .await
        .json()
        .await
        .unwrap();
    assert!(first.results[0].receipt.is_some());
    assert_eq!(first, second);
    assert_eq!(ru.node.store().log_head().unwrap().size, size);
    assert_eq!(count(&ru.node, "envelopes"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_forged_misaddressed_replayed_and_oversized_envelopes_are_refused_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    let cn = live_node(tmp.path(), "cn", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    pin_each_other(&cn.node, &ru.node).await;
    let signer = &us.node.store().log_signer();

    let mut tampered = envelope(&us.node, "ru", "000000000001", "original")
        .sign(signer)
        .unwrap();
    tampered.envelope.body = note("altered");
    // Signed by us but delivered over cn's connection: the certificate decides.
    let forged = envelope(&us.node, "ru", "000000000002", "forged")
        .sign(signer)
        .unwrap();
    let misaddressed = envelope(&us.node, "cn", "000000000003", "misaddressed")
        .sign(signer)
        .unwrap();
    let original = envelope(&us.node, "ru", "000000000004", "v1")
        .sign(signer)
        .unwrap();
    let replayed = envelope(&us.node, "ru", "000000000004", "v2")
        .sign(signer)
        .unwrap();
    let mut big = envelope(&us.node, "ru", "000000000005", "big");
    big.body = serde_json::json!({"subject": "big", "text": "x".repeat(300 * 1024)});
    let big = SignedEnvelope {
        envelope: big,
        signature: tampered.signature.clone(),
    };

    let r: DeliveryResponse = post(
        &us.node,
        &ru.node,
        &ru.fed_url(),
        vec![tampered, misaddressed, original, big],
    )
    .await
    .json()
    .await
    .unwrap();
    let codes: Vec<Option<String>> = r
        .results
        .iter()
        .map(|x| x.error.as_ref().map(|e| e.code.clone()))
        .collect();
    assert_eq!(
        codes,
        vec![
            Some("bad_envelope".into()),
            Some("wrong_recipient".into()),
            None,
            Some("bad_envelope".into())
        ]
    );
    let r: DeliveryResponse = post(&us.node, &ru.node, &ru.fed_url(), vec![replayed])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r.results[0].error.as_ref().unwrap().code,
        "replayed_with_changes"
    );
    let r: DeliveryResponse = post(&cn.node, &ru.node, &ru.fed_url(), vec![forged])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r.results[0].error.as_ref().unwrap().code, "wrong_sender");

    assert_eq!(
        count(&ru.node, "envelopes"),
        1,
        "only the valid envelope is kept"
    );
    assert_eq!(
        count(&ru.node, "rejections"),
        5,
        "every refusal is recorded"
    );

    // Requests beyond the size limit are refused before parsing.
    let huge = "x".repeat(17 * 1024 * 1024);
    let client =
        liaison_node::tls::peer_http_client(&us.node.tls(), ru.node.tls().fingerprint()).unwrap();
    // The server answers 413 or closes the connection before reading it all.
    match client
        .post(format!("{}/federation/v1/envelopes", ru.fed_url()))
        .body(huge)
        .send()
        .await
    {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // A fresh connection: the server may have closed the previous one.
    let client =
        liaison_node::tls::peer_http_client(&us.node.tls(), ru.node.tls().fingerprint()).unwrap();
    let status = client
        .post(format!("{}/federation/v1/envelopes", ru.fed_url()))
        .body("{not json")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_envelope_is_kept_and_raised_not_dropped() {
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    let ru = idle_node(net.root(), "ru").await;
    pin_each_other(&us.node, &ru).await;
    let sent = us
        .node
        .open_case("ru", "note", note("first"))
        .await
        .unwrap();
    // ru already holds other content under the same envelope id, so it
    // refuses the delivery as replayed with changes.
    let id = sent.envelope_id.clone();
    ru.store()
        .write(move |tx| {
            tx.conn().sqlite().execute(
                "INSERT INTO envelopes (hash, id, sender, recipient, kind, case_id, created, signed_json, direction, log_index, recorded_at)
                 VALUES ('00', ?1, 'us', 'ru', 'note', 'us-x', '2026-01-01T00:00:00Z', '{}', 'in', 0, '2026-01-01T00:00:00Z')",
                [&id],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let ru_server = start(&ru).await;
    wait_until(10, "refusal", || {
        count(&us.node, "outbox WHERE state = 'refused'") == 1
    })
    .await;
    assert_eq!(count(&us.node, "alerts WHERE kind = 'refused'"), 1);
    assert_eq!(
        count(&us.node, "envelopes"),
        1,
        "the refused envelope is kept"
    );
    let report = us.node.audit(None, false).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.peers[0].problems[0].kind, "refused");
    assert!(
        report.peers[0].problems[0]
            .message
            .contains("replayed_with_changes")
    );
    // The stream goes on after the refusal.
    us.node
        .open_case("ru", "note", note("second"))
        .await
        .unwrap();
    wait_until(10, "next delivery", || {
        count(&us.node, "outbox WHERE state = 'delivered'") == 1
    })
    .await;
    ru_server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn undelivered_envelopes_raise_an_alert_and_are_still_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let ru = idle_node(tmp.path(), "ru").await;
    let dir = tmp.path().join("us");
    let mut options = liaison_node::InitOptions::new("us", "US");
    options.listen = "127.0.0.1:0".into();
    options.app_listen = "127.0.0.1:0".into();
    liaison_node::init(&dir, &options).await.unwrap();
    // Alert after 1 s, back off at most 1 s.
    let mut config = liaison_node::Config::from_toml_with_env(
        &std::fs::read_to_string(dir.join("liaison.toml")).unwrap(),
        |_| None,
    )
    .unwrap();
    config.delivery.alert_after_secs = 1;
    config.delivery.max_backoff_secs = 1;
    std::fs::write(dir.join("liaison.toml"), config.to_toml().unwrap()).unwrap();
    let us = Node::open(&dir).unwrap();
    pin_each_other(&us, &ru).await;
    let server = start(&us).await;
    us.open_case("ru", "note", note("urgent")).await.unwrap();
    wait_until(10, "an undelivered alert", || {
        count(
            &us,
            "alerts WHERE kind = 'undelivered' AND resolved_at IS NULL",
        ) == 1
    })
    .await;
    let attempts = count(&us, "outbox WHERE attempts >= 2");
    assert_eq!(attempts, 1, "still retried after the alert");
    let ru_server = start(&ru).await;
    wait_until(15, "delivery after the peer returns", || {
        count(&us, "outbox WHERE state = 'delivered'") == 1
    })
    .await;
    assert_eq!(
        count(
            &us,
            "alerts WHERE kind = 'undelivered' AND resolved_at IS NULL"
        ),
        0
    );
    server.shutdown().await;
    ru_server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_that_rewrites_its_log_is_caught_by_the_audit() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    for i in 0..5 {
        us.node
            .open_case("ru", "note", note(&format!("m{i}")))
            .await
            .unwrap();
    }
    wait_until(10, "delivery", || {
        count(&us.node, "outbox WHERE state = 'delivered'") == 5
    })
    .await;
    assert_clean_audit(&us.node).await;

    // ru rewrites history: entry 2 replaced, tree rebuilt, head re-signed.
    ru.node
        .store()
        .write(|tx| {
            let c = tx.conn();
            c.sqlite().execute("UPDATE log_entries SET data = CAST('envelope ' || hex(randomblob(32)) AS BLOB) WHERE idx = 2", [])?;
            let entries: Vec<Vec<u8>> = c.sqlite().prepare("SELECT data FROM log_entries ORDER BY idx")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            c.sqlite().execute("DELETE FROM log_nodes", [])?;
            let mut f = liaison_log::frontier::Frontier::new();
            for e in &entries {
                f.append(liaison_log::hash::leaf_hash(e), |n| {
                    c.sqlite().execute("INSERT INTO log_nodes (key, hash) VALUES (?1, ?2)", rusqlite::params![((n.level as u64) << 56 | n.index) as i64, &n.hash.0[..]]).unwrap();
                });
            }
            c.sqlite().execute("UPDATE log_head SET root = ?1", [&f.root().0[..]])?;
            Ok(())
        })
        .await
        .unwrap();

    let report = us.node.audit(Some("ru"), false).await.unwrap();
    assert!(!report.ok);
    let kinds: Vec<&str> = report.peers[0].problems.iter().map(|p| p.kind).collect();
    assert!(kinds.contains(&"equivocation"), "{kinds:?}");
    // The CLI exits non-zero and says why.
    let dir = us.dir.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || liaison(&["audit", &dir]))
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(stdout(&out).contains("equivocation"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_cases_work_without_serve_and_are_delivered_once_it_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (us_dir, ru_dir) = (tmp.path().join("us"), tmp.path().join("ru"));
    let (us_dir_s, ru_dir_s) = (
        us_dir.to_str().unwrap().to_owned(),
        ru_dir.to_str().unwrap().to_owned(),
    );
    cli_init(&us_dir, "us");
    cli_init(&ru_dir, "ru");
    for (a, b) in [(&us_dir_s, &ru_dir_s), (&ru_dir_s, &us_dir_s)] {
        let card = liaison(&["card", b]);
        let path = tmp
            .path()
            .join(format!("{}.card", b.rsplit('/').next().unwrap()));
        std::fs::write(&path, &card.stdout).unwrap();
        assert!(
            liaison(&["peer", "add", a, path.to_str().unwrap()])
                .status
                .success()
        );
    }
    let body = tmp.path().join("body.json");
    std::fs::write(
        &body,
        r#"{"subject": "Request for contact", "text": "Please confirm receipt."}"#,
    )
    .unwrap();
    let out = liaison(&[
        "case",
        "new",
        &us_dir_s,
        "--to",
        "ru",
        "--kind",
        "note",
        "--file",
        body.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let case_id = stdout(&out).trim().to_owned();
    assert!(case_id.starts_with("us-"));

    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"subject": "no text"}"#).unwrap();
    let out = liaison(&[
        "case",
        "new",
        &us_dir_s,
        "--to",
        "ru",
        "--kind",
        "note",
        "--file",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("text"), "{}", stderr(&out));
    let out = liaison(&[
        "case",
        "new",
        &us_dir_s,
        "--to",
        "zz",
        "--kind",
        "note",
        "--file",
        body.to_str().unwrap(),
    ]);
    assert!(
        stderr(&out).contains("not a pinned peer"),
        "{}",
        stderr(&out)
    );

    let us_serve = ServeProcess::start(&us_dir);
    let ru_serve = ServeProcess::start(&ru_dir);
    // A case opened while serve runs is picked up too.
    let out = liaison(&[
        "case",
        "new",
        &us_dir_s,
        "--to",
        "ru",
        "--kind",
        "note",
        "--file",
        body.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let second = stdout(&out).trim().to_owned();
    for id in [&case_id, &second] {
        let mut delivered = false;
        for _ in 0..100 {
            let out = liaison(&["--json", "case", "show", &ru_dir_s, id]);
            if out.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                // The issued receipt is stored just after the answer (derived
                // data); until then it is absent, never wrong.
                let verified = &v["messages"][0]["receipt_verified"];
                assert_ne!(verified, false, "{v}");
                if verified == true {
                    delivered = true;
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(delivered, "case {id} never reached ru");
    }
    let list = liaison(&["--json", "case", "list", &us_dir_s]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    // ru holding an envelope does not mean us stored its receipt yet.
    for id in [&case_id, &second] {
        let mut receipted = false;
        for _ in 0..100 {
            let out = liaison(&["--json", "case", "show", &us_dir_s, id]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            if v["messages"][0]["delivery"] == "delivered" {
                receipted = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(receipted, "us never stored the receipt of {id}");
    }
    let audit = liaison(&["audit", &us_dir_s]);
    assert!(
        audit.status.success(),
        "{}{}",
        stdout(&audit),
        stderr(&audit)
    );
    us_serve.terminate();
    ru_serve.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_workers_run_only_while_a_peer_has_something_to_send() {
    let quick = |c: &mut liaison_node::Config| c.delivery.idle_worker_secs = 1;
    let net = Net::of(vec![
        crate::kit::party("us").config(quick),
        crate::kit::party("ru"),
        crate::kit::party("de"),
        crate::kit::party("fr"),
    ])
    .await;
    let us = &net["us"].node;
    // Pinned to three parties, nothing to send: no worker.
    assert_eq!(us.delivery_workers(), 0);
    for to in ["ru", "de"] {
        us.open_case(to, "note", note("to two of three"))
            .await
            .unwrap();
    }
    wait_until(10, "both delivered", || {
        count(us, "outbox WHERE state = 'delivered'") == 2
    })
    .await;
    assert!(
        (1..=2).contains(&us.delivery_workers()),
        "{} workers for two peers",
        us.delivery_workers()
    );
    // Drained and idle: the workers end.
    wait_until(10, "idle workers ended", || us.delivery_workers() == 0).await;
    // And start again for the next envelope.
    us.open_case("fr", "note", note("later")).await.unwrap();
    wait_until(10, "delivered after the workers ended", || {
        count(us, "outbox WHERE state = 'delivered'") == 3
    })
    .await;
}
