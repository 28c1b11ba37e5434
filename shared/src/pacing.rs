//! How a run shares an account-wide API rate with every other run: it finds the rate it
//! can use instead of a fixed concurrency, and it treats a throttle as "not yet".
//!
//! - **Adaptive concurrency** (additive increase, multiplicative decrease, like TCP's
//!   congestion window): the window of calls in flight starts small and doubles each round
//!   trip while nothing is throttled (slow start), then grows by one per round trip; a
//!   throttle halves it, at most once per round trip, never below one. `MAX_CONCURRENCY`
//!   is the ceiling. Runs sharing one limit converge to equal windows; a lone run on an
//!   unthrottled API reaches the ceiling within a few round trips.
//! - **Throttles wait**: a throttled call is asked again after a short jittered pause
//!   (its window has just shrunk), for as long as the run may keep working; only the budget
//!   ends it, and then the caller hands over to a continuation. A throttle never fails a run.
//!
//! The SDK's adaptive retry mode does something similar per client, but backs off to 70 %
//! after every throttle and cannot tell one run's calls from another's.

use std::future::Future;
use std::sync::Mutex;

use futures::StreamExt;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::ports::{AwsError, ErrorKind, PageStream};

/// How a call may be retried by the pacer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Only throttles (refused before anything was done) are asked again: the call is not
    /// idempotent, so a transient failure may have been applied and is the caller's to check.
    Throttles,
    /// Throttles, and transient failures a few times: the call is a read, or idempotent.
    Idempotent,
}

/// Transient failures of an idempotent call asked again, on top of the SDK's own attempts.
const TRANSIENT_RETRIES: u32 = 4;

#[derive(Debug)]
struct Window {
    size: f64,
    in_flight: usize,
    slow_start: bool,
    last_cut: Option<Instant>,
    /// Smoothed call latency, the round trip the window reacts on.
    rtt: Duration,
    peak: f64,
    calls: u64,
    throttles: u64,
}

/// What a pacer saw, for the report and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PacerStats {
    pub calls: u64,
    pub throttles: u64,
    pub peak_window: f64,
    pub window: f64,
}

/// The pacer of one kind of call in one run.
#[derive(Debug)]
pub struct Pacer {
    window: Mutex<Window>,
    freed: Notify,
    ceiling: f64,
    adaptive: bool,
}

/// A place in the window, given back when dropped.
pub struct Permit<'a> {
    pacer: &'a Pacer,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut w = self.pacer.lock();
        w.in_flight = w.in_flight.saturating_sub(1);
        drop(w);
        self.pacer.freed.notify_waiters();
    }
}

impl Pacer {
    /// A window that adapts to throttling, from `initial` up to `ceiling` calls in flight.
    pub fn adaptive(initial: usize, ceiling: usize) -> Self {
        let ceiling = ceiling.max(1) as f64;
        Self::with(initial.max(1) as f64, ceiling, true)
    }

    /// A fixed window: throttles are still waited out, but the window does not move.
    pub fn fixed(size: usize) -> Self {
        let size = size.max(1) as f64;
        Self::with(size, size, false)
    }

