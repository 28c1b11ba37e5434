//! Correlated-outage holds: placed by the guard when a region's watched gateways are
//! unhealthy together, or by an open AWS Health event for Storage Gateway; kept in the
//! ledger, where `recover-gateway` reads them right before `DisableGateway`; lifted when
//! the region is healthy again, when the Health event closes, or by an operator. Each hold
//! is announced once, and lifting it lets the hand-offs it held go out again.

use super::act::{Scope, view};
use super::guard::{RegionHealth, correlated};
use super::health::{HealthEvent, HealthStatus};
use super::request::ReleaseHold;
use super::run::Sweep;
use super::summary::{MonitorSummary, Trigger};
use crate::ledger::{self, Hold, HoldKind, HoldRelease, HoldState, Stored, region_pk};
use crate::pacing::Retry;
use crate::ports::{Clock, Condition, Key, Ledger, Notifier, Publication, Queue, StorageGateway, Written};

/// What the guard decided for a region.
pub(super) struct Guarded {
    /// The active holds (automatic disables stop while there is one).
    pub active: Vec<Hold>,
    /// Holds lifted by this run.
    pub lifted: Vec<String>,
    /// The holds to show in the summary (active or released).
    pub shown: Vec<Hold>,
}

/// Longest description quoted from a Health event.
const MAX_REASON: usize = 600;

fn shorten(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_REASON {
        one_line
    } else {
        one_line.chars().take(MAX_REASON - 3).collect::<String>() + "..."
    }
}

