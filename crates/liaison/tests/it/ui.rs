//! The web UI over real HTTP: every role on every page, sessions, CSRF,
//! the login rate limit, languages and security headers.

use liaison_core::case::CaseKind;
use liaison_core::roles::{ALL_ROLES, Permission};
use liaison_server::route_table::{Need, Route};
use liaison_server::ui::ROUTES;

use crate::support::*;

const PASSWORD: &str = "correct horse battery staple";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What each page requires (None: anyone, signed in or not).
fn permission(method: &str, path: &str) -> Option<Permission> {
    Some(match (method, path) {
        (_, "/login" | "/logout" | "/lang" | "/static/style.css" | "/static/app.js") => {
            return None;
        }
        ("GET", "/" | "/transparency" | "/transparency.json") => Permission::ReadAggregates,
        ("GET", "/cases" | "/cases/{id}" | "/attachments/{sha256}") => Permission::ReadCases,
        ("GET", "/cases/new") => Permission::Open(CaseKind::Mla),
        ("POST", "/cases/new") => Permission::Open(CaseKind::Note),
        ("POST", "/cases/{id}/act") => Permission::Act(CaseKind::Mla),
        // By the kind of the case named (an MLA request here).
        (
            "POST",
            "/cases/{id}/forward"
            | "/cases/{id}/produce"
            | "/cases/{id}/relay"
            | "/cases/{id}/notice"
            | "/cases/{id}/invite"
            | "/cases/{id}/accept"
            | "/cases/{id}/leave",
        ) => Permission::Act(CaseKind::Mla),
        (_, "/peers" | "/audit" | "/escalations") | ("GET", "/duty") => Permission::ReadOperations,
        ("POST", "/cases/{id}/update") => Permission::Act(CaseKind::Mla),
        ("POST", "/duty/shifts" | "/duty/shifts/{shift}/remove") | ("GET", "/restricted-reads") => {
            Permission::ManageUsers
        }
        ("POST", "/duty/ping") => Permission::Open(CaseKind::Ping),
        ("POST", "/cases/{id}/items") => Permission::Act(CaseKind::ContentReport),
        ("GET", "/hashes") | ("POST", "/hashes/lookup") => Permission::MatchHashes,
        ("POST", "/hashes/withdraw") => Permission::ManageHashes,
        (
            "GET",
            "/glossary" | "/glossary/{term}" | "/crosswalks" | "/norms" | "/search" | "/directory",
        ) => Permission::ReadReference,
        (
            "POST",
            "/glossary"
            | "/glossary/{term}/propose"
            | "/glossary/{term}/sign"
            | "/glossary/{term}/diverge"
            | "/cases/{id}/norms",
        ) => Permission::EditReference,
        other => panic!("no expected permission for {other:?}: add it to the matrix"),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_is_checked_on_every_page() {
    let net = Net::with(&["us", "ru"]).await;
    let us = &net["us"];
    let case = us
        .node
        .open_case("ru", "mla", mla_body(None))
        .await
        .unwrap()
        .case_id;
    let http = no_redirects();
    let mut checked = 0;
    for role in ALL_ROLES {
        let user = format!("u-{}", role.as_str().replace('_', "-"));
        us.node
            .add_user(&user, role.as_str(), PASSWORD, "en")
            .await
            .unwrap();
        for route in ROUTES {
            let Route {
                method,
                path: template,
                need,
            } = route;
            // The declared need, resolved for this request (the case is an
            // MLA; the new-case page defaults to MLA, the form sends a note),
            // is what the independent matrix expects.
            let declared = match *need {
                Need::Nobody => None,
                Need::Role(p) => Some(p),
                Need::OpenTheKind if *method == "GET" => Some(Permission::Open(CaseKind::Mla)),
                Need::OpenTheKind => Some(Permission::Open(CaseKind::Note)),
                Need::ActOnTheCase => Some(Permission::Act(CaseKind::Mla)),
                Need::ActOnAnyCase => Some(Permission::Act(CaseKind::Note)),
            };
            assert_eq!(
                declared,
                permission(method, template),
                "{method} {template}"
            );
            if *template == "/logout" || (*method, *template) == ("POST", "/login") {
                continue; // their own tokens and sessions are tested below
            }
            // A fresh session per request: POST /lang and others change state.
            let (cookie, csrf) = us.node.start_session(&user).await.unwrap();
            let url = format!(
                "{}{}",
                us.app_url(),
                template
                    .replace("{id}", &case)
                    .replace("{term}", "cyberspace")
                    .replace("{shift}", "1")
                    .replace("{sha256}", &"0".repeat(64))
            );
            let request = match *method {
                "GET" => http.get(&url),
                _ if *template == "/hashes/lookup" || *template == "/cases/{id}/produce" => http
                    .post(&url)
                    .header("content-type", "multipart/form-data; boundary=XyZ")
                    .body(format!(
                        "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                         --XyZ\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{}\r\n--XyZ--\r\n",
                        "f".repeat(64)
                    )),
                _ => http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(match *template {
                        "/cases/new" => format!("csrf={csrf}&kind=note&to=ru&subject=s&text=t"),
                        "/cases/{id}/act" => {
                            format!("csrf={csrf}&action=withdraw&text=no+longer+needed")
                        }
                        "/cases/{id}/norms" => format!("csrf={csrf}&norm=h"),
                        "/cases/{id}/update" => format!("csrf={csrf}&text=news"),
                        "/duty/shifts" => format!(
                            "csrf={csrf}&name=A&email=a%40x.example&starts=2026-01-01T00%3A00&ends=2036-01-01T00%3A00"
                        ),
                        "/duty/ping" => format!("csrf={csrf}&to=ru"),
                        "/cases/{id}/items" => format!("csrf={csrf}&item=0&status=removed"),
                        "/hashes/withdraw" => format!("csrf={csrf}&entry_id=x&reason=r"),
                        "/glossary" => format!("csrf={csrf}&id=x&term_en=x"),
                        "/glossary/{term}/diverge" => {
                            format!("csrf={csrf}&reasons_en=too+broad")
                        }
                        _ => format!("csrf={csrf}&lang=en"),
                    }),
            };
            let status = request
                .header("cookie", format!("liaison_session={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let allowed = permission(method, template).is_none_or(|p| role.allows(p));
            if allowed {
                assert!(
                    status != 403 && status != 401 && status < 500,
                    "{} {method} {template}: {status}",
                    role.as_str()
                );
            } else {
                assert_eq!(status, 403, "{} {method} {template}", role.as_str());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ALL_ROLES.len() * (ROUTES.len() - 2));

    // Every form refuses a session's request whose CSRF token is not the
    // session's, before it does anything, for every role that may send it.
    let mut forms = 0;
    for role in ALL_ROLES {
        let user = format!("u-{}", role.as_str().replace('_', "-"));
        for route in ROUTES
            .iter()
            .filter(|r| r.method == "POST" && r.path != "/login")
        {
            if !permission(route.method, route.path).is_none_or(|p| role.allows(p)) {
                continue;
            }
            let (cookie, _csrf) = us.node.start_session(&user).await.unwrap();
            let url = format!(
                "{}{}",
                us.app_url(),
                route
                    .path
                    .replace("{id}", &case)
                    .replace("{term}", "cyberspace")
                    .replace("{shift}", "1")
            );
            let request = if route.path == "/hashes/lookup" || route.path == "/cases/{id}/produce" {
                http.post(&url)
                    .header("content-type", "multipart/form-data; boundary=XyZ")
                    .body(
                        "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nforged\r\n--XyZ--\r\n",
                    )
            } else {
                http.post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("csrf=forged&kind=note&to=ru&subject=s&text=t&lang=ru")
            };
            let status = request
                .header("cookie", format!("liaison_session={cookie}"))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(
                status,
                403,
                "{} POST {} with a forged token",
                role.as_str(),
                route.path
            );
            forms += 1;
        }
    }
    assert!(forms > 20, "{forms}");

    // A form sent without a session sends the visitor to the login, and back
    // to the page the form is on.
    let r = http
        .post(format!("{}/cases/{case}/act", us.app_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=x&action=withdraw")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/login?next=/cases/{case}")
    );

    // Without a session every protected page sends the visitor to the login.
    for Route {
        method,
        path: template,
        ..
    } in ROUTES
        .iter()
        .filter(|r| r.method == "GET" && permission(r.method, r.path).is_some())
    {
        let r = http
            .get(format!(
                "{}{}",
                us.app_url(),
                template.replace("{id}", &case)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{method} {template} without a session");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_csrf_rate_limit_languages_and_headers() {
    let net = Net::with(&["us"]).await;
    let us = &net["us"];
    us.node
        .add_user("alice", "legal_officer", PASSWORD, "ru")
        .await
        .unwrap();
    let http = no_redirects();
    let base = us.app_url();

    // The login page follows Accept-Language and carries the security headers.
    let r = http
        .get(format!("{base}/login"))
        .header("accept-language", "ru-RU,ru;q=0.9")
        .send()
        .await
        .unwrap();
    let headers = r.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    let prelogin_cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("liaison_prelogin="))
        .unwrap();
    assert!(prelogin_cookie.contains("HttpOnly") && prelogin_cookie.contains("SameSite=Strict"));
    let prelogin = prelogin_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("liaison_prelogin=")
        .to_owned();
    let page = r.text().await.unwrap();
    assert!(page.contains("Вход") && page.contains("lang=\"ru\""));
    assert!(
        !page.contains("<script>") && !page.contains(" onclick="),
        "inline script in the page"
    );

    // A login without the form's token is refused; a good one starts a session.
    let form = |p: &str, password: &str| {
        format!(
            "username=alice&password={}&prelogin={p}&next=/cases",
            password.replace(' ', "+")
        )
    };
    let r = http
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("liaison_prelogin={prelogin}"))
        .body(form("forged", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("liaison_prelogin={prelogin}"))
        .body(form(&prelogin, PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/cases");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("liaison_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && !session.contains("Secure"),
        "{session}"
    );
    let cookie = session.split(';').next().unwrap().to_owned();
    let inbox = http
        .get(format!("{base}/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(inbox.contains("Входящие"), "the user's language is Russian");
    assert!(
        !inbox.contains("Inbox"),
        "English leaked into the Russian page"
    );

    // A form without its CSRF token is refused.
    let r = http
        .post(format!("{base}/lang"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body("lang=en&csrf=wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Logging out ends the session.
    let csrf = inbox
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{base}/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = http
        .get(format!("{base}/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the old session no longer works");

    // Five wrong passwords, then even the right one is refused for a while.
    for _ in 0..5 {
        let r = http
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("liaison_prelogin={prelogin}"))
            .body(form(&prelogin, "wrong password!"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("liaison_prelogin={prelogin}"))
        .body(form(&prelogin, PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}
