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
