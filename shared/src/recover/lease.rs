//! The lease: before a run changes anything, it writes a tag of its own on the failed
//! gateway, `recovery:lease:<request id>` = `<recovery id> <start ms> <heartbeat s>`, and
//! keeps its heartbeat fresh while it works. Tags have no compare-and-set, so every run
//! writes its own key (none overwrites another's) and the earliest live lease wins:
//!
//! - a run that finds an earlier live lease waits for that holder's next heartbeat: if it
//!   comes, the holder is alive and this run ends as a duplicate (no work, no report); if
//!   the holder stays silent for three heartbeats (a killed run), this run takes over;
//! - at every heartbeat a run looks again, so two runs that missed each other at the start
//!   (one's write was slow) overlap for one heartbeat at most: the later one stops starting
//!   work, and the world-as-ledger checks keep even that overlap from retrieving a tape twice.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use super::report::Status;
use super::run::{Ctx, Draft, Recovery, Stop};
use crate::aws::{Clock, Notifier, StorageGateway};
use crate::model::{Tags, tag};

/// A lease counts as dead when its heartbeat is this many heartbeats old.
const STALE_AFTER_BEATS: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Lease {
    key: String,
    recovery_id: String,
    started_ms: u64,
    heartbeat: i64,
}

impl Lease {
    fn parse(key: &str, v: &str) -> Option<Self> {
        key.strip_prefix(tag::LEASE_PREFIX)?;
        let mut parts = v.split(' ');
        let (Some(recovery_id), Some(started), Some(hb), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Self {
            key: key.to_owned(),
            recovery_id: recovery_id.to_owned(),
            started_ms: started.parse().ok()?,
            heartbeat: hb.parse().ok()?,
        })
    }

    fn all(tags: &Tags) -> Vec<Self> {
        tags.iter().filter_map(|(k, v)| Self::parse(k, v)).collect()
    }

    /// Whether this lease goes before `other`: the earlier start, then the key.
    fn precedes(&self, other: &Lease) -> bool {
        (self.started_ms, &self.key) < (other.started_ms, &other.key)
    }
}

