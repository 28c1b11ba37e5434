//! How long a run may keep starting work, and how long it has to finish.
//!
//! Lambda gives each invocation a deadline (epoch milliseconds). A run stops starting work
//! `DEADLINE_MARGIN_SECONDS` before it ([`Budget::expired`]) and uses the margin to
//! finish: publish its continuation and its report, give its lease back
//! ([`Budget::finished`]). `cargo lambda watch` sends `lambda-runtime-deadline-ms: 600000`,
//! a duration rather than an epoch time, so a deadline already in the past when the
//! invocation starts is treated as unknown, and the configured time budget is used instead.
//! Times are `tokio::time` instants, so tests with paused time can run a long budget at once.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    stop_at: Instant,
    finish_by: Instant,
    /// Whether the stop time came from the invocation's own deadline.
    pub from_deadline: bool,
}

/// What is kept back at the very end, so the runtime can still send the answer.
const LAST_SECOND: Duration = Duration::from_secs(1);

impl Budget {
    /// Stop `margin` before the deadline, or after `fallback` when the deadline is unknown.
    pub fn new(deadline_epoch_ms: u64, now_epoch_ms: i64, fallback: Duration, margin: Duration) -> Self {
        let now = Instant::now();
        let left = i64::try_from(deadline_epoch_ms).unwrap_or(i64::MAX).saturating_sub(now_epoch_ms);
        match u64::try_from(left) {
            Ok(left) if left > 0 => {
                let left = Duration::from_millis(left);
                Self {
                    stop_at: now + left.saturating_sub(margin),
                    finish_by: now + left.saturating_sub(LAST_SECOND),
                    from_deadline: true,
                }
            }
            _ => Self { stop_at: now + fallback, finish_by: now + fallback + margin, from_deadline: false },
        }
    }

    /// A budget of `d` from now, with `margin` more to finish (tests, tools).
    pub fn after(d: Duration, margin: Duration) -> Self {
        let now = Instant::now();
        Self { stop_at: now + d, finish_by: now + d + margin, from_deadline: false }
    }

    /// No more work may start.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.stop_at
    }

    /// Not even the finishing steps have time left.
    pub fn finished(&self) -> bool {
        Instant::now() >= self.finish_by
    }

    pub fn remaining(&self) -> Duration {
        self.stop_at.saturating_duration_since(Instant::now())
    }

    pub fn stop_at(&self) -> Instant {
        self.stop_at
    }

    pub fn finish_by(&self) -> Instant {
        self.finish_by
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_600_800_000;

    #[tokio::test(start_paused = true)]
    async fn a_real_deadline_is_honoured_minus_the_margin() {
        let b = Budget::new((NOW + 900_000) as u64, NOW, Duration::from_secs(5), Duration::from_secs(60));
        assert!(b.from_deadline);
        assert_eq!(b.remaining(), Duration::from_secs(840));
        tokio::time::sleep(Duration::from_secs(840)).await;
        assert!(b.expired() && !b.finished(), "the margin is for finishing");
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert!(b.finished());
    }

    #[tokio::test(start_paused = true)]
    async fn cargo_lambda_watchs_duration_header_means_unknown() {
        let b = Budget::new(600_000, NOW, Duration::from_secs(30), Duration::from_secs(60));
        assert!(!b.from_deadline);
        assert_eq!(b.remaining(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_margin_larger_than_the_time_left_expires_at_once() {
        assert!(Budget::new((NOW + 10_000) as u64, NOW, Duration::from_secs(30), Duration::from_secs(60)).expired());
    }
}
