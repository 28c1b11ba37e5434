//! The tape path: check the standby, pass the `DisableGateway` interlock, and retrieve
//! every tape not on the standby yet.
//!
//! When the standby is empty it has room for any tape gateway's tapes (a tape gateway holds
//! at most 1,500), so retrieval starts with the first page of recovery points and the rest
//! of the listing is read while tapes are retrieved. Otherwise (a rerun, a shared standby)
//! the whole listing is read first, so the room check is exact before anything changes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::{BoxStream, FuturesUnordered};
use serde_json::json;

use super::plan::{DisableDecision, MAX_TAPES_PER_GATEWAY, TapePlan, disable_decision, plan_tapes};
use super::report::{ItemResult, Outcome, Status};
use super::run::{Ctx, Draft, Recovery, Stop, find_summary, record};
use crate::arn::{GatewayArn, TapeArn};
use crate::aws::{AwsError, Clock, ErrorKind, Notifier, Publication, RecoveryPointPage, StorageGateway};
use crate::model::{GatewayDescription, GatewayKind, Tape, TapeRecoveryPoint, tag};
use crate::time::rfc3339;

/// Times a tape whose retrieval failed with a retryable error (after the SDK's own
/// retries) goes back in the queue, with a growing pause, before it counts as failed.
const MAX_REQUEUES: u32 = 5;

/// How long a run that has stopped (out of time, standby gone) goes on reading the listing
/// so its report accounts for every tape; past it, the report says the listing is incomplete.
const LISTING_AFTER_STOP: Duration = Duration::from_secs(20);

/// Times in a row a page of recovery points is asked for again after a retryable failure.
const MAX_LISTING_RETRIES: u32 = 6;

/// The standby's description and tapes, as read.
pub(super) type StandbyChecks = (Result<GatewayDescription, AwsError>, Result<Vec<Tape>, AwsError>);

/// Starts listing the recovery points from a marker (`None`: from the start).
type ListFrom<'g> =
    Box<dyn Fn(Option<String>) -> BoxStream<'g, Result<RecoveryPointPage, AwsError>> + Send + Sync + 'g>;

/// The tape recovery points, page by page. A page that still fails with a retryable error
/// after the SDK's retries is asked for again, from where the listing was, after a pause:
/// nothing already read is read twice, and a long listing survives throttling.
pub(super) struct Listing<'g> {
    list_from: ListFrom<'g>,
    pages: BoxStream<'g, Result<RecoveryPointPage, AwsError>>,
    /// Where the page after the last one read starts.
    marker: Option<String>,
    failures: u32,
    resume_at: Option<Instant>,
    done: bool,
}

impl<'g> Listing<'g> {
    pub fn new(list_from: ListFrom<'g>) -> Self {
        let pages = list_from(None);
        Self { list_from, pages, marker: None, failures: 0, resume_at: None, done: false }
    }

    /// The next page; `None` once the listing is complete. Safe to cancel and call again.
    pub async fn next(&mut self) -> Option<Result<Vec<TapeRecoveryPoint>, AwsError>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(t) = self.resume_at {
                tokio::time::sleep_until(t.into()).await;
                self.resume_at = None;
                self.pages = (self.list_from)(self.marker.clone());
            }
            match self.pages.next().await {
                None => self.done = true,
                Some(Ok(page)) => {
                    self.failures = 0;
                    self.done = page.next.is_none();
                    self.marker = page.next;
                    return Some(Ok(page.points));
                }
                Some(Err(e)) if e.kind.retryable() && self.failures < MAX_LISTING_RETRIES => {
                    self.failures += 1;
                    let pause = Duration::from_millis(500 << self.failures);
                    tracing::warn!(error = %e, failures = self.failures, "reading that page of recovery points again");
                    self.resume_at = Some(Instant::now() + pause);
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Every page left.
    pub async fn rest(&mut self) -> Result<Vec<TapeRecoveryPoint>, AwsError> {
        let mut all = Vec::new();
        while let Some(page) = self.next().await {
            all.extend(page?);
        }
        Ok(all)
    }

    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// What the first, parallel read of a run fetched for the tape path.
pub(super) struct Prefetched<'g> {
    pub standby: Option<Result<GatewayArn, String>>,
    pub standby_checks: Option<StandbyChecks>,
    /// The listing, and its first page.
    pub listing: (Listing<'g>, Result<Vec<TapeRecoveryPoint>, AwsError>),
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

/// What woke the retrieval loop.
enum Event {
    Page(Option<Result<Vec<TapeRecoveryPoint>, AwsError>>),
    Attempt(Option<(Attempt, u32)>),
}

/// How the retrieval ended.
struct Retrieved {
    results: Vec<ItemResult>,
    /// A standby-wide error that stopped the run.
    stopped_by: Option<AwsError>,
    /// The listing of recovery points failed part way.
    listing_failed: Option<AwsError>,
    /// Every page of the listing was read.
    listing_complete: bool,
}

/// Tapes already on the standby, as report items.
fn on_standby_items(plan: &TapePlan) -> impl Iterator<Item = ItemResult> + '_ {
    plan.on_standby.iter().map(|(rp, ours)| {
        let outcome = if *ours { Outcome::Done } else { Outcome::AlreadyDone };
        ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), outcome)
    })
}

fn items(points: &[TapeRecoveryPoint], outcome: Outcome) -> impl Iterator<Item = ItemResult> + '_ {
    points.iter().map(move |rp| ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), outcome))
}

