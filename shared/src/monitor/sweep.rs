//! One run of `gateway-monitor`: probe the watched gateways (all, or the one an alarm
//! names), apply the debounce, hand each newly failed gateway off exactly once, and answer
//! a summary.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures::{StreamExt, stream};
use serde::Serialize;

use super::decide::{Action, Change, Health, decide};
use super::trigger::{AlarmHint, AlarmTarget, MonitorRequest};
use crate::arn::GatewayArn;
use crate::aws::{AwsError, Clock, ErrorKind, Notifier, Publication, StorageGateway};
use crate::config::MonitorConfig;
use crate::handoff::{GATEWAY_OFFLINE, GatewayOffline};
use crate::model::{GatewayKind, GatewaySummary, Tags, tag};
use crate::time::rfc3339;

/// What the monitor must do.
pub struct Monitor<'a, G, N, C> {
    pub gateway: &'a G,
    pub notifier: &'a N,
    pub clock: &'a C,
    pub config: &'a MonitorConfig,
}

/// One gateway's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResult {
    pub gateway_id: String,
    pub gateway_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub health: Health,
    #[serde(flatten)]
    pub change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_since: Option<String>,
    /// Why the health is unknown, or what went wrong acting on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    watched: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub online: usize,
    pub offline: usize,
    pub disabled: usize,
    pub gone: usize,
    pub unknown: usize,
}

/// The monitor's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorSummary {
    /// `schedule`, `alarm`, `direct` or `ignored`.
    pub trigger: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<AlarmHint>,
    /// Why nothing was probed, for an ignored trigger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_reason: Option<String>,
    pub checked: usize,
    /// Gateways seen but not watched (no `recovery:enabled=true` tag).
    pub not_watched: usize,
    pub counts: Counts,
    pub newly_suspected: Vec<String>,
    pub newly_failed: Vec<String>,
    pub recovered_online: Vec<String>,
    /// Problems: listing failures, probes that could not classify, hand-offs that failed.
    pub errors: Vec<String>,
    pub duration_ms: u64,
    /// Every watched gateway's result.
    pub gateways: Vec<GatewayResult>,
}

/// A gateway to probe, with what `ListGateways` said of it when known.
struct Target {
    arn: GatewayArn,
    summary: Option<GatewaySummary>,
    /// Named explicitly (direct invocation, `GATEWAY_ARNS`): watched whatever its tags.
    explicit: bool,
}

