//! Joint investigation teams among real nodes: `us` opens a team with `ru`
//! and `de`, invites `ru-isp`, which learns the team from its invitation,
//! accepts and gets the earlier thread; `de` leaves and stays on the
//! roster; a party that does not pin every member cannot accept.

use liaison_core::envelope::Envelope;
use liaison_core::roster::{Membership, Role};
use liaison_log::note::{ED25519, NoteSigner};
use liaison_node::Node;
use liaison_node::attachments::Attaching;
use serde_json::json;

use crate::support::*;

fn roster(node: &Node, case: &str) -> Vec<(String, Role, Membership)> {
    node.case_detail(case)
        .map(|d| {
            d.participants
                .into_iter()
                .map(|p| (p.party, p.role, p.status))
                .collect()
        })
        .unwrap_or_default()
}

fn standing(node: &Node, case: &str, party: &str) -> Option<Membership> {
    roster(node, case)
        .into_iter()
        .find(|(p, _, _)| p == party)
        .map(|(_, _, s)| s)
}

fn has_update(node: &Node, case: &str, text: &str) -> bool {
    node.case_detail(case).is_ok_and(|d| {
        d.messages
            .iter()
            .any(|m| m.kind == "update" && m.body["text"] == text)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_grows_by_invitation_hands_over_its_thread_and_keeps_who_left() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("ru").config(kind_of("authority", "RU")),
        party("de").config(kind_of("authority", "DE")),
        party("ru-isp").config(kind_of("provider", "RU")),
    ])
    .await;
    let (us, ru, de, isp) = (
        &net["us"].node,
        &net["ru"].node,
        &net["de"].node,
        &net["ru-isp"].node,
    );
    // A team is among authorities.
    let e = us
        .open_case("ru-isp", "joint_team", team_charter())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("kind provider"), "{e}");
    let team = us
        .open_case_with(
            &["ru".into(), "de".into()],
            "joint_team",
            team_charter(),
            Attaching::none(),
        )
        .await
        .unwrap()
        .case_id;
    wait_until(10, "ru and de hold the team", || {
        ru.case_detail(&team).is_ok() && de.case_detail(&team).is_ok()
    })
    .await;
    for n in [us, ru, de] {
        assert_eq!(
            roster(n, &team),
            [
                ("us".into(), Role::CoInvestigator, Membership::Member),
                ("ru".into(), Role::CoInvestigator, Membership::Member),
                ("de".into(), Role::CoInvestigator, Membership::Member),
            ]
        );
    }
    ru.update(&team, json!({"text": "Seized server images are ready."}))
        .await
        .unwrap();
    wait_until(10, "ru's update at us and de", || {
        has_update(us, &team, "Seized server images are ready.")
            && has_update(de, &team, "Seized server images are ready.")
    })
    .await;

    // ru invites its provider; the provider learns the team from the invitation.
    ru.invite(
        &team,
        "ru-isp",
        Role::ExecutingProvider,
        "Please join to produce the logs.",
    )
    .await
    .unwrap();
    wait_until(10, "every node holds ru-isp invited", || {
        [us, ru, de, isp]
            .iter()
            .all(|n| standing(n, &team, "ru-isp") == Some(Membership::Invited))
    })
    .await;
    let e = us
        .invite(&team, "ru-isp", Role::CoInvestigator, "")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("already on the roster"), "{e}");
    let on_isp = isp.case_detail(&team).unwrap();
    assert_eq!(on_isp.case.kind, "joint_team");
    assert_eq!(on_isp.case.subject, "JIT Hospital Ransomware");
    // Invited is not a member: it writes nothing yet.
    let e = isp
        .update(&team, json!({"text": "Hello"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a member"), "{e}");
    isp.accept_invitation(&team).await.unwrap();
    wait_until(10, "ru-isp a member everywhere", || {
        [us, ru, de, isp]
            .iter()
            .all(|n| standing(n, &team, "ru-isp") == Some(Membership::Member))
    })
    .await;
    for n in [us, ru, de, isp] {
        assert!(roster(n, &team).contains(&(
            "ru-isp".into(),
            Role::ExecutingProvider,
            Membership::Member
        )));
    }
    // The inviter hands over the earlier thread: the provider reads it all,
    // each envelope checked against its sender's card.
    wait_until(10, "the earlier thread at ru-isp", || {
        isp.case_detail(&team).is_ok_and(|d| {
            d.messages.iter().any(|m| {
                m.direction == "relayed" && m.body["text"] == "Seized server images are ready."
            }) && d
                .messages
                .iter()
                .any(|m| m.direction == "relayed" && m.kind == "joint_team")
        })
    })
    .await;
    isp.update(
        &team,
        json!({"text": "Logs for 1–30 November attached later."}),
    )
    .await
    .unwrap();
    wait_until(10, "the provider's update at every member", || {
        [us, ru, de]
            .iter()
            .all(|n| has_update(n, &team, "Logs for 1–30 November attached later."))
    })
    .await;

    // ru cannot hand over words of us that us did not sign: an envelope
    // "from us" signed by a key ru made (with a card to match) is refused,
    // and changes no one's standing.
    let fake_key = NoteSigner::new("liaison/us/f0f0f0f0", ED25519, [3; 32]).unwrap();
    let mut fake_card = us.card();
    fake_card.log_origin = "liaison/us/f0f0f0f0".into();
    fake_card.log_key = fake_key.verifier().to_encoded();
    let forged_departure = Envelope {
        id: "a".repeat(32),
        sender: "us".into(),
        recipient: "ru".into(),
        also_to: vec!["ru-isp".into()],
        kind: "departure".into(),
        case_id: team.clone(),
        created: liaison_node::now_rfc3339(),
        body: json!({"text": "us leaves"}),
        attachments: vec![],
    }
    .sign(&fake_key)
    .unwrap();
    let thread = Envelope {
        id: "b".repeat(32),
        sender: "ru".into(),
        recipient: "ru-isp".into(),
        also_to: vec![],
        kind: "thread".into(),
        case_id: team.clone(),
        created: liaison_node::now_rfc3339(),
        body: json!({
            "envelopes": [serde_json::to_string(&forged_departure).unwrap()],
            "cards": [fake_card],
        }),
        attachments: vec![],
    };
    let answer = forge(&net["ru"], &net["ru-isp"], thread).await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "bad_envelope", "{}", error.message);
    assert!(error.message.contains("pinned key"), "{}", error.message);
    assert_eq!(standing(isp, &team, "us"), Some(Membership::Member));

    // de leaves: it stays on the roster, gone, and takes no part any more.
    de.leave_team(&team, "Our part is done.").await.unwrap();
    wait_until(10, "de gone everywhere", || {
        [us, ru, isp, de]
            .iter()
            .all(|n| standing(n, &team, "de") == Some(Membership::Left))
    })
    .await;
    assert_eq!(roster(us, &team).len(), 4);
    let e = de
        .update(&team, json!({"text": "One more thing"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a member"), "{e}");
    let forged = Envelope {
        id: "d".repeat(32),
        sender: "de".into(),
        recipient: "us".into(),
        also_to: vec![],
        kind: "update".into(),
        case_id: team.clone(),
        created: liaison_node::now_rfc3339(),
        body: json!({"text": "Sneaking back in"}),
        attachments: vec![],
    };
    let answer = forge(&net["de"], &net["us"], forged).await;
    let error = answer.results[0].error.as_ref().unwrap();
    assert_eq!(error.code, "wrong_case", "{}", error.message);
    assert!(error.message.contains("gone"), "{}", error.message);
    // What us writes now goes to ru and ru-isp only.
    let sent = us
        .update(&team, json!({"text": "Next meeting on 10 December."}))
        .await
        .unwrap();
    wait_until(10, "both receipts", || {
        us.case_detail(&team).is_ok_and(|d| {
            d.messages.iter().any(|m| {
                m.envelope_hash == sent.envelope_hash
                    && m.receipts.len() == 2
                    && m.receipts.iter().all(|r| r.receipt_verified == Some(true))
            })
        })
    })
    .await;
    assert!(!has_update(de, &team, "Next meeting on 10 December."));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitee_that_does_not_pin_every_member_cannot_accept() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("ru").config(kind_of("authority", "RU")),
    ])
    .await;
    let (us, ru) = (&net["us"].node, &net["ru"].node);
    // An expert group that only us pins.
    let root = tempfile::tempdir().unwrap();
    let ngo = live_node_as(
        root.path(),
        "ngo",
        "party",
        Some(Box::new(kind_of("expert", "CH"))),
    )
    .await;
    pin_each_other(us, &ngo.node).await;
    let team = us
        .open_case("ru", "joint_team", team_charter())
        .await
        .unwrap()
        .case_id;
    wait_until(10, "ru holds the team", || ru.case_detail(&team).is_ok()).await;
    us.invite(&team, "ngo", Role::CoInvestigator, "Forensic help welcome.")
        .await
        .unwrap();
    wait_until(10, "ngo and ru hold the invitation", || {
        standing(&ngo.node, &team, "ngo") == Some(Membership::Invited)
            && standing(ru, &team, "ngo") == Some(Membership::Invited)
    })
    .await;
    // ru does not pin ngo: its case page names it.
    assert_eq!(ru.case_detail(&team).unwrap().unpinned, ["ngo"]);
    let e = ngo
        .node
        .accept_invitation(&team)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("pin every member") && e.contains("ru"), "{e}");
    assert_eq!(standing(us, &team, "ngo"), Some(Membership::Invited));
}
