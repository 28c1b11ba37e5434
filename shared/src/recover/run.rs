//! One run of `recover-gateway`, from the request to the report. Reruns are safe by
//! construction: the standby says which tapes are there, the ledger says which calls may
//! have been made (markers written before the call), the lease keeps a duplicate delivery
//! from doing the same work at the same time, and the outage item says a recovery is done.

use std::collections::HashMap;

use serde_json::Value;
use tokio::time::Instant;

use super::conclude::{Conclusion, Ending};
use super::lease::{Lease, LeaseDeps, LeaseRequest, Seen, Taken};
use super::observe::{Observed, Verdict, verdict};
use super::report::{
    Counts, DisableRecord, GatewayRef, HoldRef, ItemResult, LedgerRefs, RecoveryReport, Status, recovery_objectives,
};
use super::request::{RecoveryRequest, Source};
use crate::config::RecoverConfig;
use crate::deadline::Budget;
use crate::handoff::{Message, Progress, RECOVERY_CONTINUATION, RecoveryContinuation, VERSION};
use crate::ledger::{self, Hold, Outage, OutageStatus, RunRecord, gateway_pk};
use crate::model::GatewayKind;
use crate::pacing::{Pacer, Retry};
use crate::ports::{AwsError, Clock, ErrorKind, Key, Ledger, Notifier, Publication, StorageGateway};
use crate::time::{millis, parse_rfc3339, rfc3339, rfc3339_ms};

/// What a recovery needs from the outside world.
pub struct Recovery<'a, G, N, L, C> {
    pub gateway: &'a G,
    pub notifier: &'a N,
    pub ledger: &'a L,
    pub clock: &'a C,
    pub config: &'a RecoverConfig,
}

/// Who this run is.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    pub recovery_id: String,
    pub request_id: String,
    pub slice: u32,
    /// When the recovery (its first slice) started, epoch ms.
    pub started_at_ms: i64,
    pub outage_id: Option<String>,
    /// When the gateway failed (first seen offline), epoch s, if known.
    pub failure_at: Option<i64>,
    /// When it was last seen online, epoch s, if known.
    pub last_seen_online: Option<i64>,
}

impl Identity {
    fn of(req: &RecoveryRequest, request_id: &str, now_ms: i64) -> Self {
        let fresh = |outage: Option<String>, failure_at: Option<i64>, last_seen_online: Option<i64>| Identity {
            // To the millisecond: two recoveries started within one second are two.
            recovery_id: format!(
                "{}-{}.{:03}Z",
                req.failed.id(),
                rfc3339_ms(now_ms).trim_end_matches('Z').replace([':', '-'], ""),
                now_ms.rem_euclid(1000)
            ),
            request_id: request_id.to_owned(),
            slice: 1,
            started_at_ms: now_ms,
            outage_id: outage,
            failure_at,
            last_seen_online,
        };
        match &req.source {
            Source::Continuation(c) => Identity {
                recovery_id: c.recovery_id.clone(),
                request_id: request_id.to_owned(),
                slice: c.slice,
                started_at_ms: parse_rfc3339(&c.started_at).map_or(now_ms, |s| s * 1000),
                outage_id: c.outage_id.clone(),
                failure_at: c.outage_id.as_deref().and_then(|o| o.split_once('@')).and_then(|(_, t)| parse_rfc3339(t)),
                last_seen_online: c.last_seen_online.as_deref().and_then(parse_rfc3339),
            },
            Source::Handoff(m) => fresh(
                Some(m.outage_id.clone()),
                parse_rfc3339(&m.offline_since),
                m.last_seen_online.as_deref().and_then(parse_rfc3339),
            ),
            Source::Direct => fresh(None, None, None),
        }
    }
}

/// The parts of a report decided along the way.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub status: Status,
    pub summary: String,
    pub retryable: bool,
    pub failed_ref: GatewayRef,
    pub standby_ref: Option<GatewayRef>,
    pub disable: Option<DisableRecord>,
    pub holds: Vec<HoldRef>,
    pub approval: Option<Value>,
    pub tapes: Vec<ItemResult>,
    pub volumes: Vec<ItemResult>,
    pub progress: Progress,
    pub listing_complete: bool,
    pub next_steps: Vec<String>,
    /// When the last item reached the standby, epoch s.
    pub last_item_at: Option<i64>,
    /// Per barcode, the last write the ledger's inventory knows of (epoch s).
    pub last_writes: HashMap<String, i64>,
    /// Whether this run's continuation went out.
    pub continued: bool,
    /// When the gateway failed and was last seen online (epoch s), for the objectives.
    pub failure_at: Option<i64>,
    pub last_seen_online: Option<i64>,
}

