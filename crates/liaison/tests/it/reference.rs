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
