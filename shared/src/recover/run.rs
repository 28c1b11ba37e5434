//! One run of `recover-gateway`: confirm the failure, check the standby, pass the
//! `DisableGateway` interlock, retrieve every tape (or snapshot every volume) with bounded
//! concurrency, stop before the deadline and hand over to the next invocation, report.
//!
//! Reruns are safe by construction: the world is the ledger. A tape on the standby is
//! never retrieved again, a volume tagged with the snapshot of its recovery point is never
//! snapshotted again, and a call whose answer was lost is checked against the world.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::json;

use super::plan::{DisableDecision, TapePlan, disable_decision, plan_tapes};
use super::report::{Counts, DisableRecord, GatewayRef, ItemResult, Outcome, RecoveryReport, Status};
use super::request::{RecoveryRequest, Source};
use crate::arn::{GatewayArn, TapeArn, TopicArn};
use crate::aws::{AwsError, Clock, ErrorKind, Notifier, Pages, Publication, StorageGateway};
use crate::config::RecoverConfig;
use crate::deadline::Budget;
use crate::handoff::{Progress, RECOVERY_CONTINUATION, RecoveryContinuation, VERSION};
use crate::model::{
    GatewayDescription, GatewayKind, GatewaySummary, Tags, Tape, TapeRecoveryPoint, VolumeRecoveryPoint, tag,
};
use crate::time::rfc3339;

/// Times a tape whose retrieval failed with a retryable error (after the SDK's own
/// retries) goes back in the queue, with a growing pause, before it counts as failed.
const MAX_REQUEUES: u32 = 5;

/// How long the run's own confirmation that the gateway is offline stays good enough to
/// disable it on; after that, it is asked again just before `DisableGateway`.
const RECONFIRM_AFTER: Duration = Duration::from_secs(30);

/// What a recovery needs from the outside world.
pub struct Recovery<'a, G, N, C> {
    pub gateway: &'a G,
    pub notifier: &'a N,
    pub clock: &'a C,
    pub config: &'a RecoverConfig,
}

/// The parts of a report decided along the way.
struct Draft {
    status: Status,
    summary: String,
    retryable: bool,
    failed_ref: GatewayRef,
    standby: Option<GatewayArn>,
    disable: Option<DisableRecord>,
    approval: Option<serde_json::Value>,
    tapes: Vec<ItemResult>,
    volumes: Vec<ItemResult>,
    /// Progress to carry into a continuation.
    progress: Progress,
}

impl Draft {
    fn end(mut self, status: Status, summary: impl Into<String>) -> Self {
        self.status = status;
        self.summary = summary.into();
        self
    }

    fn error(self, what: &str, e: &AwsError) -> Self {
        let retryable = e.kind.retryable();
        let mut d = self.end(Status::Error, format!("{what}: {e}"));
        d.retryable = retryable;
        d
    }
}

/// Reads every page of a paged listing.
async fn all<T>(pages: Pages<'_, T>) -> Result<Vec<T>, AwsError> {
    pages.try_concat().await
}

