//! The key lifecycle between real nodes: a log key rotates without a flag
//! day (peers and witnesses follow the chain, both keys sign during the
//! overlap, old receipts keep verifying), and a forged key change is
//! refused and recorded.

use liaison_core::envelope::Envelope;
use liaison_core::keys::{ChangeKind, KEY_CHANGE, KEY_CHANGE_VERSION, KeyChange, card_digest};
use liaison_log::Checkpoint;
use liaison_log::note::{ED25519, NoteSigner, NoteVerifier};

use liaison_node::now_rfc3339;

use crate::kit::{Net, party, witness};
use crate::support::*;

pub(crate) fn pinned_log_key(of: &LiveNode, party: &str) -> String {
    of.node.peer(party).unwrap().unwrap().card.log_key
}

pub(crate) async fn note_to(from: &LiveNode, to: &str, subject: &str) -> String {
    from.node
        .open_case(to, "note", note(subject))
        .await
        .unwrap()
        .case_id
}

pub(crate) async fn all_delivered(node: &LiveNode) {
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
    // A body that is not an object rotates nothing (serde would read `[]`
    // as a struct of defaults).
    let array = rotate(&admin, serde_json::json!([])).await.unwrap();
    assert_eq!(array.status(), 400);
    let too_long = rotate(&admin, serde_json::json!({"overlap_secs": 31 * 86_400}))
        .await
        .unwrap();
    assert_eq!(too_long.status(), 422);
    let before = us.node.store().log_signer().verifier().to_encoded();
    let fingerprint = us.node.card().tls_fingerprint;
    let done = rotate(
        &admin,
        serde_json::json!({"overlap_secs": 600, "log": true}),
    )
    .await
    .unwrap();
    assert_eq!(done.status(), 201);
    assert_eq!(us.node.card().tls_fingerprint, fingerprint);
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
        let html = peers_page(ru, lang).await;
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
    // The certificate alone, as `key rotate --tls`.
    let tls = rotate(&admin, serde_json::json!({"tls": true}))
        .await
        .unwrap();
    assert_eq!(tls.status(), 201);
    let tls: serde_json::Value = tls.json().await.unwrap();
    assert_eq!(tls["old_log_key"], tls["new_log_key"]);
    assert_ne!(us.node.card().tls_fingerprint, fingerprint);
    wait_until(20, "ru follows the new certificate", || {
        ru.node.peer("us").unwrap().unwrap().card.tls_fingerprint == us.node.card().tls_fingerprint
    })
    .await;
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
    let first_card = us.node.card();
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
    // Pinning by hand a card the chain replaced would roll the pin back.
    let e = ru
        .pin_peer(&first_card, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("was replaced by its key change 1"), "{e}");
    assert_eq!(
        ru.peer("us").unwrap().unwrap().card.log_key,
        us.node.store().log_signer().verifier().to_encoded()
    );
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
    // Pinned to the certificates us may present (the old one, in the overlap).
    let client = ru.node.peer_client(&card).unwrap();
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
async fn both_keys_rotate_and_connections_hold_through_the_overlap_and_after() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let old_fp = us.node.card().tls_fingerprint;
    let rotated = us.node.rotate_keys(Default::default(), 2).await.unwrap();
    let new_card = us.node.card();
    assert_ne!(new_card.tls_fingerprint, old_fp);
    assert_eq!(new_card.log_key, rotated.new_log_key);
    // During the overlap us still presents the old certificate.
    assert_eq!(us.node.tls().fingerprint_hex(), old_fp);
    wait_until(20, "ru follows", || {
        ru.node.peer("us").unwrap().unwrap().card.tls_fingerprint == new_card.tls_fingerprint
    })
    .await;
    // Both directions work during the overlap …
    note_to(us, "ru", "during the overlap").await;
    note_to(ru, "us", "during the overlap, back").await;
    all_delivered(us).await;
    all_delivered(ru).await;
    // … and after it, with the new certificate presented.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(us.node.tls().fingerprint_hex(), new_card.tls_fingerprint);
    note_to(us, "ru", "after the overlap").await;
    note_to(ru, "us", "after the overlap, back").await;
    all_delivered(us).await;
    all_delivered(ru).await;
    // The old certificate no longer gets in.
    assert!(
        ru.node
            .peer_by_fingerprint(&liaison_log::Hash::from_hex(&old_fp).unwrap().0)
            .unwrap()
            .is_none()
    );
    assert_clean_audit(&ru.node).await;
    // Reopened, the node has the new certificate.
    let reopened = liaison_node::Node::open(&us.dir).unwrap();
    assert_eq!(reopened.tls().fingerprint_hex(), new_card.tls_fingerprint);
}
