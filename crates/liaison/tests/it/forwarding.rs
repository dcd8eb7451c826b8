//! Forwarding for execution among four real nodes: `us` asks `ru`, `ru`
//! forwards the original signed request to `ru-isp` (a provider in its
//! jurisdiction), `ru-isp` produces the data with a signed statement, `ru`
//! relays it unchanged, and `us` verifies the provider's own signature and
//! every hand-over without ever pinning the provider.

use liaison_core::envelope::AttachmentRef;
use liaison_node::Node;
use liaison_node::attachments::Attaching;
use serde_json::json;

use crate::support::*;

fn statement() -> serde_json::Value {
    json!({
        "period_from": "2026-10-01",
        "period_to": "2026-10-31T23:59:59Z",
        "legal_basis": "Art. 29 of Federal Law 149-FZ and the order of the court of 1 December 2026",
        "text": "Subscriber information and connection logs of the account named in the request."
    })
}

async fn stored(node: &Node, dir: &std::path::Path, name: &str, bytes: &[u8]) -> AttachmentRef {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let s = node.store_attachment_file(&path).await.unwrap();
    AttachmentRef {
        sha256: s.sha256,
        size: s.size,
        name: name.into(),
        media_type: "text/csv".into(),
    }
}

/// us and ru (authorities), ru-isp (a provider in RU), us-isp (one in US).
async fn four_parties() -> Net {
    Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("ru").config(kind_of("authority", "RU")),
        party("ru-isp").config(kind_of("provider", "RU")),
        party("us-isp").config(kind_of("provider", "US")),
    ])
    .await
}

/// An MLA request from `us` to `ru`, once `ru` holds it.
async fn mla_request(us: &Node, ru: &Node) -> String {
    let case = us
        .open_case("ru", "mla", mla_body(None))
        .await
        .unwrap()
        .case_id;
    wait_until(10, "ru holds the request", || ru.case_detail(&case).is_ok()).await;
    case
}

