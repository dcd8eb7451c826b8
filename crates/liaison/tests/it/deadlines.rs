//! Deadlines fire on their own and escalate by e-mail (to a real SMTP
//! server) and by signed webhook.

use std::io::{Read as _, Write as _};

use serde_json::{Value, json};

use crate::support::*;

/// A webhook receiver: accepts connections and keeps each request body with
/// its headers.
/// Requests received: (head, body).
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

fn webhook_sink() -> (String, Received) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < i + 4 + len {
                        let n = s.read(&mut chunk).unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[i + 4..].to_vec());
                }
            };
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n");
            keep.lock().unwrap().push((head, body));
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unacknowledged_emergency_request_escalates_by_email_and_signed_webhook() {
    let smtp = SmtpSink::start();
    let (hook, hooks) = webhook_sink();
    let net = Net::of(vec![
        party("us"),
        party("ru").config(|c| {
            c.deadlines.emergency_ack_secs = 2;
            c.deadlines.check_interval_secs = 1;
            c.escalation.email_to = "duty-officer@genproc.example".into();
            c.escalation.email_from = "liaison-ru@genproc.example".into();
            c.escalation.smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
            c.escalation.webhook_url = hook.clone();
        }),
    ])
    .await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let case = us
        .node
        .open_case("ru", "emergency_disclosure", emergency_body())
        .await
        .unwrap()
        .case_id;

    wait_until(20, "the hard escalation e-mail", || {
        smtp.received().contains("DEADLINE MISSED")
    })
    .await;
    let mail = smtp.received();
    assert!(mail.contains("duty-officer@genproc.example"), "{mail}");
    assert!(mail.contains(&case), "{mail}");
    assert!(mail.contains("acknowledge"), "{mail}");
    // The warning (at 75 % of the time) comes before the hard level — when
    // a check ran in between: on a loaded machine the first check may come
    // after the deadline, and then only the hard level is raised.
    if let Some(warning) = mail.find("Deadline approaching") {
        assert!(warning < mail.find("DEADLINE MISSED").unwrap(), "{mail}");
    }

    wait_until(10, "the webhook", || !hooks.lock().unwrap().is_empty()).await;
    let (head, body) = hooks.lock().unwrap()[0].clone();
    let sig = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("x-liaison-signature:")
                .then(|| l.split_once("ed25519=").unwrap().1.trim().to_owned())
        })
        .unwrap();
    let sig = base64_decode(&sig);
    ru.node
        .store()
        .log_signer()
        .verifier()
        .verify_raw(&body, &sig)
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["escalation"]["subject"], case);

    // Escalations are recorded and visible, each channel's status kept (the
    // status is written once the channel answered, so just after the sinks
    // saw the messages).
    let escalations = || {
        ru.node
            .store()
            .read(|c| liaison_store::federation::escalations(c, 10))
            .unwrap()
    };
    wait_until(10, "both channels recorded as sent", || {
        escalations()
            .iter()
            .any(|e| e.level == "hard" && e.email_status == "sent" && e.webhook_status == "sent")
    })
    .await;
    let rows = escalations();
    let dir = ru.dir.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || liaison(&["escalations", &dir]))
        .await
        .unwrap();
    assert!(stdout(&out).contains(&case), "{}", stdout(&out));

    // Acknowledging ends the acknowledgement deadline: no new escalation.
    ru.node
        .act(&case, "acknowledge", Value::Null)
        .await
        .unwrap();
    let before = rows.len();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let after = ru
        .node
        .store()
        .read(|c| liaison_store::federation::escalations(c, 10))
        .unwrap();
    assert_eq!(
        after.iter().filter(|e| e.deadline == "acknowledge").count(),
        before.min(2)
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Moves a preservation case's start back in time, as if it had been
/// preserved `days` ago (the transition envelopes stay signed as they were).
async fn preserved_days_ago(node: &liaison_node::Node, case: &str, days: i64) {
    let when = jiff::Timestamp::now()
        .checked_sub(jiff::ToSpan::hours(days * 24))
        .unwrap()
        .to_string();
    let case = case.to_owned();
    node.store()
        .write(move |tx| {
            tx.conn().sqlite().execute(
                "UPDATE cases SET executed_at = ?1 WHERE id = ?2",
                rusqlite::params![when, case],
            )?;
            // The thread's steps happened then too, as this node recorded them.
            tx.conn().sqlite().execute(
                "UPDATE envelopes SET recorded_at = ?1, created = ?1 WHERE case_id = ?2 AND kind = 'transition'",
                rusqlite::params![when, case],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preservation_expires_on_its_own_and_an_extended_one_does_not() {
    let fast = |c: &mut liaison_node::Config| c.deadlines.check_interval_secs = 1;
    let net = Net::of(vec![party("us").config(fast), party("ru").config(fast)]).await;
    let (us, ru) = (&net["us"], &net["ru"]);
    let mut cases = Vec::new();
    for _ in 0..2 {
        let case = us
            .node
            .open_case("ru", "preservation", preservation_body())
            .await
            .unwrap()
            .case_id;
        wait_until(10, "delivery", || ru.node.case_detail(&case).is_ok()).await;
        for action in ["acknowledge", "start_execution", "report_executed"] {
            ru.node.act(&case, action, Value::Null).await.unwrap();
        }
        wait_until(10, "executed on both", || {
            us.node.case_detail(&case).unwrap().case.state == "executed"
                && ru.node.case_detail(&case).unwrap().case.state == "executed"
        })
        .await;
        cases.push(case);
    }
    let (expiring, extended) = (&cases[0], &cases[1]);
    // The second is extended by 30 days before the period would end.
    us.node
        .act(
            extended,
            "extend",
            json!({"days": 30, "text": "The MLA request is being finalised."}),
        )
        .await
        .unwrap();
    wait_until(10, "the extension on both", || {
        ru.node
            .case_detail(extended)
            .unwrap()
            .case
            .times
            .extension_days
            == 30
    })
    .await;

    // 61 days pass for both (60-day periods).
    for case in &cases {
        preserved_days_ago(&us.node, case, 61).await;
        preserved_days_ago(&ru.node, case, 61).await;
    }
    // ru, holding the data, declares the first expired; both nodes agree.
    wait_until(15, "expiry on both", || {
        us.node.case_detail(expiring).unwrap().case.state == "expired"
            && ru.node.case_detail(expiring).unwrap().case.state == "expired"
    })
    .await;
    let escalated = |node: &liaison_node::Node, case: &str, level: &str| {
        node.store()
            .read(|c| liaison_store::federation::escalations(c, 100))
            .unwrap()
            .iter()
            .any(|e| e.subject == case && e.deadline == "preservation_expiry" && e.level == level)
    };
    assert!(
        escalated(&us.node, expiring, "hard")
            || us.node.case_detail(expiring).unwrap().case.state == "expired"
    );
    // The extended one runs 90 days: not expired, no escalation yet (29 days left, warning at 7).
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        ru.node.case_detail(extended).unwrap().case.state,
        "executed"
    );
    assert!(!escalated(&us.node, extended, "warning") && !escalated(&us.node, extended, "hard"));
    let deadlines = us.node.case_detail(extended).unwrap().deadlines;
    let expiry = deadlines
        .iter()
        .find(|d| d.name == "preservation_expiry")
        .unwrap();
    let left = expiry.due.parse::<jiff::Timestamp>().unwrap().as_second()
        - jiff::Timestamp::now().as_second();
    assert!((28 * 86_400..30 * 86_400).contains(&left), "{left} s left");
    // A case that is not a preservation cannot be extended.
    let err = us
        .node
        .act(expiring, "extend", json!({"days": 5}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not allowed"), "{err}");
}
