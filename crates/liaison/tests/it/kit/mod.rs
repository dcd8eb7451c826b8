//! The test kit: a network of real nodes served in this process on
//! 127.0.0.1:0 (real TLS, real SQLite files), each pinned to every other,
//! and a valid body of every request kind (`fixtures`).
//!
//! ```ignore
//! let net = Net::with(&["us", "ru"]).await;
//! let (us, ru) = (&net["us"], &net["ru"]);
//! us.node.open_case("ru", "note", note("Hello")).await.unwrap();
//! ```

pub mod fixtures;

use std::path::Path;

use liaison_node::Config;

use crate::support::{LiveNode, live_node_as};

/// A change to a node's configuration before it starts.
pub type ConfigChange<'a> = Box<dyn FnOnce(&mut Config) + 'a>;

/// One node of a network: its party code, role and configuration.
pub struct Member<'a> {
    party: String,
    role: &'static str,
    change: Option<ConfigChange<'a>>,
}

/// A party node.
pub fn party<'a>(code: &str) -> Member<'a> {
    Member {
        party: code.to_owned(),
        role: "party",
        change: None,
    }
}

/// A witness node (it cosigns the parties' checkpoints).
pub fn witness<'a>(code: &str) -> Member<'a> {
    Member {
        party: code.to_owned(),
        role: "witness",
        change: None,
    }
}

impl<'a> Member<'a> {
    /// Changes the node's configuration before it starts.
    pub fn config(mut self, change: impl FnOnce(&mut Config) + 'a) -> Member<'a> {
        self.change = Some(Box::new(change));
        self
    }
}

/// A configuration change making the node a party of `kind` in `jurisdiction`.
pub fn kind_of(kind: &'static str, jurisdiction: &'static str) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.node.kind = Some(kind.into());
        c.node.jurisdiction = Some(jurisdiction.into());
    }
}

/// Real nodes in one temporary directory, each pinned to every other.
pub struct Net {
    nodes: Vec<LiveNode>,
    // Dropped last: the nodes' files live here.
    root: tempfile::TempDir,
}

impl Net {
    /// Parties with the default configuration, pinned to each other.
    pub async fn with(parties: &[&str]) -> Net {
        Net::of(parties.iter().map(|p| party(p)).collect()).await
    }

    /// Any members (parties, witnesses, changed configurations).
    pub async fn of(members: Vec<Member<'_>>) -> Net {
        let root = tempfile::tempdir().unwrap();
        let mut nodes = Vec::new();
        for m in members {
            nodes.push(live_node_as(root.path(), &m.party, m.role, m.change).await);
        }
        for (i, a) in nodes.iter().enumerate() {
            for b in &nodes[i + 1..] {
                a.node.pin_peer(&b.node.card(), false).await.unwrap();
                b.node.pin_peer(&a.node.card(), false).await.unwrap();
            }
        }
        Net { nodes, root }
    }

    /// The directory holding every node's directory (`root/<party>`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

impl std::ops::Index<&str> for Net {
    type Output = LiveNode;

    fn index(&self, party: &str) -> &LiveNode {
        self.nodes
            .iter()
            .find(|n| n.node.party().as_str() == party)
            .unwrap_or_else(|| panic!("the network has no node {party}"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_opens_with_its_fixture_and_reaches_every_member() {
    let net = Net::of(vec![
        party("us"),
        party("ru"),
        party("de"),
        party("de-isp").config(kind_of("provider", "DE")),
    ])
    .await;
    let mut opened = Vec::new();
    for kind in liaison_core::case::OPENING_KINDS {
        // A direct order goes to a provider abroad; the rest to authorities.
        let recipients: &[&str] = match kind {
            liaison_core::case::CaseKind::ProductionOrder => &["de-isp"],
            _ => &["ru", "de"],
        };
        for to in recipients.iter().copied() {
            let sent = net["us"]
                .node
                .open_case(to, kind.as_str(), fixtures::opening(kind))
                .await
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            opened.push((to, sent.case_id));
        }
    }
    crate::support::wait_until(20, "every case on its recipient", || {
        opened
            .iter()
            .all(|(to, id)| net[to].node.case_detail(id).is_ok())
    })
    .await;
    // Each pair of members is pinned both ways.
    for a in ["us", "ru", "de", "de-isp"] {
        assert_eq!(net[a].node.peers().unwrap().len(), 3, "{a}");
    }
}
