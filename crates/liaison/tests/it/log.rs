//! The log as others see it: served in the tlog-tiles layout, verified from
//! scratch, tampering caught.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn served_log_verifies_over_http_and_tampering_is_caught() {
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    // Grow the log past a full tile and a level-1 tile.
    for chunk in 0..3u32 {
        us.node
            .store()
            .write(move |tx| {
                for i in 0..200u32 {
                    let e = liaison_core::leaf::LeafEntry::new(
                        liaison_core::leaf::LeafKind::Envelope,
                        &(chunk * 1000 + i).to_be_bytes(),
                    );
                    tx.append_leaf(e.encode());
                }
                Ok(())
            })
            .await
            .unwrap();
    }
    let key = us.node.store().log_signer().verifier().to_encoded();
    let url = format!("{}/log", us.app_url());
    let dir = us.dir.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || liaison(&["log", "verify", &url, "--key", &key]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("602 entries"), "{}", stdout(&out));

    // Without the key a URL cannot be verified; with another key it fails.
    let url = format!("{}/log", us.app_url());
    let out = tokio::task::spawn_blocking(move || liaison(&["log", "verify", &url]))
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--key"));

    // Tamper with one stored entry: the log no longer verifies, and the
    // message says which entry.
    let db = us.dir.join("liaison.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE log_entries SET data = X'00' WHERE idx = 300", [])
        .unwrap();
    drop(conn);
    let out = tokio::task::spawn_blocking(move || liaison(&["log", "verify", &dir]))
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("entry 300 does not hash"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_and_checkpoint_follow_the_c2sp_layout() {
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    let http = reqwest::Client::new();
    let base = us.app_url();
    let cp = http
        .get(format!("{base}/log/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(cp.headers()["content-type"], "text/plain; charset=utf-8");
    let text = cp.text().await.unwrap();
    let (checkpoint, _) =
        liaison_log::Checkpoint::open(&text, &us.node.store().log_signer().verifier(), &[])
            .unwrap();
    // The card and the first directory entry.
    assert_eq!(checkpoint.size, 2);
    let tile = http
        .get(format!("{base}/log/tile/0/000.p/2"))
        .send()
        .await
        .unwrap();
    assert_eq!(tile.status(), 200);
    assert_eq!(tile.bytes().await.unwrap().len(), 64);
    for missing in [
        "tile/0/000",
        "tile/0/000.p/3",
        "tile/entries/001.p/1",
        "tile/0/5",
        "tile/99/000",
    ] {
        let r = http
            .get(format!("{base}/log/{missing}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{missing}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}
