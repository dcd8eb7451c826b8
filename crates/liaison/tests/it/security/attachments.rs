//! Attachments: readable only through the cases that list them (the
//! strictest marking wins), named only canonically, attachable only by who
//! may read them, and bounded per user and per peer.

use liaison_core::envelope::AttachmentRef;
use liaison_core::tlp::Tlp;
use liaison_node::attachments::Attaching;
use serde_json::json;

use crate::support::*;

fn evidence(seed: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

async fn attach(node: &liaison_node::Node, dir: &std::path::Path, bytes: &[u8]) -> AttachmentRef {
    let path = dir.join(format!("{}.bin", bytes.len()));
    std::fs::write(&path, bytes).unwrap();
    let stored = node.store_attachment_file(&path).await.unwrap();
    AttachmentRef {
        sha256: stored.sha256,
        size: stored.size,
        name: "evidence \"final\".bin".into(),
        media_type: "text/html".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_red_attachment_stays_red_whatever_else_names_it() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let secret = evidence(1, 70_000);
    let red_file = attach(&us.node, net.root(), &secret).await;
    let sha = red_file.sha256.clone();
    let red = us
        .node
        .open_case_with(
            &["ru".to_owned()],
            "incident",
            incident_body("TLP:RED"),
            Attaching::by_operator(vec![red_file.clone()]),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(15, "the RED incident on ru", || {
        ru.node.has_attachment(&sha).is_some()
            && count(&ru.node, &format!("cases WHERE id = '{red}'")) == 1
    })
    .await;
    let green = Api::as_user(&ru.node, ru.app_url(), "gina", "cert_analyst").await;
    ru.node
        .set_user_clearance("gina", Some(Tlp::Green))
        .await
        .unwrap();
    let path = |s: &str| format!("/api/v1/attachments/{s}");
    assert_eq!(green.get_bytes(&path(&sha)).await.0, 404);
    assert_eq!(green.get_bytes(&path(&sha.to_uppercase())).await.0, 404);
    assert_eq!(
        green.get_bytes(&path(&format!("+{}", &sha[1..]))).await.0,
        404
    );

    // A CLEAR note mentioning the hash, then a CLEAR note of the peer that
    // attaches the same file: the RED case still lists it, so RED wins.
    us.node
        .open_case("ru", "note", note(&format!("see attachment {sha}")))
        .await
        .unwrap();
    us.node
        .open_case_with(
            &["ru".to_owned()],
            "note",
            note("the same file, unmarked"),
            Attaching::by_operator(vec![red_file.clone()]),
        )
        .await
        .unwrap();
    wait_until(15, "the notes on ru", || {
        count(&ru.node, "cases WHERE kind = 'note'") == 2
    })
    .await;
    assert_eq!(green.get_bytes(&path(&sha)).await.0, 404);

    // The GREEN reader cannot attach the RED file to a note of its own.
    let (status, body) = green
        .post(
            "/api/v1/cases",
            json!({"to": "us", "kind": "note", "body": note("forwarding"),
                   "attachments": [red_file]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        count(&ru.node, "cases WHERE kind = 'note' AND outgoing = 1"),
        0
    );

    // Its own upload, listed by no case, is not readable either.
    let (status, up) = green.upload(b"my own notes".to_vec()).await;
    assert_eq!(status, 201, "{up}");
    let own = up["sha256"].as_str().unwrap().to_owned();
    assert_eq!(green.get_bytes(&path(&own)).await.0, 404);

    // A reader cleared for RED downloads it, as an attachment that is not
    // rendered, and the read is recorded first.
    let red_reader = Api::as_user(&ru.node, ru.app_url(), "olga", "cert_analyst").await;
    let r = red_reader
        .http
        .get(format!("{}{}", ru.app_url(), path(&sha)))
        .bearer_auth(&red_reader.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), secret);
    let reads = ru.node.tlp_reads(100).unwrap();
    assert!(
        reads.iter().any(|r| r.username == "olga"
            && r.object == format!("attachment:{sha}")
            && r.tlp == "red"
            && r.via == "api"),
        "{reads:?}"
    );
    assert!(!reads.iter().any(|r| r.username == "gina"));

    // The case page's link works for a signed-in browser user.
    let page = Page::new(&ru.node, ru.app_url(), "vera", "cert_analyst", "en").await;
    let (_, html) = page.get(&format!("/cases/{red}")).await;
    assert!(html.contains(&format!("/attachments/{sha}")), "no link");
    let (status, body) = page.get_bytes(&format!("/attachments/{sha}")).await;
    assert_eq!(status, 200);
    assert_eq!(body, secret);
    let low = Page::new(&ru.node, ru.app_url(), "lena", "provider_liaison", "en").await;
    assert_eq!(low.get(&format!("/attachments/{sha}")).await.0, 404);
    assert!(
        ru.node
            .tlp_reads(100)
            .unwrap()
            .iter()
            .any(|r| r.username == "vera" && r.via == "ui")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn peers_and_users_are_held_to_quotas_cannot_probe_and_witnesses_push_nothing() {
    let net = Net::of(vec![
        party("us"),
        witness("wit"),
        party("ru").config(|c| {
            c.attachments.peer_pending_bytes = 120_000;
            c.attachments.user_pending_bytes = 50_000;
            c.attachments.unreferenced_hours = 0;
        }),
    ])
    .await;
    let (us, wit, ru) = (&net["us"], &net["wit"], &net["ru"]);
    let from_us =
        liaison_node::tls::peer_http_client(&us.node.tls(), ru.node.tls().fingerprint()).unwrap();
    let from_wit =
        liaison_node::tls::peer_http_client(&wit.node.tls(), ru.node.tls().fingerprint()).unwrap();
    let url = |sha: &str| format!("{}/federation/v1/attachments/{sha}", ru.fed_url());
    let sha_of = |b: &[u8]| liaison_log::Hash::of_content(b).to_hex();

    // A file a ru user uploaded: a peer cannot learn that ru holds it.
    let user = Api::as_user(&ru.node, ru.app_url(), "gina", "legal_officer").await;
    let private = evidence(9, 30_000);
    assert_eq!(user.upload(private.clone()).await.0, 201);
    let r = from_us.head(url(&sha_of(&private))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = from_us.get(url(&sha_of(&private))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // Pushing the same bytes is checked in full like any other push.
    let r = from_us
        .put(url(&sha_of(&private)))
        .body(private.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        from_us
            .head(url(&sha_of(&private)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A user's quota of unlisted uploads.
    let (status, body) = user.upload(evidence(10, 15_000)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = user.upload(evidence(11, 15_000)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "quota_exceeded");

    // A peer's quota of pushed files no envelope lists.
    for seed in 0..2 {
        let b = evidence(20 + seed, 40_000);
        let r = from_us.put(url(&sha_of(&b))).body(b).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    let b = evidence(30, 40_000);
    let r = from_us
        .put(url(&sha_of(&b)))
        .body(b.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(ru.node.has_attachment(&sha_of(&b)), None);

    // Witnesses hold no attachments: neither push nor probe.
    let w = evidence(40, 1000);
    let r = from_wit
        .put(url(&sha_of(&w)))
        .body(w.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = from_wit.head(url(&sha_of(&private))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(ru.node.has_attachment(&sha_of(&w)), None);

    // Unlisted files expire, which frees the quotas.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let removed = ru.node.sweep_attachments().await.unwrap();
    assert!(removed >= 4, "{removed}");
    assert_eq!(ru.node.has_attachment(&sha_of(&private)), None);
    assert_eq!(user.upload(evidence(12, 15_000)).await.0, 201);
    // A listed attachment stays.
    let listed = attach(&us.node, net.root(), &evidence(50, 20_000)).await;
    let case = us
        .node
        .open_case_with(
            &["ru".to_owned()],
            "mla",
            mla_body(None),
            Attaching::by_operator(vec![listed.clone()]),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(15, "the MLA request on ru", || {
        count(&ru.node, &format!("cases WHERE id = '{case}'")) == 1
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    ru.node.sweep_attachments().await.unwrap();
    assert!(ru.node.has_attachment(&listed.sha256).is_some());
}
