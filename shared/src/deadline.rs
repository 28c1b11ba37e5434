//! How long a run may keep starting work.
//!
//! Lambda gives each invocation a deadline (epoch milliseconds). `cargo lambda watch` sends
//! `lambda-runtime-deadline-ms: 600000`, a duration rather than an epoch time, so a deadline
//! already in the past when the invocation starts is treated as unknown, and the configured
//! time budget is used instead.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    stop_at: Instant,
    /// Whether the stop time came from the invocation's own deadline.
    pub from_deadline: bool,
}

impl Budget {
    /// Stop `margin` before the deadline, or after `fallback` when the deadline is unknown.
    pub fn new(deadline_epoch_ms: u64, now: SystemTime, fallback: Duration, margin: Duration) -> Self {
        let deadline = UNIX_EPOCH + Duration::from_millis(deadline_epoch_ms);
        match deadline.duration_since(now) {
            Ok(left) if !left.is_zero() => {
                Self { stop_at: Instant::now() + left.saturating_sub(margin), from_deadline: true }
            }
            _ => Self { stop_at: Instant::now() + fallback, from_deadline: false },
        }
    }

    /// A budget of `d` from now (tests, tools).
    pub fn after(d: Duration) -> Self {
        Self { stop_at: Instant::now() + d, from_deadline: false }
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.stop_at
    }

    pub fn remaining(&self) -> Duration {
        self.stop_at.saturating_duration_since(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_deadline_is_honoured_minus_the_margin() {
        let now = SystemTime::now();
        let deadline = now + Duration::from_secs(900);
        let ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let b = Budget::new(ms, now, Duration::from_secs(5), Duration::from_secs(60));
        assert!(b.from_deadline);
        let left = b.remaining();
        assert!(left > Duration::from_secs(835) && left <= Duration::from_secs(840), "{left:?}");
    }

    #[test]
    fn cargo_lambda_watchs_duration_header_means_unknown() {
        let b = Budget::new(600_000, SystemTime::now(), Duration::from_secs(30), Duration::from_secs(60));
        assert!(!b.from_deadline);
        assert!(b.remaining() <= Duration::from_secs(30) && b.remaining() > Duration::from_secs(29));
    }

    #[test]
    fn a_margin_larger_than_the_time_left_expires_at_once() {
        let now = SystemTime::now();
        let ms = (now + Duration::from_secs(10)).duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        assert!(Budget::new(ms, now, Duration::from_secs(30), Duration::from_secs(60)).expired());
    }
}
