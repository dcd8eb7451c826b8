//! The shared hash lists: ours, built from the hash items of our reports
//! that the provider's side answered `removed`, and each peer's copy;
//! every addition and withdrawal a signed `hashlist` envelope to the
//! parties its marking allows; exact matching of hashes and uploads
//! against every live list, through an in-memory PDQ index loaded on first
//! use and caught up with new rows at each lookup.

use std::sync::{OnceLock, RwLock};

use liaison_core::case::CaseKind;
use liaison_core::content::{HASH_LIST, HashEntry, HashListBody, ItemStatus, ItemType};
use liaison_core::envelope::SignedEnvelope;
use liaison_core::pdq::{MIN_MATCH_QUALITY, PdqHash, hash_image_within};
use liaison_core::pdq_index::PdqIndex;
use liaison_core::tlp::Tlp;
use liaison_proto::NodeRole;
use liaison_store::Connection;
use liaison_store::StoreError;
use liaison_store::federation::{self as db, Direction};
use liaison_store::hashes::{self as hdb, HashRow};
use serde::Serialize;
use sha2::Digest as _;

use super::states_by_provider;
use crate::envelopes::insert_envelope;
use crate::{Node, NodeError, now_rfc3339};
use liaison_core::roster::recipients_from;

/// The in-memory PDQ index of every live list entry (keys: row ids), and
/// the newest row it has read from the database.
#[derive(Debug)]
pub struct LoadedIndex {
    index: PdqIndex,
    seen: i64,
}

pub type SharedIndex = std::sync::Arc<OnceLock<RwLock<LoadedIndex>>>;

/// Serialises hash-list synchronisations and remembers whether one is due:
/// at start (a crash may have cut one short), after item answers arrive,
/// and after one failed.
#[derive(Debug)]
pub struct HashSync {
    running: tokio::sync::Mutex<()>,
    due: std::sync::atomic::AtomicBool,
}

impl HashSync {
    pub fn new() -> HashSync {
        HashSync {
            running: tokio::sync::Mutex::new(()),
            due: std::sync::atomic::AtomicBool::new(true),
        }
    }
}

impl Default for HashSync {
    fn default() -> Self {
        HashSync::new()
    }
}

/// The markings a reader cleared up to `clearance` may see, as stored.
fn levels_within(clearance: Tlp) -> Vec<&'static str> {
    liaison_core::tlp::ALL_LEVELS
        .iter()
        .filter(|l| l.visible_to(clearance))
        .map(|l| l.as_str())
        .collect()
}

/// A hash-list entry found for a lookup.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct HashMatch {
    /// Bits that differ (PDQ); 0 for exact MD5/SHA-256 matches.
    pub distance: u32,
    #[serde(flatten)]
    pub entry: liaison_proto::api::HashEntry,
}

/// What a lookup was asked and found.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct LookupResult {
    pub pdq: Option<String>,
    pub quality: Option<u8>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
    pub radius: u32,
    pub matches: Vec<HashMatch>,
}

/// A lookup by hashes (at least one).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HashQuery {
    #[serde(default)]
    pub pdq: Option<String>,
    /// Quality of the PDQ hash, when the caller knows it.
    #[serde(default)]
    pub quality: Option<u8>,
    #[serde(default)]
    pub md5: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub radius: Option<u32>,
}

/// Largest radius a lookup may ask for (beyond it everything matches).
pub const MAX_RADIUS: u32 = 64;

fn entry_row(owner: &str, e: &HashEntry, at: &str) -> HashRow {
    HashRow {
        id: 0,
        owner: owner.to_owned(),
        entry_id: e.entry_id.clone(),
        kind: e.kind.as_str().to_owned(),
        value: e.value.clone(),
        entity: e.entity.clone(),
        behaviour: e.behaviour.as_str().to_owned(),
        urgency: e.urgency.as_str().to_owned(),
        origin_case: e.origin_case.clone(),
        added_at: at.to_owned(),
        withdrawn_at: None,
        withdraw_reason: None,
        tlp: e.tlp.as_str().to_owned(),
    }
}

