//! Witnessing (c2sp.org/tlog-witness): a witness node cosigns the
//! checkpoints of the parties it has pinned, after checking they are
//! consistent with what it cosigned before; party nodes submit their
//! checkpoints to the witnesses they have pinned and serve the cosignatures
//! with their checkpoint.

use std::time::Duration;

use liaison_log::note::{parse_note, verify_signatures};
use liaison_log::tree::verify_consistency;
use liaison_log::{Checkpoint, Hash};
use liaison_proto::NodeRole;
use liaison_store::federation::{self as db, Cosignature};
use tokio::sync::watch;

use crate::{Node, NodeError, now_rfc3339};

/// An HTTP answer to `add-checkpoint`.
#[derive(Debug, PartialEq, Eq)]
pub struct WitnessAnswer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl WitnessAnswer {
    fn error(status: u16, message: impl Into<String>) -> WitnessAnswer {
        WitnessAnswer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{}\n", message.into()),
        }
    }
}

/// The parsed request body: `old N`, proof lines, a blank line, a checkpoint.
struct AddCheckpoint {
    old: u64,
    proof: Vec<Hash>,
    note: String,
}

fn parse_request(body: &str) -> Result<AddCheckpoint, String> {
    let (head, note) = body
        .split_once("\n\n")
        .ok_or("no blank line before the checkpoint")?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or("the first line is not `old <size>`")?;
    if old.is_empty()
        || !old.bytes().all(|b| b.is_ascii_digit())
        || (old.len() > 1 && old.starts_with('0'))
    {
        return Err("the old size is not a decimal without leading zeros".into());
    }
    let old: u64 = old.parse().map_err(|_| "the old size is too large")?;
    let proof = lines
        .map(|l| Hash::from_base64(l).map_err(|_| format!("proof line {l:?} is not a base64 hash")))
        .collect::<Result<Vec<_>, _>>()?;
    if proof.len() > 63 {
        return Err("more than 63 proof lines".into());
    }
    Ok(AddCheckpoint {
        old,
        proof,
        note: note.to_owned(),
    })
}

enum Decision {
    Cosign,
    Conflict(u64),
    BadProof(String),
}

