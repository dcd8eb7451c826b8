//! Cases among several parties: the roster an opening makes, one delivery
//! and one receipt per recipient, every later envelope to every other
//! participant, and a message that reaches a participant before the case it
//! belongs to waiting for it.

use liaison_core::envelope::SignedEnvelope;
use liaison_node::Node;
use serde_json::{Value, json};

use crate::support::*;

/// Whether every recipient of every outgoing envelope of `case` on `node`
/// has stored its receipt.
fn all_receipted(node: &Node, case: &str) -> bool {
    node.case_detail(case).is_ok_and(|d| {
        d.messages
            .iter()
            .filter(|m| m.direction == "out")
            .all(|m| !m.receipts.is_empty() && m.receipts.iter().all(|r| r.delivery == "delivered"))
    })
}

fn hashes(node: &Node, case: &str) -> Vec<String> {
    let Ok(detail) = node.case_detail(case) else {
        return Vec::new();
    };
    let mut h: Vec<String> = detail
        .messages
        .into_iter()
        .map(|m| m.envelope_hash)
        .collect();
    h.sort();
    h
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_among_three_parties_reaches_each_and_each_receipts_it() {
    let net = Net::with(&["us", "ru", "ngo"]).await;
    let (us, ru, ngo) = (&net["us"].node, &net["ru"].node, &net["ngo"].node);
    let sent = us
        .open_case_with(
            &["ru".into(), "ngo".into()],
            "note",
            note("Three-way"),
            Default::default(),
        )
        .await
        .unwrap();
    let case = sent.case_id.clone();
    wait_until(20, "both receipts", || all_receipted(us, &case)).await;
    let detail = us.case_detail(&case).unwrap();
    let roster: Vec<(String, &str)> = detail
        .participants
        .iter()
        .map(|p| (p.party.clone(), p.role.as_str()))
        .collect();
    assert_eq!(
        roster,
        [
            ("us".to_owned(), "requesting"),
            ("ru".to_owned(), "requested"),
            ("ngo".to_owned(), "requested")
        ]
    );
    let opening = &detail.messages[0];
    assert_eq!(opening.recipients, ["ru", "ngo"]);
    let per: Vec<(&str, bool)> = opening
        .receipts
        .iter()
        .map(|r| (r.party.as_str(), r.receipt_verified == Some(true)))
        .collect();
    assert_eq!(per, [("ru", true), ("ngo", true)]);
    // The two receipts are different proofs: each in its recipient's own log.
    assert_ne!(opening.receipts[0].receipt, opening.receipts[1].receipt);

    // A reply from one recipient goes to every other participant.
    wait_until(10, "ngo holds the case", || ngo.case_detail(&case).is_ok()).await;
    let reply = ngo.reply(&case, note("Seen by the NGO")).await.unwrap();
    wait_until(20, "the reply's receipts", || all_receipted(ngo, &case)).await;
    let on_ngo = ngo.case_detail(&case).unwrap();
    let mine = on_ngo
        .messages
        .iter()
        .find(|m| m.id == reply.envelope_id)
        .unwrap();
    assert_eq!(mine.recipients, ["us", "ru"]);
    assert_eq!(on_ngo.role, "requested");
    for node in [us, ru] {
        wait_until(10, "the reply arrives", || hashes(node, &case).len() == 2).await;
    }
    // Everyone holds the same signed envelopes.
    assert_eq!(hashes(us, &case), hashes(ru, &case));
    assert_eq!(hashes(us, &case), hashes(ngo, &case));
    // `case show --json` lists participants and each recipient's receipt.
    let out = liaison(&[
        "--json",
        "case",
        "show",
        net["us"].dir.to_str().unwrap(),
        &case,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["participants"].as_array().unwrap().len(), 3);
    assert_eq!(shown["messages"][0]["receipts"][1]["party"], "ngo");
    assert_eq!(shown["messages"][0]["receipts"][1]["delivery"], "delivered");
    let text = stdout(&liaison(&[
        "case",
        "show",
        net["us"].dir.to_str().unwrap(),
        &case,
    ]));
    assert!(
        text.contains(
            "Participants: us (Requesting party), ru (Requested party), ngo (Requested party)"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_content_report_to_two_providers_is_answered_by_each_for_itself() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("us-isp").config(kind_of("provider", "US")),
        party("ru-isp").config(kind_of("provider", "RU")),
        party("ngo").config(kind_of("expert", "DE")),
    ])
    .await;
    let (us, a, b) = (&net["us"].node, &net["us-isp"].node, &net["ru-isp"].node);
    let case = us
        .open_case_with(
            &["us-isp".into(), "ru-isp".into()],
            "content_report",
            report_body(),
            Default::default(),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(20, "both providers' receipts", || all_receipted(us, &case)).await;
    for p in [a, b] {
        wait_until(10, "the report arrives", || p.case_detail(&case).is_ok()).await;
    }
    // One provider removed the hashed item, the other did not find it.
    a.answer_items(
        &case,
        json!({"answers": [{"item": 1, "status": "removed"}]}),
    )
    .await
    .unwrap();
    b.answer_items(
        &case,
        json!({"answers": [{"item": 1, "status": "checked"}]}),
    )
    .await
    .unwrap();
    let states = |node: &Node| -> Vec<(String, String)> {
        node.case_detail(&case).unwrap().items.unwrap()[1]
            .by_provider
            .iter()
            .map(|p| (p.party.clone(), p.state.status.as_str().to_owned()))
            .collect()
    };
    let expected = vec![
        ("us-isp".to_owned(), "removed".to_owned()),
        ("ru-isp".to_owned(), "checked".to_owned()),
    ];
    for node in [us, a, b] {
        wait_until(20, "both answers everywhere", || states(node) == expected).await;
    }
    // The reporter's page shows each provider's answer, in both languages.
    let officer = Page::new(us, net["us"].app_url(), "ana", "legal_officer", "en").await;
    let (_, page) = officer.get(&format!("/cases/{case}")).await;
    assert!(page.contains("us-isp: removed · ru-isp: checked"), "{page}");
    let officer_ru = Page::new(us, net["us"].app_url(), "ivan", "legal_officer", "ru").await;
    let (_, page) = officer_ru.get(&format!("/cases/{case}")).await;
    assert!(
        page.contains("us-isp: удалено · ru-isp: проверено"),
        "{page}"
    );
    // Each provider's own view is its own answer.
    let own = |node: &Node| {
        node.case_detail(&case).unwrap().items.unwrap()[1]
            .state
            .status
    };
    assert_eq!(own(a).as_str(), "removed");
    assert_eq!(own(b).as_str(), "checked");
    // A provider's answer does not stand for the other's: ru-isp may still
    // remove it, and one removal is enough for the reporter's hash list.
    b.answer_items(
        &case,
        json!({"answers": [{"item": 1, "status": "removed"}]}),
    )
    .await
    .unwrap();
    let listed = |node: &Node| {
        node.hash_list(Some("us"), false, 10, 0, liaison_core::tlp::Tlp::Red)
            .is_ok_and(|l| l.iter().any(|e| e.origin_case == case))
    };
    wait_until(20, "the hash is listed", || listed(us)).await;
    // The report is TLP:AMBER: its entry reaches the report's roster only,
    // not every pinned party.
    for p in [a, b] {
        wait_until(20, "the entry reaches the roster", || listed(p)).await;
    }
    let ngo = &net["ngo"].node;
    assert!(!listed(ngo));
    assert!(ngo.case_detail(&case).is_err());
    // A CLEAR report's entries go to every pinned party (the control).
    let mut clear = report_body();
    clear["tlp"] = json!("clear");
    clear["items"][1]["value"] = json!("ef".repeat(32));
    let open_case = us
        .open_case_with(
            &["us-isp".into(), "ru-isp".into()],
            "content_report",
            clear,
            Default::default(),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(10, "it arrives", || a.case_detail(&open_case).is_ok()).await;
    a.answer_items(
        &open_case,
        json!({"answers": [{"item": 2, "status": "removed"}]}),
    )
    .await
    .unwrap();
    wait_until(20, "the clear entry reaches everyone", || {
        ngo.hash_list(Some("us"), false, 10, 0, liaison_core::tlp::Tlp::Red)
            .is_ok_and(|l| l.iter().any(|e| e.origin_case == open_case))
    })
    .await;
    assert!(!listed(ngo));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legal_request_goes_to_one_party_and_every_recipient_must_take_the_kind() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("ru").config(kind_of("authority", "RU")),
        party("ru-isp").config(kind_of("provider", "RU")),
    ])
    .await;
    let us = &net["us"].node;
    let two = ["ru".to_owned(), "ru-isp".to_owned()];
    let e = us
        .open_case_with(&two, "mla", mla_body(None), Default::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("goes to one party"), "{e}");
    // An incident to an authority and a provider: the provider takes none.
    let e = us
        .open_case_with(
            &two,
            "incident",
            incident_body("TLP:GREEN"),
            Default::default(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("ru-isp is a party of kind provider"), "{e}");
    // A peer's node is held to the same rule on arrival.
    let forged = liaison_core::envelope::Envelope {
        id: "0190a1b2c3d4e5f60718293a4b5c6d7a".into(),
        sender: "us".into(),
        recipient: "ru".into(),
        also_to: vec!["ru-isp".into()],
        kind: "mla".into(),
        case_id: "us-0190a1b2c3d4e5f60718".into(),
        created: jiff::Timestamp::now().to_string(),
        body: mla_body(None),
        attachments: vec![],
    };
    let answer = forge(&net["us"], &net["ru"], forged).await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "bad_envelope");
    assert!(
        error.message.contains("goes to one party"),
        "{}",
        error.message
    );
    assert!(net["ru"].node.list_cases(10).unwrap().is_empty());
    // Nothing was committed for either attempt.
    assert!(us.list_cases(10).unwrap().is_empty());
    // The CLI takes --to more than once, and says why it refuses.
    let body = net.root().join("mla.json");
    std::fs::write(&body, mla_body(None).to_string()).unwrap();
    let out = liaison(&[
        "case",
        "new",
        net["us"].dir.to_str().unwrap(),
        "--to",
        "ru",
        "--to",
        "ru-isp",
        "--kind",
        "mla",
        "--file",
        body.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("goes to one party"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_arrives_before_its_case_waits_for_it_and_nothing_is_lost() {
    // `us` opens a note with ru and ngo but is not serving: its outbox holds.
    let root = tempfile::tempdir().unwrap();
    let us = idle_node(root.path(), "us").await;
    let ru = live_node(root.path(), "ru", "party").await;
    let ngo = live_node(root.path(), "ngo", "party").await;
    for n in [&us, &ru.node, &ngo.node] {
        for m in [&us, &ru.node, &ngo.node] {
            if n.party().as_str() != m.party().as_str() {
                n.pin_peer(&m.card(), false).await.unwrap();
            }
        }
    }
    let case = us
        .open_case_with(
            &["ru".into(), "ngo".into()],
            "note",
            note("Ordering"),
            Default::default(),
        )
        .await
        .unwrap()
        .case_id;
    // Only ngo gets the opening (handed over as us would send it).
    let stored = strings(
        &us,
        &format!("SELECT signed_json FROM envelopes WHERE case_id = '{case}'"),
    );
    let signed: SignedEnvelope = serde_json::from_str(&stored[0]).unwrap();
    let answer = deliver(&us, &ngo, vec![signed]).await;
    assert!(answer.results[0].receipt.is_some());
    // ngo replies to us and ru; ru does not know the case yet and puts it
    // off, recording nothing and refusing nothing.
    let reply = ngo
        .node
        .reply(&case, note("Before the opening"))
        .await
        .unwrap();
    wait_until(20, "ru puts the reply off", || {
        count(
            &ngo.node,
            "outbox WHERE peer = 'ru' AND state = 'pending' AND deferred = 1",
        ) == 1
    })
    .await;
    assert!(ru.node.case_detail(&case).is_err());
    assert_eq!(count(&ru.node, "rejections"), 0);
    assert_eq!(count(&ru.node, "envelopes"), 0);
    // A later message of ngo to ru in another case is not held up behind it.
    let other = ngo
        .node
        .open_case("ru", "note", note("Unrelated"))
        .await
        .unwrap();
    wait_until(20, "the unrelated note arrives", || {
        ru.node.case_detail(&other.case_id).is_ok()
    })
    .await;
    assert!(ru.node.case_detail(&case).is_err());

    // us comes up: its opening reaches ru (ngo answers with the receipt it
    // already gave), and ngo's retry then lands.
    let _server = start(&us).await;
    wait_until(30, "ru holds both envelopes", || {
        hashes(&ru.node, &case).len() == 2
    })
    .await;
    wait_until(30, "every receipt", || {
        all_receipted(&us, &case) && all_receipted(&ngo.node, &case)
    })
    .await;
    assert_eq!(hashes(&ru.node, &case), hashes(&ngo.node, &case));
    wait_until(30, "us holds the reply", || hashes(&us, &case).len() == 2).await;
    assert_eq!(hashes(&us, &case), hashes(&ru.node, &case));
    // Exactly one copy of each, on each node.
    for n in [&us, &ru.node, &ngo.node] {
        assert_eq!(
            count(n, &format!("envelopes WHERE case_id = '{case}'")),
            2,
            "{}",
            n.party()
        );
    }
    assert_eq!(count(&ru.node, "rejections"), 0);
    let on_ngo = ngo.node.case_detail(&case).unwrap();
    let mine = on_ngo
        .messages
        .iter()
        .find(|m| m.id == reply.envelope_id)
        .unwrap();
    assert!(
        mine.receipts
            .iter()
            .all(|r| r.receipt_verified == Some(true))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_participants_write_into_a_case() {
    let net = Net::with(&["us", "ru", "ngo"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let case = us
        .node
        .open_case("ru", "note", note("Two of us"))
        .await
        .unwrap()
        .case_id;
    wait_until(10, "ru holds it", || ru.node.case_detail(&case).is_ok()).await;
    // ngo is pinned by both but not on the roster: it cannot write in.
    let e = liaison_core::envelope::Envelope {
        id: "0190a1b2c3d4e5f60718293a4b5c6d7e".into(),
        sender: "ngo".into(),
        recipient: "ru".into(),
        also_to: vec!["us".into()],
        kind: "note".into(),
        case_id: case.clone(),
        created: jiff::Timestamp::now().to_string(),
        body: note("Let me in"),
        attachments: vec![],
    };
    let answer = forge(&net["ngo"], ru, e.clone()).await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "wrong_case", "{}", error.message);
    assert!(
        error.message.contains("not a participant"),
        "{}",
        error.message
    );
    // Named among several recipients counts as addressed; named nowhere does not.
    let mut elsewhere = e;
    elsewhere.id = "0190a1b2c3d4e5f60718293a4b5c6d7f".into();
    elsewhere.recipient = "us".into();
    elsewhere.also_to = vec![];
    let answer = forge(&net["ngo"], ru, elsewhere).await;
    assert_eq!(
        answer.results[0].error.as_ref().unwrap().code,
        "wrong_recipient"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ui_opens_a_note_with_two_parties_and_shows_each_receipt_in_both_languages() {
    let net = Net::with(&["us", "ru", "ngo"]).await;
    let us = &net["us"];
    let en = Page::new(&us.node, us.app_url(), "ana", "legal_officer", "en").await;
    let ru = Page::new(&us.node, us.app_url(), "ivan", "legal_officer", "ru").await;
    // A note may go to several parties: the form offers a box per party.
    let (status, form) = en.get("/cases/new?kind=note").await;
    assert_eq!(status, 200);
    assert!(form.contains("id=\"recipients\""), "{form}");
    assert!(
        form.contains("type=\"checkbox\" name=\"to\" value=\"ngo\""),
        "{form}"
    );
    // A legal request goes to one: a single choice.
    let (_, form) = en.get("/cases/new?kind=mla").await;
    assert!(!form.contains("id=\"recipients\"") && form.contains("<select name=\"to\">"));
    let (status, page) = en
        .post(
            "/cases/new",
            &[
                ("kind", "note"),
                ("to", "ru"),
                ("to", "ngo"),
                ("subject", "To both"),
                ("text", "One message, two receipts"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    let case = us.node.list_cases(1).unwrap()[0].id.clone();
    wait_until(20, "both receipts", || all_receipted(&us.node, &case)).await;
    let (_, page) = en.get(&format!("/cases/{case}")).await;
    assert!(
        page.contains("us (Requesting party, this node)")
            && page.contains("ru (Requested party)")
            && page.contains("ngo (Requested party)"),
        "{page}"
    );
    assert!(page.contains("Receipt from each recipient"), "{page}");
    assert_eq!(
        page.matches("<td class=\"receipt ok\">receipt verified</td>")
            .count(),
        2
    );
    let (_, page) = ru.get(&format!("/cases/{case}")).await;
    assert!(
        page.contains("us (Запрашивающая сторона, этот узел)")
            && page.contains("ngo (Запрашиваемая сторона)")
            && page.contains("Квитанция каждого получателя"),
        "{page}"
    );
    assert_eq!(
        page.matches("<td class=\"receipt ok\">квитанция проверена</td>")
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_takes_one_recipient_or_several_and_lists_each_receipt() {
    let net = Net::with(&["us", "ru", "ngo"]).await;
    let us = &net["us"];
    let api = Api::as_user(&us.node, us.app_url(), "script", "legal_officer").await;
    let (status, sent) = api
        .post(
            "/api/v1/cases",
            json!({"to": ["ru", "ngo"], "kind": "note", "body": note("Via the API")}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let case = sent["case_id"].as_str().unwrap().to_owned();
    wait_until(20, "both receipts", || all_receipted(&us.node, &case)).await;
    let (_, shown) = api.get(&format!("/api/v1/cases/{case}")).await;
    let parties: Vec<&str> = shown["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["party"].as_str().unwrap())
        .collect();
    assert_eq!(parties, ["us", "ru", "ngo"]);
    let receipts = shown["messages"][0]["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 2);
    assert!(receipts.iter().all(|r| r["receipt_verified"] == true));
    // One recipient as a plain string still works; none, or one twice, does not.
    let (status, _) = api
        .post(
            "/api/v1/cases",
            json!({"to": "ru", "kind": "note", "body": note("One")}),
        )
        .await;
    assert_eq!(status, 201);
    for to in [json!([]), json!(["ru", "ru"]), json!(["us", "ru"])] {
        let (status, answer) = api
            .post(
                "/api/v1/cases",
                json!({"to": to, "kind": "note", "body": note("Bad")}),
            )
            .await;
        assert_eq!(status, 422, "{to}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incident_to_two_certs_shares_every_update_and_only_the_notifier_remarks_it() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("kz-cert").config(kind_of("cert", "KZ")),
        party("de-cert").config(kind_of("cert", "DE")),
    ])
    .await;
    let (us, kz, de) = (&net["us"].node, &net["kz-cert"].node, &net["de-cert"].node);
    let case = us
        .open_case_with(
            &["kz-cert".into(), "de-cert".into()],
            "incident",
            incident_body("TLP:GREEN"),
            Default::default(),
        )
        .await
        .unwrap()
        .case_id;
    for n in [kz, de] {
        wait_until(10, "the notification arrives", || {
            n.case_detail(&case).is_ok()
        })
        .await;
    }
    // One CERT's update reaches the notifier and the other CERT.
    de.update(
        &case,
        json!({"text": "Seen here too: same command server."}),
    )
    .await
    .unwrap();
    // Only the notifier re-marks the thread; its re-marking reaches both.
    let e = kz
        .update(&case, json!({"text": "Narrowing", "tlp": "TLP:RED"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("only us"), "{e}");
    us.update(&case, json!({"text": "Now RED", "tlp": "TLP:RED"}))
        .await
        .unwrap();
    for n in [us, kz, de] {
        wait_until(10, "both updates everywhere", || {
            hashes(n, &case).len() == 3
        })
        .await;
        wait_until(10, "the marking everywhere", || {
            n.case_detail(&case).is_ok_and(|d| d.case.tlp == "red")
        })
        .await;
    }
    assert_eq!(hashes(us, &case), hashes(kz, &case));
    assert_eq!(hashes(us, &case), hashes(de, &case));
}