impl<G: StorageGateway, N: Notifier, C: Clock> Recovery<'_, G, N, C> {
    pub(super) async fn recover_tapes<'g>(&'g self, ctx: &Ctx<'_>, mut d: Draft, pre: Prefetched<'g>) -> Draft {
        let req = ctx.req;
        // 2. The standby: named, connected, a tape gateway, not the failed one.
        let standby = match pre.standby.unwrap_or_else(|| self.resolve_standby(req, ctx.tags)) {
            Ok(s) => s,
            Err(why) => return d.end(Status::Refused, why),
        };
        d.standby = Some(standby.clone());
        if standby == req.failed {
            return d.end(Status::Refused, "the standby gateway is the failed gateway itself");
        }
        let (standby_info, standby_tapes) = match pre.standby_checks {
            Some(checks) => checks,
            None => tokio::join!(
                self.gateway.describe_gateway(&standby),
                super::run::all(self.gateway.gateway_tapes(&standby))
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
        let (mut listing, first) = pre.listing;
        let mut points = match first {
            Ok(p) => p,
            Err(e) => return d.error("could not list the tape recovery points", &e),
        };
        // Stream the listing only when the standby has room for anything: it is empty.
        // A dry run and a run that may need approval read it all (their reports list every tape).
        let may_need_approval = matches!(
            disable_decision(self.config.disable_policy, ctx.tags, req.approve_disable, ctx.already_disabled, 1),
            DisableDecision::NeedsApproval(_)
        );
        let stream = standby_tapes.is_empty() && !req.dry_run && !may_need_approval && !points.is_empty();
        if !stream {
            match listing.rest().await {
                Ok(rest) => points.extend(rest),
                Err(e) => return d.error("could not list the tape recovery points", &e),
            }
        }
        let mut more = (!listing.is_done()).then_some(listing);
        let earlier: HashSet<String> = d.progress.retrieved_tapes.iter().cloned().collect();
        let plan = plan_tapes(points, &standby_tapes, &earlier);
        if let Err(why) = plan.check_room(&standby) {
            return d.end(Status::Refused, why);
        }
        d.tapes.extend(on_standby_items(&plan));

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
            d.tapes.extend(items(&plan.retrieve, Outcome::Planned));
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
        if let DisableDecision::NeedsApproval(why) = &decision {
            d.disable = Some(record("needs-approval", why, None));
            d.approval = Some(json!({
                "failedGatewayArn": req.failed.as_str(),
                "standbyGatewayArn": standby.as_str(),
                "approveDisable": true,
            }));
            d.tapes.extend(items(&plan.retrieve, Outcome::Pending));
            return d.end(
                Status::AwaitingApproval,
                format!(
                    "{} tapes can be recovered once the gateway is disabled; DisableGateway is irreversible and needs approval: {why}",
                    plan.retrieve.len()
                ),
            );
        }
        if plan.retrieve.is_empty() && more.is_none() {
            d.disable = Some(record("not-needed", "every tape is on the standby already", None));
            return self.conclude(ctx, d, None, None, "tapes").await;
        }

        // Out of time before anything was changed: leave it all to the next slice.
        if ctx.budget.expired() {
            d.tapes.extend(items(&plan.retrieve, Outcome::Pending));
            self.account_unread(&mut more, &mut d, &standby_tapes, &earlier).await;
            return self.conclude(ctx, d, None, None, "tapes").await;
        }
        // From here on, the run changes things: hold the lease while it does.
        match self.acquire_lease(ctx).await {
            Err(stop) => {
                d.tapes.extend(items(&plan.retrieve, Outcome::Pending));
                self.account_unread(&mut more, &mut d, &standby_tapes, &earlier).await;
                return stop.apply(d);
            }
            Ok(tags) => {
                d.leased = true;
                if let Some(done) = super::run::completed_for(ctx.req, &tags) {
                    // The run we waited for finished this very outage meanwhile.
                    return d.end(Status::AlreadyCompleted, done);
                }
            }
        }
        let work = async {
            match decision {
                DisableDecision::AlreadyDisabled => {
                    let at = d.progress.disabled_at.clone();
                    let action = if at.is_some() { "disabled" } else { "already-disabled" };
                    d.disable = Some(record(action, "the gateway is disabled", at.as_deref()));
                }
                DisableDecision::NotNeeded | DisableDecision::NeedsApproval(_) => {}
                DisableDecision::Allowed(why) => {
                    match self.disable(ctx, &standby, plan.retrieve.len(), more.is_none(), &why).await {
                        Ok(at) => {
                            d.disable = Some(record("disabled", &why, Some(&at)));
                            d.progress.disabled_at = Some(at);
                        }
                        Err(stop) => {
                            d.tapes.extend(items(&plan.retrieve, Outcome::Pending));
                            self.account_unread(&mut more, &mut d, &standby_tapes, &earlier).await;
                            return stop.apply(d);
                        }
                    }
                }
            }
            // 4. Retrieve every tape not on the standby (and those the listing still brings).
            let mut seen: HashSet<TapeArn> = plan
                .retrieve
                .iter()
                .chain(plan.on_standby.iter().map(|(rp, _)| rp))
                .map(|rp| rp.tape.clone())
                .collect();
            let outcome = self
                .retrieve_all(plan.retrieve.clone(), more.take(), &standby, &standby_tapes, &earlier, &mut seen, ctx)
                .await;
            for r in &outcome.results {
                if r.outcome == Outcome::Done && !earlier.contains(&r.id) {
                    d.progress.retrieved_tapes.push(r.id.clone());
                }
            }
            d.tapes.extend(outcome.results);
            d.listing_complete &= outcome.listing_complete;
            self.conclude(ctx, d, outcome.stopped_by, outcome.listing_failed, "tapes").await
        };
        self.with_heartbeat(ctx, work).await
    }

    /// Reads what is left of the listing into the report (tapes on the standby as such,
    /// the others as not attempted), so a run that stops early still accounts for every
    /// tape; if the listing cannot be finished in time, the report says it is incomplete.
    async fn account_unread(
        &self,
        more: &mut Option<Listing<'_>>,
        d: &mut Draft,
        standby_tapes: &HashSet<TapeArn>,
        earlier: &HashSet<String>,
    ) {
        let Some(listing) = more.as_mut() else { return };
        match tokio::time::timeout(LISTING_AFTER_STOP, listing.rest()).await {
            Ok(Ok(rest)) => {
                let plan = plan_tapes(rest, standby_tapes, earlier);
                d.tapes.extend(on_standby_items(&plan));
                d.tapes.extend(items(&plan.retrieve, Outcome::Pending));
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the rest of the listing could not be read");
                d.listing_complete = false;
            }
            Err(_) => d.listing_complete = false,
        }
        *more = None;
    }

    /// Re-confirms the gateway is offline (unless this run just did), records the audit
    /// trail, then disables it; answers when it was disabled.
    async fn disable(
        &self,
        ctx: &Ctx<'_>,
        standby: &GatewayArn,
        tapes_so_far: usize,
        listing_complete: bool,
        why: &str,
    ) -> Result<String, Stop> {
        let req = ctx.req;
        if ctx.lease_lost.load(Ordering::SeqCst) {
            return Err(Stop::Ended(
                Status::Duplicate,
                "an earlier run holds the lease for this gateway; nothing was changed".into(),
            ));
        }
        if ctx.confirmed_at.elapsed() >= self.config.reconfirm_after {
            match self.gateway.describe_gateway(&req.failed).await {
                Ok(info) => {
                    return Err(Stop::Ended(
                        Status::NotFailed,
                        format!(
                            "the gateway came back (state {}) before it was disabled; nothing was changed",
                            info.state
                        ),
                    ));
                }
                Err(e) if e.kind == ErrorKind::NotConnected => {}
                Err(e) => {
                    return Err(Stop::Failed("could not re-confirm the gateway is offline before disabling it", e));
                }
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
                "tapesToRecover": if listing_complete { json!(tapes_so_far) } else { json!(format!("at least {tapes_so_far} (listing continues)")) },
                "recoveryId": ctx.recovery_id,
                "requestId": ctx.request_id,
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

    /// Retrieves the tapes, `MAX_CONCURRENCY` at a time, taking in the rest of the listing
    /// as it arrives, until done, out of time, or stopped by a standby-wide error. A tape
    /// whose retrieval fails with a retryable error (after the SDK's own retries) goes back
    /// in the queue after a pause, so the pipeline stays full under throttling.
    #[allow(clippy::too_many_arguments)]
    async fn retrieve_all(
        &self,
        first: Vec<TapeRecoveryPoint>,
        mut more: Option<Listing<'_>>,
        standby: &GatewayArn,
        standby_tapes: &HashSet<TapeArn>,
        earlier: &HashSet<String>,
        seen: &mut HashSet<TapeArn>,
        ctx: &Ctx<'_>,
    ) -> Retrieved {
        let budget = ctx.budget;
        let stop: Mutex<Option<AwsError>> = Mutex::new(None);
        let stopped = || stop.lock().map(|s| s.is_some()).unwrap_or(true);
        let mut results: Vec<ItemResult> = Vec::with_capacity(first.len());
        let mut queue: VecDeque<(TapeRecoveryPoint, u32, Option<Instant>)> =
            first.into_iter().map(|rp| (rp, 0, None)).collect();
        let mut last_errors: HashMap<TapeArn, AwsError> = HashMap::new();
        let mut listing_failed = None;
        let mut listing_complete = true;
        let mut halted_at: Option<Instant> = None;
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.config.max_concurrency
                && !budget.expired()
                && !stopped()
                && !ctx.lease_lost.load(Ordering::SeqCst)
            {
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
            let halted = budget.expired() || stopped() || ctx.lease_lost.load(Ordering::SeqCst);
            if halted && in_flight.is_empty() {
                let since = *halted_at.get_or_insert_with(Instant::now);
                if since.elapsed() >= LISTING_AFTER_STOP && more.is_some() {
                    tracing::warn!("stopped reading the listing: the run has stopped");
                    more = None;
                    listing_complete = false;
                }
            }
            let listing = more.is_some();
            let event = tokio::select! {
                page = async { more.as_mut()?.next().await }, if listing => Event::Page(page),
                next = in_flight.next(), if !in_flight.is_empty() => Event::Attempt(next),
                else => break,
            };
            match event {
                Event::Page(None) => more = None,
                Event::Page(Some(Err(e))) => {
                    tracing::error!(error = %e, "the listing of tape recovery points failed part way");
                    listing_failed = Some(e);
                    listing_complete = false;
                    more = None;
                }
                Event::Page(Some(Ok(page))) => {
                    for rp in page {
                        if !seen.insert(rp.tape.clone()) {
                            continue;
                        }
                        if standby_tapes.contains(&rp.tape) {
                            let outcome =
                                if earlier.contains(rp.tape.barcode()) { Outcome::Done } else { Outcome::AlreadyDone };
                            results.push(ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), outcome));
                        } else {
                            queue.push_back((rp, 0, None));
                        }
                    }
                    if seen.len() > MAX_TAPES_PER_GATEWAY {
                        tracing::warn!(listed = seen.len(), "more recovery points than a tape gateway holds");
                    }
                }
                Event::Attempt(None) => {}
                Event::Attempt(Some((attempt, requeues))) => match attempt {
                    Attempt::Done(r) => results.push(r),
                    Attempt::Retry(rp, e) if requeues < MAX_REQUEUES => {
                        let pause = Duration::from_millis(500 << requeues).min(Duration::from_secs(8));
                        tracing::info!(tape = rp.tape.barcode(), error = %e, requeues, "retrying a tape later");
                        last_errors.insert(rp.tape.clone(), e);
                        queue.push_back((rp, requeues + 1, Some(Instant::now() + pause)));
                    }
                    Attempt::Retry(rp, e) => results.push(ItemResult::failed(rp.tape.barcode(), rp.tape.as_str(), &e)),
                    Attempt::NotStarted(rp) => queue.push_back((rp, requeues, None)),
                },
            }
        }
        // What is left was not (or not again) tried before the run stopped: pending, with
        // the last error for tapes that had one.
        for (rp, _, _) in queue {
            let item = ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), Outcome::Pending);
            results.push(match last_errors.get(&rp.tape) {
                // Still worth trying: the next run (or slice) does.
                Some(e) => item.note(format!("waiting for another try when the run stopped; last error: {e}")),
                None => item,
            });
        }
        drop(in_flight);
        let stopped_by = stop.into_inner().unwrap_or_else(|e| e.into_inner());
        Retrieved { results, stopped_by, listing_failed, listing_complete }
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
        // Otherwise the call may have failed after AWS applied it (an answer lost on the
        // way back, then a retry refused as a repeat): the standby says whether the tape is
        // there. It was not when the run started, and the lease keeps other runs away, so
        // this run retrieved it.
        match self.gateway.find_tapes(standby, std::slice::from_ref(&rp.tape)).await {
            Ok(found) if found.iter().any(|t| t.tape == rp.tape) => {
                Attempt::Done(ItemResult::new(&id, &arn, Outcome::Done).note(format!(
                    "RetrieveTapeRecoveryPoint answered {} (its first answer was lost), and the standby has the tape",
                    e.code.as_deref().unwrap_or("an error")
                )))
            }
            _ if e.kind.retryable() => Attempt::Retry(rp, e),
            _ => Attempt::Done(ItemResult::failed(&id, &arn, &e)),
        }
    }
}