impl Node {
    /// Handles `POST /witness/add-checkpoint` on a witness node.
    pub async fn witness_add_checkpoint(&self, body: &str) -> Result<WitnessAnswer, NodeError> {
        let Some(cosigners) = self.cosigners() else {
            return Ok(WitnessAnswer::error(404, "this node is not a witness"));
        };
        let request = match parse_request(body) {
            Ok(r) => r,
            Err(e) => return Ok(WitnessAnswer::error(400, e)),
        };
        let parsed = match parse_note(&request.note) {
            Ok(p) => p,
            Err(e) => return Ok(WitnessAnswer::error(400, e.to_string())),
        };
        let checkpoint = match Checkpoint::parse_text(&parsed.text) {
            Ok(c) => c,
            Err(e) => return Ok(WitnessAnswer::error(400, e.to_string())),
        };
        let Some(log) = self
            .peers()?
            .into_iter()
            .find(|p| p.card.role == NodeRole::Party && p.card.log_origin == checkpoint.origin)
        else {
            return Ok(WitnessAnswer::error(
                404,
                format!("unknown log origin {}", checkpoint.origin),
            ));
        };
        let signed_by = |card: &liaison_core::card::CheckedCard| {
            verify_signatures(&parsed, std::slice::from_ref(&card.log_key))
                .is_ok_and(|v| !v.is_empty())
        };
        if !signed_by(&log) {
            // The party may have rotated its key: follow its key changes
            // (at most once in a while), then look again.
            let cause = folded(parsed.signatures.iter().map(|s| s.key_id));
            let followed = self.maybe_catch_up(&log, cause).await;
            if !followed.as_ref().is_some_and(signed_by) {
                return Ok(WitnessAnswer::error(
                    403,
                    "no signature by the log's key verifies",
                ));
            }
        }
        if request.old > checkpoint.size {
            return Ok(WitnessAnswer::error(
                400,
                "the old size is larger than the checkpoint's",
            ));
        }
        let origin = checkpoint.origin.clone();
        let (size, root) = (checkpoint.size, checkpoint.root);
        let (old, proof) = (request.old, request.proof);
        let decision = self
            .store
            .write(move |tx| {
                let (stored_size, stored_root) =
                    db::witness_view(tx.conn(), &origin)?.unwrap_or((0, Hash::empty_root().0));
                if old != stored_size {
                    return Ok(Decision::Conflict(stored_size));
                }
                if old == size {
                    if stored_size > 0 && stored_root != root.0 {
                        return Ok(Decision::Conflict(stored_size));
                    }
                } else if old == 0 {
                    if !proof.is_empty() {
                        return Ok(Decision::BadProof(
                            "a proof from size 0 must be empty".into(),
                        ));
                    }
                } else if let Err(e) =
                    verify_consistency(old, size, &Hash(stored_root), &root, &proof)
                {
                    return Ok(Decision::BadProof(e.to_string()));
                }
                db::set_witness_view(tx.conn(), &origin, size, &root.0, &now_rfc3339())?;
                Ok(Decision::Cosign)
            })
            .await?
            .value;
        match decision {
            Decision::Conflict(stored) => Ok(WitnessAnswer {
                status: 409,
                content_type: "text/x.tlog.size",
                body: format!("{stored}\n"),
            }),
            Decision::BadProof(e) => {
                tracing::warn!(origin = %checkpoint.origin, "refused to cosign: {e}");
                Ok(WitnessAnswer::error(422, e))
            }
            Decision::Cosign => {
                let now = jiff::Timestamp::now().as_second().max(0);
                let seconds = now as u64;
                // Each cosigner signs with its Ed25519 key and its
                // post-quantum one (one cosigner name, two keys); during a
                // rotation's overlap the replaced cosigner signs too.
                let mut lines = String::new();
                let mut ml_dsa = Vec::new();
                for cosigner in cosigners.signing(now) {
                    lines.push_str(
                        &cosigner
                            .ed25519
                            .signature_line(&parsed.text, Some(seconds))
                            .map_err(|e| NodeError::Invalid(e.to_string()))?,
                    );
                    ml_dsa.extend(cosigner.ml_dsa.clone());
                }
                if !ml_dsa.is_empty() {
                    let signed = tokio::task::spawn_blocking(move || {
                        ml_dsa
                            .iter()
                            .map(|k| k.cosign(&checkpoint, seconds))
                            .collect::<Result<String, _>>()
                    })
                    .await
                    .map_err(|e| NodeError::Invalid(format!("ML-DSA-44 signing: {e}")))?
                    .map_err(|e| NodeError::Invalid(e.to_string()))?;
                    lines.push_str(&signed);
                }
                Ok(WitnessAnswer {
                    status: 200,
                    content_type: "text/plain; charset=utf-8",
                    body: lines,
                })
            }
        }
    }

    /// This node's checkpoint with the witness cosignatures that match it.
    pub fn checkpoint_with_cosignatures(&self) -> Result<String, NodeError> {
        let head = self.store.log_head()?;
        // The note of that very head: a later one would not match the
        // cosignatures chosen for it.
        let mut note = self.store.signed_checkpoint_at(head.size)?.to_string();
        for c in self.store.read(db::cosignatures)? {
            if c.size == head.size && c.root == head.root.0 {
                note.push_str(&c.line);
            }
        }
        Ok(note)
    }

