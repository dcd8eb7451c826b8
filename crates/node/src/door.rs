//! What the listeners and the command line read and write through the
//! node, so that nothing above it needs the store: the log's tiles and
//! proofs, peers' delivery health, alerts and refusals, the last audit,
//! norm tags, pages of cases, and TAXII collections and statuses. The row
//! types they see are re-exported in [`rows`].

use liaison_log::Hash;
use liaison_log::tiles::TileRef;
use liaison_store::federation::{self as db, Alert, CaseFilter, CaseRow, Rejection};
use liaison_store::stix::{self as sdb, Collection, Status, Versions};

use crate::users::User;
use crate::{Node, NodeError};

/// The store's rows, as the node hands them out.
pub mod rows {
    pub use liaison_store::federation::{
        Alert, CaseFigures, CaseFilter, CaseRow, CaseTimes, Direction, Escalation, Rejection,
    };
    pub use liaison_store::hashes::HashRow;
    pub use liaison_store::operations::{Shift, TlpRead};
    pub use liaison_store::peers::PinOutcome;
    pub use liaison_store::stix::{Collection, ObjectQuery, Page, Status, StoredObject, Versions};
    pub use liaison_store::users::{TokenRow, UserRow};
}

/// How delivery to one peer stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PeerHealth {
    pub pending: i64,
    pub delivered: i64,
    pub refused: i64,
    /// When an envelope to it was last delivered.
    pub last_delivery: Option<String>,
    /// The largest checkpoint of its log seen here.
    pub log_size: Option<u64>,
}

impl Node {
    /// The log's origin line (`liaison/<party>/<key tag>`).
    pub fn log_origin(&self) -> &str {
        self.store.log_origin()
    }

    /// The verifier key of this node's log.
    pub fn log_verifier(&self) -> liaison_log::note::NoteVerifier {
        self.store.log_signer().verifier()
    }

    /// The latest signed checkpoint of this node's log.
    pub fn log_checkpoint(&self) -> Result<String, NodeError> {
        Ok(self.store.checkpoint()?.to_string())
    }

    /// Every user of this node.
    pub fn users(&self) -> Result<Vec<rows::UserRow>, NodeError> {
        Ok(self.store.read(liaison_store::users::all)?)
    }

    /// A tile of this node's log (`None`: beyond the tree).
    pub fn log_tile(&self, tile: TileRef) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.store.tile(tile)?)
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, NodeError> {
        Ok(self.store.inclusion_proof(index, size)?)
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, NodeError> {
        Ok(self.store.consistency_proof(old, new)?)
    }

    /// The size of this node's log.
    pub fn log_size(&self) -> Result<u64, NodeError> {
        Ok(self.store.log_head()?.size)
    }

    pub fn peer_health(&self, party: &str) -> Result<PeerHealth, NodeError> {
        Ok(self.store.read(|c| {
            let (pending, delivered, refused) = db::outbox_counts(c, party)?;
            let last_delivery = db::last_delivery(c, party)?;
            let log_size = db::latest_peer_checkpoint(c, party)?.map(|cp| cp.size);
            Ok(PeerHealth {
                pending,
                delivered,
                refused,
                last_delivery,
                log_size,
            })
        })?)
    }

    /// Open alerts (or all, with `resolved`).
    pub fn alerts(&self, resolved: bool) -> Result<Vec<Alert>, NodeError> {
        Ok(self.store.read(|c| db::alerts(c, resolved))?)
    }

    /// Every escalation, newest first: the operator's view (the CLI).
    pub fn all_escalations(&self, limit: usize) -> Result<Vec<db::Escalation>, NodeError> {
        Ok(self.store.read(|c| db::escalations(c, limit))?)
    }

    /// Recent refusals, newest first.
    pub fn rejections(&self, limit: usize) -> Result<Vec<Rejection>, NodeError> {
        Ok(self.store.read(|c| db::rejections(c, limit))?)
    }

    /// Records a refusal of something a peer sent.
    pub async fn record_rejection(&self, r: Rejection) -> Result<(), NodeError> {
        self.store
            .write(move |tx| db::record_rejection(tx.conn(), &r))
            .await?;
        Ok(())
    }

    /// Keeps the result of an audit run from the UI (and its one-line summary).
    pub async fn keep_audit(&self, report: String, summary: String) -> Result<(), NodeError> {
        self.store
            .write(move |tx| {
                liaison_store::set_meta(tx.conn(), "last_audit", &report)?;
                liaison_store::set_meta(tx.conn(), "last_audit_summary", &summary)
            })
            .await?;
        Ok(())
    }

    /// The last audit kept, and its summary.
    pub fn last_audit(&self) -> Result<(Option<String>, Option<String>), NodeError> {
        Ok((
            self.store.meta("last_audit")?,
            self.store.meta("last_audit_summary")?,
        ))
    }

    /// The norms a case is tagged with.
    pub fn case_norm_tags(&self, case_id: &str) -> Result<Vec<String>, NodeError> {
        Ok(self
            .store
            .read(|c| liaison_store::reference::case_norm_tags(c, case_id))?)
    }

    /// How many cases carry each norm tag.
    pub fn norm_tag_counts(&self) -> Result<Vec<(String, i64)>, NodeError> {
        Ok(self.store.read(liaison_store::reference::norm_tag_counts)?)
    }

    /// A page of cases and the total count (the filter carries the markings
    /// the reader may see).
    pub fn case_page(&self, filter: &CaseFilter<'_>) -> Result<(Vec<CaseRow>, i64), NodeError> {
        Ok(self.store.read(|c| db::case_page(c, filter))?)
    }

    /// Cases that still run (for deadlines and the duty page).
    pub fn open_cases(&self) -> Result<Vec<CaseRow>, NodeError> {
        Ok(self.store.read(db::open_cases)?)
    }

    /// A TAXII collection by id or alias.
    pub fn taxii_collection(&self, key: &str) -> Result<Option<Collection>, NodeError> {
        Ok(self.store.read(|c| sdb::collection(c, key))?)
    }

    /// A TAXII status resource, if `user` posted what it reports on.
    pub fn taxii_status(&self, id: &str, user: &User) -> Result<Option<Status>, NodeError> {
        Ok(self.store.read(|c| sdb::status(c, id, &user.username))?)
    }

    pub async fn put_taxii_status(&self, status: Status) -> Result<(), NodeError> {
        self.store
            .write(move |tx| sdb::put_status(tx.conn(), &status))
            .await?;
        Ok(())
    }

    /// Deletes the versions of an object the filter names that `user` may
    /// see; returns how many.
    pub async fn delete_stix_object(
        &self,
        user: &User,
        collection: &str,
        id: &str,
        versions: Versions,
    ) -> Result<usize, NodeError> {
        let levels = crate::access::readable_levels(user);
        let (collection, id) = (collection.to_owned(), id.to_owned());
        Ok(self
            .store
            .write(move |tx| sdb::delete_object(tx.conn(), &collection, &id, &versions, &levels))
            .await?
            .value)
    }
}
