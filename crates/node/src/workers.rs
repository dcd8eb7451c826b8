//! A fixed set of threads for work that needs much memory for a short
//! time (argon2id checks, image decoding). Tokio's blocking pool would run
//! such jobs on any of hundreds of threads, and the allocator keeps what
//! each thread freed for that thread: memory would grow with the number
//! of threads ever used. Here at most `threads` jobs run, always on the
//! same threads, and at most `queue` wait; more is refused at once.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A pool started on first use.
pub struct Workers {
    name: &'static str,
    threads: usize,
    queue: usize,
    sender: OnceLock<Option<SyncSender<Job>>>,
}

/// Why a job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too much work is waiting")]
    Busy,
    #[error("the workers have stopped")]
    Stopped,
}

impl Workers {
    pub fn new(name: &'static str, threads: usize, queue: usize) -> Workers {
        Workers {
            name,
            threads: threads.max(1),
            queue,
            sender: OnceLock::new(),
        }
    }

    fn sender(&self) -> Option<&SyncSender<Job>> {
        self.sender
            .get_or_init(|| {
                let (tx, rx) = sync_channel::<Job>(self.queue);
                let rx = Arc::new(Mutex::new(rx));
                for i in 0..self.threads {
                    let rx = rx.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("{}-{i}", self.name))
                        .spawn(move || {
                            loop {
                                // A poisoned lock only means another worker
                                // panicked while waiting; the queue is intact.
                                let job = rx
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .recv();
                                match job {
                                    Ok(job) => job(),
                                    Err(_) => break,
                                }
                            }
                        });
                    if spawned.is_err() {
                        return None;
                    }
                }
                Some(tx)
            })
            .as_ref()
    }

    /// Runs `job` on a worker and waits for its answer without blocking
    /// the async runtime; refused at once when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let boxed: Job = Box::new(move || {
            let _ = tx.send(job());
        });
        match self.sender().ok_or(Refused::Stopped)?.try_send(boxed) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Refused::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(Refused::Stopped),
        }
        rx.await.map_err(|_| Refused::Stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn jobs_run_on_the_fixed_threads_and_overflow_is_refused() {
        let w = Arc::new(Workers::new("test", 1, 1));
        assert_eq!(w.run(|| 6 * 7).await, Ok(42));
        let name = w
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("test-0"));
        // One running, one waiting: a third is refused.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let w1 = w.clone();
        let running = tokio::spawn(async move {
            w1.run(move || {
                let _ = started_tx.send(());
                hold_rx.recv().is_ok()
            })
            .await
        });
        started_rx.await.unwrap();
        let w2 = w.clone();
        let waiting = tokio::spawn(async move { w2.run(|| 1).await });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(w.run(|| 2).await, Err(Refused::Busy));
        hold_tx.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(true));
        assert_eq!(waiting.await.unwrap(), Ok(1));
    }
}
