//! Kinds of party: what each card names, which cases each kind takes (checked
//! by the sender and again on arrival), and version 1 cards still read.

use liaison_core::card::check_card;
use liaison_core::case::{ALL_KINDS, CaseKind};
use liaison_core::envelope::Envelope;
use liaison_proto::{CARD_VERSION, CARD_VERSION_1, PartyKind};

use crate::support::*;

#[test]
fn each_kind_of_party_takes_its_cases() {
    use PartyKind::*;
    let takes = |p: PartyKind| -> Vec<&str> {
        ALL_KINDS
            .into_iter()
            .filter(|k| k.accepted_by(p))
            .map(CaseKind::as_str)
            .collect()
    };
    // Every kind but a direct order, which goes to a provider (and to the
    // authority notified of it, as a further recipient).
    assert_eq!(takes(Authority).len(), ALL_KINDS.len() - 1);
    assert!(!CaseKind::ProductionOrder.accepted_by(Authority));
    assert!(CaseKind::ProductionOrder.accepted_among(Authority, false));
    assert!(!CaseKind::ProductionOrder.accepted_among(Provider, false));
    assert_eq!(takes(Cert), ["note", "incident", "hotline", "ping"]);
    assert_eq!(
        takes(Provider),
        [
            "note",
            "ping",
            "content_report",
            "production_order",
            "execution"
        ]
    );
    assert_eq!(takes(Expert), ["note", "ping"]);
    assert!(takes(Witness).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_names_kind_and_jurisdiction_and_old_cards_are_an_authoritys() {
    let net = Net::of(vec![party("us").config(kind_of("authority", "US"))]).await;
    let card = net["us"].node.card();
    assert_eq!(card.liaison_card, CARD_VERSION);
    assert_eq!(card.kind, Some(PartyKind::Authority));
    assert_eq!(card.jurisdiction.as_deref(), Some("US"));
    assert_eq!(check_card(&card).unwrap().kind, PartyKind::Authority);

    // A version 1 card (a node made before party kinds) is an authority's.
    let mut old = card.clone();
    old.liaison_card = CARD_VERSION_1;
    old.kind = None;
    old.jurisdiction = None;
    assert_eq!(check_card(&old).unwrap().kind, PartyKind::Authority);
    // … and names neither field; a version 2 card must name its kind.
    let mut mixed = old.clone();
    mixed.jurisdiction = Some("US".into());
    assert!(check_card(&mixed).is_err());
    let mut kindless = card.clone();
    kindless.kind = None;
    assert!(check_card(&kindless).is_err());
    // A card cannot present one party's log as another's: the origin names it.
    let mut impostor = card.clone();
    impostor.party = "ru".into();
    let e = check_card(&impostor).unwrap_err().to_string();
    assert!(e.contains("log_origin must be liaison/ru/"), "{e}");
    // Jurisdictions are assigned ISO 3166-1 alpha-2 codes; kind and role agree.
    for bad in ["UK", "us", "USA", "EU", ""] {
        let mut c = card.clone();
        c.jurisdiction = Some(bad.into());
        assert!(check_card(&c).is_err(), "{bad:?}");
    }
    let mut witness = card.clone();
    witness.kind = Some(PartyKind::Witness);
    assert!(check_card(&witness).is_err());
    let mut future = card;
    future.liaison_card = 3;
    assert!(check_card(&future).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_without_a_kind_keeps_its_version_1_card() {
    let net = Net::of(vec![party("us").config(|c| {
        c.node.kind = None;
        c.node.jurisdiction = None;
    })])
    .await;
    let us = &net["us"].node;
    let card = us.card();
    assert_eq!(card.liaison_card, CARD_VERSION_1);
    assert_eq!((card.kind, card.jurisdiction), (None, None));
    assert_eq!(us.kind(), PartyKind::Authority);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cert_takes_incidents_not_legal_requests_on_sending_or_arrival() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("kz-cert").config(kind_of("cert", "KZ")),
    ])
    .await;
    let (us, cert) = (&net["us"], &net["kz-cert"]);
    // The sender's node refuses to open what the recipient does not take.
    let err = us
        .node
        .open_case("kz-cert", "mla", opening(CaseKind::Mla))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not take mla"), "{err}");
    assert_eq!(count(&us.node, "outbox"), 0);
    // What it takes goes through.
    let sent = us
        .node
        .open_case("kz-cert", "incident", opening(CaseKind::Incident))
        .await
        .unwrap();
    wait_until(15, "the incident arrived", || {
        cert.node.case_detail(&sent.case_id).is_ok()
    })
    .await;
    // A sender that skips the check is refused on arrival, and it is recorded.
    let mut r = [0u8; 10];
    getrandom::fill(&mut r).unwrap();
    let id = liaison_core::envelope::new_id(r);
    let forged = Envelope {
        id: id.clone(),
        sender: "us".into(),
        recipient: "kz-cert".into(),
        also_to: Vec::new(),
        kind: "mla".into(),
        case_id: format!("us-{}", &id[..20]),
        created: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap()
            .to_string(),
        body: opening(CaseKind::Mla),
        attachments: vec![],
    };
    let answer = forge(us, cert, forged).await;
    let error = answer.results[0].error.as_ref().expect("refused");
    assert_eq!(error.code, "not_accepted");
    assert_eq!(
        count(&cert.node, "rejections WHERE code = 'not_accepted'"),
        1
    );
    assert!(cert.node.case_detail(&format!("us-{}", &id[..20])).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_peers_page_shows_each_partys_kind_and_jurisdiction_in_both_languages() {
    let net = Net::of(vec![
        party("us").config(kind_of("authority", "US")),
        party("kz-cert").config(kind_of("cert", "KZ")),
        party("de-isp").config(kind_of("provider", "DE")),
    ])
    .await;
    let us = &net["us"];
    for (lang, cert, provider) in [
        ("en", "CERT · KZ", "provider · DE"),
        ("ru", "группа CERT · KZ", "провайдер · DE"),
    ] {
        let page = Page::new(
            &us.node,
            us.app_url(),
            &format!("ops-{lang}"),
            "administrator",
            lang,
        )
        .await;
        let (status, html) = page.get("/peers").await;
        assert_eq!(status, 200);
        assert!(html.contains(cert), "{lang}: {html}");
        assert!(html.contains(provider), "{lang}: {html}");
    }
}
