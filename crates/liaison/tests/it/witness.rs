//! The witness role over the C2SP tlog-witness protocol.

use liaison_log::Checkpoint;
use liaison_log::mldsa::MlDsaVerifier;
use liaison_log::note::{ED25519, NoteSigner, parse_note};

use crate::support::*;

async fn add_checkpoint(
    client: &reqwest::Client,
    witness_url: &str,
    body: String,
) -> (u16, String) {
    let r = client
        .post(format!("{witness_url}/witness/add-checkpoint"))
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn request(old: u64, proof: &[liaison_log::Hash], note: &str) -> String {
    let mut b = format!("old {old}\n");
    for h in proof {
        b.push_str(&h.to_base64());
        b.push('\n');
    }
    b.push('\n');
    b.push_str(note);
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn witness_cosigns_consistent_checkpoints_and_refuses_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    let w = live_node(tmp.path(), "ewi", "witness").await;
    pin_each_other(&us.node, &ru.node).await;
    // The witness knows us's log; us talks to the witness over mutual TLS.
    w.node.pin_peer(&us.node.card(), false).await.unwrap();
    us.node.pin_peer(&w.node.card(), false).await.unwrap();
    let client =
        liaison_node::tls::peer_http_client(&us.node.tls(), w.node.tls().fingerprint()).unwrap();
    let store = &us.node.store();
    let cosigner = w.node.card().cosigner_key.unwrap();
    let cosigner = liaison_log::note::NoteVerifier::parse(&cosigner).unwrap();

    // First contact: old 0, empty proof → cosigned.
    let note1 = store.checkpoint().unwrap().to_string();
    let (status, body) = add_checkpoint(&client, &w.fed_url(), request(0, &[], &note1)).await;
    assert_eq!(status, 200, "{body}");
    let (_, cosigs) = Checkpoint::open(
        &format!("{note1}{body}"),
        &store.log_signer().verifier(),
        std::slice::from_ref(&cosigner),
    )
    .unwrap();
    assert_eq!(cosigs.len(), 1);
    assert!(cosigs[0].timestamp.is_some());
    // Beside it, the same cosigner's ML-DSA-44 line, by the key on its card.
    let ml_dsa = MlDsaVerifier::parse(&w.node.card().cosigner_key_ml_dsa.unwrap()).unwrap();
    assert_eq!(ml_dsa.name(), cosigner.name());
    let parsed = parse_note(&format!("{note1}{body}")).unwrap();
    let cp1 = Checkpoint::parse_text(&parsed.text).unwrap();
    assert_eq!(body.lines().count(), 2, "{body}");
    assert_eq!(
        ml_dsa.verify_any(&cp1, &parsed.signatures).unwrap(),
        cosigs[0].timestamp.unwrap()
    );

    // The log grows; a wrong old size gets 409 with the witness's size.
    us.node.open_case("ru", "note", note("grow")).await.unwrap();
    let note2 = store.checkpoint().unwrap().to_string();
    let size1 = Checkpoint::open(&note1, &store.log_signer().verifier(), &[])
        .unwrap()
        .0
        .size;
    let size2 = Checkpoint::open(&note2, &store.log_signer().verifier(), &[])
        .unwrap()
        .0
        .size;
    let (status, body) = add_checkpoint(&client, &w.fed_url(), request(0, &[], &note2)).await;
    assert_eq!(
        (status, body.as_str()),
        (409, format!("{size1}\n").as_str())
    );
    // A bad consistency proof gets 422.
    let mut proof = store.consistency_proof(size1, size2).unwrap();
    let good = proof.clone();
    proof[0].0[0] ^= 1;
    let (status, _) = add_checkpoint(&client, &w.fed_url(), request(size1, &proof, &note2)).await;
    assert_eq!(status, 422);
    // The right proof is cosigned.
    let (status, _) = add_checkpoint(&client, &w.fed_url(), request(size1, &good, &note2)).await;
    assert_eq!(status, 200);

    // A checkpoint not signed by the log's key gets 403; an unknown origin 404.
    let forger = NoteSigner::new(store.log_origin(), ED25519, [9; 32]).unwrap();
    let forged = Checkpoint::new(
        store.log_origin(),
        size2 + 1,
        liaison_log::Hash::empty_root(),
    )
    .sign(&forger)
    .unwrap();
    let (status, _) = add_checkpoint(&client, &w.fed_url(), request(size2, &[], &forged)).await;
    assert_eq!(status, 403);
    let stranger = NoteSigner::new("liaison/zz/x", ED25519, [9; 32]).unwrap();
    let unknown = Checkpoint::new("liaison/zz/x", 1, liaison_log::Hash::empty_root())
        .sign(&stranger)
        .unwrap();
    let (status, _) = add_checkpoint(&client, &w.fed_url(), request(0, &[], &unknown)).await;
    assert_eq!(status, 404);
    let (status, _) = add_checkpoint(&client, &w.fed_url(), "garbage".into()).await;
    assert_eq!(status, 400);

    // The background task keeps us's checkpoint cosigned, and ru's audit,
    // with the witness pinned, sees the cosignature.
    ru.node.pin_peer(&w.node.card(), false).await.unwrap();
    us.node
        .open_case("ru", "note", note("again"))
        .await
        .unwrap();
    wait_until(20, "a cosigned checkpoint", || {
        us.node
            .checkpoint_with_cosignatures()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('\u{2014}'))
            .count()
            == 3
    })
    .await;
    // An audit that requires post-quantum witnessing is satisfied.
    let report = ru.node.audit(Some("us"), true).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(
        report.peers[0].cosigned_by,
        vec![cosigner.name().to_owned()]
    );
    assert_eq!(
        report.peers[0].cosigned_by_ml_dsa,
        vec![cosigner.name().to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_can_require_ml_dsa_and_a_witness_must_sign_with_the_key_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    // A witness made before post-quantum keys: an Ed25519 cosigner only.
    let old_dir = tmp.path().join("old");
    let old = live_node_as(
        tmp.path(),
        "old",
        "witness",
        Some(Box::new(move |_| {
            std::fs::remove_file(old_dir.join("keys/cosigner-ml-dsa.key")).unwrap()
        })),
    )
    .await;
    assert!(old.node.card().cosigner_key_ml_dsa.is_none());
    pin_each_other(&us.node, &ru.node).await;
    pin_each_other(&us.node, &old.node).await;
    ru.node.pin_peer(&old.node.card(), false).await.unwrap();
    let witness = us.node.peer("old").unwrap().unwrap();
    us.node.request_cosignature(&witness).await.unwrap();

    // Ed25519 witnessing is enough by default, not when ML-DSA is required.
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(report.peers[0].cosigned_by.len(), 1);
    assert!(report.peers[0].cosigned_by_ml_dsa.is_empty());
    let report = ru.node.audit(Some("us"), true).await.unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.peers[0]
            .problems
            .iter()
            .map(|p| p.kind)
            .collect::<Vec<_>>(),
        ["no_ml_dsa_cosignature"]
    );

    // A card naming an ML-DSA-44 key the witness does not sign with: its
    // answers are refused, nothing is stored.
    let ed =
        liaison_log::note::NoteVerifier::parse(&old.node.card().cosigner_key.unwrap()).unwrap();
    let mut claimed = old.node.card();
    claimed.cosigner_key_ml_dsa = Some(
        liaison_log::mldsa::MlDsaCosigner::new(ed.name(), [7; 32])
            .unwrap()
            .verifier()
            .to_encoded(),
    );
    let (claimed, _) = us.node.pin_peer(&claimed, true).await.unwrap();
    us.node.open_case("ru", "note", note("grow")).await.unwrap();
    let before = us.node.checkpoint_with_cosignatures().unwrap();
    let e = us.node.request_cosignature(&claimed).await.unwrap_err();
    assert!(e.to_string().contains("ML-DSA-44"), "{e}");
    assert_eq!(
        us.node
            .checkpoint_with_cosignatures()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('\u{2014}'))
            .count(),
        1,
        "only the log's own signature on the new checkpoint: {before}"
    );

    // A card whose ML-DSA key is named otherwise than its cosigner is refused.
    let mut misnamed = old.node.card();
    misnamed.cosigner_key_ml_dsa = Some(
        liaison_log::mldsa::MlDsaCosigner::new("liaison/old/other", [7; 32])
            .unwrap()
            .verifier()
            .to_encoded(),
    );
    assert!(liaison_core::card::check_card(&misnamed).is_err());
}
