//! The verifiable directory on a node: publishing this party's entry (its
//! card, its 24/7 points of contact, what it accepts, its notification
//! requirement) in its own log, serving every record it holds — its own
//! proved against its latest witness-cosigned checkpoint — fetching the
//! records of the parties and witnesses it pins, keeping those that verify
//! against a witness it pins, and pinning a party from its entry once the
//! operator confirms the fingerprint.

use std::time::Duration;

use liaison_core::directory::{
    ContactPoint, DirectoryEntry, DirectoryPage, DirectoryRecord, ENTRY_VERSION, accepts_of,
    verify_record,
};
use liaison_log::note::NoteVerifier;
use liaison_log::proof::TlogProof;
use liaison_proto::NodeRole;
use liaison_store::StoreError;
use liaison_store::directory::{self as db, DirectoryRow};
use liaison_store::federation as fed;
use serde::Serialize;

use crate::{Node, NodeError, now_rfc3339};

/// The most bytes of a peer's directory answer read.
pub const MAX_DIRECTORY_BYTES: usize = 16 * 1024 * 1024;
/// The most records listed, or taken from one answer.
pub const MAX_RECORDS: usize = 20_000;
/// The most records served in one answer: a peer fetches page after page,
/// so that neither side builds a whole directory in memory at once.
pub const PAGE_RECORDS: usize = 256;
/// The most pages fetched from one peer in one round.
const MAX_PAGES: usize = MAX_RECORDS / PAGE_RECORDS;

/// A party as the directory shows it: its latest entry and its history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DirectoryListing {
    pub party: String,
    pub entry: DirectoryEntry,
    /// How many entries it has published (history kept).
    pub versions: usize,
    /// Who cosigned the checkpoint its latest entry is proved against.
    pub witnesses: Vec<String>,
    /// Who handed the latest entry over (`self` for this node's own).
    pub source: String,
    /// Whether this node pins the party, and with this entry's certificate.
    pub pinned: bool,
    pub pinned_same_card: bool,
}

/// What one pass over the pinned peers brought.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    pub fetched: usize,
    pub added: usize,
    pub refused: usize,
    /// Peers that could not be reached, with why.
    pub unreachable: Vec<String>,
}

fn bad_row(row: &DirectoryRow) -> impl Fn(liaison_core::CoreError) -> NodeError + '_ {
    move |e| {
        NodeError::Store(StoreError::Corrupt(format!(
            "stored directory entry {} is unreadable: {e}",
            row.hash
        )))
    }
}

/// A checkpoint note for a directory record: the log's signatures and the
/// witnesses' Ed25519 cosignatures. A record verifies against those; the
/// ML-DSA-44 lines (3 KB each) would make every record of every page that
/// much larger (audits check them instead).
fn for_records(note: &str, witnesses: &[NoteVerifier]) -> String {
    let Ok(parsed) = liaison_log::note::parse_note(note) else {
        return note.to_owned();
    };
    let mut out = format!("{}\n", parsed.text);
    for sig in &parsed.signatures {
        let witnessed = witnesses
            .iter()
            .any(|w| w.name() == sig.name && w.key_id() == sig.key_id);
        // The log's own lines are named after its origin, not a witness.
        let log_line = !witnesses.iter().any(|w| w.name() == sig.name);
        if witnessed || log_line {
            out.push_str(&sig.to_line());
        }
    }
    out
}

/// Which of its `parties` (0-based) the node of `party` fetches from in
/// `round`. Each node starts at a place of its own: in step, every node of
/// a network would fetch from the same party in the same round (192
/// fetches at once at 193 parties).
fn turn_of(party: &str, round: u64, parties: usize) -> usize {
    let h = liaison_log::Hash::of_content(party.as_bytes()).0;
    let offset = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
    (round.wrapping_add(offset) % parties.max(1) as u64) as usize
}

impl Node {
    /// The keys of the witnesses this node pins: a record verifies only
    /// against a checkpoint one of them cosigned.
    fn witness_keys(&self) -> Result<Vec<NoteVerifier>, NodeError> {
        let mut keys: Vec<NoteVerifier> = Vec::new();
        for witness in self.peers()?.iter().filter(|p| p.cosigner_key.is_some()) {
            keys.extend(self.accepted_cosigners(witness)?.ed25519);
        }
        // A witness trusts its own cosignatures: it gathers every party's
        // entries for the parties that fetch from it.
        if let Some(own) = self.cosigners() {
            let now = jiff::Timestamp::now().as_second();
            keys.extend(own.signing(now).map(|c| c.ed25519.verifier()));
        }
        Ok(keys)
    }

