//! The volume path: a snapshot of every cached volume's recovery point, once.
//!
//! Each volume carries the record: `recovery:snapshot-started` (the recovery point time,
//! written before the snapshot is asked for), then `recovery:snapshot-of` and
//! `recovery:snapshot-id` once it is taken. A rerun skips a volume whose record names its
//! current recovery point; a run killed between asking and recording is noticed and said.

use std::collections::HashMap;

use futures::{StreamExt, stream};

use super::report::{ItemResult, Outcome, Status};
use super::run::{Ctx, Draft, Recovery};
use crate::aws::{Clock, Notifier, StorageGateway};
use crate::model::{VolumeRecoveryPoint, tag};

impl<G: StorageGateway, N: Notifier, C: Clock> Recovery<'_, G, N, C> {
    pub(super) async fn recover_volumes(&self, ctx: &Ctx<'_>, mut d: Draft) -> Draft {
        let req = ctx.req;
        let points = match self.gateway.volume_recovery_points(&req.failed).await {
            Ok(p) => p,
            Err(e) => return d.error("could not list the volume recovery points", &e),
        };
        let ours: HashMap<String, String> = d.progress.snapshots.iter().cloned().collect();
        let snapshot_all = |points: Vec<VolumeRecoveryPoint>| {
            stream::iter(points)
                .map(|rp| self.snapshot_one(ctx, rp, &ours))
                .buffer_unordered(self.config.max_concurrency)
                .collect::<Vec<ItemResult>>()
        };
        if req.dry_run {
            d.volumes = snapshot_all(points).await;
            let planned = d.volumes.iter().filter(|v| v.outcome == Outcome::Planned).count();
            let total = d.volumes.len();
            return d.end(
                Status::DryRun,
                format!("dry run: {planned} of {total} volumes would be snapshotted; nothing was changed"),
            );
        }
        if points.is_empty() {
            return self.conclude(ctx, d, None, None, "volumes").await;
        }
        match self.acquire_lease(ctx).await {
            Err(stop) => return stop.apply(d),
            Ok(tags) => {
                d.leased = true;
                if let Some(done) = super::run::completed_for(ctx.req, &tags) {
                    return d.end(Status::AlreadyCompleted, done);
                }
            }
        }
        let work = async {
            let results = snapshot_all(points).await;
            for r in &results {
                if let (Outcome::Done, Some(snap)) = (r.outcome, &r.snapshot_id) {
                    if !ours.contains_key(&r.arn) {
                        d.progress.snapshots.push((r.arn.clone(), snap.clone()));
                    }
                }
            }
            d.volumes = results;
            self.conclude(ctx, d, None, None, "volumes").await
        };
        self.with_heartbeat(ctx, work).await
    }

    /// Snapshots one volume recovery point, unless the volume's tags say it is done.
    async fn snapshot_one(&self, ctx: &Ctx<'_>, rp: VolumeRecoveryPoint, ours: &HashMap<String, String>) -> ItemResult {
        let (id, arn) = (rp.volume.volume_id().to_owned(), rp.volume.as_str().to_owned());
        if ctx.budget.expired() || ctx.lease_lost.load(std::sync::atomic::Ordering::SeqCst) {
            return ItemResult::new(&id, &arn, Outcome::Pending);
        }
        let tags = match self.gateway.list_tags((&rp.volume).into()).await {
            Ok(t) => t,
            Err(e) => return ItemResult::failed(&id, &arn, &e),
        };
        if tags.get(tag::SNAPSHOT_OF) == Some(&rp.time) {
            if let Some(snap) = tags.get(tag::SNAPSHOT_ID) {
                let outcome = if ours.get(&arn) == Some(snap) { Outcome::Done } else { Outcome::AlreadyDone };
                let mut r = ItemResult::new(&id, &arn, outcome);
                r.snapshot_id = Some(snap.clone());
                return r;
            }
        }
        if ctx.req.dry_run {
            return ItemResult::new(&id, &arn, Outcome::Planned);
        }
        let interrupted = tags.get(tag::SNAPSHOT_STARTED) == Some(&rp.time);
        if !interrupted {
            if let Err(e) =
                self.gateway.add_tags((&rp.volume).into(), &[(tag::SNAPSHOT_STARTED, rp.time.clone())]).await
            {
                return ItemResult::failed(&id, &arn, &e);
            }
        }
        let gateway = ctx.req.failed.id();
        let description = format!("Recovery of {id} from failed gateway {gateway}, recovery point {}", rp.time);
        let snapshot_tags = [
            ("recovery:source-gateway", ctx.req.failed.to_string()),
            ("recovery:source-volume", arn.clone()),
            ("recovery:recovery-point-time", rp.time.clone()),
            ("recovery:recovery-id", ctx.recovery_id.to_owned()),
        ];
        let snap = match self.gateway.snapshot_volume(&rp.volume, &description, &snapshot_tags).await {
            Ok(s) => s,
            Err(e) => return ItemResult::failed(&id, &arn, &e),
        };
        let mut r = ItemResult::new(&id, &arn, Outcome::Done);
        r.snapshot_id = Some(snap.clone());
        if interrupted {
            r = r.note(format!(
                "an earlier run started a snapshot of this recovery point and was interrupted; an extra snapshot tagged recovery:source-volume={arn} may exist"
            ));
        }
        if let Err(e) = self
            .gateway
            .add_tags((&rp.volume).into(), &[(tag::SNAPSHOT_OF, rp.time.clone()), (tag::SNAPSHOT_ID, snap)])
            .await
        {
            r = r.note(format!(
                "snapshot taken, but it could not be recorded on the volume ({e}); a rerun may take another"
            ));
        }
        r
    }
}
