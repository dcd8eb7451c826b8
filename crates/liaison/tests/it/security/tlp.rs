//! Nothing marked above a reader's clearance reaches that reader, on any
//! path, and every read of restricted content is recorded.

use liaison_core::tlp::Tlp;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn escalations_carry_no_case_content_and_only_readers_of_the_case_see_them() {
    let net = Net::of(vec![
        party("us"),
        party("ru").config(|c| {
            c.deadlines.hotline_ack_minutes = 0;
            c.deadlines.check_interval_secs = 1;
        }),
    ])
    .await;
    let (us, ru) = (&net["us"], &net["ru"]);
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
        .store()
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
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
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
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
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

const GREEN_ID: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const RED_ID: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
const CUSTOM_ID: &str = "marking-definition--11111111-2222-4333-8444-555555555555";
const STATEMENT_ID: &str = "marking-definition--66666666-7777-4888-9999-000000000000";

fn indicator(n: u32, extra: serde_json::Value) -> serde_json::Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--8b1c2d3e-4f5a-4b6c-8d7e-{n:012x}"),
        "created": "2026-11-23T00:00:00.000Z", "modified": "2026-11-23T00:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"), "pattern_type": "stix",
        "valid_from": "2026-11-23T00:00:00Z"
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

/// A TAXII client of one node, as one user (HTTP Basic).
struct Taxii {
    http: reqwest::Client,
    base: String,
    user: String,
}

