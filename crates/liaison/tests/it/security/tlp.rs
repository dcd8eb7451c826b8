//! Nothing marked above a reader's clearance reaches that reader, on any
//! path, and every read of restricted content is recorded.

use liaison_core::tlp::Tlp;
use serde_json::json;

use crate::incidents::{hotline_body, incident_body};
use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn escalations_carry_no_case_content_and_only_readers_of_the_case_see_them() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node_with(tmp.path(), "ru", |c| {
        c.deadlines.hotline_ack_minutes = 0;
        c.deadlines.check_interval_secs = 1;
    })
    .await;
    pin_each_other(&us.node, &ru.node).await;
    let mut body = hotline_body();
    body["subject"] = json!("Codename NIGHTJAR: our source inside the group");
    let red = us
        .node
        .open_case("ru", "hotline", body)
        .await
        .unwrap()
        .case_id;
    wait_until(20, "the escalation", || {
        count(&ru.node, &format!("escalations WHERE subject = '{red}'")) > 0
    })
    .await;
    let rows = ru
        .node
        .store
        .read(|c| liaison_store::federation::escalations(c, 100))
        .unwrap();
    for e in &rows {
        assert!(!e.message.contains("NIGHTJAR"), "{e:?}");
        assert!(
            e.message.contains(&red) && e.message.contains("hotline"),
            "{e:?}"
        );
    }
    // A duty officer cleared for AMBER only does not see the RED case's escalation.
    let amber = Api::as_user(&ru.node, ru.app_url(), "anna", "duty_officer").await;
    ru.node
        .set_user_clearance("anna", Some(Tlp::Amber))
        .await
        .unwrap();
    let (status, list) = amber.get("/api/v1/escalations").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["subject"] != red.as_str()),
        "{list}"
    );
    let page = Page::new(&ru.node, ru.app_url(), "anna2", "duty_officer", "en").await;
    ru.node
        .set_user_clearance("anna2", Some(Tlp::Amber))
        .await
        .unwrap();
    let (_, html) = page.get("/escalations").await;
    assert!(
        !html.contains(&red),
        "the escalations page lists the RED case"
    );
    // Cleared for RED: listed.
    let red_reader = Api::as_user(&ru.node, ru.app_url(), "boris", "duty_officer").await;
    let (_, list) = red_reader.get("/api/v1/escalations").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|e| e["subject"] == red.as_str()),
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_limits_count_only_what_the_reader_may_read() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    // Five RED incidents rank far above the one CLEAR incident for the word.
    for _ in 0..5 {
        let mut b = incident_body("TLP:RED");
        b["title"] = json!("Zeppelin zeppelin zeppelin");
        b["description"] = json!("Zeppelin ransomware zeppelin zeppelin zeppelin.");
        us.node.open_case("ru", "incident", b).await.unwrap();
    }
    let mut b = incident_body("TLP:CLEAR");
    b["description"] = json!(
        "A long description of an unrelated outage at a grid operator in which the word zeppelin appears once among many other words about substations, relays and maintenance windows."
    );
    let clear = us
        .node
        .open_case("ru", "incident", b)
        .await
        .unwrap()
        .case_id;
    wait_until(10, "six incidents on ru", || {
        count(&ru.node, "cases WHERE kind = 'incident'") == 6
    })
    .await;
    let green = Api::as_user(&ru.node, ru.app_url(), "gleb", "cert_analyst").await;
    ru.node
        .set_user_clearance("gleb", Some(Tlp::Green))
        .await
        .unwrap();
    for limit in [1, 2, 5] {
        let (status, hits) = green
            .get(&format!("/api/v1/search?q=zeppelin&limit={limit}"))
            .await;
        assert_eq!(status, 200, "{hits}");
        let cases: Vec<&str> = hits
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["kind"] == "case")
            .map(|h| h["id"].as_str().unwrap())
            .collect();
        assert_eq!(cases, vec![clear.as_str()], "limit {limit}: {hits}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_action_renders_the_case_only_with_the_read_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    let red = us
        .node
        .open_case("ru", "incident", incident_body("TLP:RED"))
        .await
        .unwrap()
        .case_id;
    let page = Page::new(&ru.node, ru.app_url(), "vera", "cert_analyst", "en").await;
    wait_until(10, "the incident on ru", || {
        count(&ru.node, &format!("cases WHERE id = '{red}'")) == 1
    })
    .await;
    let reads = |node: &liaison_node::Node| {
        node.tlp_reads(1000)
            .unwrap()
            .into_iter()
            .filter(|r| r.object == red && r.username == "vera")
            .count()
    };
    // The requesting party's action on the requested side is refused: the
    // error page shows the case, so the read must be recorded.
    let (status, html) = page
        .post(&format!("/cases/{red}/act"), &[("action", "withdraw")])
        .await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains(&red));
    assert_eq!(reads(&ru.node), 1, "the error page's read was not recorded");
    let (status, _) = page
        .post(
            &format!("/cases/{red}/items"),
            &[("item", "0"), ("status", "removed")],
        )
        .await;
    assert!(status >= 400);
    assert!(reads(&ru.node) >= 1);
    // Above the reader's clearance, the error page is "not found" and shows nothing.
    ru.node
        .set_user_clearance("vera", Some(Tlp::Amber))
        .await
        .unwrap();
    let (status, html) = page
        .post(&format!("/cases/{red}/act"), &[("action", "withdraw")])
        .await;
    assert_eq!(status, 404);
    assert!(!html.contains("Wiper"), "{html}");
}
