//! The JSON API: authentication, role checks on every route, and the legal
//! workflow through it.

use liaison_core::case::CaseKind;
use liaison_core::roles::{ALL_ROLES, Permission, Role};
use liaison_server::api::ROUTES;
use liaison_server::route_table::{Need, Route};
use serde_json::{Value, json};

use crate::support::*;

const PASSWORD: &str = "correct horse battery staple";

pub async fn token(node: &liaison_node::Node, user: &str, role: &str) -> String {
    node.add_user(user, role, PASSWORD, "en").await.unwrap();
    node.create_token(user, "test").await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_legal_workflow_runs_through_the_api_and_callers_are_checked() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let us_lo = token(&us.node, "alice", "legal_officer").await;
    ru.node
        .add_user("ivan", "legal_officer", PASSWORD, "ru")
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let (us_api, ru_api) = (
        format!("{}/api/v1", us.app_url()),
        format!("{}/api/v1", ru.app_url()),
    );

    // No credentials, wrong token, wrong password: 401 with the error body.
    let r = http.get(format!("{us_api}/cases")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    assert_eq!(
        http.get(format!("{us_api}/cases"))
            .bearer_auth("lia_nope")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        http.get(format!("{ru_api}/cases"))
            .basic_auth("ivan", Some("wrong"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // A malformed request names the field.
    let mut bad = mla_body(None);
    bad.as_object_mut().unwrap().remove("legal_basis");
    let r = http
        .post(format!("{us_api}/cases"))
        .bearer_auth(&us_lo)
        .json(&json!({"to": "ru", "kind": "mla", "body": bad}))
        .send()
        .await
        .unwrap();
    // Of the declared shape, but a rule is not met: 422, naming the field.
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("legal_basis"));

    // Upload evidence, open an MLA request with it.
    let upload: Value = http
        .post(format!("{us_api}/attachments"))
        .bearer_auth(&us_lo)
        .body(b"%PDF-1.7 order of the court".to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachment = json!({"sha256": upload["sha256"], "size": upload["size"], "name": "order.pdf", "media_type": "application/pdf"});
    let r = http
        .post(format!("{us_api}/cases"))
        .bearer_auth(&us_lo)
        .json(&json!({"to": "ru", "kind": "mla", "body": mla_body(None), "attachments": [attachment]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let case = r.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_until(10, "arrival", || ru.node.case_detail(&case).is_ok()).await;

    // ru's legal officer acknowledges with HTTP Basic; us may not.
    let r = http
        .post(format!("{ru_api}/cases/{case}/actions/acknowledge"))
        .basic_auth("ivan", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = http
        .post(format!("{us_api}/cases/{case}/actions/acknowledge"))
        .bearer_auth(&us_lo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("not an action for the requesting party")
    );
    wait_until(10, "the state on us", || {
        us.node.case_detail(&case).unwrap().case.state == "acknowledged"
    })
    .await;
    let detail: Value = http
        .get(format!("{us_api}/cases/{case}"))
        .bearer_auth(&us_lo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["state"], "acknowledged");
    assert_eq!(detail["available_actions"], json!(["withdraw"]));
    // The attachment reached ru and downloads decrypted.
    let sha = upload["sha256"].as_str().unwrap();
    let ru_lo = ru.node.create_token("ivan", "t").await.unwrap();
    let bytes = http
        .get(format!("{ru_api}/attachments/{sha}"))
        .bearer_auth(&ru_lo)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"%PDF-1.7 order of the court");
}

/// What each API route requires (None: public).
fn permission(method: &str, path: &str) -> Option<Permission> {
    Some(match (method, path) {
        ("GET", "/api/v1/openapi.json") => return None,
        (
            "GET",
            "/api/v1/cases"
            | "/api/v1/cases/{id}"
            | "/api/v1/attachments/{sha256}"
            | "/api/v1/reference/enumerations",
        ) => Permission::ReadCases,
        (
            "GET",
            "/api/v1/reference/offences"
            | "/api/v1/reference/sectors"
            | "/api/v1/reference/norms"
            | "/api/v1/glossary"
            | "/api/v1/glossary/{id}"
            | "/api/v1/search",
        ) => Permission::ReadReference,
        (
            "POST",
            "/api/v1/cases/{id}/norms"
            | "/api/v1/glossary/{id}/propose"
            | "/api/v1/glossary/{id}/sign"
            | "/api/v1/glossary/{id}/diverge",
        ) => Permission::EditReference,
        ("POST", "/api/v1/cases") => Permission::Open(CaseKind::Note),
        ("POST", "/api/v1/cases/{id}/actions/{action}") => Permission::Act(CaseKind::Mla),
        ("POST", "/api/v1/cases/{id}/messages") => Permission::Act(CaseKind::Note),
        ("POST", "/api/v1/attachments") => Permission::Act(CaseKind::Note),
        ("POST", "/api/v1/keys/rotate") => Permission::ManageKeys,
        (
            "GET",
            "/api/v1/alerts"
            | "/api/v1/escalations"
            | "/api/v1/peers"
            | "/api/v1/peers/{party}/keys"
            | "/api/v1/keys"
            | "/api/v1/duty"
            | "/api/v1/pings",
        ) => Permission::ReadOperations,
        ("POST", "/api/v1/cases/{id}/updates") => Permission::Act(CaseKind::Incident),
        ("POST", "/api/v1/duty")
        | ("DELETE", "/api/v1/duty/{shift}")
        | ("GET", "/api/v1/tlp-reads") => Permission::ManageUsers,
        ("POST", "/api/v1/pings") => Permission::Open(CaseKind::Ping),
        ("POST", "/api/v1/cases/{id}/items") => Permission::Act(CaseKind::ContentReport),
        // Checked by the kind of the case named (the MLA request here).
        (
            "POST",
            "/api/v1/cases/{id}/forward"
            | "/api/v1/cases/{id}/produce"
            | "/api/v1/cases/{id}/relay"
            | "/api/v1/cases/{id}/notice"
            | "/api/v1/cases/{id}/invite"
            | "/api/v1/cases/{id}/accept"
            | "/api/v1/cases/{id}/leave",
        ) => Permission::Act(CaseKind::Mla),
        ("GET", "/api/v1/cases/{id}/custody") => Permission::ReadCases,
        ("GET", "/api/v1/directory") => Permission::ReadReference,
        ("POST", "/api/v1/hashes/lookup") | ("GET", "/api/v1/hashes") => Permission::MatchHashes,
        ("POST", "/api/v1/hashes/withdraw") => Permission::ManageHashes,
        other => panic!("no expected permission for {other:?}: add it to the matrix"),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_is_checked_on_every_api_route() {
    let net = Net::with(&["us", "ru"]).await;
    let us = &net["us"];
    let mla = us
        .node
        .open_case("ru", "mla", mla_body(None))
        .await
        .unwrap()
        .case_id;
    let note = us
        .node
        .open_case("ru", "note", note("matrix"))
        .await
        .unwrap()
        .case_id;
    let incident = us
        .node
        .open_case("ru", "incident", incident_body("TLP:AMBER"))
        .await
        .unwrap()
        .case_id;
    let report = us
        .node
        .open_case("ru", "content_report", report_body())
        .await
        .unwrap()
        .case_id;
    let sha = us
        .node
        .store_attachment_file(&{
            let p = net.root().join("a.txt");
            std::fs::write(&p, "x").unwrap();
            p
        })
        .await
        .unwrap()
        .sha256;
    let http = reqwest::Client::new();
    let mut checked = 0;
    for role in ALL_ROLES {
        let token = token(
            &us.node,
            &format!("user-{}", role.as_str().replace('_', "-")),
            role.as_str(),
        )
        .await;
        for route in ROUTES {
            let Route {
                method,
                path: template,
                need,
            } = route;
            let (id, kind) = if template.starts_with("/api/v1/glossary") {
                ("cyberspace", CaseKind::Note)
            } else if template.contains("messages") {
                (note.as_str(), CaseKind::Note)
            } else if template.contains("updates") {
                (incident.as_str(), CaseKind::Incident)
            } else if template.contains("items") {
                (report.as_str(), CaseKind::ContentReport)
            } else {
                (mla.as_str(), CaseKind::Mla)
            };
            // The declared need, resolved for this request, is what the
            // independent matrix below expects.
            let declared = match *need {
                Need::Nobody => None,
                Need::Role(p) => Some(p),
                Need::OpenTheKind => Some(Permission::Open(CaseKind::Note)),
                Need::ActOnTheCase => Some(Permission::Act(kind)),
                Need::ActOnAnyCase => Some(Permission::Act(CaseKind::Note)),
            };
            assert_eq!(
                declared,
                permission(method, template),
                "{method} {template}"
            );
            let path = template
                .replace("{id}", id)
                .replace("{action}", "withdraw")
                .replace("{sha256}", &sha)
                .replace("{shift}", "1")
                .replace("/api/v1/search", "/api/v1/search?q=request");

            let url = format!("{}{path}", us.app_url());
            let request = match *method {
                "GET" => http.get(&url),
                "DELETE" => http.delete(&url),
                _ => http.post(&url),
            };
            let request = match *template {
                "/api/v1/cases" => request.json(
                    &json!({"to": "ru", "kind": "note", "body": {"subject": "s", "text": "t"}}),
                ),
                "/api/v1/cases/{id}/messages" => {
                    request.json(&json!({"subject": "s", "text": "t"}))
                }
                "/api/v1/cases/{id}/actions/{action}" => {
                    request.json(&json!({"text": "no longer needed"}))
                }
                "/api/v1/attachments" => request.body("data"),
                "/api/v1/cases/{id}/norms" => request.json(&json!({"norm": "h"})),
                "/api/v1/cases/{id}/updates" => request.json(&json!({"text": "news"})),
                "/api/v1/cases/{id}/items" => {
                    request.json(&json!({"answers": [{"item": 0, "status": "checked"}]}))
                }
                "/api/v1/cases/{id}/forward" => request.json(&json!({"to": "ru"})),
                "/api/v1/cases/{id}/produce" => request.json(&json!({
                    "period_from": "2026-01-01", "period_to": "2026-01-31",
                    "legal_basis": "Court order", "attachments": []
                })),
                "/api/v1/cases/{id}/notice" => {
                    request.json(&json!({"answer": "objection", "grounds": "test"}))
                }
                "/api/v1/cases/{id}/invite" => {
                    request.json(&json!({"to": "ru", "role": "co_investigator"}))
                }
                "/api/v1/cases/{id}/leave" => request.json(&json!({"text": "test"})),
                "/api/v1/hashes/lookup" => request.json(&json!({"pdq": "f".repeat(64)})),
                "/api/v1/hashes/withdraw" => {
                    request.json(&json!({"entry_ids": ["none"], "reason": "test"}))
                }
                "/api/v1/duty" => request.json(&json!({"name": "A", "email": "a@example.org",
                    "starts": "2026-01-01T00:00:00Z", "ends": "2036-01-01T00:00:00Z"})),
                "/api/v1/pings" => request.json(&json!({"to": "ru"})),
                "/api/v1/glossary/{id}/propose" => request.json(&json!({
                    "term_en": "Cyberspace", "term_ru": "Киберпространство",
                    "definition_en": "The networks.", "definition_ru": "Сети."
                })),
                "/api/v1/glossary/{id}/diverge" => request
                    .json(&json!({"reasons_en": "Too broad.", "reasons_ru": "Слишком широко."})),
                _ => request,
            };
            let response = request.bearer_auth(&token).send().await.unwrap();
            let status = response.status().as_u16();
            let answer = response.text().await.unwrap();
            let allowed = permission(method, template).is_none_or(|p| role.allows(p));
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{} {method} {template}: {status}",
                    role.as_str()
                );
            } else {
                assert_eq!(
                    status,
                    403,
                    "{} {method} {template}: {answer}",
                    role.as_str()
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ALL_ROLES.len() * ROUTES.len());
    assert!(!Role::Observer.allows(Permission::ReadCases));
}