impl Draft {
    pub fn end(mut self, status: Status, summary: impl Into<String>) -> Self {
        self.status = status;
        self.summary = summary.into();
        self
    }

    pub fn error(self, what: &str, e: &AwsError) -> Self {
        let retryable = e.kind.retryable();
        let mut d = self.end(Status::Error, format!("{what}: {e}"));
        d.retryable = retryable;
        d
    }

    /// Ends the run, unless the error is a throttle or a transient failure that lasted
    /// until the budget ran out: that is "not yet", and the next slice goes on.
    pub fn not_yet_or_error(self, what: &str, e: &AwsError) -> Self {
        let mut d = if e.kind == ErrorKind::Throttled {
            self.end(Status::Continued, format!("{what}: throttled until the run ran out of time ({e}); continuing"))
        } else {
            self.error(what, e)
        };
        d.retryable = e.kind.retryable();
        d
    }
}

/// Why a step ended the run early.
pub(super) enum Stop {
    Ended(Status, String),
    /// A check failed before any change; it may pass later by itself if `retryable`.
    Refused(super::standby::Unusable),
    Failed(&'static str, AwsError),
}

impl Stop {
    pub fn apply(self, d: Draft) -> Draft {
        match self {
            Stop::Ended(status, why) => d.end(status, why),
            Stop::Refused(u) => {
                let mut d = d.end(Status::Refused, u.why);
                d.retryable = u.retryable;
                d
            }
            Stop::Failed(what, e) => d.not_yet_or_error(what, &e),
        }
    }
}

/// A run in progress: who it is, its budget, its pacers.
pub(super) struct Run<'r, G, N, L, C> {
    pub rec: &'r Recovery<'r, G, N, L, C>,
    pub req: &'r RecoveryRequest,
    pub id: Identity,
    pub budget: Budget,
    /// Storage Gateway calls: an adaptive window under `MAX_CONCURRENCY`.
    pub sgw: Pacer,
    /// Ledger and SNS calls: their own window, throttles waited out too.
    pub aux: Pacer,
    pub started: Instant,
}

/// The ledger items of a gateway's lease and audit record, for the report.
fn ledger_refs<L: Ledger>(ledger: &L, gateway: &crate::arn::GatewayArn) -> LedgerRefs {
    let pk = gateway_pk(gateway);
    LedgerRefs { location: ledger.location(), lease: format!("{pk} / lease"), audit: format!("{pk} / audit#disable") }
}

