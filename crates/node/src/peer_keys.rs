//! Following peers' key changes: checking one against the card pinned
//! for its party and moving the pin (inside the write job that records its
//! envelope), catching up on a peer's chain from its listener, and what a
//! peer may sign with and present while a rotation's overlap lasts.

use liaison_core::card::{CheckedCard, check_card};
use liaison_core::keys::{Chain, ChangeKind, KeyChange, KeyChangeNotice};
use liaison_log::mldsa::MlDsaVerifier;
use liaison_log::note::NoteVerifier;
use liaison_proto::NodeCard;
use liaison_store::keys::{self as db, KeyChangeRow};
use liaison_store::{Connection, StoreError};

use crate::keys::{CATCH_UP_GAP, corrupt, open_overlaps, parse_signed};
use crate::{Node, NodeError, now_rfc3339};

/// Least time between two fetches of one peer's key changes, whatever the
/// cause.
const MIN_CATCH_UP_GAP: std::time::Duration = std::time::Duration::from_secs(1);

/// Largest answer to a key-change fetch.
const MAX_CHANGES_BYTES: usize = 4 * 1024 * 1024;

impl Node {
    /// Fetches `card`'s party's key changes from its federation listener
    /// and follows, in order, those not accepted yet (a witness, which
    /// receives no envelopes, and a peer that missed one). Returns how many
    /// it followed; a change that does not verify stops it, recorded.
    pub async fn catch_up_key_changes(&self, card: &CheckedCard) -> Result<usize, NodeError> {
        let changes = self.fetch_key_changes(card).await?;
        self.follow_key_changes(card.party.as_str(), changes).await
    }