/// Finds one gateway in `ListGateways`, stopping at the page that has it.
async fn find_summary<G: StorageGateway>(gateway: &G, arn: &GatewayArn) -> Result<Option<GatewaySummary>, AwsError> {
    let mut pages = gateway.list_gateways();
    while let Some(page) = pages.next().await {
        if let Some(s) = page?.into_iter().find(|s| &s.arn == arn) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Codes after which no further retrieval to this standby can succeed in this run.
fn stops_the_run(e: &AwsError) -> bool {
    e.kind == ErrorKind::NotConnected
        || ["GatewayNotFound", "MaximumTapeCartridgeCountExceeded", "InvalidGateway"].iter().any(|c| e.code_is(c))
}

enum Attempt {
    Done(ItemResult),
    Retry(TapeRecoveryPoint, AwsError),
    NotStarted(TapeRecoveryPoint),
}

impl<G: StorageGateway, N: Notifier, C: Clock> Recovery<'_, G, N, C> {
    /// Runs the request to its end (or to the budget) and reports. Never fails: every
    /// ending, including AWS errors, is a report.
    pub async fn run(&self, req: RecoveryRequest, budget: Budget, request_id: &str) -> RecoveryReport {
        let started = Instant::now();
        let now = self.clock.now();
        let (recovery_id, slice, started_at, progress) = match &req.source {
            Source::Continuation(c) => (c.recovery_id.clone(), c.slice, c.started_at.clone(), c.progress.clone()),
            _ => (
                format!("{}-{}", req.failed.id(), rfc3339(now).replace([':', '-'], "")),
                1,
                rfc3339(now),
                Progress::default(),
            ),
        };
        let draft = Draft {
            status: Status::Completed,
            summary: String::new(),
            retryable: false,
            failed_ref: GatewayRef {
                arn: req.failed.to_string(),
                id: req.failed.id().to_owned(),
                name: None,
                kind: None,
            },
            standby: None,
            disable: None,
            approval: None,
            tapes: Vec::new(),
            volumes: Vec::new(),
            progress,
        };
        tracing::info!(recovery_id, slice, failed = %req.failed, dry_run = req.dry_run, request_id, "recovery starts");
        let draft = self.execute(&req, draft, &budget, &recovery_id, slice, &started_at, started).await;
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let report = RecoveryReport {
            status: draft.status,
            summary: draft.summary,
            recovery_id,
            failed_gateway: draft.failed_ref,
            standby_gateway: draft.standby.map(|s| s.to_string()),
            dry_run: req.dry_run,
            started_at,
            finished_at: rfc3339(self.clock.now()),
            duration_ms: elapsed,
            total_duration_ms: draft.progress.elapsed_ms + elapsed,
            slice,
            disable: draft.disable,
            tapes: Counts::of(&draft.tapes),
            volumes: Counts::of(&draft.volumes),
            approval: draft.approval,
            retryable: draft.retryable,
            tape_results: draft.tapes,
            volume_results: draft.volumes,
        };
        self.log_and_publish(&report).await;
        report
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        req: &RecoveryRequest,
        mut d: Draft,
        budget: &Budget,
        recovery_id: &str,
        slice: u32,
        started_at: &str,
        started: Instant,
    ) -> Draft {
        // 1. Read everything the run needs, at once: the failed gateway's state, tags and
        // listing, its tape recovery points and the standby. These are reads only, so a
        // run that ends up refusing has changed nothing. The tape listing and the standby
        // checks start before the gateway's type is known (a hand-off says it); for a
        // volume gateway their answers are dropped.
        let tapes_likely = !matches!(&req.source, Source::Handoff(m) if m.gateway_type != GatewayKind::Tape);
        let tags_and_standby = async {
            let tags = self.gateway.list_tags((&req.failed).into()).await;
            let standby = match &tags {
                Ok(t) if tapes_likely => Some(self.resolve_standby(req, t)),
                _ => None,
            };
            let checks = match &standby {
                Some(Ok(s)) if s != &req.failed => {
                    Some(tokio::join!(self.gateway.describe_gateway(s), all(self.gateway.gateway_tapes(s))))
                }
                _ => None,
            };
            (tags, standby, checks)
        };
        let points = async {
            match tapes_likely {
                true => Some(all(self.gateway.tape_recovery_points(&req.failed)).await),
                false => None,
            }
        };
        let (described, (tags, standby, standby_checks), summary, points) = tokio::join!(
            self.gateway.describe_gateway(&req.failed),
            tags_and_standby,
            find_summary(self.gateway, &req.failed),
            points,
        );
        let confirmed_at = Instant::now();
        if let Ok(Some(s)) = &summary {
            d.failed_ref.name = Some(s.name.clone());
            d.failed_ref.kind = Some(s.kind);
        }
        match described {
            Ok(info) => {
                d.failed_ref.name = Some(info.name.clone());
                d.failed_ref.kind = Some(info.kind);
                return d.end(
                    Status::NotFailed,
                    format!("the gateway answers DescribeGatewayInformation (state {}): it has not failed, nothing was done", info.state),
                );
            }
            Err(e) if e.kind == ErrorKind::NotConnected => {}
            Err(e) if e.kind == ErrorKind::NotFound => {
                return d.end(Status::Refused, format!("the gateway does not exist ({e})"));
            }
            Err(e) => return d.error("could not confirm the gateway has failed", &e),
        }
        let tags = match tags {
            Ok(t) => t,
            Err(e) => return d.error("could not read the gateway's tags", &e),
        };
        let summary = match summary {
            Ok(s) => s,
            Err(e) => return d.error("could not list gateways", &e),
        };
        if let Source::Handoff(m) = &req.source {
            if tags.get(tag::COMPLETED) == Some(&m.outage_id) {
                return d.end(
                    Status::AlreadyCompleted,
                    format!("the recovery for outage {} already completed; this hand-off is a duplicate", m.outage_id),
                );
            }
        }
        let already_disabled = summary.as_ref().is_some_and(|s| s.disabled) || d.progress.disabled_at.is_some();
        let kind = match (&summary, &req.source) {
            (Some(s), _) => s.kind,
            (None, Source::Handoff(m)) => m.gateway_type,
            (None, _) => {
                return d.end(Status::Refused, "the gateway is not in ListGateways, so its type is unknown");
            }
        };
        d.failed_ref.kind = Some(kind);
        let outage = match &req.source {
            Source::Handoff(m) => Some(m.outage_id.clone()),
            Source::Continuation(c) => c.outage_id.clone(),
            Source::Direct => None,
        };
        let ctx = Ctx {
            req,
            budget,
            recovery_id,
            slice,
            started_at,
            started,
            outage: outage.as_deref(),
            tags: &tags,
            already_disabled,
            confirmed_at,
        };
        let d = match kind {
            GatewayKind::Tape => {
                let prefetched = Prefetched { standby, standby_checks, points };
                self.recover_tapes(&ctx, d, prefetched).await
            }
            GatewayKind::CachedVolume => self.recover_volumes(&ctx, d).await,
            GatewayKind::StoredVolume | GatewayKind::Other => d.end(
                Status::Refused,
                format!(
                    "{} gateways have no recovery points; only tape (VTL) and cached volume gateways can be recovered",
                    kind.as_api()
                ),
            ),
        };
        if d.status == Status::Completed && !req.dry_run {
            let value = outage.unwrap_or_else(|| recovery_id.to_owned());
            if let Err(e) = self.gateway.add_tags((&req.failed).into(), &[(tag::COMPLETED, value)]).await {
                tracing::warn!(error = %e, "could not tag the gateway as recovered; a replayed hand-off will check again");
            }
        }
        d
    }

    fn resolve_standby(&self, req: &RecoveryRequest, tags: &Tags) -> Result<GatewayArn, String> {
        if let Some(s) = &req.standby {
            return Ok(s.clone());
        }
        if let Some(v) = tags.get(tag::STANDBY) {
            return GatewayArn::parse(&format!("tag {}", tag::STANDBY), v.trim()).map_err(|e| e.to_string());
        }
        self.config.standby.clone().ok_or_else(|| {
            format!(
                "no standby gateway: give standbyGatewayArn, tag the failed gateway {}, or set STANDBY_GATEWAY_ARN",
                tag::STANDBY
            )
        })
    }

    async fn recover_tapes(&self, ctx: &Ctx<'_>, mut d: Draft, pre: Prefetched) -> Draft {
        let req = ctx.req;
        // 2. The standby: named, connected, a tape gateway, not the failed one, with room.
        let standby = match pre.standby.unwrap_or_else(|| self.resolve_standby(req, ctx.tags)) {
            Ok(s) => s,
            Err(why) => return d.end(Status::Refused, why),
        };
        d.standby = Some(standby.clone());
        if standby == req.failed {
            return d.end(Status::Refused, "the standby gateway is the failed gateway itself");
        }
        let ((standby_info, standby_tapes), points) = match (pre.standby_checks, pre.points) {
            (Some(checks), Some(points)) => (checks, points),
            _ => tokio::join!(
                async {
                    tokio::join!(self.gateway.describe_gateway(&standby), all(self.gateway.gateway_tapes(&standby)))
                },
                all(self.gateway.tape_recovery_points(&req.failed)),
            ),
        };
        match standby_info {
            Ok(info) if info.kind != GatewayKind::Tape => {
                return d.end(
                    Status::Refused,
                    format!("standby {} is a {} gateway, not a tape gateway (VTL)", standby.id(), info.kind.as_api()),
                );
            }
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::NotConnected => {
                let mut d = d.end(Status::Refused, format!("standby {} is not connected ({e})", standby.id()));
                d.retryable = true;
                return d;
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                return d.end(Status::Refused, format!("standby {} does not exist ({e})", standby.id()));
            }
            Err(e) => return d.error("could not check the standby gateway", &e),
        }
        let standby_tapes: HashSet<TapeArn> = match standby_tapes {
            Ok(t) => t.into_iter().map(|t| t.tape).collect(),
            Err(e) => return d.error("could not list the standby's tapes", &e),
        };
        let points = match points {
            Ok(p) => p,
            Err(e) => return d.error("could not list the tape recovery points", &e),
        };
        let earlier: HashSet<String> = d.progress.retrieved_tapes.iter().cloned().collect();
        let plan = plan_tapes(points, &standby_tapes, &earlier);
        if let Err(why) = plan.check_room(&standby) {
            return d.end(Status::Refused, why);
        }
        d.tapes = plan
            .on_standby
            .iter()
            .map(|(rp, ours)| {
                let outcome = if *ours { Outcome::Done } else { Outcome::AlreadyDone };
                ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), outcome)
            })
            .collect();
        let placeholder =
            |outcome| plan.retrieve.iter().map(move |rp| ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), outcome));

        // 3. The interlock for DisableGateway.
        let decision = disable_decision(
            self.config.disable_policy,
            ctx.tags,
            req.approve_disable,
            ctx.already_disabled,
            plan.retrieve.len(),
        );
        if req.dry_run {
            d.disable = Some(match &decision {
                DisableDecision::AlreadyDisabled => record("already-disabled", "the gateway is disabled already", None),
                DisableDecision::NotNeeded => record("not-needed", "every tape is on the standby already", None),
                DisableDecision::Allowed(why) => record("would-disable", why, None),
                DisableDecision::NeedsApproval(why) => record("needs-approval", why, None),
            });
            d.tapes.extend(placeholder(Outcome::Planned));
            let n = plan.retrieve.len();
            return d.end(
                Status::DryRun,
                format!(
                    "dry run: {n} tapes would be retrieved to {}, {} are there already; nothing was changed",
                    standby.id(),
                    plan.on_standby.len()
                ),
            );
        }
        match decision {
            DisableDecision::NeedsApproval(why) => {
                d.disable = Some(record("needs-approval", &why, None));
                d.approval = Some(json!({
                    "failedGatewayArn": req.failed.as_str(),
                    "standbyGatewayArn": standby.as_str(),
                    "approveDisable": true,
                }));
                d.tapes.extend(placeholder(Outcome::Pending));
                return d.end(
                    Status::AwaitingApproval,
                    format!(
                        "{} tapes can be recovered once the gateway is disabled; DisableGateway is irreversible and needs approval: {why}",
                        plan.retrieve.len()
                    ),
                );
            }
            DisableDecision::AlreadyDisabled => {
                let at = d.progress.disabled_at.clone();
                let action = if at.is_some() { "disabled" } else { "already-disabled" };
                d.disable = Some(record(action, "the gateway is disabled", at.as_deref()));
            }
            DisableDecision::NotNeeded => {
                d.disable = Some(record("not-needed", "every tape is on the standby already", None));
            }
            DisableDecision::Allowed(why) => match self.disable(ctx, &standby, &plan, &why).await {
                Ok(at) => {
                    d.disable = Some(record("disabled", &why, Some(&at)));
                    d.progress.disabled_at = Some(at);
                }
                Err(stop) => {
                    d.tapes.extend(placeholder(Outcome::Pending));
                    return match stop {
                        Stop::Ended(status, why) => d.end(status, why),
                        Stop::Failed(what, e) => d.error(what, &e),
                    };
                }
            },
        }

        // 4. Retrieve every tape not on the standby.
        let (results, stopped_by) = self.retrieve_all(&plan.retrieve, &standby, ctx.budget).await;
        for r in &results {
            if r.outcome == Outcome::Done {
                d.progress.retrieved_tapes.push(r.id.clone());
            }
        }
        d.tapes.extend(results);
        self.conclude(ctx, d, stopped_by, "tapes").await
    }

    /// Re-confirms the gateway is offline, records the audit trail, then disables it;
    /// answers when it was disabled.
    async fn disable(&self, ctx: &Ctx<'_>, standby: &GatewayArn, plan: &TapePlan, why: &str) -> Result<String, Stop> {
        let req = ctx.req;
        // Confirmed offline moments ago in this run, or worth asking again?
        let fresh = ctx.confirmed_at.elapsed() < RECONFIRM_AFTER;
        match if fresh { Err(None) } else { self.gateway.describe_gateway(&req.failed).await.map_err(Some) } {
            Err(None) => {}
            Ok(info) => {
                return Err(Stop::Ended(
                    Status::NotFailed,
                    format!("the gateway came back (state {}) before it was disabled; nothing was changed", info.state),
                ));
            }
            Err(Some(e)) if e.kind == ErrorKind::NotConnected => {}
            Err(Some(e)) => {
                return Err(Stop::Failed("could not re-confirm the gateway is offline before disabling it", e));
            }
        }
        let at = rfc3339(self.clock.now());
        let audit = Publication {
            topic: self.config.report_topic.clone(),
            subject: Some(format!("AUDIT: disabling Storage Gateway {} (irreversible)", req.failed.id())),
            body: serde_json::to_string_pretty(&json!({
                "event": "DisableGateway",
                "gatewayArn": req.failed.as_str(),
                "standbyGatewayArn": standby.as_str(),
                "reason": why,
                "tapesToRecover": plan.retrieve.len(),
                "recoveryId": ctx.recovery_id,
                "at": at,
            }))
            .unwrap_or_default(),
            attributes: vec![
                ("event".into(), "DisableGateway".into()),
                ("gatewayId".into(), req.failed.id().to_owned()),
            ],
        };
        let trail =
            [(tag::DISABLED_BY, format!("recover-gateway {}", ctx.recovery_id)), (tag::DISABLED_AT, at.clone())];
        let (published, tagged) =
            tokio::join!(self.notifier.publish(&audit), self.gateway.add_tags((&req.failed).into(), &trail));
        if let Err(e) = published.and(tagged) {
            return Err(Stop::Failed("the audit record could not be written, so the gateway was not disabled", e));
        }
        tracing::warn!(gateway = %req.failed, reason = why, recovery_id = ctx.recovery_id, "disabling the gateway (irreversible)");
        if let Err(e) = self.gateway.disable_gateway(&req.failed).await {
            // Disabled meanwhile (a concurrent run, an operator): fine, if ListGateways agrees.
            match find_summary(self.gateway, &req.failed).await {
                Ok(Some(s)) if s.disabled => {}
                _ => return Err(Stop::Failed("DisableGateway failed", e)),
            }
        }
        Ok(at)
    }

    /// Retrieves the planned tapes, `MAX_CONCURRENCY` at a time, until done, out of time,
    /// or stopped by a standby-wide error. A tape whose retrieval fails with a retryable
    /// error (after the SDK's own retries) goes back in the queue after a pause, so the
    /// pipeline stays full under throttling instead of waiting for a whole round to end.
    async fn retrieve_all(
        &self,
        plan: &[TapeRecoveryPoint],
        standby: &GatewayArn,
        budget: &Budget,
    ) -> (Vec<ItemResult>, Option<AwsError>) {
        let stop: Mutex<Option<AwsError>> = Mutex::new(None);
        let stopped = || stop.lock().map(|s| s.is_some()).unwrap_or(true);
        let mut results: Vec<ItemResult> = Vec::with_capacity(plan.len());
        let mut queue: VecDeque<(TapeRecoveryPoint, u32, Option<Instant>)> =
            plan.iter().cloned().map(|rp| (rp, 0, None)).collect();
        let mut last_errors: HashMap<TapeArn, AwsError> = HashMap::new();
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.config.max_concurrency && !budget.expired() && !stopped() {
                let Some((rp, requeues, not_before)) = queue.pop_front() else { break };
                let stop = &stop;
                in_flight.push(async move {
                    if let Some(t) = not_before {
                        tokio::time::sleep_until(t.into()).await;
                    }
                    let attempt = if budget.expired() {
                        Attempt::NotStarted(rp)
                    } else {
                        self.retrieve_one(rp, standby, stop).await
                    };
                    (attempt, requeues)
                });
            }
            let Some((attempt, requeues)) = in_flight.next().await else { break };
            match attempt {
                Attempt::Done(r) => results.push(r),
                Attempt::Retry(rp, e) if requeues < MAX_REQUEUES => {
                    let pause = Duration::from_millis(500 << requeues).min(Duration::from_secs(8));
                    tracing::info!(tape = rp.tape.barcode(), error = %e, requeues, "retrying a tape later");
                    last_errors.insert(rp.tape.clone(), e);
                    queue.push_back((rp, requeues + 1, Some(Instant::now() + pause)));
                }
                Attempt::Retry(rp, e) => results.push(ItemResult::failed(rp.tape.barcode(), rp.tape.as_str(), &e)),
                Attempt::NotStarted(rp) => queue.push_back((rp, requeues, None)),
            }
        }
        // What is left was never started (out of time, or stopped): pending, with the last
        // error for tapes that had one.
        for (rp, _, _) in queue {
            results.push(match last_errors.get(&rp.tape) {
                Some(e) => ItemResult::failed(rp.tape.barcode(), rp.tape.as_str(), e)
                    .note(format!("not retried before the run stopped; last error: {}", e.message)),
                None => ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), Outcome::Pending),
            });
        }
        drop(in_flight);
        let stopped_by = stop.into_inner().unwrap_or_else(|e| e.into_inner());
        (results, stopped_by)
    }

    async fn retrieve_one(
        &self,
        rp: TapeRecoveryPoint,
        standby: &GatewayArn,
        stop: &Mutex<Option<AwsError>>,
    ) -> Attempt {
        let (id, arn) = (rp.tape.barcode().to_owned(), rp.tape.as_str().to_owned());
        let e = match self.gateway.retrieve_tape(&rp.tape, standby).await {
            Ok(()) => return Attempt::Done(ItemResult::new(&id, &arn, Outcome::Done)),
            Err(e) => e,
        };
        if stops_the_run(&e) {
            tracing::error!(error = %e, "the standby cannot take more tapes in this run; stopping");
            if let Ok(mut s) = stop.lock() {
                s.get_or_insert(e.clone());
            }
            return Attempt::Done(ItemResult::failed(&id, &arn, &e));
        }
        // A throttled call was refused before anything was done: just try again later
        // (checking the standby would spend the same scarce rate budget).
        if e.kind == ErrorKind::Throttled {
            return Attempt::Retry(rp, e);
        }
        // Otherwise the call may have failed after AWS applied it (a lost answer, a
        // concurrent run): the standby says whether the tape is there.
        match self.gateway.find_tapes(standby, std::slice::from_ref(&rp.tape)).await {
            Ok(found) if found.iter().any(|t| t.tape == rp.tape) => {
                Attempt::Done(ItemResult::new(&id, &arn, Outcome::AlreadyDone).note(format!(
                    "RetrieveTapeRecoveryPoint answered {}, but the tape is on the standby",
                    e.code.as_deref().unwrap_or("an error")
                )))
            }
            _ if e.kind.retryable() => Attempt::Retry(rp, e),
            _ => Attempt::Done(ItemResult::failed(&id, &arn, &e)),
        }
    }

    async fn recover_volumes(&self, ctx: &Ctx<'_>, mut d: Draft) -> Draft {
        let req = ctx.req;
        let points = match self.gateway.volume_recovery_points(&req.failed).await {
            Ok(p) => p,
            Err(e) => return d.error("could not list the volume recovery points", &e),
        };
        let ours: HashMap<String, String> = d.progress.snapshots.iter().cloned().collect();
        let results: Vec<ItemResult> = stream::iter(points)
            .map(|rp| self.snapshot_one(ctx, rp, &ours))
            .buffer_unordered(self.config.max_concurrency)
            .collect()
            .await;
        for r in &results {
            if let (Outcome::Done, Some(snap)) = (r.outcome, &r.snapshot_id) {
                if !ours.contains_key(&r.arn) {
                    d.progress.snapshots.push((r.arn.clone(), snap.clone()));
                }
            }
        }
        d.volumes = results;
        if req.dry_run {
            let planned = d.volumes.iter().filter(|v| v.outcome == Outcome::Planned).count();
            let total = d.volumes.len();
            return d.end(
                Status::DryRun,
                format!("dry run: {planned} of {total} volumes would be snapshotted; nothing was changed"),
            );
        }
        self.conclude(ctx, d, None, "volumes").await
    }

    /// Snapshots one volume recovery point, unless the volume's tags say it is done.
    async fn snapshot_one(&self, ctx: &Ctx<'_>, rp: VolumeRecoveryPoint, ours: &HashMap<String, String>) -> ItemResult {
        let (id, arn) = (rp.volume.volume_id().to_owned(), rp.volume.as_str().to_owned());
        if ctx.budget.expired() {
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

    /// The status of a run that did its work: completed, partial, or continued.
    async fn conclude(&self, ctx: &Ctx<'_>, d: Draft, stopped_by: Option<AwsError>, what: &str) -> Draft {
        let items = if what == "tapes" { &d.tapes } else { &d.volumes };
        let c = Counts::of(items);
        if let Some(e) = stopped_by {
            let msg = format!(
                "stopped early: {e}; {} of {} {what} recovered, {} failed, {} not attempted; run again once the standby is fixed",
                c.recovered(),
                c.total,
                c.failed,
                c.pending
            );
            let mut d = d.end(Status::Partial, msg);
            d.retryable = true;
            return d;
        }
        if c.pending > 0 {
            if let Some(topic) = self.config.recovery_topic.clone() {
                if ctx.slice < self.config.max_slices {
                    return match self.continue_later(ctx, &d, &topic).await {
                        Ok(id) => {
                            let msg = format!(
                                "out of time: {} of {} {what} recovered so far; continuation {id} published, slice {} goes on",
                                c.recovered(),
                                c.total,
                                ctx.slice + 1
                            );
                            d.end(Status::Continued, msg)
                        }
                        Err(e) => {
                            let mut d = d.end(Status::Partial, format!("out of time, and the continuation could not be published ({e}); run again to finish"));
                            d.retryable = true;
                            d
                        }
                    };
                }
            }
            let why = if self.config.recovery_topic.is_none() {
                "RECOVERY_TOPIC_ARN is not set"
            } else {
                "MAX_SLICES reached"
            };
            let mut d = d.end(
                Status::Partial,
                format!(
                    "out of time with {} {what} not attempted and no continuation ({why}); run again to finish",
                    c.pending
                ),
            );
            d.retryable = true;
            return d;
        }
        if c.failed > 0 {
            let retryable =
                items.iter().any(|i| i.outcome == Outcome::Failed && i.code.as_deref().is_some_and(is_retryable_code));
            let mut d = d.end(
                Status::Partial,
                format!(
                    "{} of {} {what} recovered, {} failed (listed below); a rerun retries only those",
                    c.recovered(),
                    c.total,
                    c.failed
                ),
            );
            d.retryable = retryable;
            return d;
        }
        let msg = format!(
            "all {} {what} recovered ({} by this recovery, {} were already done)",
            c.total, c.done, c.already_done
        );
        d.end(Status::Completed, msg)
    }

    async fn continue_later(&self, ctx: &Ctx<'_>, d: &Draft, topic: &TopicArn) -> Result<String, AwsError> {
        let mut progress = d.progress.clone();
        progress.elapsed_ms += u64::try_from(ctx.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let message = RecoveryContinuation {
            message_type: RECOVERY_CONTINUATION.to_owned(),
            version: VERSION,
            recovery_id: ctx.recovery_id.to_owned(),
            failed_gateway_arn: ctx.req.failed.to_string(),
            standby_gateway_arn: d.standby.as_ref().map(ToString::to_string),
            slice: ctx.slice + 1,
            started_at: ctx.started_at.to_owned(),
            outage_id: ctx.outage.map(str::to_owned),
            progress,
        };
        let body = serde_json::to_string(&message).map_err(|e| AwsError::malformed("Publish", e.to_string()))?;
        self.notifier
            .publish(&Publication {
                topic: topic.clone(),
                subject: None,
                body,
                attributes: vec![("type".into(), RECOVERY_CONTINUATION.into())],
            })
            .await
    }

    async fn log_and_publish(&self, report: &RecoveryReport) {
        for item in report.tape_results.iter().chain(&report.volume_results) {
            tracing::info!(
                recovery_id = report.recovery_id,
                id = item.id,
                arn = item.arn,
                outcome = ?item.outcome,
                snapshot_id = item.snapshot_id,
                code = item.code,
                message = item.message,
                "recovery item"
            );
        }
        let (t, v) = (&report.tapes, &report.volumes);
        crate::telemetry::emit_metrics(
            "recover-gateway",
            &[
                ("TapesRetrieved", t.done as f64, "Count"),
                ("TapesAlreadyRecovered", t.already_done as f64, "Count"),
                ("TapesFailed", t.failed as f64, "Count"),
                ("TapesPending", t.pending as f64, "Count"),
                ("VolumesSnapshotted", v.done as f64, "Count"),
                ("VolumesFailed", v.failed as f64, "Count"),
                ("DurationMs", report.duration_ms as f64, "Milliseconds"),
            ],
        );
        tracing::info!(
            recovery_id = report.recovery_id,
            status = report.status.as_str(),
            summary = report.summary,
            tapes = ?report.tapes,
            volumes = ?report.volumes,
            duration_ms = report.duration_ms,
            "recovery report"
        );
        if report.status == Status::AlreadyCompleted {
            return; // The first run reported it; a duplicate must not report again.
        }
        let message = Publication {
            topic: self.config.report_topic.clone(),
            subject: Some(report.subject()),
            body: report.body(),
            attributes: vec![
                ("status".into(), report.status.as_str().into()),
                ("gatewayId".into(), report.failed_gateway.id.clone()),
            ],
        };
        if let Err(e) = self.notifier.publish(&message).await {
            tracing::error!(error = %e, "the report could not be published; it is in the logs and the function's answer");
        }
    }
}

fn is_retryable_code(code: &str) -> bool {
    crate::aws::error::kind_of(Some(code), None).retryable() || code == "transient" || code == "throttled"
}

fn record(action: &str, reason: &str, at: Option<&str>) -> DisableRecord {
    DisableRecord { action: action.to_owned(), reason: reason.to_owned(), at: at.map(str::to_owned) }
}

/// Why a step ended the run early.
enum Stop {
    Ended(Status, String),
    Failed(&'static str, AwsError),
}

/// The standby's description and tapes, as read.
type StandbyChecks = (Result<GatewayDescription, AwsError>, Result<Vec<Tape>, AwsError>);

/// What the first, parallel read of a run fetched for the tape path.
struct Prefetched {
    standby: Option<Result<GatewayArn, String>>,
    standby_checks: Option<StandbyChecks>,
    points: Option<Result<Vec<TapeRecoveryPoint>, AwsError>>,
}

struct Ctx<'a> {
    req: &'a RecoveryRequest,
    budget: &'a Budget,
    recovery_id: &'a str,
    slice: u32,
    started_at: &'a str,
    started: Instant,
    outage: Option<&'a str>,
    tags: &'a Tags,
    already_disabled: bool,
    confirmed_at: Instant,
}