    fn with(initial: f64, ceiling: f64, adaptive: bool) -> Self {
        Self {
            window: Mutex::new(Window {
                size: initial.min(ceiling),
                in_flight: 0,
                slow_start: true,
                last_cut: None,
                rtt: Duration::from_millis(50),
                peak: initial.min(ceiling),
                calls: 0,
                throttles: 0,
            }),
            freed: Notify::new(),
            ceiling,
            adaptive,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn stats(&self) -> PacerStats {
        let w = self.lock();
        PacerStats { calls: w.calls, throttles: w.throttles, peak_window: w.peak, window: w.size }
    }

    /// Waits for a place in the window.
    pub async fn permit(&self) -> Permit<'_> {
        loop {
            let freed = self.freed.notified();
            {
                let mut w = self.lock();
                if (w.in_flight as f64) < w.size.floor().max(1.0) {
                    w.in_flight += 1;
                    return Permit { pacer: self };
                }
            }
            freed.await;
        }
    }

    pub(crate) fn succeeded(&self, took: Duration) {
        let mut w = self.lock();
        w.calls += 1;
        w.rtt = (w.rtt * 7 + took) / 8;
        if !self.adaptive {
            return;
        }
        // Slow start doubles the window each round trip (+1 per success); afterwards it
        // grows by about one per round trip (+1/window per success).
        let step = if w.slow_start { 1.0 } else { 1.0 / w.size };
        w.size = (w.size + step).min(self.ceiling);
        w.peak = w.peak.max(w.size);
        drop(w);
        self.freed.notify_waiters();
    }

    pub(crate) fn throttled(&self) {
        let mut w = self.lock();
        w.calls += 1;
        w.throttles += 1;
        if !self.adaptive {
            return;
        }
        let now = Instant::now();
        // One cut per round trip: a burst of throttles is one congestion event.
        if w.last_cut.is_none_or(|t| now.duration_since(t) >= w.rtt) {
            w.size = (w.size / 2.0).max(1.0);
            w.slow_start = false;
            w.last_cut = Some(now);
        }
    }

    /// Runs `call` in the window until it succeeds, fails for good, or `until` passes while
    /// it is still throttled (then the throttle is the answer: "not yet").
    pub async fn call<T, F, Fut>(&self, retry: Retry, until: Instant, mut call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut throttled = 0u32;
        let mut transient = 0u32;
        loop {
            let permit = self.permit().await;
            let started = Instant::now();
            let result = call().await;
            drop(permit);
            let e = match result {
                Ok(v) => {
                    self.succeeded(started.elapsed());
                    return Ok(v);
                }
                Err(e) => e,
            };
            let pause = match e.kind {
                ErrorKind::Throttled => {
                    self.throttled();
                    throttled = throttled.saturating_add(1);
                    pause_after(throttled, self.lock().rtt)
                }
                ErrorKind::Transient if retry == Retry::Idempotent && transient < TRANSIENT_RETRIES => {
                    self.lock().calls += 1;
                    transient += 1;
                    pause_after(transient, Duration::from_millis(100))
                }
                _ => {
                    self.lock().calls += 1;
                    return Err(e);
                }
            };
            if Instant::now() + pause >= until {
                // "Not yet" until the very end: the caller then sees its time is up,
                // rather than asking again at once.
                tokio::time::sleep_until(until).await;
                return Err(e);
            }
            tokio::time::sleep(pause).await;
        }
    }
}

/// Opens a listing at a marker (`None`: from the start).
pub type Open<'a, T> = Box<dyn Fn(Option<String>) -> PageStream<'a, T> + Send + Sync + 'a>;

/// A paged listing read through a pacer: each page waits for a place in the window, and a
/// page that is throttled (or fails transiently) is asked for again from its marker, so
/// nothing already read is read twice and a long listing survives throttling.
pub struct Pages<'a, T> {
    open: Open<'a, T>,
    stream: Option<PageStream<'a, T>>,
    marker: Option<String>,
    done: bool,
    pacer: &'a Pacer,
    until: Instant,
    pages: usize,
}

impl<'a, T> Pages<'a, T> {
    pub fn new(pacer: &'a Pacer, until: Instant, open: Open<'a, T>) -> Self {
        Self::starting_at(pacer, until, open, None)
    }

    /// A listing that starts at a marker an earlier read gave.
    pub fn starting_at(pacer: &'a Pacer, until: Instant, open: Open<'a, T>, marker: Option<String>) -> Self {
        Self { open, stream: None, marker, done: false, pacer, until, pages: 0 }
    }

    /// The marker the next page will be asked for with (`None`: the start, or done).
    pub fn marker(&self) -> Option<&str> {
        self.marker.as_deref()
    }

    /// Pages read so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next page; `None` once the listing is complete. Cancel-safe between pages.
    pub async fn next(&mut self) -> Option<Result<Vec<T>, AwsError>> {
        let mut tries = 0u32;
        loop {
            if self.done {
                return None;
            }
            if self.stream.is_none() {
                self.stream = Some((self.open)(self.marker.clone()));
            }
            let permit = self.pacer.permit().await;
            let started = Instant::now();
            let item = match self.stream.as_mut() {
                Some(s) => s.next().await,
                None => None,
            };
            drop(permit);
            let e = match item {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Ok(page)) => {
                    self.pacer.succeeded(started.elapsed());
                    self.pages += 1;
                    self.done = page.next.is_none();
                    self.marker = page.next;
                    return Some(Ok(page.items));
                }
                Some(Err(e)) => e,
            };
            tries += 1;
            let pause = match e.kind {
                ErrorKind::Throttled => {
                    self.pacer.throttled();
                    pause_after(tries, self.pacer.lock().rtt)
                }
                ErrorKind::Transient if tries <= TRANSIENT_RETRIES => pause_after(tries, Duration::from_millis(100)),
                _ => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if Instant::now() + pause >= self.until {
                tokio::time::sleep_until(self.until).await;
                self.done = true;
                return Some(Err(e));
            }
            tracing::info!(error = %e, tries, "reading that page again, from where the listing was");
            // A paginator stops at its first error: open a new one at the marker.
            self.stream = None;
            tokio::time::sleep(pause).await;
        }
    }

