//! The tape path: check the standby, pass the interlock, take the lease, disable the
//! failed gateway (if needed and allowed), retrieve every tape not on the standby, confirm
//! each on the standby, conclude.
//!
//! When the standby is empty it has room for any tape gateway's tapes (a tape gateway holds
//! at most 1,500), so retrieval starts with the first page of recovery points and the rest
//! of the listing is read while tapes are retrieved. Otherwise (a rerun, a shared standby,
//! a dry run, a run that may need approval) the whole listing is read first, so the room
//! check is exact and the report lists every tape before anything changes.

mod listing;
mod retrieve;
mod verify;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::json;

use listing::{Listing, OpenAt};
use retrieve::{Retrieval, Retrieved};

use super::conclude::{Ending, Items};
use super::disable::{Purpose, record_of};
use super::interlock::{AutoDisableTag, DisableDecision, Need, Weighed, decide};
use super::observe::{Observed, find_gateway};
use super::report::{DisableRecord, GatewayRef, ItemResult, Outcome, Status};
use super::run::{Draft, Run, hold_refs};
use super::standby::{self, Unusable};
use crate::arn::{GatewayArn, TapeArn};
use crate::ledger::{self, Inventory, gateway_pk};
use crate::model::{GatewayKind, Tags, TapeRecoveryPoint, TapeStatus, tag};
use crate::pacing::{Pages, Retry};
use crate::ports::{AwsError, Clock, Key, Ledger, Notifier, StorageGateway};
use crate::time::rfc3339_ms;

fn tag_of(tags: &Tags) -> AutoDisableTag {
    match tags.get(tag::AUTO_DISABLE).map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if v == "true" => AutoDisableTag::Yes,
        Some(_) => AutoDisableTag::No,
        None => AutoDisableTag::Unset,
    }
}

fn refused(d: Draft, u: Unusable) -> Draft {
    let mut d = d.end(Status::Refused, u.why);
    d.retryable = u.retryable;
    d
}

