//! The lease on a gateway: one run works on it at a time. Taken with a conditional put
//! (absent, or expired), renewed by a heartbeat that checks the record version number,
//! released at the end, taken over once expired (the DynamoDB lock client's design).
//! Two deliveries started in the same millisecond: exactly one put succeeds.
//!
//! A live lease held by another run is watched for up to one lease period: if its version
//! moves, its holder is alive and this run is a duplicate; if the holder gives it back
//! meanwhile, the holder did the work and this run is a duplicate too; if it expires
//! without moving (a killed run), this run takes it over.
//!
//! A run reads the lease before it looks at anything else. Taking it at the version it
//! read means nobody worked on the gateway since: what the run saw is still true (the
//! lease is `fresh`). Any other way (taken over, or changed in between), the run must look
//! again before it acts.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::arn::GatewayArn;
use crate::ledger::{self, Stored, gateway_pk};
use crate::pacing::{Pacer, Retry};
use crate::ports::{AwsError, Clock, Condition, Key, Ledger, Written};
use crate::time::millis_i64;

/// A lease with no heartbeat for this many heartbeats has expired.
const EXPIRES_AFTER_BEATS: u32 = 3;

/// How long a released lease item stays (its TTL): a week.
const RELEASED_KEPT_SECS: i64 = 7 * 86_400;

/// What the lease needs from the outside world.
pub struct LeaseDeps<'a, L, C> {
    pub ledger: &'a L,
    pub clock: &'a C,
    /// The pacer of ledger calls (throttles are waited out).
    pub pacer: &'a Pacer,
}

// References only: copyable whatever `L` and `C` are (a derive would ask them to be).
impl<L, C> Clone for LeaseDeps<'_, L, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L, C> Copy for LeaseDeps<'_, L, C> {}

/// Whose lease, and for how long to try.
#[derive(Debug, Clone)]
pub struct LeaseRequest<'a> {
    pub gateway: &'a GatewayArn,
    /// The invocation (its request id).
    pub owner: &'a str,
    pub recovery_id: &'a str,
    pub heartbeat: Duration,
    /// Stop waiting for another holder at this time.
    pub until: Instant,
    /// Finishing calls (renewal, release) may go on until this time.
    pub finish_by: Instant,
    /// The lease as the run read it before its first look at the gateway.
    pub seen: Seen,
}

/// The lease as a run read it before looking at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The read failed: whatever happens, look again once the lease is ours.
    Unknown,
    Absent,
    Version(u64),
}

