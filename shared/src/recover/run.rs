//! One run of `recover-gateway`: confirm the failure, check the standby, pass the
//! `DisableGateway` interlock, take the lease, retrieve every tape (or snapshot every
//! volume) with bounded concurrency, stop before the deadline and hand over to the next
//! invocation, report.
//!
//! Reruns are safe by construction: the world is the ledger. A tape on the standby is
//! never retrieved again, a volume tagged with the snapshot of its recovery point is never
//! snapshotted again, and a call whose answer was lost is checked against the world. The
//! lease (a tag on the failed gateway) keeps a duplicate delivery from doing the same work
//! at the same time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};

use super::report::{Counts, DisableRecord, GatewayRef, ItemResult, Outcome, RecoveryReport, Status};
use super::request::{RecoveryRequest, Source};
use super::tapes::{Listing, Prefetched};
use crate::arn::{GatewayArn, TopicArn};
use crate::aws::{AwsError, Clock, ErrorKind, Notifier, Pages, Publication, StorageGateway};
use crate::config::RecoverConfig;
use crate::deadline::Budget;
use crate::handoff::{Progress, RECOVERY_CONTINUATION, RecoveryContinuation, VERSION};
use crate::model::{GatewayKind, GatewaySummary, Tags, tag};
use crate::time::rfc3339;

/// What a recovery needs from the outside world.
pub struct Recovery<'a, G, N, C> {
    pub gateway: &'a G,
    pub notifier: &'a N,
    pub clock: &'a C,
    pub config: &'a RecoverConfig,
}

/// The parts of a report decided along the way.
pub(super) struct Draft {
    pub status: Status,
    pub summary: String,
    pub retryable: bool,
    pub failed_ref: GatewayRef,
    pub standby: Option<GatewayArn>,
    pub disable: Option<DisableRecord>,
    pub approval: Option<serde_json::Value>,
    pub tapes: Vec<ItemResult>,
    pub volumes: Vec<ItemResult>,
    /// Progress to carry into a continuation.
    pub progress: Progress,
    /// Whether this run holds the lease (and must release it).
    pub leased: bool,
    /// Whether every recovery point was listed (so the counts are the whole gateway's).
    pub listing_complete: bool,
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
}

/// Why a step ended the run early.
pub(super) enum Stop {
    Ended(Status, String),
    Failed(&'static str, AwsError),
}

impl Stop {
    pub fn apply(self, d: Draft) -> Draft {
        match self {
            Stop::Ended(status, why) => d.end(status, why),
            Stop::Failed(what, e) => d.error(what, &e),
        }
    }
}

/// What every step of a run knows.
pub(super) struct Ctx<'a> {
    pub req: &'a RecoveryRequest,
    pub request_id: &'a str,
    pub budget: &'a Budget,
    pub recovery_id: &'a str,
    pub slice: u32,
    pub started_at: &'a str,
    pub started: Instant,
    pub outage: Option<&'a str>,
    pub tags: &'a Tags,
    pub already_disabled: bool,
    /// When the gateway answered this run that it is offline.
    pub confirmed_at: Instant,
    /// This run's lease tag key.
    pub lease_key: String,
    /// Set when an earlier run turns out to hold the lease: stop starting work.
    pub lease_lost: AtomicBool,
    /// When this run's lease says it started (epoch ms), set when it takes the lease.
    pub lease_started_ms: AtomicU64,
}

/// Reads every page of a paged listing.
pub(super) async fn all<T>(pages: Pages<'_, T>) -> Result<Vec<T>, AwsError> {
    pages.try_concat().await
}

