//! [`Limiter`]: at most so many of one kind of work at once, a short queue, and a quick
//! "busy" beyond it.
//!
//! Expensive work (an argon2 check holds ~19 MiB for ~50 ms; a 2048-px preview ~50 MiB for
//! a second) must not start once per request of a flood: memory would grow with the flood
//! and every answer would come too late. A limiter lets `permits` run, `queue` wait, and
//! answers the rest at once with [`Busy`] (a web layer says 503 with `Retry-After`).
//!
//! The permit is owned: move it into the blocking closure that does the work, so that work
//! still running after its request was dropped keeps counting against the limit. A request
//! dropped while it waits leaves the queue at once (the wait is cancel-safe).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A kind of work with a limit on how much runs at once and how much may wait.
#[derive(Debug)]
pub struct Limiter {
    what: &'static str,
    permits: Arc<Semaphore>,
    size: usize,
    queue: usize,
    waiting: AtomicUsize,
    retry_after_seconds: i64,
}

/// The limiter's work is running and its queue is full: try again after `retry_after_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is busy with {what}; try again in {retry_after_seconds} s")]
pub struct Busy {
    /// The kind of work (`password checks`, `previews`, …).
    pub what: &'static str,
    /// A hint for `Retry-After`.
    pub retry_after_seconds: i64,
}

/// Leaves the queue when the waiting request is done or dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Limiter {
    /// `permits` at once (at least one), `queue` more waiting.
    pub fn new(what: &'static str, permits: usize, queue: usize, retry_after_seconds: i64) -> Limiter {
        let size = permits.max(1);
        Limiter {
            what,
            permits: Arc::new(Semaphore::new(size)),
            size,
            queue,
            waiting: AtomicUsize::new(0),
            retry_after_seconds: retry_after_seconds.max(1),
        }
    }

    /// A permit now, or after waiting in the queue; [`Busy`] at once when the queue is full.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(self.busy());
        }
        let _waiting = Waiting(&self.waiting);
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.busy())
    }

    /// What [`Limiter::acquire`] answers when full.
    pub fn busy(&self) -> Busy {
        Busy {
            what: self.what,
            retry_after_seconds: self.retry_after_seconds,
        }
    }

    /// Work running now.
    pub fn running(&self) -> usize {
        self.size - self.permits.available_permits()
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_some_queues_some_refuses_the_rest() {
        let limiter = Arc::new(Limiter::new("tests", 2, 1, 3));
        let a = limiter.acquire().await.unwrap();
        let _b = limiter.acquire().await.unwrap();
        assert_eq!(limiter.running(), 2);
        let queued = tokio::spawn({
            let limiter = limiter.clone();
            async move { limiter.acquire().await.map(drop) }
        });
        while limiter.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            limiter.acquire().await.unwrap_err(),
            Busy {
                what: "tests",
                retry_after_seconds: 3
            }
        );
        drop(a);
        queued.await.unwrap().unwrap();
        assert_eq!(limiter.waiting(), 0);
    }

    #[tokio::test]
    async fn a_dropped_wait_leaves_the_queue() {
        let limiter = Limiter::new("tests", 1, 1, 1);
        let _held = limiter.acquire().await.unwrap();
        {
            let wait = limiter.acquire();
            let _ = tokio::time::timeout(std::time::Duration::from_millis(5), wait).await;
        }
        assert_eq!(limiter.waiting(), 0);
    }
}