/// This run's lease key: the prefix and its request id, kept to the characters a tag key allows.
pub(super) fn lease_key(request_id: &str) -> String {
    let token: String = request_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    format!("{}{}", tag::LEASE_PREFIX, if token.is_empty() { "local" } else { &token })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

impl<G: StorageGateway, N: Notifier, C: Clock> Recovery<'_, G, N, C> {
    fn beat_secs(&self) -> i64 {
        i64::try_from(self.config.lease_heartbeat.as_secs()).unwrap_or(i64::MAX).max(1)
    }

    fn stale(&self, l: &Lease) -> bool {
        self.clock.now() - l.heartbeat >= STALE_AFTER_BEATS * self.beat_secs()
    }

    async fn write_lease(&self, ctx: &Ctx<'_>, started_ms: u64) -> Result<(), Stop> {
        let value = format!("{} {started_ms} {}", ctx.recovery_id, self.clock.now());
        self.gateway
            .add_tags((&ctx.req.failed).into(), &[(ctx.lease_key.as_str(), value)])
            .await
            .map_err(|e| Stop::Failed("could not write the lease", e))
    }

    async fn read_tags(&self, ctx: &Ctx<'_>) -> Result<Tags, Stop> {
        self.gateway.list_tags((&ctx.req.failed).into()).await.map_err(|e| Stop::Failed("could not read the leases", e))
    }

    async fn read_leases(&self, ctx: &Ctx<'_>) -> Result<Vec<Lease>, Stop> {
        Ok(Lease::all(&self.read_tags(ctx).await?))
    }

    /// The earliest live lease that goes before ours, if any.
    fn holder(&self, ctx: &Ctx<'_>, leases: &[Lease]) -> Option<Lease> {
        let mine = leases.iter().find(|l| l.key == ctx.lease_key)?;
        leases
            .iter()
            .filter(|l| l.key != ctx.lease_key && !self.stale(l) && l.precedes(mine))
            .min_by(|a, b| (a.started_ms, &a.key).cmp(&(b.started_ms, &b.key)))
            .cloned()
    }

    fn duplicate(holder: &Lease) -> Stop {
        Stop::Ended(
            Status::Duplicate,
            format!(
                "recovery {} (lease {}) is already working on this gateway; this invocation leaves the work to it",
                holder.recovery_id, holder.key
            ),
        )
    }

    /// Takes the lease, or ends the run as a duplicate if a live run holds an earlier one.
    /// Answers the gateway's tags as they are once the lease is taken.
    pub(super) async fn acquire_lease(&self, ctx: &Ctx<'_>) -> Result<Tags, Stop> {
        let started_ms = now_ms();
        ctx.lease_started_ms.store(started_ms, Ordering::SeqCst);
        self.write_lease(ctx, started_ms).await?;
        let mut watched: Option<Lease> = None;
        loop {
            let tags = self.read_tags(ctx).await?;
            let leases = Lease::all(&tags);
            let Some(holder) = self.holder(ctx, &leases) else {
                if watched.is_some() {
                    // We waited out a silent holder: tell the others we are alive now.
                    self.write_lease(ctx, started_ms).await?;
                }
                return Ok(tags);
            };
            match &watched {
                Some(w) if w.key == holder.key && holder.heartbeat != w.heartbeat => {
                    // Its heartbeat came: the holder is alive. Leave the work to it.
                    self.release_lease(ctx).await;
                    return Err(Self::duplicate(&holder));
                }
                Some(w) if w.key == holder.key => {}
                _ => {
                    tracing::info!(
                        holder = holder.key,
                        recovery = holder.recovery_id,
                        "an earlier lease is held; waiting for its heartbeat"
                    );
                    watched = Some(holder);
                }
            }
            tokio::time::sleep(self.config.lease_heartbeat).await;
            // Ours must not look dead while we wait.
            self.write_lease(ctx, started_ms).await?;
        }
    }

    /// Runs `work` while refreshing the lease every `LEASE_HEARTBEAT_SECONDS`, and looking
    /// at the others': if an earlier live lease shows up, the run stops starting work.
    pub(super) async fn with_heartbeat(&self, ctx: &Ctx<'_>, work: impl Future<Output = Draft>) -> Draft {
        let beat = async {
            // The start written when the lease was taken: the run's place in the order.
            let started_ms = ctx.lease_started_ms.load(Ordering::SeqCst);
            let mut every = tokio::time::interval(self.config.lease_heartbeat);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(Stop::Failed(_, e)) = self.write_lease(ctx, started_ms).await {
                    tracing::warn!(error = %e, "could not refresh the lease");
                }
                if let Ok(leases) = self.read_leases(ctx).await {
                    if let Some(holder) = self.holder(ctx, &leases) {
                        tracing::warn!(
                            holder = holder.key,
                            "an earlier run holds the lease; this run stops starting work"
                        );
                        ctx.lease_lost.store(true, Ordering::SeqCst);
                    }
                }
            }
        };
        tokio::select! {
            d = work => d,
            never = beat => never,
        }
    }

    /// Gives this run's lease back, and clears leases long dead (killed runs).
    pub(super) async fn release_lease(&self, ctx: &Ctx<'_>) {
        let mut keys = vec![ctx.lease_key.clone()];
        if let Ok(leases) = self.read_leases(ctx).await {
            keys.extend(leases.into_iter().filter(|l| l.key != ctx.lease_key && self.stale(l)).map(|l| l.key));
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        if let Err(e) = self.gateway.remove_tags((&ctx.req.failed).into(), &keys).await {
            tracing::warn!(error = %e, "could not give the lease back; it goes stale on its own");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_read_back_and_order_by_start_then_key() {
        let a = Lease::parse("recovery:lease:aaa", "sgw-1-20261125T100000Z 1000 1795600800").unwrap();
        let b = Lease::parse("recovery:lease:bbb", "sgw-1-20261125T100000Z 1000 1795600801").unwrap();
        let c = Lease::parse("recovery:lease:ccc", "x 999 1").unwrap();
        assert!(a.precedes(&b) && !b.precedes(&a));
        assert!(c.precedes(&a));
        assert_eq!(Lease::parse("recovery:lease:x", "garbage"), None);
        assert_eq!(Lease::parse("recovery:state", "a 1 2"), None);
        assert_eq!(Lease::parse("recovery:lease:x", "a 1 2 3"), None);
    }

    #[test]
    fn lease_keys_are_valid_tag_keys() {
        assert_eq!(
            lease_key("8f1e2a3b-0000-4000-8000-000000000001"),
            "recovery:lease:8f1e2a3b-0000-4000-8000-000000000001"
        );
        assert_eq!(lease_key("a/b c"), "recovery:lease:abc");
        assert_eq!(lease_key(""), "recovery:lease:local");
        assert!(lease_key(&"x".repeat(500)).len() <= 128);
    }
}
