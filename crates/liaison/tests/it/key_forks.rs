//! A party cannot show two key histories: an audit reads the party's whole
//! log (checked against its cosigned checkpoint) and finds every key
//! change in it, so a change logged but shown to someone else, two changes
//! of one sequence, and entries that are not the checkpoint's are problems.

use liaison_core::keys::{ChangeKind, KEY_CHANGE_VERSION, KeyChange, card_digest};
use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_log::note::{ED25519, NoteSigner};

use crate::kit::Net;
use crate::support::*;

fn problems(report: &liaison_node::federation::audit::AuditReport) -> Vec<&'static str> {
    report.peers[0].problems.iter().map(|p| p.kind).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_change_logged_but_shown_to_someone_else_is_found_by_the_audit() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let before = us.node.card();
    let old_key = us.node.store().log_signer();
    us.node.rotate_log_key(3600).await.unwrap();
    crate::keys::all_delivered(us).await;
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.peers[0].key_changes_verified, 1);
    let size = report.peers[0].size.unwrap();
    assert_eq!(report.peers[0].log_read_to, size);

    // us logs a second rotation numbered 1, to a key of its choosing, to
    // show another peer; the chain it serves ru does not name it.
    let other = NoteSigner::new(us.node.store().log_origin(), ED25519, [7; 32]).unwrap();
    let mut card = before.clone();
    card.log_key = other.verifier().to_encoded();
    let statement = KeyChange {
        liaison_key_change: KEY_CHANGE_VERSION,
        party: "us".into(),
        sequence: 1,
        previous_card: card_digest(&before).unwrap().to_hex(),
        card,
        change: ChangeKind::Rotation,
        issued_at: liaison_node::now_rfc3339(),
        overlap_until: Some(liaison_node::now_rfc3339()),
        compromised_since: None,
    }
    .sign(&[&old_key, &other])
    .unwrap();
    let leaf = LeafEntry::new(LeafKind::KeyChange, statement.statement.as_bytes()).encode();
    us.node
        .store()
        .write(move |tx| {
            tx.append_leaf(leaf);
            Ok(())
        })
        .await
        .unwrap();
    let wait = std::time::Duration::from_millis(1100);
    tokio::time::sleep(wait).await;
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(!report.ok);
    assert_eq!(problems(&report), ["key_change_hidden"], "{report:#?}");
    assert!(report.peers[0].log_read_to > size);

    // Served beside the first, it is a fork.
    let row = liaison_store::keys::KeyChangeRow {
        party: "us".into(),
        sequence: 1,
        kind: "rotation".into(),
        hash: statement.hash().to_hex(),
        signed: serde_json::to_string(&statement).unwrap(),
        previous_card: serde_json::to_string(&before).unwrap(),
        issued_at: liaison_node::now_rfc3339(),
        overlap_until: None,
        compromised_since: None,
        log_index: size,
        recorded_at: liaison_node::now_rfc3339(),
    };
    us.node
        .store()
        .write(move |tx| liaison_store::keys::record(tx.conn(), &row).map(|_| ()))
        .await
        .unwrap();
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert_eq!(problems(&report), ["key_change_fork"], "{report:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_that_are_not_the_checkpoints_are_found_and_what_was_read_stays() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    for i in 0..300 {
        us.node
            .open_case("ru", "note", note(&format!("note {i}")))
            .await
            .unwrap();
    }
    crate::keys::all_delivered(us).await;
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.ok, "{report:#?}");
    let read = report.peers[0].log_read_to;
    assert!(read > 300, "{read}");
    // More entries, one of them not what us's tree commits to.
    for i in 0..5 {
        us.node
            .open_case("ru", "note", note(&format!("later {i}")))
            .await
            .unwrap();
    }
    crate::keys::all_delivered(us).await;
    us.node
        .store()
        .write(|tx| {
            tx.conn().sqlite().execute(
                "UPDATE log_entries SET data = CAST('envelope ' || lower(hex(randomblob(32))) AS BLOB) WHERE idx = (SELECT max(idx) FROM log_entries)",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let report = ru.node.audit(Some("us"), false).await.unwrap();
    assert!(report.peers[0].size.unwrap() > read);
    assert_eq!(problems(&report), ["bad_entries"], "{report:#?}");
    assert_eq!(report.peers[0].log_read_to, read, "what was checked stays");
}
