//! Sessions and accounts: a reset password ends old sessions and tokens,
//! tokens expire and are revoked, users are disabled; redirects after
//! sign-in stay on the node; every response carries the security headers
//! and every refusal of the JSON API its documented body.

use serde_json::json;

use crate::support::*;

const PASSWORD: &str = "a long enough password";

fn http() -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn status_with_token(base: &str, token: &str) -> u16 {
    http()
        .get(format!("{base}/api/v1/cases"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn status_with_session(base: &str, cookie: &str) -> u16 {
    http()
        .get(format!("{base}/cases"))
        .header("cookie", format!("liaison_session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn resets_revocations_expiry_and_disabling_end_every_credential() {
    let net = Net::with(&["us"]).await;
    let n = &net["us"];
    let (node, base) = (&n.node, n.app_url());
    node.add_user("ivan", "legal_officer", PASSWORD, "en")
        .await
        .unwrap();
    let token = node.create_token("ivan", "script").await.unwrap();
    let (cookie, _) = node.start_session("ivan").await.unwrap();
    assert_eq!(status_with_token(&base, &token).await, 200);
    assert_eq!(status_with_session(&base, &cookie).await, 200);
    // A new password: the old session and token are gone.
    node.add_user("ivan", "legal_officer", "another long password", "en")
        .await
        .unwrap();
    assert_eq!(status_with_token(&base, &token).await, 401);
    assert_ne!(status_with_session(&base, &cookie).await, 200);

    // Revoking one token (by its id) leaves the others.
    let dir = n.dir.to_str().unwrap().to_owned();
    let cli = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            liaison(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let a = node.create_token("ivan", "a").await.unwrap();
    let b = node.create_token("ivan", "b").await.unwrap();
    let out = cli(vec![
        "user".into(),
        "token".into(),
        "list".into(),
        dir.clone(),
        "ivan".into(),
        "--json".into(),
    ])
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(!stdout(&out).contains(&a), "the list shows a token");
    let id_a = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "a")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = cli(vec![
        "user".into(),
        "token".into(),
        "revoke".into(),
        dir.clone(),
        "ivan".into(),
        id_a,
    ])
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status_with_token(&base, &a).await, 401);
    assert_eq!(status_with_token(&base, &b).await, 200);

    // Tokens expire.
    let c = node.create_token("ivan", "c").await.unwrap();
    let digest = liaison_log::Hash::of_content(c.as_bytes()).to_hex();
    node.store()
        .write(move |tx| {
            tx.conn().sqlite().execute(
                "UPDATE api_tokens SET expires = 1 WHERE token_sha256 = ?1",
                [&digest],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(status_with_token(&base, &c).await, 401);
    let out = cli(vec![
        "user".into(),
        "token".into(),
        dir.clone(),
        "ivan".into(),
        "--days".into(),
        "0".into(),
    ])
    .await
    .unwrap();
    assert!(!out.status.success());

    // A disabled user: sessions end, tokens stop; enabled again, tokens work.
    let (cookie, _) = node.start_session("ivan").await.unwrap();
    let out = cli(vec![
        "user".into(),
        "disable".into(),
        dir.clone(),
        "ivan".into(),
    ])
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(status_with_token(&base, &b).await, 401);
    assert_ne!(status_with_session(&base, &cookie).await, 200);
    let r = http()
        .get(format!("{base}/api/v1/cases"))
        .basic_auth("ivan", Some("another long password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let out = cli(vec![
        "user".into(),
        "enable".into(),
        dir.clone(),
        "ivan".into(),
    ])
    .await
    .unwrap();
    assert!(out.status.success());
    assert_eq!(status_with_token(&base, &b).await, 200);
    assert_ne!(
        status_with_session(&base, &cookie).await,
        200,
        "a disabled session came back"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_redirects_only_to_plain_local_paths() {
    let net = Net::with(&["us"]).await;
    let n = &net["us"];
    n.node
        .add_user("ivan", "legal_officer", PASSWORD, "en")
        .await
        .unwrap();
    let base = n.app_url();
    for (next, to) in [
        ("/cases", "/cases"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("https://evil.example/", "/"),
    ] {
        let c = http();
        let (cookie, token) = login_form(&c, &base).await;
        let token = token.as_str();
        let r = c
            .post(format!("{base}/login"))
            .header("cookie", format!("liaison_prelogin={cookie}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([
                    ("prelogin", token),
                    ("username", "ivan"),
                    ("password", PASSWORD),
                    ("next", next),
                ])
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], to, "{next:?}");
        // The login page itself carries only the safe form of `next`.
        let r = c
            .get(format!("{base}/login?next={}", urlencode(next)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(!page.contains("evil.example"), "{next:?}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_security_headers_and_api_refusals_their_error_body() {
    let net = Net::with(&["us", "ru"]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let api = Api::as_user(&us.node, us.app_url(), "admin", "administrator").await;
    let fed =
        liaison_node::tls::peer_http_client(&ru.node.tls(), us.node.tls().fingerprint()).unwrap();
    let base = us.app_url();
    let mut responses = vec![
        http()
            .get(format!("{base}/api/v1/cases"))
            .send()
            .await
            .unwrap(),
        http().get(format!("{base}/taxii2/")).send().await.unwrap(),
        http()
            .get(format!("{base}/log/checkpoint"))
            .send()
            .await
            .unwrap(),
        http().get(format!("{base}/healthz")).send().await.unwrap(),
        http().get(format!("{base}/login")).send().await.unwrap(),
        fed.get(format!("{}/log/checkpoint", us.fed_url()))
            .send()
            .await
            .unwrap(),
    ];
    responses.push(
        fed.post(format!("{}/federation/v1/envelopes", us.fed_url()))
            .body("not json")
            .send()
            .await
            .unwrap(),
    );
    for r in &responses {
        for h in [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
        ] {
            assert!(r.headers().contains_key(h), "{h} missing on {}", r.url());
        }
    }
    // Bad JSON, a bad query, a bad path parameter: the documented error body.
    let bad_json = api
        .http
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{\"to\": ")
        .send()
        .await
        .unwrap();
    let bad_query = api
        .http
        .get(format!("{base}/api/v1/cases?limit=many"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let bad_path = api
        .http
        .get(format!("{base}/api/v1/cases/%FF%FE"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let wrong_type = api
        .http
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&api.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    for (r, status) in [
        (bad_json, 400),
        (bad_query, 400),
        (bad_path, 400),
        (wrong_type, 415),
    ] {
        assert_eq!(r.status().as_u16(), status, "{}", r.url());
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{body}"
        );
    }
    // A refusal quoting input quotes a bounded part of it.
    let (status, body) = api
        .post(
            "/api/v1/cases",
            json!({"to": "ru", "kind": "x".repeat(100_000), "body": {}}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().len() < 2_000,
        "{} bytes",
        body.to_string().len()
    );
}
