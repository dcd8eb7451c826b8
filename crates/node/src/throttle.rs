//! Failed sign-ins, counted per key in a sliding window, in bounded
//! memory. An attempt reserves its place before the password is checked,
//! so parallel guesses cannot race past the limit; a success gives the
//! place back, a failure (or an attempt abandoned half-way) keeps it.
//!
//! Keys are SHA-256 digests (truncated) of what they stand for, so a
//! megabyte-long user name costs what a short one does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

type Key = [u8; 16];

/// Most keys remembered: beyond this the oldest are forgotten first.
pub const MAX_KEYS: usize = 65_536;

/// A key and how many failures it may have in the window.
#[derive(Clone, Copy, Debug)]
pub struct Limit<'a> {
    pub what: &'a str,
    pub max: u32,
}

#[derive(Debug, Default)]
struct Window {
    failures: Vec<Instant>,
    in_flight: u32,
}

#[derive(Debug)]
struct Inner {
    keys: HashMap<Key, Window>,
    window: Duration,
}

/// Shared by every listener of a node.
#[derive(Clone, Debug)]
pub struct Throttle {
    inner: Arc<Mutex<Inner>>,
}

/// A reserved attempt: [`Attempt::succeeded`] gives it back; dropping it
/// any other way records a failure.
#[derive(Debug)]
pub struct Attempt {
    throttle: Throttle,
    keys: Vec<Key>,
    decided: bool,
}

fn digest(what: &str) -> Key {
    let d = Sha256::digest(what.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

impl Throttle {
    pub fn new(window: Duration) -> Throttle {
        Throttle {
            inner: Arc::new(Mutex::new(Inner {
                keys: HashMap::new(),
                window,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere; the counts are intact.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves an attempt under every limit, or `None` if one is reached.
    pub fn reserve(&self, limits: &[Limit<'_>]) -> Option<Attempt> {
        let now = Instant::now();
        let mut inner = self.lock();
        let window = inner.window;
        let keys: Vec<Key> = limits.iter().map(|l| digest(l.what)).collect();
        for (key, limit) in keys.iter().zip(limits) {
            if let Some(w) = inner.keys.get_mut(key) {
                w.failures.retain(|t| now.duration_since(*t) < window);
                if w.failures.len() as u64 + u64::from(w.in_flight) >= u64::from(limit.max) {
                    return None;
                }
            } else if limit.max == 0 {
                return None;
            }
        }
        if inner.keys.len() + keys.len() > MAX_KEYS {
            inner.prune(now);
        }
        for key in &keys {
            inner.keys.entry(*key).or_default().in_flight += 1;
        }
        Some(Attempt {
            throttle: self.clone(),
            keys,
            decided: false,
        })
    }

    /// How many keys are remembered (for tests and figures).
    pub fn len(&self) -> usize {
        self.lock().keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    /// Forgets keys with nothing in the window, then, if still too many,
    /// those whose latest failure is oldest.
    fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.keys.retain(|_, w| {
            w.failures.retain(|t| now.duration_since(*t) < window);
            w.in_flight > 0 || !w.failures.is_empty()
        });
        if self.keys.len() + 16 > MAX_KEYS {
            let mut ages: Vec<(Instant, Key)> = self
                .keys
                .iter()
                .filter(|(_, w)| w.in_flight == 0)
                .map(|(k, w)| (w.failures.last().copied().unwrap_or(now), *k))
                .collect();
            ages.sort_unstable();
            let excess = self.keys.len() + 16 - MAX_KEYS;
            for (_, k) in ages.into_iter().take(excess.max(MAX_KEYS / 8)) {
                self.keys.remove(&k);
            }
        }
    }
}

impl Attempt {
    /// The password was right: the attempt counts for nothing.
    pub fn succeeded(mut self) {
        self.decided = true;
        let mut inner = self.throttle.lock();
        for key in &self.keys {
            if let Some(w) = inner.keys.get_mut(key) {
                w.in_flight = w.in_flight.saturating_sub(1);
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.decided {
            return;
        }
        let now = Instant::now();
        let mut inner = self.throttle.lock();
        for key in &self.keys {
            if let Some(w) = inner.keys.get_mut(key) {
                w.in_flight = w.in_flight.saturating_sub(1);
                w.failures.push(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits<'a>(user: &'a str, client: &'a str) -> [Limit<'a>; 2] {
        [
            Limit { what: user, max: 5 },
            Limit {
                what: client,
                max: 50,
            },
        ]
    }

    #[test]
    fn failures_count_successes_do_not_and_reservations_hold_places() {
        let t = Throttle::new(Duration::from_secs(300));
        for _ in 0..3 {
            t.reserve(&limits("u:a|1", "c:1")).unwrap().succeeded();
        }
        // Five parallel guesses take every place before any is decided.
        let held: Vec<Attempt> = (0..5)
            .map(|_| t.reserve(&limits("u:a|1", "c:1")).unwrap())
            .collect();
        assert!(t.reserve(&limits("u:a|1", "c:1")).is_none());
        // Another client is not locked out of the same user.
        assert!(t.reserve(&limits("u:a|2", "c:2")).is_some());
        drop(held);
        assert!(t.reserve(&limits("u:a|1", "c:1")).is_none());
    }

    #[test]
    fn the_window_slides() {
        let t = Throttle::new(Duration::from_millis(50));
        for _ in 0..5 {
            drop(t.reserve(&limits("u", "c")).unwrap());
        }
        assert!(t.reserve(&limits("u", "c")).is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(t.reserve(&limits("u", "c")).is_some());
    }

    #[test]
    fn memory_stays_bounded_whatever_the_keys() {
        let t = Throttle::new(Duration::from_secs(300));
        let long = "x".repeat(1000);
        for i in 0..(MAX_KEYS + 5000) {
            drop(t.reserve(&[Limit {
                what: &format!("{long}{i}"),
                max: 5,
            }]));
        }
        assert!(t.len() <= MAX_KEYS, "{}", t.len());
    }

    proptest! {
        #[test]
        fn a_key_never_has_more_places_than_its_limit(
            ops in proptest::collection::vec((0u8..3, 0u8..4), 0..200),
            max in 0u32..6,
        ) {
            let t = Throttle::new(Duration::from_secs(300));
            let mut open: Vec<Attempt> = Vec::new();
            for (op, key) in ops {
                let what = format!("k{key}");
                match op {
                    0 => if let Some(a) = t.reserve(&[Limit { what: &what, max }]) { open.push(a) },
                    1 => if let Some(a) = open.pop() { a.succeeded() },
                    _ => drop(open.pop()),
                }
            }
            // Per key: failures + open reservations never exceed the limit.
            let inner = t.lock();
            for w in inner.keys.values() {
                prop_assert!(w.failures.len() as u32 + w.in_flight <= max);
            }
        }
    }
}