/// Applies a hash-list change from `owner` to the database; returns the row
/// ids withdrawn, to drop from the index (additions reach it by catching up
/// with new rows, see `hash_index`).
pub(crate) fn apply_list_change(
    conn: &Connection,
    owner: &str,
    body: &HashListBody,
    at: &str,
) -> Result<Vec<i64>, StoreError> {
    match body {
        HashListBody::Add { entries } => {
            for e in entries {
                hdb::add(conn, &entry_row(owner, e, at))?;
            }
            Ok(Vec::new())
        }
        HashListBody::Withdraw { entry_ids, reason } => {
            hdb::withdraw(conn, owner, entry_ids, reason, at)
        }
    }
}

/// Records a `hashlist` envelope that arrived from its owner (its body
/// already checked on arrival).
pub(crate) fn record_arrival(
    conn: &Connection,
    signed: &SignedEnvelope,
    body: &HashListBody,
    signed_json: String,
    hash: &str,
    log_index: u64,
    now: &str,
) -> Result<Vec<i64>, StoreError> {
    let e = &signed.envelope;
    insert_envelope(
        conn,
        signed,
        signed_json,
        hash,
        Direction::In,
        log_index,
        now,
    )?;
    apply_list_change(conn, &e.sender, body, now)
}

impl Node {
    /// The index, loaded on first use and caught up with every row added
    /// since, by this process or another (the CLI while `serve` runs): one
    /// indexed `max(id)` per call. Withdrawals need no catching up: every
    /// match is re-read from the database.
    fn hash_index(&self) -> Result<&RwLock<LoadedIndex>, NodeError> {
        let lock = match self.hash_index.get() {
            Some(i) => i,
            None => {
                let (seen, rows) = self
                    .store
                    .read(|c| Ok((hdb::max_id(c)?, hdb::live_pdq_after(c, 0)?)))?;
                let index = PdqIndex::from_entries(
                    rows.into_iter()
                        .filter_map(|(id, hex)| PdqHash::parse(&hex).ok().map(|h| (id, h))),
                );
                // Another thread may have loaded it meanwhile: either copy is current.
                self.hash_index
                    .get_or_init(|| RwLock::new(LoadedIndex { index, seen }))
            }
        };
        let seen = lock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .seen;
        let newest = self.store.read(hdb::max_id)?;
        if newest > seen {
            let rows = self.store.read(|c| hdb::live_pdq_after(c, seen))?;
            // A poisoned lock only means a panic elsewhere; the index is intact.
            let mut loaded = lock
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (id, hex) in rows {
                if let Ok(h) = PdqHash::parse(&hex) {
                    loaded.index.insert(id, h);
                }
            }
            loaded.seen = loaded.seen.max(newest);
        }
        Ok(lock)
    }

    /// Drops withdrawn entries from the index after a commit. (Matches are
    /// re-read from the database anyway; this keeps the index small.)
    pub(crate) fn drop_from_index(&self, withdrawn: &[i64]) {
        if withdrawn.is_empty() {
            return;
        }
        // Not loaded yet: the first use reads only live rows.
        let Some(lock) = self.hash_index.get() else {
            return;
        };
        // A poisoned lock only means a panic elsewhere; the index is intact.
        let mut loaded = lock
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in withdrawn {
            loaded.index.remove(*id);
        }
    }

    /// Adds to our list the hash items of our reports that the provider's
    /// side agreed to remove, and sends the additions to every party.
    /// Returns how many entries were added.
    pub async fn sync_hash_list(&self) -> Result<usize, NodeError> {
        if self.role != NodeRole::Party {
            return Ok(0);
        }
        let _one_at_a_time = self.hash_sync.running.lock().await;
        let me = self.party.to_string();
        let entries: Vec<HashEntry> = self.store.read(|c| {
            let mut out = Vec::new();
            for id in db::outgoing_case_ids(c, CaseKind::ContentReport.as_str())? {
                let Some(case) = db::case_by_id(c, &id)? else {
                    continue;
                };
                let Some((report, by_provider)) = states_by_provider(c, &case)? else {
                    continue;
                };
                let tlp = case.tlp;
                for (i, item) in report.items.iter().enumerate() {
                    let entry_id = format!("{id}#{i}");
                    // Agreed once a party the report went to removed it.
                    let removed = by_provider.iter().any(|(_, states)| {
                        states
                            .get(i)
                            .is_some_and(|s| s.status == ItemStatus::Removed)
                    });
                    if item.kind == ItemType::Url
                        || !removed
                        || hdb::by_entry(c, &me, &entry_id)?.is_some()
                    {
                        continue;
                    }
                    out.push(HashEntry {
                        entry_id,
                        kind: item.kind,
                        value: item.value.clone(),
                        entity: item.entity.clone(),
                        behaviour: item.behaviour,
                        urgency: item.urgency,
                        origin_case: id.clone(),
                        tlp,
                    });
                }
            }
            Ok(out)
        })?;
        let n = entries.len();
        for chunk in entries.chunks(liaison_core::content::MAX_ITEMS) {
            let body = HashListBody::Add {
                entries: chunk.to_vec(),
            };
            self.change_hash_list(body).await?;
        }
        Ok(n)
    }

