//! The single writer thread: batches jobs into one transaction, extends the
//! log with their leaves, commits, then answers every job.

use std::sync::Arc;
use std::sync::mpsc;

use crate::Connection;
use liaison_log::frontier::Frontier;
use tokio::sync::oneshot;

use crate::log::{LogHead, append_leaves, load_frontier, read_head};
use crate::{StoreError, WriterOptions};

/// Work a job leaves for the end of its batch (still in its transaction).
pub type Deferred = Box<dyn FnOnce(&Connection) -> Result<(), StoreError> + Send>;

/// What a write job sees: the transaction, and the log to append to.
pub struct WriteTx<'a> {
    conn: &'a Connection,
    base_size: u64,
    pending: &'a mut Vec<Vec<u8>>,
    deferred: &'a mut Vec<Deferred>,
}

impl<'a> WriteTx<'a> {
    /// The connection, inside the batch transaction (and the job's savepoint).
    pub fn conn(&self) -> &'a Connection {
        self.conn
    }

    /// Runs `f` after every job of the batch, in the same transaction,
    /// outside any job's savepoint — if this job succeeds. For writes to
    /// the full-text indexes: FTS5 flushes its pending terms at every
    /// savepoint, so indexing inside each job writes one index segment per
    /// job; deferred, a batch writes one.
    pub fn defer(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<(), StoreError> + Send + 'static,
    ) {
        self.deferred.push(Box::new(f));
    }

    /// Appends a log entry; returns the index it will have once committed.
    pub fn append_leaf(&mut self, data: Vec<u8>) -> u64 {
        let index = self.base_size + self.pending.len() as u64;
        self.pending.push(data);
        index
    }

    /// The tree size before this batch's own appends.
    pub fn base_size(&self) -> u64 {
        self.base_size
    }
}

/// A durable write: the job's value, the tree head that includes it, and
/// that head's signed checkpoint.
#[derive(Debug)]
pub struct Committed<T> {
    pub value: T,
    pub head: LogHead,
    pub checkpoint: Arc<str>,
}

type Outcome<T> = Result<(T, LogHead), StoreError>;

trait Job: Send {
    /// Runs inside the transaction; says whether the job succeeded.
    fn run(&mut self, tx: &mut WriteTx<'_>) -> bool;
    /// Delivers the outcome once the batch committed or failed.
    fn finish(self: Box<Self>, batch: Result<LogHead, String>);
}

struct TypedJob<T, F> {
    f: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Outcome<T>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, tx: &mut WriteTx<'_>) -> bool {
        let Some(f) = self.f.take() else { return false };
        let result = f(tx);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, batch: Result<LogHead, String>) {
        let outcome = match (self.result, batch) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(head)) => Ok((v, head)),
            (_, Err(e)) => Err(StoreError::Invalid(format!(
                "the write was not committed: {e}"
            ))),
            (None, Ok(_)) => Err(StoreError::Invalid("the write did not run".into())),
        };
        // The caller may have given up waiting; the write stands regardless.
        let _ = self.reply.send(outcome);
    }
}

pub(crate) struct WriterHandle {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl WriterHandle {
    pub(crate) fn submit<T, F>(&self, f: F) -> Result<oneshot::Receiver<Outcome<T>>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = TypedJob {
            f: Some(f),
            result: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| StoreError::WriterGone)?;
        Ok(rx)
    }
}

pub(crate) fn spawn(conn: Connection, options: WriterOptions) -> Result<WriterHandle, StoreError> {
    let (jobs, rx) = mpsc::channel::<Box<dyn Job>>();
    std::thread::Builder::new()
        .name("liaison-store-writer".into())
        .spawn(move || run(conn, rx, options))
        .map_err(|e| StoreError::Invalid(format!("cannot start the database writer: {e}")))?;
    Ok(WriterHandle { jobs })
}

/// How long the writer waits without work before giving back its cache.
const IDLE: std::time::Duration = std::time::Duration::from_secs(5);

fn run(conn: Connection, rx: mpsc::Receiver<Box<dyn Job>>, options: WriterOptions) {
    let mut frontier: Option<Frontier> = None;
    let max = options.max_batch.max(1);
    // Whether the page cache was given back since the last batch.
    let mut shrunk = true;
    // Ends when every Store handle (and so every sender) is gone.
    loop {
        let first = match rx.recv_timeout(IDLE) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if !shrunk {
                    // An idle node gives its cache back; it is refilled
                    // from the file (likely in the OS cache) when needed.
                    if let Err(e) = conn.execute_batch("PRAGMA shrink_memory") {
                        tracing::debug!("shrinking the writer's cache: {e}");
                    }
                    shrunk = true;
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        shrunk = false;
        let mut jobs = vec![first];
        while jobs.len() < max {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut frontier, jobs);
    }
}

fn run_batch(conn: &Connection, cached: &mut Option<Frontier>, mut jobs: Vec<Box<dyn Job>>) {
    let outcome = execute_batch(conn, cached, &mut jobs);
    if outcome.is_err() {
        *cached = None;
        // Nothing of the batch is kept; ignore a rollback error (the
        // transaction may never have started).
        let _ = conn.execute_batch("ROLLBACK");
    }
    let outcome = outcome.map_err(|e| e.to_string());
    for job in jobs {
        job.finish(outcome.clone());
    }
}

fn execute_batch(
    conn: &Connection,
    cached: &mut Option<Frontier>,
    jobs: &mut [Box<dyn Job>],
) -> Result<LogHead, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let head = read_head(conn)?;
    // Another process may have appended since this writer's last batch.
    let mut frontier = match cached.take() {
        Some(f) if f.size() == head.size && f.root() == head.root => f,
        _ => load_frontier(conn, head.size)?,
    };
    if frontier.root() != head.root {
        return Err(StoreError::Corrupt(
            "the stored tree does not match the log head".into(),
        ));
    }
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut deferred: Vec<Deferred> = Vec::new();
    for job in jobs.iter_mut() {
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        let (before, deferred_before) = (pending.len(), deferred.len());
        let ok = job.run(&mut WriteTx {
            conn,
            base_size: head.size,
            pending: &mut pending,
            deferred: &mut deferred,
        });
        if ok {
            conn.prepare_cached("RELEASE job")?.execute([])?;
        } else {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            conn.prepare_cached("RELEASE job")?.execute([])?;
            pending.truncate(before);
            deferred.truncate(deferred_before);
        }
    }
    for f in deferred {
        f(conn)?;
    }
    let new_head = if pending.is_empty() {
        head
    } else {
        append_leaves(conn, &mut frontier, &pending)?
    };
    conn.execute_batch("COMMIT")?;
    *cached = Some(frontier);
    Ok(new_head)
}
