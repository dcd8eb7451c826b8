//! Property: every participant of a case derives the same case — state,
//! marking, roster, item answers, envelopes — from the same envelopes,
//! whatever order they arrive in. Real nodes (real stores, real signatures)
//! play a random thread among 2 to 8 participants, each acting on what it
//! holds at that moment; a simulated network hands each envelope to each
//! recipient through the real receiving path, in a random order that keeps
//! each sender's stream to each recipient in order (as the delivery worker
//! does), and settles each answer through the real settlement path.

use std::collections::{BTreeMap, HashSet, VecDeque};

use liaison_core::envelope::{DeliveryRequest, SignedEnvelope};
use liaison_store::federation::{self as db, Delivery, OutboxItem};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::Node;
use crate::attachments::Attaching;

const KINDS: [&str; 3] = ["note", "incident", "content_report"];

fn opening(kind: &str) -> Value {
    match kind {
        "note" => json!({"subject": "Thread", "text": "Opening"}),
        "incident" => json!({
            "title": "Wiper at a grid operator",
            "reporting_team": {"name": "CERT", "contact_person": "Duty", "email": "soc@cert.example"},
            "sectors": ["us-energy"],
            "severity": "severe",
            "tlp": "TLP:GREEN",
            "description": "Destructive malware disabled workstations.",
            "indicators": [{"type": "ipv4-addr", "value": "198.51.100.23"}],
            "request": "mitigation",
            "request_details": "Take the servers down.",
            "first_seen": "2026-11-22T03:10:00Z"
        }),
        _ => json!({
            "title": "Recruitment videos",
            "reporting_unit": {"name": "Unit", "contact_person": "A. Smith", "email": "iru@example.org"},
            "provider": "ExampleTube",
            "tlp": "amber",
            "items": [
                {"type": "url", "value": "https://video.example/1", "behaviour": "recruitment",
                 "urgency": "standard", "entity": "Group X"},
                {"type": "sha256", "value": "ab".repeat(32), "behaviour": "instruction", "urgency": "priority"},
                {"type": "md5", "value": "cd".repeat(16), "behaviour": "threat", "urgency": "standard"}
            ]
        }),
    }
}

/// One thing a participant does, on what it holds when it does it.
#[derive(Clone, Debug)]
struct Step {
    actor: usize,
    op: u8,
    pick: usize,
    /// Deliveries before the step: which link's next envelope, each.
    deliveries: Vec<usize>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0usize..8,
        0u8..4,
        0usize..64,
        proptest::collection::vec(0usize..64, 0..5),
    )
        .prop_map(|(actor, op, pick, deliveries)| Step {
            actor,
            op,
            pick,
            deliveries,
        })
}

/// What must agree across participants.
#[derive(Debug, PartialEq, Eq)]
struct Derived {
    state: String,
    tlp: String,
    roster: Vec<(String, &'static str)>,
    envelopes: Vec<String>,
    items: Vec<Vec<(String, &'static str)>>,
}

fn derived(node: &Node, case: &str) -> Derived {
    let d = node.case_detail(case).unwrap();
    let mut envelopes: Vec<String> = d.messages.iter().map(|m| m.envelope_hash.clone()).collect();
    envelopes.sort();
    Derived {
        state: d.case.state.clone(),
        tlp: d.case.tlp.clone(),
        roster: d
            .participants
            .iter()
            .map(|p| (p.party.clone(), p.role.as_str()))
            .collect(),
        envelopes,
        items: d
            .items
            .unwrap_or_default()
            .iter()
            .map(|i| {
                i.by_provider
                    .iter()
                    .map(|p| (p.party.clone(), p.state.status.as_str()))
                    .collect()
            })
            .collect(),
    }
}

/// The network between the nodes: per (sender, recipient), the envelopes
/// in the sender's outbox order.
struct Wire<'a> {
    nodes: &'a [Node],
    case: String,
    links: BTreeMap<(usize, usize), VecDeque<OutboxItem>>,
    queued: HashSet<(usize, i64)>,
    refusals: Vec<String>,
}

impl Wire<'_> {
    fn collect(&mut self, from: usize) {
        let pending = self.nodes[from]
            .store
            .read(|c| db::undelivered(c, None))
            .unwrap();
        for item in pending {
            // Only the case's envelopes (hash-list changes go to every party).
            if item.case_id != self.case
                || item.state != Delivery::Pending
                || !self.queued.insert((from, item.seq))
            {
                continue;
            }
            let to = self
                .nodes
                .iter()
                .position(|n| n.party.as_str() == item.peer)
                .unwrap();
            self.links.entry((from, to)).or_default().push_back(item);
        }
    }

    /// Hands the next envelope of a link over; returns whether it landed
    /// (false: the recipient put it off, and it stays first on its link).
    async fn deliver(&mut self, (from, to): (usize, usize)) -> bool {
        let Some(item) = self.links.get(&(from, to)).and_then(|q| q.front()).cloned() else {
            return false;
        };
        let (sender, recipient) = (&self.nodes[from], &self.nodes[to]);
        let signed: SignedEnvelope = serde_json::from_str(&item.signed_json).unwrap();
        let as_seen_by_recipient = recipient.peer(sender.party.as_str()).unwrap().unwrap();
        let response = recipient
            .receive(
                &as_seen_by_recipient,
                DeliveryRequest {
                    envelopes: vec![signed],
                },
            )
            .await
            .unwrap();
        let result = &response.results[0];
        if let Some(e) = &result.error {
            self.refusals.push(format!("{}: {}", e.code, e.message));
        }
        let as_seen_by_sender = sender.peer(recipient.party.as_str()).unwrap().unwrap();
        let updates = super::delivery::answers(sender, &as_seen_by_sender, &[item], &response);
        super::delivery::settle(sender, recipient.party.to_string(), updates)
            .await
            .unwrap();
        if result.deferred.is_some() {
            return false;
        }
        if let Some(q) = self.links.get_mut(&(from, to)) {
            q.pop_front();
        }
        true
    }

