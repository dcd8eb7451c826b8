//! Direct production orders among four real nodes: `us` orders `ru-isp` (a
//! provider abroad); `ru`, whose card requires notification of orders for
//! subscriber information and traffic data, is on the roster at once, its
//! node confirms receipt (which opens the objection window), and `ru-isp`
//! records no disclosure before the window has passed without objection,
//! none after an objection, and one at once after consent.

use liaison_core::envelope::{AttachmentRef, Envelope};
use liaison_core::order::{Disclosure, NoticeAnswer};
use liaison_node::Node;
use liaison_node::attachments::Attaching;
use serde_json::json;

use crate::support::*;

/// The objection window `ru` states, in seconds (short: the test waits it out).
const WINDOW_SECS: u32 = 10;

async fn four_parties() -> Net {
    Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("ru").config(|c| {
            kind_of("authority", "RU")(c);
            c.orders.notify = "subscriber_information, traffic_data".into();
            c.orders.objection_window_secs = WINDOW_SECS;
        }),
        party("ru-isp").config(kind_of("provider", "RU")),
        party("us-isp").config(kind_of("provider", "US")),
    ])
    .await
}

fn statement() -> serde_json::Value {
    json!({
        "period_from": "2026-11-01",
        "period_to": "2026-11-30",
        "legal_basis": "Second Additional Protocol art. 7; the order as received",
        "text": "Subscriber record of the account named in the order."
    })
}

async fn file(node: &Node, name: &str) -> Attaching {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(
        &path,
        format!("subscriber,{name}\nIvan Petrov,+7 900 000 00 00\n"),
    )
    .unwrap();
    let s = node.store_attachment_file(&path).await.unwrap();
    Attaching::by_operator(vec![AttachmentRef {
        sha256: s.sha256,
        size: s.size,
        name: name.into(),
        media_type: "text/csv".into(),
    }])
}

fn disclosure(node: &Node, case: &str) -> Option<Disclosure> {
    node.disclosure(case).ok().flatten()
}

fn window_open(node: &Node, case: &str) -> bool {
    matches!(disclosure(node, case), Some(Disclosure::WindowOpen { .. }))
}