    /// `card`'s party's key changes as its federation listener serves them
    /// (its whole chain, oldest first), unchecked.
    pub(crate) async fn fetch_key_changes(
        &self,
        card: &CheckedCard,
    ) -> Result<Vec<KeyChangeNotice>, NodeError> {
        let client = self.peer_client(card)?;
        let url = format!(
            "{}/federation/v1/key-changes",
            card.card.federation_url.trim_end_matches('/')
        );
        let unreachable = |e: String| NodeError::Io(format!("cannot fetch {url}: {e}"));
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("answered {}", response.status())));
        }
        let body = crate::tls::read_bounded(response, MAX_CHANGES_BYTES)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        serde_json::from_slice(&body)
            .map_err(|e| NodeError::Invalid(format!("{url} answered no key changes: {e}")))
    }

    /// Follows, in order, those of `party`'s key changes (its chain as its
    /// node serves it, or as `liaison key export` wrote it for a link
    /// that is down) not followed yet. Returns how many it followed; a
    /// change that does not verify stops it, recorded.
    ///
    /// The chain carries its own proof (every statement is signed by a key
    /// of the card before it, or by the recovery key), so it may come by
    /// any channel: a revocation whose thief rotated the certificate
    /// first cannot come online.
    pub async fn follow_key_changes(
        &self,
        party: &str,
        changes: Vec<KeyChangeNotice>,
    ) -> Result<usize, NodeError> {
        if party == self.party.as_str() {
            return Err(NodeError::Invalid(
                "those are this node's own key changes".into(),
            ));
        }
        if self.peer(party)?.is_none() {
            return Err(StoreError::NotFound(format!("{party} is not pinned")).into());
        }
        let skew = self.config.federation.max_clock_skew_secs;
        let owned = party.to_owned();
        let outcome = self
            .store
            .write(move |tx| {
                let now = now_rfc3339();
                let mut followed = 0;
                let Some(pinned) = liaison_store::peers::by_party(tx.conn(), &owned)? else {
                    return Ok(Ok(0));
                };
                // A served chain starts at the party's first card: what led
                // to the card pinned here (by hand, or followed) is history.
                let pinned_card: NodeCard = serde_json::from_str(&pinned.card_json)
                    .map_err(|e| StoreError::Corrupt(format!("stored card of {owned}: {e}")))?;
                let first_new = changes
                    .iter()
                    .rposition(|n| {
                        serde_json::from_str::<KeyChange>(&n.change.statement)
                            .is_ok_and(|c| same_keys(&c.card, &pinned_card))
                    })
                    .map_or(0, |i| i + 1);
                for notice in &changes[first_new..] {
                    let signed = &notice.change;
                    if db::by_hash(tx.conn(), &signed.hash().to_hex())?.is_some() {
                        continue;
                    }
                    let Some(pinned) = liaison_store::peers::by_party(tx.conn(), &owned)? else {
                        break;
                    };
                    let chain = chain_of(tx.conn(), &pinned, skew)?;
                    if let Err(why) = follow_one(tx.conn(), pinned, &chain, notice, &now)? {
                        liaison_store::federation::record_rejection(
                            tx.conn(),
                            &liaison_store::federation::Rejection {
                                at: now.clone(),
                                peer: owned.clone(),
                                envelope_id: None,
                                code: "bad_key_change".into(),
                                reason: format!(
                                    "the key change {} is refused: {why}",
                                    signed.hash()
                                ),
                            },
                        )?;
                        return Ok(Err(why));
                    }
                    followed += 1;
                }
                Ok(Ok(followed))
            })
            .await?
            .value;
        outcome.map_err(|why| NodeError::Invalid(format!("a key change of {party}: {why}")))
    }

    /// [`Node::follow_key_changes`] from a file `liaison key export` wrote
    /// (one party's chain). Returns the party and how many it followed.
    pub async fn follow_key_changes_file(
        &self,
        path: &std::path::Path,
    ) -> Result<(String, usize), NodeError> {
        let unreadable = |e| NodeError::io(format!("cannot read {}", path.display()), e);
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(path).map_err(unreadable)?,
                MAX_CHANGES_BYTES as u64 + 1,
            ),
            &mut bytes,
        )
        .map_err(unreadable)?;
        if bytes.len() > MAX_CHANGES_BYTES {
            return Err(NodeError::Invalid(format!(
                "{} is larger than {MAX_CHANGES_BYTES} bytes",
                path.display()
            )));
        }
        let changes: Vec<KeyChangeNotice> = serde_json::from_slice(&bytes).map_err(|e| {
            NodeError::Invalid(format!("{} holds no key changes: {e}", path.display()))
        })?;
        let mut parties = changes.iter().map(|n| {
            serde_json::from_str::<KeyChange>(&n.change.statement)
                .map(|c| c.party)
                .map_err(|e| NodeError::Invalid(format!("{}: a statement: {e}", path.display())))
        });
        let party = parties.next().ok_or_else(|| {
            NodeError::Invalid(format!("{} holds no key change", path.display()))
        })??;
        for other in parties {
            if other? != party {
                return Err(NodeError::Invalid(format!(
                    "{} mixes the key changes of several parties",
                    path.display()
                )));
            }
        }
        let followed = self.follow_key_changes(&party, changes).await?;
        Ok((party, followed))
    }

    /// [`Node::catch_up_key_changes`], at most once per peer every
    /// [`CATCH_UP_GAP`] for one `cause` (e.g. the key ids of a checkpoint
    /// that did not verify) and once a second for a new one, whatever a
    /// peer sends; returns the peer's card as pinned afterwards if it
    /// changed.
    pub(crate) async fn maybe_catch_up(
        &self,
        card: &CheckedCard,
        cause: u64,
    ) -> Option<CheckedCard> {
        {
            let mut last = self
                .key_catch_up
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            if let Some((at, why)) = last.get(card.party.as_str()) {
                let age = now.duration_since(*at);
                if age < MIN_CATCH_UP_GAP || (age < CATCH_UP_GAP && *why == cause) {
                    return None;
                }
            }
            last.insert(card.party.to_string(), (now, cause));
        }
        match self.catch_up_key_changes(card).await {
            Ok(0) => None,
            Ok(_) => self.peer(card.party.as_str()).ok().flatten(),
            Err(e) => {
                tracing::warn!(peer = %card.party, "catching up on key changes: {e}");
                None
            }
        }
    }

    /// Every log key `party` has signed with, the current one first: what
    /// its old checkpoints and receipts verify against.
    pub fn log_keys_of(&self, card: &CheckedCard) -> Result<Vec<NoteVerifier>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, card.party.as_str()))?;
        let mut keys = vec![card.log_key.clone()];
        for row in rows.iter().rev() {
            let (_, _, previous) = parse_signed(row)?;
            let key = NoteVerifier::parse(&previous.log_key)
                .map_err(|e| corrupt(format!("a stored card's log key: {e}")))?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// The party whose rotation replaced the TLS certificate with this
    /// fingerprint, while that rotation's overlap lasts.
    pub(crate) fn party_by_previous_fingerprint(
        &self,
        fingerprint_hex: &str,
    ) -> Result<Option<String>, NodeError> {
        let now = jiff::Timestamp::now();
        let rows = self.store.read(db::all)?;
        for chain in rows.chunk_by(|a, b| a.party == b.party) {
            for row in open_overlaps(chain, now) {
                if row.party == self.party.as_str() {
                    continue;
                }
                let (_, change, previous) = parse_signed(row)?;
                if previous.tls_fingerprint == fingerprint_hex
                    && change.card.tls_fingerprint != fingerprint_hex
                {
                    return Ok(Some(row.party.clone()));
                }
            }
        }
        Ok(None)
    }

    /// The cards `card`'s party rotated away from whose overlap has not
    /// ended: what it may still sign with, present and cosign with.
    fn replaced_in_overlap(&self, card: &CheckedCard) -> Result<Vec<NodeCard>, NodeError> {
        let rows = self.store.read(|c| db::of_party(c, card.party.as_str()))?;
        open_overlaps(&rows, jiff::Timestamp::now())
            .map(|row| parse_signed(row).map(|(_, _, previous)| previous))
            .collect()
    }

    /// The certificate fingerprints `card`'s party may present now: its
    /// current one, and one it rotated away from while the overlap lasts.
    pub fn accepted_fingerprints(&self, card: &CheckedCard) -> Result<Vec<[u8; 32]>, NodeError> {
        let mut out = vec![card.fingerprint];
        for previous in self.replaced_in_overlap(card)? {
            if let Some(fp) = liaison_log::Hash::from_hex(&previous.tls_fingerprint)
                && !out.contains(&fp.0)
            {
                out.push(fp.0);
            }
        }
        Ok(out)
    }

    /// The keys `card`'s witness may cosign with now: its current Ed25519
    /// and ML-DSA-44 keys, and those a rotation replaced while its overlap
    /// lasts (a revocation ends that at once).
    pub(crate) fn accepted_cosigners(&self, card: &CheckedCard) -> Result<Cosigners, NodeError> {
        let mut out = Cosigners {
            ed25519: card.cosigner_key.iter().cloned().collect(),
            ml_dsa: card.ml_dsa_cosigner.iter().cloned().collect(),
        };
        if card.cosigner_key.is_none() {
            return Ok(out);
        }
        for previous in self.replaced_in_overlap(card)? {
            if let Some(key) = previous.cosigner_key.as_deref()
                && let Ok(key) = NoteVerifier::parse(key)
                && !out.ed25519.contains(&key)
            {
                out.ed25519.push(key);
            }
            if let Some(key) = previous.cosigner_key_ml_dsa.as_deref()
                && let Ok(key) = MlDsaVerifier::parse(key)
                && !out.ml_dsa.iter().any(|k| k.key_id() == key.key_id())
            {
                out.ml_dsa.push(std::sync::Arc::new(key));
            }
        }
        Ok(out)
    }

    /// An HTTPS client towards `card`'s party that accepts every
    /// certificate it may present now.
    pub fn peer_client(&self, card: &CheckedCard) -> Result<reqwest::Client, NodeError> {
        crate::tls::peer_http_client_any(&self.tls.presented(), &self.accepted_fingerprints(card)?)
    }

    /// The keys an envelope from `card`'s party may be signed with now: its
    /// current key, and a key it rotated away from whose overlap has not
    /// ended.
    pub(crate) fn accepted_log_keys(
        &self,
        card: &CheckedCard,
    ) -> Result<Vec<NoteVerifier>, NodeError> {
        let mut keys = vec![card.log_key.clone()];
        for previous in self.replaced_in_overlap(card)? {
            if let Ok(key) = NoteVerifier::parse(&previous.log_key)
                && !keys.contains(&key)
            {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}

/// The cosigning keys a witness may use now (see
/// [`Node::accepted_cosigners`]), the current ones first.
pub(crate) struct Cosigners {
    pub ed25519: Vec<NoteVerifier>,
    pub ml_dsa: Vec<std::sync::Arc<MlDsaVerifier>>,
}

/// Whether two cards of one party name the same keys.
pub(crate) fn same_keys(a: &NodeCard, b: &NodeCard) -> bool {
    a.log_key == b.log_key
        && a.tls_fingerprint == b.tls_fingerprint
        && a.recovery_key == b.recovery_key
        && a.cosigner_key == b.cosigner_key
        && a.cosigner_key_ml_dsa == b.cosigner_key_ml_dsa
}

/// What this node knows of `pinned`'s chain (see [`Chain`]).
fn chain_of(
    conn: &Connection,
    pinned: &liaison_store::peers::PinnedPeer,
    max_skew_secs: u64,
) -> Result<Chain, StoreError> {
    let rows = db::of_party(conn, &pinned.party)?;
    let time = |value: &str| {
        value
            .parse::<jiff::Timestamp>()
            .map_err(|e| StoreError::Corrupt(format!("a stored time {value:?}: {e}")))
    };
    let max_skew_secs = i64::try_from(max_skew_secs).unwrap_or(i64::MAX);
    // A card pinned by hand after every change recorded: a revocation
    // issued well before that is a replay. "Well": the party's clock may
    // be behind this node's by the skew allowed.
    let pinned_at = time(&pinned.pinned_at)?;
    let hand_pinned = match rows.last() {
        Some(last) if time(&last.recorded_at)? >= pinned_at => None,
        _ => jiff::Timestamp::from_second(pinned_at.as_second().saturating_sub(max_skew_secs)).ok(),
    };
    let mut revocations_after = hand_pinned;
    if let Some(last) = rows.iter().rev().find(|r| {
        r.kind == ChangeKind::Revocation.as_str() || r.kind == ChangeKind::RecoveryRotation.as_str()
    }) {
        let issued = time(&last.issued_at)?;
        revocations_after = Some(revocations_after.map_or(issued, |t| t.max(issued)));
    }
    Ok(Chain {
        last_sequence: rows.last().map_or(0, |r| r.sequence),
        revocations_after,
        now: jiff::Timestamp::now(),
        max_skew_secs,
    })
}

/// Follows a peer's key change inside the write job that records its
/// envelope: checked against the card pinned now and what is known of its
/// chain, then the pin moves to the new card (`None`: it was followed
/// before). The error says why it was refused.
pub(crate) fn accept_key_change(
    conn: &Connection,
    party: &str,
    notice: &KeyChangeNotice,
    max_skew_secs: u64,
    now: &str,
) -> Result<Result<Option<CheckedCard>, String>, StoreError> {
    let signed = &notice.change;
    let Some(pinned) = liaison_store::peers::by_party(conn, party)? else {
        return Ok(Err(format!("{party} is not pinned")));
    };
    // Followed already (e.g. from a file before the envelope could come):
    // nothing to do. Checked first: a revocation, which need not follow
    // the sequence, would otherwise move the pin back.
    if db::by_hash(conn, &signed.hash().to_hex())?.is_some() {
        return Ok(Ok(None));
    }
    let chain = chain_of(conn, &pinned, max_skew_secs)?;
    follow_one(conn, pinned, &chain, notice, now)
}

/// [`accept_key_change`] once the change is known to be new and `chain` is
/// what this node knows of `pinned`'s chain.
fn follow_one(
    conn: &Connection,
    pinned: liaison_store::peers::PinnedPeer,
    chain: &Chain,
    notice: &KeyChangeNotice,
    now: &str,
) -> Result<Result<Option<CheckedCard>, String>, StoreError> {
    let signed = &notice.change;
    let party = pinned.party.as_str();
    let card: NodeCard = serde_json::from_str(&pinned.card_json)
        .map_err(|e| StoreError::Corrupt(format!("stored card of {party}: {e}")))?;
    let pinned_card = check_card(&card)
        .map_err(|e| StoreError::Corrupt(format!("stored card of {party}: {e}")))?;
    let verified = match signed.verify(&pinned_card, chain) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let new_json = serde_json::to_string(&verified.card.card)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let signed_json =
        serde_json::to_string(signed).map_err(|e| StoreError::Invalid(e.to_string()))?;
    if let Some(other) =
        liaison_store::peers::by_fingerprint(conn, &verified.card.card.tls_fingerprint)?
        && other.party != party
    {
        return Ok(Err(format!(
            "the new certificate is pinned for party {}",
            other.party
        )));
    }
    liaison_store::peers::replace_card(
        conn,
        party,
        &new_json,
        &verified.card.card.tls_fingerprint,
        now,
    )?;
    db::record(
        conn,
        &KeyChangeRow {
            party: party.to_owned(),
            sequence: verified.change.sequence,
            kind: verified.change.change.as_str().to_owned(),
            hash: verified.hash.to_hex(),
            signed: signed_json,
            previous_card: pinned.card_json,
            issued_at: verified.change.issued_at.clone(),
            overlap_until: verified.change.overlap_until.clone(),
            compromised_since: verified.change.compromised_since.clone(),
            log_index: notice.log_index,
            recorded_at: now.to_owned(),
        },
    )?;
    // What the revoked key signed since its compromise was accepted
    // without knowing: flag it for the operators.
    if let Some(since) = &verified.change.compromised_since {
        let suspect = liaison_store::federation::received_since(conn, party, since)?;
        if suspect > 0 {
            liaison_store::federation::raise_alert(
                conn,
                "revoked_key",
                party,
                &format!(
                    "{party} revoked its log key, presumed stolen since {since}: {suspect} envelope(s) from {party} accepted since then were signed by that key; check them with {party}"
                ),
                now,
            )?;
        }
    }
    Ok(Ok(Some(verified.card)))
}
