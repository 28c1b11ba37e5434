//! A snapshot of each cached volume's recovery point, once. The ledger's marker
//! (`snapshot#<volume arn>#<recovery point>`) is written before the call, so a rerun after a
//! crash knows a call may have been made, and says so instead of guessing.

use std::sync::OnceLock;

use futures::StreamExt;
use futures::stream;

use super::Source;
use crate::ledger::{self, SnapshotMarker, SnapshotState, gateway_pk};
use crate::pacing::Retry;
use crate::ports::{AwsError, Clock, ErrorKind, Key, Ledger, Notifier, StorageGateway};
use crate::recover::lease::Lease;
use crate::recover::report::{ItemResult, Outcome};
use crate::recover::run::{Draft, Run};

/// The snapshots' results, and the refusal that stopped the snapshots not started yet.
pub(super) struct Snapshotted {
    pub results: Vec<ItemResult>,
    pub stopped_by: Option<AwsError>,
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    /// The first volume alone, then the rest together: a refusal that holds for every
    /// volume (AWS refusing snapshots while the gateway is offline) costs one call, not one
    /// per volume.
    pub(super) async fn snapshot_all(
        &self,
        d: &mut Draft,
        sources: &[Source],
        lease: Option<&Lease<'_, L, C>>,
    ) -> Snapshotted {
        let halt: OnceLock<AwsError> = OnceLock::new();
        let mut results = Vec::with_capacity(sources.len());
        if let Some((first, rest)) = sources.split_first() {
            results.push(self.snapshot_one(first, lease, &halt).await);
            let others: Vec<ItemResult> = stream::iter(rest)
                .map(|s| self.snapshot_one(s, lease, &halt))
                .buffer_unordered(self.rec.config.max_concurrency.min(32))
                .collect()
                .await;
            results.extend(others);
        }
        for r in &results {
            if let (Outcome::Done, Some(snap)) = (r.outcome, &r.snapshot_id) {
                if !d.progress.snapshots.iter().any(|(v, _)| v == &r.arn) {
                    d.progress.snapshots.push((r.arn.clone(), snap.clone()));
                }
            }
        }
        Snapshotted { results, stopped_by: halt.into_inner() }
    }

    async fn snapshot_one(&self, s: &Source, lease: Option<&Lease<'_, L, C>>, halt: &OnceLock<AwsError>) -> ItemResult {
        let (id, arn) = (s.volume.volume_id(), s.volume.as_str());
        let at = Some(s.recovery_point.clone());
        let key = Key::new(gateway_pk(&self.req.failed), format!("snapshot#{}#{}", s.volume, s.recovery_point));
        let until = self.budget.stop_at();
        let marker = match self
            .aux
            .call(Retry::Idempotent, until, || ledger::load::<SnapshotMarker>(self.rec.ledger, &key))
            .await
        {
            Ok(m) => m,
            Err(e) => return ItemResult::failed(id, arn, &e).at(at),
        };
        let ours = |snap: &str| self.progress_snapshots().iter().any(|(v, sid)| v == arn && sid == snap);
        if let Some(m) = &marker {
            if let (SnapshotState::Taken, Some(snap)) = (m.value.state, &m.value.snapshot_id) {
                let outcome = if ours(snap) { Outcome::Done } else { Outcome::AlreadyDone };
                let mut r = ItemResult::new(id, arn, outcome).at(at);
                r.snapshot_id = Some(snap.clone());
                r.verified = Some(true);
                return r;
            }
        }
        if self.req.dry_run {
            return ItemResult::new(id, arn, Outcome::Planned)
                .at(at)
                .note("a snapshot of this recovery point would be taken");
        }
        if self.budget.expired() || lease.is_some_and(Lease::lost) {
            return ItemResult::new(id, arn, Outcome::Pending).at(at);
        }
        if let Some(e) = halt.get() {
            return ItemResult::new(id, arn, Outcome::Pending).at(at).note(format!("not asked for: {e}"));
        }
        let interrupted = marker.as_ref().is_some_and(|m| m.value.state == SnapshotState::Requested);
        let now = self.rec.clock.now_ms();
        let requested = SnapshotMarker {
            recovery_id: self.id.recovery_id.clone(),
            state: SnapshotState::Requested,
            snapshot_id: None,
            at: now,
        };
        let version = marker.as_ref().map(|m| m.version);
        if let Err(e) = self
            .aux
            .call(Retry::Idempotent, until, || ledger::upsert(self.rec.ledger, &key, &requested, version, None))
            .await
        {
            return ItemResult::failed(id, arn, &e).at(at);
        }
        let gateway = self.req.failed.id();
        let description =
            format!("Recovery of {id} from failed gateway {gateway}, recovery point {}", s.recovery_point);
        let tags = vec![
            ("recovery:source-gateway".to_owned(), self.req.failed.to_string()),
            ("recovery:source-volume".to_owned(), arn.to_owned()),
            ("recovery:recovery-point-time".to_owned(), s.recovery_point.clone()),
            ("recovery:recovery-id".to_owned(), self.id.recovery_id.clone()),
        ];
        // Not idempotent: only throttles (refused before anything was done) are asked again.
        let snap = match self
            .sgw
            .call(Retry::Throttles, until, || self.rec.gateway.snapshot_volume(&s.volume, &description, &tags))
            .await
        {
            Ok(snap) => snap,
            // Refused before anything was done: the next slice asks again.
            Err(e) if e.kind == ErrorKind::Throttled => {
                return ItemResult::new(id, arn, Outcome::Pending)
                    .at(at)
                    .note(format!("throttled until the run ran out of time ({e}); the next slice goes on"));
            }
            Err(e) if e.stops_the_run() => {
                let _ = halt.set(e.clone());
                return ItemResult::failed(id, arn, &e).at(at);
            }
            Err(e) => {
                return ItemResult::failed(id, arn, &e).at(at).note(
                    "the snapshot call failed; if its answer was lost, a snapshot tagged recovery:source-volume with this volume may exist",
                );
            }
        };
        let mut r = ItemResult::new(id, arn, Outcome::Done).at(at);
        r.snapshot_id = Some(snap.clone());
        if interrupted {
            r.note = Some(format!(
                "an earlier run asked for a snapshot of this recovery point and was interrupted before recording it; an extra snapshot tagged recovery:source-volume={arn} may exist"
            ));
        }
        let taken = SnapshotMarker { state: SnapshotState::Taken, snapshot_id: Some(snap), ..requested };
        let v = version.map_or(1, |v| v + 1);
        if let Err(e) = self
            .aux
            .call(Retry::Idempotent, self.budget.finish_by(), || {
                ledger::replace(self.rec.ledger, &key, &taken, v, None)
            })
            .await
        {
            r.note = Some(format!(
                "snapshot taken, but it could not be recorded in the ledger ({e}); a rerun will say a call may have been made"
            ));
        }
        r
    }

    fn progress_snapshots(&self) -> Vec<(String, String)> {
        match &self.req.source {
            crate::recover::Source::Continuation(c) => c.progress.snapshots.clone(),
            _ => vec![],
        }
    }
}