/// Orders `category` from ru-isp and waits until ru's confirmation of the
/// notification has reached the provider.
async fn order(net: &Net, category: &str) -> String {
    let case = net["us"]
        .node
        .open_case(
            "ru-isp",
            "production_order",
            production_order_body(category, false),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(15, "the provider holds ru's confirmation", || {
        window_open(&net["ru-isp"].node, &case)
    })
    .await;
    case
}

fn produced(node: &Node, case: &str) -> bool {
    node.case_detail(case)
        .is_ok_and(|d| d.messages.iter().any(|m| m.kind == "production"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_notified_to_its_authority_is_disclosed_only_after_the_window_or_consent() {
    let net = four_parties().await;
    let (us, ru, isp) = (&net["us"].node, &net["ru"].node, &net["ru-isp"].node);
    assert_eq!(
        ru.card().notification.unwrap().objection_window_secs,
        WINDOW_SECS
    );

    let officer = Api::as_user(ru, net["ru"].app_url(), "olga", "legal_officer").await;
    // Only to a provider abroad, one at a time.
    let body = production_order_body("subscriber_information", false);
    let e = us
        .open_case("us-isp", "production_order", body.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("own jurisdiction"), "{e}");
    let e = us
        .open_case("ru", "production_order", body.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("kind authority"), "{e}");
    let e = us
        .open_case_with(
            &["ru-isp".into(), "us-isp".into()],
            "production_order",
            body.clone(),
            Attaching::none(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("one provider"), "{e}");

    // The order goes to ru as well, as the notified authority.
    let a = order(&net, "subscriber_information").await;
    let d = isp.case_detail(&a).unwrap();
    let roster: Vec<(&str, &str)> = d
        .participants
        .iter()
        .map(|p| (p.party.as_str(), p.role.as_str()))
        .collect();
    assert_eq!(
        roster,
        [
            ("us", "requesting"),
            ("ru-isp", "executing_provider"),
            ("ru", "notified_authority")
        ]
    );
    assert_eq!(d.role, "executing_provider");
    assert_eq!(d.deadlines.len(), 1, "{:?}", d.deadlines);
    assert_eq!(d.deadlines[0].name, "respond");
    let ten_days = deadline_secs(&d.deadlines[0]);
    assert_eq!(ten_days, 10 * 24 * 3600);
    assert_eq!(ru.case_detail(&a).unwrap().role, "notified_authority");
    // The notified authority answers with notices, not lifecycle steps.
    assert!(ru.case_detail(&a).unwrap().available_actions.is_empty());
    let e = ru
        .act(&a, "acknowledge", json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("notified"), "{e}");

    // While the window is open the provider records nothing.
    let e = isp
        .produce(&a, statement(), file(isp, "a.csv").await)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("may object"), "{e}");
    // …and its lifecycle goes on meanwhile.
    isp.act(&a, "acknowledge", json!({})).await.unwrap();

    // ru objects to a second order, through the API: nothing is disclosed.
    let b = order(&net, "traffic_data").await;
    let (status, body) = officer
        .post(
            &format!("/api/v1/cases/{b}/notice"),
            json!({"answer": "objection"}),
        )
        .await;
    assert_eq!(status, 422, "an objection needs grounds: {body}");
    let (status, body) = officer
        .post(
            &format!("/api/v1/cases/{b}/notice"),
            json!({"answer": "objection", "grounds": "The conduct is not an offence under Russian law."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    wait_until(15, "the objection on every node", || {
        [us, isp].iter().all(|n| {
            matches!(disclosure(n, &b), Some(Disclosure::Objected { ref grounds, .. }) if grounds.contains("Russian law"))
        })
    })
    .await;
    let e = isp
        .produce(&b, statement(), file(isp, "b.csv").await)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("objected"), "{e}");
    // One decision only.
    let e = ru
        .answer_notice(&b, NoticeAnswer::NoObjection, "")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("already answered"), "{e}");

    // Consent to a third clears it at once.
    let c = order(&net, "subscriber_information").await;
    ru.answer_notice(&c, NoticeAnswer::NoObjection, "No objection.")
        .await
        .unwrap();
    wait_until(15, "the consent at the provider", || {
        disclosure(isp, &c).is_some_and(|d| d.allows())
    })
    .await;
    isp.produce(&c, statement(), file(isp, "c.csv").await)
        .await
        .unwrap();
    wait_until(15, "the production at us and ru", || {
        produced(us, &c) && produced(ru, &c)
    })
    .await;

    // The first order's window passes without objection: now it may.
    wait_until(
        u64::from(WINDOW_SECS) + 10,
        "the window of the first order",
        || disclosure(isp, &a).is_some_and(|d| d.allows()),
    )
    .await;
    isp.produce(&a, statement(), file(isp, "a.csv").await)
        .await
        .unwrap();
    wait_until(15, "the production at us", || produced(us, &a)).await;
    // An objection after the window is too late.
    let e = ru
        .answer_notice(&a, NoticeAnswer::Objection, "Too late.")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("closed"), "{e}");
    // Every hand-over of the production is receipted by both recipients.
    let d = isp.case_detail(&a).unwrap();
    let production = d.messages.iter().find(|m| m.kind == "production").unwrap();
    wait_until(15, "both receipts of the production", || {
        isp.case_detail(&a).unwrap().messages.iter().any(|m| {
            m.envelope_hash == production.envelope_hash
                && m.receipts.len() == 2
                && m.receipts.iter().all(|r| r.receipt_verified == Some(true))
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_that_skips_a_required_notification_is_refused_by_the_provider() {
    let net = four_parties().await;
    let (us, isp) = (&net["us"], &net["ru-isp"]);
    // Content data needs no notification here: the provider may produce at once.
    let free = us
        .node
        .open_case(
            "ru-isp",
            "production_order",
            production_order_body("content_data", true),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(15, "the provider holds the order", || {
        isp.node.case_detail(&free).is_ok()
    })
    .await;
    let d = isp.node.case_detail(&free).unwrap();
    assert_eq!(d.participants.len(), 2);
    assert_eq!(d.disclosure, Some(Disclosure::NotRequired));
    // An emergency: eight hours.
    let hours = deadline_secs(&d.deadlines[0]);
    assert_eq!(hours, 8 * 3600);
    isp.node
        .produce(&free, statement(), file(&isp.node, "free.csv").await)
        .await
        .unwrap();

    // A node that leaves ru off an order for subscriber information is refused.
    let forged = Envelope {
        id: "f".repeat(32),
        sender: "us".into(),
        recipient: "ru-isp".into(),
        also_to: Vec::new(),
        kind: "production_order".into(),
        case_id: format!("us-{}", "a".repeat(20)),
        created: liaison_node::now_rfc3339(),
        body: production_order_body("subscriber_information", false),
        attachments: vec![],
    };
    let answer = forge(us, isp, forged.clone()).await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "not_accepted", "{}", error.message);
    assert!(error.message.contains("notified"), "{}", error.message);
    // …and one that names another party as notified.
    let answer = forge(
        us,
        isp,
        Envelope {
            id: "e".repeat(32),
            also_to: vec!["us-isp".into()],
            ..forged
        },
    )
    .await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "not_accepted", "{}", error.message);
    assert!(
        isp.node
            .case_detail(&format!("us-{}", "a".repeat(20)))
            .is_err()
    );
}