    /// Publishes this party's entry with `contacts` (or, with `None`, the
    /// contacts of its latest entry), unless it would say what the latest
    /// already says. Returns whether a new entry was committed.
    pub async fn publish_directory(
        &self,
        contacts: Option<Vec<ContactPoint>>,
    ) -> Result<bool, NodeError> {
        // No one cosigns a witness's own log: an entry of its own could
        // never be proved, so a witness publishes none (it is pinned by hand).
        if self.role == NodeRole::Witness {
            return Ok(false);
        }
        let me = self.party.to_string();
        let latest = self
            .store
            .read(|c| db::of_owner(c, &me))?
            .into_iter()
            .last();
        let latest = match &latest {
            Some(row) => Some(
                DirectoryEntry::check(row.entry.as_bytes())
                    .map_err(bad_row(row))?
                    .0,
            ),
            None => None,
        };
        let card = self.card();
        let checked = liaison_core::card::check_card(&card)?;
        let contacts = contacts
            .or_else(|| latest.as_ref().map(|e| e.contacts.clone()))
            .unwrap_or_default();
        if latest
            .as_ref()
            .is_some_and(|e| e.card == card && e.contacts == contacts)
        {
            return Ok(false);
        }
        let entry = DirectoryEntry {
            liaison_directory: ENTRY_VERSION,
            published: now_rfc3339(),
            notification: card.notification.clone(),
            accepts: accepts_of(&checked),
            card,
            contacts,
        };
        let bytes = entry.to_bytes()?;
        DirectoryEntry::check(&bytes)?;
        let leaf = DirectoryEntry::leaf(&bytes);
        let text = String::from_utf8(bytes)
            .map_err(|e| NodeError::Invalid(format!("the entry is not UTF-8: {e}")))?;
        self.store
            .write(move |tx| {
                let index = tx.append_leaf(leaf.encode());
                db::insert(
                    tx.conn(),
                    &DirectoryRow {
                        seq: 0,
                        hash: leaf.content_hash.to_hex(),
                        owner: me,
                        published: entry.published.clone(),
                        log_index: index,
                        entry: text,
                        proof: None,
                        witnesses: String::new(),
                        source: "self".into(),
                        recorded_at: now_rfc3339(),
                    },
                )?;
                Ok(())
            })
            .await?;
        Ok(true)
    }

    /// The records recorded here after `after`, in that order: its own
    /// entries proved against its latest witness-cosigned checkpoint that
    /// holds them (the page stops before one no witness has cosigned yet,
    /// so the cursor never passes it), and the records of others as
    /// verified here.
    pub fn directory_records(&self, after: u64) -> Result<DirectoryPage, NodeError> {
        let rows = self.store.read(|c| db::after(c, after, PAGE_RECORDS))?;
        let cosigned = self.store.read(fed::cosignatures)?;
        let witness_keys = self.witness_keys()?;
        let mut page = DirectoryPage {
            records: Vec::with_capacity(rows.len()),
            next: after,
        };
        for row in rows {
            let proof = match row.proof {
                Some(p) => p,
                None => {
                    // The largest tree a witness cosigned that holds the entry.
                    let Some(size) = cosigned
                        .iter()
                        .map(|c| c.size)
                        .filter(|s| *s > row.log_index)
                        .max()
                    else {
                        break;
                    };
                    let mut note = self.store.signed_checkpoint_at(size)?.to_string();
                    for c in cosigned.iter().filter(|c| c.size == size) {
                        note.push_str(&c.line);
                    }
                    let note = for_records(&note, &witness_keys);
                    TlogProof {
                        extra: None,
                        index: row.log_index,
                        inclusion: self.store.inclusion_proof(row.log_index, size)?,
                        checkpoint: note,
                    }
                    .encode()
                }
            };
            page.next = row.seq;
            page.records.push(DirectoryRecord {
                entry: row.entry,
                proof,
            });
        }
        Ok(page)
    }

    /// Keeps the records that verify against a witness this node pins and
    /// are not its own; answers how many were new and how many refused.
    pub async fn take_records(
        &self,
        source: &str,
        records: Vec<DirectoryRecord>,
    ) -> Result<(usize, usize), NodeError> {
        self.take_page(source, records, None).await
    }

