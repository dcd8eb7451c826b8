//! Critical-infrastructure incidents, the hotline and ping tests between two
//! real nodes; TLP markings enforced for users and audited.

use liaison_core::roles::Role;
use serde_json::{Value, json};

use crate::support::*;

async fn state_on(node: &liaison_node::Node, case: &str, state: &str) {
    wait_until(10, &format!("{case} {state}"), || {
        node.case_detail(case)
            .map(|d| d.case.state == state)
            .unwrap_or(false)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incident_runs_with_updates_and_only_its_sender_changes_the_marking() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let (us, ru) = (&us.node, &ru.node);

    // Bad notifications are refused before anything is sent.
    let mut bad = incident_body("TLP:AMBER");
    bad["sectors"] = json!(["us-moon-base"]);
    let e = us
        .open_case("ru", "incident", bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("sectors"), "{e}");

    let case = us
        .open_case(
            "ru",
            "incident",
            incident_body("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
        )
        .await
        .unwrap()
        .case_id;
    state_on(ru, &case, "delivered").await;
    let on_ru = ru.case_detail(&case).unwrap();
    // The legacy STIX id is normalised; severe incidents count in wall-clock time.
    assert_eq!(on_ru.case.tlp, "amber");
    assert!(on_ru.case.urgent);
    assert_eq!(on_ru.deadlines[0].name, "acknowledge");

    ru.act(&case, "acknowledge", Value::Null).await.unwrap();
    state_on(us, &case, "acknowledged").await;
    // Either party adds updates; they do not move the case.
    ru.update(
        &case,
        json!({"text": "One server taken down; the second is at another provider.",
        "indicators": [{"type": "ipv4-addr", "value": "203.0.113.9"}]}),
    )
    .await
    .unwrap();
    us.update(&case, json!({"text": "Escalating: a second operator is hit.", "severity": "emergency", "tlp": "TLP:RED"}))
        .await
        .unwrap();
    wait_until(10, "both updates on both sides", || {
        [us, ru].iter().all(|n| {
            n.case_detail(&case)
                .map(|d| d.messages.iter().filter(|m| m.kind == "update").count() == 2)
                .unwrap_or(false)
        })
    })
    .await;
    for n in [us, ru] {
        let d = n.case_detail(&case).unwrap();
        assert_eq!(
            (d.case.state.as_str(), d.case.tlp.as_str()),
            ("acknowledged", "red")
        );
    }
    // The recipient cannot lower (or otherwise change) the sender's marking.
    let e = ru
        .update(&case, json!({"text": "Downgrading", "tlp": "TLP:GREEN"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("only us"), "{e}");
    // Updates are refused on kinds that take none, and bad ones name the field.
    let note = us
        .open_case("ru", "note", note("hello"))
        .await
        .unwrap()
        .case_id;
    assert!(us.update(&note, json!({"text": "x"})).await.is_err());
    let e = us
        .update(
            &case,
            json!({"text": "x", "indicators": [{"type": "ipv4-addr", "value": "1.2.3"}]}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("indicators.0.value"), "{e}");

    ru.act(&case, "start_execution", Value::Null).await.unwrap();
    state_on(ru, &case, "in_execution").await;
    ru.act(
        &case,
        "report_executed",
        json!({"text": "Both servers are down; logs preserved."}),
    )
    .await
    .unwrap();
    state_on(us, &case, "executed").await;
    us.act(&case, "close", Value::Null).await.unwrap();
    state_on(ru, &case, "closed").await;
    let e = ru
        .update(&case, json!({"text": "late"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("closed"), "{e}");
    assert!(us.audit(None, false).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn markings_hide_cases_from_users_without_clearance_and_reads_are_audited() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let red = us
        .node
        .open_case("ru", "incident", incident_body("TLP:RED"))
        .await
        .unwrap()
        .case_id;
    let green = us
        .node
        .open_case("ru", "incident", incident_body("TLP:GREEN"))
        .await
        .unwrap()
        .case_id;
    let amber = us
        .node
        .open_case("ru", "hotline", {
            let mut h = hotline_body();
            h["tlp"] = json!("amber");
            h
        })
        .await
        .unwrap()
        .case_id;
    state_on(&ru.node, &amber, "delivered").await;
    let node = &ru.node;
    for (user, role) in [
        ("ivan", "legal_officer"),
        ("olga", "cert_analyst"),
        ("petr", "provider_liaison"),
    ] {
        node.add_user(user, role, "a long enough password", "ru")
            .await
            .unwrap();
    }
    let token = |u: &'static str| {
        let node = node.clone();
        async move { node.create_token(u, "t").await.unwrap() }
    };
    let (ivan, olga, petr) = (
        token("ivan").await,
        token("olga").await,
        token("petr").await,
    );
    let http = reqwest::Client::new();
    let get = |path: String, token: String| {
        let http = http.clone();
        let url = format!("{}{path}", ru.app_url());
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or_default(),
            )
        }
    };
    let listed = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // A legal officer (AMBER+STRICT by default) does not see the RED incident.
    let (_, cases) = get("/api/v1/cases".into(), ivan.clone()).await;
    assert!(listed(&cases).contains(&green) && listed(&cases).contains(&amber));
    assert!(!listed(&cases).contains(&red));
    assert_eq!(
        get(format!("/api/v1/cases/{red}"), ivan.clone()).await.0,
        404
    );
    assert!(
        node.search_as(
            Role::LegalOfficer,
            liaison_core::tlp::Tlp::AmberStrict,
            "wiper",
            "en",
            20
        )
        .unwrap()
        .iter()
        .all(|h| h.id != red)
    );
    // A CERT analyst (RED) sees it; the read is recorded.
    let (status, detail) = get(format!("/api/v1/cases/{red}"), olga.clone()).await;
    assert_eq!((status, detail["tlp"].as_str()), (200, Some("red")));
    // A provider liaison (AMBER) sees AMBER and GREEN but not RED.
    let (_, cases) = get("/api/v1/cases".into(), petr.clone()).await;
    assert!(listed(&cases).contains(&amber) && !listed(&cases).contains(&red));
    // Lowering a user's clearance takes effect at once.
    node.set_user_clearance("olga", Some(liaison_core::tlp::Tlp::Green))
        .await
        .unwrap();
    assert_eq!(
        get(format!("/api/v1/cases/{red}"), olga.clone()).await.0,
        404
    );
    assert_eq!(
        get(format!("/api/v1/cases/{amber}"), olga.clone()).await.0,
        404
    );
    assert_eq!(
        get(format!("/api/v1/cases/{green}"), olga.clone()).await.0,
        200
    );
    // Reads of AMBER and RED are audited; GREEN is not.
    get(format!("/api/v1/cases/{amber}"), ivan.clone()).await;
    let reads = node.tlp_reads(100).unwrap();
    assert!(
        reads
            .iter()
            .any(|r| r.username == "olga" && r.object == red && r.tlp == "red" && r.via == "api")
    );
    assert!(
        reads
            .iter()
            .any(|r| r.username == "ivan" && r.object == amber && r.tlp == "amber")
    );
    assert!(!reads.iter().any(|r| r.object == green));
    let out = tokio::task::spawn_blocking({
        let dir = ru.dir.to_str().unwrap().to_owned();
        move || liaison(&["tlp-reads", &dir])
    })
    .await
    .unwrap();
    assert!(stdout(&out).contains(&red), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unacknowledged_hotline_inquiry_escalates_to_whoever_is_on_duty() {
    let smtp = SmtpSink::start();
    let net = Net::of(vec![
        party("us"),
        party("ru").config(|c| {
            c.deadlines.hotline_ack_minutes = 0;
            c.deadlines.check_interval_secs = 1;
            c.escalation.email_from = "liaison-ru@nrrc.example".into();
            c.escalation.smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
        }),
    ])
    .await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let now = jiff::Timestamp::now();
    let ago = |h: i64| {
        now.checked_sub(jiff::SignedDuration::from_hours(h))
            .unwrap()
            .to_string()
    };
    let later = |h: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(h))
            .unwrap()
            .to_string()
    };
    // Yesterday's shift is over; tonight's has not begun: only the current one is alerted.
    ru.node
        .add_shift(
            "Yesterday",
            "yesterday@nrrc.example",
            "",
            &ago(30),
            &ago(20),
        )
        .await
        .unwrap();
    ru.node
        .add_shift(
            "A. Watch",
            "watch-now@nrrc.example",
            "+7 495 555 0101",
            &ago(2),
            &later(6),
        )
        .await
        .unwrap();
    ru.node
        .add_shift("Tonight", "tonight@nrrc.example", "", &later(6), &later(14))
        .await
        .unwrap();
    assert_eq!(ru.node.on_duty().unwrap().len(), 1);
    assert!(
        ru.node
            .add_shift("Bad", "bad@x.example", "", &later(2), &ago(2))
            .await
            .is_err()
    );

    let case = us
        .node
        .open_case("ru", "hotline", hotline_body())
        .await
        .unwrap()
        .case_id;
    wait_until(20, "the escalation e-mail", || {
        smtp.received().contains(&case)
    })
    .await;
    let mail = smtp.received();
    assert!(mail.contains("watch-now@nrrc.example"), "{mail}");
    assert!(!mail.contains("tonight@nrrc.example") && !mail.contains("yesterday@nrrc.example"));
    assert!(mail.contains("DEADLINE MISSED"), "{mail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pings_measure_the_duty_officers_response_time_manual_and_scheduled() {
    let net = Net::of(vec![
        party("us").config(|c| {
            c.hotline.ping_interval_minutes = 1;
            c.deadlines.check_interval_secs = 1;
        }),
        party("ru"),
    ])
    .await;
    let (us, ru) = (&net["us"], &net["ru"]);
    // The schedule sends the first ping on its own.
    wait_until(10, "a scheduled ping", || {
        us.node
            .ping_stats()
            .unwrap()
            .iter()
            .any(|s| s.party == "ru" && s.sent >= 1)
    })
    .await;
    let manual = us.node.ping("ru", false).await.unwrap().case_id;
    state_on(&ru.node, &manual, "delivered").await;
    let stats = us.node.ping_stats().unwrap();
    let ru_stats = stats.iter().find(|s| s.party == "ru").unwrap();
    assert_eq!(
        (ru_stats.sent, ru_stats.answered, ru_stats.waiting),
        (2, 0, 2)
    );
    // ru's duty officer answers the manual ping; its response time is measured.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    ru.node
        .act(&manual, "acknowledge", Value::Null)
        .await
        .unwrap();
    wait_until(10, "the answer on us", || {
        us.node
            .ping_stats()
            .unwrap()
            .iter()
            .any(|s| s.party == "ru" && s.answered == 1)
    })
    .await;
    let s = us
        .node
        .ping_stats()
        .unwrap()
        .into_iter()
        .find(|s| s.party == "ru")
        .unwrap();
    assert!(s.last_response_secs.unwrap() >= 1, "{s:?}");
    assert_eq!(s.waiting, 1);
    // Pings stay off the inbox; the CLI lists the figures.
    let out = tokio::task::spawn_blocking({
        let dir = us.dir.to_str().unwrap().to_owned();
        move || liaison(&["ping", "list", &dir])
    })
    .await
    .unwrap();
    assert!(
        stdout(&out).contains("ru\tsent 2\tanswered 1"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_duty_page_and_the_case_page_carry_incidents_and_markings() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let analyst = Page::new(&us.node, us.app_url(), "ana", "cert_analyst", "en").await;
    let duty = Page::new(&ru.node, ru.app_url(), "duty", "duty_officer", "ru").await;
    let provider = Page::new(&ru.node, ru.app_url(), "prov", "provider_liaison", "ru").await;

    // The notification form, with indicators one per line; a bad one is named.
    let mut fields = vec![
        ("kind", "incident"),
        ("to", "ru"),
        ("title", "Wiper at a grid operator"),
        ("reporting_team.name", "US-CERT"),
        ("reporting_team.contact_person", "Duty analyst"),
        ("reporting_team.email", "soc@cert.example"),
        ("sectors", "us-energy"),
        ("sectors", "ru-energy"),
        ("severity", "severe"),
        ("tlp", "red"),
        ("description", "SCADA workstations wiped."),
        ("request", "mitigation"),
        ("request_details", "Take the command server down."),
        (
            "indicators",
            "ipv4-addr 198.51.100.23 command server\nipv4-addr 999.0.0.1",
        ),
    ];
    let (status, page) = analyst.post("/cases/new", &fields).await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("data-field=\"indicators\"") && page.contains("field-error"),
        "{page}"
    );
    fields.pop();
    fields.push((
        "indicators",
        "ipv4-addr 198.51.100.23 command server\ndomain-name update-check.example",
    ));
    let (status, _) = analyst.post("/cases/new", &fields).await;
    assert_eq!(status, 303);
    let case = us
        .node
        .list_cases(10)
        .unwrap()
        .into_iter()
        .find(|c| c.kind == liaison_core::case::CaseKind::Incident)
        .unwrap()
        .id;
    state_on(&ru.node, &case, "delivered").await;

    // ru's duty officer finds it waiting, in Russian, marked RED, and acknowledges it there.
    let (_, page) = duty.get("/duty").await;
    assert!(
        page.contains(&format!("data-case=\"{case}\"")) && page.contains("TLP:RED"),
        "{page}"
    );
    assert!(page.contains("Сейчас никто не дежурит"));
    let (status, _) = duty
        .post(&format!("/cases/{case}/act"), &[("action", "acknowledge")])
        .await;
    assert_eq!(status, 303);
    state_on(&us.node, &case, "acknowledged").await;
    let (_, page) = duty.get(&format!("/cases/{case}")).await;
    assert!(
        page.contains("id=\"case-tlp\"") && page.contains("198.51.100.23 — command server"),
        "{page}"
    );
    assert!(
        page.contains("id=\"update-form\"") && !page.contains("name=\"tlp\""),
        "only the sender re-marks"
    );
    // An update through the form reaches us.
    let (status, _) = duty
        .post(
            &format!("/cases/{case}/update"),
            &[
                ("text", "Сервер отключён."),
                ("severity", "high"),
                ("indicators", ""),
            ],
        )
        .await;
    assert_eq!(status, 303);
    wait_until(10, "the update on us", || {
        us.node
            .case_detail(&case)
            .unwrap()
            .messages
            .iter()
            .any(|m| m.kind == "update")
    })
    .await;
    let (_, page) = analyst.get(&format!("/cases/{case}")).await;
    assert!(
        page.contains("Сервер отключён.") && page.contains("name=\"tlp\""),
        "{page}"
    );
    // A provider liaison (TLP:AMBER) neither lists nor opens the RED incident.
    let (_, page) = provider.get("/cases?box=in").await;
    assert!(!page.contains(&case));
    assert_eq!(provider.get(&format!("/cases/{case}")).await.0, 404);
    // The duty officer's read was recorded; an administrator sees it.
    let admin = Page::new(&ru.node, ru.app_url(), "root", "administrator", "en").await;
    let (_, page) = admin.get("/restricted-reads").await;
    assert!(page.contains(&case) && page.contains(">duty<"), "{page}");
    // Pings from the duty page, and a shift added there.
    let (status, _) = admin.post("/duty/ping", &[("to", "us")]).await;
    assert_eq!(status, 303);
    let (status, _) = admin
        .post(
            "/duty/shifts",
            &[
                ("name", "И. Петров"),
                ("email", "petrov@nrrc.example"),
                ("phone", ""),
                ("starts", "2026-01-01T00:00"),
                ("ends", "2036-01-01T00:00"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = admin.get("/duty").await;
    assert!(
        page.contains("petrov@nrrc.example") && page.contains("data-party=\"us\""),
        "{page}"
    );
    assert_eq!(ru.node.on_duty().unwrap().len(), 1);
}
