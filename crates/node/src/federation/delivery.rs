//! Delivery workers: one ordered stream per peer, draining the durable
//! outbox. Failures back off exponentially (capped) and are retried forever;
//! an envelope undelivered for too long raises an alert and is still
//! retried. Only a recipient's explicit refusal ends an envelope's delivery,
//! and that refusal is kept and raised, never dropped.

use std::collections::HashMap;
use std::time::Duration;

use liaison_core::card::CheckedCard;
use liaison_core::envelope::{DeliveryResponse, SignedEnvelope};
use liaison_core::leaf::LeafEntry;
use liaison_log::hash::leaf_hash;
use liaison_log::proof::TlogProof;
use liaison_proto::NodeRole;
use liaison_store::federation::{self as db, OutboxItem};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::envelopes::now_ms;
use crate::{Node, NodeError, now_rfc3339};

const FIRST_BACKOFF_MS: u64 = 250;
/// How often the node looks for peers with envelopes pending (queued by
/// another process, like the CLI, or due again) to wake their workers.
const POLL: Duration = Duration::from_millis(250);
/// Most bytes of envelopes in one request.
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Runs, until `shutdown`, a delivery worker for each pinned party that has
/// envelopes pending, and only for those: a worker exits once its peer's
/// stream has been drained and idle for `delivery.idle_worker_secs`, so a node pinned to
/// many parties holds no task, client or connection for the quiet ones.
/// What this process queues names its recipients ([`OutboxWake`]), whose
/// workers are woken or started at once; every [`POLL`], and when a peer is
/// pinned or a worker ends, the outbox itself says who has something
/// pending (through a partial index): envelopes queued by another process,
/// like the CLI, or due again.
///
/// [`OutboxWake`]: crate::wake::OutboxWake
pub async fn run(node: Node, mut shutdown: watch::Receiver<bool>) {
    let mut wakers: HashMap<String, Arc<Notify>> = HashMap::new();
    let mut parties: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut workers = JoinSet::new();
    let mut look_at_outbox = true;
    let mut next_poll = tokio::time::Instant::now();
    loop {
        let mut due = node.wake.take();
        if look_at_outbox {
            next_poll = tokio::time::Instant::now() + POLL;
            match node.store.read(db::peers_with_pending) {
                Ok(pending) => due.extend(pending),
                Err(e) => tracing::error!("cannot read the outbox: {e}"),
            }
        }
        for peer in due {
            if let Some(w) = wakers.get(&peer) {
                w.notify_one();
                continue;
            }
            match node.peer(&peer) {
                Ok(Some(card)) if card.card.role == NodeRole::Party => {}
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(peer = %peer, "delivery: {e}");
                    continue;
                }
            }
            let waker = Arc::new(Notify::new());
            let worker = deliver_to(node.clone(), peer.clone(), waker.clone(), shutdown.clone());
            parties.insert(workers.spawn(worker).id(), peer.clone());
            wakers.insert(peer, waker);
        }
        look_at_outbox = false;
        tokio::select! {
            _ = tokio::time::sleep_until(next_poll) => look_at_outbox = true,
            _ = node.wake.notified() => {}
            _ = node.pinned.notified() => look_at_outbox = true,
            Some(done) = workers.join_next_with_id() => {
                let id = match &done {
                    Ok((id, ())) => *id,
                    Err(e) => e.id(),
                };
                if let Some(peer) = parties.remove(&id) {
                    wakers.remove(&peer);
                }
                // What was queued while it was ending is not lost.
                look_at_outbox = true;
            }
            _ = shutdown.changed() => break,
        }
    }
    while workers.join_next().await.is_some() {}
}

fn backoff_ms(node: &Node, attempts: i64) -> i64 {
    let cap = node.config.delivery.max_backoff_secs.max(1) * 1000;
    let exp = attempts.clamp(0, 20) as u32;
    FIRST_BACKOFF_MS.saturating_mul(1u64 << exp).min(cap) as i64
}

