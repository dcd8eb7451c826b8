//! The shared reference between two real nodes: a glossary that converges
//! through signed proposals, and search in both languages that respects
//! access rights.

use liaison_core::roles::Role;

use crate::support::*;

fn state_json(node: &liaison_node::Node, term: &str) -> serde_json::Value {
    serde_json::to_value(node.glossary_term(term).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn both_glossaries_converge_through_proposals_signatures_and_divergence() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    let (us, ru) = (&us.node, &ru.node);
    assert!(us.glossary().unwrap().len() >= 40);

    // us proposes its definition; ru sees it as proposed.
    us.glossary_propose("cybercrime", "cybercrime", "киберпреступность", "Offences against computer data and systems, and offences committed through them.", "Преступления против компьютерных данных и систем и преступления, совершаемые с их помощью.", vec!["budapest".into()]).await.unwrap();
    wait_until(10, "the proposal on ru", || {
        ru.glossary_term("cybercrime")
            .unwrap()
            .definitions
            .contains_key("us")
    })
    .await;
    assert_eq!(
        ru.glossary_term("cybercrime").unwrap().status.as_str(),
        "proposed"
    );
    // us cannot agree alone.
    assert!(us.glossary_sign("cybercrime").await.is_err());
    // ru signs: agreed on both, the same everywhere.
    ru.glossary_sign("cybercrime").await.unwrap();
    wait_until(10, "agreement on us", || {
        us.glossary_term("cybercrime").unwrap().status.as_str() == "agreed"
    })
    .await;
    assert_eq!(state_json(us, "cybercrime"), state_json(ru, "cybercrime"));
    assert_eq!(
        us.glossary_term("cybercrime")
            .unwrap()
            .agreed
            .unwrap()
            .signed_by,
        ["us", "ru"]
    );

    // ru diverges on another term, with its reasons; both show it.
    ru.glossary_diverge(
        "information-security",
        "Includes the content and influence layer, not only systems.",
        "Охватывает также содержание и информационное воздействие, а не только системы.",
    )
    .await
    .unwrap();
    wait_until(10, "the divergence on us", || {
        us.glossary_term("information-security")
            .unwrap()
            .status
            .as_str()
            == "divergent"
    })
    .await;
    assert_eq!(
        state_json(us, "information-security"),
        state_json(ru, "information-security")
    );

    // A new proposal reopens an agreed term; the agreed text stays on record.
    ru.glossary_propose(
        "cybercrime",
        "cybercrime",
        "киберпреступность",
        "Crimes committed with or against ICT.",
        "Преступления, совершаемые с использованием ИКТ или против них.",
        vec![],
    )
    .await
    .unwrap();
    wait_until(10, "the new proposal on us", || {
        us.glossary_term("cybercrime").unwrap().status.as_str() == "proposed"
    })
    .await;
    let s = us.glossary_term("cybercrime").unwrap();
    assert!(s.agreed.is_some());
    assert_eq!(s.history.len(), 3);
    assert_eq!(state_json(us, "cybercrime"), state_json(ru, "cybercrime"));
    // Every change went through signed, logged envelopes.
    assert!(us.audit(None).await.unwrap().ok);
    assert!(ru.audit(None).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_stems_both_languages_and_respects_access_rights() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    let ru_case = us.node.open_case("ru", "note", serde_json::json!({"subject": "Запрос о фишинговой атаке", "text": "Просим сохранить данные о подключениях."})).await.unwrap().case_id;
    let en_case = us.node.open_case("ru", "note", serde_json::json!({"subject": "Botnet takedown", "text": "We request assistance with the command servers."})).await.unwrap().case_id;
    wait_until(10, "delivery", || ru.node.case_detail(&en_case).is_ok()).await;
    for node in [&us.node, &ru.node] {
        let ids = |q: &str| {
            node.search(Role::LegalOfficer, q, "en", 10)
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids("запросы").first(),
            Some(&ru_case),
            "«запросы» finds «запрос»"
        );
        assert!(ids("фишинговые атаки").contains(&ru_case));
        assert!(
            ids("requests").contains(&en_case),
            "\"requests\" finds \"request\""
        );
        assert!(ids("botnets").contains(&en_case));
        assert!(
            ids("botnet").contains(&"botnet".to_owned()),
            "the glossary term too"
        );
        // An observer sees glossary terms, never case threads.
        let observer = node.search(Role::Observer, "botnet", "en", 10).unwrap();
        assert!(observer.iter().all(|h| h.kind == "glossary") && !observer.is_empty());
        assert!(
            node.search(Role::Observer, "запросы", "en", 10)
                .unwrap()
                .iter()
                .all(|h| h.kind == "glossary")
        );
    }
    // Operators' quotes and FTS syntax in a query are just words.
    assert!(
        us.node
            .search(Role::LegalOfficer, "\" OR * NEAR(", "en", 10)
            .unwrap()
            .is_empty()
    );

    // The CLI prints id and title, best first; the index can be rebuilt.
    let dir = us.dir.to_str().unwrap().to_owned();
    let d = dir.clone();
    let out = tokio::task::spawn_blocking(move || liaison(&["reindex", &d]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tokio::task::spawn_blocking(move || liaison(&["search", &dir, "запросы"]))
        .await
        .unwrap();
    let first = stdout(&out).lines().next().unwrap_or("").to_owned();
    assert!(
        first.contains(&ru_case) && first.contains("Запрос о фишинговой атаке"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_is_served_and_edited_through_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let us = live_node(tmp.path(), "us", "party").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    pin_each_other(&us.node, &ru.node).await;
    for (node, user, role) in [
        (&us.node, "ana", "cert_analyst"),
        (&us.node, "obs", "observer"),
        (&ru.node, "ivan", "legal_officer"),
    ] {
        node.add_user(user, role, "a long enough password", "en")
            .await
            .unwrap();
    }
    let token = |node: &liaison_node::Node, user: &'static str| {
        let node = node.clone();
        async move { node.create_token(user, "t").await.unwrap() }
    };
    let (ana, obs, ivan) = (
        token(&us.node, "ana").await,
        token(&us.node, "obs").await,
        token(&ru.node, "ivan").await,
    );
    let http = reqwest::Client::new();
    let call =
        |method: reqwest::Method, url: String, token: &str, body: Option<serde_json::Value>| {
            let mut r = http.request(method, url).bearer_auth(token);
            if let Some(b) = body {
                r = r.json(&b);
            }
            async move {
                let resp = r.send().await.unwrap();
                let status = resp.status().as_u16();
                (
                    status,
                    resp.json::<serde_json::Value>().await.unwrap_or_default(),
                )
            }
        };
    use reqwest::Method;

    // ru proposes a new term through its API; us countersigns through its own.
    let (status, sent) = call(
        Method::POST,
        format!("{}/api/v1/glossary/sinkhole/propose", ru.app_url()),
        &ivan,
        Some(serde_json::json!({
            "term_en": "sinkhole", "term_ru": "синкхол",
            "definition_en": "A server that takes over the domains of a botnet so that infected machines report to defenders instead.",
            "definition_ru": "Сервер, который перехватывает домены ботнета, чтобы заражённые машины обращались к защитникам.",
            "sources": ["project"]
        })),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    wait_until(10, "the proposal on us", || {
        us.node.glossary_term("sinkhole").is_ok()
    })
    .await;
    let sign = format!("{}/api/v1/glossary/sinkhole/sign", us.app_url());
    assert_eq!(call(Method::POST, sign.clone(), &obs, None).await.0, 403);
    assert_eq!(call(Method::POST, sign, &ana, None).await.0, 201);
    wait_until(10, "agreement on ru", || {
        ru.node.glossary_term("sinkhole").unwrap().status.as_str() == "agreed"
    })
    .await;
    let us_view = call(
        Method::GET,
        format!("{}/api/v1/glossary/sinkhole", us.app_url()),
        &obs,
        None,
    )
    .await;
    let ru_view = call(
        Method::GET,
        format!("{}/api/v1/glossary/sinkhole", ru.app_url()),
        &ivan,
        None,
    )
    .await;
    assert_eq!(us_view.0, 200);
    assert_eq!(us_view.1, ru_view.1);
    assert_eq!(
        us_view.1["agreed"]["signed_by"],
        serde_json::json!(["ru", "us"])
    );
    let (status, all) = call(
        Method::GET,
        format!("{}/api/v1/glossary", us.app_url()),
        &obs,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(all.as_array().unwrap().len() >= 43);
    // Bad input: a clear error, nothing recorded.
    let (status, err) = call(
        Method::POST,
        format!("{}/api/v1/glossary/sinkhole/diverge", us.app_url()),
        &ana,
        Some(serde_json::json!({"reasons_en": "", "reasons_ru": ""})),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_input");
    assert_eq!(
        call(
            Method::GET,
            format!("{}/api/v1/glossary/no-such-term", us.app_url()),
            &obs,
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        us.node.glossary_term("sinkhole").unwrap().status.as_str(),
        "agreed"
    );

    // Search: the observer finds the term but not the case that mentions it.
    let case = us
        .node
        .open_case(
            "ru",
            "note",
            serde_json::json!({"subject": "Sinkholes for the botnet", "text": "Which domains?"}),
        )
        .await
        .unwrap()
        .case_id;
    let hits = |token: String| {
        let url = format!("{}/api/v1/search?q=sinkholes&lang=ru", us.app_url());
        let http = http.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let for_analyst = hits(ana.clone()).await;
    let for_observer = hits(obs.clone()).await;
    let ids = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(
        ids(&for_analyst).contains(&case) && ids(&for_analyst).contains(&"sinkhole".to_owned())
    );
    assert_eq!(ids(&for_observer), ["sinkhole"]);
    assert!(
        for_observer[0]["title"]
            .as_str()
            .unwrap()
            .starts_with("синкхол")
    );

    // Norm tags: counted in the registry; unknown norms refused.
    let tag = format!("{}/api/v1/cases/{case}/norms", us.app_url());
    let (status, tagged) = call(
        Method::POST,
        tag.clone(),
        &ana,
        Some(serde_json::json!({"norm": "h"})),
    )
    .await;
    assert_eq!(
        (status, tagged["norms"].clone()),
        (200, serde_json::json!(["h"]))
    );
    assert_eq!(
        call(
            Method::POST,
            tag,
            &ana,
            Some(serde_json::json!({"norm": "z"}))
        )
        .await
        .0,
        400
    );
    let (_, norms) = call(
        Method::GET,
        format!("{}/api/v1/reference/norms", us.app_url()),
        &obs,
        None,
    )
    .await;
    assert_eq!(norms.as_array().unwrap().len(), 11);
    let h = norms
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "h")
        .unwrap();
    assert_eq!(h["tagged_cases"], 1);
    let (status, sectors) = call(
        Method::GET,
        format!("{}/api/v1/reference/sectors", us.app_url()),
        &obs,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sectors["us"].as_array().unwrap().len(), 16);
}
