//! Attachments: streamed, encrypted at rest, pushed to the recipient and
//! checked against the hash in the signed envelope.

use futures_util::StreamExt as _;
use liaison_core::envelope::AttachmentRef;

use crate::support::*;

async fn content(node: &liaison_node::Node, sha: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut s = Box::pin(node.read_attachment(sha).unwrap());
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attachment_travels_with_its_envelope_and_a_corrupted_one_is_refused() {
    let net = Net::of(vec![
        party("us"),
        party("ru").config(|c| c.attachments.max_bytes = 1_000_000),
    ])
    .await;
    let (us, ru) = (&net["us"], &net["ru"]);

    let evidence: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let path = net.root().join("phishing-kit.zip");
    std::fs::write(&path, &evidence).unwrap();
    let stored = us.node.store_attachment_file(&path).await.unwrap();
    let reference = AttachmentRef {
        sha256: stored.sha256.clone(),
        size: stored.size,
        name: "phishing-kit.zip".into(),
        media_type: "application/zip".into(),
    };
    let case = us
        .node
        .open_case_with(
            &["ru".to_owned()],
            "mla",
            mla_body(None),
            liaison_node::attachments::Attaching::by_operator(vec![reference.clone()]),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(15, "delivery", || {
        count(&us.node, "outbox WHERE state = 'delivered'") == 1
    })
    .await;
    assert_eq!(content(&ru.node, &stored.sha256).await, evidence);
    let env = ru.node.case_detail(&case).unwrap().messages[0]
        .envelope_hash
        .clone();
    let signed: String = ru
        .node
        .store()
        .read(|c| {
            Ok(c.sqlite().query_row(
                "SELECT signed_json FROM envelopes WHERE hash = ?1",
                [&env],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(
        signed.contains(&stored.sha256),
        "the signed envelope carries the hash"
    );

    // In transit, content that does not match its hash is refused and recorded.
    let client =
        liaison_node::tls::peer_http_client(&us.node.tls(), ru.node.tls().fingerprint()).unwrap();
    let claimed = liaison_log::Hash::of_content(b"the real evidence").to_hex();
    let r = client
        .put(format!(
            "{}/federation/v1/attachments/{claimed}",
            ru.fed_url()
        ))
        .body(b"tampered evidence".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("attachment_corrupted"));
    assert_eq!(ru.node.has_attachment(&claimed), None);
    assert_eq!(
        count(&ru.node, "rejections WHERE code = 'attachment_corrupted'"),
        1
    );

    // An envelope whose attachment has not arrived is not accepted (retried later).
    let mut e = liaison_core::envelope::Envelope {
        id: "0000000000c1".into(),
        sender: "us".into(),
        recipient: "ru".into(),
        also_to: Vec::new(),
        kind: "mla".into(),
        case_id: "us-0000000000c1".into(),
        created: "2026-11-23T12:00:00Z".into(),
        body: mla_body(None),
        attachments: vec![],
    };
    e.attachments = vec![AttachmentRef {
        sha256: claimed.clone(),
        size: 17,
        name: "x".into(),
        media_type: "text/plain".into(),
    }];
    let signed = e.sign(&us.node.store().log_signer()).unwrap();
    let r = client
        .post(format!("{}/federation/v1/envelopes", ru.fed_url()))
        .json(&liaison_core::envelope::DeliveryRequest {
            envelopes: vec![signed],
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(count(&ru.node, "envelopes WHERE id = '0000000000c1'"), 0);

    // Size limit.
    let big = vec![0u8; 1_100_000];
    let sha = liaison_log::Hash::of_content(&big).to_hex();
    let r = client
        .put(format!("{}/federation/v1/attachments/{sha}", ru.fed_url()))
        .body(big)
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    assert_eq!(ru.node.has_attachment(&sha), None);

    // The CLI writes a received attachment out.
    let dir = ru.dir.to_str().unwrap().to_owned();
    let out = net.root().join("out.zip");
    let out_s = out.to_str().unwrap().to_owned();
    let sha = stored.sha256.clone();
    let o = tokio::task::spawn_blocking(move || {
        liaison(&["attachment", "get", &dir, &sha, "--out", &out_s])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out).unwrap(), evidence);
}