/// Finds one gateway in `ListGateways`, stopping at the page that has it.
pub(super) async fn find_summary<G: StorageGateway>(
    gateway: &G,
    arn: &GatewayArn,
) -> Result<Option<GatewaySummary>, AwsError> {
    let mut pages = gateway.list_gateways();
    while let Some(page) = pages.next().await {
        if let Some(s) = page?.into_iter().find(|s| &s.arn == arn) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// For a hand-off whose outage the gateway's tags say is recovered: why there is nothing to do.
pub(super) fn completed_for(req: &RecoveryRequest, tags: &Tags) -> Option<String> {
    match &req.source {
        Source::Handoff(m) if tags.get(tag::COMPLETED) == Some(&m.outage_id) => {
            Some(format!("the recovery for outage {} already completed; this hand-off is a duplicate", m.outage_id))
        }
        _ => None,
    }
}

pub(super) fn record(action: &str, reason: &str, at: Option<&str>) -> DisableRecord {
    DisableRecord { action: action.to_owned(), reason: reason.to_owned(), at: at.map(str::to_owned) }
}

fn is_retryable_code(code: &str) -> bool {
    crate::aws::error::kind_of(Some(code), None).retryable() || code == "transient" || code == "throttled"
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
            leased: false,
            listing_complete: true,
        };
        tracing::info!(recovery_id, slice, failed = %req.failed, dry_run = req.dry_run, request_id, "recovery starts");
        let ids = (recovery_id.as_str(), request_id, slice, started_at.as_str(), started);
        let draft = self.execute(&req, draft, &budget, ids).await;
        let elapsed = millis(started.elapsed());
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
            listing_complete: draft.listing_complete,
        };
        self.log_and_publish(&report).await;
        report
    }

    async fn execute(
        &self,
        req: &RecoveryRequest,
        mut d: Draft,
        budget: &Budget,
        (recovery_id, request_id, slice, started_at, started): (&str, &str, u32, &str, Instant),
    ) -> Draft {
        // 1. Read everything the run needs, at once: the failed gateway's state, tags and
        // listing, the first page of its tape recovery points, and the standby. These are
        // reads only, so a run that ends up refusing has changed nothing. The tape listing
        // and the standby checks start before the gateway's type is known (a hand-off says
        // it); for a volume gateway their answers are dropped.
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
        let listing = async {
            if !tapes_likely {
                return None;
            }
            Some(self.start_listing(&req.failed).await)
        };
        // The time of the answer itself, not of the end of the whole read: the re-check
        // before DisableGateway is measured from it.
        let describe = async { (self.gateway.describe_gateway(&req.failed).await, Instant::now()) };
        let ((described, confirmed_at), (tags, standby, standby_checks), summary, listing) =
            tokio::join!(describe, tags_and_standby, find_summary(self.gateway, &req.failed), listing);
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
                    format!(
                        "the gateway answers DescribeGatewayInformation (state {}): it has not failed, nothing was done",
                        info.state
                    ),
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
        if let Some(done) = completed_for(req, &tags) {
            return d.end(Status::AlreadyCompleted, done);
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
            request_id,
            budget,
            recovery_id,
            slice,
            started_at,
            started,
            outage: outage.as_deref(),
            tags: &tags,
            already_disabled,
            confirmed_at,
            lease_key: super::lease::lease_key(request_id),
            lease_lost: AtomicBool::new(false),
            lease_started_ms: AtomicU64::new(0),
        };
        let d = match kind {
            GatewayKind::Tape => {
                // The hand-off said another type: list the tapes now.
                let listing = match listing {
                    Some(l) => l,
                    None => self.start_listing(&req.failed).await,
                };
                let prefetched = Prefetched { standby, standby_checks, listing };
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
        self.finish(&ctx, d).await
    }

    /// Starts listing a gateway's tape recovery points; answers the listing and its first page.
    async fn start_listing<'g>(
        &'g self,
        failed: &'g GatewayArn,
    ) -> (Listing<'g>, Result<Vec<crate::model::TapeRecoveryPoint>, AwsError>) {
        let gateway = self.gateway;
        let mut listing = Listing::new(Box::new(move |from| gateway.tape_recovery_points(failed, from)));
        let first = listing.next().await.unwrap_or_else(|| Ok(Vec::new()));
        (listing, first)
    }

    /// Marks a completed recovery on the gateway (so a replayed hand-off does nothing) and
    /// gives the lease back, both at once.
    async fn finish(&self, ctx: &Ctx<'_>, d: Draft) -> Draft {
        let mark = async {
            if d.status == Status::Completed && !ctx.req.dry_run {
                let value = ctx.outage.unwrap_or(ctx.recovery_id).to_owned();
                if let Err(e) = self.gateway.add_tags((&ctx.req.failed).into(), &[(tag::COMPLETED, value)]).await {
                    tracing::warn!(error = %e, "could not tag the gateway as recovered; a replayed hand-off will check again");
                }
            }
        };
        let release = async {
            if d.leased {
                self.release_lease(ctx).await;
            }
        };
        tokio::join!(mark, release);
        d
    }

    pub(super) fn resolve_standby(&self, req: &RecoveryRequest, tags: &Tags) -> Result<GatewayArn, String> {
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

    /// The status of a run that did its work: completed, partial, or continued.
    pub(super) async fn conclude(
        &self,
        ctx: &Ctx<'_>,
        d: Draft,
        stopped_by: Option<AwsError>,
        listing_failed: Option<AwsError>,
        what: &str,
    ) -> Draft {
        let items = if what == "tapes" { &d.tapes } else { &d.volumes };
        let c = Counts::of(items);
        if ctx.lease_lost.load(Ordering::SeqCst) {
            let msg = format!(
                "an earlier run holds the lease for this gateway; this run stopped starting work after {} of {} {what} and leaves the rest to it",
                c.recovered(),
                c.total
            );
            return d.end(Status::Duplicate, msg);
        }
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
        if let Some(e) = listing_failed {
            let msg = format!(
                "the listing of recovery points failed after {} {what} ({e}); those are accounted for below, run again to finish",
                c.total
            );
            let mut d = d.end(Status::Partial, msg);
            d.retryable = true;
            return d;
        }
        if c.pending > 0 {
            if let Some(topic) = self.config.recovery_topic.clone() {
                if ctx.slice < self.config.max_slices {
                    // The next slice must not find this run's lease and wait for it.
                    let mut d = d;
                    if d.leased {
                        self.release_lease(ctx).await;
                        d.leased = false;
                    }
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
                            let msg = format!(
                                "out of time, and the continuation could not be published ({e}); run again to finish"
                            );
                            let mut d = d.end(Status::Partial, msg);
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
        progress.elapsed_ms += millis(ctx.started.elapsed());
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
        if matches!(report.status, Status::AlreadyCompleted | Status::Duplicate) {
            // The run that did (or does) the work reports it; a duplicate must not.
            return;
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
