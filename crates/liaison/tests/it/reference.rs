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
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
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
    assert!(us.audit(None, false).await.unwrap().ok);
    assert!(ru.audit(None, false).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_stems_both_languages_and_respects_access_rights() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
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
        assert!(
            ids("запросы").contains(&ru_case),
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
    let out = tokio::task::spawn_blocking(move || {
        liaison(&["search", &dir, "запросы о фишинговых атаках"])
    })
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
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
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
    // Both nodes show the same term once each holds every event.
    let mut views = None;
    for _ in 0..100 {
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
        let same = us_view.1 == ru_view.1;
        views = Some((us_view, ru_view));
        if same {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (us_view, ru_view) = views.unwrap();
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
    assert_eq!(status, 422, "{err}");
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
        422
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

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_pages_show_and_change_the_shared_reference() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let analyst = Page::new(&us.node, us.app_url(), "ana", "cert_analyst", "en").await;
    let observer = Page::new(&us.node, us.app_url(), "obs", "observer", "en").await;
    let ivan = Page::new(&ru.node, ru.app_url(), "ivan", "legal_officer", "ru").await;

    // The glossary, side by side, with every seed term in both languages.
    let (status, page) = observer.get("/glossary").await;
    assert_eq!(status, 200);
    assert!(page.contains(">critical information infrastructure<"));
    assert!(page.contains(">критическая информационная инфраструктура<"));
    assert!(
        !page.contains("id=\"new-term\""),
        "observers cannot propose"
    );

    // us proposes through its form; a bad form is refused and records nothing.
    let (status, page) = analyst
        .post(
            "/glossary/attribution/propose",
            &[
                ("term_en", "attribution"),
                ("term_ru", "атрибуция"),
                ("definition_en", ""),
                ("definition_ru", "x"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("id=\"glossary-error\"") && page.contains("Definition in English"),
        "{page}"
    );
    assert!(
        us.node
            .glossary_term("attribution")
            .unwrap()
            .definitions
            .is_empty()
    );
    let (status, _) = analyst
        .post("/glossary/attribution/propose", &[
            ("term_en", "attribution"), ("term_ru", "атрибуция"),
            ("definition_en", "Establishing, on stated evidence, who is responsible for an ICT incident."),
            ("definition_ru", "Установление на основании указанных доказательств того, кто ответственен за инцидент в сфере ИКТ."),
            ("sources", "A/70/174"),
        ])
        .await;
    assert_eq!(status, 303);
    wait_until(10, "the proposal on ru", || {
        ru.node
            .glossary_term("attribution")
            .unwrap()
            .definitions
            .contains_key("us")
    })
    .await;
    // ru sees a sign button for us's proposal, in Russian, and signs.
    let (_, page) = ivan.get("/glossary/attribution").await;
    assert!(
        page.contains("id=\"sign\"") && page.contains("Подписать"),
        "{page}"
    );
    assert_eq!(ivan.post("/glossary/attribution/sign", &[]).await.0, 303);
    wait_until(10, "agreement on us", || {
        us.node
            .glossary_term("attribution")
            .unwrap()
            .status
            .as_str()
            == "agreed"
    })
    .await;
    let (_, page) = analyst.get("/glossary/attribution").await;
    assert!(
        page.contains("id=\"agreed\"") && page.contains("signed by us, ru"),
        "{page}"
    );
    assert!(!page.contains("id=\"sign\""), "nothing left to sign");
    assert!(page.contains("id=\"history\""));

    // ru diverges on another term: highlighted on both glossaries.
    assert_eq!(
        ivan.post(
            "/glossary/cyberspace/diverge",
            &[
                (
                    "reasons_ru",
                    "Понятие шире: включает информационное воздействие."
                ),
                ("reasons_en", "")
            ]
        )
        .await
        .0,
        303
    );
    wait_until(10, "the divergence on us", || {
        us.node.glossary_term("cyberspace").unwrap().status.as_str() == "divergent"
    })
    .await;
    let (_, page) = observer.get("/glossary?status=divergent").await;
    assert!(
        page.contains("class=\"divergence\"") && page.contains("Понятие шире"),
        "{page}"
    );
    assert!(
        !page.contains(">critical information infrastructure<"),
        "filtered by status"
    );

    // Crosswalks and norms.
    let (status, page) = observer.get("/crosswalks").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"us-water\"") && page.contains("no counterpart"));
    assert!(page.contains("id=\"ru-rocket-space\""));
    assert!(
        page.contains("272") && page.contains("1030"),
        "statutes of both parties"
    );
    let case = us
        .node
        .open_case("ru", "mla", mla_body(None))
        .await
        .unwrap()
        .case_id;
    assert_eq!(
        observer
            .post(&format!("/cases/{case}/norms"), &[("norm", "h")])
            .await
            .0,
        403
    );
    assert_eq!(
        analyst
            .post(&format!("/cases/{case}/norms"), &[("norm", "h")])
            .await
            .0,
        303
    );
    assert_eq!(
        analyst
            .post(&format!("/cases/{case}/norms"), &[("norm", "q")])
            .await
            .0,
        400
    );
    let (_, page) = analyst.get(&format!("/cases/{case}")).await;
    assert!(page.contains("data-norm=\"h\""), "{page}");
    let (_, page) = observer.get("/norms").await;
    assert_eq!(page.matches("<tr id=\"norm-").count(), 11);
    let h = page.split("id=\"norm-h\"").nth(1).unwrap();
    assert!(
        h.split("</tr>").next().unwrap().contains("<td>1</td>"),
        "one case tagged with 13(h)"
    );
    assert!(
        page.contains("data-party=\"ru\""),
        "norm h measured for ru: {page}"
    );

    // Search: the analyst sees the case, the observer only the glossary.
    let (_, page) = analyst.get("/search?q=phishing").await;
    assert!(page.contains(&format!("/cases/{case}")), "{page}");
    let (_, page) = observer.get("/search?q=phishing").await;
    assert!(!page.contains("/cases/"), "{page}");
    let (_, page) = observer.get("/search?q=attributions").await;
    assert!(page.contains("/glossary/attribution"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuild_cut_short_is_finished_when_the_node_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let us = idle_node(tmp.path(), "us").await;
    let ru = live_node(tmp.path(), "ru", "party").await;
    let server = start(&us).await;
    pin_each_other(&us, &ru.node).await;
    let case = us
        .open_case("ru", "note", note("Ransomware at the water utility"))
        .await
        .unwrap()
        .case_id;
    let found = |node: &liaison_node::Node| {
        node.search(Role::LegalOfficer, "ransomware", "en", 5)
            .unwrap()
            .iter()
            .any(|h| h.id == case)
    };
    assert!(found(&us));
    // As if the node stopped in the middle of `liaison reindex`.
    us.store()
        .write(|tx| {
            liaison_store::reference::clear_index(tx.conn())?;
            liaison_store::set_meta(tx.conn(), "search_index", "rebuilding")
        })
        .await
        .unwrap();
    assert!(!found(&us) && !us.search_index_complete().unwrap());
    server.shutdown().await;
    let _server = start(&us).await;
    wait_until(10, "the rebuild", || us.search_index_complete().unwrap()).await;
    assert!(found(&us));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_definition_is_agreed_when_every_authority_of_the_reference_group_signed() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("ru").config(kind_of("authority", "RU")),
        party("kz").config(kind_of("authority", "KZ")),
        party("ngo").config(kind_of("expert", "CH")),
    ])
    .await;
    let (us, ru, kz, ngo) = (
        &net["us"].node,
        &net["ru"].node,
        &net["kz"].node,
        &net["ngo"].node,
    );
    let group: Vec<String> = us.reference_group().unwrap().into_iter().collect();
    assert_eq!(group, ["kz", "ru", "us"], "every authority, not the expert");
    us.glossary_propose(
        "botnet",
        "botnet",
        "ботнет",
        "A network of compromised computers under common control.",
        "Сеть заражённых компьютеров под общим управлением.",
        vec![],
    )
    .await
    .unwrap();
    let nodes = [us, ru, kz, ngo];
    for n in nodes {
        wait_until(10, "the proposal arrives", || {
            n.glossary_term("botnet")
                .is_ok_and(|t| t.definitions.contains_key("us"))
        })
        .await;
    }
    // ru and the expert sign: kz is still awaited, everywhere.
    ru.glossary_sign("botnet").await.unwrap();
    ngo.glossary_sign("botnet").await.unwrap();
    for n in nodes {
        wait_until(10, "both signatures arrive", || {
            n.glossary_term("botnet")
                .is_ok_and(|t| t.history.len() == 3)
        })
        .await;
        let t = n.glossary_term("botnet").unwrap();
        assert_eq!(t.status.as_str(), "proposed", "{}", n.party());
        assert_eq!(t.awaiting, ["kz"], "{}", n.party());
    }
    let en = Page::new(us, net["us"].app_url(), "ana", "legal_officer", "en").await;
    let (_, page) = en.get("/glossary/botnet").await;
    assert!(
        page.contains("Awaiting the signatures of the reference group: kz"),
        "{page}"
    );
    let ru_page = Page::new(us, net["us"].app_url(), "ivan", "legal_officer", "ru").await;
    let (_, page) = ru_page.get("/glossary/botnet").await;
    assert!(
        page.contains("Ожидаются подписи участников справочной группы: kz"),
        "{page}"
    );
    // kz signs: agreed on every node, with every signer named.
    kz.glossary_sign("botnet").await.unwrap();
    for n in nodes {
        wait_until(10, "agreed everywhere", || {
            n.glossary_term("botnet")
                .is_ok_and(|t| t.status.as_str() == "agreed")
        })
        .await;
        let t = n.glossary_term("botnet").unwrap();
        assert_eq!(t.agreed.unwrap().signed_by, ["us", "ru", "ngo", "kz"]);
        assert!(t.awaiting.is_empty());
    }
    // A member that diverges is named.
    kz.glossary_diverge("botnet", "Our code has no such term.", "")
        .await
        .unwrap();
    wait_until(10, "the divergence arrives", || {
        us.glossary_term("botnet")
            .is_ok_and(|t| t.status.as_str() == "divergent")
    })
    .await;
    let t = us.glossary_term("botnet").unwrap();
    assert_eq!(t.divergences.keys().collect::<Vec<_>>(), ["kz"]);
    let (_, page) = en.get("/glossary/botnet").await;
    assert!(page.contains("kz diverges"), "{page}");
}
