//! Legal-assistance cases between two real nodes: the shared lifecycle,
//! refusals of illegal transitions, linked cases, convergence.

use liaison_node::Node;
use serde_json::{Value, json};

use crate::support::*;

fn state(node: &Node, case: &str) -> String {
    node.case_detail(case)
        .map(|d| d.case.state)
        .unwrap_or_default()
}

async fn both_reach(a: &Node, b: &Node, case: &str, want: &str) {
    wait_until(15, &format!("both nodes to show {want}"), || {
        state(a, case) == want && state(b, case) == want
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_mla_lifecycle_with_a_clarification_round_is_shared_by_both_nodes() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let (us, ru) = (&us.node, &ru.node);
    let case = us
        .open_case("ru", "mla", mla_body(None))
        .await
        .unwrap()
        .case_id;
    both_reach(us, ru, &case, "delivered").await;

    // The wrong party, or the right party at the wrong moment, is refused.
    let err = us
        .act(&case, "acknowledge", Value::Null)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not an action for the requesting party"),
        "{err}"
    );
    let err = ru
        .act(&case, "close", Value::Null)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not an action for the requested party"),
        "{err}"
    );
    let err = ru
        .act(&case, "report_executed", Value::Null)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("report_executed is not allowed when the case is delivered"),
        "{err}"
    );
    let err = ru
        .act(&case, "request_clarification", json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("text is required"), "{err}");

    let steps: Vec<(&Node, &str, Value, &str)> = vec![
        (ru, "acknowledge", Value::Null, "acknowledged"),
        (ru, "start_review", Value::Null, "under_review"),
        (
            ru,
            "request_clarification",
            json!({"text": "Please give the account identifier and the time range."}),
            "clarification_requested",
        ),
        (
            us,
            "provide_clarification",
            json!({"text": "Account bank-login@example.ru, 1–30 September 2026."}),
            "clarification_provided",
        ),
        (ru, "start_review", Value::Null, "under_review"),
        (ru, "start_execution", Value::Null, "in_execution"),
        (
            ru,
            "report_partial",
            json!({"text": "Subscriber data attached; logs follow."}),
            "partially_executed",
        ),
        (
            ru,
            "report_executed",
            json!({"text": "Logs sent."}),
            "executed",
        ),
        (us, "close", Value::Null, "closed"),
    ];
    for (node, action, details, want) in steps {
        node.act(&case, action, details)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        both_reach(us, ru, &case, want).await;
    }
    let err = ru
        .act(&case, "start_review", Value::Null)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("closed"), "{err}");
    let mine = us.case_detail(&case).unwrap();
    let theirs = ru.case_detail(&case).unwrap();
    assert_eq!(mine.messages.len(), 10);
    assert_eq!(
        mine.messages
            .iter()
            .map(|m| &m.envelope_hash)
            .collect::<Vec<_>>(),
        theirs
            .messages
            .iter()
            .map(|m| &m.envelope_hash)
            .collect::<Vec<_>>()
    );
    assert!(mine.case.times.acknowledged_at.is_some());
    // The requested party sees the offence under its own law.
    let hint = theirs.offence_hint.unwrap();
    assert_eq!(hint.jurisdiction, "ru");
    assert!(hint.statutes.iter().any(|s| s.cite == "УК РФ ст. 159.6"));
    assert!(us.audit(None, false).await.unwrap().ok);
    assert!(ru.audit(None, false).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_transitions_are_refused_and_recorded() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let case = us
        .node
        .open_case("ru", "mla", mla_body(None))
        .await
        .unwrap()
        .case_id;
    both_reach(&us.node, &ru.node, &case, "delivered").await;
    let root = us.node.case_detail(&case).unwrap().messages[0]
        .envelope_hash
        .clone();

    // ru tries to close the case (only the requesting party may) and to
    // follow an envelope that is not in the case.
    let make = |id: &str, body: Value| {
        liaison_core::envelope::Envelope {
            id: id.into(),
            sender: "ru".into(),
            recipient: "us".into(),
            also_to: Vec::new(),
            kind: "transition".into(),
            case_id: case.clone(),
            created: liaison_node::now_rfc3339(),
            body,
            attachments: vec![],
        }
        .sign(&ru.node.store().log_signer())
        .unwrap()
    };
    let envelopes = vec![
        make("0000000000f1", json!({"action": "close", "parent": root})),
        make(
            "0000000000f2",
            json!({"action": "acknowledge", "parent": "ab".repeat(32)}),
        ),
        make(
            "0000000000f3",
            json!({"action": "report_executed", "parent": root}),
        ),
    ];
    let r = deliver(&ru.node, us, envelopes).await;
    for result in &r.results {
        assert_eq!(
            result.error.as_ref().map(|e| e.code.as_str()),
            Some("illegal_transition"),
            "{result:?}"
        );
    }
    assert_eq!(
        count(&us.node, "rejections WHERE code = 'illegal_transition'"),
        3
    );
    assert_eq!(state(&us.node, &case), "delivered");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preservation_followed_by_an_mla_request_shows_the_chain_on_both_sides() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let preservation = us
        .node
        .open_case("ru", "preservation", preservation_body())
        .await
        .unwrap()
        .case_id;
    let mla = us
        .node
        .open_case("ru", "mla", mla_body(Some(&preservation)))
        .await
        .unwrap()
        .case_id;
    both_reach(&us.node, &ru.node, &mla, "delivered").await;
    for node in [&us.node, &ru.node] {
        let p = node.case_detail(&preservation).unwrap();
        assert_eq!(p.followed_by, vec![mla.clone()]);
        assert_eq!(
            node.case_detail(&mla).unwrap().case.links,
            vec![preservation.clone()]
        );
    }
    // A case cannot follow one this node does not know.
    let err = us
        .node
        .open_case("ru", "mla", mla_body(Some("us-doesnotexist")))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not known"), "{err}");
    // The CLI shows the chain.
    let dir = us.dir.to_str().unwrap().to_owned();
    let p = preservation.clone();
    let out = tokio::task::spawn_blocking(move || liaison(&["case", "show", &dir, &p]))
        .await
        .unwrap();
    assert!(
        stdout(&out).contains(&format!("Followed by: {mla}")),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_actions_by_both_parties_converge_to_one_state() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    for _ in 0..3 {
        let case = us
            .node
            .open_case("ru", "mla", mla_body(None))
            .await
            .unwrap()
            .case_id;
        both_reach(&us.node, &ru.node, &case, "delivered").await;
        let (a, b) = tokio::join!(
            ru.node.act(&case, "acknowledge", Value::Null),
            us.node.act(
                &case,
                "withdraw",
                json!({"text": "Suspect arrested; no longer needed."})
            )
        );
        a.unwrap();
        b.unwrap();
        wait_until(15, "both transitions everywhere", || {
            us.node.case_detail(&case).unwrap().messages.len() == 3
                && ru.node.case_detail(&case).unwrap().messages.len() == 3
        })
        .await;
        let (s1, s2) = (state(&us.node, &case), state(&ru.node, &case));
        assert_eq!(s1, s2, "the nodes disagree");
        assert!(s1 == "withdrawn" || s1 == "acknowledged", "{s1}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_opens_and_moves_legal_cases() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let body = net.root().join("mla.json");
    std::fs::write(&body, serde_json::to_string(&mla_body(None)).unwrap()).unwrap();
    let (us_dir, ru_dir) = (
        us.dir.to_str().unwrap().to_owned(),
        ru.dir.to_str().unwrap().to_owned(),
    );
    let b = body.to_str().unwrap().to_owned();
    let cli = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            liaison(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap()
    };
    let out = cli(vec![
        "case".into(),
        "new".into(),
        us_dir.clone(),
        "--to".into(),
        "ru".into(),
        "--kind".into(),
        "mla".into(),
        "--file".into(),
        b,
    ])
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let case = stdout(&out).trim().to_owned();
    wait_until(10, "arrival", || ru.node.case_detail(&case).is_ok()).await;
    let out = cli(vec![
        "case".into(),
        "act".into(),
        ru_dir.clone(),
        case.clone(),
        "acknowledge".into(),
    ])
    .await;
    assert!(
        stdout(&out).contains("acknowledged"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let refuse = net.root().join("refuse.json");
    std::fs::write(&refuse, r#"{"ground": "no_dual_criminality", "text": "Не является преступлением по законодательству Российской Федерации."}"#).unwrap();
    let out = cli(vec![
        "case".into(),
        "act".into(),
        ru_dir.clone(),
        case.clone(),
        "refuse".into(),
        "--file".into(),
        refuse.to_str().unwrap().into(),
    ])
    .await;
    assert!(
        stdout(&out).contains("refused"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    wait_until(10, "refusal on us", || {
        us.node.case_detail(&case).unwrap().case.state == "refused"
    })
    .await;
    let out = cli(vec![
        "case".into(),
        "act".into(),
        us_dir.clone(),
        case.clone(),
        "close".into(),
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("close is not allowed when the case is refused"),
        "{}",
        stderr(&out)
    );
    let out = cli(vec!["case".into(), "show".into(), ru_dir, case]).await;
    assert!(stdout(&out).contains("УК РФ ст. 159.6"), "{}", stdout(&out));
}
