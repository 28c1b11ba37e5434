//! The lease: a tag on the failed gateway naming the run that is changing things, refreshed
//! while it does. A duplicate delivery of the same hand-off (SNS delivers at least once)
//! finds it and leaves the work to the holder instead of racing it; a run that was killed
//! stops refreshing it, and the next run takes it over after making sure of that.

use std::future::Future;
use std::time::Duration;

use super::report::Status;
use super::run::{Ctx, Draft, Recovery, Stop};
use crate::aws::{Clock, Notifier, StorageGateway};
use crate::model::tag;

/// How recently the run's first read of the tags must have happened to stand for the
/// read before taking the lease.
const FRESH_READ: Duration = Duration::from_secs(2);

/// A lease as written in the tag: `<recovery id> <request id> <heartbeat, epoch seconds>`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lease {
    recovery_id: String,
    request_id: String,
    heartbeat: i64,
}

impl Lease {
    fn parse(v: &str) -> Option<Self> {
        let mut parts = v.split(' ');
        let (Some(recovery_id), Some(request_id), Some(hb), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Self {
            recovery_id: recovery_id.to_owned(),
            request_id: request_id.to_owned(),
            heartbeat: hb.parse().ok()?,
        })
    }

    fn value(ctx: &Ctx<'_>, now: i64) -> String {
        format!("{} {} {now}", ctx.recovery_id, ctx.request_id)
    }

    fn mine(&self, ctx: &Ctx<'_>) -> bool {
        self.recovery_id == ctx.recovery_id && self.request_id == ctx.request_id
    }
}

impl<G: StorageGateway, N: Notifier, C: Clock> Recovery<'_, G, N, C> {
    fn duplicate(holder: &Lease) -> Stop {
        Stop::Ended(
            Status::Duplicate,
            format!(
                "recovery {} (request {}) is already working on this gateway; this invocation leaves the work to it",
                holder.recovery_id, holder.request_id
            ),
        )
    }

    /// Takes the lease, or ends the run as a duplicate if a live run holds it.
    pub(super) async fn acquire_lease(&self, ctx: &Ctx<'_>) -> Result<(), Stop> {
        let failed = &ctx.req.failed;
        let beat = self.config.lease_heartbeat;
        let read = |what: &'static str| async move {
            self.gateway.list_tags(failed.into()).await.map_err(|e| Stop::Failed(what, e))
        };
        let current = if ctx.confirmed_at.elapsed() < FRESH_READ {
            ctx.tags.get(tag::LEASE).cloned()
        } else {
            read("could not read the lease").await?.get(tag::LEASE).cloned()
        };
        if let Some(held) = current.as_deref().and_then(Lease::parse).filter(|l| !l.mine(ctx)) {
            let age = self.clock.now() - held.heartbeat;
            if age < 3 * i64::try_from(beat.as_secs()).unwrap_or(i64::MAX) {
                // Refreshed lately: is its holder still alive? Wait for its next heartbeat.
                tracing::info!(
                    holder = held.recovery_id,
                    request = held.request_id,
                    age,
                    "the lease is held; checking its holder is alive"
                );
                tokio::time::sleep(beat * 3 / 2 + Duration::from_millis(500)).await;
                let again = read("could not read the lease").await?.get(tag::LEASE).and_then(|v| Lease::parse(v));
                if let Some(again) = again.filter(|l| !l.mine(ctx) && l != &held) {
                    return Err(Self::duplicate(&again));
                }
            }
            tracing::warn!(
                holder = held.recovery_id,
                request = held.request_id,
                "the lease was not refreshed; taking it over"
            );
        }
        let lease = Lease::value(ctx, self.clock.now());
        self.gateway
            .add_tags(failed.into(), &[(tag::LEASE, lease)])
            .await
            .map_err(|e| Stop::Failed("could not take the lease", e))?;
        // Two runs that wrote at once: the later write wins, and the other one yields.
        match read("could not read the lease back").await?.get(tag::LEASE).and_then(|v| Lease::parse(v)) {
            Some(l) if !l.mine(ctx) => Err(Self::duplicate(&l)),
            _ => Ok(()),
        }
    }

    /// Runs `work` while refreshing the lease every `LEASE_HEARTBEAT_SECONDS`.
    pub(super) async fn with_heartbeat(&self, ctx: &Ctx<'_>, work: impl Future<Output = Draft>) -> Draft {
        let beat = async {
            loop {
                tokio::time::sleep(self.config.lease_heartbeat).await;
                let lease = Lease::value(ctx, self.clock.now());
                if let Err(e) = self.gateway.add_tags((&ctx.req.failed).into(), &[(tag::LEASE, lease)]).await {
                    tracing::warn!(error = %e, "could not refresh the lease");
                }
            }
        };
        tokio::select! {
            d = work => d,
            never = beat => never,
        }
    }

    /// Gives the lease back at the end of the run.
    pub(super) async fn release_lease(&self, ctx: &Ctx<'_>) {
        if let Err(e) = self.gateway.remove_tags((&ctx.req.failed).into(), &[tag::LEASE]).await {
            tracing::warn!(error = %e, "could not give the lease back; it goes stale on its own");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_reads_back() {
        let l = Lease::parse("sgw-1-20261125T100000Z 9f1c 1795600800").unwrap();
        assert_eq!(
            (l.recovery_id.as_str(), l.request_id.as_str(), l.heartbeat),
            ("sgw-1-20261125T100000Z", "9f1c", 1_795_600_800)
        );
        assert_eq!(Lease::parse("garbage"), None);
        assert_eq!(Lease::parse("a b c"), None);
        assert_eq!(Lease::parse("a b 1 d"), None);
    }
}