impl Seen {
    fn is(self, current: Option<u64>) -> bool {
        match (self, current) {
            (Seen::Absent, None) => true,
            (Seen::Version(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

/// Who holds the lease when this run could not take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub owner: String,
    pub recovery_id: String,
}

/// How taking the lease went.
pub enum Taken<'a, L, C> {
    Ours(Lease<'a, L, C>),
    /// A live run holds it.
    HeldBy(Holder),
    /// The budget ran out before the holder showed whether it is alive.
    OutOfTime(Holder),
    /// A live holder gave it back while this run watched: it did the work.
    Finished(Holder),
}

/// This run's lease: it owns its key, its record version and whether it was lost.
pub struct Lease<'a, L, C> {
    deps: LeaseDeps<'a, L, C>,
    key: Key,
    record: std::sync::Mutex<ledger::Lease>,
    version: AtomicU64,
    lost: AtomicBool,
    /// Taken at the version the run read before its first look: nobody worked since.
    fresh: bool,
    heartbeat: Duration,
    finish_by: Instant,
}

fn holder(l: &ledger::Lease) -> Holder {
    Holder { owner: l.owner.clone(), recovery_id: l.recovery_id.clone() }
}

impl<'a, L: Ledger, C: Clock> Lease<'a, L, C> {
    /// The ledger key of a gateway's lease.
    pub fn key_of(gateway: &GatewayArn) -> Key {
        Key::new(gateway_pk(gateway), "lease")
    }

    fn period(heartbeat: Duration) -> Duration {
        heartbeat * EXPIRES_AFTER_BEATS
    }

    async fn read(
        deps: &LeaseDeps<'a, L, C>,
        key: &Key,
        until: Instant,
    ) -> Result<Option<Stored<ledger::Lease>>, AwsError> {
        deps.pacer.call(Retry::Idempotent, until, || ledger::load(deps.ledger, key)).await
    }

    /// The lease of a gateway as it is now, for [`LeaseRequest::seen`].
    pub async fn peek(deps: LeaseDeps<'a, L, C>, gateway: &GatewayArn, until: Instant) -> Seen {
        match Self::read(&deps, &Self::key_of(gateway), until).await {
            Ok(None) => Seen::Absent,
            Ok(Some(s)) => Seen::Version(s.version),
            Err(_) => Seen::Unknown,
        }
    }

    /// Takes the lease, or says who holds it.
    pub async fn take(deps: LeaseDeps<'a, L, C>, req: &LeaseRequest<'_>) -> Result<Taken<'a, L, C>, AwsError> {
        let key = Self::key_of(req.gateway);
        let period = Self::period(req.heartbeat);
        // The version the holder's lease had when this run first saw it held.
        let mut watching: Option<(u64, Holder)> = None;
        // Another run wrote the lease between this run's read and its put.
        let mut contended = false;
        loop {
            let now = deps.clock.now_ms();
            let current = Self::read(&deps, &key, req.until).await?;
            let record = ledger::Lease {
                owner: req.owner.to_owned(),
                recovery_id: req.recovery_id.to_owned(),
                acquired_at: now,
                renewed_at: now,
                lease_until: now + millis_i64(period),
                released_at: None,
            };
            let free = match &current {
                None => true,
                // Our own (Lambda retries an invocation with its request id), given back, or expired.
                Some(s) => s.value.owner == req.owner || s.value.free_at(now),
            };
            if free {
                // A holder seen alive (or one that won the race for the put) gave it back:
                // it did the work this run came for.
                if watching.is_some() || contended {
                    if let Some(s) = current.as_ref().filter(|s| s.value.released_at.is_some()) {
                        return Ok(Taken::Finished(holder(&s.value)));
                    }
                }
                let fresh = !contended
                    && req.seen.is(current.as_ref().map(|s| s.version))
                    && current.as_ref().is_none_or(|s| s.value.released_at.is_some());
                let (condition, version) = match &current {
                    None => (Condition::Absent, 1),
                    Some(s) => (Condition::Version(s.version), s.version + 1),
                };
                let written = deps
                    .pacer
                    .call(Retry::Throttles, req.until, || {
                        ledger::write(deps.ledger, &key, &record, version, &condition, None)
                    })
                    .await?;
                match written {
                    Written::Done => {
                        return Ok(Taken::Ours(Lease {
                            deps,
                            key,
                            record: std::sync::Mutex::new(record),
                            version: AtomicU64::new(version),
                            lost: AtomicBool::new(false),
                            fresh,
                            heartbeat: req.heartbeat,
                            finish_by: req.finish_by,
                        }));
                    }
                    // Someone wrote in between: read again and decide again.
                    Written::Conflict => {
                        contended = true;
                        continue;
                    }
                }
            }
            let Some(s) = current else { continue };
            match &watching {
                // Its heartbeat came (or another run took it): the holder is alive.
                Some((seen, _)) if *seen != s.version => return Ok(Taken::HeldBy(holder(&s.value))),
                Some(_) => {}
                None => {
                    tracing::info!(
                        holder = s.value.owner,
                        recovery = s.value.recovery_id,
                        "the lease is held; watching its heartbeat"
                    );
                    watching = Some((s.version, holder(&s.value)));
                }
            }
            // Wake just after the holder's next heartbeat, or at its expiry, whichever is first.
            let to_expiry = Duration::from_millis(u64::try_from(s.value.lease_until - now).unwrap_or(0) + 10);
            let wait = to_expiry.min(req.heartbeat + req.heartbeat / 5);
            if Instant::now() + wait >= req.until {
                return Ok(Taken::OutOfTime(holder(&s.value)));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Nobody worked on the gateway between the run's first look and this lease: what it
    /// saw then still holds.
    pub fn fresh(&self) -> bool {
        self.fresh
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Another run took the lease over (this one stalled past its expiry): stop starting work.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ledger::Lease> {
        self.record.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One heartbeat: renews the lease if it is still ours.
    pub async fn renew(&self) -> Result<(), AwsError> {
        let now = self.deps.clock.now_ms();
        let record = {
            let mut r = self.lock();
            r.renewed_at = now;
            r.lease_until = now + millis_i64(Self::period(self.heartbeat));
            r.clone()
        };
        let v = self.version.load(Ordering::SeqCst);
        let condition = Condition::Version(v);
        let written = self
            .deps
            .pacer
            .call(Retry::Throttles, self.finish_by, || {
                ledger::write(self.deps.ledger, &self.key, &record, v + 1, &condition, None)
            })
            .await?;
        match written {
            Written::Done => self.version.store(v + 1, Ordering::SeqCst),
            Written::Conflict => {
                tracing::warn!(lease = self.key.pk, "the lease was taken over; this run stops starting work");
                self.lost.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// Runs `work` while renewing the lease every heartbeat.
    pub async fn keep<T>(&self, work: impl Future<Output = T>) -> T {
        let beat = async {
            let mut every = tokio::time::interval(self.heartbeat);
            every.tick().await;
            loop {
                every.tick().await;
                if self.lost() {
                    // Nothing to renew; wait for the work to notice and stop.
                    std::future::pending::<()>().await;
                }
                if let Err(e) = self.renew().await {
                    tracing::warn!(error = %e, "could not renew the lease; trying again at the next heartbeat");
                }
            }
        };
        tokio::select! {
            out = work => out,
            never = beat => never,
        }
    }

    /// Gives the lease back (unless it was lost: then it is not ours). The item stays,
    /// marked released, for a week: its version goes on counting for the next run.
    pub async fn release(&self) {
        if self.lost() {
            return;
        }
        let now = self.deps.clock.now_ms();
        let record = {
            let mut r = self.lock();
            r.released_at = Some(now);
            r.lease_until = now;
            r.clone()
        };
        let v = self.version.load(Ordering::SeqCst);
        let condition = Condition::Version(v);
        let expires = Some(now / 1000 + RELEASED_KEPT_SECS);
        let r = self
            .deps
            .pacer
            .call(Retry::Idempotent, self.finish_by, || {
                ledger::write(self.deps.ledger, &self.key, &record, v + 1, &condition, expires)
            })
            .await;
        match r {
            Ok(Written::Done) => self.version.store(v + 1, Ordering::SeqCst),
            Ok(Written::Conflict) => tracing::warn!("the lease changed hands before it was released"),
            Err(e) => tracing::warn!(error = %e, "could not give the lease back; it expires on its own"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{ManualClock, MemoryLedger};

    const T0: i64 = 1_795_600_800;

    fn gw() -> GatewayArn {
        GatewayArn::parse("t", "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B").unwrap()
    }

    fn request<'a>(gateway: &'a GatewayArn, owner: &'a str) -> LeaseRequest<'a> {
        LeaseRequest {
            gateway,
            owner,
            recovery_id: "r1",
            heartbeat: Duration::from_secs(5),
            until: Instant::now() + Duration::from_secs(60),
            finish_by: Instant::now() + Duration::from_secs(120),
            seen: Seen::Absent,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_duplicate_sees_the_holders_heartbeat_and_leaves_the_work_to_it() {
        let (ledger, clock, pacer) = (MemoryLedger::default(), ManualClock::at(T0), Pacer::fixed(8));
        let deps = LeaseDeps { ledger: &ledger, clock: &clock, pacer: &pacer };
        let g = gw();
        let Ok(Taken::Ours(holder)) = Lease::take(deps, &request(&g, "first")).await else { panic!() };
        let started = Instant::now();
        let second = async {
            let r = Lease::take(deps, &request(&g, "second")).await;
            (r, started.elapsed())
        };
        let (_, (second, waited)) = tokio::join!(holder.keep(tokio::time::sleep(Duration::from_secs(30))), second);
        assert!(matches!(second, Ok(Taken::HeldBy(Holder { ref owner, .. })) if owner == "first"));
        assert!(waited <= Duration::from_secs(6), "it waited one heartbeat, not the whole lease: {waited:?}");
        holder.release().await;
    }

    #[tokio::test(start_paused = true)]
    async fn exactly_one_of_many_simultaneous_takers_gets_the_lease() {
        let (ledger, clock, pacer) = (MemoryLedger::default(), ManualClock::at(T0), Pacer::fixed(64));
        let deps = LeaseDeps { ledger: &ledger, clock: &clock, pacer: &pacer };
        let g = gw();
        let owners: Vec<String> = (0..20).map(|i| format!("req-{i}")).collect();
        let takes = owners.iter().map(|o| {
            let mut r = request(&g, o);
            r.until = Instant::now() + Duration::from_secs(1);
            async move { Lease::take(deps, &r).await }
        });
        let results = futures::future::join_all(takes).await;
        let ours = results.iter().filter(|r| matches!(r, Ok(Taken::Ours(_)))).count();
        assert_eq!(ours, 1, "one lease for twenty deliveries");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_holders_lease_is_taken_over_once_it_expires() {
        let (ledger, clock, pacer) = (MemoryLedger::default(), ManualClock::at(T0), Pacer::fixed(8));
        let deps = LeaseDeps { ledger: &ledger, clock: &clock, pacer: &pacer };
        let g = gw();
        let Ok(Taken::Ours(dead)) = Lease::take(deps, &request(&g, "killed")).await else { panic!() };
        std::mem::forget(dead); // killed: no heartbeat, no release
        let started = Instant::now();
        let Ok(Taken::Ours(next)) = Lease::take(deps, &request(&g, "rerun")).await else { panic!("not taken over") };
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(14) && waited <= Duration::from_secs(16), "{waited:?}");
        // The dead run, waking up, finds its lease gone.
        assert_eq!(ledger.items()[0].body["owner"], "rerun");
        assert!(!next.fresh(), "a run that takes over must look again before it acts");
        next.release().await;
        let items = ledger.items();
        assert!(items[0].body["releasedAt"].is_number(), "released, kept for the next run's version check");
    }

    #[tokio::test(start_paused = true)]
    async fn a_holder_that_gives_the_lease_back_while_a_duplicate_watches_did_the_work() {
        let (ledger, clock, pacer) = (MemoryLedger::default(), ManualClock::at(T0), Pacer::fixed(8));
        let deps = LeaseDeps { ledger: &ledger, clock: &clock, pacer: &pacer };
        let g = gw();
        let Ok(Taken::Ours(first)) = Lease::take(deps, &request(&g, "first")).await else { panic!() };
        let work_then_release = async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            first.release().await;
        };
        let req = request(&g, "second");
        let ((), second) = tokio::join!(work_then_release, Lease::take(deps, &req));
        assert!(matches!(second, Ok(Taken::Finished(Holder { ref owner, .. })) if owner == "first"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_taken_at_the_version_read_first_is_fresh_and_one_that_moved_is_not() {
        let (ledger, clock, pacer) = (MemoryLedger::default(), ManualClock::at(T0), Pacer::fixed(8));
        let deps = LeaseDeps { ledger: &ledger, clock: &clock, pacer: &pacer };
        let g = gw();
        let seen = Lease::peek(deps, &g, Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(seen, Seen::Absent);
        let Ok(Taken::Ours(a)) = Lease::take(deps, &LeaseRequest { seen, ..request(&g, "a") }).await else { panic!() };
        assert!(a.fresh());
        a.release().await;
        // Read before another run worked and gave the lease back: not fresh.
        let Ok(Taken::Ours(b)) = Lease::take(deps, &LeaseRequest { seen, ..request(&g, "b") }).await else { panic!() };
        assert!(!b.fresh(), "the gateway changed since this run looked");
        b.release().await;
        let seen = Lease::peek(deps, &g, Instant::now() + Duration::from_secs(5)).await;
        let Ok(Taken::Ours(c)) = Lease::take(deps, &LeaseRequest { seen, ..request(&g, "c") }).await else { panic!() };
        assert!(c.fresh(), "read at the released version, taken at it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_stalls_past_expiry_loses_its_lease_and_knows_it() {
        let (ledger, clock, pacer) = (MemoryLedger::default(), ManualClock::at(T0), Pacer::fixed(8));
        let deps = LeaseDeps { ledger: &ledger, clock: &clock, pacer: &pacer };
        let g = gw();
        let Ok(Taken::Ours(slow)) = Lease::take(deps, &request(&g, "slow")).await else { panic!() };
        tokio::time::sleep(Duration::from_secs(16)).await;
        let Ok(Taken::Ours(other)) = Lease::take(deps, &request(&g, "other")).await else { panic!() };
        slow.renew().await.unwrap();
        assert!(slow.lost());
        slow.release().await;
        assert_eq!(ledger.items()[0].body["owner"], "other");
        assert!(ledger.items()[0].body.get("releasedAt").is_none(), "the loser does not release the winner's lease");
        other.release().await;
    }
}
