//! A pinned peer signs with its own real keys and still cannot rewrite
//! what another party said, move deadlines with invented dates, or end a
//! preservation early.

use liaison_core::envelope::{DeliveryResponse, Envelope};
use serde_json::{Value, json};

use crate::support::*;

fn envelope(
    from: &str,
    to: &str,
    kind: &str,
    case: &str,
    created: String,
    body: Value,
) -> Envelope {
    let mut r = [0u8; 10];
    getrandom::fill(&mut r).unwrap();
    Envelope {
        id: liaison_core::envelope::new_id(r),
        sender: from.into(),
        recipient: to.into(),
        also_to: Vec::new(),
        kind: kind.into(),
        case_id: case.into(),
        created,
        body,
        attachments: vec![],
    }
}

fn at(offset_secs: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(offset_secs))
        .unwrap()
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string()
}

fn refusal(r: &DeliveryResponse) -> String {
    r.results[0]
        .error
        .as_ref()
        .map(|e| e.code.clone())
        .unwrap_or_else(|| "accepted".into())
}

async fn delivered(node: &liaison_node::Node, case: &str) {
    wait_until(15, &format!("{case} delivered"), || {
        node.case_detail(case)
            .map(|d| d.case.state == "delivered")
            .unwrap_or(false)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_cannot_reopen_a_case_to_rewrite_the_other_partys_incident() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let case = ru
        .node
        .open_case("us", "incident", incident_body("TLP:CLEAR"))
        .await
        .unwrap()
        .case_id;
    delivered(&ru.node, &case).await;
    // us sends a second opening envelope into ru's case.
    let mut forged = incident_body("TLP:CLEAR");
    forged["title"] = json!("FORGED: the grid operator attacked itself");
    let r = forge(
        us,
        ru,
        envelope("us", "ru", "incident", &case, at(0), forged),
    )
    .await;
    assert_eq!(refusal(&r), "opening_in_case");
    assert_eq!(
        count(&ru.node, "rejections WHERE code = 'opening_in_case'"),
        1
    );
    // An update is accepted and published as us's note, not as ru's words.
    let update = json!({"text": "Our side sees the same servers."});
    let r = forge(us, ru, envelope("us", "ru", "update", &case, at(0), update)).await;
    assert_eq!(refusal(&r), "accepted");
    let published: Vec<Value> = ru
        .node
        .store()
        .read(|c| {
            let mut s = c
                .sqlite()
                .prepare("SELECT json FROM stix_objects WHERE collection = ?1")?;
            let rows = s
                .query_map([liaison_store::stix::INCIDENTS_ID], |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .unwrap()
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
    assert!(
        published.iter().all(|o| !o.to_string().contains("FORGED")),
        "the forged text is published"
    );
    let us_identity = liaison_core::stix::derived_id("identity", "us");
    let ru_identity = liaison_core::stix::derived_id("identity", "ru");
    let note = published.iter().find(|o| o["type"] == "note").unwrap();
    assert_eq!(note["created_by_ref"], us_identity.as_str());
    let incident = published
        .iter()
        .rev()
        .find(|o| o["type"] == "incident")
        .unwrap();
    assert_eq!(incident["created_by_ref"], ru_identity.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_third_party_cannot_write_into_a_case_between_two_others() {
    let net = Net::with(&["us", "ru", "kz"]).await;
    let (us, ru, kz) = (&net["us"], &net["ru"], &net["kz"]);
    let case = us
        .node
        .open_case("ru", "note", note("Between us and ru"))
        .await
        .unwrap()
        .case_id;
    wait_until(15, "the note arrived", || {
        ru.node.case_detail(&case).is_ok()
    })
    .await;
    // kz, pinned by ru and signing with its own key, replies in that case.
    let reply = json!({"subject": "Between us and ru", "text": "kz was never in this case."});
    let r = forge(kz, ru, envelope("kz", "ru", "note", &case, at(0), reply)).await;
    assert_eq!(refusal(&r), "wrong_case");
    assert_eq!(count(&ru.node, "rejections WHERE code = 'wrong_case'"), 1);
    assert_eq!(ru.node.case_detail(&case).unwrap().messages.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn invented_dates_are_refused_and_deadlines_count_from_arrival() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let sent = us
        .node
        .open_case("ru", "preservation", preservation_body())
        .await
        .unwrap();
    delivered(&us.node, &sent.case_id).await;
    let root = us.node.case_detail(&sent.case_id).unwrap().messages[0].clone();
    let ack = |created: String| {
        envelope(
            "ru",
            "us",
            "transition",
            &sent.case_id,
            created,
            json!({"action": "acknowledge", "parent": root.envelope_hash}),
        )
    };
    // Before the request it acknowledges: refused.
    let r = forge(ru, us, ack("2020-01-01T00:00:00Z".into())).await;
    assert_eq!(refusal(&r), "before_parent");
    // An hour in the future: refused (it would reorder the thread).
    let r = forge(ru, us, ack(at(3600))).await;
    assert_eq!(refusal(&r), "from_the_future");
    assert_eq!(
        count(
            &us.node,
            "rejections WHERE code IN ('before_parent', 'from_the_future')"
        ),
        2
    );
    assert_eq!(
        us.node.case_detail(&sent.case_id).unwrap().case.state,
        "delivered"
    );

    // Dated at the request itself (a claim of an instant answer), arriving
    // later: accepted, but the acknowledgement counts from its arrival.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let before = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap();
    let r = forge(ru, us, ack(root.created.clone())).await;
    assert_eq!(refusal(&r), "accepted");
    let case = us.node.case_detail(&sent.case_id).unwrap().case;
    assert_eq!(case.state, "acknowledged");
    let acked: jiff::Timestamp = case.times.acknowledged_at.unwrap().parse().unwrap();
    assert!(
        acked >= before,
        "acknowledged at {acked}, before it arrived ({before})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_node_itself_expires_a_preservation_and_only_when_its_period_ended() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let case = us
        .node
        .open_case("ru", "preservation", preservation_body())
        .await
        .unwrap()
        .case_id;
    delivered(&ru.node, &case).await;
    for action in ["acknowledge", "start_execution", "report_executed"] {
        ru.node.act(&case, action, Value::Null).await.unwrap();
    }
    wait_until(15, "executed on us", || {
        us.node
            .case_detail(&case)
            .is_ok_and(|d| d.case.state == "executed")
    })
    .await;
    // A user with every right cannot declare it expired, through any door.
    let admin = Api::as_user(&ru.node, ru.app_url(), "root", "administrator").await;
    let (status, body) = admin
        .post(&format!("/api/v1/cases/{case}/actions/expire"), json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(ru.node.act(&case, "expire", Value::Null).await.is_err());
    let page = Page::new(&ru.node, ru.app_url(), "root2", "administrator", "en").await;
    let (status, _) = page
        .post(&format!("/cases/{case}/act"), &[("action", "expire")])
        .await;
    assert_eq!(status, 400);
    // The requested party's node, forged on day 0: refused on arrival.
    let head = ru
        .node
        .case_detail(&case)
        .unwrap()
        .messages
        .last()
        .unwrap()
        .envelope_hash
        .clone();
    let r = forge(
        ru,
        us,
        envelope(
            "ru",
            "us",
            "transition",
            &case,
            at(0),
            json!({"action": "expire", "parent": head, "text": "gone"}),
        ),
    )
    .await;
    assert_eq!(refusal(&r), "illegal_transition");
    assert_eq!(us.node.case_detail(&case).unwrap().case.state, "executed");
    assert_eq!(ru.node.case_detail(&case).unwrap().case.state, "executed");
}

#[tokio::test(flavor = "multi_thread")]
async fn proofs_from_size_zero_and_verifier_lists_naming_a_key_twice_are_refused() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    us.node.open_case("ru", "note", note("a")).await.unwrap();
    // ru's view of us: us's checkpoint, fetched over the federation.
    let client =
        liaison_node::tls::peer_http_client(&ru.node.tls(), us.node.tls().fingerprint()).unwrap();
    let note = client
        .get(format!("{}/log/checkpoint", us.fed_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = us.node.store().log_signer().verifier();
    let (cp, _) = liaison_log::checkpoint::Checkpoint::open(&note, &key, &[]).unwrap();
    // A "consistency proof" from size 0 proves nothing about a claimed root.
    let claimed = liaison_log::hash::leaf_hash(b"a tree that never was");
    assert!(liaison_log::tree::verify_consistency(0, cp.size, &claimed, &cp.root, &[]).is_err());
    let empty = liaison_log::Hash::empty_root();
    assert!(liaison_log::tree::verify_consistency(0, cp.size, &empty, &cp.root, &[]).is_ok());
    // The log's key listed again as a witness: refused, not counted twice.
    assert!(
        liaison_log::checkpoint::Checkpoint::open(&note, &key, std::slice::from_ref(&key)).is_err()
    );
}
