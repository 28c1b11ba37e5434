use std::sync::atomic::{AtomicI64, Ordering};

use tokio::time::Instant;

use crate::ports::Clock;

/// A clock that starts at a given time and moves with `tokio::time` (so a test with paused
/// time sees waits pass instantly and the clock agree), plus explicit jumps.
#[derive(Debug)]
pub struct ManualClock {
    base_ms: i64,
    start: Instant,
    jumped_ms: AtomicI64,
}

impl ManualClock {
    pub fn at_ms(base_ms: i64) -> Self {
        Self { base_ms, start: Instant::now(), jumped_ms: AtomicI64::new(0) }
    }

    /// Epoch seconds.
    pub fn at(secs: i64) -> Self {
        Self::at_ms(secs * 1000)
    }

    /// Moves the clock forward without waiting.
    pub fn advance_secs(&self, secs: i64) {
        self.jumped_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.base_ms + elapsed + self.jumped_ms.load(Ordering::SeqCst)
    }
}