    /// Runs [`Node::sync_hash_list`] if one is due (marking it due again if
    /// it fails), so deadline passes do not rescan every report.
    pub(crate) async fn sync_hash_list_if_due(&self) {
        use std::sync::atomic::Ordering;
        if !self.hash_sync.due.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Err(e) = self.sync_hash_list().await {
            self.hash_sync.due.store(true, Ordering::Release);
            tracing::warn!("cannot update the hash list (retried at the next deadline pass): {e}");
        }
    }

    /// Marks a synchronisation due and runs it in the background.
    pub(crate) fn request_hash_sync(&self) {
        self.hash_sync
            .due
            .store(true, std::sync::atomic::Ordering::Release);
        let node = self.clone();
        tokio::spawn(async move { node.sync_hash_list_if_due().await });
    }

    /// Withdraws entries of our list, here and on every party's copy.
    pub async fn withdraw_hashes(
        &self,
        entry_ids: Vec<String>,
        reason: &str,
    ) -> Result<usize, NodeError> {
        let me = self.party.to_string();
        let live: Vec<String> = self.store.read(|c| {
            let mut out = Vec::new();
            for id in &entry_ids {
                match hdb::by_entry(c, &me, id)? {
                    Some(row) if row.withdrawn_at.is_none() => out.push(id.clone()),
                    Some(_) => {}
                    None => {
                        return Err(StoreError::NotFound(format!(
                            "our hash list has no entry {id}"
                        )));
                    }
                }
            }
            Ok(out)
        })?;
        if live.is_empty() {
            return Ok(0);
        }
        let n = live.len();
        for chunk in live.chunks(liaison_core::content::MAX_ITEMS) {
            self.change_hash_list(HashListBody::Withdraw {
                entry_ids: chunk.to_vec(),
                reason: reason.to_owned(),
            })
            .await?;
        }
        Ok(n)
    }

