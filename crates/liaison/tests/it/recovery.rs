//! Recovery between real nodes: the offline recovery key revokes a stolen
//! log key (everything the revoked key signs is then refused, what was
//! accepted from it since the compromise is flagged) and replaces itself.

use std::os::unix::fs::PermissionsExt as _;

use liaison_core::envelope::Envelope;
use liaison_log::note::{ED25519, NoteSigner};
use liaison_node::now_rfc3339;

use crate::keys::{all_delivered, note_to, pinned_log_key};
use crate::kit::Net;
use crate::support::*;

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
    assert_flagged(ru, 1);
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

/// `node` raised a `revoked_key` alert counting `n` envelopes accepted
/// from the revoked key since the compromise.
fn assert_flagged(node: &LiveNode, n: usize) {
    let alerts = node.node.alerts(false).unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "revoked_key" && a.message.contains(&format!("{n} envelope"))),
        "{alerts:?}"
    );
}

/// What a thief holding `us`'s log key (and its TLS key, which it keeps
/// using) says first: a rotation to a key of its own, and, with `new_cert`,
/// to a certificate of its own. Delivered to `to` as `us`'s node would.
/// Returns when the compromise began, the stolen key and the thief's.
async fn thief_rotates(
    us: &LiveNode,
    to: &LiveNode,
    new_cert: bool,
) -> (String, NoteSigner, NoteSigner) {
    let since = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - 1)
        .unwrap()
        .to_string();
    let stolen = us.node.store().log_signer();
    let thiefs = NoteSigner::new(&us.node.card().log_origin, ED25519, [7; 32]).unwrap();
    let (stolen, thiefs) = (&stolen, &thiefs);
    use liaison_core::keys::{
        ChangeKind, KEY_CHANGE, KEY_CHANGE_VERSION, KeyChange, KeyChangeNotice, card_digest,
        key_change_case,
    };
    let previous = us.node.card();
    let mut card = previous.clone();
    card.log_key = thiefs.verifier().to_encoded();
    if new_cert {
        let (pem, _) =
            liaison_node::tls::generate_self_signed(&us.node.party().clone(), "thief").unwrap();
        let der = liaison_core::card::pem_certificate_der(&pem).unwrap();
        card.tls_fingerprint = liaison_log::Hash(liaison_core::card::fingerprint(&der)).to_hex();
        card.tls_certificate = pem;
    }
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let statement = KeyChange {
        liaison_key_change: KEY_CHANGE_VERSION,
        party: "us".into(),
        sequence: 1,
        previous_card: card_digest(&previous).unwrap().to_hex(),
        card,
        change: ChangeKind::Rotation,
        issued_at: now.to_string(),
        // No overlap: the owner's keys stop working at once.
        overlap_until: Some(now.to_string()),
        compromised_since: None,
    }
    .sign(&[stolen, thiefs])
    .unwrap();
    let envelope = Envelope {
        id: "thiefrotation".into(),
        sender: "us".into(),
        recipient: to.node.party().to_string(),
        also_to: vec![],
        kind: KEY_CHANGE.into(),
        case_id: key_change_case("us"),
        created: now_rfc3339(),
        body: serde_json::to_value(KeyChangeNotice {
            change: statement,
            log_index: 0,
        })
        .unwrap(),
        attachments: vec![],
    }
    .sign(stolen)
    .unwrap();
    let response = deliver(&us.node, to, vec![envelope]).await;
    assert!(response.results[0].receipt.is_some(), "{response:?}");
    assert_eq!(pinned_log_key(to, "us"), thiefs.verifier().to_encoded());
    (since, stolen.clone(), thiefs.clone())
}

fn revoke(us: &LiveNode, since: &str) -> String {
    let done = liaison(&[
        "--json",
        "key",
        "revoke",
        us.dir.to_str().unwrap(),
        "--recovery-key",
        us.dir.join("keys/recovery.key").to_str().unwrap(),
        "--compromised-since",
        since,
    ]);
    assert!(done.status.success(), "{}", stderr(&done));
    us.node.reload_log_keys().unwrap();
    let done: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    done["change"]["new_log_key"].as_str().unwrap().to_owned()
}