fn tape_arn_of(gateway: &GatewayArn, barcode: &str) -> Option<TapeArn> {
    let arn =
        format!("arn:{}:storagegateway:{}:{}:tape/{barcode}", gateway.partition(), gateway.region(), gateway.account());
    TapeArn::parse("inventory", &arn).ok()
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    pub(super) async fn recover_tapes(&self, mut d: Draft, o: &Observed, disabled: bool) -> Draft {
        let failed = &self.req.failed;
        let config = self.rec.config;
        let tags = o.tags.as_ref().cloned().unwrap_or_default();
        let standby =
            match standby::resolve(self.req.standby.as_ref(), &tags, config.standby.as_ref(), "STANDBY_GATEWAY_ARN") {
                Ok(s) => s,
                Err(why) => return d.end(Status::Refused, why),
            };
        d.standby_ref =
            Some(GatewayRef { arn: standby.to_string(), id: standby.id().to_owned(), name: None, kind: None });
        if standby == *failed {
            return d.end(Status::Refused, "the standby gateway is the failed gateway itself");
        }
        // The standby, its tapes, the inventory and the first page of recovery points, at once.
        let (sg, until) = (self.rec.gateway, self.budget.stop_at());
        let open: OpenAt<'_> = Arc::new(move |from| sg.tape_recovery_points(failed, from));
        let mut listing = Listing::new(&self.sgw, until, open);
        let inventory_key = Key::new(gateway_pk(failed), "inventory");
        let (described, standby_tapes, first, inventory) = tokio::join!(
            self.sgw.call(Retry::Idempotent, until, || sg.describe_gateway(&standby)),
            crate::pacing::all(&self.sgw, until, Box::new(|from| sg.gateway_tapes(&standby, from))),
            listing.next(),
            self.aux.call(Retry::Idempotent, until, || ledger::load::<Inventory>(self.rec.ledger, &inventory_key)),
        );
        if let Ok(info) = &described {
            if let Some(s) = d.standby_ref.as_mut() {
                s.name = Some(info.name.clone());
                s.kind = Some(info.kind);
            }
        }
        if let Err(u) = standby::check(&standby, failed, GatewayKind::Tape, &described) {
            return refused(d, u);
        }
        let on_standby: HashMap<TapeArn, TapeStatus> = match standby_tapes {
            Ok(t) => t.into_iter().map(|t| (t.tape, t.status)).collect(),
            Err(e) => return d.not_yet_or_error("could not list the standby's tapes", &e),
        };
        let mut first: Vec<TapeRecoveryPoint> = match first {
            None => vec![],
            Some(Ok(p)) => p,
            Some(Err(e)) => return d.not_yet_or_error("could not list the tape recovery points", &e),
        };
        let inventory = inventory.ok().flatten().map(|s| s.value);
        if let Some(inv) = &inventory {
            d.last_writes =
                inv.tapes.iter().filter_map(|t| Some((t.barcode.clone(), t.last_write_seen? / 1000))).collect();
        }
        let holds: Vec<_> =
            o.holds.as_ref().map(|h| h.iter().filter(|h| h.active()).cloned().collect()).unwrap_or_default();
        let policy_only = |need| Weighed {
            policy: config.disable_policy,
            tag: tag_of(&tags),
            approval: &self.req.approval,
            already_disabled: disabled,
            need,
            holds: &holds,
            cap_left: None,
        };
        // Stream the listing only when the standby has room for anything (it is empty)
        // and the run will act right away.
        let will_act = matches!(
            decide(&policy_only(Need::Tapes(1))),
            DisableDecision::Allowed { .. } | DisableDecision::AlreadyDisabled
        );
        let stream = on_standby.is_empty() && !self.req.dry_run && will_act && !first.is_empty();
        if !stream {
            match listing.rest().await {
                Ok(rest) => first.extend(rest),
                Err(e) => return d.not_yet_or_error("could not list the tape recovery points", &e),
            }
        }
        let earlier: HashSet<String> = d.progress.retrieved_tapes.iter().cloned().collect();
        let to_retrieve = first.iter().filter(|rp| !on_standby.contains_key(&rp.tape)).count();
        // No recovery point listed, on a gateway that is not disabled: AWS may show them
        // only once it is (undocumented). The gateway's own tapes say whether there are any.
        let need = if first.is_empty() && listing.is_done() && !disabled {
            match self.known_tapes(failed, inventory.as_ref()).await {
                Ok(known) if !known.is_empty() => Need::HiddenTapes(known.len()),
                Ok(_) => Need::Nothing,
                Err(e) => return d.not_yet_or_error("could not list the gateway's tapes (ListTapes)", &e),
            }
        } else if to_retrieve == 0 && listing.is_done() {
            Need::Nothing
        } else {
            Need::Tapes(to_retrieve.max(1))
        };
        if listing.is_done() {
            if let Err(u) = standby::tape_room(&standby, on_standby.len(), need.tapes()) {
                return refused(d, u);
            }
        }
        let decision = decide(&policy_only(need));
        d.disable = Some(record_of(&decision, self.req.dry_run));
        let approve = |holds: &[crate::ledger::Hold]| {
            json!({
                "failedGatewayArn": failed.as_str(),
                "standbyGatewayArn": standby.as_str(),
                "approveDisable": true,
                "overrideHolds": holds.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
            })
        };
        let hidden = matches!(need, Need::HiddenTapes(_));
        if self.req.dry_run {
            let retrieval = self.retrieval(&standby, &on_standby, &earlier, false);
            let planned = retrieval.run(first, None).await;
            d.tapes = planned.results;
            let n = d.tapes.iter().filter(|t| t.outcome == Outcome::Planned).count();
            let already = d.tapes.len() - n;
            let mut summary = format!(
                "dry run: {n} tapes would be retrieved to {}, {already} are there already; nothing was changed",
                standby.id()
            );
            if let Need::HiddenTapes(known) = need {
                summary = format!(
                    "dry run: no recovery point is listed, but recovery points may appear only once the gateway is disabled: {known} tapes known; nothing was changed"
                );
            }
            return d.end(Status::DryRun, summary);
        }
        match &decision {
            DisableDecision::Held(held) => {
                d.holds = hold_refs(held);
                d.approval = Some(approve(held));
                d.tapes = self.retrieval(&standby, &on_standby, &earlier, false).run(first, None).await.results;
                for t in &mut d.tapes {
                    if t.outcome == Outcome::Planned {
                        t.outcome = Outcome::Pending;
                    }
                }
                return d.end(
                    Status::AwaitingApproval,
                    format!(
                        "held: {}; no gateway in region {} is disabled without an operator while the hold is active",
                        held[0].reason,
                        failed.region()
                    ),
                );
            }
            DisableDecision::NeedsApproval(why) => {
                d.approval = Some(approve(&[]));
                d.tapes = self.retrieval(&standby, &on_standby, &earlier, false).run(first, None).await.results;
                for t in &mut d.tapes {
                    if t.outcome == Outcome::Planned {
                        t.outcome = Outcome::Pending;
                    }
                }
                let what = if hidden {
                    format!(
                        "{} tapes are known (no recovery point is listed until the gateway is disabled)",
                        need.tapes()
                    )
                } else {
                    format!("{} tapes can be recovered once the gateway is disabled", need.tapes())
                };
                return d.end(
                    Status::AwaitingApproval,
                    format!("{what}; DisableGateway is irreversible and needs approval: {why}"),
                );
            }
            DisableDecision::NotNeeded => {
                d.tapes = self.retrieval(&standby, &on_standby, &earlier, false).run(first, None).await.results;
                return self.tapes_done(d, &standby, &on_standby).await;
            }
            DisableDecision::AlreadyDisabled | DisableDecision::Allowed { .. } => {}
        }
        if self.budget.expired() {
            let d = d.end(Status::Continued, "out of time before anything was changed; the next slice goes on");
            return self.settle_untouched(d).await;
        }
        let lease = match self.take_lease(o).await {
            Ok(l) => l,
            Err(stop) => return stop.apply(d),
        };
        // Another run worked on the gateway since the first look: look again at what it
        // may have changed (the standby's tapes, whether the gateway is disabled).
        let (mut on_standby, mut decision) = (on_standby, decision);
        if !lease.fresh() {
            let (standby_tapes, summary) = tokio::join!(
                crate::pacing::all(&self.sgw, until, Box::new(|from| sg.gateway_tapes(&standby, from))),
                find_gateway(sg, &self.sgw, until, failed),
            );
            match standby_tapes {
                Ok(t) => on_standby = t.into_iter().map(|t| (t.tape, t.status)).collect(),
                Err(e) => {
                    lease.release().await;
                    return d.not_yet_or_error("could not list the standby's tapes", &e);
                }
            }
            if matches!(summary, Ok(Some(ref s)) if s.disabled) {
                decision = DisableDecision::AlreadyDisabled;
            }
        }
        let work = async {
            if let DisableDecision::Allowed { why, automatic } = &decision {
                let purpose = Purpose {
                    why,
                    automatic: *automatic,
                    standby: &standby,
                    tapes: need.tapes(),
                    tapes_complete: listing.is_done(),
                };
                match self.disable(o, &lease, &purpose).await {
                    Ok(at) => {
                        d.disable = Some(DisableRecord { at: Some(rfc3339_ms(at)), ..record_of(&decision, false) });
                        d.progress.disabled_at = Some(rfc3339_ms(at));
                    }
                    Err(stop) => return stop.apply(d),
                }
            }
            let mut listing = listing;
            if hidden {
                // Now that the gateway is disabled, its recovery points may be listed.
                let open: OpenAt<'_> = Arc::new(move |from| sg.tape_recovery_points(failed, from));
                listing = Listing::new(&self.sgw, until, open);
                first = vec![];
            }
            let retrieval = self.retrieval(&standby, &on_standby, &earlier, true);
            let lost = || lease.lost();
            let retrieval = Retrieval { lease_lost: &lost, ..retrieval };
            let outcome = retrieval.run(first, (!listing.is_done()).then_some(&mut listing)).await;
            let known: HashSet<TapeArn> =
                inventory.iter().flat_map(|i| &i.tapes).filter_map(|t| tape_arn_of(failed, &t.barcode)).collect();
            let end = TapeEnd {
                retrieved: outcome,
                standby: &standby,
                on_standby: &on_standby,
                known: &known,
                lease_lost: lease.lost(),
            };
            self.finish_tapes(d, end).await
        };
        let d = lease.keep(Box::pin(work)).await;
        lease.release().await;
        d
    }

    fn retrieval<'s>(
        &'s self,
        standby: &'s GatewayArn,
        on_standby: &'s HashMap<TapeArn, TapeStatus>,
        earlier: &'s HashSet<String>,
        act: bool,
    ) -> Retrieval<'s, G> {
        Retrieval {
            gateway: self.rec.gateway,
            pacer: &self.sgw,
            budget: &self.budget,
            standby,
            on_standby,
            earlier,
            ceiling: self.rec.config.max_concurrency,
            lease_lost: &|| false,
            act,
        }
    }

    /// The failed gateway's tapes as AWS or the ledger knows them: `ListTapes` (which
    /// works while the gateway is offline) and the last inventory.
    async fn known_tapes(
        &self,
        failed: &GatewayArn,
        inventory: Option<&Inventory>,
    ) -> Result<HashSet<TapeArn>, AwsError> {
        let sg = self.rec.gateway;
        let mut known: HashSet<TapeArn> =
            inventory.into_iter().flat_map(|i| &i.tapes).filter_map(|t| tape_arn_of(failed, &t.barcode)).collect();
        let listed =
            Pages::new(&self.sgw, self.budget.stop_at(), Box::new(move |from| sg.list_tapes(from))).rest().await?;
        known.extend(listed.into_iter().filter(|t| t.gateway.as_ref() == Some(failed)).map(|t| t.tape));
        Ok(known)
    }

    /// Out of time before anything was changed: the next slice goes on.
    async fn settle_untouched(&self, d: Draft) -> Draft {
        match self.continue_later(&d).await {
            Ok(id) => {
                let summary = format!("{} (continuation {id})", d.summary);
                let mut d = d.end(Status::Continued, summary);
                d.continued = true;
                d
            }
            Err(e) => {
                let mut d = d.end(
                    Status::Partial,
                    format!("out of time, and the continuation could not be published ({e}); run again"),
                );
                d.retryable = true;
                d
            }
        }
    }

    /// Nothing to retrieve: confirm what is on the standby, conclude.
    async fn tapes_done(&self, mut d: Draft, standby: &GatewayArn, on_standby: &HashMap<TapeArn, TapeStatus>) -> Draft {
        let results = std::mem::take(&mut d.tapes);
        let retrieved =
            Retrieved { results, stopped_by: None, listing_failed: None, listing_complete: true, last_done_at: None };
        let known = HashSet::new();
        let end = TapeEnd { retrieved, standby, on_standby, known: &known, lease_lost: false };
        self.finish_tapes(d, end).await
    }

    /// After the retrieval: account for known tapes with no recovery point, confirm every
    /// tape on the standby, conclude.
    async fn finish_tapes(&self, mut d: Draft, end: TapeEnd<'_>) -> Draft {
        let mut results = end.retrieved.results;
        for r in &results {
            if r.outcome == Outcome::Done && !d.progress.retrieved_tapes.contains(&r.id) {
                d.progress.retrieved_tapes.push(r.id.clone());
            }
        }
        if end.retrieved.listing_complete {
            let listed: HashSet<String> = results.iter().map(|r| r.arn.clone()).collect();
            let mut missing: Vec<&TapeArn> = end.known.iter().filter(|t| !listed.contains(t.as_str())).collect();
            missing.sort();
            for t in missing {
                let r = match end.on_standby.get(t) {
                    // Retrieved earlier; its recovery point is gone from the listing.
                    Some(_) if d.progress.retrieved_tapes.iter().any(|b| b == t.barcode()) => {
                        ItemResult::new(t.barcode(), t.as_str(), Outcome::Done)
                    }
                    Some(_) => ItemResult::new(t.barcode(), t.as_str(), Outcome::AlreadyDone),
                    None => ItemResult::new(t.barcode(), t.as_str(), Outcome::Manual).note(
                        "no recovery point is listed for this tape, so AWS cannot retrieve it to another gateway; \
                         if it was being written or archived when the gateway failed, its data may be lost",
                    ),
                };
                results.push(r);
            }
        }
        self.confirm_tapes(&mut results, end.standby, end.on_standby).await;
        if let Some(t) = end.retrieved.last_done_at {
            d.last_item_at = Some(self.rec.clock.now() - i64::try_from(t.elapsed().as_secs()).unwrap_or(0));
        }
        d.tapes = results;
        d.listing_complete = end.retrieved.listing_complete;
        if let Some(s) = &d.standby_ref {
            d.next_steps = vec![
                format!(
                    "Point the backup application at the standby's tape library: {} ({}).",
                    s.name.as_deref().unwrap_or(&s.id),
                    s.arn
                ),
                "Inventory the library: AWS warns that recovered tapes can be incomplete or empty; check the tapes listed under recovery point first.".into(),
                format!("Once every tape is checked, delete the failed gateway ({}) so it is not used again.", self.req.failed),
            ];
        }
        let counts = super::report::Counts::of(&d.tapes);
        let failures_retryable = d.tapes.iter().any(|t| t.outcome == Outcome::Failed && t.retryable());
        let ending = Ending {
            items: Items::Tapes,
            counts,
            lease_lost: end.lease_lost,
            stopped_by: end.retrieved.stopped_by.as_ref(),
            listing_failed: end.retrieved.listing_failed.as_ref(),
            failures_retryable,
            can_continue: self.can_continue(),
        };
        self.settle(d, &ending).await
    }

    /// Confirms each recovered tape on the standby: `RECOVERED`, still arriving, or missing.
    async fn confirm_tapes(
        &self,
        results: &mut [ItemResult],
        standby: &GatewayArn,
        on_standby: &HashMap<TapeArn, TapeStatus>,
    ) {
        let mut check = Vec::new();
        for r in results.iter_mut() {
            let Ok(tape) = TapeArn::parse("TapeARN", &r.arn) else { continue };
            match (r.outcome, on_standby.get(&tape)) {
                (Outcome::AlreadyDone, Some(TapeStatus::Recovered)) => r.verified = Some(true),
                (Outcome::Done | Outcome::AlreadyDone, _) => check.push(tape),
                _ => {}
            }
        }
        if check.is_empty() {
            return;
        }
        let wait = self.rec.config.verify_wait.min(self.budget.remaining());
        let found = verify::confirm(self.rec.gateway, &self.sgw, standby, &check, wait, self.budget.finish_by()).await;
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "could not confirm the tapes on the standby; the next slice checks again");
                for r in results.iter_mut().filter(|r| check.iter().any(|t| t.as_str() == r.arn)) {
                    r.verified = Some(false);
                    r.standby_status = Some(format!("not checked: {e}"));
                }
                return;
            }
        };
        for r in results.iter_mut() {
            let Some(status) = TapeArn::parse("TapeARN", &r.arn).ok().and_then(|t| found.get(&t).cloned()) else {
                continue;
            };
            match status {
                Some(TapeStatus::Recovered) => {
                    r.verified = Some(true);
                    r.standby_status = None;
                }
                Some(other) => {
                    r.verified = Some(false);
                    r.standby_status = Some(other.as_api().to_owned());
                }
                None => {
                    r.verified = Some(false);
                    r.outcome = Outcome::Failed;
                    r.error = Some(super::report::ItemError {
                        kind: crate::ports::ErrorKind::Permanent,
                        code: Some("NotOnStandby".into()),
                        message: format!("the tape is not on the standby {} after it was retrieved", standby.id()),
                    });
                }
            }
        }
    }
}

/// How the retrieval ended, and what the conclusion needs with it.
struct TapeEnd<'a> {
    retrieved: Retrieved,
    standby: &'a GatewayArn,
    on_standby: &'a HashMap<TapeArn, TapeStatus>,
    known: &'a HashSet<TapeArn>,
    lease_lost: bool,
}
