//! Liaison's durable state: one SQLite database per node, in WAL mode with
//! `synchronous=FULL`, written by one writer thread that group-commits.
//!
//! Every write is a job run inside the writer's transaction. A job may append
//! log leaves; the writer extends the Merkle tree with all leaves of the
//! batch, commits (one fsync for many jobs), and only then answers the jobs
//! and signs the new checkpoint. So nothing is acknowledged before it is on
//! disk, a job's rows and its log entries land together or not at all, and a
//! checkpoint is only ever signed for a tree that is already durable.
//!
//! Other processes (the CLI while `serve` runs) open the same file with their
//! own writer; `BEGIN IMMEDIATE` serialises them and each writer notices when
//! the tree grew under it.

mod connection;
mod db;
mod log;
mod text;
mod writer;

pub mod attachments;
pub mod directory;
pub mod federation;
pub mod hashes;
pub mod keys;
pub mod operations;
pub mod peers;
pub mod reference;
pub mod stix;
pub mod users;

pub use connection::Connection;
pub use db::{StoreError, get_meta, set_meta};
pub use log::LogHead;
pub use text::{Stored, StoredText};
pub use writer::{Committed, Deferred, WriteTx};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use liaison_log::note::NoteSigner;

/// How a writer batches: at most `max_batch` jobs per transaction.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub max_batch: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { max_batch: 4096 }
    }
}

/// A handle to a node's database. Cheap to clone.
/// Most idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;
/// An idle read connection unused this long is closed.
const READER_IDLE: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// Idle read connections with when each was last used, the most
    /// recent last.
    readers: Mutex<Vec<(Connection, Instant)>>,
    writer: writer::WriterHandle,
    /// The log's origin: the name of every key that signs it.
    origin: String,
    signers: std::sync::RwLock<Arc<LogSigners>>,
    /// The last note signed, with its head, the key set it was signed
    /// with (held, so it is never mistaken for a later one) and how many
    /// of its keys signed.
    checkpoint_cache: Mutex<Option<CachedNote>>,
}

struct CachedNote {
    head: LogHead,
    signers: Arc<LogSigners>,
    signed_by: usize,
    note: Arc<str>,
}

/// The keys that sign the log's checkpoints: the current one and, during a
/// rotation's overlap, the one it replaced, so that a verifier that pins
/// either key (Go's `sumdb/note` included) keeps verifying.
#[derive(Clone, Debug)]
pub struct LogSigners {
    pub current: NoteSigner,
    /// The replaced key, and the end of its overlap (Unix seconds).
    pub overlap: Option<(NoteSigner, i64)>,
}

impl LogSigners {
    pub fn single(current: NoteSigner) -> LogSigners {
        LogSigners {
            current,
            overlap: None,
        }
    }

    /// The keys that sign at `now` (Unix seconds), the current one first.
    pub fn active(&self, now: i64) -> Vec<&NoteSigner> {
        let mut keys = vec![&self.current];
        if let Some((previous, until)) = &self.overlap
            && now <= *until
        {
            keys.push(previous);
        }
        keys
    }
}