impl Taxii {
    async fn new(
        node: &liaison_node::Node,
        base: String,
        user: &str,
        role: &str,
        clearance: Tlp,
    ) -> Taxii {
        node.add_user(user, role, "a long enough password", "en")
            .await
            .unwrap();
        node.set_user_clearance(user, Some(clearance))
            .await
            .unwrap();
        Taxii {
            http: reqwest::Client::new(),
            base,
            user: user.into(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/taxii2/api/{path}", self.base))
            .basic_auth(&self.user, Some("a long enough password"))
            .header("accept", "application/taxii+json;version=2.1")
    }

    async fn ids(&self, collection: &str) -> Vec<String> {
        let r = self
            .req(
                reqwest::Method::GET,
                &format!("collections/{collection}/objects/?match[version]=all"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        v["objects"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| {
                        format!(
                            "{}@{}",
                            o["id"].as_str().unwrap(),
                            o["modified"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn add(&self, objects: Vec<serde_json::Value>) -> serde_json::Value {
        let r = self
            .req(reqwest::Method::POST, "collections/shared/objects/")
            .header("content-type", "application/taxii+json;version=2.1")
            .json(&json!({ "objects": objects }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        r.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stix_markings_fail_closed_and_taxii_is_bounded_by_clearance_everywhere() {
    let net = Net::with(&["ru", "us"]).await;
    let (ru, us) = (&net["ru"], &net["us"]);
    let red = Taxii::new(&ru.node, ru.app_url(), "olga", "cert_analyst", Tlp::Red).await;
    let green = Taxii::new(&ru.node, ru.app_url(), "gleb", "cert_analyst", Tlp::Green).await;

    // Markings only granular, through a custom TLP definition of the same
    // bundle, through a statement, through an unknown id: none is CLEAR.
    let status = red
        .add(vec![
            json!({"type": "marking-definition", "spec_version": "2.1", "id": CUSTOM_ID,
                   "created": "2026-11-23T00:00:00.000Z", "definition_type": "tlp",
                   "definition": {"tlp": "amber"}}),
            json!({"type": "marking-definition", "spec_version": "2.1", "id": STATEMENT_ID,
                   "created": "2026-11-23T00:00:00.000Z", "definition_type": "statement",
                   "definition": {"statement": "Source: a human informant"}}),
            indicator(1, json!({"granular_markings": [{"marking_ref": RED_ID, "selectors": ["pattern"]}]})),
            indicator(2, json!({"object_marking_refs": [CUSTOM_ID]})),
            indicator(3, json!({"object_marking_refs": [STATEMENT_ID, GREEN_ID]})),
            indicator(4, json!({"object_marking_refs": ["marking-definition--00000000-0000-4000-8000-000000000000"]})),
            indicator(5, json!({"object_marking_refs": [GREEN_ID]})),
        ])
        .await;
    assert_eq!(status["success_count"], 7, "{status}");
    let seen = green.ids("shared").await;
    let has = |ids: &[String], n: u32| ids.iter().any(|i| i.contains(&format!("{n:012x}")));
    for n in 1..=4 {
        assert!(
            !has(&seen, n),
            "indicator {n} reached a GREEN reader: {seen:?}"
        );
    }
    assert!(has(&seen, 5));
    let all = red.ids("shared").await;
    assert!((1..=5).all(|n| has(&all, n)), "{all:?}");

    // The status of an add is its poster's alone.
    let sid = status["id"].as_str().unwrap().to_owned();
    let r = green
        .req(reqwest::Method::GET, &format!("status/{sid}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = red
        .req(reqwest::Method::GET, &format!("status/{sid}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A CLEAR version and a RED version of one object: a writer cleared for
    // GREEN deletes what it sees, never the RED version.
    let mut v2 = indicator(6, json!({"object_marking_refs": [RED_ID]}));
    v2["modified"] = json!("2026-11-24T00:00:00.000Z");
    red.add(vec![indicator(6, json!({})), v2]).await;
    let id6 = "indicator--8b1c2d3e-4f5a-4b6c-8d7e-000000000006";
    let r = green
        .req(
            reqwest::Method::DELETE,
            &format!("collections/shared/objects/{id6}/?match[version]=all"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let left = red.ids("shared").await;
    assert!(
        left.iter()
            .any(|i| i == &format!("{id6}@2026-11-24T00:00:00.000Z")),
        "{left:?}"
    );
    assert!(
        !left
            .iter()
            .any(|i| i == &format!("{id6}@2026-11-23T00:00:00.000Z"))
    );

    // Only a RED incident exists: a GREEN reader of the incidents
    // collection sees nothing at all — no identity, no marking definition.
    let case = us
        .node
        .open_case("ru", "incident", incident_body("TLP:RED"))
        .await
        .unwrap()
        .case_id;
    wait_until(10, "the RED incident on ru", || {
        count(&ru.node, &format!("cases WHERE id = '{case}'")) == 1
    })
    .await;
    assert_eq!(green.ids("incidents").await, Vec::<String>::new());
    assert!(red.ids("incidents").await.len() > 3);
    // A CLEAR incident makes the parties' identities visible, and its own
    // marking definition, but still not the RED one.
    us.node
        .open_case("ru", "incident", incident_body("TLP:CLEAR"))
        .await
        .unwrap();
    wait_until(10, "the CLEAR incident on ru", || {
        count(&ru.node, "cases WHERE kind = 'incident'") == 2
    })
    .await;
    let seen = green.ids("incidents").await;
    assert!(seen.iter().any(|i| i.starts_with("identity--")), "{seen:?}");
    assert!(!seen.iter().any(|i| i.starts_with(RED_ID)), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|i| i.contains(&liaison_core::stix::derived_id("incident", &case)))
    );

    // Without credentials: 401, WWW-Authenticate, a TAXII error resource.
    let r = reqwest::Client::new()
        .get(format!("{}/taxii2/", ru.app_url()))
        .header("accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(
        r.headers()["content-type"],
        "application/taxii+json;version=2.1"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["http_status"], "401");
}

#[tokio::test(flavor = "multi_thread")]
async fn hash_list_entries_go_and_show_only_where_their_report_may() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    let ca = live_node(tmp.path(), "ca", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    pin_each_other(&us.node, &ca.node).await;
    let pdq_red = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let pdq_clear = "0707f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let report = |tlp: &str, pdq: &str| {
        json!({
            "title": "Recruitment videos of Group X",
            "reporting_unit": {"name": "Referral Unit", "contact_person": "A. Smith", "email": "iru@example.org"},
            "provider": "ExampleTube",
            "tlp": tlp,
            "items": [{"type": "pdq", "value": pdq, "quality": 100, "behaviour": "glorification",
                       "urgency": "standard", "entity": "Source-protected cell"}]
        })
    };
    let mut cases = Vec::new();
    for (tlp, pdq) in [("TLP:RED", pdq_red), ("TLP:CLEAR", pdq_clear)] {
        let case = us
            .node
            .open_case("ru", "content_report", report(tlp, pdq))
            .await
            .unwrap()
            .case_id;
        wait_until(10, "the report on ru", || {
            count(&ru.node, &format!("cases WHERE id = '{case}'")) == 1
        })
        .await;
        ru.node
            .answer_items(
                &case,
                json!({"answers": [{"item": 0, "status": "removed"}]}),
            )
            .await
            .unwrap();
        cases.push(case);
    }
    wait_until(15, "both entries on ru", || {
        count(&ru.node, "hash_list WHERE owner = 'us'") == 2
    })
    .await;
    // ca, which the RED report never went to, gets only the CLEAR entry.
    wait_until(15, "the CLEAR entry on ca", || {
        count(&ca.node, "hash_list WHERE owner = 'us'") == 1
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        count(&ca.node, &format!("hash_list WHERE value = '{pdq_red}'")),
        0
    );
    assert_eq!(
        count(
            &ca.node,
            &format!("envelopes WHERE signed_json LIKE '%{pdq_red}%'")
        ),
        0
    );
    assert_eq!(
        count(
            &ru.node,
            &format!("hash_list WHERE value = '{pdq_red}' AND tlp = 'red'")
        ),
        1
    );

    // On us, a provider liaison (AMBER) neither lists nor matches the RED entry.
    let isp = Api::as_user(&us.node, us.app_url(), "isp", "provider_liaison").await;
    let (_, list) = isp.get("/api/v1/hashes").await;
    let text = list.to_string();
    assert!(!text.contains(pdq_red), "{text}");
    assert!(text.contains(pdq_clear), "{text}");
    let (_, found) = isp
        .post(
            "/api/v1/hashes/lookup",
            json!({"pdq": pdq_red, "radius": 0}),
        )
        .await;
    assert_eq!(found["matches"], json!([]), "{found}");
    let (_, found) = isp
        .post(
            "/api/v1/hashes/lookup",
            json!({"pdq": pdq_clear, "radius": 0}),
        )
        .await;
    assert_eq!(found["matches"].as_array().unwrap().len(), 1, "{found}");
    // A reader cleared for RED does.
    let admin = Api::as_user(&us.node, us.app_url(), "root", "administrator").await;
    let (_, found) = admin
        .post(
            "/api/v1/hashes/lookup",
            json!({"pdq": pdq_red, "radius": 0}),
        )
        .await;
    assert_eq!(found["matches"].as_array().unwrap().len(), 1, "{found}");
    // Withdrawing the RED entry is sent only where the entry went.
    let before = count(&ca.node, "envelopes");
    us.node
        .withdraw_hashes(vec![format!("{}#0", cases[0])], "mistaken")
        .await
        .unwrap();
    wait_until(10, "the withdrawal on ru", || {
        count(
            &ru.node,
            &format!("hash_list WHERE value = '{pdq_red}' AND withdrawn_at IS NOT NULL"),
        ) == 1
    })
    .await;
    assert_eq!(count(&ca.node, "envelopes"), before);
}
