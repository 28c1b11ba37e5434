//! What the monitor does about what it saw, region by region: the guard first (a hold must
//! be in the ledger before any hand-off it covers), then each gateway's debounce, written
//! only on a change and with compare-and-set, so two sweeps at once hand off once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::debounce::{Action, Change, Health, decide};
use super::guard::RegionHealth;
use super::probe::Observation;
use super::run::Sweep;
use super::summary::{GatewayResult, HoldView, MonitorSummary};
use crate::handoff::{GATEWAY_OFFLINE, GatewayOffline, Message, Reprobe};
use crate::ledger::{self, Hold, Stored, SweepRecord, Watch, WatchState, fleet_pk, region_pk};
use crate::model::GatewayKind;
use crate::pacing::Retry;
use crate::ports::{AwsError, Clock, Condition, Key, Ledger, Notifier, Publication, Queue, StorageGateway, Written};
use crate::time::{rfc3339, rfc3339_ms};

/// How much of the fleet the run saw.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scope {
    /// Every watched gateway of the region was probed: the guard may lift a hold.
    pub whole_fleet: bool,
}

/// A region's state in the ledger.
pub(super) struct RegionState {
    pub watches: HashMap<String, Stored<Watch>>,
    pub holds: Vec<Stored<Hold>>,
    pub sweep: Option<Stored<SweepRecord>>,
}

pub(super) fn watch_key(region: &str, gateway: &str) -> Key {
    Key::new(fleet_pk(region), format!("gateway#{gateway}"))
}

pub(super) fn view(h: &Hold) -> HoldView {
    HoldView {
        id: h.id.clone(),
        region: h.region.clone(),
        reason: h.reason.clone(),
        since: rfc3339_ms(h.since),
        offline: h.offline,
        watched: h.watched,
        state: if h.active() { "active" } else { "released" },
    }
}

