//! TAXII 2.1 and STIX 2.1 with the real third-party tools: `taxii2-client`
//! drives the server (discovery, collections, 10,000 objects added and paged,
//! every filter, media types, markings), `stix2-validator` checks what
//! Liaison exports, and imports keep valid objects and refuse the rest.

use std::process::Command;

use serde_json::json;

use crate::support::*;

const PASSWORD: &str = "a long enough password";

#[tokio::test(flavor = "multi_thread")]
async fn the_real_taxii_client_adds_pages_and_filters_within_the_readers_marking() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    // An incident thread, published to ru's incidents collection as it arrives.
    let case = us
        .node
        .open_case("ru", "incident", incident_body("TLP:GREEN"))
        .await
        .unwrap()
        .case_id;
    us.node
        .update(&case, json!({"text": "A second server.", "indicators": [{"type": "url", "value": "https://update-check.example/p"}]}))
        .await
        .unwrap();
    wait_until(10, "the update on ru", || {
        ru.node
            .case_detail(&case)
            .map(|d| d.messages.len() == 2)
            .unwrap_or(false)
    })
    .await;
    ru.node
        .add_user("cert", "cert_analyst", PASSWORD, "en")
        .await
        .unwrap();
    ru.node
        .add_user("isp", "provider_liaison", PASSWORD, "en")
        .await
        .unwrap();
    let token = ru.node.create_token("cert", "taxii").await.unwrap();
    let incident_id = liaison_core::stix::derived_id("incident", &case);
    let published = ru
        .node
        .store()
        .read(|c| liaison_store::stix::count(c, liaison_store::stix::INCIDENTS_ID))
        .unwrap();
    assert!(published > 0, "published {published}");
    let url = ru.app_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/python/taxii_client.py"
            ))
            .env("TAXII_URL", url)
            .env("TAXII_USER", "cert")
            .env("TAXII_PASSWORD", PASSWORD)
            .env("TAXII_LOW_USER", "isp")
            .env("TAXII_LOW_PASSWORD", PASSWORD)
            .env("TAXII_INCIDENT_ID", incident_id)
            .env("TAXII_TOKEN", token)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["objects"], 10_001);
    // The RED object was read by the analyst through TAXII: recorded.
    assert!(
        ru.node
            .tlp_reads(100_000)
            .unwrap()
            .iter()
            .any(|r| r.via == "taxii" && r.tlp == "red" && r.username == "cert")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_pass_stix2_validator_and_imports_keep_the_valid_objects() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let green = us
        .node
        .open_case("ru", "incident", incident_body("TLP:GREEN"))
        .await
        .unwrap()
        .case_id;
    let red = us
        .node
        .open_case("ru", "incident", incident_body("TLP:RED"))
        .await
        .unwrap()
        .case_id;
    us.node
        .update(
            &green,
            json!({"text": "Now an emergency.", "severity": "emergency"}),
        )
        .await
        .unwrap();
    let dir = us.dir.to_str().unwrap().to_owned();
    let file = net.root().join("export.json");
    let (d, f) = (dir.clone(), file.to_str().unwrap().to_owned());
    let out = tokio::task::spawn_blocking(move || liaison(&["stix", "export", &d, "--out", &f]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The default ceiling (GREEN) leaves the RED incident out.
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let ids: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&liaison_core::stix::derived_id("incident", &green).as_str()));
    assert!(!ids.contains(&liaison_core::stix::derived_id("incident", &red).as_str()));
    let (d, c) = (dir.clone(), red.clone());
    let out = tokio::task::spawn_blocking(move || liaison(&["stix", "export", &d, "--case", &c]))
        .await
        .unwrap();
    assert!(
        !out.status.success() && stderr(&out).contains("TLP:RED"),
        "{}",
        stderr(&out)
    );
    let (d, c) = (dir.clone(), red.clone());
    let out = tokio::task::spawn_blocking(move || {
        liaison(&["stix", "export", &d, "--case", &c, "--max-tlp", "red"])
    })
    .await
    .unwrap();
    assert!(out.status.success());
    assert!(
        us.node
            .tlp_reads(10)
            .unwrap()
            .iter()
            .any(|r| r.object == red && r.via == "stix-export")
    );

    // stix2-validator (the OASIS tool) finds no error in the export.
    let f = file.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .args(["-c", "import sys, json\nfrom stix2validator import validate_file, ValidationOptions\nr = validate_file(sys.argv[1], ValidationOptions(version='2.1'))\nprint(json.dumps([[str(e) for e in o.errors] for o in r.object_results]))\nsys.exit(0 if r.is_valid else 1)", &f])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));

    // Import: valid objects kept, the invalid one refused with its reason.
    let mut objects = bundle["objects"].as_array().unwrap().clone();
    objects.push(json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--b0000000-0000-4000-8000-000000000001",
        "created": "2026-11-23T00:00:00.000Z", "modified": "2026-11-23T00:00:00.000Z", "pattern_type": "stix", "valid_from": "2026-11-23T00:00:00Z"}));
    let n = objects.len();
    let import = net.root().join("import.json");
    std::fs::write(&import, json!({"type": "bundle", "id": "bundle--b0000000-0000-4000-8000-000000000002", "objects": objects}).to_string()).unwrap();
    let rdir = ru.dir.to_str().unwrap().to_owned();
    let i = import.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || liaison(&["stix", "import", &rdir, &i]))
        .await
        .unwrap();
    assert!(!out.status.success(), "a partial import exits non-zero");
    assert!(
        stdout(&out).contains(&format!("{} objects added", n - 1)),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("pattern"),
        "the refusal names the property: {}",
        stdout(&out)
    );
    let held = ru
        .node
        .store()
        .read(|c| liaison_store::stix::count(c, liaison_store::stix::SHARED_ID))
        .unwrap();
    assert_eq!(held as usize, n - 1);
    // The read-only collection refuses imports.
    let (rdir, i) = (
        ru.dir.to_str().unwrap().to_owned(),
        import.to_str().unwrap().to_owned(),
    );
    let out = tokio::task::spawn_blocking(move || {
        liaison(&["stix", "import", &rdir, &i, "--collection", "incidents"])
    })
    .await
    .unwrap();
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_is_checked_on_every_taxii_route() {
    use liaison_core::roles::{ALL_ROLES, Permission};
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    let http = reqwest::Client::new();
    let object = "indicator--c0000000-0000-4000-8000-000000000001";
    let mut checked = 0;
    for role in ALL_ROLES {
        let user = format!("u-{}", role.as_str().replace('_', "-"));
        us.node
            .add_user(&user, role.as_str(), PASSWORD, "en")
            .await
            .unwrap();
        for route in liaison_server::taxii::ROUTES {
            let (method, template) = (&route.method, &route.path);
            let path = template
                .replace("{cid}", liaison_store::stix::SHARED_ID)
                .replace("{oid}", object)
                .replace("{sid}", "00000000-0000-4000-8000-000000000000");
            let url = format!("{}{path}", us.app_url());
            let request = match *method {
                "GET" => http.get(&url),
                "DELETE" => http.delete(&url),
                _ => http
                    .post(&url)
                    .header("content-type", liaison_server::taxii::MEDIA_TYPE)
                    .body(json!({"objects": [{"type": "indicator", "spec_version": "2.1", "id": object,
                        "created": "2026-11-23T00:00:00.000Z", "modified": "2026-11-23T00:00:00.000Z",
                        "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix", "valid_from": "2026-11-23T00:00:00Z"}]}).to_string()),
            };
            let status = request
                .header("accept", liaison_server::taxii::MEDIA_TYPE)
                .basic_auth(&user, Some(PASSWORD))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let needed = if matches!(*method, "POST" | "DELETE") {
                Permission::WriteIntel
            } else {
                Permission::ReadIntel
            };
            assert_eq!(
                route.need,
                liaison_server::route_table::Need::Role(needed),
                "{method} {template}"
            );
            if role.allows(needed) {
                assert!(
                    status != 401 && status != 403 && status < 500,
                    "{} {method} {template}: {status}",
                    role.as_str()
                );
            } else {
                assert_eq!(status, 403, "{} {method} {template}", role.as_str());
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        ALL_ROLES.len() * liaison_server::taxii::ROUTES.len()
    );
}
