//! Auditing peers: is each peer's log append-only, does it contain every
//! envelope it gave us a receipt for, and did anything we sent go
//! unreceipted?

use liaison_core::card::CheckedCard;
use liaison_log::hash::leaf_hash;
use liaison_log::mldsa::MlDsaVerifier;
use liaison_log::note::{NoteVerifier, parse_note};
use liaison_log::proof::TlogProof;
use liaison_log::tree::verify_consistency;
use liaison_log::{Checkpoint, Hash};
use liaison_proto::NodeRole;
use liaison_store::federation as db;
use serde::Serialize;

use super::delivery::{SeenCheckpoint, record_checkpoint};
use super::log_scan::ScanFailure;
use crate::{Node, NodeError, now_rfc3339};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditReport {
    pub ok: bool,
    pub peers: Vec<PeerAudit>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PeerAudit {
    pub party: String,
    pub ok: bool,
    /// The peer's current checkpoint, if it could be fetched and verified.
    pub size: Option<u64>,
    pub root: Option<String>,
    /// Witnesses whose cosignatures on that checkpoint verified.
    pub cosigned_by: Vec<String>,
    /// Those of them whose ML-DSA-44 (post-quantum) cosignature verified too.
    pub cosigned_by_ml_dsa: Vec<String>,
    pub checkpoints_checked: usize,
    pub receipts_verified: usize,
    /// The peer's key changes this node followed, each found in the
    /// peer's log at the checkpoint audited.
    pub key_changes_verified: usize,
    /// Key changes made with a key the party later revoked (signed after
    /// the compromise it named, not in its log): a thief's, superseded by
    /// the revocation; recorded as evidence, not a problem of the party.
    pub key_changes_revoked: usize,
    /// How much of the peer's log this node has read and checked against
    /// a checkpoint (a long log is read over several audits): every
    /// key-change entry in it is in the chain the peer serves.
    pub log_read_to: u64,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `unreachable`, `bad_checkpoint`, `equivocation`, `inconsistent`,
    /// `bad_receipt`, `unreceipted`, `refused`, `no_ml_dsa_cosignature`,
    /// `key_change_not_logged`, `bad_entries` (the log's entries do not
    /// lead to its checkpoint), `key_change_hidden` (a key change in the
    /// log that the chain it serves lacks) or `key_change_fork` (two
    /// changes of one sequence, or one followed here that it no longer
    /// serves).
    pub kind: &'static str,
    pub message: String,
}

impl Node {
    /// Audits every pinned party (or just `only`). With `require_ml_dsa`
    /// (or `witness.require_ml_dsa`), a checkpoint no pinned witness
    /// cosigned with ML-DSA-44 is a problem.
    pub async fn audit(
        &self,
        only: Option<&str>,
        require_ml_dsa: bool,
    ) -> Result<AuditReport, NodeError> {
        let all = self.peers()?;
        // A witness's keys now, and those a rotation replaced while its
        // overlap lasts (a checkpoint may have been cosigned before it).
        let mut witnesses = Witnesses {
            ed25519: Vec::new(),
            ml_dsa: Vec::new(),
            require_ml_dsa: require_ml_dsa || self.config.witness.require_ml_dsa,
        };
        for witness in all.iter().filter(|p| p.cosigner_key.is_some()) {
            let keys = self.accepted_cosigners(witness)?;
            witnesses.ed25519.extend(keys.ed25519);
            witnesses.ml_dsa.extend(keys.ml_dsa);
        }
        let targets: Vec<&CheckedCard> = all
            .iter()
            .filter(|p| p.card.role == NodeRole::Party)
            .filter(|p| only.is_none_or(|o| p.party.as_str() == o))
            .collect();
        if let Some(o) = only
            && targets.is_empty()
        {
            return Err(NodeError::Invalid(format!("{o} is not a pinned party")));
        }
        let mut peers = Vec::new();
        for card in targets {
            peers.push(self.audit_peer(card, &witnesses).await?);
        }
        Ok(AuditReport {
            ok: peers.iter().all(|p| p.ok),
            peers,
        })
    }

    async fn audit_peer(
        &self,
        card: &CheckedCard,
        witnesses: &Witnesses,
    ) -> Result<PeerAudit, NodeError> {
        let party = card.party.to_string();
        let mut report = PeerAudit {
            party: party.clone(),
            ok: false,
            size: None,
            root: None,
            cosigned_by: Vec::new(),
            cosigned_by_ml_dsa: Vec::new(),
            checkpoints_checked: 0,
            receipts_verified: 0,
            key_changes_verified: 0,
            key_changes_revoked: 0,
            log_read_to: 0,
            problems: Vec::new(),
        };
        let client = self.peer_client(card)?;
        let base = card.card.federation_url.trim_end_matches('/').to_owned();

        // The peer's current checkpoint.
        let latest = match fetch_text(&client, &format!("{base}/log/checkpoint")).await {
            Err(e) => {
                report.problems.push(Problem {
                    kind: "unreachable",
                    message: e,
                });
                None
            }
            Ok(note) => match Checkpoint::open(&note, &card.log_key, &witnesses.ed25519) {
                Ok((cp, cosigs)) => {
                    report.cosigned_by = cosigs.into_iter().map(|s| s.name).collect();
                    report.cosigned_by_ml_dsa = witnesses.ml_dsa_cosigners(&note, &cp);
                    if witnesses.require_ml_dsa && report.cosigned_by_ml_dsa.is_empty() {
                        report.problems.push(Problem {
                            kind: "no_ml_dsa_cosignature",
                            message: format!(
                                "{party}'s checkpoint of size {} carries no ML-DSA-44 cosignature by a pinned witness",
                                cp.size
                            ),
                        });
                    }
                    let seen = SeenCheckpoint {
                        size: cp.size,
                        root: cp.root.0,
                        note: note.clone(),
                    };
                    let p = party.clone();
                    self.store
                        .write(move |tx| record_checkpoint(tx.conn(), &p, &seen, &now_rfc3339()))
                        .await?;
                    report.size = Some(cp.size);
                    report.root = Some(cp.root.to_base64());
                    Some(cp)
                }
                Err(e) => {
                    report.problems.push(Problem {
                        kind: "bad_checkpoint",
                        message: format!("{party}'s checkpoint does not verify: {e}"),
                    });
                    None
                }
            },
        };

        // Every checkpoint ever seen from the peer (audits, receipts) must be
        // a prefix of the latest one; two roots for one size are equivocation.
        let seen = self.store.read(|c| db::peer_checkpoints(c, &party))?;
        report.checkpoints_checked = seen.len();
        for pair in seen.windows(2) {
            if pair[0].size == pair[1].size && pair[0].root != pair[1].root {
                report.problems.push(Problem {
                    kind: "equivocation",
                    message: format!(
                        "{party} signed two checkpoints of size {} with roots {} and {}",
                        pair[0].size,
                        Hash(pair[0].root),
                        Hash(pair[1].root)
                    ),
                });
            }
        }
        if let Some(cp) = &latest {
            for old in &seen {
                if old.size > cp.size {
                    report.problems.push(Problem {
                        kind: "inconsistent",
                        message: format!(
                            "{party}'s log shrank from size {} to {}",
                            old.size, cp.size
                        ),
                    });
                    continue;
                }
                if old.size == cp.size || old.size == 0 {
                    continue;
                }
                let url = format!("{base}/log/proof/consistency/{}/{}", old.size, cp.size);
                let check = match fetch_text(&client, &url).await {
                    Ok(text) => parse_hashes(&text).and_then(|proof| {
                        verify_consistency(old.size, cp.size, &Hash(old.root), &cp.root, &proof)
                            .map_err(|e| e.to_string())
                    }),
                    Err(e) => Err(e),
                };
                if let Err(e) = check {
                    report.problems.push(Problem {
                        kind: "inconsistent",
                        message: format!(
                            "{party}'s checkpoint of size {} is not consistent with the one of size {} seen at {}: {e}",
                            cp.size, old.size, old.seen_at
                        ),
                    });
                }
            }
        }

        // Every receipt held proves its envelope is in the peer's log at a
        // checkpoint that was checked above.
        let receipted = self
            .store
            .read(|c| db::envelopes_with_receipts_from(c, &party))?;
        // A receipt verifies against the key that signed it then: the
        // party's current key or one it rotated away from.
        let keys = self.log_keys_of(card)?;
        for row in &receipted {
            let Some(text) = &row.receipt else { continue };
            let result = TlogProof::parse(text)
                .map_err(|e| e.to_string())
                .and_then(|proof| {
                    let leaf = liaison_core::leaf::LeafEntry::envelope(
                        Hash::from_hex(&row.hash).ok_or("stored envelope hash is malformed")?,
                    );
                    let leaf = leaf_hash(&leaf.encode());
                    let (cp, _) = keys
                        .iter()
                        .find_map(|key| proof.verify(&leaf, key, &[]).ok())
                        .map_or_else(|| proof.verify(&leaf, &card.log_key, &[]), Ok)
                        .map_err(|e| e.to_string())?;
                    if seen
                        .iter()
                        .any(|s| s.size == cp.size && s.root == cp.root.0)
                    {
                        Ok(())
                    } else {
                        Err(format!(
                            "its checkpoint (size {}) was never recorded",
                            cp.size
                        ))
                    }
                });
            match result {
                Ok(()) => report.receipts_verified += 1,
                Err(e) => report.problems.push(Problem {
                    kind: "bad_receipt",
                    message: format!("the receipt for envelope {} does not verify: {e}", row.id),
                }),
            }
        }

        // Every key change followed is in the log the witnesses cosign, and
        // the chain the party serves holds every key change its log holds:
        // it showed every peer the same chain.
        if let Some(cp) = &latest {
            let chain = self
                .store
                .read(|c| liaison_store::keys::of_party(c, &party))?;
            for (i, row) in chain.iter().enumerate() {
                let check = check_key_change_logged(&client, &base, cp, row).await;
                match check {
                    Ok(()) => report.key_changes_verified += 1,
                    Err(_) if made_with_a_revoked_key(row, &chain[i + 1..]) => {
                        report.key_changes_revoked += 1;
                    }
                    Err(e) => report.problems.push(Problem {
                        kind: "key_change_not_logged",
                        message: format!(
                            "{party}'s key change {} is not in its log at size {}: {e}",
                            row.sequence, cp.size
                        ),
                    }),
                }
            }
            let (scan, failure) = self.scan_log(&client, &base, &party, cp).await?;
            report.log_read_to = scan.size;
            match failure {
                Some(ScanFailure::Unreachable(e)) => report.problems.push(Problem {
                    kind: "unreachable",
                    message: e,
                }),
                Some(ScanFailure::BadEntries(e)) => report.problems.push(Problem {
                    kind: "bad_entries",
                    message: e,
                }),
                None => {}
            }
            if !scan.key_changes.is_empty() || !chain.is_empty() {
                self.check_served_chain(card, &scan.key_changes, &chain, &mut report)
                    .await;
            }
        }

        // Anything sent but not receipted.
        for item in self.store.read(|c| db::undelivered(c, Some(&party)))? {
            let (kind, what) = if item.state == db::Delivery::Refused {
                ("refused", "was refused")
            } else {
                ("unreceipted", "has no receipt yet")
            };
            report.problems.push(Problem {
                kind,
                message: format!(
                    "envelope {} sent at {} {what} ({} attempts; last: {})",
                    item.envelope_hash,
                    item.enqueued_at,
                    item.attempts,
                    item.last_error.as_deref().unwrap_or("none")
                ),
            });
        }
        report.ok = report.problems.is_empty();
        Ok(report)
    }
}

/// The cosigner keys of the pinned witnesses, and whether a post-quantum
/// cosignature is required.
struct Witnesses {
    ed25519: Vec<NoteVerifier>,
    ml_dsa: Vec<std::sync::Arc<MlDsaVerifier>>,
    require_ml_dsa: bool,
}

impl Witnesses {
    /// The witnesses whose ML-DSA-44 cosignature of `checkpoint` is among
    /// the lines of `note`.
    fn ml_dsa_cosigners(&self, note: &str, checkpoint: &Checkpoint) -> Vec<String> {
        let Ok(parsed) = parse_note(note) else {
            return Vec::new();
        };
        self.ml_dsa
            .iter()
            .filter(|v| v.verify_any(checkpoint, &parsed.signatures).is_ok())
            .map(|v| v.name().to_owned())
            .collect()
    }
}

impl Node {
    /// Compares the chain `card`'s party serves with the key-change entries
    /// of its log (`logged`, statement hashes) and with what this node
    /// followed (`followed`): a change logged but not served was shown to
    /// someone else; two of one sequence, or one followed here and not
    /// served, are a fork.
    async fn check_served_chain(
        &self,
        card: &CheckedCard,
        logged: &[String],
        followed: &[liaison_store::keys::KeyChangeRow],
        report: &mut PeerAudit,
    ) {
        let party = card.party.as_str();
        let served = match self.fetch_key_changes(card).await {
            Ok(served) => served,
            Err(e) => {
                report.problems.push(Problem {
                    kind: "unreachable",
                    message: e.to_string(),
                });
                return;
            }
        };
        let hashes: std::collections::HashSet<String> =
            served.iter().map(|n| n.change.hash().to_hex()).collect();
        for hash in logged.iter().filter(|h| !hashes.contains(*h)) {
            report.problems.push(Problem {
                kind: "key_change_hidden",
                message: format!(
                    "{party}'s log holds key change {hash}, which the chain it serves lacks: it was shown to someone else"
                ),
            });
        }
        let mut sequences = std::collections::HashMap::new();
        for notice in &served {
            let Ok(change) =
                serde_json::from_str::<liaison_core::keys::KeyChange>(&notice.change.statement)
            else {
                continue;
            };
            if let Some(other) = sequences.insert(change.sequence, notice.change.hash()) {
                report.problems.push(Problem {
                    kind: "key_change_fork",
                    message: format!(
                        "{party} serves two key changes numbered {} ({other} and {})",
                        change.sequence,
                        notice.change.hash()
                    ),
                });
            }
        }
        for (i, row) in followed.iter().enumerate() {
            if !hashes.contains(&row.hash) && !made_with_a_revoked_key(row, &followed[i + 1..]) {
                report.problems.push(Problem {
                    kind: "key_change_fork",
                    message: format!(
                        "{party} no longer serves its key change {} that this node followed ({})",
                        row.sequence, row.hash
                    ),
                });
            }
        }
    }
}

/// Whether a revocation recorded after `row` (in `later`) presumes the
/// key that signed it stolen by the time it was issued.
fn made_with_a_revoked_key(
    row: &liaison_store::keys::KeyChangeRow,
    later: &[liaison_store::keys::KeyChangeRow],
) -> bool {
    let Ok(issued) = row.issued_at.parse::<jiff::Timestamp>() else {
        return false;
    };
    row.kind == liaison_core::keys::ChangeKind::Rotation.as_str()
        && later.iter().any(|r| {
            r.kind == liaison_core::keys::ChangeKind::Revocation.as_str()
                && r.compromised_since
                    .as_deref()
                    .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|since| since <= issued)
        })
}