    /// Applies a change to our own list and sends it, signed, in one
    /// transaction, to the parties its entries' markings allow: entries of
    /// CLEAR and GREEN reports go to every pinned party, entries of AMBER
    /// and stricter reports only to the parties on the report's roster.
    async fn change_hash_list(&self, body: HashListBody) -> Result<(), NodeError> {
        let _gate = self.signing_gate().await;
        let me = self.party.to_string();
        let case_id = format!("{HASH_LIST}-{}", self.party);
        let mut parts: Vec<(Option<Vec<String>>, HashListBody)> = Vec::new();
        match &body {
            HashListBody::Add { entries } => {
                let mut groups: Vec<(Option<Vec<String>>, Vec<HashEntry>)> = Vec::new();
                for e in entries {
                    let to = self.audience(e.tlp, &e.origin_case)?;
                    match groups.iter_mut().find(|(t, _)| *t == to) {
                        Some((_, g)) => g.push(e.clone()),
                        None => groups.push((to, vec![e.clone()])),
                    }
                }
                parts.extend(
                    groups
                        .into_iter()
                        .map(|(to, entries)| (to, HashListBody::Add { entries })),
                );
            }
            HashListBody::Withdraw { entry_ids, reason } => {
                let mut groups: Vec<(Option<Vec<String>>, Vec<String>)> = Vec::new();
                for id in entry_ids {
                    let row = self.store.read(|c| hdb::by_entry(c, &me, id))?;
                    let (tlp, origin) = row
                        .map(|r| (Tlp::parse(&r.tlp).unwrap_or(Tlp::Red), r.origin_case))
                        .unwrap_or((Tlp::Red, String::new()));
                    let to = self.audience(tlp, &origin)?;
                    match groups.iter_mut().find(|(t, _)| *t == to) {
                        Some((_, g)) => g.push(id.clone()),
                        None => groups.push((to, vec![id.clone()])),
                    }
                }
                parts.extend(groups.into_iter().map(|(to, entry_ids)| {
                    (
                        to,
                        HashListBody::Withdraw {
                            entry_ids,
                            reason: reason.clone(),
                        },
                    )
                }));
            }
        }
        let mut envelopes = Vec::new();
        for (to, part) in &parts {
            let value =
                serde_json::to_value(part).map_err(|e| NodeError::Invalid(e.to_string()))?;
            HashListBody::check(&value)?;
            envelopes.push(match to {
                None => self.sign_for_parties(HASH_LIST, &case_id, &value)?,
                Some(parties) => self.sign_for_listed(parties, HASH_LIST, &case_id, &value)?,
            });
        }
        let recipients: Vec<String> = envelopes.iter().flat_map(|e| e.recipients()).collect();
        let committed = self
            .store
            .write(move |tx| {
                let now = now_rfc3339();
                let changes = apply_list_change(tx.conn(), &me, &body, &now)?;
                for e in envelopes {
                    e.commit(tx, &now)?;
                }
                Ok(changes)
            })
            .await?;
        self.drop_from_index(&committed.value);
        self.wake.queued(recipients.iter().map(String::as_str));
        Ok(())
    }

    /// Who may receive an entry of this marking from the report
    /// `origin_case`: every party (`None`) for CLEAR and GREEN, else only
    /// the report's roster (nobody known: nobody at all).
    fn audience(&self, tlp: Tlp, origin_case: &str) -> Result<Option<Vec<String>>, NodeError> {
        if tlp <= Tlp::Green {
            return Ok(None);
        }
        let me = self.party.as_str();
        let roster = self.store.read(|c| {
            Ok(match db::case_by_id(c, origin_case)? {
                Some(case) if case.initiator == me => db::participants(c, origin_case)?,
                _ => Vec::new(),
            })
        })?;
        Ok(Some(recipients_from(&roster, me)))
    }

    /// One page of the hash lists (ours and the peers'), of entries a
    /// reader cleared up to `clearance` may see.
    pub fn hash_list(
        &self,
        owner: Option<&str>,
        include_withdrawn: bool,
        limit: usize,
        offset: usize,
        clearance: Tlp,
    ) -> Result<Vec<liaison_proto::api::HashEntry>, NodeError> {
        let levels = levels_within(clearance);
        Ok(crate::wire::Wire::wire(self.store.read(|c| {
            hdb::page(
                c,
                owner,
                include_withdrawn,
                limit.min(1000),
                offset,
                &levels,
            )
        })?))
    }

    /// Live entries per list owner and hash type, among those `clearance` covers.
    pub fn hash_counts(&self, clearance: Tlp) -> Result<Vec<(String, String, i64)>, NodeError> {
        let levels = levels_within(clearance);
        Ok(self.store.read(|c| hdb::counts(c, &levels))?)
    }