impl<G: StorageGateway, N: Notifier, L: Ledger, Q: Queue, C: Clock> Sweep<'_, G, N, L, Q, C> {
    /// The region's debounce items, holds and last sweep, in two queries.
    pub(super) async fn region_state(&self, region: &str) -> Result<RegionState, AwsError> {
        let (l, until) = (self.m.ledger, self.budget.stop_at());
        let fleet = fleet_pk(region);
        let regional = region_pk(region);
        let (fleet_items, holds) = tokio::join!(
            self.aux.call(Retry::Idempotent, until, || l.query(&fleet, "")),
            self.aux.call(Retry::Idempotent, until, || ledger::load_all::<Hold>(l, &regional, "hold#")),
        );
        let mut watches = HashMap::new();
        let mut sweep = None;
        for item in fleet_items? {
            let key = item.key.clone();
            let version = item.version;
            let body = serde_json::Value::Object(item.body);
            if key.sk == "sweep" {
                sweep = serde_json::from_value(body).ok().map(|value| Stored { key, value, version });
            } else if let Some(gateway) = key.sk.strip_prefix("gateway#") {
                if let Ok(value) = serde_json::from_value::<Watch>(body) {
                    watches.insert(gateway.to_owned(), Stored { key: key.clone(), value, version });
                }
            }
        }
        Ok(RegionState { watches, holds: holds?, sweep })
    }

    pub(super) async fn act(&self, summary: &mut MonitorSummary, observations: Vec<Observation>, scope: Scope) {
        let mut by_region: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
        let mut results = Vec::new();
        // What was seen of the gateways that are not watched.
        let mut unwatched = HashMap::new();
        for o in observations {
            if o.watched {
                by_region.entry(o.arn.region().to_owned()).or_default().push(o);
            } else {
                unwatched.insert(o.arn.to_string(), o.health);
                results.push(self.result(&o, Change::Steady, None));
            }
        }
        for (region, observed) in by_region {
            let state = match self.region_state(&region).await {
                Ok(s) => s,
                Err(e) => {
                    // Without the ledger there is no debounce: report, and change nothing.
                    let why = format!("the ledger could not be read for region {region}, so nothing was acted on: {e}");
                    summary.errors.push(why.clone());
                    summary.failure.get_or_insert(why);
                    results.extend(observed.iter().map(|o| self.result(o, Change::Steady, None)));
                    continue;
                }
            };
            let health = self.region_health(&observed, &state, scope);
            let unhealthy: Vec<String> = observed
                .iter()
                .filter(|o| matches!(o.health, Health::Offline | Health::Unknown))
                .map(|o| o.arn.to_string())
                .collect();
            let guard = self.guard(&region, health, &unhealthy, &state.holds, scope, summary).await;
            let last_sweep = state.sweep.as_ref().map(|s| s.value.at);
            for o in &observed {
                let watch = state.watches.get(o.arn.as_str());
                results.push(self.act_one(o, watch, last_sweep, &guard.active, &mut summary.resumed).await);
            }
            if scope.whole_fleet {
                self.forget(&state, &observed, &unwatched, summary).await;
            }
            if !guard.lifted.is_empty() {
                self.resume(&region, &guard.lifted, &guard.active, summary).await;
            }
            if scope.whole_fleet {
                let record = SweepRecord { at: self.now, watched: health.watched, offline: health.unhealthy };
                let key = Key::new(fleet_pk(&region), "sweep");
                let version = state.sweep.as_ref().map(|s| s.version);
                let l = self.m.ledger;
                if let Err(e) = self
                    .aux
                    .call(Retry::Idempotent, self.budget.finish_by(), || {
                        ledger::upsert(l, &key, &record, version, None)
                    })
                    .await
                {
                    summary.errors.push(format!("the sweep could not be recorded in the ledger: {e}"));
                }
            }
            summary.holds.extend(guard.shown.iter().map(view));
        }
        summary.tally(results);
        if summary.failure.is_none() {
            summary.failure = summary.gateways.iter().find_map(|g| match (&g.change, &g.error) {
                // A new hand-off, or a lost one published again.
                (Change::StillSuspected { .. } | Change::AlreadyHandedOff, Some(e)) if e.contains("Publish") => {
                    Some(format!("the hand-off of {} could not be published: {e}", g.gateway_id))
                }
                _ => None,
            });
        }
    }

    /// After a sweep of the whole fleet: the debounce items of gateways gone for good go,
    /// so a later partial run (an alarm, a re-probe), which weighs the region from the
    /// ledger, does not count them as offline. Gone for good: disabled (most often by its
    /// own recovery) or deleted, so no longer watched, or missing from a complete
    /// `ListGateways`. (A watched one is cleared by its own debounce.) Any other gateway
    /// keeps its item: one probed directly may be watched that way.
    async fn forget(
        &self,
        state: &RegionState,
        observed: &[Observation],
        unwatched: &HashMap<String, Health>,
        summary: &mut MonitorSummary,
    ) {
        let l = self.m.ledger;
        let listed_all = self.m.config.gateway_arns.is_none();
        for (arn, w) in &state.watches {
            let gone = match unwatched.get(arn) {
                Some(h) => matches!(h, Health::Disabled | Health::Gone),
                None => listed_all && !observed.iter().any(|o| o.arn.as_str() == arn),
            };
            if !gone {
                continue;
            }
            let condition = Condition::Version(w.version);
            match self.aux.call(Retry::Idempotent, self.budget.stop_at(), || l.delete(&w.key, &condition)).await {
                Ok(_) => tracing::info!(gateway = arn, "disabled or deleted: its debounce item goes"),
                Err(e) => summary.errors.push(format!("{arn}: could not remove its debounce item: {e}")),
            }
        }
    }

    /// The region as the guard weighs it: the whole fleet's probes, or, for a partial run
    /// (an alarm, a re-probe), the ledger's view updated by what this run saw.
    fn region_health(&self, observed: &[Observation], state: &RegionState, scope: Scope) -> RegionHealth {
        if scope.whole_fleet {
            return RegionHealth {
                watched: observed.len(),
                unhealthy: observed.iter().filter(|o| matches!(o.health, Health::Offline | Health::Unknown)).count(),
            };
        }
        let mut unhealthy: BTreeSet<&str> = state.watches.keys().map(String::as_str).collect();
        for o in observed {
            match o.health {
                Health::Offline | Health::Unknown => {
                    unhealthy.insert(o.arn.as_str());
                }
                _ => {
                    unhealthy.remove(o.arn.as_str());
                }
            }
        }
        let watched = state.sweep.as_ref().map_or(0, |s| s.value.watched).max(unhealthy.len()).max(observed.len());
        RegionHealth { watched, unhealthy: unhealthy.len() }
    }

    fn result(&self, o: &Observation, change: Change, watch: Option<&Watch>) -> GatewayResult {
        GatewayResult {
            gateway_id: o.arn.id().to_owned(),
            gateway_arn: o.arn.to_string(),
            name: o.name.clone(),
            health: o.health,
            change,
            offline_since: watch.map(|w| rfc3339(w.offline_since)),
            held_by: watch.and_then(|w| w.held_by.clone()),
            error: o.error.clone(),
            watched: o.watched,
        }
    }

    /// One gateway's debounce, acted on. A lost hand-off published again is added to
    /// `resumed`.
    async fn act_one(
        &self,
        o: &Observation,
        watch: Option<&Stored<Watch>>,
        last_sweep: Option<i64>,
        holds: &[Hold],
        resumed: &mut Vec<String>,
    ) -> GatewayResult {
        let grace = self.m.config.grace.as_secs();
        let (action, change) = decide(o.health, watch.map(|w| &w.value), self.now, grace);
        let region = o.arn.region();
        let key = watch_key(region, o.arn.as_str());
        let (l, until) = (self.m.ledger, self.budget.stop_at());
        let mut r = self.result(o, change, watch.map(|w| &w.value));
        match action {
            Action::None => {}
            Action::Suspect => {
                let due = self.now + i64::try_from(grace).unwrap_or(i64::MAX);
                let value = Watch {
                    gateway_arn: o.arn.to_string(),
                    name: o.name.clone().unwrap_or_else(|| o.arn.id().to_owned()),
                    kind: o.kind.unwrap_or(GatewayKind::Tape),
                    state: WatchState::Suspected,
                    offline_since: self.now,
                    // It had no debounce item: the last sweep saw it online.
                    last_seen_online: last_sweep.filter(|_| watch.is_none()),
                    outage_id: None,
                    handed_off_at: None,
                    published: false,
                    held_by: None,
                    reprobe_at: self.m.queue.map(|_| due),
                };
                r.offline_since = Some(rfc3339(self.now));
                let written = self
                    .aux
                    .call(Retry::Idempotent, until, || ledger::upsert(l, &key, &value, watch.map(|w| w.version), None))
                    .await;
                match written {
                    Ok(Written::Done) => {
                        if let Err(e) = self.send_reprobe(&Reprobe::new(&o.arn, due), due - self.now).await {
                            r.error =
                                Some(format!("the re-probe could not be queued (the next sweep decides instead): {e}"));
                        }
                    }
                    // Another sweep recorded it first.
                    Ok(Written::Conflict) => {}
                    Err(e) => r.error = Some(format!("could not record it as suspected: {e}")),
                }
            }
            Action::Clear => {
                if let Some(w) = watch {
                    let condition = Condition::Version(w.version);
                    if let Err(e) = self.aux.call(Retry::Idempotent, until, || l.delete(&key, &condition)).await {
                        r.error = Some(format!("could not clear its debounce item: {e}"));
                    }
                }
            }
            Action::HandOff { .. } | Action::Republish => {
                let Some(w) = watch else { return r };
                match self.hand_off(o, w, holds.first().map(|h| h.id.clone())).await {
                    Ok(Some(held)) => {
                        r.held_by = held;
                        if action == Action::Republish {
                            resumed.push(o.arn.id().to_owned());
                        }
                    }
                    Ok(None) => r.change = Change::AlreadyHandedOff,
                    Err(e) => {
                        r.error = Some(e.to_string());
                        if matches!(r.change, Change::NewlyFailed) {
                            // Not handed off: the claim stays unpublished and a later sweep
                            // publishes it again.
                            r.change = Change::StillSuspected { for_secs: self.now - w.value.offline_since };
                        }
                    }
                }
            }
        }
        r
    }

    /// Claims the hand-off (compare-and-set on the debounce item), publishes it, marks it
    /// published. Answers the hold it went out under (`Some(None)`: none), or `None` when
    /// another sweep claimed it first.
    async fn hand_off(
        &self,
        o: &Observation,
        w: &Stored<Watch>,
        held_by: Option<String>,
    ) -> Result<Option<Option<String>>, AwsError> {
        let (l, until) = (self.m.ledger, self.budget.stop_at());
        let outage =
            w.value.outage_id.clone().unwrap_or_else(|| format!("{}@{}", o.arn.id(), rfc3339(w.value.offline_since)));
        let claim = Watch {
            state: WatchState::HandedOff,
            outage_id: Some(outage),
            handed_off_at: Some(self.now),
            published: false,
            held_by,
            ..w.value.clone()
        };
        let written =
            self.aux.call(Retry::Idempotent, until, || ledger::replace(l, &w.key, &claim, w.version, None)).await?;
        if written == Written::Conflict {
            return Ok(None);
        }
        self.publish_hand_off(o, &claim).await?;
        let published = Watch { published: true, ..claim.clone() };
        if let Err(e) = self
            .aux
            .call(Retry::Idempotent, self.budget.finish_by(), || {
                ledger::replace(l, &w.key, &published, w.version + 1, None)
            })
            .await
        {
            // A later sweep publishes it again; recover-gateway knows the outage id.
            tracing::warn!(error = %e, gateway = %o.arn, "the hand-off went out but could not be marked published");
        }
        if claim.held_by.is_none() {
            self.alert_failed(o, &claim).await;
        }
        Ok(Some(claim.held_by))
    }

    /// The hand-off message, to the recovery topic.
    pub(super) async fn publish_hand_off(&self, o: &Observation, w: &Watch) -> Result<(), AwsError> {
        let kind = o.kind.unwrap_or(w.kind);
        let name = o.name.clone().unwrap_or_else(|| w.name.clone());
        let mut message = GatewayOffline::new(&o.arn, &name, kind, &rfc3339(w.offline_since), &rfc3339(self.now));
        if let Some(id) = &w.outage_id {
            message.outage_id = id.clone();
        }
        message.held_by = w.held_by.clone();
        message.last_seen_online = w.last_seen_online.map(rfc3339);
        let publication = Publication {
            topic: self.m.config.recovery_topic.clone(),
            subject: None,
            body: Message::GatewayOffline(message).to_json(),
            attributes: vec![("type".into(), GATEWAY_OFFLINE.into()), ("gatewayId".into(), o.arn.id().to_owned())],
        };
        self.aux
            .call(Retry::Idempotent, self.budget.stop_at(), || self.m.notifier.publish(&publication))
            .await
            .map(|_| ())
    }

    /// After holds were lifted: the hand-offs they held go out again, so the recoveries
    /// run under the normal policy (unless another hold still covers the region).
    pub(super) async fn resume(&self, region: &str, lifted: &[String], still: &[Hold], summary: &mut MonitorSummary) {
        let state = match self.region_state(region).await {
            Ok(s) => s,
            Err(e) => {
                summary.errors.push(format!("held hand-offs could not be resumed (the ledger could not be read): {e}"));
                return;
            }
        };
        let l = self.m.ledger;
        for w in state.watches.values() {
            let Some(held) = &w.value.held_by else { continue };
            if w.value.state != WatchState::HandedOff || !lifted.contains(held) {
                continue;
            }
            let held_by = still.first().map(|h| h.id.clone());
            let next = Watch {
                held_by: held_by.clone(),
                handed_off_at: Some(self.now),
                published: held_by.is_some(),
                ..w.value.clone()
            };
            match self
                .aux
                .call(Retry::Idempotent, self.budget.stop_at(), || ledger::replace(l, &w.key, &next, w.version, None))
                .await
            {
                Ok(Written::Done) if held_by.is_none() => {}
                Ok(_) => continue,
                Err(e) => {
                    summary.errors.push(format!("{}: could not resume its hand-off: {e}", w.value.gateway_arn));
                    continue;
                }
            }
            let Ok(arn) = crate::arn::GatewayArn::parse("ledger", &w.value.gateway_arn) else { continue };
            let o = Observation {
                arn,
                name: Some(w.value.name.clone()),
                kind: Some(w.value.kind),
                health: Health::Offline,
                watched: true,
                error: None,
            };
            match self.publish_hand_off(&o, &next).await {
                Ok(()) => {
                    let published = Watch { published: true, ..next.clone() };
                    let _ = self
                        .aux
                        .call(Retry::Idempotent, self.budget.finish_by(), || {
                            ledger::replace(l, &w.key, &published, w.version + 1, None)
                        })
                        .await;
                    summary.resumed.push(o.arn.id().to_owned());
                }
                Err(e) => {
                    summary.errors.push(format!("{}: the resumed hand-off could not be published: {e}", o.arn.id()))
                }
            }
        }
    }

    /// A gateway is being recovered: one readable alert, not held.
    async fn alert_failed(&self, o: &Observation, w: &Watch) {
        let publication = super::alerts::gateway_failed(self.m.config, o, w, self.now);
        if let Err(e) =
            self.aux.call(Retry::Idempotent, self.budget.finish_by(), || self.m.notifier.publish(&publication)).await
        {
            tracing::warn!(error = %e, gateway = %o.arn, "the alert could not be published; the hand-off was");
        }
    }
}
