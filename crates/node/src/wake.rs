//! How this process tells its delivery supervisor that it queued envelopes,
//! and for whom, so that the supervisor wakes (or starts) exactly those
//! peers' workers without looking at the outbox for every envelope.

use std::collections::BTreeSet;
use std::sync::Mutex;

use tokio::sync::Notify;

/// The parties this process queued envelopes for since the supervisor last
/// looked, and a permit that wakes it.
#[derive(Default)]
pub(crate) struct OutboxWake {
    queued: Mutex<BTreeSet<String>>,
    notify: Notify,
}

impl OutboxWake {
    /// Envelopes were committed to the outbox for these parties.
    pub(crate) fn queued<'a>(&self, parties: impl IntoIterator<Item = &'a str>) {
        {
            let mut queued = self.lock();
            for party in parties {
                if !queued.contains(party) {
                    queued.insert(party.to_owned());
                }
            }
        }
        // A stored permit: a wake while the supervisor works is not lost.
        self.notify.notify_one();
    }

    /// The parties queued for since the last call, emptied.
    pub(crate) fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.lock())
    }

    /// Resolves when something was queued since the last wake.
    pub(crate) async fn notified(&self) {
        self.notify.notified().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A set of names stays consistent even if a holder panicked.
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_is_kept_until_taken_and_names_each_party_once() {
        let wake = OutboxWake::default();
        wake.queued(["ru", "cn"]);
        wake.queued(["ru"]);
        // The permit was stored: this resolves at once.
        wake.notified().await;
        assert_eq!(
            wake.take().into_iter().collect::<Vec<_>>(),
            vec!["cn".to_owned(), "ru".to_owned()]
        );
        assert!(wake.take().is_empty());
    }
}
