//! The verifiable directory among real nodes: `us` publishes its 24/7
//! contacts in its log; `ru` fetches them from `us`; `de`, which pins only
//! `ru` and the witness, gets `us`'s entry from `ru` and checks it against
//! the witness's cosignature itself, then pins `us` from it once given the
//! right fingerprint. A changed byte, or no pinned witness, verifies nothing.

use liaison_core::directory::{ContactPoint, DirectoryRecord};
use liaison_node::Node;

use crate::support::*;

fn contacts(phone: &str) -> Vec<ContactPoint> {
    vec![ContactPoint {
        name: "DOJ CCIPS 24/7 duty".into(),
        role: "24/7 point of contact (Budapest Convention art. 35)".into(),
        languages: vec!["en".into()],
        hours: "24/7".into(),
        phone: phone.into(),
        email: "ccips-duty@usdoj.example".into(),
    }]
}

/// Fast cosigning, and no background directory fetches (the test fetches).
fn quick(c: &mut liaison_node::Config) {
    c.witness.interval_secs = 1;
    c.directory.sync_secs = 3600;
}

/// Waits until `node` serves a record of each of its entries (each proved
/// against a cosigned checkpoint that holds it).
async fn proved(node: &Node, entries: usize) -> Vec<DirectoryRecord> {
    wait_until(
        20,
        "the entries proved against a cosigned checkpoint",
        || node.directory_records(0).unwrap().records.len() >= entries,
    )
    .await;
    node.directory_records(0).unwrap().records
}

