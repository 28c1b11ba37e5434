//! Retrieves every tape the listing brings that is not on the standby yet, taking in the
//! listing as it arrives, until done, out of time, or stopped by a standby-wide error. The
//! pacer bounds the calls in flight; a throttled retrieval waits its turn (it was refused
//! before anything was done); a retrieval that may have been applied (a lost answer, a
//! 5xx) is checked against the standby before anything else.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use super::listing::Listing;
use crate::arn::{GatewayArn, TapeArn};
use crate::deadline::Budget;
use crate::model::{TapeRecoveryPoint, TapeStatus};
use crate::pacing::{Pacer, Retry};
use crate::ports::{AwsError, ErrorKind, StorageGateway};
use crate::recover::report::{ItemResult, Outcome};
use crate::time::rfc3339;

/// Times a tape whose retrieval failed retryably (after the SDK's and the pacer's own
/// retries) goes back in the queue, with a growing pause, before it counts as failed.
const MAX_REQUEUES: u32 = 5;

/// How long a run that has stopped goes on reading the listing so its report accounts for
/// every tape; past it, the report says the listing is incomplete.
const LISTING_AFTER_STOP: Duration = Duration::from_secs(20);

/// What the retrieval needs.
pub(crate) struct Retrieval<'a, G> {
    pub gateway: &'a G,
    pub pacer: &'a Pacer,
    pub budget: &'a Budget,
    pub standby: &'a GatewayArn,
    /// Tapes on the standby when the run started, with their status.
    pub on_standby: &'a HashMap<TapeArn, TapeStatus>,
    /// Barcodes this recovery retrieved in earlier slices.
    pub earlier: &'a HashSet<String>,
    /// Retrievals in flight at most (the pacer's ceiling).
    pub ceiling: usize,
    /// Whether another run took the lease over.
    pub lease_lost: &'a (dyn Fn() -> bool + Send + Sync),
    /// Whether this run may still change anything (not a dry run, not awaiting approval).
    pub act: bool,
}

/// How the retrieval ended.
pub(crate) struct Retrieved {
    pub results: Vec<ItemResult>,
    /// A standby-wide error that stopped the run.
    pub stopped_by: Option<AwsError>,
    /// The listing of recovery points failed part way.
    pub listing_failed: Option<AwsError>,
    /// Every page of the listing was read.
    pub listing_complete: bool,
    /// When the last tape reached the standby (epoch s), for the recovery time.
    pub last_done_at: Option<Instant>,
}

enum Attempt {
    Done(ItemResult),
    /// Worth another try later.
    Retry(TapeRecoveryPoint, AwsError),
    /// Not tried: out of time (or throttled until the budget ended).
    NotYet(TapeRecoveryPoint, Option<AwsError>),
    /// Stops every retrieval of the run.
    Stop(ItemResult, AwsError),
}

fn at(rp: &TapeRecoveryPoint) -> Option<String> {
    rp.time.map(rfc3339)
}

fn item(rp: &TapeRecoveryPoint, outcome: Outcome) -> ItemResult {
    ItemResult::new(rp.tape.barcode(), rp.tape.as_str(), outcome).at(at(rp))
}