impl Store {
    /// Creates a new database at `path` (which must not exist).
    pub fn create(path: &Path) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists",
                path.display()
            )));
        }
        let conn = db::open_connection(path)?;
        db::migrate(&conn)?;
        Ok(())
    }

    /// Opens an existing database; `signers` sign the log's checkpoints
    /// and their name is the log origin.
    pub fn open(
        path: &Path,
        signers: LogSigners,
        options: WriterOptions,
    ) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Invalid(format!(
                "no database at {}",
                path.display()
            )));
        }
        let conn = db::open_connection(path)?;
        db::migrate(&conn)?;
        log::check_head(&conn)?;
        let writer = writer::spawn(conn, options)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                readers: Mutex::new(Vec::new()),
                writer,
                origin: signers.current.name().to_owned(),
                signers: std::sync::RwLock::new(Arc::new(signers)),
                checkpoint_cache: Mutex::new(None),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn log_origin(&self) -> &str {
        &self.inner.origin
    }

    /// The current log key: it signs envelopes and receipts.
    pub fn log_signer(&self) -> NoteSigner {
        self.log_signers().current.clone()
    }

    pub fn log_signers(&self) -> Arc<LogSigners> {
        // A poisoned lock only means a panic while swapping in an Arc.
        self.inner
            .signers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the keys that sign (a rotation). They must keep the origin.
    pub fn set_log_signers(&self, signers: LogSigners) -> Result<(), StoreError> {
        if signers.current.name() != self.inner.origin
            || signers
                .overlap
                .as_ref()
                .is_some_and(|(k, _)| k.name() != self.inner.origin)
        {
            return Err(StoreError::Invalid(format!(
                "a log key of this log is named {}",
                self.inner.origin
            )));
        }
        *self
            .inner
            .signers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(signers);
        Ok(())
    }

    /// Runs `f` on a pooled read connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = match self.lock_readers().pop() {
            Some((c, _)) => c,
            None => db::open_reader(&self.inner.path)?,
        };
        let result = f(&conn);
        let now = Instant::now();
        let mut pool = self.lock_readers();
        // A connection holds its page cache and prepared statements: those
        // not needed for a while are closed (the pool is used last in,
        // first out, so under light use one connection serves).
        pool.retain(|(_, used)| now.duration_since(*used) < READER_IDLE);
        if pool.len() < MAX_IDLE_READERS {
            pool.push((conn, now));
        }
        result
    }

    fn lock_readers(&self) -> std::sync::MutexGuard<'_, Vec<(Connection, Instant)>> {
        // A poisoned pool only means a reader panicked mid-query; the
        // connections themselves are still usable.
        self.inner
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in the writer's next transaction and waits until it is
    /// durable. Returns `f`'s value with the signed checkpoint covering it.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Committed<T>, StoreError> {
        let rx = self.inner.writer.submit(f)?;
        let (value, head) = rx.await.map_err(|_| StoreError::WriterGone)??;
        self.finish(value, head)
    }

    /// [`Store::write`] for callers outside an async runtime.
    pub fn write_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Committed<T>, StoreError> {
        let rx = self.inner.writer.submit(f)?;
        let (value, head) = rx.blocking_recv().map_err(|_| StoreError::WriterGone)??;
        self.finish(value, head)
    }

    fn finish<T>(&self, value: T, head: LogHead) -> Result<Committed<T>, StoreError> {
        let checkpoint = self.signed_checkpoint_for(head)?;
        Ok(Committed {
            value,
            head,
            checkpoint,
        })
    }

    /// The latest durable tree head.
    pub fn log_head(&self) -> Result<LogHead, StoreError> {
        self.read(log::read_head)
    }

    /// The signed checkpoint of the latest durable tree head.
    pub fn checkpoint(&self) -> Result<Arc<str>, StoreError> {
        let head = self.log_head()?;
        self.signed_checkpoint_for(head)
    }

    /// The signed checkpoint of the tree when it had `size` entries (the
    /// same note it had then: see below), its root computed from the tree.
    pub fn signed_checkpoint_at(&self, size: u64) -> Result<Arc<str>, StoreError> {
        let head = self.log_head()?;
        if size == 0 || size > head.size {
            return Err(StoreError::Invalid(format!(
                "the log has no tree of size {size} (it has {})",
                head.size
            )));
        }
        let root = self.read(|c| log::root_at(c, size))?;
        self.signed_checkpoint_for(LogHead { size, root })
    }

    fn signed_checkpoint_for(&self, head: LogHead) -> Result<Arc<str>, StoreError> {
        let mut cache = self
            .inner
            .checkpoint_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let signers = self.log_signers();
        let active = signers.active(jiff::Timestamp::now().as_second());
        let signed_by = active.len();
        if let Some(c) = cache.as_ref()
            && c.head == head
            && Arc::ptr_eq(&c.signers, &signers)
            && c.signed_by == signed_by
        {
            return Ok(c.note.clone());
        }
        // Ed25519 is deterministic and the checkpoint carries no timestamp,
        // so signing the same durable head twice with the same keys yields
        // the same note.
        let note: Arc<str> = log::sign_head(&active, head)?.into();
        let keep_newer = cache.as_ref().is_some_and(|c| {
            c.head.size > head.size && Arc::ptr_eq(&c.signers, &signers) && c.signed_by == signed_by
        });
        if !keep_newer {
            *cache = Some(CachedNote {
                head,
                signers: signers.clone(),
                signed_by,
                note: note.clone(),
            });
        }
        Ok(note)
    }

    /// A tile or entry bundle, if the tree has it.
    pub fn tile(&self, tile: liaison_log::tiles::TileRef) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| log::read_tile(c, tile))
    }

    /// The inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<liaison_log::Hash>, StoreError> {
        self.read(|c| log::inclusion_proof(c, index, size))
    }

    /// Inclusion proofs of several leaves in the tree of `size`, sharing
    /// the node reads they have in common (receipts for a whole batch).
    pub fn inclusion_proofs(
        &self,
        indices: &[u64],
        size: u64,
    ) -> Result<Vec<Vec<liaison_log::Hash>>, StoreError> {
        self.read(|c| log::inclusion_proofs(c, indices, size))
    }

    /// The consistency proof between two tree sizes.
    pub fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<liaison_log::Hash>, StoreError> {
        self.read(|c| log::consistency_proof(c, old, new))
    }

    /// The entry data at `index`.
    pub fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| log::read_entry(c, index))
    }

    /// A `meta` value (small key-value settings the node keeps).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| db::get_meta(c, key))
    }
}

#[cfg(test)]
mod tests;