    /// Submits the current checkpoint to one witness; stores its cosignature.
    pub async fn request_cosignature(
        &self,
        witness: &liaison_core::card::CheckedCard,
    ) -> Result<(), NodeError> {
        if witness.cosigner_key.is_none() {
            return Err(NodeError::Invalid(format!(
                "{} has no cosigner key on its card",
                witness.party
            )));
        }
        let head = self.store.log_head()?;
        let name = witness.party.to_string();
        let known = self
            .store
            .read(db::cosignatures)?
            .into_iter()
            .find(|c| c.witness == name);
        // Asked again after the witness rotated: a cosignature by a key it
        // replaced stops counting when the overlap ends.
        if known.as_ref().is_some_and(|c| {
            c.size == head.size && c.root == head.root.0 && by_current_key(&c.line, witness)
        }) {
            return Ok(());
        }
        // The checkpoint of the head read above, not of a later one: the
        // proof goes to that size (the log may grow meanwhile).
        let note = if head.size == 0 {
            self.store.checkpoint()?.to_string()
        } else {
            self.store.signed_checkpoint_at(head.size)?.to_string()
        };
        let client = self.peer_client(witness)?;
        let url = format!(
            "{}/witness/add-checkpoint",
            witness.card.federation_url.trim_end_matches('/')
        );
        let mut old = known
            .map(|c| c.size)
            .filter(|s| *s <= head.size)
            .unwrap_or(0);
        for _ in 0..2 {
            let proof = if old == 0 {
                Vec::new()
            } else {
                self.store.consistency_proof(old, head.size)?
            };
            let mut body = format!("old {old}\n");
            for h in &proof {
                body.push_str(&h.to_base64());
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&note);
            let response = client
                .post(&url)
                .body(body)
                .send()
                .await
                .map_err(|e| NodeError::Io(format!("cannot reach witness {name}: {e}")))?;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            match status {
                200 => {
                    let log_key = self.store.log_signer().verifier();
                    // Lines by keys this node does not know: the witness
                    // rotated (its key change may not have come yet).
                    let unknown = unknown_key_ids(&text, &self.accepted_cosigners(witness)?);
                    let followed = match unknown {
                        Some(cause) => self.maybe_catch_up(witness, cause).await,
                        None => None,
                    };
                    let witness = followed.as_ref().unwrap_or(witness);
                    let line = accepted_cosignature(&note, &text, witness, &log_key)
                        .map_err(|e| NodeError::Invalid(format!("witness {name} {e}")))?;
                    let c = Cosignature {
                        witness: name.clone(),
                        size: head.size,
                        root: head.root.0,
                        line,
                    };
                    self.store
                        .write(move |tx| db::set_cosignature(tx.conn(), &c))
                        .await?;
                    return Ok(());
                }
                409 => {
                    let theirs: u64 = text.trim().parse().map_err(|_| {
                        NodeError::Invalid(format!("witness {name} answered 409 without a size"))
                    })?;
                    if theirs > head.size {
                        // The witness has seen more of our log than we have: a fork.
                        let _ = self
                            .store
                            .write(move |tx| {
                                db::raise_alert(
                                    tx.conn(),
                                    "witness_ahead",
                                    &format!("{theirs}"),
                                    &format!("a witness has cosigned size {theirs} of this log, larger than its size {}", head.size),
                                    &now_rfc3339(),
                                )
                            })
                            .await;
                        return Err(NodeError::Invalid(format!(
                            "witness {name} holds size {theirs}, beyond ours"
                        )));
                    }
                    old = theirs;
                }
                _ => {
                    return Err(NodeError::Invalid(format!(
                        "witness {name} answered {status}: {}",
                        text.trim()
                    )));
                }
            }
        }
        Err(NodeError::Invalid(format!(
            "witness {name} kept answering 409"
        )))
    }
}