    /// [`Node::take_records`], then remembers `cursor` (where to go on from
    /// at `source`) in the same transaction.
    async fn take_page(
        &self,
        source: &str,
        records: Vec<DirectoryRecord>,
        cursor: Option<u64>,
    ) -> Result<(usize, usize), NodeError> {
        let cursor_key = format!("directory_after:{source}");
        let witnesses = self.witness_keys()?;
        let me = self.party.to_string();
        let mut rows = Vec::new();
        let mut refused = 0;
        for record in records.into_iter().take(MAX_RECORDS) {
            match verify_record(&record, &witnesses) {
                Ok(v) if v.card.party.as_str() != me => rows.push(DirectoryRow {
                    seq: 0,
                    hash: v.hash.to_hex(),
                    owner: v.card.party.to_string(),
                    published: v.entry.published.clone(),
                    log_index: v.index,
                    entry: record.entry,
                    proof: Some(record.proof),
                    witnesses: v.witnesses.join(","),
                    source: source.to_owned(),
                    recorded_at: now_rfc3339(),
                }),
                Ok(_) => {}
                Err(e) => {
                    refused += 1;
                    tracing::warn!(source, "refused a directory record: {e}");
                }
            }
        }
        let added = self
            .store
            .write(move |tx| {
                let mut added = 0;
                for row in &rows {
                    if db::insert(tx.conn(), row)? {
                        added += 1;
                    }
                }
                // Past a record refused, the cursor stays: it may verify
                // later (a witness pinned since, a checkpoint cosigned).
                if let Some(next) = cursor.filter(|_| refused == 0) {
                    liaison_store::set_meta(tx.conn(), &cursor_key, &next.to_string())?;
                }
                Ok(added)
            })
            .await?
            .value;
        Ok((added, refused))
    }

    /// Fetches what is new in the directory of every pinned party and
    /// witness, once (`liaison directory --sync`).
    pub async fn sync_directory(&self) -> Result<SyncReport, NodeError> {
        let peers = self.peers()?;
        self.sync_from(&peers).await
    }

    /// One round of the background worker, bounded whatever the number of
    /// parties: a party fetches from every witness it pins (which gather
    /// every party's entries) and from one of its parties in turn (starting
    /// at a place its party code picks, so nodes do not all fetch from the
    /// same party at once); a witness fetches from every party it pins.
    pub async fn sync_directory_round(&self, round: u64) -> Result<SyncReport, NodeError> {
        let peers = self.peers()?;
        if self.role == NodeRole::Witness {
            return self.sync_from(&peers).await;
        }
        let (witnesses, parties): (Vec<_>, Vec<_>) = peers
            .into_iter()
            .partition(|p| p.card.role == NodeRole::Witness);
        let mut chosen = witnesses;
        if !parties.is_empty() {
            let turn = turn_of(self.party.as_str(), round, parties.len());
            chosen.extend(parties.into_iter().nth(turn));
        }
        self.sync_from(&chosen).await
    }

    async fn sync_from(
        &self,
        peers: &[liaison_core::card::CheckedCard],
    ) -> Result<SyncReport, NodeError> {
        let mut report = SyncReport::default();
        for peer in peers {
            let party = peer.party.to_string();
            let client = match self.peer_client(peer) {
                Ok(c) => c,
                Err(e) => {
                    report.unreachable.push(format!("{party}: {e}"));
                    continue;
                }
            };
            // At most MAX_DIRECTORY_BYTES from one peer in a round (the rest
            // comes next round, from the cursor), however it pages.
            let (mut bytes, mut last_next) = (0, None);
            for _ in 0..MAX_PAGES {
                match self.fetch_directory(peer, &client).await {
                    Ok((page, size)) => {
                        let (taken, after) = (page.records.len(), page.next);
                        bytes += size;
                        report.fetched += taken;
                        let (added, refused) =
                            self.take_page(&party, page.records, Some(after)).await?;
                        report.added += added;
                        report.refused += refused;
                        // A short page is the end of what the peer has now; a
                        // cursor that does not move ends the round too.
                        let stalled = last_next.is_some_and(|n| after <= n) || refused > 0;
                        if taken < PAGE_RECORDS || stalled || bytes >= MAX_DIRECTORY_BYTES {
                            break;
                        }
                        last_next = Some(after);
                    }
                    Err(e) => {
                        report.unreachable.push(format!("{party}: {e}"));
                        break;
                    }
                }
            }
        }
        Ok(report)
    }

