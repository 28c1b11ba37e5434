//! The volume paths.
//!
//! - **Cached volume gateways**: each volume is cloned from its latest recovery point onto
//!   a standby cached volume gateway (`CreateCachediSCSIVolume` with `SourceVolumeARN`,
//!   which AWS calls faster and cheaper than a snapshot), and/or snapshotted
//!   (`VOLUME_RECOVERY`). What the clone needs from the source (size, target name, KMS,
//!   tags) is read live, or from the ledger's inventory when AWS refuses while the gateway
//!   is offline.
//! - **Stored volume gateways** have no recovery points: each volume is reported with the
//!   way back.
//!
//! No volume path ever disables a gateway, so a correlated-outage hold does not stop them.

mod clone;
mod snapshot;

use std::collections::HashMap;

use futures::{StreamExt, stream};

use super::conclude::{Ending, Items};
use super::observe::Observed;
use super::report::{GatewayRef, ItemResult, Outcome, Status};
use super::run::{Draft, Run};
use super::standby::{self, MAX_VOLUMES_PER_GATEWAY};
use crate::arn::VolumeArn;
use crate::config::VolumeRecovery;
use crate::ledger::{self, Inventory, gateway_pk};
use crate::model::{KmsSettings, Tags};
use crate::pacing::{Pages, Retry};
use crate::ports::{AwsError, Clock, ErrorKind, Key, Ledger, Notifier, StorageGateway};

/// What a clone or a snapshot of one volume needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Source {
    pub volume: VolumeArn,
    pub size_bytes: i64,
    /// The recovery point time, as AWS wrote it.
    pub recovery_point: String,
    pub target_name: Option<String>,
    pub kms: KmsSettings,
    pub tags: Tags,
    /// Where this came from: `AWS` or `the ledger's inventory of <time>`.
    pub known_from: String,
}

/// What stopped the clones or the snapshots not started yet, if anything did.
#[derive(Debug, Default)]
struct Stops {
    clones: Option<AwsError>,
    snapshots: Option<AwsError>,
}

/// How the volumes come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Strategy {
    pub clone: bool,
    pub snapshot: bool,
}