/// Whether the peer's log holds `row`'s statement at the index it named,
/// in the tree of `checkpoint`.
async fn check_key_change_logged(
    client: &reqwest::Client,
    base: &str,
    checkpoint: &Checkpoint,
    row: &liaison_store::keys::KeyChangeRow,
) -> Result<(), String> {
    let signed: liaison_core::keys::SignedKeyChange =
        serde_json::from_str(&row.signed).map_err(|e| format!("stored statement: {e}"))?;
    if row.log_index >= checkpoint.size {
        return Err(format!("index {} is beyond the tree", row.log_index));
    }
    let leaf = liaison_core::leaf::LeafEntry::new(
        liaison_core::leaf::LeafKind::KeyChange,
        signed.statement.as_bytes(),
    );
    let url = format!(
        "{base}/log/proof/inclusion/{}/{}",
        row.log_index, checkpoint.size
    );
    let proof = parse_hashes(&fetch_text(client, &url).await?)?;
    liaison_log::tree::verify_inclusion(
        row.log_index,
        checkpoint.size,
        &leaf_hash(&leaf.encode()),
        &proof,
        &checkpoint.root,
    )
    .map_err(|e| e.to_string())
}

async fn fetch_text(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let r = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let status = r.status();
    let text = r
        .text()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "{url} answered {status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    Ok(text)
}

/// Parses newline-separated base64 hashes (the proof endpoints' format).
pub fn parse_hashes(text: &str) -> Result<Vec<Hash>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| Hash::from_base64(l).map_err(|e| e.to_string()))
        .collect()
}