    /// Looks hashes up in every live list: PDQ within the radius (exact,
    /// never approximate), MD5 and SHA-256 exactly. Only entries a reader
    /// cleared up to `clearance` may see can match.
    pub fn lookup(&self, q: &HashQuery, clearance: Tlp) -> Result<LookupResult, NodeError> {
        let radius = q.radius.unwrap_or(self.config.content.match_radius);
        if radius > MAX_RADIUS {
            return Err(NodeError::Invalid(format!(
                "radius {radius} is too large: at most {MAX_RADIUS} bits"
            )));
        }
        let norm = |v: &Option<String>, kind: ItemType, field: &str| {
            v.as_deref()
                .map(|s| liaison_core::content::check_value(field, kind, s))
                .transpose()
        };
        let md5 = norm(&q.md5, ItemType::Md5, "md5")?;
        let sha256 = norm(&q.sha256, ItemType::Sha256, "sha256")?;
        let pdq = q.pdq.as_deref().map(PdqHash::parse).transpose()?;
        if pdq.is_none() && md5.is_none() && sha256.is_none() {
            return Err(NodeError::Invalid(
                "give a hash to look up: pdq, md5 or sha256 (or upload an image)".into(),
            ));
        }
        if let Some(quality) = q.quality
            && pdq.is_some()
            && quality < MIN_MATCH_QUALITY
        {
            return Err(NodeError::Invalid(format!(
                "the PDQ hash has quality {quality}: below {MIN_MATCH_QUALITY} it is too unreliable to match on"
            )));
        }
        let mut found: Vec<(i64, u32)> = Vec::new();
        if let Some(h) = &pdq {
            let loaded = self
                .hash_index()?
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            found.extend(
                loaded
                    .index
                    .search(h, radius)
                    .into_iter()
                    .map(|m| (m.key, m.distance)),
            );
        }
        let exact: Vec<HashRow> = self.store.read(|c| {
            let mut rows = Vec::new();
            if let Some(v) = &md5 {
                rows.extend(hdb::live_by_value(c, "md5", v)?);
            }
            if let Some(v) = &sha256 {
                rows.extend(hdb::live_by_value(c, "sha256", v)?);
            }
            Ok(rows)
        })?;
        let mut matches: Vec<HashMatch> = self.store.read(|c| {
            let mut out = Vec::with_capacity(found.len());
            for (id, distance) in &found {
                // A withdrawal committed anywhere since the index took the row.
                if let Some(entry) = hdb::by_id(c, *id)?.filter(|r| r.withdrawn_at.is_none()) {
                    out.push(HashMatch {
                        distance: *distance,
                        entry: crate::wire::Wire::wire(entry),
                    });
                }
            }
            Ok(out)
        })?;
        matches.extend(exact.into_iter().map(|entry| HashMatch {
            distance: 0,
            entry: crate::wire::Wire::wire(entry),
        }));
        matches.retain(|m| {
            Tlp::parse(&m.entry.tlp)
                .unwrap_or(Tlp::Red)
                .visible_to(clearance)
        });
        Ok(LookupResult {
            pdq: pdq.map(|h| h.to_hex()),
            quality: q.quality,
            md5,
            sha256,
            radius,
            matches,
        })
    }

    /// [`Node::lookup_image`] for an upload: at most `limits.image_hashes`
    /// images are decoded at once (decoding costs memory and a core), on
    /// their own threads; up to 64 more wait their turn, others are refused.
    pub async fn lookup_upload(
        &self,
        bytes: Vec<u8>,
        radius: Option<u32>,
        clearance: Tlp,
    ) -> Result<LookupResult, NodeError> {
        let node = self.clone();
        self.image_workers
            .run(move || node.lookup_image(&bytes, radius, clearance))
            .await
            .map_err(|e| {
                NodeError::Invalid(format!("cannot hash the image now: {e}; try again shortly"))
            })?
    }

    /// Hashes an uploaded image (PDQ, MD5, SHA-256) and looks it up.
    /// Images whose PDQ quality is below 50 are refused for matching.
    pub fn lookup_image(
        &self,
        bytes: &[u8],
        radius: Option<u32>,
        clearance: Tlp,
    ) -> Result<LookupResult, NodeError> {
        let max_pixels = u64::from(self.config.limits.image_megapixels) * 1_000_000;
        let out = hash_image_within(bytes, max_pixels)?;
        if out.quality < MIN_MATCH_QUALITY {
            return Err(NodeError::Invalid(format!(
                "the image's PDQ quality is {}: below {MIN_MATCH_QUALITY} it has too little detail to match on",
                out.quality
            )));
        }
        let md5 = hex::encode(md5::Md5::digest(bytes));
        let sha256 = hex::encode(sha2::Sha256::digest(bytes));
        self.lookup(
            &HashQuery {
                pdq: Some(out.hash.to_hex()),
                quality: Some(out.quality),
                md5: Some(md5),
                sha256: Some(sha256),
                radius,
            },
            clearance,
        )
    }
}