async fn deliver_to(
    node: Node,
    party: String,
    waker: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut client: Option<(Vec<[u8; 32]>, reqwest::Client)> = None;
    let mut stream = Stream::default();
    let linger = Duration::from_secs(node.config.delivery.idle_worker_secs.max(1));
    let _running = Running::count(&node.delivering);
    while !*shutdown.borrow() {
        let wait = match deliver_once(&node, &party, &mut client, &mut stream).await {
            Ok(Step::Next) => continue,
            Ok(Step::Wait(wait)) => wait,
            Ok(Step::Drained) => {
                // Kept a while for what follows (its connection too), then
                // gone: the watch starts a worker again when needed.
                tokio::select! {
                    _ = tokio::time::sleep(linger) => break,
                    _ = waker.notified() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            Err(e) => {
                tracing::error!(peer = %party, "delivery: {e}");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = waker.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
    if let Err(e) = stream.settled().await {
        tracing::error!(peer = %party, "delivery: {e}");
    }
}

/// Counts a running worker for as long as it lives.
struct Running(Arc<AtomicUsize>);

impl Running {
    fn count(workers: &Arc<AtomicUsize>) -> Running {
        workers.fetch_add(1, Ordering::Relaxed);
        Running(workers.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a worker does after one step.
enum Step {
    /// Go on at once.
    Next,
    /// Wait this long (or until woken).
    Wait(Duration),
    /// Nothing is pending and every answer is written.
    Drained,
}

/// A worker's place in its peer's stream. The next batch is sent as soon as
/// the previous one is answered, while that answer is still being written
/// (in order: a batch's settlement is submitted only after the previous one
/// committed). Until then its entries are still pending in the outbox, so
/// the next batch starts after `answered_to`; after a crash they are sent
/// again and the peer answers with the receipts it already issued.
#[derive(Default)]
struct Stream {
    settling: Option<tokio::task::JoinHandle<Result<(), NodeError>>>,
    /// The last outbox entry whose answer is being written.
    answered_to: i64,
    /// When the earliest entry the peer put off is due again: the stream
    /// then starts over from the outbox, so a busy stream still retries it.
    retry_at: Option<i64>,
}

impl Stream {
    /// Waits for the settlement in progress; on failure the stream starts
    /// again from what the outbox says.
    async fn settled(&mut self) -> Result<(), NodeError> {
        let Some(task) = self.settling.take() else {
            return Ok(());
        };
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(e) => Err(NodeError::Invalid(format!(
                "recording receipts failed: {e}"
            ))),
        };
        if outcome.is_err() {
            self.answered_to = 0;
        }
        outcome
    }
}

/// One step: sends the next batch if one is due.
async fn deliver_once(
    node: &Node,
    party: &str,
    client: &mut Option<(Vec<[u8; 32]>, reqwest::Client)>,
    stream: &mut Stream,
) -> Result<Step, NodeError> {
    let Some(card) = node.peer(party)? else {
        // No longer pinned: nothing more goes to it.
        stream.settled().await?;
        return Ok(Step::Drained);
    };
    let batch_size = node.config.delivery.batch.clamp(1, 4096) as usize;
    if stream.retry_at.is_some_and(|at| now_ms() >= at) {
        stream.settled().await?;
        stream.answered_to = 0;
        stream.retry_at = None;
    }
    let after = stream.answered_to;
    let mut batch = node
        .store
        .read(|c| db::pending_after(c, party, after, now_ms(), batch_size))?;
    if batch.is_empty() {
        if stream.settling.is_some() {
            stream.settled().await?;
            stream.answered_to = 0;
            return Ok(Step::Next);
        }
        // Nothing pending: the watch wakes this worker when there is.
        return Ok(Step::Drained);
    }
    let now = now_ms();
    raise_overdue(node, &batch, now).await?;
    let due_in = batch[0].next_attempt_ms - now;
    if due_in > 0 {
        return Ok(Step::Wait(Duration::from_millis(due_in as u64).min(POLL)));
    }
    let mut bytes = 0;
    batch.retain(|item| {
        bytes += item.signed_json.len();
        bytes <= MAX_BATCH_BYTES
    });
    // A key change ends its batch: the peer checks what follows against
    // the key it moves the pin to.
    if let Some(end) = batch
        .iter()
        .position(|item| item.envelope_kind == liaison_core::keys::KEY_CHANGE)
    {
        batch.truncate(end + 1);
    }
    if batch.is_empty() {
        return Err(NodeError::Invalid(
            "an outbox envelope exceeds the request size limit".into(),
        ));
    }

    // A new client when the certificates the peer may present change (its
    // rotation, the end of an overlap).
    let accepted = node.accepted_fingerprints(&card)?;
    let http = match client {
        Some((fps, c)) if *fps == accepted => c.clone(),
        _ => {
            let c = crate::tls::peer_http_client_any(&node.tls.presented(), &accepted)?;
            *client = Some((accepted, c.clone()));
            c
        }
    };
    // The envelopes go as they were stored when signed: only those with
    // attachments are read, to push their files first.
    let with_files = batch
        .iter()
        .filter(|item| item.has_attachments)
        .map(|item| serde_json::from_str::<SignedEnvelope>(&item.signed_json))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| NodeError::Invalid(format!("an outbox envelope is unreadable: {e}")))?;
    let pushed = push_attachments(node, &http, &card, &with_files).await;
    let outcome = match pushed {
        Ok(()) => post(&http, &card, request_body(&batch)).await,
        Err(e) => Err(e),
    };
    // Settlements are written in order, one at a time.
    stream.settled().await?;
    match outcome {
        Ok(response) => {
            let updates = answers(node, &card, &batch, &response);
            let peer = card.party.to_string();
            for u in &updates {
                if let Update::Deferred { next, .. } = u {
                    stream.retry_at = Some(stream.retry_at.map_or(*next, |at| at.min(*next)));
                }
            }
            if updates.iter().any(|u| matches!(u, Update::Failed { .. })) {
                // A failed answer is retried from the outbox, after its
                // backoff: nothing is sent before this is written.
                settle(node, peer, updates).await?;
                stream.answered_to = 0;
            } else {
                stream.answered_to = batch.last().map_or(after, |item| item.seq);
                let node = node.clone();
                stream.settling = Some(tokio::spawn(
                    async move { settle(&node, peer, updates).await },
                ));
            }
            Ok(Step::Next)
        }
        Err(error) => {
            stream.answered_to = 0;
            let head = &batch[0];
            let next = now + backoff_ms(node, head.attempts);
            tracing::debug!(peer = %party, attempts = head.attempts + 1, "delivery failed: {error}");
            let seq = head.seq;
            node.store
                .write(move |tx| db::mark_attempt_failed(tx.conn(), seq, &error, next))
                .await?;
            Ok(Step::Next)
        }
    }
}

/// Uploads the attachments of a batch the peer does not have yet; the peer
/// checks each against its SHA-256 on arrival.
async fn push_attachments(
    node: &Node,
    http: &reqwest::Client,
    card: &CheckedCard,
    envelopes: &[SignedEnvelope],
) -> Result<(), String> {
    let base = card.card.federation_url.trim_end_matches('/');
    for a in envelopes.iter().flat_map(|e| e.envelope.attachments.iter()) {
        let url = format!("{base}/federation/v1/attachments/{}", a.sha256);
        let head = http
            .head(&url)
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        if head.status().is_success() {
            continue;
        }
        let stream = node.read_attachment(&a.sha256).map_err(|e| e.to_string())?;
        let response = http
            .put(&url)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(|e| format!("cannot upload attachment {}: {e}", a.sha256))?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(format!(
                "{url} refused the attachment ({status}): {}",
                body.chars().take(200).collect::<String>()
            ));
        }
    }
    Ok(())
}

/// A [`liaison_core::envelope::DeliveryRequest`] of the batch, written from the stored JSON of each
/// envelope (what was signed and committed) without parsing it again.
fn request_body(batch: &[OutboxItem]) -> Vec<u8> {
    let size = batch.iter().map(|i| i.signed_json.len() + 1).sum::<usize>();
    let mut body = Vec::with_capacity(size + 16);
    body.extend_from_slice(b"{\"envelopes\":[");
    for (n, item) in batch.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.signed_json.as_bytes());
    }
    body.extend_from_slice(b"]}");
    body
}

async fn post(
    http: &reqwest::Client,
    card: &CheckedCard,
    body: Vec<u8>,
) -> Result<DeliveryResponse, String> {
    let url = format!(
        "{}/federation/v1/envelopes",
        card.card.federation_url.trim_end_matches('/')
    );
    let response = http
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(format!(
            "{url} answered {status}: {}",
            body.chars().take(300).collect::<String>()
        ));
    }
    response
        .json::<DeliveryResponse>()
        .await
        .map_err(|e| format!("{url} answered with an unreadable body: {e}"))
}

/// Reads the recipient's answers in order: verified receipts mark
/// envelopes delivered, refusals mark them refused; anything else (a
/// missing answer, a receipt that does not verify) stops the batch there and
/// retries from that envelope.
pub(super) fn answers(
    node: &Node,
    card: &CheckedCard,
    batch: &[OutboxItem],
    response: &DeliveryResponse,
) -> Vec<Update> {
    let now = now_ms();
    let mut updates: Vec<Update> = Vec::new();
    let mut verified = HashMap::new();
    let answers = response
        .results
        .iter()
        .map(Some)
        .chain(std::iter::repeat(None));
    for (item, result) in batch.iter().zip(answers) {
        let outcome = match result {
            None => Err(format!(
                "{} sent no answer for envelope {}",
                card.party, item.envelope_id
            )),
            Some(r) if r.id != item.envelope_id => {
                Err(format!("{} answered out of order", card.party))
            }
            Some(r) => match (&r.receipt, &r.error) {
                // Put off: the recipient waits for what it follows; the
                // rest of the answer stands.
                (None, None) if r.deferred.is_some() => Ok(Update::Deferred {
                    seq: item.seq,
                    reason: r.deferred.as_ref().map_or_else(String::new, |d| {
                        liaison_core::bounded(format!("{}: {}", d.code, d.message))
                    }),
                    next: now + backoff_ms(node, item.attempts),
                }),
                (Some(receipt), _) => {
                    check_receipt(card, item, receipt, &mut verified).map(|cp| Update::Delivered {
                        seq: item.seq,
                        hash: item.envelope_hash.clone(),
                        receipt: receipt.clone(),
                        checkpoint: cp,
                        alerted: item.alerted,
                        opened: opened_lifecycle(item),
                    })
                }
                (None, Some(err)) => Ok(Update::Refused {
                    seq: item.seq,
                    hash: item.envelope_hash.clone(),
                    reason: liaison_core::bounded(format!("{}: {}", err.code, err.message)),
                }),
                (None, None) => Err(format!("{} answered neither receipt nor error", card.party)),
            },
        };
        match outcome {
            Ok(update) => updates.push(update),
            Err(error) => {
                tracing::warn!(peer = %card.party, "{error}");
                updates.push(Update::Failed {
                    seq: item.seq,
                    error,
                    next: now + backoff_ms(node, item.attempts),
                });
                break;
            }
        }
    }
    updates
}

/// Writes what [`answers`] read, in one job.
pub(super) async fn settle(
    node: &Node,
    peer: String,
    updates: Vec<Update>,
) -> Result<(), NodeError> {
    node.store
        .write(move |tx| {
            let at = now_rfc3339();
            let mut recorded = std::collections::HashSet::new();
            for u in &updates {
                match u {
                    Update::Delivered {
                        seq,
                        hash,
                        receipt,
                        checkpoint,
                        alerted,
                        opened,
                    } => {
                        db::mark_delivered(tx.conn(), *seq, hash, receipt, &at, now_ms())?;
                        // A delivered opening moves its case from sent to delivered.
                        if let Some(case_id) = opened {
                            crate::cases::recompute(tx.conn(), case_id)?;
                        }
                        if *alerted {
                            db::resolve_alert(tx.conn(), "undelivered", hash, &at)?;
                        }
                        // Receipts of one answer share a checkpoint: record it once.
                        if recorded.insert(checkpoint.note.clone()) {
                            record_checkpoint(tx.conn(), &peer, checkpoint, &at)?;
                        }
                    }
                    Update::Refused { seq, hash, reason } => {
                        db::mark_refused(tx.conn(), *seq, reason)?;
                        db::raise_alert(
                            tx.conn(),
                            "refused",
                            hash,
                            &format!("{peer} refused envelope {hash}: {reason}"),
                            &at,
                        )?;
                    }
                    Update::Failed { seq, error, next } => {
                        db::mark_attempt_failed(tx.conn(), *seq, error, *next)?
                    }
                    Update::Deferred { seq, reason, next } => {
                        db::mark_deferred(tx.conn(), *seq, reason, *next)?
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}

pub(super) enum Update {
    Delivered {
        seq: i64,
        hash: String,
        receipt: String,
        checkpoint: SeenCheckpoint,
        alerted: bool,
        /// The case this envelope opened, if it has a lifecycle: its
        /// receipt is what moves the case from sent to delivered (nothing
        /// else a case row derives from depends on receipts).
        opened: Option<String>,
    },
    Refused {
        seq: i64,
        hash: String,
        reason: String,
    },
    Failed {
        seq: i64,
        error: String,
        next: i64,
    },
    /// The recipient put it off; later entries go on meanwhile.
    Deferred {
        seq: i64,
        reason: String,
        next: i64,
    },
}

pub(crate) struct SeenCheckpoint {
    pub size: u64,
    pub root: [u8; 32],
    pub note: String,
}

/// The case an outbox envelope opens, if that case has a lifecycle.
fn opened_lifecycle(item: &OutboxItem) -> Option<String> {
    liaison_core::case::CaseKind::parse(&item.envelope_kind)
        .is_ok_and(|kind| kind.has_lifecycle())
        .then(|| item.case_id.clone())
}

/// Verifies a receipt: a tlog-proof, signed by the recipient's log key, that
/// the envelope's entry is in its log.
/// Receipts of one batch share their checkpoint: `verified` remembers the
/// checkpoints whose signature already checked out.
fn check_receipt(
    card: &CheckedCard,
    item: &OutboxItem,
    receipt: &str,
    verified: &mut HashMap<String, liaison_log::Checkpoint>,
) -> Result<SeenCheckpoint, String> {
    let proof = TlogProof::parse(receipt)
        .map_err(|e| format!("{} sent a malformed receipt: {e}", card.party))?;
    // The entry committing to the envelope, from the hash stored with it.
    let leaf = liaison_log::Hash::from_hex(&item.envelope_hash)
        .map(LeafEntry::envelope)
        .ok_or_else(|| format!("outbox entry {} names no envelope hash", item.seq))?;
    let cp = match verified.get(&proof.checkpoint) {
        Some(cp) => cp.clone(),
        None => {
            let (cp, _) = liaison_log::Checkpoint::open(&proof.checkpoint, &card.log_key, &[])
                .map_err(|e| {
                    format!(
                        "the receipt from {} carries a bad checkpoint: {e}",
                        card.party
                    )
                })?;
            verified.insert(proof.checkpoint.clone(), cp.clone());
            cp
        }
    };
    liaison_log::tree::verify_inclusion(
        proof.index,
        cp.size,
        &leaf_hash(&leaf.encode()),
        &proof.inclusion,
        &cp.root,
    )
    .map_err(|e| format!("the receipt from {} does not verify: {e}", card.party))?;
    Ok(SeenCheckpoint {
        size: cp.size,
        root: cp.root.0,
        note: proof.checkpoint,
    })
}

/// Records a peer checkpoint; two roots for one size raise an equivocation alert.
pub(crate) fn record_checkpoint(
    conn: &liaison_store::Connection,
    peer: &str,
    cp: &SeenCheckpoint,
    at: &str,
) -> Result<(), liaison_store::StoreError> {
    if db::record_peer_checkpoint(conn, peer, cp.size, &cp.root, &cp.note, at)?
        && db::peer_roots_of_size(conn, peer, cp.size)? > 1
    {
        db::raise_alert(
            conn,
            "equivocation",
            &format!("{peer}@{}", cp.size),
            &format!(
                "{peer} signed two different checkpoints of size {}",
                cp.size
            ),
            at,
        )?;
    }
    Ok(())
}

async fn raise_overdue(node: &Node, batch: &[OutboxItem], now: i64) -> Result<(), NodeError> {
    let limit = node.config.delivery.alert_after_secs as i64 * 1000;
    let overdue: Vec<OutboxItem> = batch
        .iter()
        .filter(|i| !i.alerted && now - i.enqueued_ms >= limit)
        .cloned()
        .collect();
    if overdue.is_empty() {
        return Ok(());
    }
    for i in &overdue {
        tracing::warn!(
            peer = %i.peer,
            "envelope {} undelivered since {} ({} attempts; last error: {})",
            i.envelope_hash,
            i.enqueued_at,
            i.attempts,
            i.last_error.as_deref().unwrap_or("none")
        );
    }
    node.store
        .write(move |tx| {
            let at = now_rfc3339();
            for i in &overdue {
                db::raise_alert(
                    tx.conn(),
                    "undelivered",
                    &i.envelope_hash,
                    &format!(
                        "envelope to {} undelivered since {} after {} attempts (last error: {}); still retrying",
                        i.peer,
                        i.enqueued_at,
                        i.attempts,
                        i.last_error.as_deref().unwrap_or("none")
                    ),
                    &at,
                )?;
                db::mark_alerted(tx.conn(), i.seq, &at)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}