    /// Every page left.
    pub async fn rest(&mut self) -> Result<Vec<T>, AwsError> {
        let mut all = Vec::new();
        while let Some(page) = self.next().await {
            all.extend(page?);
        }
        Ok(all)
    }
}

/// Every page of a listing, read through a pacer.
pub async fn all<'a, T>(pacer: &'a Pacer, until: Instant, open: Open<'a, T>) -> Result<Vec<T>, AwsError> {
    Pages::new(pacer, until, open).rest().await
}

/// A jittered pause that grows with the tries, from about one round trip to two seconds:
/// short, because the window has already shrunk, and jittered, so runs spread out.
fn pause_after(tries: u32, rtt: Duration) -> Duration {
    let base = rtt.max(Duration::from_millis(20)).saturating_mul(1 << tries.min(6)).min(Duration::from_secs(2));
    base.mul_f64(0.5 + fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryGateway, error};
    use crate::model::GatewayKind;
    use crate::ports::StorageGateway;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn forever() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_run_reaches_the_ceiling() {
        let p = Pacer::adaptive(4, 64);
        for _ in 0..200 {
            let r: Result<(), AwsError> = p.call(Retry::Throttles, forever(), || async { Ok(()) }).await;
            assert!(r.is_ok());
        }
        assert_eq!(p.stats().window, 64.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_halves_the_window_once_per_round_trip_and_is_asked_again() {
        let p = Pacer::adaptive(32, 32);
        let tries = AtomicU32::new(0);
        let r = p
            .call(Retry::Throttles, forever(), || async {
                if tries.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(error("RetrieveTapeRecoveryPoint", "ThrottlingException", 400))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r.ok(), Some(7));
        assert_eq!(tries.load(Ordering::SeqCst), 4);
        let s = p.stats();
        assert_eq!(s.throttles, 3);
        assert!(s.window < 32.0 && s.window >= 1.0, "{s:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_is_the_answer_only_once_time_is_up() {
        let p = Pacer::adaptive(1, 8);
        let until = Instant::now() + Duration::from_secs(30);
        let r: Result<(), AwsError> =
            p.call(Retry::Throttles, until, || async { Err(error("DescribeTapes", "ThrottlingException", 400)) }).await;
        assert_eq!(r.map_err(|e| e.kind), Err(ErrorKind::Throttled));
        assert!(Instant::now() + Duration::from_secs(3) >= until, "it kept trying until the budget ended");
        assert!(p.stats().throttles > 10);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_only_for_idempotent_calls() {
        let p = Pacer::fixed(4);
        let tries = AtomicU32::new(0);
        let call = || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(error("DescribeTapes", "InternalServerError", 500))
        };
        assert!(p.call(Retry::Throttles, forever(), call).await.is_err());
        assert_eq!(tries.swap(0, Ordering::SeqCst), 1);
        assert!(p.call(Retry::Idempotent, forever(), call).await.is_err());
        assert_eq!(tries.load(Ordering::SeqCst), 1 + TRANSIENT_RETRIES);
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_bounds_calls_in_flight() {
        let p = Pacer::fixed(3);
        let in_flight = AtomicU32::new(0);
        let peak = AtomicU32::new(0);
        let calls = (0..20).map(|_| {
            p.call(Retry::Throttles, forever(), || async {
                let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, AwsError>(())
            })
        });
        futures::future::join_all(calls).await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_that_keeps_failing_is_asked_for_again_from_its_marker() {
        let sg = MemoryGateway::default();
        for i in 0..250 {
            let g = crate::arn::GatewayArn::parse(
                "g",
                &format!("arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-{:08X}", 0x1000_0000 + i),
            )
            .unwrap();
            sg.add_gateway(&g, GatewayKind::Tape, true);
        }
        let p = Pacer::fixed(4);
        let mut pages = Pages::new(&p, forever(), Box::new(|from| sg.list_gateways(from)));
        let first = pages.next().await.unwrap().unwrap();
        sg.fail_next(
            "ListGateways",
            [error("ListGateways", "ThrottlingException", 400), error("ListGateways", "InternalServerError", 500)],
        );
        let rest = pages.rest().await.unwrap();
        assert_eq!(first.len() + rest.len(), 250, "nothing lost, nothing read twice");
        assert_eq!(pages.pages(), 3);
        assert_eq!(sg.count("ListGateways"), 5, "1 + 2 failures + 2 pages, never from the start again");
    }
}