/// `n` notes from us to ru signed by `key`, their ids starting `prefix`.
fn signed_notes(
    prefix: &str,
    key: &NoteSigner,
    n: usize,
) -> Vec<liaison_core::envelope::SignedEnvelope> {
    (0..n)
        .map(|i| {
            Envelope {
                id: format!("{prefix}{i:02}"),
                sender: "us".into(),
                recipient: "ru".into(),
                also_to: vec![],
                kind: "note".into(),
                case_id: format!("us-{prefix}{i:02}"),
                created: now_rfc3339(),
                body: note(&format!("the thief's {i}")),
                attachments: vec![],
            }
            .sign(key)
            .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thief_that_rotates_first_is_superseded_by_the_owners_revocation() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let (since, stolen, thiefs) = thief_rotates(us, ru, false).await;
    // The thief speaks for us now.
    let accepted = deliver(&us.node, ru, signed_notes("thiefnote", &thiefs, 1)).await;
    assert!(accepted.results[0].receipt.is_some(), "{accepted:?}");

    // The owner's revocation names change 1, which the thief took; it is
    // signed by the recovery key, which the thief's card had to keep.
    let new_key = revoke(us, &since);
    wait_until(20, "ru follows the owner's revocation", || {
        pinned_log_key(ru, "us") == new_key
    })
    .await;
    let history = ru.node.key_history("us").unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.sequence, h.kind.as_str()))
            .collect::<Vec<_>>(),
        [(1, "rotation"), (1, "revocation")]
    );
    // Neither the thief's key nor the stolen one gets anything in.
    for (prefix, key) in [("thiefs", &thiefs), ("stolen", &stolen)] {
        let refused = deliver(&us.node, ru, signed_notes(prefix, key, 10)).await;
        assert!(
            refused
                .results
                .iter()
                .all(|r| r.error.is_some() && r.receipt.is_none()),
            "{refused:?}"
        );
    }
    // What the thief's key signed since the compromise is flagged.
    assert_flagged(ru, 1);
    // The owner goes on: a note, then a rotation that follows change 1.
    note_to(us, "ru", "after the revocation").await;
    all_delivered(us).await;
    let rotated = us.node.rotate_log_key(60).await.unwrap();
    assert_eq!(rotated.sequence, 2);
    wait_until(20, "ru follows the owner's rotation", || {
        pinned_log_key(ru, "us") == rotated.new_log_key
    })
    .await;
    all_delivered(us).await;
    // The audit finds the owner's chain in its log, and the thief's
    // rotation (in no log of us's) counted apart, not as a problem.
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(report.peers[0].key_changes_verified, 2);
    assert_eq!(report.peers[0].key_changes_revoked, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_goes_by_file_when_the_thief_took_the_certificate_too() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let (since, _, thiefs) = thief_rotates(us, ru, true).await;
    let new_key = revoke(us, &since);
    // ru pins the thief's certificate now: us cannot get through.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(pinned_log_key(ru, "us"), thiefs.verifier().to_encoded());

    // The owner writes its chain to a file; ru's operator follows it.
    let file = net.root().join("us-keys.json");
    let out = liaison(&[
        "key",
        "export",
        us.dir.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A file that was tampered with is refused and changes nothing.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("compromised_since"), "{text}");
    let tampered = net.root().join("tampered.json");
    std::fs::write(
        &tampered,
        text.replace(
            "compromised_since\\\":\\\"20",
            "compromised_since\\\":\\\"19",
        ),
    )
    .unwrap();
    let refused = liaison(&[
        "key",
        "follow",
        ru.dir.to_str().unwrap(),
        tampered.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert_eq!(pinned_log_key(ru, "us"), thiefs.verifier().to_encoded());
    let followed = liaison(&[
        "--json",
        "key",
        "follow",
        ru.dir.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(followed.status.success(), "{}", stderr(&followed));
    let followed: serde_json::Value = serde_json::from_slice(&followed.stdout).unwrap();
    assert_eq!(followed["party"], "us");
    assert_eq!(followed["followed"], 1);
    assert_eq!(followed["log_key"], new_key.as_str());
    assert_eq!(
        ru.node.peer("us").unwrap().unwrap().card.tls_fingerprint,
        us.node.card().tls_fingerprint
    );
    // Following it again changes nothing.
    let again = liaison(&[
        "--json",
        "key",
        "follow",
        ru.dir.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["followed"], 0);
    // Online again: the revocation's envelope, already followed, is
    // receipted; a new note arrives.
    note_to(us, "ru", "back online").await;
    all_delivered(us).await;
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{:#?}", report.peers);
    assert_eq!(report.peers[0].key_changes_revoked, 1);
}