    /// The next page of a peer's directory after this node's cursor, and
    /// its size in bytes.
    async fn fetch_directory(
        &self,
        peer: &liaison_core::card::CheckedCard,
        client: &reqwest::Client,
    ) -> Result<(DirectoryPage, usize), String> {
        let after = self
            .store
            .meta(&format!("directory_after:{}", peer.party))
            .map_err(|e| e.to_string())?
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let url = format!(
            "{}/federation/v1/directory?after={after}",
            peer.card.federation_url.trim_end_matches('/')
        );
        let response = client
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let body = crate::tls::read_bounded(response, MAX_DIRECTORY_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        let page =
            serde_json::from_slice(&body).map_err(|e| format!("answered no directory: {e}"))?;
        Ok((page, body.len()))
    }

    /// Every party in the directory, with its latest entry.
    pub fn directory(&self) -> Result<Vec<DirectoryListing>, NodeError> {
        let rows = self.store.read(|c| db::all(c, MAX_RECORDS))?;
        let mut out: Vec<DirectoryListing> = Vec::new();
        for row in &rows {
            let (entry, _) = DirectoryEntry::check(row.entry.as_bytes()).map_err(bad_row(row))?;
            let pinned = if row.owner == self.party.as_str() {
                None
            } else {
                self.peer(&row.owner)?
            };
            let listing = DirectoryListing {
                party: row.owner.clone(),
                pinned: pinned.is_some(),
                pinned_same_card: pinned
                    .as_ref()
                    .is_some_and(|p| p.card.tls_fingerprint == entry.card.tls_fingerprint),
                entry,
                versions: 1,
                witnesses: row
                    .witnesses
                    .split(',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
                source: row.source.clone(),
            };
            // Rows come by owner, in log order: the last one is the latest.
            match out.last_mut() {
                Some(last) if last.party == row.owner => {
                    let versions = last.versions + 1;
                    *last = DirectoryListing {
                        versions,
                        ..listing
                    };
                }
                _ => out.push(listing),
            }
        }
        Ok(out)
    }

    /// Pins `party` with the card of its latest directory entry, once the
    /// operator confirms its certificate's fingerprint (hex, colons allowed).
    pub async fn pin_from_directory(
        &self,
        party: &str,
        fingerprint: &str,
    ) -> Result<liaison_core::card::CheckedCard, NodeError> {
        let row = self
            .store
            .read(|c| db::of_owner(c, party))?
            .into_iter()
            .last()
            .ok_or_else(|| {
                NodeError::Store(StoreError::NotFound(format!(
                    "{party} is not in this node's directory (`liaison directory sync`)"
                )))
            })?;
        let (entry, card) = DirectoryEntry::check(row.entry.as_bytes()).map_err(bad_row(&row))?;
        let given: String = fingerprint
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if given != entry.card.tls_fingerprint {
            return Err(NodeError::Invalid(format!(
                "the fingerprint given is not {party}'s: its directory entry names {}",
                entry.card.tls_fingerprint
            )));
        }
        if card.card.role == NodeRole::Witness && card.cosigner_key.is_none() {
            return Err(NodeError::Invalid(format!(
                "{party}'s card names no cosigning key"
            )));
        }
        let (checked, _) = self.pin_peer(&entry.card, false).await?;
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    use super::turn_of;

    #[test]
    fn the_nodes_of_a_network_fetch_from_different_parties_in_one_round() {
        let codes: Vec<String> = (1..=193).map(|i| format!("p{i:03}")).collect();
        for round in [0u64, 1, 57] {
            let mut fetches = vec![0usize; 192];
            for code in &codes {
                fetches[turn_of(code, round, 192)] += 1;
            }
            // Spread like random picks (at most 8 of 193 on one), not all
            // on one party.
            let most = fetches.iter().max().copied().unwrap_or(0);
            assert!(
                most <= 8,
                "round {round}: {most} nodes fetch from one party"
            );
        }
        // One node's turns go through every party.
        let turns: std::collections::HashSet<usize> =
            (0..192).map(|round| turn_of("p001", round, 192)).collect();
        assert_eq!(turns.len(), 192);
        assert_eq!(turn_of("p001", 3, 0), 0);
    }
}