impl<G: StorageGateway, N: Notifier, L: Ledger, Q: Queue, C: Clock> Sweep<'_, G, N, L, Q, C> {
    /// The fleet guard for one region: place, update or lift its fleet hold. A hold is
    /// placed when the outage looks correlated, and lifted (by a sweep of the whole fleet)
    /// only once the region is healthy again: fewer gateways unhealthy than
    /// `CORRELATED_MIN_OFFLINE`, failures the guard would never hold for. Gateways coming
    /// back one by one therefore do not lift it half-way, which would hand the stragglers
    /// off to be disabled, and a region hovering around the threshold does not place, lift
    /// and place it again (one alert for the whole event).
    pub(super) async fn guard(
        &self,
        region: &str,
        health: RegionHealth,
        unhealthy: &[String],
        holds: &[Stored<Hold>],
        scope: Scope,
        summary: &mut MonitorSummary,
    ) -> Guarded {
        let l = self.m.ledger;
        let until = self.budget.stop_at();
        let key = Key::new(region_pk(region), Hold::sort_key(&HoldKind::Fleet));
        let fleet = holds.iter().find(|h| h.value.kind == HoldKind::Fleet);
        let mut lifted = Vec::new();
        let mut fleet_now: Option<Hold> = fleet.map(|h| h.value.clone());
        let thresholds = &self.m.config.guard;
        let now_ms = self.now * 1000;
        let reason = format!(
            "{} of {} watched gateways in {region} are offline or unreachable at once: the outage looks correlated (the site, the network, or AWS)",
            health.unhealthy, health.watched
        );
        let healthy = health.unhealthy < thresholds.min_offline;
        match fleet {
            None if correlated(health, thresholds) => {
                let hold = Hold {
                    id: format!("fleet-{region}-{}", self.now),
                    region: region.to_owned(),
                    kind: HoldKind::Fleet,
                    state: HoldState::Active,
                    since: now_ms,
                    reason,
                    offline: health.unhealthy,
                    watched: health.watched,
                    gateways: unhealthy.to_vec(),
                    updated_at: now_ms,
                    alerted: false,
                };
                match self.aux.call(Retry::Idempotent, until, || ledger::create(l, &key, &hold, None)).await {
                    Ok(Written::Done) => {
                        tracing::warn!(region, hold = hold.id, "correlated outage: automatic disables are held");
                        self.announce(&key, hold.clone(), 1, summary).await;
                        fleet_now = Some(hold);
                    }
                    // Another sweep placed it a moment ago.
                    Ok(Written::Conflict) => {
                        fleet_now = ledger::load::<Hold>(l, &key).await.ok().flatten().map(|s| s.value);
                    }
                    Err(e) => summary.errors.push(format!("the correlated-outage hold could not be recorded: {e}")),
                }
            }
            None => {}
            // The outage goes on: an active hold keeps its counts current (a released one
            // stays as it is, so the same event does not hold the region again).
            Some(h) if !healthy => {
                if h.value.active() && (h.value.offline != health.unhealthy || h.value.watched != health.watched) {
                    let mut updated = h.value.clone();
                    updated.offline = health.unhealthy;
                    updated.watched = health.watched;
                    updated.gateways = unhealthy.to_vec();
                    updated.reason = if correlated(health, thresholds) {
                        reason
                    } else {
                        format!(
                            "{} of {} watched gateways in {region} are still offline or unreachable after a correlated outage; the hold stays until fewer than {} are",
                            health.unhealthy, health.watched, thresholds.min_offline
                        )
                    };
                    updated.updated_at = now_ms;
                    if let Ok(Written::Done) = self
                        .aux
                        .call(Retry::Idempotent, until, || ledger::replace(l, &key, &updated, h.version, None))
                        .await
                    {
                        if !updated.alerted {
                            self.announce_again(&key, &updated, h.version + 1, summary).await;
                        }
                        fleet_now = Some(updated);
                    }
                } else if h.value.active() && !h.value.alerted {
                    self.announce_again(&key, &h.value, h.version, summary).await;
                }
            }
            // The region is healthy again (or was released and its event is over).
            Some(h) if scope.whole_fleet => {
                let condition = Condition::Version(h.version);
                if let Ok(Written::Done) = self.aux.call(Retry::Idempotent, until, || l.delete(&key, &condition)).await
                {
                    tracing::info!(region, hold = h.value.id, "the correlated outage is over: the hold is lifted");
                    lifted.push(h.value.id.clone());
                    fleet_now = None;
                    if h.value.active() {
                        let text =
                            format!("{} of {} watched gateways are unhealthy now", health.unhealthy, health.watched);
                        self.notify(super::alerts::hold_lifted(self.m.config, &h.value, &text)).await;
                    }
                }
            }
            Some(_) => {}
        }
        // A Health hold whose alert could not be published: the next event update may be
        // hours away, so every run tries.
        for h in holds.iter().filter(|h| h.value.kind != HoldKind::Fleet && h.value.active() && !h.value.alerted) {
            self.announce_again(&h.key, &h.value, h.version, summary).await;
        }
        let mut shown: Vec<Hold> =
            holds.iter().filter(|h| h.value.kind != HoldKind::Fleet).map(|h| h.value.clone()).collect();
        shown.extend(fleet_now);
        let active = shown.iter().filter(|h| h.active()).cloned().collect();
        Guarded { active, lifted, shown }
    }

    /// Sends the one alert of a new hold, then marks it sent.
    async fn announce(&self, key: &Key, hold: Hold, version: u64, summary: &mut MonitorSummary) {
        if self.notify(super::alerts::hold_placed(self.m.config, &hold)).await {
            let sent = Hold { alerted: true, ..hold };
            let l = self.m.ledger;
            if let Err(e) = self
                .aux
                .call(Retry::Idempotent, self.budget.finish_by(), || ledger::replace(l, key, &sent, version, None))
                .await
            {
                summary.errors.push(format!("the hold's alert went out but could not be recorded: {e}"));
            }
        } else {
            summary.errors.push(format!("the alert for hold {} could not be published", hold.id));
        }
    }

    /// The alert of a hold placed earlier whose alert could not be published (SNS failed
    /// then): claimed first with compare-and-set, so two runs at once send it once, and
    /// given back if it fails again, so a later run tries once more.
    async fn announce_again(&self, key: &Key, hold: &Hold, version: u64, summary: &mut MonitorSummary) {
        let l = self.m.ledger;
        let until = self.budget.finish_by();
        let claimed = Hold { alerted: true, ..hold.clone() };
        match self.aux.call(Retry::Idempotent, until, || ledger::replace(l, key, &claimed, version, None)).await {
            Ok(Written::Done) => {}
            // Another run has just changed it (and may be sending it).
            Ok(Written::Conflict) => return,
            Err(e) => {
                summary.errors.push(format!("the alert for hold {} could not be claimed: {e}", hold.id));
                return;
            }
        }
        if !self.notify(super::alerts::hold_placed(self.m.config, hold)).await {
            summary.errors.push(format!("the alert for hold {} could not be published", hold.id));
            let unsent = Hold { alerted: false, ..hold.clone() };
            let _ =
                self.aux.call(Retry::Idempotent, until, || ledger::replace(l, key, &unsent, version + 1, None)).await;
        }
    }

    /// Publishes to the report topic; answers whether it went out.
    pub(super) async fn notify(&self, p: Publication) -> bool {
        match self.aux.call(Retry::Idempotent, self.budget.finish_by(), || self.m.notifier.publish(&p)).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, subject = p.subject, "an alert could not be published");
                false
            }
        }
    }

    /// An AWS Health event: an open issue holds its region; its closing lifts the hold.
    pub(super) async fn health(&self, event: &HealthEvent) -> MonitorSummary {
        let mut summary = MonitorSummary::new(Trigger::Health);
        let (l, until) = (self.m.ledger, self.budget.stop_at());
        let kind =
            HoldKind::Health { event_arn: event.event_arn.clone(), event_type_code: event.event_type_code.clone() };
        let key = Key::new(region_pk(&event.region), Hold::sort_key(&kind));
        let current = match self.aux.call(Retry::Idempotent, until, || ledger::load::<Hold>(l, &key)).await {
            Ok(c) => c,
            Err(e) => {
                summary.errors.push(format!("the ledger could not be read: {e}"));
                return summary;
            }
        };
        let reason = format!("AWS Health reports {}: {}", event.event_type_code, shorten(&event.description));
        let now_ms = self.now * 1000;
        match (event.status, current) {
            (HealthStatus::Open, None) => {
                let tail = event.event_arn.rsplit('/').next().unwrap_or(&event.event_arn);
                let hold = Hold {
                    id: format!("health-{tail}"),
                    region: event.region.clone(),
                    kind,
                    state: HoldState::Active,
                    since: now_ms,
                    reason,
                    offline: 0,
                    watched: 0,
                    gateways: vec![],
                    updated_at: now_ms,
                    alerted: false,
                };
                match self.aux.call(Retry::Idempotent, until, || ledger::create(l, &key, &hold, None)).await {
                    Ok(Written::Done) => {
                        tracing::warn!(
                            region = event.region,
                            hold = hold.id,
                            "AWS Health: automatic disables are held"
                        );
                        self.announce(&key, hold.clone(), 1, &mut summary).await;
                        summary.holds.push(view(&hold));
                    }
                    Ok(Written::Conflict) => {}
                    Err(e) => summary.errors.push(format!("the Health hold could not be recorded: {e}")),
                }
            }
            (HealthStatus::Open, Some(h)) => {
                // An update: keep the latest description, announce nothing new (unless the
                // first alert could not be published).
                let mut current = (h.value.clone(), h.version);
                if h.value.reason != reason && h.value.active() {
                    let updated = Hold { reason, updated_at: now_ms, ..h.value.clone() };
                    if let Ok(Written::Done) = self
                        .aux
                        .call(Retry::Idempotent, until, || ledger::replace(l, &key, &updated, h.version, None))
                        .await
                    {
                        current = (updated, h.version + 1);
                    }
                }
                if current.0.active() && !current.0.alerted {
                    self.announce_again(&key, &current.0, current.1, &mut summary).await;
                }
                summary.holds.push(view(&current.0));
            }
            (HealthStatus::Closed, Some(h)) => {
                let condition = Condition::Version(h.version);
                if let Ok(Written::Done) = self.aux.call(Retry::Idempotent, until, || l.delete(&key, &condition)).await
                {
                    tracing::info!(
                        region = event.region,
                        hold = h.value.id,
                        "AWS Health: the event closed, the hold is lifted"
                    );
                    if h.value.active() {
                        self.notify(super::alerts::hold_lifted(self.m.config, &h.value, "AWS Health closed the event"))
                            .await;
                    }
                    let still = self.active_holds(&event.region).await;
                    self.resume(&event.region, std::slice::from_ref(&h.value.id), &still, &mut summary).await;
                }
            }
            (HealthStatus::Closed, None) | (HealthStatus::Upcoming, _) => {}
        }
        summary
    }

    async fn active_holds(&self, region: &str) -> Vec<Hold> {
        let l = self.m.ledger;
        let pk = region_pk(region);
        self.aux
            .call(Retry::Idempotent, self.budget.stop_at(), || ledger::load_all::<Hold>(l, &pk, "hold#"))
            .await
            .map(|h| h.into_iter().map(|s| s.value).filter(Hold::active).collect())
            .unwrap_or_default()
    }

    /// An operator lifts a hold: recorded (audited) in the ledger, announced, and the held
    /// hand-offs go out again. A released fleet hold stays recorded until the region is
    /// healthy, so the same event does not hold the region again.
    pub(super) async fn release(&self, r: &ReleaseHold) -> Result<MonitorSummary, String> {
        let mut summary = MonitorSummary::new(Trigger::ReleaseHold);
        let (l, until) = (self.m.ledger, self.budget.stop_at());
        let pk = region_pk(&r.region);
        let holds = self
            .aux
            .call(Retry::Idempotent, until, || ledger::load_all::<Hold>(l, &pk, "hold#"))
            .await
            .map_err(|e| format!("the ledger could not be read: {e}"))?;
        let Some(h) = holds.iter().find(|h| h.value.id == r.hold_id) else {
            let known: Vec<&str> = holds.iter().map(|h| h.value.id.as_str()).collect();
            return Err(format!(
                "holdId: there is no hold {} in region {} (holds there: {known:?})",
                r.hold_id, r.region
            ));
        };
        let now_ms = self.now * 1000;
        let audit = HoldRelease {
            hold_id: h.value.id.clone(),
            operator: r.operator.clone(),
            reason: r.reason.clone(),
            at: now_ms,
            gateways: h.value.gateways.clone(),
        };
        let audit_key = Key::new(&pk, format!("audit#release#{now_ms:013}#{}", h.value.id));
        self.aux
            .call(Retry::Idempotent, until, || ledger::create(l, &audit_key, &audit, None))
            .await
            .map_err(|e| format!("the release could not be recorded in the ledger, so the hold stays: {e}"))?;
        let released = Hold {
            state: HoldState::Released { by: r.operator.clone(), at: now_ms, reason: r.reason.clone() },
            updated_at: now_ms,
            ..h.value.clone()
        };
        let written = self
            .aux
            .call(Retry::Idempotent, until, || ledger::replace(l, &h.key, &released, h.version, None))
            .await
            .map_err(|e| format!("the hold could not be released: {e}"))?;
        if written == Written::Conflict {
            return Err("the hold changed while it was being released; look at it again and retry".into());
        }
        tracing::warn!(region = r.region, hold = h.value.id, operator = r.operator, "an operator released the hold");
        self.notify(super::alerts::hold_released(self.m.config, &released, &r.operator, &r.reason)).await;
        let still: Vec<Hold> =
            holds.iter().map(|s| &s.value).filter(|x| x.id != h.value.id && x.active()).cloned().collect();
        self.resume(&r.region, std::slice::from_ref(&h.value.id), &still, &mut summary).await;
        summary.holds =
            holds.iter().map(|s| if s.value.id == released.id { view(&released) } else { view(&s.value) }).collect();
        Ok(summary)
    }
}