impl<G: StorageGateway, N: Notifier, C: Clock> Monitor<'_, G, N, C> {
    pub async fn run(&self, request: MonitorRequest) -> MonitorSummary {
        let started = Instant::now();
        let now = self.clock.now();
        let (trigger, alarm, ignored, results, errors) = match request {
            MonitorRequest::Ignored(why) => ("ignored", None, Some(why), Vec::new(), Vec::new()),
            MonitorRequest::Sweep => {
                let (r, e) = match &self.config.gateway_arns {
                    Some(arns) => self.probe_named(arns, now).await,
                    None => self.sweep_tagged(now).await,
                };
                ("schedule", None, None, r, e)
            }
            MonitorRequest::Probe(arns) => {
                let (r, e) = self.probe_named(&arns, now).await;
                ("direct", None, None, r, e)
            }
            MonitorRequest::Alarm(hint) => {
                let (r, e, ignored) = self.probe_alarm(&hint, now).await;
                ("alarm", Some(hint), ignored, r, e)
            }
        };
        let summary = summarize(trigger, alarm, ignored, results, errors, started);
        self.log(&summary);
        summary
    }

    /// Every gateway in the region, probed as its page of `ListGateways` arrives; only
    /// those tagged `recovery:enabled=true` are acted on.
    async fn sweep_tagged(&self, now: i64) -> (Vec<GatewayResult>, Vec<String>) {
        let errors = std::sync::Mutex::new(Vec::new());
        let results: Vec<GatewayResult> = self
            .gateway
            .list_gateways()
            .flat_map(|page| match page {
                Ok(items) => stream::iter(items).left_stream(),
                Err(e) => {
                    if let Ok(mut errs) = errors.lock() {
                        errs.push(format!("the sweep is incomplete: {e}"));
                    }
                    stream::empty().right_stream()
                }
            })
            .map(|s| self.probe(Target { arn: s.arn.clone(), summary: Some(s), explicit: false }, now))
            .buffer_unordered(self.config.max_concurrency)
            .collect()
            .await;
        (results, errors.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// Exactly these gateways (a direct invocation, or `GATEWAY_ARNS`).
    async fn probe_named(&self, arns: &[GatewayArn], now: i64) -> (Vec<GatewayResult>, Vec<String>) {
        let mut errors = Vec::new();
        let mut known = match self.summaries(arns).await {
            Ok(k) => k,
            Err(e) => {
                errors.push(format!("ListGateways failed, probing without it: {e}"));
                HashMap::new()
            }
        };
        let targets: Vec<Target> =
            arns.iter().map(|a| Target { arn: a.clone(), summary: known.remove(a), explicit: true }).collect();
        let results = stream::iter(targets)
            .map(|t| self.probe(t, now))
            .buffer_unordered(self.config.max_concurrency)
            .collect()
            .await;
        (results, errors)
    }

    /// `ListGateways` entries for the given gateways, stopping once all are found.
    async fn summaries(&self, arns: &[GatewayArn]) -> Result<HashMap<GatewayArn, GatewaySummary>, AwsError> {
        let mut found = HashMap::new();
        let mut pages = self.gateway.list_gateways();
        while let Some(page) = pages.next().await {
            for s in page? {
                if arns.contains(&s.arn) {
                    found.insert(s.arn.clone(), s);
                }
            }
            if found.len() == arns.len() {
                break;
            }
        }
        Ok(found)
    }

    async fn probe_alarm(&self, hint: &AlarmHint, now: i64) -> (Vec<GatewayResult>, Vec<String>, Option<String>) {
        let summary = match &hint.target {
            AlarmTarget::Arn(arn) => match self.summaries(std::slice::from_ref(arn)).await {
                Ok(mut k) => Ok((arn.clone(), k.remove(arn))),
                Err(e) => Err(e),
            },
            AlarmTarget::Name(name) => {
                let mut pages = self.gateway.list_gateways();
                let mut found = None;
                let mut failure = None;
                while let Some(page) = pages.next().await {
                    match page {
                        Ok(items) => {
                            if let Some(s) = items.into_iter().find(|s| &s.name == name) {
                                found = Some(s);
                                break;
                            }
                        }
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                match (found, failure) {
                    (Some(s), _) => Ok((s.arn.clone(), Some(s))),
                    (None, Some(e)) => Err(e),
                    (None, None) => {
                        return (
                            Vec::new(),
                            Vec::new(),
                            Some(format!("alarm {} names gateway {name}, which does not exist", hint.alarm_name)),
                        );
                    }
                }
            }
        };
        let (arn, summary) = match summary {
            Ok(found) => found,
            Err(e) => match &hint.target {
                // The API is the truth: probe the gateway even without its listing.
                AlarmTarget::Arn(arn) => (arn.clone(), None),
                AlarmTarget::Name(_) => {
                    return (Vec::new(), vec![format!("could not find the alarm's gateway: {e}")], None);
                }
            },
        };
        let explicit = self.config.gateway_arns.as_ref().is_some_and(|l| l.contains(&arn));
        let result = self.probe(Target { arn, summary, explicit }, now).await;
        if !result.watched {
            let why = format!(
                "alarm {} names {}, which is not watched (tag it {}=true or list it in GATEWAY_ARNS)",
                hint.alarm_name,
                result.gateway_id,
                tag::ENABLED
            );
            return (Vec::new(), Vec::new(), Some(why));
        }
        (vec![result], Vec::new(), None)
    }

    /// Probes one gateway, classifies it, applies the debounce and acts.
    async fn probe(&self, t: Target, now: i64) -> GatewayResult {
        let name = t.summary.as_ref().map(|s| s.name.clone());
        let mut r = GatewayResult {
            gateway_id: t.arn.id().to_owned(),
            gateway_arn: t.arn.to_string(),
            name: name.clone(),
            health: Health::Unknown,
            change: Change::Steady,
            offline_since: None,
            error: None,
            watched: t.explicit,
        };
        let (health, tags) = self.observe(&t, &mut r).await;
        r.health = health.clone();
        let Some(tags) = tags else {
            return r;
        };
        // `GATEWAY_ARNS` names exactly the watched gateways; otherwise the tag does.
        if self.config.gateway_arns.is_none() {
            r.watched |= tags.get(tag::ENABLED).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        }
        if !r.watched {
            return r;
        }
        r.offline_since = tags.get(tag::OFFLINE_SINCE).cloned();
        let (action, change) = decide(&health, &tags, now, self.config.grace.as_secs());
        r.change = change;
        let outcome = match action {
            Action::None => Ok(()),
            Action::MarkSuspected => {
                r.offline_since = Some(rfc3339(now));
                self.gateway.add_tags((&t.arn).into(), &[(tag::OFFLINE_SINCE, rfc3339(now))]).await
            }
            Action::Clear(keys) => self.gateway.remove_tags((&t.arn).into(), &keys).await,
            Action::HandOff { since } => {
                let kind = t.summary.as_ref().map(|s| s.kind).unwrap_or(GatewayKind::Tape);
                self.hand_off(&t.arn, name.as_deref(), kind, since, now).await
            }
        };
        if let Err(e) = outcome {
            r.error = Some(e.to_string());
            if matches!(r.change, Change::NewlyFailed) {
                // Not handed off: the next sweep tries again.
                r.change = Change::StillSuspected { for_secs: 0 };
            }
        }
        r
    }

    /// Health and tags of one gateway. Tags come with the description when it is
    /// online; an offline gateway's tags are read with `ListTagsForResource`.
    async fn observe(&self, t: &Target, r: &mut GatewayResult) -> (Health, Option<Tags>) {
        if t.summary.as_ref().is_some_and(|s| s.disabled) {
            return (Health::Disabled, None);
        }
        let health = match self.gateway.describe_gateway(&t.arn).await {
            Ok(info) => {
                if r.name.is_none() {
                    r.name = Some(info.name.clone());
                }
                if info.tags_complete {
                    return (Health::Online, Some(info.tags));
                }
                Health::Online
            }
            Err(e) if e.kind == ErrorKind::NotConnected => Health::Offline,
            Err(e) if e.kind == ErrorKind::NotFound => return (Health::Gone, None),
            Err(e) => {
                r.error = Some(e.to_string());
                return (Health::Unknown, None);
            }
        };
        match self.gateway.list_tags((&t.arn).into()).await {
            Ok(tags) => (health, Some(tags)),
            Err(e) => {
                r.error = Some(format!("{} but its tags could not be read: {e}", health_word(&health)));
                (Health::Unknown, None)
            }
        }
    }

    /// Publishes the hand-off and the alert, then marks the gateway handed off. If the
    /// hand-off cannot be published, nothing is marked, so the next sweep tries again;
    /// if marking fails after publishing, a later sweep may hand off again, which
    /// `recover-gateway` recognises by the outage id.
    async fn hand_off(
        &self,
        arn: &GatewayArn,
        name: Option<&str>,
        kind: GatewayKind,
        since: i64,
        now: i64,
    ) -> Result<(), AwsError> {
        let name = name.unwrap_or(arn.id());
        let message = GatewayOffline::new(arn, name, kind, &rfc3339(since), &rfc3339(now));
        let body = serde_json::to_string(&message).map_err(|e| AwsError::malformed("Publish", e.to_string()))?;
        self.notifier
            .publish(&Publication {
                topic: self.config.recovery_topic.clone(),
                subject: None,
                body,
                attributes: vec![("type".into(), GATEWAY_OFFLINE.into()), ("gatewayId".into(), arn.id().to_owned())],
            })
            .await?;
        let offline_for = human_duration(now - since);
        let alert = Publication {
            topic: self.config.report_topic.clone(),
            // SNS wants fewer than 100 characters.
            subject: Some(truncate(
                &format!("Gateway {} ({}) offline for {offline_for}: recovery started", arn.id(), truncate(name, 40)),
                99,
            )),
            body: format!(
                "Storage Gateway {name} ({}) has been offline since {} ({offline_for}, grace period {} s).\n\
                 It was handed off to recover-gateway (outage {}).\nGateway: {arn}\nType: {}\n\
                 A recovery report follows on this topic.",
                arn.id(),
                rfc3339(since),
                self.config.grace.as_secs(),
                message.outage_id,
                kind.as_api(),
            ),
            attributes: vec![("event".into(), "GatewayFailed".into()), ("gatewayId".into(), arn.id().to_owned())],
        };
        if let Err(e) = self.notifier.publish(&alert).await {
            tracing::warn!(error = %e, gateway = %arn, "the alert could not be published; the hand-off was");
        }
        self.gateway
            .add_tags(
                (arn).into(),
                &[(tag::STATE, tag::STATE_HANDED_OFF.to_owned()), (tag::HANDED_OFF_AT, rfc3339(now))],
            )
            .await
    }

    fn log(&self, s: &MonitorSummary) {
        for g in &s.gateways {
            if !matches!(g.change, Change::Steady) || g.error.is_some() {
                tracing::info!(gateway = g.gateway_id, health = ?g.health, change = ?g.change, error = g.error, "gateway");
            }
        }
        crate::telemetry::emit_metrics(
            "gateway-monitor",
            &[
                ("GatewaysChecked", s.checked as f64, "Count"),
                ("GatewaysOffline", s.counts.offline as f64, "Count"),
                ("GatewaysFailed", s.newly_failed.len() as f64, "Count"),
                ("GatewaysUnknown", s.counts.unknown as f64, "Count"),
            ],
        );
        tracing::info!(
            trigger = s.trigger,
            checked = s.checked,
            counts = ?s.counts,
            newly_suspected = s.newly_suspected.len(),
            newly_failed = ?s.newly_failed,
            recovered_online = ?s.recovered_online,
            errors = s.errors.len(),
            duration_ms = s.duration_ms,
            "sweep done"
        );
    }
}

fn health_word(h: &Health) -> &'static str {
    match h {
        Health::Online => "online",
        Health::Offline => "offline",
        _ => "probed",
    }
}

/// `45 s`, `15 min`, `2 h 5 min`.
fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn summarize(
    trigger: &'static str,
    alarm: Option<AlarmHint>,
    ignored_reason: Option<String>,
    results: Vec<GatewayResult>,
    mut errors: Vec<String>,
    started: Instant,
) -> MonitorSummary {
    let (watched, not_watched): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.watched);
    let mut counts = Counts::default();
    let mut by_change: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut gateways = watched;
    gateways.sort_by(|a, b| a.gateway_arn.cmp(&b.gateway_arn));
    for g in &gateways {
        match g.health {
            Health::Online => counts.online += 1,
            Health::Offline => counts.offline += 1,
            Health::Disabled => counts.disabled += 1,
            Health::Gone => counts.gone += 1,
            Health::Unknown => counts.unknown += 1,
        }
        let key = match g.change {
            Change::NewlySuspected => "suspected",
            Change::NewlyFailed => "failed",
            Change::RecoveredOnline => "online",
            _ => "",
        };
        by_change.entry(key).or_default().push(g.gateway_id.clone());
        if let Some(e) = &g.error {
            errors.push(format!("{}: {e}", g.gateway_id));
        }
    }
    // Gateways that were not watched are not acted on; an unknown one is still worth a word.
    for g in &not_watched {
        if let Some(e) = &g.error {
            errors.push(format!("{} (not confirmed watched): {e}", g.gateway_id));
        }
    }
    let mut take = |k| by_change.remove(k).unwrap_or_default();
    MonitorSummary {
        trigger,
        alarm,
        ignored_reason,
        checked: gateways.len(),
        not_watched: not_watched.len(),
        counts,
        newly_suspected: take("suspected"),
        newly_failed: take("failed"),
        recovered_online: take("online"),
        errors,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        gateways,
    }
}
