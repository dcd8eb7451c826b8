//! Terrorist-content reports between two real nodes: per-item answers and
//! timers, hashes agreed into the reporting party's list, the list's
//! propagation and withdrawal, and matching of uploads (API, CLI).

use std::process::Command;

use liaison_core::content::ItemStatus;
use serde_json::{Value, json};

use crate::support::*;

/// A photo-like image and a re-encoded, resized copy of it (PIL).
fn images(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let script = "import sys, numpy as np\nfrom PIL import Image, ImageDraw\n\
        rng = np.random.default_rng(7)\n\
        a = (rng.random((60, 80, 3)) * 255).astype('uint8')\n\
        img = Image.fromarray(a).resize((640, 480), Image.BICUBIC)\n\
        d = ImageDraw.Draw(img)\n\
        d.ellipse([100, 100, 300, 260], fill=(200, 30, 30))\n\
        img.save(sys.argv[1] + '/orig.png')\n\
        img.resize((500, 375)).save(sys.argv[1] + '/copy.jpg', quality=85)\n\
        Image.new('RGB', (300, 200), (120, 120, 120)).save(sys.argv[1] + '/flat.png')\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
    (read("orig.png"), read("copy.jpg"), read("flat.png"))
}

fn items_of(node: &liaison_node::Node, case: &str) -> Vec<liaison_node::content::ItemView> {
    node.case_detail(case).unwrap().items.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_is_answered_per_item_and_agreed_hashes_match_everywhere_until_withdrawn() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let (usn, run) = (&us.node, &ru.node);

    let (orig, copy, flat) = images(net.root());
    let pdq = liaison_core::pdq::hash_image(&orig).unwrap();
    assert!(pdq.quality >= 80);
    let sha256 = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&orig))
    };

    // Bad reports are refused before anything is sent, naming the item.
    let mut bad = report_with(&pdq.hash.to_hex(), &sha256, &"cd".repeat(16));
    bad["items"][1]["quality"] = json!(20);
    let e = usn
        .open_case("ru", "content_report", bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("items[1].quality"), "{e}");

    let case = usn
        .open_case(
            "ru",
            "content_report",
            report_with(&pdq.hash.to_hex(), &sha256, &"cd".repeat(16)),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(10, "delivery", || {
        run.case_detail(&case)
            .is_ok_and(|d| d.case.state == "delivered")
    })
    .await;
    let items = items_of(run, &case);
    assert_eq!(items.len(), 4);
    assert!(
        items
            .iter()
            .all(|i| i.state.status == ItemStatus::Alerted && i.due.is_some())
    );
    // The removal order's hour runs first.
    assert!(items[0].due < items[2].due && items[2].due < items[1].due);
    assert_eq!(
        run.case_detail(&case).unwrap().deadlines[0].name,
        "removal_order"
    );

    // Only the provider's side answers, and only moves that make sense.
    let e = usn
        .answer_items(
            &case,
            json!({"answers": [{"item": 0, "status": "removed"}]}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("only ru"), "{e}");
    for (body, says) in [
        (
            json!({"answers": [{"item": 9, "status": "removed"}]}),
            "no item 9",
        ),
        (
            json!({"answers": [{"item": 2, "status": "disputed"}]}),
            "answers[0].reason",
        ),
        (
            json!({"answers": [{"item": 0, "status": "alerted"}]}),
            "alerted",
        ),
    ] {
        let e = run.answer_items(&case, body).await.unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
    run.answer_items(
        &case,
        json!({"answers": [{"item": 0, "status": "checked"}]}),
    )
    .await
    .unwrap();
    run.answer_items(
        &case,
        json!({"answers": [
            {"item": 0, "status": "removed"},
            {"item": 1, "status": "removed", "reason": "Removed and hashed"},
            {"item": 2, "status": "disputed", "reason": "A chemistry lecture, not instructions"},
            {"item": 3, "status": "still_online"}
        ]}),
    )
    .await
    .unwrap();
    let e = run
        .answer_items(
            &case,
            json!({"answers": [{"item": 0, "status": "still_online"}]}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("removed cannot become still_online"), "{e}");

    // Both sides see the same statuses.
    wait_until(10, "answers on us", || {
        items_of(usn, &case)[3].state.status == ItemStatus::StillOnline
    })
    .await;
    let (a, b) = (items_of(usn, &case), items_of(run, &case));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.state, y.state);
    }
    assert_eq!(a[2].state.reason, "A chemistry lecture, not instructions");
    assert!(a[0].due.is_none() && a[3].due.is_some());

    // The agreed PDQ hash joins us's list and reaches ru's copy; disputed
    // and still-online hashes do not.
    wait_until(15, "the hash list on ru", || {
        run.hash_list(Some("us"), false, 10, 0, liaison_core::tlp::Tlp::Red)
            .is_ok_and(|l| l.len() == 1)
    })
    .await;
    let entry = &usn
        .hash_list(Some("us"), false, 10, 0, liaison_core::tlp::Tlp::Red)
        .unwrap()[0];
    assert_eq!(entry.entry_id, format!("{case}#1"));
    assert_eq!(entry.kind, "pdq");
    assert_eq!(
        items_of(usn, &case)[1].listed_as.as_deref(),
        Some(entry.entry_id.as_str())
    );

    // A provider at ru checks an upload: a re-encoded, resized copy matches.
    let found = run
        .lookup_image(&copy, None, liaison_core::tlp::Tlp::Red)
        .unwrap();
    assert_eq!(found.matches.len(), 1, "{found:?}");
    assert!(found.matches[0].distance <= 31);
    assert_eq!(found.matches[0].entry.owner, "us");
    // The disputed file's SHA-256 is not on the list.
    let by_sha = run
        .lookup(
            &liaison_node::content::HashQuery {
                sha256: Some(sha256.clone()),
                ..Default::default()
            },
            liaison_core::tlp::Tlp::Red,
        )
        .unwrap();
    assert!(by_sha.matches.is_empty());
    // A flat image has nothing to match on.
    let e = run
        .lookup_image(&flat, None, liaison_core::tlp::Tlp::Red)
        .unwrap_err()
        .to_string();
    assert!(e.contains("quality"), "{e}");

    // Through the API, as a provider liaison would, with the image itself.
    let token = crate::api::token(&ru.node, "isp", "provider_liaison").await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/hashes/lookup", ru.app_url());
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "image/jpeg")
        .body(copy.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["matches"][0]["entry_id"], json!(format!("{case}#1")));
    assert_eq!(v["radius"], 31);
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"pdq": pdq.hash.to_hex(), "radius": 0}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["matches"][0]["distance"], 0);
    for (body, ctype, status) in [
        (b"not json".to_vec(), "application/json", 400),
        (flat.clone(), "image/png", 422),
        (b"GIF89a".to_vec(), "image/gif", 415),
        (b"x".to_vec(), "text/plain", 415),
    ] {
        let r = http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{ctype}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Providers cannot withdraw a party's entries.
    let r = http
        .post(format!("{}/api/v1/hashes/withdraw", ru.app_url()))
        .bearer_auth(&token)
        .json(&json!({"entry_ids": [entry.entry_id], "reason": "no"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // us withdraws the entry: it stops matching on ru too.
    assert_eq!(
        usn.withdraw_hashes(vec![entry.entry_id.clone()], "Listed in error")
            .await
            .unwrap(),
        1
    );
    assert!(
        usn.lookup_image(&copy, None, liaison_core::tlp::Tlp::Red)
            .unwrap()
            .matches
            .is_empty()
    );
    wait_until(15, "the withdrawal on ru", || {
        run.lookup_image(&copy, None, liaison_core::tlp::Tlp::Red)
            .is_ok_and(|r| r.matches.is_empty())
    })
    .await;
    let on_ru = run
        .hash_list(Some("us"), true, 10, 0, liaison_core::tlp::Tlp::Red)
        .unwrap();
    assert_eq!(on_ru[0].withdraw_reason.as_deref(), Some("Listed in error"));
    // ru cannot withdraw us's entry: its own list has no such entry.
    assert!(
        run.withdraw_hashes(vec![entry.entry_id.clone()], "x")
            .await
            .is_err()
    );

    // Every hash-list change is an envelope in both logs; audits stay clean.
    for node in [usn, run] {
        assert_eq!(
            count(node, "envelopes WHERE kind = 'hashlist'"),
            2,
            "{}",
            node.party()
        );
        assert!(node.audit(None, false).await.unwrap().ok);
    }

    // The web UI: a Russian provider liaison sees the items, answers one,
    // and checks an upload on the hash page.
    let provider = Page::new(run, ru.app_url(), "isp-ui", "provider_liaison", "ru").await;
    let (status, page) = provider.get(&format!("/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Материалы в сообщении") && page.contains("оспорено"),
        "{page}"
    );
    assert!(
        page.contains("item-answer"),
        "the provider may answer open items"
    );
    let (status, _) = provider
        .post(
            &format!("/cases/{case}/items"),
            &[("item", "3"), ("status", "removed")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(items_of(run, &case)[3].state.status, ItemStatus::Removed);
    let (status, page) = provider
        .post(
            &format!("/cases/{case}/items"),
            &[("item", "2"), ("status", "removed")],
        )
        .await;
    assert_eq!(status, 303, "a disputed item may still be removed: {page}");
    let (status, page) = provider
        .post(
            &format!("/cases/{case}/items"),
            &[("item", "0"), ("status", "checked")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("role=\"alert\""), "{page}");
    let (status, page) = provider
        .post_file(
            "/hashes/lookup",
            &[("radius", "31")],
            ("image", "copy.jpg", &copy),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("id=\"no-match\""),
        "withdrawn: no match any more"
    );
    let (status, page) = provider
        .post_file("/hashes/lookup", &[], ("image", "flat.png", &flat))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("hashes-error"), "{page}");
    let observer = Page::new(run, ru.app_url(), "watcher", "observer", "en").await;
    assert_eq!(observer.get("/hashes").await.0, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_removal_order_escalates_when_its_hour_is_up() {
    let net = Net::of(vec![
        party("us"),
        party("ru").config(|c| c.content.removal_order_minutes = 0),
    ])
    .await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let case = us
        .node
        .open_case("ru", "content_report", report_body())
        .await
        .unwrap()
        .case_id;
    wait_until(10, "delivery", || {
        ru.node
            .case_detail(&case)
            .is_ok_and(|d| d.case.state == "delivered")
    })
    .await;
    // Times are kept to the second: let the zero-minute deadline pass.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    ru.node.check_deadlines().await.unwrap();
    assert_eq!(
        count(
            &ru.node,
            &format!(
                "escalations WHERE subject = '{case}' AND deadline = 'removal_order' AND level = 'hard'"
            )
        ),
        1
    );
    // The other tiers still have time.
    assert_eq!(
        count(&ru.node, "escalations WHERE deadline = 'removal_standard'"),
        0
    );
    let items = items_of(&ru.node, &case);
    assert!(items[0].overdue && !items[1].overdue);
    // Answering the item stops its timer.
    ru.node
        .answer_items(
            &case,
            json!({"answers": [{"item": 0, "status": "removed"}]}),
        )
        .await
        .unwrap();
    let names: Vec<&str> = ru
        .node
        .case_detail(&case)
        .unwrap()
        .deadlines
        .iter()
        .map(|d| d.name)
        .collect();
    assert!(!names.contains(&"removal_order"), "{names:?}");
}

#[test]
fn the_cli_matches_images_against_the_list() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("n");
    let out = liaison(&[
        "init",
        dir.to_str().unwrap(),
        "--party",
        "us",
        "--name",
        "US",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (orig, copy, flat) = images(tmp.path());
    let _ = orig;
    std::fs::write(tmp.path().join("copy.jpg"), &copy).unwrap();
    std::fs::write(tmp.path().join("flat.png"), &flat).unwrap();
    let copy_path = tmp.path().join("copy.jpg");
    // An empty list matches nothing; exit 0.
    let out = liaison(&[
        "hash",
        "match",
        dir.to_str().unwrap(),
        copy_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("no match"), "{}", stdout(&out));
    let out = liaison(&[
        "--json",
        "hash",
        "match",
        dir.to_str().unwrap(),
        "--pdq",
        PDQ,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v[0]["matches"], json!([]));
    let out = liaison(&["hash", "match", dir.to_str().unwrap(), "--pdq", "xyz"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("64 hex digits"), "{}", stderr(&out));
    let flat_path = tmp.path().join("flat.png");
    let out = liaison(&[
        "hash",
        "match",
        dir.to_str().unwrap(),
        flat_path.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("quality"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_another_process_adds_reach_the_serving_index() {
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    let query = liaison_node::content::HashQuery {
        pdq: Some(PDQ.to_owned()),
        ..Default::default()
    };
    // The serving node loads its (empty) index.
    assert!(
        us.node
            .lookup(&query, liaison_core::tlp::Tlp::Red)
            .unwrap()
            .matches
            .is_empty()
    );
    // Another process (the CLI) writes to the same database.
    let other = liaison_node::Node::open(&us.dir).unwrap();
    other
        .store()
        .write(|tx| {
            liaison_store::hashes::add(
                tx.conn(),
                &liaison_store::hashes::HashRow {
                    id: 0,
                    owner: "ru".into(),
                    entry_id: "ru-abc#0".into(),
                    kind: "pdq".into(),
                    value: PDQ.into(),
                    entity: String::new(),
                    behaviour: "threat".into(),
                    urgency: "standard".into(),
                    origin_case: String::new(),
                    added_at: "2026-11-23T00:00:00Z".into(),
                    withdrawn_at: None,
                    withdraw_reason: None,
                    tlp: "clear".into(),
                },
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let found = us.node.lookup(&query, liaison_core::tlp::Tlp::Red).unwrap();
    assert_eq!(found.matches.len(), 1);
    assert_eq!(found.matches[0].entry.entry_id, "ru-abc#0");
    // And a withdrawal by the other process is honoured at once.
    other
        .store()
        .write(|tx| {
            liaison_store::hashes::withdraw(
                tx.conn(),
                "ru",
                &["ru-abc#0".into()],
                "error",
                "2026-11-23T00:00:01Z",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    assert!(
        us.node
            .lookup(&query, liaison_core::tlp::Tlp::Red)
            .unwrap()
            .matches
            .is_empty()
    );
}