fn received(node: &Node, case: &str, kind: &str) -> bool {
    node.case_detail(case)
        .is_ok_and(|d| d.messages.iter().any(|m| m.kind == kind))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_forwarded_to_a_provider_comes_back_with_its_chain_of_custody() {
    let net = Net::of(vec![
        party("ru").config(kind_of("authority", "RU")),
        party("ru-isp").config(kind_of("provider", "RU")),
        party("us-isp").config(kind_of("provider", "US")),
    ])
    .await;
    // us pins ru only: all it knows of the provider comes through ru.
    let root = tempfile::tempdir().unwrap();
    let us_live = live_node_as(
        root.path(),
        "us",
        "party",
        Some(Box::new(kind_of("authority", "US"))),
    )
    .await;
    pin_each_other(&us_live.node, &net["ru"].node).await;
    let (us, ru, isp) = (&us_live.node, &net["ru"].node, &net["ru-isp"].node);
    assert!(us.peer("ru-isp").unwrap().is_none());
    let case = mla_request(us, ru).await;

    // Only the requested authority forwards, only to a provider, only in its jurisdiction.
    let e = us
        .forward(&case, "ru-isp", "")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("only the requested authority"), "{e}");
    let e = ru
        .forward(&case, "us-isp", "")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("jurisdiction"), "{e}");
    let e = ru.forward(&case, "us", "").await.unwrap_err().to_string();
    assert!(e.contains("kind authority"), "{e}");
    // Nor is an execution order opened as a case of its own.
    let e = ru
        .open_case("ru-isp", "execution", json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("forward"), "{e}");

    // ru's legal officer forwards through the API.
    let officer = Api::as_user(ru, net["ru"].app_url(), "olga", "legal_officer").await;
    let (status, sent) = officer
        .post(
            &format!("/api/v1/cases/{case}/forward"),
            json!({"to": "ru-isp", "note": "Produce by 10 December."}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let exec = sent["case_id"].as_str().unwrap().to_owned();
    wait_until(10, "the provider holds the order", || {
        isp.case_detail(&exec).is_ok()
    })
    .await;
    // The provider holds the original request byte for byte.
    let original_on_ru: String = ru
        .store()
        .read(|c| {
            Ok(c.sqlite().query_row(
                "SELECT signed_json FROM envelopes WHERE case_id = ?1 AND kind = 'mla'",
                [&case],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let order = &isp.case_detail(&exec).unwrap().messages[0];
    assert_eq!(order.body["original"].as_str().unwrap(), original_on_ru);
    assert_eq!(order.body["note"], "Produce by 10 December.");
    let on_provider = isp.case_detail(&exec).unwrap();
    assert_eq!(on_provider.case.kind, "execution");
    assert_eq!(on_provider.case.links, std::slice::from_ref(&case));
    assert_eq!(on_provider.role, "executing_provider");

    // The provider's liaison uploads two files and produces them with its
    // statement (API); ru relays them (CLI), not before there is a production.
    let liaison_api = Api::as_user(isp, net["ru-isp"].app_url(), "pavel", "provider_liaison").await;
    let mut files = Vec::new();
    for (name, bytes) in [
        ("subscriber.csv", &b"login,name\nivan77,Ivan\n"[..]),
        (
            "connections.csv",
            &b"time,ip\n2026-10-02T10:00Z,203.0.113.9\n"[..],
        ),
    ] {
        let (status, up) = liaison_api.upload(bytes.to_vec()).await;
        assert_eq!(status, 201, "{up}");
        files.push(AttachmentRef {
            sha256: up["sha256"].as_str().unwrap().into(),
            size: up["size"].as_u64().unwrap(),
            name: name.into(),
            media_type: "text/csv".into(),
        });
    }
    let (a, b) = (files[0].clone(), files[1].clone());
    assert!(ru.relay(&exec).await.is_err(), "nothing produced yet");
    let mut produce = statement();
    produce["attachments"] = serde_json::to_value(&files).unwrap();
    let (status, sent) = liaison_api
        .post(&format!("/api/v1/cases/{exec}/produce"), produce)
        .await;
    assert_eq!(status, 201, "{sent}");
    wait_until(20, "ru holds the production", || {
        received(ru, &exec, "production")
    })
    .await;
    let out = liaison(&["case", "relay", net["ru"].dir.to_str().unwrap(), &exec]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until(20, "us holds the relay", || received(us, &case, "relay")).await;

    // us holds the files and sees each one's chain of custody, verified.
    for f in [&a, &b] {
        assert_eq!(us.has_attachment(&f.sha256), Some(f.size));
    }
    let custody = us.custody(&case).unwrap();
    assert_eq!(custody.len(), 2);
    for f in &custody {
        let hops: Vec<(&str, &str, &str, Option<bool>)> = f
            .hand_overs
            .iter()
            .map(|h| (h.from.as_str(), h.to.as_str(), h.kind, h.receipt_verified))
            .collect();
        assert_eq!(
            hops,
            [
                ("ru-isp", "ru", "production", Some(true)),
                ("ru", "us", "relay", Some(true))
            ],
            "{}",
            f.name
        );
    }
    // ru sees the same chain once us's receipt for the relay is back.
    wait_until(20, "ru holds us's receipt", || {
        ru.custody(&case).is_ok_and(|c| {
            c.len() == 2
                && c.iter().all(|f| {
                    f.hand_overs.len() == 2
                        && f.hand_overs
                            .iter()
                            .all(|h| h.receipt_verified == Some(true))
                })
        })
    })
    .await;
    // The API and the CLI show it too.
    let reader = Api::as_user(us, us_live.app_url(), "john", "legal_officer").await;
    let (status, shown) = reader.get(&format!("/api/v1/cases/{case}/custody")).await;
    assert_eq!(status, 200);
    assert_eq!(shown.as_array().unwrap().len(), 2);
    assert_eq!(shown[0]["hand_overs"][1]["receipt_verified"], true);
    let out = liaison(&["case", "custody", us_live.dir.to_str().unwrap(), &case]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("subscriber.csv")
            && text.contains("ru-isp → ru [production; receipt verified]"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_that_alters_the_production_and_an_order_from_the_wrong_party_are_refused() {
    let net = four_parties().await;
    let (us, ru, isp) = (&net["us"].node, &net["ru"].node, &net["ru-isp"].node);
    let case = mla_request(us, ru).await;
    let exec = ru.forward(&case, "ru-isp", "").await.unwrap().case_id;
    wait_until(10, "the order arrives", || isp.case_detail(&exec).is_ok()).await;
    let tmp = tempfile::tempdir().unwrap();
    let a = stored(isp, tmp.path(), "subscriber.csv", b"login\nivan77\n").await;
    isp.produce(&exec, statement(), Attaching::by_operator(vec![a.clone()]))
        .await
        .unwrap();
    wait_until(20, "ru holds the production", || {
        received(ru, &exec, "production")
    })
    .await;
    let relay = ru.relay(&exec).await.unwrap();
    wait_until(20, "us holds the relay", || received(us, &case, "relay")).await;
    // ru's own view of its relay, once us's receipt for it is back.
    let relayed = |ru: &Node| {
        ru.case_detail(&case)
            .unwrap()
            .messages
            .into_iter()
            .find(|m| m.id == relay.envelope_id)
            .unwrap()
    };
    wait_until(20, "us's receipt for the relay", || {
        relayed(ru).receipt.is_some()
    })
    .await;
    let good = relayed(ru);
    let forged = |body: serde_json::Value, id: &str| liaison_core::envelope::Envelope {
        id: id.into(),
        sender: "ru".into(),
        recipient: "us".into(),
        also_to: vec![],
        kind: "relay".into(),
        case_id: case.clone(),
        created: jiff::Timestamp::now().to_string(),
        body,
        attachments: good.attachments.clone(),
    };
    // The statement changed after the provider signed it.
    let mut production: serde_json::Value =
        serde_json::from_str(good.body["production"].as_str().unwrap()).unwrap();
    production["envelope"]["body"]["legal_basis"] = json!("none");
    let mut body = good.body.clone();
    body["production"] = json!(production.to_string());
    let answer = forge(
        &net["ru"],
        &net["us"],
        forged(body, "0190a1b2c3d4e5f60718293a4b5c6d71"),
    )
    .await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "bad_envelope");
    assert!(error.message.contains("production"), "{}", error.message);
    // A receipt that proves something else.
    let mut body = good.body.clone();
    body["production_receipt"] = json!(good.receipt.clone().unwrap());
    let answer = forge(
        &net["ru"],
        &net["us"],
        forged(body, "0190a1b2c3d4e5f60718293a4b5c6d72"),
    )
    .await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert!(
        error.message.contains("production_receipt"),
        "{}",
        error.message
    );
    // An execution order comes only from an authority of the provider's
    // jurisdiction: not from another provider, not from a foreign authority.
    let order = isp.case_detail(&exec).unwrap().messages[0].body.clone();
    for (from, id) in [
        ("us-isp", "0190a1b2c3d4e5f60718293a4b5c6d74"),
        ("us", "0190a1b2c3d4e5f60718293a4b5c6d75"),
    ] {
        let e = liaison_core::envelope::Envelope {
            id: id.into(),
            sender: from.into(),
            recipient: "ru-isp".into(),
            also_to: vec![],
            kind: "execution".into(),
            case_id: format!("{from}-{}", &id[..20]),
            created: jiff::Timestamp::now().to_string(),
            body: order.clone(),
            attachments: vec![],
        };
        let answer = forge(&net[from], &net["ru-isp"], e).await;
        let error = answer.results[0].error.as_ref().unwrap();
        assert_eq!(error.code, "not_accepted", "{from}: {}", error.message);
    }
    // A card that is not the provider's.
    let mut body = good.body.clone();
    body["provider_card"] = serde_json::to_value(us.card()).unwrap();
    let answer = forge(
        &net["ru"],
        &net["us"],
        forged(body, "0190a1b2c3d4e5f60718293a4b5c6d73"),
    )
    .await;
    assert_eq!(
        answer.results[0].error.as_ref().unwrap().code,
        "bad_envelope"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ui_forwards_produces_relays_and_shows_the_chain_of_custody_in_both_languages() {
    let net = four_parties().await;
    let (us, ru, isp) = (&net["us"], &net["ru"], &net["ru-isp"]);
    let case = mla_request(&us.node, &ru.node).await;
    let officer = Page::new(&ru.node, ru.app_url(), "olga", "legal_officer", "ru").await;
    let (_, page) = officer.get(&format!("/cases/{case}")).await;
    assert!(page.contains("id=\"forward\""), "{page}");
    assert!(page.contains("Передать на исполнение провайдеру"), "{page}");
    assert!(
        page.contains("value=\"ru-isp\"") && !page.contains("value=\"us-isp\""),
        "only providers in RU: {page}"
    );
    let (status, _) = officer
        .post(
            &format!("/cases/{case}/forward"),
            &[("to", "ru-isp"), ("note", "Срочно.")],
        )
        .await;
    assert_eq!(status, 303);
    let exec = ru
        .node
        .list_cases(10)
        .unwrap()
        .into_iter()
        .find(|c| c.kind.as_str() == "execution")
        .unwrap()
        .id;
    wait_until(10, "the order arrives", || {
        isp.node.case_detail(&exec).is_ok()
    })
    .await;
    let liaison_page = Page::new(&isp.node, isp.app_url(), "pavel", "provider_liaison", "en").await;
    let (_, page) = liaison_page.get(&format!("/cases/{exec}")).await;
    assert!(
        page.contains("id=\"produce\"") && page.contains("Produce the data"),
        "{page}"
    );
    let (status, page) = liaison_page
        .post_file(
            &format!("/cases/{exec}/produce"),
            &[
                ("period_from", "2026-10-01"),
                ("period_to", "2026-10-31"),
                ("legal_basis", "Court order of 1 December 2026"),
            ],
            ("file", "subscriber.csv", b"login,name\nivan77,Ivan\n"),
        )
        .await;
    assert_eq!(status, 303, "{page}");
    wait_until(20, "ru holds the production", || {
        received(&ru.node, &exec, "production")
    })
    .await;
    let (_, page) = officer.get(&format!("/cases/{exec}")).await;
    assert!(page.contains("id=\"relay\""), "{page}");
    let (status, _) = officer.post(&format!("/cases/{exec}/relay"), &[]).await;
    assert_eq!(status, 303);
    wait_until(20, "us holds the relay", || {
        received(&us.node, &case, "relay")
    })
    .await;
    for (lang, title, verified) in [
        ("en", "Chain of custody", "receipt verified"),
        ("ru", "Цепочка хранения", "квитанция проверена"),
    ] {
        let reader = Page::new(
            &us.node,
            us.app_url(),
            &format!("reader-{lang}"),
            "legal_officer",
            lang,
        )
        .await;
        let (_, page) = reader.get(&format!("/cases/{case}")).await;
        assert!(
            page.contains(title) && page.contains("subscriber.csv"),
            "{page}"
        );
        assert_eq!(
            page.matches(&format!("<td class=\"receipt ok\">{verified}</td>"))
                .count(),
            2,
            "{page}"
        );
        // The requesting authority forwards nothing: it was not asked.
        assert!(!page.contains("id=\"forward\""));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_emergency_goes_from_one_duty_officer_to_the_other_and_on_to_the_provider_in_hours() {
    // Short emergency deadlines, checked every second, so they pass here.
    let fast = |kind: &'static str, j: &'static str| {
        move |c: &mut liaison_node::Config| {
            kind_of(kind, j)(c);
            c.deadlines.emergency_ack_secs = 2;
            c.deadlines.check_interval_secs = 1;
        }
    };
    let net = Net::of(vec![
        party("us").config(fast("authority", "US")),
        party("ru").config(fast("authority", "RU")),
        party("ru-isp").config(fast("provider", "RU")),
    ])
    .await;
    let (us, ru, isp) = (&net["us"].node, &net["ru"].node, &net["ru-isp"].node);
    // The 24/7 contacts: a duty officer on each side.
    let us_duty = Api::as_user(us, net["us"].app_url(), "kate", "duty_officer").await;
    let ru_duty = Api::as_user(ru, net["ru"].app_url(), "pavel", "duty_officer").await;
    let (status, sent) = us_duty
        .post(
            "/api/v1/cases",
            json!({"to": "ru", "kind": "emergency_disclosure", "body": emergency_body()}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let case = sent["case_id"].as_str().unwrap().to_owned();
    wait_until(10, "ru holds the emergency", || {
        ru.case_detail(&case).is_ok()
    })
    .await;
    let (status, sent) = ru_duty
        .post(
            &format!("/api/v1/cases/{case}/forward"),
            json!({"to": "ru-isp", "note": "Risk to life: answer within the hour."}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let exec = sent["case_id"].as_str().unwrap().to_owned();
    wait_until(10, "the provider holds the emergency", || {
        isp.case_detail(&exec).is_ok()
    })
    .await;
    // It keeps its urgency: its deadline runs in hours (here seconds), not days.
    let d = isp.case_detail(&exec).unwrap();
    assert!(d.case.urgent);
    let ack = &d.deadlines[0];
    let secs = deadline_secs(ack);
    assert_eq!((ack.name, secs), ("acknowledge", 2));
    // Unanswered, it escalates on both sides of the forward.
    for (node, id) in [(isp, &exec), (ru, &exec)] {
        wait_until(15, "the hard escalation", || {
            node.store()
                .read(|c| liaison_store::federation::escalations(c, 20))
                .unwrap()
                .iter()
                .any(|e| e.level == "hard" && e.subject == *id)
        })
        .await;
    }
    // A forwarded MLA request keeps an MLA request's days.
    let mla = mla_request(us, ru).await;
    let exec = ru.forward(&mla, "ru-isp", "").await.unwrap().case_id;
    wait_until(10, "the provider holds the MLA forward", || {
        isp.case_detail(&exec).is_ok()
    })
    .await;
    let ack = &isp.case_detail(&exec).unwrap().deadlines[0];
    let secs = deadline_secs(ack);
    // Two business days: from whatever hour the test runs, over a day of
    // wall clock (the emergency timers here are seconds).
    assert!(secs > 24 * 3600, "{ack:?}");
}