pub(super) fn hold_refs(holds: &[Hold]) -> Vec<HoldRef> {
    holds.iter().map(|h| HoldRef { id: h.id.clone(), reason: h.reason.clone(), since: rfc3339_ms(h.since) }).collect()
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Recovery<'_, G, N, L, C> {
    /// Runs the request to its end (or to the budget) and reports. Never fails: every
    /// ending, including AWS errors, is a report.
    pub async fn run(&self, req: RecoveryRequest, budget: Budget, request_id: &str) -> RecoveryReport {
        let now = self.clock.now_ms();
        let id = Identity::of(&req, request_id, now);
        tracing::info!(recovery_id = id.recovery_id, slice = id.slice, failed = %req.failed, dry_run = req.dry_run, request_id, "recovery starts");
        let ceiling = self.config.max_concurrency;
        let run = Run {
            rec: self,
            req: &req,
            id,
            budget,
            // Start at half the ceiling: a lone run reaches it in one round trip, and ten
            // runs starting together do not all open with their full window.
            sgw: Pacer::adaptive(ceiling.div_ceil(2), ceiling),
            aux: Pacer::fixed(32),
            started: Instant::now(),
        };
        let draft = Box::pin(run.execute()).await;
        Box::pin(run.report(draft)).await
    }
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    fn draft(&self) -> Draft {
        let progress = match &self.req.source {
            Source::Continuation(c) => c.progress.clone(),
            _ => Progress::default(),
        };
        Draft {
            status: Status::Completed,
            summary: String::new(),
            retryable: false,
            failed_ref: GatewayRef {
                arn: self.req.failed.to_string(),
                id: self.req.failed.id().to_owned(),
                name: None,
                kind: None,
            },
            standby_ref: None,
            disable: None,
            holds: vec![],
            approval: None,
            tapes: vec![],
            volumes: vec![],
            progress,
            listing_complete: true,
            next_steps: vec![],
            last_item_at: None,
            last_writes: HashMap::new(),
            continued: false,
            failure_at: self.id.failure_at,
            last_seen_online: self.id.last_seen_online,
        }
    }

    async fn execute(&self) -> Draft {
        let mut d = self.draft();
        let observed = self.observe().await;
        // A direct invocation learns the failure's times from the monitor's debounce item.
        if let Some(w) = &observed.watch {
            d.failure_at = d.failure_at.or(Some(w.offline_since));
            d.last_seen_online = d.last_seen_online.or(w.last_seen_online);
        }
        if let Ok(Some(s)) = &observed.summary {
            d.failed_ref.name = Some(s.name.clone());
            d.failed_ref.kind = Some(s.kind);
        }
        if let Ok(info) = &observed.described {
            d.failed_ref.name = Some(info.name.clone());
            d.failed_ref.kind = Some(info.kind);
        }
        let handed_off = match &self.req.source {
            Source::Handoff(m) => Some(m.gateway_type),
            _ => None,
        };
        let (kind, disabled) = match verdict(&observed, handed_off) {
            Verdict::Failed { kind, disabled } => (kind, disabled),
            Verdict::NotFailed { state } => {
                return d.end(
                    Status::NotFailed,
                    format!("the gateway answers DescribeGatewayInformation (state {state}): it has not failed, nothing was done"),
                );
            }
            Verdict::Refused(why) => return d.end(Status::Refused, why),
            Verdict::Error(what, e) => return d.not_yet_or_error(what, &e),
        };
        d.failed_ref.kind = Some(kind);
        if observed.tags.is_err() || observed.holds.is_err() || observed.outage.is_err() {
            let (what, e) = match (&observed.tags, &observed.holds, &observed.outage) {
                (Err(e), _, _) => ("could not read the gateway's tags", e),
                (_, Err(e), _) => ("could not read the region's holds from the ledger", e),
                (_, _, Err(e)) => ("could not read the outage from the ledger", e),
                _ => unreachable!("one of them failed"),
            };
            return d.not_yet_or_error(what, e);
        }
        if let Ok(Some(o)) = &observed.outage {
            if o.value.status == OutageStatus::Completed && matches!(self.req.source, Source::Handoff(_)) {
                return d.end(
                    Status::AlreadyCompleted,
                    format!(
                        "the recovery for outage {} already completed ({}); this hand-off is a duplicate",
                        self.id.outage_id.as_deref().unwrap_or("?"),
                        o.value.recovery_id
                    ),
                );
            }
        }
        let disabled = disabled || d.progress.disabled_at.is_some();
        // Each path is boxed: the run's future stays small enough to move and to name.
        match kind {
            GatewayKind::Tape => Box::pin(self.recover_tapes(d, &observed, disabled)).await,
            GatewayKind::CachedVolume => Box::pin(self.recover_cached_volumes(d, &observed)).await,
            GatewayKind::StoredVolume => Box::pin(self.report_stored_volumes(d)).await,
            GatewayKind::Other => d.end(
                Status::Refused,
                "file gateways have no recovery points; only tape (VTL) and volume gateways can be recovered"
                    .to_owned(),
            ),
        }
    }

    /// The lease request of this run, with the lease as it was before the first look.
    pub(super) fn lease_request(&self, seen: Seen) -> LeaseRequest<'_> {
        LeaseRequest {
            gateway: &self.req.failed,
            owner: &self.id.request_id,
            recovery_id: &self.id.recovery_id,
            heartbeat: self.rec.config.lease_heartbeat,
            until: self.budget.stop_at(),
            finish_by: self.budget.finish_by(),
            seen,
        }
    }

    /// Takes the lease, or ends the run: a duplicate, out of time, or (when another run
    /// worked since this one looked) an outage that run completed.
    pub(super) async fn take_lease(&self, o: &Observed) -> Result<Lease<'_, L, C>, Stop> {
        let deps = LeaseDeps { ledger: self.rec.ledger, clock: self.rec.clock, pacer: &self.aux };
        match Lease::take(deps, &self.lease_request(o.lease)).await {
            Ok(Taken::Ours(l)) => {
                if !l.fresh() {
                    if let Some(stop) = self.completed_meanwhile().await {
                        l.release().await;
                        return Err(stop);
                    }
                }
                Ok(l)
            }
            Ok(Taken::HeldBy(h)) => Err(Stop::Ended(
                Status::Duplicate,
                format!(
                    "recovery {} (invocation {}) is already working on this gateway; this invocation leaves the work to it",
                    h.recovery_id, h.owner
                ),
            )),
            Ok(Taken::Finished(h)) => Err(Stop::Ended(
                Status::Duplicate,
                format!(
                    "recovery {} (invocation {}) worked on this gateway while this invocation waited, and has ended; this one leaves it at that",
                    h.recovery_id, h.owner
                ),
            )),
            Ok(Taken::OutOfTime(h)) => Err(Stop::Ended(
                Status::Continued,
                format!("the lease is held by invocation {} and the run ran out of time waiting; continuing", h.owner),
            )),
            Err(e) => Err(Stop::Failed("could not take the lease", e)),
        }
    }

    /// Whether the outage of this hand-off was completed by a run since this one looked.
    async fn completed_meanwhile(&self) -> Option<Stop> {
        let outage = self.id.outage_id.as_ref()?;
        if !matches!(self.req.source, Source::Handoff(_)) {
            return None;
        }
        let key = Key::new(gateway_pk(&self.req.failed), format!("outage#{outage}"));
        let until = self.budget.stop_at();
        match self.aux.call(Retry::Idempotent, until, || ledger::load::<Outage>(self.rec.ledger, &key)).await {
            Ok(Some(o)) if o.value.status == OutageStatus::Completed => Some(Stop::Ended(
                Status::AlreadyCompleted,
                format!(
                    "the recovery for outage {outage} was completed ({}) while this invocation waited; this hand-off is a duplicate",
                    o.value.recovery_id
                ),
            )),
            Ok(_) => None,
            Err(e) => Some(Stop::Failed("could not read the outage from the ledger", e)),
        }
    }

    /// Whether a continuation can go out, or why not.
    pub(super) fn can_continue(&self) -> Result<(), &'static str> {
        match (&self.rec.config.recovery_topic, self.id.slice < self.rec.config.max_slices) {
            (None, _) => Err("RECOVERY_TOPIC_ARN is not set"),
            (Some(_), false) => Err("MAX_SLICES reached"),
            (Some(_), true) => Ok(()),
        }
    }

    /// Acts on a conclusion: publishes the continuation when work is left.
    pub(super) async fn settle(&self, d: Draft, ending: &Ending<'_>) -> Draft {
        match super::conclude::conclude(ending) {
            Conclusion::Completed(s) => d.end(Status::Completed, s),
            Conclusion::Duplicate(s) => d.end(Status::Duplicate, s),
            Conclusion::Partial { summary, retryable } => {
                let mut d = d.end(Status::Partial, summary);
                d.retryable = retryable;
                d
            }
            Conclusion::Continue(summary) => match self.continue_later(&d).await {
                Ok(id) => {
                    let mut d = d.end(Status::Continued, format!("{summary} (continuation {id})"));
                    d.continued = true;
                    d
                }
                Err(e) => {
                    let mut d = d.end(
                        Status::Partial,
                        format!("{summary}, but the continuation could not be published ({e}); run again to finish"),
                    );
                    d.retryable = true;
                    d
                }
            },
        }
    }

    /// Publishes the next slice's message.
    pub(super) async fn continue_later(&self, d: &Draft) -> Result<String, AwsError> {
        let Some(topic) = self.rec.config.recovery_topic.clone() else {
            return Err(AwsError::malformed("Publish", "RECOVERY_TOPIC_ARN is not set"));
        };
        let mut progress = d.progress.clone();
        progress.elapsed_ms += millis(self.started.elapsed());
        let message = Message::Continuation(RecoveryContinuation {
            message_type: RECOVERY_CONTINUATION.to_owned(),
            version: VERSION,
            recovery_id: self.id.recovery_id.clone(),
            failed_gateway_arn: self.req.failed.to_string(),
            standby_gateway_arn: d.standby_ref.as_ref().map(|s| s.arn.clone()),
            slice: self.id.slice + 1,
            started_at: rfc3339_ms(self.id.started_at_ms),
            outage_id: self.id.outage_id.clone(),
            approve_disable: self.req.approval.disable,
            override_holds: self.req.approval.override_holds.clone(),
            last_seen_online: d.last_seen_online.map(rfc3339),
            progress,
        });
        let publication = Publication {
            topic,
            subject: None,
            body: message.to_json(),
            attributes: vec![("type".into(), RECOVERY_CONTINUATION.into())],
        };
        self.aux.call(Retry::Idempotent, self.budget.finish_by(), || self.rec.notifier.publish(&publication)).await
    }

    /// Builds the report, records the run in the ledger, logs it and publishes it.
    async fn report(&self, mut d: Draft) -> RecoveryReport {
        // A run that ended "not yet" (throttled, out of time, waiting on a lease) before
        // its work started hands over here.
        if d.status == Status::Continued && !d.continued {
            match self.can_continue() {
                Ok(()) => match self.continue_later(&d).await {
                    Ok(id) => d.summary = format!("{} (continuation {id})", d.summary),
                    Err(e) => {
                        let summary =
                            format!("{}, but the continuation could not be published ({e}); run again", d.summary);
                        d = d.end(Status::Partial, summary);
                        d.retryable = true;
                    }
                },
                Err(why) => {
                    let summary = format!("{}; no continuation ({why}): run again", d.summary);
                    d = d.end(Status::Partial, summary);
                    d.retryable = true;
                }
            }
        }
        let now_ms = self.rec.clock.now_ms();
        let elapsed = millis(self.started.elapsed());
        let (rpo, rto) = recovery_objectives(&d.tapes, d.failure_at, d.last_seen_online, d.last_item_at, &|barcode| {
            d.last_writes.get(barcode).copied()
        });
        let report = RecoveryReport {
            status: d.status,
            summary: d.summary,
            recovery_id: self.id.recovery_id.clone(),
            failed_gateway: d.failed_ref,
            standby_gateway: d.standby_ref,
            dry_run: self.req.dry_run,
            started_at: rfc3339_ms(self.id.started_at_ms),
            finished_at: rfc3339_ms(now_ms),
            duration_ms: elapsed,
            total_duration_ms: d.progress.elapsed_ms + elapsed,
            slice: self.id.slice,
            disable: d.disable,
            holds: d.holds,
            tapes: Counts::of(&d.tapes),
            volumes: Counts::of(&d.volumes),
            approval: d.approval,
            retryable: d.retryable,
            listing_complete: d.listing_complete,
            rpo,
            rto,
            next_steps: d.next_steps,
            ledger: ledger_refs(self.rec.ledger, &self.req.failed),
            pacing: self.sgw.stats(),
            tape_results: d.tapes,
            volume_results: d.volumes,
        };
        // The ledger's history and the report are independent: one round trip, not two.
        let record = async {
            if !self.req.dry_run && report.status.publishes() {
                self.record(&report, now_ms).await;
            }
        };
        tokio::join!(record, self.log_and_publish(&report));
        report
    }

    /// The run's history item, and the outage item once the recovery is complete.
    async fn record(&self, r: &RecoveryReport, now_ms: i64) {
        let ledger = self.rec.ledger;
        let until = self.budget.finish_by();
        let pk = gateway_pk(&self.req.failed);
        let run = RunRecord {
            recovery_id: r.recovery_id.clone(),
            slice: r.slice,
            status: r.status,
            summary: r.summary.clone(),
            started_at: now_ms - i64::try_from(r.duration_ms).unwrap_or(0),
            finished_at: now_ms,
            duration_ms: r.duration_ms,
            tapes: r.tapes,
            volumes: r.volumes,
        };
        let key = Key::new(&pk, RunRecord::sort_key(run.started_at, &run.recovery_id, run.slice));
        let expires = Some(now_ms / 1000 + ledger::HISTORY_SECS);
        let written = self
            .aux
            .call(Retry::Idempotent, until, || {
                ledger::write(ledger, &key, &run, 1, &crate::ports::Condition::Always, expires)
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "the run could not be recorded in the ledger's history");
        }
        let (Some(outage), Status::Completed) = (&self.id.outage_id, r.status) else { return };
        let key = Key::new(&pk, format!("outage#{outage}"));
        let done = Outage {
            recovery_id: r.recovery_id.clone(),
            status: OutageStatus::Completed,
            started_at: self.id.started_at_ms,
            completed_at: Some(now_ms),
            disabled_at: r.disable.as_ref().and_then(|d| d.at.as_deref()).and_then(parse_rfc3339).map(|s| s * 1000),
        };
        let written = self
            .aux
            .call(Retry::Idempotent, until, || {
                ledger::write(ledger, &key, &done, 1, &crate::ports::Condition::Always, expires)
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not mark the outage recovered; a replayed hand-off will check again");
        }
    }

    async fn log_and_publish(&self, report: &RecoveryReport) {
        for item in report.tape_results.iter().chain(&report.volume_results) {
            tracing::info!(
                recovery_id = report.recovery_id,
                id = item.id,
                arn = item.arn,
                outcome = ?item.outcome,
                recovery_point = item.recovery_point,
                snapshot_id = item.snapshot_id,
                clone = item.reconnect.as_ref().map(|r| r.volume_arn.as_str()),
                error = item.error.as_ref().map(|e| format!("{}: {}", e.code.as_deref().unwrap_or("?"), e.message)),
                note = item.note,
                "recovery item"
            );
        }
        let (t, v) = (&report.tapes, &report.volumes);
        let verification_failures = report
            .tape_results
            .iter()
            .chain(&report.volume_results)
            .filter(|i| i.verified == Some(false) && i.outcome == super::report::Outcome::Failed)
            .count();
        crate::telemetry::emit_metrics(
            "recover-gateway",
            &[
                ("TapesRetrieved", t.done as f64, "Count"),
                ("TapesAlreadyRecovered", t.already_done as f64, "Count"),
                ("TapesFailed", t.failed as f64, "Count"),
                ("TapesPending", t.pending as f64, "Count"),
                ("TapesUnverified", t.unverified as f64, "Count"),
                ("VolumesRecovered", v.done as f64, "Count"),
                ("VolumesFailed", v.failed as f64, "Count"),
                ("VerificationFailures", verification_failures as f64, "Count"),
                ("RecoveriesHeld", if report.holds.is_empty() { 0.0 } else { 1.0 }, "Count"),
                ("DurationMs", report.duration_ms as f64, "Milliseconds"),
                ("Throttles", report.pacing.throttles as f64, "Count"),
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
        // The run that does the work reports it; a duplicate must not. A recovery held by
        // a correlated-outage hold is reported once, for the whole event, by the monitor:
        // so is one that stopped short while handed off under a hold (fifty refusals on
        // the worst day would bury the one alert). Its report is in the logs and metrics,
        // and the daily readiness check names a missing standby.
        let held_hand_off = match &self.req.source {
            Source::Handoff(m) => {
                !report.holds.is_empty()
                    || (m.held_by.is_some() && matches!(report.status, Status::Refused | Status::AwaitingApproval))
            }
            _ => false,
        };
        if !report.status.publishes() || held_hand_off {
            return;
        }
        let message = Publication {
            topic: self.rec.config.report_topic.clone(),
            subject: Some(report.subject()),
            body: report.body(),
            attributes: vec![
                ("status".into(), report.status.as_str().into()),
                ("gatewayId".into(), report.failed_gateway.id.clone()),
            ],
        };
        if let Err(e) =
            self.aux.call(Retry::Idempotent, self.budget.finish_by(), || self.rec.notifier.publish(&message)).await
        {
            tracing::error!(error = %e, "the report could not be published; it is in the logs and the function's answer");
        }
    }
}