/// `VOLUME_RECOVERY` and whether a volume standby is configured.
pub(super) fn strategy(setting: VolumeRecovery, standby: bool) -> Strategy {
    match (setting, standby) {
        (VolumeRecovery::Clone, true) => Strategy { clone: true, snapshot: false },
        (VolumeRecovery::Both, true) => Strategy { clone: true, snapshot: true },
        (VolumeRecovery::Snapshot, _) | (_, false) => Strategy { clone: false, snapshot: true },
    }
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    pub(super) async fn recover_cached_volumes(&self, mut d: Draft, o: &Observed) -> Draft {
        let config = self.rec.config;
        let tags = o.tags.as_ref().cloned().unwrap_or_default();
        let standby = standby::resolve(
            self.req.standby.as_ref(),
            &tags,
            config.volume_standby.as_ref(),
            "STANDBY_VOLUME_GATEWAY_ARN",
        )
        .ok();
        let how = strategy(config.volume_recovery, standby.is_some());
        let sources = match self.volume_sources().await {
            Ok(s) => s,
            Err(e) if e.kind == ErrorKind::NotConnected => {
                let mut d = d.end(
                    Status::Refused,
                    format!(
                        "AWS refuses to read the volumes' recovery points while the gateway is offline ({e}), and the ledger has no inventory of its volumes (the readiness check records one); run again once AWS answers, or after a readiness check"
                    ),
                );
                d.retryable = true;
                return d;
            }
            Err(e) => return d.not_yet_or_error("could not list the volume recovery points", &e),
        };
        if sources.is_empty() {
            return d.end(Status::Completed, "the gateway has no volume with a recovery point: nothing to recover");
        }
        let mut results: Vec<ItemResult> = Vec::new();
        let lease = if self.req.dry_run {
            None
        } else {
            if self.budget.expired() {
                return d.end(Status::Continued, "out of time before anything was changed");
            }
            match self.take_lease(o).await {
                Ok(l) => Some(l),
                Err(stop) => return stop.apply(d),
            }
        };
        let (standby_arn, sources, lease_ref) = (standby.as_ref(), &sources, lease.as_ref());
        let work = async move {
            let mut stops = Stops::default();
            if let (true, Some(standby)) = (how.clone, standby_arn) {
                d.standby_ref =
                    Some(GatewayRef { arn: standby.to_string(), id: standby.id().to_owned(), name: None, kind: None });
                match self.clone_all(&mut d, standby, sources, lease_ref).await {
                    Ok(c) => {
                        results.extend(c.results);
                        stops.clones = c.stopped_by;
                    }
                    Err(stop) => return (stop.apply(d), results, stops),
                }
            }
            if how.snapshot {
                let taken = self.snapshot_all(&mut d, sources, lease_ref).await;
                stops.snapshots = taken.stopped_by;
                // With both, the clone is the volume's result; the snapshot is noted on it.
                // Both lists come back in completion order: pair them by volume.
                if how.clone {
                    let mut by_volume: HashMap<String, ItemResult> =
                        taken.results.into_iter().map(|s| (s.arn.clone(), s)).collect();
                    for r in results.iter_mut() {
                        let Some(s) = by_volume.remove(&r.arn) else { continue };
                        r.snapshot_id = s.snapshot_id;
                        let why = match (s.outcome, s.error) {
                            (Outcome::Failed, e) => {
                                format!("the snapshot failed: {}", e.map(|e| e.message).unwrap_or_default())
                            }
                            (Outcome::Pending, _) => "the snapshot was not taken yet".to_owned(),
                            _ => continue,
                        };
                        r.note =
                            Some(format!("{}{why}", r.note.as_deref().map(|n| format!("{n}; ")).unwrap_or_default()));
                    }
                } else {
                    results.extend(taken.results);
                }
            }
            (d, results, stops)
        };
        let (mut d, results, stops) = match &lease {
            Some(l) => l.keep(work).await,
            None => work.await,
        };
        let lost = lease.as_ref().is_some_and(|l| l.lost());
        if let Some(l) = &lease {
            l.release().await;
        }
        if d.status != Status::Completed {
            return d;
        }
        d.volumes = results;
        // Calls finish in any order; the report lists the volumes in ARN order.
        d.volumes.sort_by(|a, b| a.arn.cmp(&b.arn));
        if self.req.dry_run {
            let planned = d.volumes.iter().filter(|v| v.outcome == Outcome::Planned).count();
            let what = if how.clone { "cloned onto the standby" } else { "snapshotted" };
            let total = d.volumes.len();
            return d.end(
                Status::DryRun,
                format!("dry run: {planned} of {total} volumes would be {what}; nothing was changed"),
            );
        }
        if how.clone {
            if let Some(s) = &d.standby_ref {
                d.next_steps = vec![
                    format!(
                        "Point each iSCSI initiator at its volume's new target on the standby {} (listed under \"Volumes to reconnect\").",
                        s.arn
                    ),
                    "Check each volume's file systems before putting applications back on them.".into(),
                    format!(
                        "Once every volume is back, delete the failed gateway ({}) so it is not used again.",
                        self.req.failed
                    ),
                ];
            }
        }
        let counts = super::report::Counts::of(&d.volumes);
        // A snapshot refusal that holds for every volume (the gateway offline, the role
        // denied) ends the run here: a continuation would only be refused again.
        if let (Some(e), None, false) = (&stops.snapshots, &stops.clones, lost) {
            let retryable = e.kind != ErrorKind::Denied;
            let summary = format!(
                "the snapshots stopped early: {e}; {} of {} volumes recovered, {} failed, {} not attempted; run again once AWS takes snapshots of the gateway's volumes{}",
                counts.recovered(),
                counts.total,
                counts.failed,
                counts.pending,
                if e.kind == ErrorKind::NotConnected { " (it refuses them while the gateway is offline)" } else { "" }
            );
            let mut d = d.end(Status::Partial, summary);
            d.retryable = retryable;
            return d;
        }
        let ending = Ending {
            items: Items::Volumes,
            counts,
            lease_lost: lost,
            stopped_by: stops.clones.as_ref(),
            listing_failed: None,
            failures_retryable: d.volumes.iter().any(|v| v.outcome == Outcome::Failed && v.retryable()),
            can_continue: self.can_continue(),
        };
        self.settle(d, &ending).await
    }

    /// The volumes with a recovery point and what a clone needs of each: live, or from the
    /// ledger's inventory for what AWS will not answer while the gateway is offline.
    async fn volume_sources(&self) -> Result<Vec<Source>, AwsError> {
        let failed = &self.req.failed;
        let (sg, until) = (self.rec.gateway, self.budget.stop_at());
        let key = Key::new(gateway_pk(failed), "inventory");
        let (points, inventory) = tokio::join!(
            self.sgw.call(Retry::Idempotent, until, || sg.volume_recovery_points(failed)),
            self.aux.call(Retry::Idempotent, until, || ledger::load::<Inventory>(self.rec.ledger, &key)),
        );
        let inventory = inventory.ok().flatten().map(|s| s.value);
        let known_from = |inv: &Inventory| format!("the ledger's inventory of {}", crate::time::rfc3339_ms(inv.at));
        let listed: Vec<(VolumeArn, String, Option<i64>)> = match (points, &inventory) {
            (Ok(p), _) => p.into_iter().map(|rp| (rp.volume, rp.time, rp.size_bytes)).collect(),
            (Err(e), Some(inv)) if e.kind == ErrorKind::NotConnected => inv
                .volumes
                .iter()
                .filter_map(|v| {
                    Some((
                        VolumeArn::parse("inventory", &v.volume_arn).ok()?,
                        v.recovery_point.clone()?,
                        Some(v.size_bytes),
                    ))
                })
                .collect(),
            (Err(e), _) => return Err(e),
        };
        let arns: Vec<VolumeArn> = listed.iter().map(|(v, _, _)| v.clone()).collect();
        let described = self.sgw.call(Retry::Idempotent, until, || sg.describe_cached_volumes(&arns)).await;
        let described: HashMap<VolumeArn, crate::model::CachedVolume> = match described {
            Ok(v) => v.into_iter().map(|v| (v.volume.clone(), v)).collect(),
            Err(e) if e.kind == ErrorKind::NotConnected && inventory.is_some() => HashMap::new(),
            Err(e) if e.kind == ErrorKind::NotConnected => return Err(e),
            Err(e) => return Err(e),
        };
        // One ListTagsForResource per volume, in parallel under the pacer: 32 volumes in
        // one round trip instead of 32.
        let tagged: Vec<_> = stream::iter(listed)
            .map(|(volume, time, size)| async move {
                let tags = self.sgw.call(Retry::Idempotent, until, || sg.list_tags((&volume).into())).await;
                (volume, time, size, tags)
            })
            .buffered(MAX_VOLUMES_PER_GATEWAY)
            .collect()
            .await;
        let mut sources = Vec::new();
        for (volume, time, size, tags) in tagged {
            let inv = inventory.as_ref().and_then(|i| i.volumes.iter().find(|v| v.volume_arn == volume.as_str()));
            let tags = match tags {
                Ok(t) => t,
                Err(_) if inv.is_some() => inv.map(|v| v.tags.iter().cloned().collect()).unwrap_or_default(),
                Err(e) => return Err(e),
            };
            let live = described.get(&volume);
            sources.push(Source {
                size_bytes: live.and_then(|v| v.size_bytes).or(size).or(inv.map(|v| v.size_bytes)).unwrap_or(0),
                recovery_point: time,
                target_name: live
                    .and_then(|v| v.target_name.clone())
                    .or_else(|| inv.and_then(|v| v.target_name.clone())),
                kms: live.map(|v| v.kms.clone()).or_else(|| inv.map(|v| v.kms.clone())).unwrap_or_default(),
                tags,
                known_from: match (live, &inventory) {
                    (Some(_), _) | (None, None) => "AWS".to_owned(),
                    (None, Some(i)) => known_from(i),
                },
                volume,
            });
        }
        Ok(sources)
    }

    /// A stored volume gateway: no recovery points. Each volume is reported with the way back.
    pub(super) async fn report_stored_volumes(&self, mut d: Draft) -> Draft {
        let failed = &self.req.failed;
        let sg = self.rec.gateway;
        let listed = Pages::new(&self.sgw, self.budget.stop_at(), Box::new(move |from| sg.list_volumes(failed, from)))
            .rest()
            .await;
        let volumes: Vec<String> = match listed {
            Ok(v) => v.into_iter().map(|v| v.volume.to_string()).collect(),
            Err(e) => {
                let key = Key::new(gateway_pk(failed), "inventory");
                match ledger::load::<Inventory>(self.rec.ledger, &key).await {
                    Ok(Some(inv)) => inv.value.volumes.into_iter().map(|v| v.volume_arn).collect(),
                    _ => return d.not_yet_or_error("could not list the stored volumes", &e),
                }
            }
        };
        d.volumes = volumes
            .iter()
            .map(|arn| {
                let id = arn.rsplit('/').next().unwrap_or(arn);
                ItemResult::new(id, arn, Outcome::Manual).note(
                    "stored volumes have no recovery points: restore the volume's latest EBS snapshot onto a standby stored volume gateway \
                     (CreateStorediSCSIVolume with its SnapshotId), or onto a cached volume gateway (CreateCachediSCSIVolume with SnapshotId)",
                )
            })
            .collect();
        d.next_steps = vec![
            "Find each volume's latest snapshot (EC2 DescribeSnapshots, filter volume-id) and restore it onto the standby gateway.".into(),
            format!("Once every volume is back, delete the failed gateway ({failed})."),
        ];
        let n = d.volumes.len();
        d.end(
            Status::Refused,
            format!("{n} stored volumes have no recovery points and need a person; each is listed with the way back"),
        )
    }
}

/// A stable, short digest (FNV-1a 64) for names and tokens that must come out the same in
/// every run and process.
pub(super) fn digest(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_when_a_standby_is_configured_else_snapshot() {
        assert_eq!(strategy(VolumeRecovery::Clone, true), Strategy { clone: true, snapshot: false });
        assert_eq!(strategy(VolumeRecovery::Clone, false), Strategy { clone: false, snapshot: true });
        assert_eq!(strategy(VolumeRecovery::Both, true), Strategy { clone: true, snapshot: true });
        assert_eq!(strategy(VolumeRecovery::Both, false), Strategy { clone: false, snapshot: true });
        assert_eq!(strategy(VolumeRecovery::Snapshot, true), Strategy { clone: false, snapshot: true });
    }

    #[test]
    fn digests_are_stable_and_distinct() {
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_ne!(digest(&["a", "b"]), digest(&["ab"]), "parts are separated");
        assert_eq!(digest(&["x"]).len(), 16);
    }
}
