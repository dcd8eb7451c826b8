//! The key lifecycle between real nodes: a log key rotates without a flag
//! day (peers and witnesses follow the chain, both keys sign during the
//! overlap, old receipts keep verifying), and a forged key change is
//! refused and recorded.

use liaison_core::envelope::Envelope;
use liaison_core::keys::{ChangeKind, KEY_CHANGE, KEY_CHANGE_VERSION, KeyChange, card_digest};
use liaison_log::Checkpoint;
use liaison_log::note::{ED25519, NoteSigner, NoteVerifier};

use std::os::unix::fs::PermissionsExt as _;

use liaison_node::now_rfc3339;

use crate::kit::{Net, party, witness};
use crate::support::*;

fn pinned_log_key(of: &LiveNode, party: &str) -> String {
    of.node.peer(party).unwrap().unwrap().card.log_key
}

async fn note_to(from: &LiveNode, to: &str, subject: &str) -> String {
    from.node
        .open_case(to, "note", note(subject))
        .await
        .unwrap()
        .case_id
}

async fn all_delivered(node: &LiveNode) {
    for _ in 0..100 {
        if count(&node.node, "outbox WHERE state != 'delivered'") == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    eprintln!(
        "{:?}",
        strings(
            &node.node,
            "SELECT peer || ' ' || state || ' ' || coalesce(last_error, '') FROM outbox WHERE state != 'delivered'"
        )
    );
    wait_until(30, "every envelope receipted", || {
        count(&node.node, "outbox WHERE state != 'delivered'") == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_log_key_rotations_are_followed_by_peers_and_witnesses_and_audits_stay_clean() {
    let net = Net::of(vec![party("us"), party("ru"), witness("wit")]).await;
    let (us, ru, w) = (&net["us"], &net["ru"], &net["wit"]);
    let first = us.node.store().log_signer().verifier();
    let case = note_to(us, "ru", "before").await;
    all_delivered(us).await;

    // Rotation 1, with an overlap: peers follow, both keys sign.
    let rotated = us.node.rotate_log_key(3600).await.unwrap();
    assert_eq!(rotated.sequence, 1);
    assert_eq!(rotated.sent_to, ["ru"]);
    let second = us.node.store().log_signer().verifier();
    assert_ne!(first, second);
    assert_eq!(
        second.name(),
        first.name(),
        "the log goes on under its origin"
    );
    wait_until(20, "ru follows the rotation", || {
        pinned_log_key(ru, "us") == second.to_encoded()
    })
    .await;
    assert_eq!(us.node.card().log_key, second.to_encoded());
    // A verifier that pins either key keeps verifying the checkpoint.
    let signed_note = us.node.store().checkpoint().unwrap().to_string();
    for key in [&first, &second] {
        Checkpoint::open(&signed_note, key, &[]).unwrap();
    }
    // What us sends now is signed by the new key and accepted.
    note_to(us, "ru", "after").await;
    us.node
        .reply(&case, note("a reply in the old case"))
        .await
        .unwrap();
    all_delivered(us).await;
    // The witness, still pinning the first key, cosigns during the overlap.
    let wcard = us.node.peer("wit").unwrap().unwrap();
    us.node.request_cosignature(&wcard).await.unwrap();

    // Rotations 2 and 3 without overlap: only the new key signs; the
    // witness catches up on the chain from us's listener.
    for expected in [2, 3] {
        let r = us.node.rotate_log_key(0).await.unwrap();
        assert_eq!(r.sequence, expected);
        note_to(us, "ru", &format!("after rotation {expected}")).await;
    }
    let last = us.node.store().log_signer().verifier();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let signed_note = us.node.store().checkpoint().unwrap().to_string();
    assert!(
        Checkpoint::open(&signed_note, &first, &[]).is_err(),
        "the overlap ended"
    );
    Checkpoint::open(&signed_note, &last, &[]).unwrap();
    all_delivered(us).await;
    assert_eq!(pinned_log_key(ru, "us"), last.to_encoded());
    us.node.request_cosignature(&wcard).await.unwrap();
    assert_eq!(pinned_log_key(w, "us"), last.to_encoded());
    assert_eq!(w.node.key_history("us").unwrap().len(), 3);

    // ru's audit of us is clean across all three rotations: receipts
    // signed by each key still verify.
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    // Each change ru followed is in us's witnessed log, where us said.
    assert_eq!(report.peers[0].key_changes_verified, 3);
    let report = us.node.audit(Some("ru"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert!(report.peers[0].receipts_verified >= 6);
    let history = ru.node.key_history("us").unwrap();
    assert_eq!(
        history.iter().map(|h| h.sequence).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(history[0].old_log_key, first.to_encoded());
    assert_eq!(history[2].new_log_key, last.to_encoded());
    assert_eq!(us.node.key_history("us").unwrap().len(), 3);

    // A change not where us said it is (a chain shown to ru alone) is a
    // problem of the audit.
    ru.node
        .store()
        .write(|tx| {
            tx.conn().sqlite().execute(
                "UPDATE key_changes SET log_index = 0 WHERE party = 'us' AND sequence = 2",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.peers[0].key_changes_verified, 2);
    assert_eq!(
        report.peers[0]
            .problems
            .iter()
            .map(|p| p.kind)
            .collect::<Vec<_>>(),
        ["key_change_not_logged"]
    );

    // The node reopens with the rotated key (and the CLI sees it).
    let out = liaison(&["key", "history", us.dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let reopened = liaison_node::Node::open(&us.dir).unwrap();
    assert_eq!(reopened.store().log_signer().verifier(), last);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_change_not_signed_by_the_pinned_key_is_refused_and_recorded() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let pinned = ru.node.peer("us").unwrap().unwrap();
    let (thief, fresh) = (
        NoteSigner::new(us.node.store().log_origin(), ED25519, [7; 32]).unwrap(),
        NoteSigner::new(us.node.store().log_origin(), ED25519, [8; 32]).unwrap(),
    );
    let mut card = us.node.card();
    card.log_key = fresh.verifier().to_encoded();
    let change = KeyChange {
        liaison_key_change: KEY_CHANGE_VERSION,
        party: "us".into(),
        sequence: 1,
        previous_card: card_digest(&pinned.card).unwrap().to_hex(),
        card,
        change: ChangeKind::Rotation,
        issued_at: now_rfc3339(),
        overlap_until: Some(now_rfc3339()),
        compromised_since: None,
    };
    // The envelope is us's (its key signs it); the statement is not.
    let forged = change.sign(&[&thief, &fresh]).unwrap();
    let envelope = Envelope {
        id: "keyforge1".into(),
        sender: "us".into(),
        recipient: "ru".into(),
        also_to: vec![],
        kind: KEY_CHANGE.into(),
        case_id: "key_change-us".into(),
        created: now_rfc3339(),
        body: serde_json::to_value(liaison_core::keys::KeyChangeNotice {
            change: forged,
            log_index: 1,
        })
        .unwrap(),
        attachments: vec![],
    };
    let answer = forge(us, ru, envelope).await;
    let error = answer.results[0].error.as_ref().expect("refused");
    assert!(
        error
            .message
            .contains("not signed by the log key it replaces"),
        "{error:?}"
    );
    assert_eq!(
        pinned_log_key(ru, "us"),
        us.node.store().log_signer().verifier().to_encoded()
    );
    assert!(ru.node.key_history("us").unwrap().is_empty());
    assert_eq!(
        count(
            &ru.node,
            "rejections WHERE peer = 'us' AND reason LIKE '%key change%'"
        ),
        1
    );

    // An envelope signed by a key ru does not pin is refused before its
    // body is read.
    let stranger = Envelope {
        id: "keyforge2".into(),
        sender: "us".into(),
        recipient: "ru".into(),
        also_to: vec![],
        kind: KEY_CHANGE.into(),
        case_id: "key_change-us".into(),
        created: now_rfc3339(),
        body: serde_json::to_value(liaison_core::keys::KeyChangeNotice {
            change: change.sign(&[&thief, &fresh]).unwrap(),
            log_index: 1,
        })
        .unwrap(),
        attachments: vec![],
    }
    .sign(&thief)
    .unwrap();
    let answer = deliver(&us.node, ru, vec![stranger]).await;
    assert!(answer.results[0].error.is_some());
    assert_eq!(count(&ru.node, "rejections WHERE peer = 'us'"), 2);
    let _ = NoteVerifier::parse(&pinned.card.log_key).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_cut_short_by_a_crash_is_finished_or_dropped_on_reopening() {
    let net = Net::with(&["us", "ru"]).await;
    let us = &net["us"];
    let keys = us.dir.join("keys");
    let before = us.node.store().log_signer().verifier();
    // A key written but never committed is dropped.
    std::fs::write(
        keys.join("log.key.new"),
        format!(
            "{}\n",
            NoteSigner::new(us.node.store().log_origin(), ED25519, [5; 32])
                .unwrap()
                .to_encoded()
        ),
    )
    .unwrap();
    let reopened = liaison_node::Node::open(&us.dir).unwrap();
    assert_eq!(reopened.store().log_signer().verifier(), before);
    assert!(!keys.join("log.key.new").exists());
    drop(reopened);

    // A rotation committed before its files moved is finished.
    us.node.rotate_log_key(600).await.unwrap();
    let after = us.node.store().log_signer().verifier();
    std::fs::rename(keys.join("log.key"), keys.join("log.key.new")).unwrap();
    std::fs::rename(keys.join("log-previous.key"), keys.join("log.key")).unwrap();
    let reopened = liaison_node::Node::open(&us.dir).unwrap();
    let signers = reopened.store().log_signers();
    assert_eq!(signers.current.verifier(), after);
    assert_eq!(signers.overlap.as_ref().unwrap().0.verifier(), before);
    assert!(!keys.join("log.key.new").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_rotates_for_administrators_only_and_shows_both_sides_of_the_chain() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let http = reqwest::Client::new();
    let admin = crate::api::token(&us.node, "keeper", "administrator").await;
    let officer = crate::api::token(&us.node, "officer", "legal_officer").await;
    let rotate = |token: &str, body: serde_json::Value| {
        http.post(format!("{}/api/v1/keys/rotate", us.app_url()))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let denied = rotate(&officer, serde_json::json!({})).await.unwrap();
    assert_eq!(denied.status(), 403);
    let too_long = rotate(&admin, serde_json::json!({"overlap_secs": 31 * 86_400}))
        .await
        .unwrap();
    assert_eq!(too_long.status(), 422);
    let before = us.node.store().log_signer().verifier().to_encoded();
    let done = rotate(&admin, serde_json::json!({"overlap_secs": 600}))
        .await
        .unwrap();
    assert_eq!(done.status(), 201);
    let done: serde_json::Value = done.json().await.unwrap();
    assert_eq!(done["old_log_key"], before);
    assert_eq!(done["sent_to"], serde_json::json!(["ru"]));

    let keys: serde_json::Value = http
        .get(format!("{}/api/v1/keys", us.app_url()))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["log_key"], done["new_log_key"]);
    assert_eq!(keys["previous_log_key"], before);
    assert_eq!(keys["overlap_until"], done["overlap_until"]);
    assert!(
        keys["recovery_key"]
            .as_str()
            .unwrap()
            .starts_with("liaison/us/recovery+")
    );
    assert_eq!(keys["history"].as_array().unwrap().len(), 1);

    wait_until(20, "ru follows", || {
        pinned_log_key(ru, "us") == done["new_log_key"].as_str().unwrap()
    })
    .await;
    let ru_token = crate::api::token(&ru.node, "officer", "legal_officer").await;
    let seen: serde_json::Value = http
        .get(format!("{}/api/v1/peers/us/keys", ru.app_url()))
        .bearer_auth(&ru_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen[0]["old_log_key"], before);
    assert_eq!(seen[0]["new_log_key"], done["new_log_key"]);
    // The peers page shows the chain, in each language.
    let new_id = done["new_log_key"]
        .as_str()
        .unwrap()
        .split('+')
        .nth(1)
        .unwrap()
        .to_owned();
    let old_id = before.split('+').nth(1).unwrap().to_owned();
    for (lang, word) in [("en", "rotation"), ("ru", "смена ключа")] {
        let page = Page::new(
            &ru.node,
            ru.app_url(),
            &format!("viewer-{lang}"),
            "legal_officer",
            lang,
        )
        .await;
        let (status, html) = page.get("/peers").await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("#1 {word}")), "{html}");
        assert!(html.contains(&new_id) && html.contains(&old_id), "{html}");
    }
    let page = Page::new(&us.node, us.app_url(), "viewer", "legal_officer", "en").await;
    let (_, html) = page.get("/peers").await;
    assert!(html.contains("the replaced key still signs"), "{html}");
    let unknown = http
        .get(format!("{}/api/v1/peers/zz/keys", ru.app_url()))
        .bearer_auth(&ru_token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_thousand_envelopes_cross_two_rotations_none_lost_or_duplicated() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    const N: usize = 2000;
    let sender = {
        let node = us.node.clone();
        tokio::spawn(async move {
            let mut sends = tokio::task::JoinSet::new();
            for i in 0..N {
                let node = node.clone();
                sends.spawn(async move {
                    node.open_case("ru", "note", note(&format!("stream {i}")))
                        .await
                        .unwrap()
                });
                if i % 50 == 49 {
                    while sends.join_next().await.is_some() {}
                }
            }
            while sends.join_next().await.is_some() {}
        })
    };
    // Two rotations while the stream runs: one with an overlap, one without.
    wait_until(60, "a quarter sent", || {
        count(&us.node, "outbox") >= (N / 4) as i64
    })
    .await;
    us.node.rotate_log_key(3600).await.unwrap();
    wait_until(60, "three quarters sent", || {
        count(&us.node, "outbox") >= (3 * N / 4) as i64
    })
    .await;
    us.node.rotate_log_key(0).await.unwrap();
    sender.await.unwrap();
    // The rotations fell inside the stream: notes were queued before the
    // first key change, between the two, and after the second.
    let notes_around = |cmp: &str, which: &str| {
        count(
            &us.node,
            &format!(
                "outbox o JOIN envelopes e ON e.hash = o.envelope_hash AND e.direction = 'out' \
                 WHERE e.kind = 'note' AND o.seq {cmp} (SELECT {which}(o2.seq) FROM outbox o2 \
                 JOIN envelopes e2 ON e2.hash = o2.envelope_hash WHERE e2.kind = 'key_change')"
            ),
        )
    };
    assert!(notes_around("<", "min") > 0);
    assert!(notes_around(">", "max") > 0);
    assert!(notes_around("<", "max") > notes_around("<", "min"));
    all_delivered(us).await;
    // Exactly the notes sent, once each, and the two key changes.
    assert_eq!(
        count(&ru.node, "envelopes WHERE sender = 'us' AND kind = 'note'"),
        N as i64
    );
    assert_eq!(
        count(
            &ru.node,
            "(SELECT DISTINCT id FROM envelopes WHERE sender = 'us' AND kind = 'note')"
        ),
        N as i64
    );
    assert_eq!(
        count(
            &ru.node,
            "envelopes WHERE sender = 'us' AND kind = 'key_change'"
        ),
        2
    );
    assert_eq!(count(&ru.node, "rejections"), 0);
    assert_eq!(
        pinned_log_key(ru, "us"),
        us.node.store().log_signer().verifier().to_encoded()
    );
    // Every receipt verifies (ru signed them; us checks them across its
    // own rotations too), and ru's audit of us is clean.
    let report = us.node.audit(Some("ru"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(report.peers[0].receipts_verified, N + 2);
    assert_clean_audit(&ru.node).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_down_during_a_rotation_follows_the_chain_when_it_is_back() {
    install_crypto();
    let root = tempfile::tempdir().unwrap();
    let us = live_node(root.path(), "us", "party").await;
    let ru = idle_node(root.path(), "ru").await;
    pin_each_other(&us.node, &ru).await;
    // ru is down: two rotations (the second ends the first's overlap) and
    // notes signed by each new key wait in us's outbox.
    note_to(&us, "ru", "before").await;
    us.node.rotate_log_key(0).await.unwrap();
    note_to(&us, "ru", "between").await;
    us.node.rotate_log_key(0).await.unwrap();
    note_to(&us, "ru", "after").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let server = start(&ru).await;
    wait_until(60, "everything delivered", || {
        count(&us.node, "outbox WHERE state != 'delivered'") == 0
    })
    .await;
    assert_eq!(
        ru.peer("us").unwrap().unwrap().card.log_key,
        us.node.store().log_signer().verifier().to_encoded()
    );
    assert_eq!(ru.key_history("us").unwrap().len(), 2);
    assert_eq!(
        count(&ru, "envelopes WHERE sender = 'us' AND kind = 'note'"),
        3
    );
    assert_clean_audit(&ru).await;
    assert_clean_audit(&us.node).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_rotates_the_key_of_a_serving_node_which_picks_it_up() {
    install_crypto();
    let root = tempfile::tempdir().unwrap();
    let us_dir = root.path().join("us");
    cli_init(&us_dir, "us");
    let ru = live_node(root.path(), "ru", "party").await;
    let us_card: liaison_proto::NodeCard =
        serde_json::from_slice(&liaison(&["card", us_dir.to_str().unwrap()]).stdout).unwrap();
    ru.node.pin_peer(&us_card, false).await.unwrap();
    let card_file = root.path().join("ru.json");
    std::fs::write(&card_file, ru.node.card_json().unwrap()).unwrap();
    let out = liaison(&[
        "peer",
        "add",
        us_dir.to_str().unwrap(),
        card_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let serve = ServeProcess::start(&us_dir);

    let out = liaison(&[
        "--json",
        "key",
        "rotate",
        us_dir.to_str().unwrap(),
        "--overlap-secs",
        "600",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rotated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (old, new) = (
        NoteVerifier::parse(rotated["old_log_key"].as_str().unwrap()).unwrap(),
        NoteVerifier::parse(rotated["new_log_key"].as_str().unwrap()).unwrap(),
    );
    // The serving process delivers the key change (queued by the CLI) …
    wait_until(30, "ru follows the rotation", || {
        pinned_log_key(&ru, "us") == new.to_encoded()
    })
    .await;
    // … and signs the checkpoints it serves with both keys once it has
    // picked the new one up.
    let card = ru.node.peer("us").unwrap().unwrap();
    let client = liaison_node::tls::peer_http_client(&ru.node.tls(), card.fingerprint).unwrap();
    let url = format!("{}/log/checkpoint", card.card.federation_url);
    let mut both = false;
    for _ in 0..100 {
        let note = client.get(&url).send().await.unwrap().text().await.unwrap();
        if Checkpoint::open(&note, &new, &[]).is_ok() {
            Checkpoint::open(&note, &old, &[]).unwrap();
            both = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(both, "the serving process never signed with the new key");
    // What it sends now is accepted.
    let body = root.path().join("note.json");
    std::fs::write(&body, note("after the CLI rotation").to_string()).unwrap();
    let out = liaison(&[
        "case",
        "new",
        us_dir.to_str().unwrap(),
        "--to",
        "ru",
        "--kind",
        "note",
        "--file",
        body.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until(30, "the note arrives", || {
        count(&ru.node, "envelopes WHERE sender = 'us' AND kind = 'note'") == 1
    })
    .await;
    assert_eq!(count(&ru.node, "rejections"), 0);
    assert_eq!(serve.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recovery_key_replaces_itself_and_peers_follow_but_not_for_a_stranger() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let keys = us.dir.join("keys");
    let dir = us.dir.to_str().unwrap();
    // A key that is not the card's recovery key is refused, nothing written.
    let stranger = net.root().join("stranger.key");
    std::fs::write(
        &stranger,
        NoteSigner::new("liaison/us/recovery", ED25519, [6; 32])
            .unwrap()
            .to_encoded(),
    )
    .unwrap();
    let refused = liaison(&[
        "key",
        "rotate-recovery",
        dir,
        "--recovery-key",
        stranger.to_str().unwrap(),
        "--out",
        net.root().join("never.key").to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("not this node's recovery key"),
        "{}",
        stderr(&refused)
    );
    assert!(!net.root().join("never.key").exists());

    let before = us.node.card().recovery_key.unwrap();
    let out = net.root().join("recovery-2.key");
    let done = liaison(&[
        "--json",
        "key",
        "rotate-recovery",
        dir,
        "--recovery-key",
        keys.join("recovery.key").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(done.status.success(), "{}", stderr(&done));
    let done: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    let after = done["recovery_key"].as_str().unwrap().to_owned();
    assert_ne!(after, before);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(keys.join("recovery.pub"))
            .unwrap()
            .trim(),
        after
    );
    // The serving node in this process picks the change up, and ru follows.
    wait_until(20, "us serves the new recovery key", || {
        us.node.reload_log_keys().is_ok() && us.node.card().recovery_key.as_deref() == Some(&after)
    })
    .await;
    wait_until(20, "ru follows", || {
        ru.node
            .peer("us")
            .unwrap()
            .unwrap()
            .card
            .recovery_key
            .as_deref()
            == Some(&after)
    })
    .await;
    let history = ru.node.key_history("us").unwrap();
    assert_eq!(history[0].kind, "recovery_rotation");
    // The log key did not change.
    assert_eq!(history[0].old_log_key, history[0].new_log_key);
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(report.peers[0].key_changes_verified, 1);
    // The old recovery key no longer counts.
    let again = liaison(&[
        "key",
        "rotate-recovery",
        dir,
        "--recovery-key",
        keys.join("recovery.key").to_str().unwrap(),
        "--out",
        net.root().join("recovery-3.key").to_str().unwrap(),
    ]);
    assert!(!again.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_revocation_everything_the_revoked_key_signs_is_refused() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let dir = us.dir.to_str().unwrap();
    let recovery = us.dir.join("keys/recovery.key");
    // The thief copied the log key; what it had us "say" before the
    // revocation was accepted.
    let stolen = us.node.store().log_signer();
    let since = now_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    note_to(us, "ru", "sent after the compromise").await;
    all_delivered(us).await;

    // The thief cannot revoke: it has no recovery key.
    let thief_file = net.root().join("thief.key");
    std::fs::write(&thief_file, stolen.to_encoded()).unwrap();
    let refused = liaison(&[
        "key",
        "revoke",
        dir,
        "--recovery-key",
        thief_file.to_str().unwrap(),
        "--compromised-since",
        &since,
    ]);
    assert!(!refused.status.success());
    let bad_time = liaison(&[
        "key",
        "revoke",
        dir,
        "--recovery-key",
        recovery.to_str().unwrap(),
        "--compromised-since",
        "yesterday",
    ]);
    assert!(
        stderr(&bad_time).contains("RFC 3339"),
        "{}",
        stderr(&bad_time)
    );

    let done = liaison(&[
        "--json",
        "key",
        "revoke",
        dir,
        "--recovery-key",
        recovery.to_str().unwrap(),
        "--compromised-since",
        &since,
    ]);
    assert!(done.status.success(), "{}", stderr(&done));
    let done: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    let new_key = done["change"]["new_log_key"].as_str().unwrap().to_owned();
    assert_eq!(done["change"]["kind"], "revocation");
    us.node.reload_log_keys().unwrap();
    assert_eq!(
        us.node.store().log_signer().verifier().to_encoded(),
        new_key
    );
    // No overlap: only the new key signs.
    assert!(us.node.store().log_signers().overlap.is_none());
    wait_until(20, "ru follows the revocation", || {
        pinned_log_key(ru, "us") == new_key
    })
    .await;

    // 100% of what the revoked key signs is refused now.
    let mut answers = Vec::new();
    for i in 0..20 {
        let forged = Envelope {
            id: format!("revoked{i:02}"),
            sender: "us".into(),
            recipient: "ru".into(),
            also_to: vec![],
            kind: "note".into(),
            case_id: format!("us-revoked{i:02}"),
            created: now_rfc3339(),
            body: note(&format!("forged {i}")),
            attachments: vec![],
        }
        .sign(&stolen)
        .unwrap();
        answers.push(forged);
    }
    let response = deliver(&us.node, ru, answers).await;
    assert_eq!(response.results.len(), 20);
    assert!(
        response
            .results
            .iter()
            .all(|r| r.error.is_some() && r.receipt.is_none())
    );
    // What was accepted from it since the compromise is flagged.
    let alerts = ru.node.alerts(false).unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "revoked_key" && a.message.contains("1 envelope")),
        "{alerts:?}"
    );
    // us goes on with its new key.
    note_to(us, "ru", "after the revocation").await;
    all_delivered(us).await;
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(report.peers[0].key_changes_verified, 1);
    assert_eq!(
        ru.node.key_history("us").unwrap()[0]
            .compromised_since
            .as_deref(),
        Some(since.as_str())
    );
}