    fn open_links(&self) -> Vec<(usize, usize)> {
        self.links
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(k, _)| *k)
            .collect()
    }
}

async fn act(node: &Node, case: &str, kind: &str, step: &Step) {
    let Ok(detail) = node.case_detail(case) else {
        return;
    };
    // Refusals of an action by the actor's own node (not its turn, an answer
    // that is not allowed now) are part of the game: the step is skipped.
    let _ = match (kind, step.op) {
        ("note", _) => {
            node.reply(
                case,
                json!({"subject": "Reply", "text": format!("{}", step.pick)}),
            )
            .await
        }
        ("incident", 0 | 1) => {
            node.update(case, json!({"text": format!("Update {}", step.pick)}))
                .await
        }
        ("content_report", 0 | 1) if detail.role == "requested" => {
            let statuses = ["checked", "removed", "still_online", "disputed"];
            let status = statuses[step.pick % statuses.len()];
            let item = step.pick % 3;
            node.answer_items(
                case,
                json!({"answers": [{"item": item, "status": status, "reason": "Seen"}]}),
            )
            .await
        }
        _ => {
            // Ending a thread now and then, not at every turn: threads get long.
            let actions: Vec<&str> = detail
                .available_actions
                .iter()
                .copied()
                .filter(|a| step.pick.is_multiple_of(8) || !matches!(*a, "refuse" | "withdraw"))
                .collect();
            if actions.is_empty() {
                return;
            }
            let action = actions[step.pick % actions.len()];
            let details = match action {
                "refuse" => json!({"text": "No", "ground": "insufficient_information"}),
                "extend" => json!({"days": 10}),
                _ => json!({"text": format!("Step {}", step.pick)}),
            };
            node.act_with(case, action, details, Attaching::none())
                .await
        }
    };
}

async fn play(nodes: &[Node], n: usize, kind: &str, steps: &[Step], order: &[usize]) {
    let others: Vec<String> = nodes[1..n].iter().map(|p| p.party.to_string()).collect();
    let case = nodes[0]
        .open_case_with(&others, kind, opening(kind), Attaching::none())
        .await
        .unwrap()
        .case_id;
    let mut wire = Wire {
        nodes: &nodes[..n],
        case: case.clone(),
        links: BTreeMap::new(),
        queued: HashSet::new(),
        refusals: Vec::new(),
    };
    wire.collect(0);
    for s in steps {
        for pick in &s.deliveries {
            let links = wire.open_links();
            if !links.is_empty() {
                wire.deliver(links[pick % links.len()]).await;
            }
        }
        let actor = s.actor % n;
        act(&nodes[actor], &case, kind, s).await;
        wire.collect(actor);
    }
    // Then everything still on the wire, in a random order that makes progress.
    let mut turn = 0usize;
    let mut idle = 0usize;
    while !wire.open_links().is_empty() {
        let links = wire.open_links();
        let pick = order[turn % order.len()].wrapping_add(turn / order.len());
        turn += 1;
        if wire.deliver(links[pick % links.len()]).await {
            idle = 0;
        } else {
            idle += 1;
            assert!(idle < 10_000, "delivery is stuck: {:?}", wire.links);
        }
    }
    assert!(
        wire.refusals.is_empty(),
        "refused on arrival: {:?}",
        wire.refusals
    );
    let first = derived(&nodes[0], &case);
    assert_eq!(first.roster.len(), n);
    for node in &nodes[1..n] {
        assert_eq!(
            derived(node, &case),
            first,
            "{} disagrees with {}",
            node.party,
            nodes[0].party
        );
    }
}

#[test]
fn every_participant_derives_the_same_case_whatever_the_arrival_order() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Eight authorities (they take every kind), each pinned to every other;
    // each case of the property uses the first n of them.
    let nodes: Vec<Node> = runtime.block_on(async {
        let mut nodes = Vec::new();
        for i in 0..8 {
            let code = format!("p{i}");
            let mut o = crate::InitOptions::new(&code, &code);
            o.listen = "127.0.0.1:0".into();
            o.app_listen = "127.0.0.1:0".into();
            nodes.push(crate::init(&tmp.path().join(&code), &o).await.unwrap());
        }
        for a in &nodes {
            for b in &nodes {
                if a.party != b.party {
                    a.pin_peer(&b.card(), false).await.unwrap();
                }
            }
        }
        nodes
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        // Each case is a real exchange among real nodes: shrinking would
        // replay hundreds of them.
        max_shrink_iters: 16,
        ..ProptestConfig::default()
    });
    let strategy = (
        2usize..=8,
        0usize..KINDS.len(),
        proptest::collection::vec(step(), 0..16),
        proptest::collection::vec(0usize..1000, 1..40),
    );
    runner
        .run(&strategy, |(n, kind, steps, order)| {
            runtime.block_on(play(&nodes, n, KINDS[kind], &steps, &order));
            Ok(())
        })
        .unwrap();
}
