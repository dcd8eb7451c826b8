//! The node's own work, beside whatever serves its listeners: one task per
//! duty, each until `shutdown` changes — delivery to every pinned party,
//! submitting checkpoints to witnesses, deadlines and scheduled pings,
//! keeping the hash list in step with agreed reports, sweeping unlisted
//! attachments, fetching the pinned peers' directories, picking up a key
//! rotation made by another process, and finishing a search-index rebuild
//! cut short.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::Node;

/// Unlisted attachments are swept this often (and at start).
const SWEEP_EVERY: Duration = Duration::from_secs(600);

impl Node {
    /// Starts every worker of the node; they stop when `shutdown` changes.
    pub fn run(&self, shutdown: watch::Receiver<bool>) -> JoinSet<()> {
        let mut workers = JoinSet::new();
        workers.spawn(crate::federation::delivery::run(
            self.clone(),
            shutdown.clone(),
        ));
        workers.spawn(crate::federation::witness::run_cosigning(
            self.clone(),
            shutdown.clone(),
        ));
        workers.spawn(crate::deadlines::run(self.clone(), shutdown.clone()));
        workers.spawn(hash_list_sync(self.clone(), shutdown.clone()));
        workers.spawn(attachment_sweep(self.clone(), shutdown.clone()));
        workers.spawn(directory_sync(self.clone(), shutdown.clone()));
        workers.spawn(key_watch(self.clone(), shutdown.clone()));
        match self.search_index_complete() {
            Ok(true) => {}
            Ok(false) => {
                let node = self.clone();
                workers.spawn(async move {
                    tracing::warn!(
                        "the search index was being rebuilt when the node stopped: rebuilding"
                    );
                    match node.rebuild_search_index(|_, _| {}).await {
                        Ok(n) => tracing::info!(documents = n, "search index rebuilt"),
                        Err(e) => tracing::error!("cannot rebuild the search index: {e}"),
                    }
                });
            }
            Err(e) => tracing::error!("cannot read the search index state: {e}"),
        }
        workers
    }
}

/// Adds agreed hashes to our list whenever a synchronisation is due (at
/// start, after answers arrive, after a failure), checking every interval.
async fn hash_list_sync(node: Node, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(node.config.deadlines.check_interval_secs.max(1));
    loop {
        node.sync_hash_list_if_due().await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
    }
}

async fn attachment_sweep(node: Node, mut shutdown: watch::Receiver<bool>) {
    loop {
        match node.sweep_attachments().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "removed attachments no message lists"),
            Err(e) => tracing::error!("attachment sweep: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// How often the log key file is looked at for a rotation made elsewhere.
const KEY_WATCH_EVERY: Duration = Duration::from_secs(2);

/// Picks up a rotation `liaison key rotate` (or `rotate-recovery`) made
/// while this process serves: the key file is replaced when it commits (a
/// `stat` a tick, so an idle node reads nothing).
async fn key_watch(node: Node, mut shutdown: watch::Receiver<bool>) {
    let stamp = |node: &Node| {
        [
            node.dir().log_key(),
            node.dir().recovery_public_key(),
            node.dir().tls_cert(),
        ]
        .map(|path| {
            std::fs::metadata(path)
                .ok()
                .map(|m| (std::os::unix::fs::MetadataExt::ino(&m), m.modified().ok()))
        })
    };
    let mut seen = stamp(&node);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(KEY_WATCH_EVERY) => {}
            _ = shutdown.changed() => break,
        }
        let now = stamp(&node);
        if now != seen {
            match node.reload_log_keys() {
                Ok(true) => tracing::info!("the log key was rotated: signing with the new key"),
                Ok(false) => {}
                Err(e) => tracing::error!("cannot load the rotated log key: {e}"),
            }
            seen = now;
        }
    }
}

/// Fetches what is new in the pinned peers' directories every
/// `directory.sync_secs` (a bounded round: `Node::sync_directory_round`).
async fn directory_sync(node: Node, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_secs(node.config.directory.sync_secs.max(1));
    for round in 0u64.. {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => break,
        }
        match node.sync_directory_round(round).await {
            Ok(r) if r.added > 0 || r.refused > 0 => {
                tracing::info!(
                    added = r.added,
                    refused = r.refused,
                    "directory synchronised"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!("directory synchronisation: {e}"),
        }
    }
}
