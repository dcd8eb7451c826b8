//! A witness's keys rotate and are revoked like a party's: its log key,
//! certificate and both cosigning keys (Ed25519, ML-DSA-44) change in one
//! key change that the parties follow, both cosigners sign during the
//! overlap, and a party that missed the change catches up from the
//! witness's own answer.

use liaison_log::Checkpoint;
use liaison_log::mldsa::MlDsaVerifier;
use liaison_log::note::{NoteSigner, NoteVerifier, parse_note};

use crate::keys::note_to;
use crate::kit::{Net, party, witness};
use crate::support::*;

fn cosigner_of(of: &LiveNode, witness: &str) -> String {
    of.node
        .peer(witness)
        .unwrap()
        .unwrap()
        .card
        .cosigner_key
        .unwrap()
}

/// The witness's answer to `party`'s current checkpoint, asked as if by a
/// verifier that already gave it that size (after `party` did).
async fn cosign_again(w: &LiveNode, party: &LiveNode) -> (String, String) {
    let card = party.node.peer(w.node.party().as_str()).unwrap().unwrap();
    for _ in 0..20 {
        party.node.request_cosignature(&card).await.unwrap();
        let note = party.node.store().checkpoint().unwrap().to_string();
        let size = Checkpoint::open(&note, &party.node.store().log_signer().verifier(), &[])
            .unwrap()
            .0
            .size;
        let answer = w
            .node
            .witness_add_checkpoint(&format!("old {size}\n\n{note}"))
            .await
            .unwrap();
        if answer.status == 200 {
            return (note, answer.body);
        }
        // The log grew in between (a receipt stored): again.
        assert_eq!(answer.status, 409, "{}", answer.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the witness never cosigned the checkpoint again");
}

/// Whether the Ed25519 cosigner `key` and the ML-DSA-44 one `ml_dsa` both
/// cosigned `note` in `answer`.
fn cosigned_by(note: &str, answer: &str, key: &str, ml_dsa: &str, log: &NoteVerifier) -> bool {
    let key = NoteVerifier::parse(key).unwrap();
    let full = format!("{note}{answer}");
    let Ok((checkpoint, cosigs)) = Checkpoint::open(&full, log, std::slice::from_ref(&key)) else {
        return false;
    };
    let parsed = parse_note(&full).unwrap();
    !cosigs.is_empty()
        && MlDsaVerifier::parse(ml_dsa)
            .unwrap()
            .verify_any(&checkpoint, &parsed.signatures)
            .is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_rotates_every_key_and_parties_follow_without_a_flag_day() {
    let net = Net::of(vec![party("us"), party("ru"), witness("wit")]).await;
    let (us, ru, w) = (&net["us"], &net["ru"], &net["wit"]);
    let before = w.node.card();
    let wcard = us.node.peer("wit").unwrap().unwrap();
    us.node.request_cosignature(&wcard).await.unwrap();

    let rotated = w.node.rotate_keys(Default::default(), 3600).await.unwrap();
    let after = w.node.card();
    assert_ne!(after.log_key, before.log_key);
    assert_ne!(after.tls_fingerprint, before.tls_fingerprint);
    assert_ne!(after.cosigner_key, before.cosigner_key);
    assert_ne!(after.cosigner_key_ml_dsa, before.cosigner_key_ml_dsa);
    assert_eq!(rotated.cosigner_key, after.cosigner_key);
    let mut sent_to = rotated.sent_to.clone();
    sent_to.sort();
    assert_eq!(sent_to, ["ru", "us"]);
    // The parties follow by the witness's key_change envelopes.
    wait_until(20, "the parties follow the witness", || {
        [us, ru]
            .iter()
            .all(|p| Some(cosigner_of(p, "wit")) == after.cosigner_key)
    })
    .await;
    let keys = w.node.keys().unwrap();
    assert_eq!(keys.cosigner_key, after.cosigner_key);
    assert_eq!(keys.previous_cosigner_key, before.cosigner_key);

    // During the overlap both cosigners sign: a verifier pinning either
    // pair of keys keeps verifying.
    let log = us.node.store().log_signer().verifier();
    let (note, answer) = cosign_again(w, us).await;
    for card in [&before, &after] {
        assert!(
            cosigned_by(
                &note,
                &answer,
                card.cosigner_key.as_deref().unwrap(),
                card.cosigner_key_ml_dsa.as_deref().unwrap(),
                &log
            ),
            "{answer}"
        );
    }
    // us asks again (its cosignature is by the replaced key) and keeps the
    // lines of the keys it pins now.
    note_to(us, "ru", "after the witness rotated").await;
    let wcard = us.node.peer("wit").unwrap().unwrap();
    us.node.request_cosignature(&wcard).await.unwrap();
    let served = us.node.checkpoint_with_cosignatures().unwrap();
    assert!(cosigned_by(
        &served,
        "",
        after.cosigner_key.as_deref().unwrap(),
        after.cosigner_key_ml_dsa.as_deref().unwrap(),
        &log
    ));
    let report = ru.node.audit(Some("us"), true).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    let name = NoteVerifier::parse(after.cosigner_key.as_deref().unwrap())
        .unwrap()
        .name()
        .to_owned();
    assert_eq!(report.peers[0].cosigned_by, std::slice::from_ref(&name));
    assert_eq!(report.peers[0].cosigned_by_ml_dsa, [name]);
    let history = ru.node.key_history("wit").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old_cosigner_key, before.cosigner_key);
    assert_eq!(history[0].new_cosigner_key, after.cosigner_key);
    assert_eq!(count(&us.node, "rejections"), 0);
    assert_eq!(count(&ru.node, "rejections"), 0);

    // The peers page shows the witness's cosigning key change, in both
    // languages; the witness's own page shows both of its cosigners.
    let id = |key: &Option<String>| {
        key.as_deref()
            .unwrap()
            .split('+')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let (old_id, new_id) = (id(&before.cosigner_key), id(&after.cosigner_key));
    for (lang, word) in [("en", "cosigning key"), ("ru", "ключ соподписи")] {
        let html = peers_page(ru, lang).await;
        assert!(
            html.contains(&format!(
                "{word} <code>{old_id}</code> → <code>{new_id}</code>"
            )),
            "{html}"
        );
    }
    let page = Page::new(&w.node, w.app_url(), "viewer", "legal_officer", "en").await;
    let (_, html) = page.get("/peers").await;
    assert!(
        html.contains(&format!(
            "the replaced cosigning key still cosigns: <code>{old_id}</code>"
        )),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_party_that_missed_a_witness_rotation_catches_up_from_its_answer() {
    install_crypto();
    let root = tempfile::tempdir().unwrap();
    // us is down (nothing reaches it) but asks for cosignatures.
    let us = idle_node(root.path(), "us").await;
    let w = live_node(root.path(), "wit", "witness").await;
    pin_each_other(&us, &w.node).await;
    let wcard = us.peer("wit").unwrap().unwrap();
    us.request_cosignature(&wcard).await.unwrap();
    // No overlap: the witness cosigns with its new keys only.
    let what = liaison_node::keys::KeysToRotate {
        log: true,
        cosigner: true,
        ..Default::default()
    };
    w.node.rotate_keys(what, 0).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = w.node.card();
    assert_eq!(
        w.node.keys().unwrap().previous_cosigner_key,
        None,
        "the overlap ended"
    );
    // us's log grows; it asks for a cosignature, sees lines by keys it
    // does not know, and follows the witness's chain.
    let ru = idle_node(root.path(), "ru").await;
    pin_each_other(&us, &ru).await;
    us.open_case("ru", "note", note("queued")).await.unwrap();
    us.request_cosignature(&wcard).await.unwrap();
    let followed = us.peer("wit").unwrap().unwrap();
    assert_eq!(followed.card.cosigner_key, after.cosigner_key);
    assert_eq!(followed.card.log_key, after.log_key);
    let served = us.checkpoint_with_cosignatures().unwrap();
    assert!(cosigned_by(
        &served,
        "",
        after.cosigner_key.as_deref().unwrap(),
        after.cosigner_key_ml_dsa.as_deref().unwrap(),
        &us.store().log_signer().verifier()
    ));
    assert_eq!(count(&us, "rejections"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_revokes_its_stolen_keys_and_the_old_cosigner_stops_counting() {
    let net = Net::of(vec![party("us"), party("ru"), witness("wit")]).await;
    let (us, ru, w) = (&net["us"], &net["ru"], &net["wit"]);
    let before = w.node.card();
    let recovery_text = std::fs::read_to_string(w.dir.join("keys/recovery.key")).unwrap();
    let recovery = NoteSigner::parse(&recovery_text).unwrap();
    let stolen_text = std::fs::read_to_string(w.dir.join("keys/cosigner.key")).unwrap();
    let stolen = NoteSigner::parse(&stolen_text).unwrap();
    let (change, sent_to) = w
        .node
        .revoke_log_key(&recovery, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(change.kind, "revocation");
    assert_eq!(sent_to.len(), 2);
    let after = w.node.card();
    assert_ne!(after.cosigner_key, before.cosigner_key);
    assert_ne!(after.cosigner_key_ml_dsa, before.cosigner_key_ml_dsa);
    assert_eq!(after.tls_fingerprint, before.tls_fingerprint);
    wait_until(20, "the parties follow the revocation", || {
        [us, ru]
            .iter()
            .all(|p| Some(cosigner_of(p, "wit")) == after.cosigner_key)
    })
    .await;
    // No overlap: only the new cosigner signs.
    let (note, answer) = cosign_again(w, us).await;
    let log = us.node.store().log_signer().verifier();
    assert!(!cosigned_by(
        &note,
        &answer,
        before.cosigner_key.as_deref().unwrap(),
        before.cosigner_key_ml_dsa.as_deref().unwrap(),
        &log
    ));
    // A cosignature made with the stolen key no longer counts in an audit.
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert_eq!(report.peers[0].cosigned_by.len(), 1, "{report:#?}");
    // The checkpoint the stored cosignature is for.
    let size: u64 = strings(&us.node, "SELECT CAST(size AS TEXT) FROM cosignatures")[0]
        .parse()
        .unwrap();
    let checkpoint = us.node.store().signed_checkpoint_at(size).unwrap();
    let text = parse_note(checkpoint.as_ref()).unwrap().text;
    let forged = stolen
        .signature_line(&text, Some(jiff::Timestamp::now().as_second() as u64))
        .unwrap();
    us.node
        .store()
        .write(move |tx| {
            tx.conn()
                .sqlite()
                .execute("UPDATE cosignatures SET line = ?1", [&forged])?;
            Ok(())
        })
        .await
        .unwrap();
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.peers[0].cosigned_by.is_empty(), "{report:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_sends_its_key_changes_and_nothing_else() {
    let net = Net::of(vec![party("us"), witness("wit")]).await;
    let (us, w) = (&net["us"], &net["wit"]);
    let envelope = liaison_core::envelope::Envelope {
        id: "wit-note-1".into(),
        sender: "wit".into(),
        recipient: "us".into(),
        also_to: Vec::new(),
        kind: "note".into(),
        case_id: "wit-case-1".into(),
        created: liaison_node::now_rfc3339(),
        body: note("a witness opening a case"),
        attachments: Vec::new(),
    };
    let signed = envelope.sign(&w.node.store().log_signer()).unwrap();
    // Over the listener: refused whole.
    let client =
        liaison_node::tls::peer_http_client(&w.node.tls(), us.node.tls().fingerprint()).unwrap();
    let answer = client
        .post(format!("{}/federation/v1/envelopes", us.fed_url()))
        .json(&liaison_core::envelope::DeliveryRequest {
            envelopes: vec![signed.clone()],
        })
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    // Past the listener too: the node refuses it and records why.
    let card = us.node.peer("wit").unwrap().unwrap();
    let response = us
        .node
        .receive(
            &card,
            liaison_core::envelope::DeliveryRequest {
                envelopes: vec![signed],
            },
        )
        .await
        .unwrap();
    let refused = format!("{response:?}");
    assert!(refused.contains("not_accepted"), "{refused}");
    assert_eq!(count(&us.node, "envelopes WHERE sender = 'wit'"), 0);
    assert_eq!(count(&us.node, "rejections WHERE peer = 'wit'"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_witness_rotation_cut_short_by_a_crash_is_finished_or_dropped_on_reopening() {
    let net = Net::of(vec![party("us"), witness("wit")]).await;
    let w = &net["wit"];
    let keys = w.dir.join("keys");
    let before = w.node.card();
    // Cosigning keys written but never committed are dropped.
    for file in ["cosigner.key", "cosigner-ml-dsa.key"] {
        std::fs::copy(keys.join(file), keys.join(format!("{file}.new"))).unwrap();
    }
    let reopened = liaison_node::Node::open(&w.dir).unwrap();
    assert_eq!(reopened.card().cosigner_key, before.cosigner_key);
    assert!(!keys.join("cosigner.key.new").exists());
    assert!(!keys.join("cosigner-ml-dsa.key.new").exists());
    drop(reopened);

    // A rotation committed before its files moved is finished, overlap included.
    let what = liaison_node::keys::KeysToRotate {
        cosigner: true,
        ..Default::default()
    };
    w.node.rotate_keys(what, 600).await.unwrap();
    let after = w.node.card();
    for file in ["cosigner", "cosigner-ml-dsa"] {
        std::fs::rename(
            keys.join(format!("{file}.key")),
            keys.join(format!("{file}.key.new")),
        )
        .unwrap();
        std::fs::rename(
            keys.join(format!("{file}-previous.key")),
            keys.join(format!("{file}.key")),
        )
        .unwrap();
    }
    let reopened = liaison_node::Node::open(&w.dir).unwrap();
    assert_eq!(reopened.card().cosigner_key, after.cosigner_key);
    assert_eq!(
        reopened.card().cosigner_key_ml_dsa,
        after.cosigner_key_ml_dsa
    );
    let keys_now = reopened.keys().unwrap();
    assert_eq!(keys_now.previous_cosigner_key, before.cosigner_key);
    assert!(!keys.join("cosigner.key.new").exists());
    // The log key did not change: only the cosigners were named.
    assert_eq!(after.log_key, before.log_key);
}