impl<G: StorageGateway> Retrieval<'_, G> {
    /// A tape on the standby already: this recovery's (an earlier slice) or someone's.
    fn known(&self, rp: &TapeRecoveryPoint) -> Option<ItemResult> {
        let status = self.on_standby.get(&rp.tape)?;
        let outcome = if self.earlier.contains(rp.tape.barcode()) { Outcome::Done } else { Outcome::AlreadyDone };
        let mut r = item(rp, outcome);
        if *status != TapeStatus::Recovered {
            r.standby_status = Some(status.as_api().to_owned());
        }
        Some(r)
    }

    fn halted(&self, stopped: bool) -> bool {
        stopped || self.budget.expired() || (self.lease_lost)()
    }

    pub async fn run(&self, first: Vec<TapeRecoveryPoint>, mut listing: Option<&mut Listing<'_>>) -> Retrieved {
        let mut results: Vec<ItemResult> = Vec::new();
        let mut queue: VecDeque<(TapeRecoveryPoint, u32, Option<Instant>)> = VecDeque::new();
        let take = |rp: TapeRecoveryPoint, results: &mut Vec<ItemResult>, queue: &mut VecDeque<_>| match self.known(&rp)
        {
            Some(r) => results.push(r),
            None if self.act => queue.push_back((rp, 0, None)),
            None => results.push(item(&rp, Outcome::Planned)),
        };
        for rp in first {
            take(rp, &mut results, &mut queue);
        }
        let mut last_errors: HashMap<TapeArn, AwsError> = HashMap::new();
        let mut stopped_by: Option<AwsError> = None;
        let mut listing_failed = None;
        let mut listing_complete = true;
        let mut halted_at: Option<Instant> = None;
        let mut last_done_at = None;
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < self.ceiling && !self.halted(stopped_by.is_some()) {
                let Some((rp, requeues, not_before)) = queue.pop_front() else { break };
                in_flight.push(async move {
                    if let Some(t) = not_before {
                        tokio::time::sleep_until(t).await;
                    }
                    (self.attempt(rp).await, requeues)
                });
            }
            let halted = self.halted(stopped_by.is_some());
            if halted && in_flight.is_empty() {
                let since = *halted_at.get_or_insert_with(Instant::now);
                if since.elapsed() >= LISTING_AFTER_STOP && listing.as_ref().is_some_and(|l| !l.is_done()) {
                    tracing::warn!("stopped reading the listing: the run has stopped");
                    listing = None;
                    listing_complete = false;
                }
            }
            let reading = listing.as_ref().is_some_and(|l| !l.is_done());
            tokio::select! {
                page = async { listing.as_mut()?.next().await }, if reading => match page {
                    None => {}
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "the listing of tape recovery points failed part way");
                        listing_failed = Some(e);
                        listing_complete = false;
                        listing = None;
                    }
                    Some(Ok(points)) => {
                        for rp in points {
                            take(rp, &mut results, &mut queue);
                        }
                    }
                },
                next = in_flight.next(), if !in_flight.is_empty() => match next {
                    None => {}
                    Some((Attempt::Done(r), _)) => {
                        if let (Some(l), Ok(t)) = (listing.as_mut(), TapeArn::parse("TapeARN", &r.arn)) {
                            l.retrieved(&t);
                        }
                        last_done_at = Some(Instant::now());
                        results.push(r);
                    }
                    Some((Attempt::Retry(rp, e), requeues)) if requeues < MAX_REQUEUES && !self.budget.expired() => {
                        let pause = Duration::from_millis(500 << requeues).min(Duration::from_secs(8));
                        tracing::info!(tape = rp.tape.barcode(), error = %e, requeues, "retrying a tape later");
                        last_errors.insert(rp.tape.clone(), e);
                        queue.push_back((rp, requeues + 1, Some(Instant::now() + pause)));
                    }
                    Some((Attempt::Retry(rp, e), _)) if self.budget.expired() => {
                        last_errors.insert(rp.tape.clone(), e);
                        queue.push_back((rp, 0, None));
                    }
                    Some((Attempt::Retry(rp, e), _)) => {
                        results.push(ItemResult::failed(rp.tape.barcode(), rp.tape.as_str(), &e).at(at(&rp)));
                    }
                    Some((Attempt::NotYet(rp, e), requeues)) => {
                        if let Some(e) = e {
                            last_errors.insert(rp.tape.clone(), e);
                        }
                        queue.push_back((rp, requeues, None));
                    }
                    Some((Attempt::Stop(r, e), _)) => {
                        tracing::error!(error = %e, "the standby cannot take more tapes in this run; stopping");
                        results.push(r);
                        stopped_by.get_or_insert(e);
                    }
                },
                else => break,
            }
        }
        // What is left was not (or not again) tried before the run stopped.
        for (rp, _, _) in queue {
            let r = item(&rp, Outcome::Pending);
            results.push(match last_errors.get(&rp.tape) {
                Some(e) if e.kind == ErrorKind::Throttled => {
                    r.note(format!("throttled until the run ran out of time ({e}); the next slice goes on"))
                }
                Some(e) => r.note(format!("waiting for another try when the run stopped; last error: {e}")),
                None => r,
            });
        }
        Retrieved { results, stopped_by, listing_failed, listing_complete, last_done_at }
    }

    async fn attempt(&self, rp: TapeRecoveryPoint) -> Attempt {
        if self.budget.expired() || (self.lease_lost)() {
            return Attempt::NotYet(rp, None);
        }
        let (id, arn) = (rp.tape.barcode().to_owned(), rp.tape.as_str().to_owned());
        let r = self
            .pacer
            .call(Retry::Throttles, self.budget.stop_at(), || self.gateway.retrieve_tape(&rp.tape, self.standby))
            .await;
        let e = match r {
            Ok(()) => return Attempt::Done(item(&rp, Outcome::Done)),
            Err(e) => e,
        };
        // A throttle is "not yet": the pacer waited it out until the budget ended.
        if e.kind == ErrorKind::Throttled {
            return Attempt::NotYet(rp, Some(e));
        }
        if e.stops_the_run() {
            return Attempt::Stop(ItemResult::failed(&id, &arn, &e).at(at(&rp)), e);
        }
        // The call may have failed after AWS applied it (an answer lost on the way back,
        // then a retry refused as a repeat): the standby says whether the tape is there.
        // It was not when the run started, and the lease keeps other runs away, so this
        // run retrieved it.
        let found = self
            .pacer
            .call(Retry::Idempotent, self.budget.finish_by(), || {
                self.gateway.find_tapes(self.standby, std::slice::from_ref(&rp.tape))
            })
            .await;
        match found {
            Ok(tapes) if tapes.iter().any(|t| t.tape == rp.tape) => {
                Attempt::Done(item(&rp, Outcome::Done).note(format!(
                    "RetrieveTapeRecoveryPoint answered {} (its first answer was lost), and the standby has the tape",
                    e.code.as_deref().unwrap_or("an error")
                )))
            }
            _ if e.kind.retryable() => Attempt::Retry(rp, e),
            _ => Attempt::Done(ItemResult::failed(&id, &arn, &e).at(at(&rp))),
        }
    }
}