/// Two authorities and a witness, with fast cosigning.
async fn us_ru_and_a_witness() -> Net {
    Net::of(vec![
        party("us").config(|c| {
            kind_of("authority", "US")(c);
            quick(c);
        }),
        party("ru").config(|c| {
            kind_of("authority", "RU")(c);
            quick(c);
        }),
        witness("wit").config(quick),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_verify_from_any_holder_against_a_pinned_witness() {
    let net = us_ru_and_a_witness().await;
    let (us, ru) = (&net["us"].node, &net["ru"].node);
    // Serving published a first entry (the card, no contacts yet); now the contacts.
    assert!(
        us.publish_directory(Some(contacts("+1 202 555 0100")))
            .await
            .unwrap()
    );
    assert!(!us.publish_directory(None).await.unwrap(), "unchanged");
    proved(us, 2).await;
    let report = ru.sync_directory().await.unwrap();
    assert!(report.added >= 2, "{report:?}");
    assert_eq!(report.refused, 0, "{report:?}");
    // Each peer's cursor: a second fetch brings only what is new (nothing).
    let again = ru.sync_directory().await.unwrap();
    assert_eq!((again.fetched, again.added), (0, 0), "{again:?}");
    let on_ru = ru.directory().unwrap();
    let entry = on_ru.iter().find(|l| l.party == "us").unwrap();
    assert_eq!(entry.versions, 2);
    assert_eq!(entry.entry.contacts, contacts("+1 202 555 0100"));
    assert!(entry.entry.accepts.contains(&"mla".to_owned()));
    assert!(entry.pinned && entry.pinned_same_card);
    assert!(!entry.witnesses.is_empty());

    // de pins only ru and the witness: it learns us's entry from ru and
    // checks it itself.
    let root = tempfile::tempdir().unwrap();
    let de = live_node_as(
        root.path(),
        "de",
        "party",
        Some(Box::new(|c: &mut liaison_node::Config| {
            kind_of("authority", "DE")(c);
            quick(c);
        })),
    )
    .await;
    pin_each_other(&de.node, ru).await;
    pin_each_other(&de.node, &net["wit"].node).await;
    let report = de.node.sync_directory().await.unwrap();
    assert_eq!(report.refused, 0, "{report:?}");
    let listing = de.node.directory().unwrap();
    let us_entry = listing.iter().find(|l| l.party == "us").unwrap();
    assert!(!us_entry.pinned);
    assert_eq!(us_entry.entry.contacts[0].phone, "+1 202 555 0100");
    // Discovery is automatic; trust stays a decision.
    let e = de
        .node
        .pin_from_directory("us", &"0".repeat(64))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not us's"), "{e}");
    assert!(de.node.peer("us").unwrap().is_none());
    let fingerprint = us.card().tls_fingerprint;
    let colons: String = fingerprint
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    de.node.pin_from_directory("us", &colons).await.unwrap();
    assert_eq!(de.node.peer("us").unwrap().unwrap().card, us.card());

    // A changed byte anywhere in a record verifies nothing.
    let records = us.directory_records(0).unwrap().records;
    let mut changed = records.last().unwrap().clone();
    changed.entry = changed.entry.replace("0100", "0199");
    let mut bad_proof = records.last().unwrap().clone();
    bad_proof.proof = bad_proof.proof.replacen('A', "B", 1);
    let (added, refused) = ru
        .take_records("test", vec![changed, bad_proof])
        .await
        .unwrap();
    assert_eq!((added, refused), (0, 2));

    // A node that pins no witness takes nothing.
    let lone = live_node_as(root.path(), "lone", "party", None).await;
    pin_each_other(&lone.node, us).await;
    let report = lone.node.sync_directory().await.unwrap();
    assert_eq!(report.added, 0, "{report:?}");
    assert!(report.refused >= 2, "{report:?}");
    assert!(
        lone.node
            .directory()
            .unwrap()
            .iter()
            .all(|l| l.party == "lone")
    );

    // A change is a new entry; the history stays.
    assert!(
        us.publish_directory(Some(contacts("+1 202 555 0111")))
            .await
            .unwrap()
    );
    proved(us, 3).await;
    ru.sync_directory().await.unwrap();
    let entry = ru
        .directory()
        .unwrap()
        .into_iter()
        .find(|l| l.party == "us")
        .unwrap();
    assert_eq!(entry.versions, 3);
    assert_eq!(entry.entry.contacts[0].phone, "+1 202 555 0111");

    // The API and the page show it (the page in both languages).
    let officer = Api::as_user(ru, net["ru"].app_url(), "olga", "legal_officer").await;
    let (status, listed) = officer.get("/api/v1/directory").await;
    assert_eq!(status, 200, "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["party"] == "us" && l["entry"]["contacts"][0]["hours"] == "24/7")
    );
    // The CLI lists it.
    let dir = net["ru"].dir.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || liaison(&["--json", "directory", &dir]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["party"] == "us" && l["versions"] == 3)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_party_whose_contact_misses_pings_within_its_stated_hours_is_flagged() {
    let net = Net::of(vec![
        party("us").config(|c| {
            quick(c);
            // Any ping not acknowledged at once is missed.
            c.deadlines.hotline_ack_minutes = 0;
        }),
        party("ru").config(quick),
        party("de").config(quick),
        witness("wit").config(quick),
    ])
    .await;
    let (us, ru, de) = (&net["us"].node, &net["ru"].node, &net["de"].node);
    // ru answers around the clock; de only in an hour far from now.
    let hour = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .hour();
    let start = if hour + 6 <= 22 { hour + 6 } else { 1 };
    let de_hours = format!("mon-sun {start:02}:00-{:02}:00 UTC", start + 1);
    let desk = |hours: &str| {
        vec![ContactPoint {
            hours: hours.to_owned(),
            ..contacts("+7 495 000 00 00")[0].clone()
        }]
    };
    ru.publish_directory(Some(desk("24/7"))).await.unwrap();
    de.publish_directory(Some(desk(&de_hours))).await.unwrap();
    // Hours that do not parse are refused at publication.
    assert!(
        de.publish_directory(Some(desk("office hours")))
            .await
            .is_err()
    );
    proved(ru, 2).await;
    proved(de, 2).await;
    us.sync_directory().await.unwrap();
    for to in ["ru", "de"] {
        us.ping(to, true).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let stats = us.ping_stats().unwrap();
    let of = |p: &str| stats.iter().find(|s| s.party == p).unwrap().clone();
    let (on_ru, on_de) = (of("ru"), of("de"));
    assert_eq!(on_ru.stated_hours, ["24/7"]);
    assert_eq!((on_ru.in_hours, on_ru.missed_in_hours), (1, 1));
    assert!(on_ru.flagged, "{on_ru:?}");
    assert_eq!(on_de.stated_hours, std::slice::from_ref(&de_hours));
    assert_eq!(on_de.in_hours, 0, "{on_de:?}");
    assert!(!on_de.flagged, "outside its stated hours");
    assert_eq!(on_ru.recent.len(), 1);
    assert!(on_ru.recent[0].missed && on_ru.recent[0].response_secs.is_none());
    // The transparency report carries the same figures.
    let report = us.stats().unwrap();
    assert!(report.pings.iter().any(|p| p.party == "ru" && p.flagged));
}

#[tokio::test(flavor = "multi_thread")]
async fn twelve_parties_converge_on_a_broadcast_and_a_directory_update() {
    // Twelve parties and a witness, every one pinned to every other.
    let mut members = vec![witness("wit").config(|c: &mut liaison_node::Config| {
        c.witness.interval_secs = 1;
        c.directory.sync_secs = 1;
    })];
    let codes: Vec<String> = (1..=12).map(|i| format!("p{i:02}")).collect();
    for code in &codes {
        members.push(party(code).config(|c: &mut liaison_node::Config| {
            c.witness.interval_secs = 1;
            c.directory.sync_secs = 1;
        }));
    }
    let net = Net::of(members).await;
    let first = &net["p01"].node;
    // One broadcast: a glossary proposal to all eleven others.
    first
        .glossary_propose(
            "sinkhole",
            "sinkhole",
            "синкхол",
            "A server that takes over a botnet's domains.",
            "Сервер, перехватывающий домены ботнета.",
            vec!["project".into()],
        )
        .await
        .unwrap();
    wait_until(60, "every receipt of the broadcast", || {
        count(first, "outbox WHERE state = 'delivered'") == 11
    })
    .await;
    for code in &codes[1..] {
        assert!(net[code].node.glossary_term("sinkhole").is_ok(), "{code}");
    }
    // One directory update: every party holds it, proved, within a few rounds.
    first
        .publish_directory(Some(contacts("+1 202 555 0123")))
        .await
        .unwrap();
    wait_until(60, "every directory converged", || {
        codes[1..].iter().all(|code| {
            net[code].node.directory().unwrap().iter().any(|l| {
                l.party == "p01"
                    && l.entry
                        .contacts
                        .first()
                        .is_some_and(|c| c.phone == "+1 202 555 0123")
            })
        })
    })
    .await;
    // And every party's audit of every other is clean.
    for code in &codes {
        assert_clean_audit(&net[code].node).await;
    }
}

/// Every record a node holds, page after page.
fn all_records(node: &Node) -> Vec<DirectoryRecord> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = node.directory_records(after).unwrap();
        let short = page.records.len() < liaison_node::directory::PAGE_RECORDS;
        out.extend(page.records);
        if short || page.next == after {
            return out;
        }
        after = page.next;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_directory_larger_than_one_answer_comes_over_in_one_round() {
    let net = us_ru_and_a_witness().await;
    let (us, ru) = (&net["us"].node, &net["ru"].node);
    let page = liaison_node::directory::PAGE_RECORDS;
    let changes = page + 10;
    for i in 0..changes {
        assert!(
            us.publish_directory(Some(contacts(&format!("+1 202 555 {i:04}"))))
                .await
                .unwrap()
        );
    }
    // The card's entry at serve start, then every change.
    wait_until(
        20,
        "every entry proved against a cosigned checkpoint",
        || all_records(us).len() > changes,
    )
    .await;
    assert_eq!(us.directory_records(0).unwrap().records.len(), page);

    let report = ru.sync_directory().await.unwrap();
    assert!(report.added > changes, "{report:?}");
    assert_eq!(report.refused, 0, "{report:?}");
    let listing = ru.directory().unwrap();
    let entry = listing.iter().find(|l| l.party == "us").unwrap();
    assert_eq!(entry.versions, changes + 1);
    assert_eq!(
        entry.entry.contacts,
        contacts(&format!("+1 202 555 {:04}", changes - 1))
    );
    let again = ru.sync_directory().await.unwrap();
    assert_eq!((again.fetched, again.added), (0, 0), "{again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn records_refused_before_a_witness_is_pinned_are_fetched_again_after() {
    let net = us_ru_and_a_witness().await;
    let (us, ru) = (&net["us"].node, &net["ru"].node);
    assert!(
        us.publish_directory(Some(contacts("+1 202 555 0199")))
            .await
            .unwrap()
    );
    proved(us, 2).await;
    ru.sync_directory().await.unwrap();
    // fr pins ru first: nothing of ru's verifies yet.
    let root = tempfile::tempdir().unwrap();
    let fr = live_node_as(
        root.path(),
        "fr",
        "party",
        Some(Box::new(|c: &mut liaison_node::Config| {
            kind_of("authority", "FR")(c);
            quick(c);
        })),
    )
    .await;
    pin_each_other(&fr.node, ru).await;
    let first = fr.node.sync_directory().await.unwrap();
    assert!(first.refused > 0, "{first:?}");
    assert!(fr.node.directory().unwrap().iter().all(|l| l.party != "us"));
    // Then the witness (which does not pin fr: only ru can bring us's
    // entry): the records refused before come again from ru and verify.
    fr.node
        .pin_peer(&net["wit"].node.card(), false)
        .await
        .unwrap();
    let second = fr.node.sync_directory().await.unwrap();
    assert_eq!(second.refused, 0, "{second:?}");
    assert!(second.added > 0, "{second:?}");
    let listing = fr.node.directory().unwrap();
    let entry = listing.iter().find(|l| l.party == "us").unwrap();
    assert_eq!(entry.entry.contacts, contacts("+1 202 555 0199"));
}