/// The lines of a witness's answer to keep: its Ed25519 cosignature of
/// `note`, and its ML-DSA-44 one when its card names that key (a witness
/// that names a key and does not sign with it answered badly). Every other
/// line is dropped.
fn accepted_cosignature(
    note: &str,
    answer: &str,
    witness: &liaison_core::card::CheckedCard,
    log_key: &liaison_log::note::NoteVerifier,
) -> Result<String, String> {
    let Some(ed25519) = &witness.cosigner_key else {
        return Err("has no cosigner key on its card".into());
    };
    let full = format!("{note}{answer}");
    let (checkpoint, cosigs) = Checkpoint::open(&full, log_key, std::slice::from_ref(ed25519))
        .map_err(|e| format!("returned a bad cosignature: {e}"))?;
    if cosigs.is_empty() {
        return Err("returned no cosignature by its key".into());
    }
    let parsed = parse_note(&full).map_err(|e| format!("returned a bad cosignature: {e}"))?;
    let line_of = |key_id: u32| {
        parsed
            .signatures
            .iter()
            .find(|s| s.name == ed25519.name() && s.key_id == key_id)
            .map(|s| s.to_line())
    };
    let mut kept = line_of(ed25519.key_id()).ok_or("returned no cosignature by its key")?;
    if let Some(ml_dsa) = &witness.ml_dsa_cosigner {
        let valid = parsed
            .signatures
            .iter()
            .find(|s| ml_dsa.verify(&checkpoint, s).is_ok())
            .ok_or("returned no valid ML-DSA-44 cosignature, though its card names that key")?;
        kept.push_str(&valid.to_line());
    }
    Ok(kept)
}

/// Whether a stored cosignature line is by the key `witness`'s card names.
fn by_current_key(line: &str, witness: &liaison_core::card::CheckedCard) -> bool {
    let Some(key) = &witness.cosigner_key else {
        return false;
    };
    parse_note(&format!("-\n\n{line}")).is_ok_and(|note| {
        note.signatures
            .iter()
            .any(|s| s.name == key.name() && s.key_id == key.key_id())
    })
}

/// The key ids (folded into one number) of a witness's answer lines under
/// its name that none of its `known` keys has, if any.
fn unknown_key_ids(answer: &str, known: &crate::peer_keys::Cosigners) -> Option<u64> {
    let name = known.ed25519.first()?.name();
    let note = parse_note(&format!("-\n\n{answer}")).ok()?;
    let unknown: Vec<u32> = note
        .signatures
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.key_id)
        .filter(|id| {
            !known.ed25519.iter().any(|k| k.key_id() == *id)
                && !known.ml_dsa.iter().any(|k| k.key_id() == *id)
        })
        .collect();
    (!unknown.is_empty()).then(|| folded(unknown))
}

/// Key ids folded into one number: the cause of a catch-up
/// (`Node::maybe_catch_up` runs again at once only for a new one).
fn folded(key_ids: impl IntoIterator<Item = u32>) -> u64 {
    key_ids
        .into_iter()
        .fold(0u64, |acc, id| acc.rotate_left(32) ^ u64::from(id))
}

/// Party role: keeps pinned witnesses cosigning the latest checkpoint.
pub async fn run_cosigning(node: Node, mut shutdown: watch::Receiver<bool>) {
    if node.role != NodeRole::Party {
        // Witnesses have no log to get cosigned; stay up like every task.
        let _ = shutdown.changed().await;
        return;
    }
    let interval = Duration::from_secs(node.config.witness.interval_secs.max(1));
    loop {
        if let Ok(peers) = node.peers() {
            for w in peers.iter().filter(|p| p.card.role == NodeRole::Witness) {
                if let Err(e) = node.request_cosignature(w).await {
                    tracing::warn!(witness = %w.party, "cosigning: {e}");
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_garbage_is_refused() {
        let ok = parse_request("old 5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\norigin\n6\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— origin AAAA\n").unwrap();
        assert_eq!(ok.old, 5);
        assert_eq!(ok.proof.len(), 1);
        for bad in [
            "",
            "old\n\nx",
            "old 05\n\nx",
            "new 5\n\nx",
            "old 5\nnot-base64\n\nx",
            "old 5",
        ] {
            assert!(parse_request(bad).is_err(), "{bad:?}");
        }
    }
}
