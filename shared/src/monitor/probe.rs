//! Probing: which gateways, and what each one's health is. `DescribeGatewayInformation`
//! is the ground truth: `GatewayNotConnected` is offline; any other failure is unknown
//! (reported, never treated as offline).

use std::collections::HashMap;

use futures::{StreamExt, stream};

use super::act::Scope;
use super::debounce::Health;
use super::run::Sweep;
use super::summary::{MonitorSummary, Trigger};
use crate::arn::GatewayArn;
use crate::handoff::{Message, Reprobe};
use crate::model::{GatewayKind, GatewaySummary, Tags, tag};
use crate::pacing::{Pages, Retry};
use crate::ports::{AwsError, Clock, ErrorKind, Ledger, Notifier, Queue, StorageGateway};

/// What one probe saw.
#[derive(Debug, Clone)]
pub(super) struct Observation {
    pub arn: GatewayArn,
    pub name: Option<String>,
    pub kind: Option<GatewayKind>,
    pub health: Health,
    pub watched: bool,
    pub error: Option<String>,
}

/// A gateway to probe, with what `ListGateways` said of it when known.
struct Target {
    arn: GatewayArn,
    summary: Option<GatewaySummary>,
    /// Named explicitly (direct invocation, `GATEWAY_ARNS`): watched whatever its tags.
    explicit: bool,
}

fn health_word(h: Health) -> &'static str {
    match h {
        Health::Online => "online",
        Health::Offline => "offline",
        _ => "probed",
    }
}

impl<G: StorageGateway, N: Notifier, L: Ledger, Q: Queue, C: Clock> Sweep<'_, G, N, L, Q, C> {
    /// Every gateway in the region, probed as its page of `ListGateways` arrives; only
    /// those tagged `recovery:enabled=true` are acted on.
    pub(super) async fn everything(&self) -> MonitorSummary {
        let mut summary = MonitorSummary::new(Trigger::Schedule);
        let sg = self.m.gateway;
        let mut pages = Pages::new(&self.sgw, self.budget.stop_at(), Box::new(move |from| sg.list_gateways(from)));
        let mut targets = Vec::new();
        let mut complete = true;
        while let Some(page) = pages.next().await {
            match page {
                Ok(items) => targets.extend(items.into_iter().map(|s| Target {
                    arn: s.arn.clone(),
                    summary: Some(s),
                    explicit: false,
                })),
                Err(e) => {
                    summary.errors.push(format!("the sweep is incomplete: {e}"));
                    complete = false;
                }
            }
        }
        let observations = self.probe_all(targets).await;
        self.act(&mut summary, observations, Scope { whole_fleet: complete }).await;
        summary
    }

    /// Exactly these gateways (`GATEWAY_ARNS`, a direct invocation, an alarm).
    pub(super) async fn named(&self, trigger: Trigger, arns: &[GatewayArn], whole_fleet: bool) -> MonitorSummary {
        let mut summary = MonitorSummary::new(trigger);
        let explicit = trigger != Trigger::Alarm
            || self.m.config.gateway_arns.as_ref().is_some_and(|l| l.iter().any(|a| arns.contains(a)));
        let mut known = match self.summaries(arns).await {
            Ok(k) => k,
            Err(e) => {
                summary.errors.push(format!("ListGateways failed, probing without it: {e}"));
                HashMap::new()
            }
        };
        let targets = arns.iter().map(|a| Target { arn: a.clone(), summary: known.remove(a), explicit }).collect();
        let observations = self.probe_all(targets).await;
        if trigger == Trigger::Alarm && !observations.iter().any(|o| o.watched) {
            summary.ignored_reason = Some(format!(
                "the alarm names {}, which is not watched (tag it {}=true or list it in GATEWAY_ARNS)",
                arns.iter().map(GatewayArn::id).collect::<Vec<_>>().join(", "),
                tag::ENABLED
            ));
            summary.trigger = Trigger::Ignored;
            return summary;
        }
        self.act(&mut summary, observations, Scope { whole_fleet }).await;
        summary
    }

    /// The gateway an alarm names by `GatewayName` only.
    pub(super) async fn by_name(&self, name: &str, alarm: &str) -> MonitorSummary {
        let sg = self.m.gateway;
        let mut pages = Pages::new(&self.sgw, self.budget.stop_at(), Box::new(move |from| sg.list_gateways(from)));
        while let Some(page) = pages.next().await {
            match page {
                Ok(items) => {
                    if let Some(s) = items.into_iter().find(|s| s.name == name) {
                        return self.named(Trigger::Alarm, std::slice::from_ref(&s.arn), false).await;
                    }
                }
                Err(e) => {
                    let mut s = MonitorSummary::new(Trigger::Alarm);
                    s.errors.push(format!("could not find the alarm's gateway: {e}"));
                    return s;
                }
            }
        }
        let mut s = MonitorSummary::new(Trigger::Ignored);
        s.ignored_reason = Some(format!("alarm {alarm} names gateway {name}, which does not exist"));
        s
    }

    /// Suspected gateways whose grace period ends now. A message that arrives early (SQS
    /// delays at most 15 minutes) goes back on the queue for the time left.
    pub(super) async fn reprobe(&self, messages: &[Reprobe]) -> MonitorSummary {
        let mut summary = MonitorSummary::new(Trigger::Reprobe);
        let mut due = Vec::new();
        for m in messages {
            let Ok(arn) = GatewayArn::parse("gatewayArn", &m.gateway_arn) else { continue };
            let left = m.due_at - self.now;
            if left > 1 {
                if let Err(e) = self.send_reprobe(m, left).await {
                    summary.errors.push(format!("{}: the re-probe could not be queued again: {e}", arn.id()));
                }
                continue;
            }
            if !due.contains(&arn) {
                due.push(arn);
            }
        }
        if due.is_empty() {
            return summary;
        }
        let named = self.m.config.gateway_arns.is_some();
        let mut s = self.named(Trigger::Reprobe, &due, false).await;
        // Under GATEWAY_ARNS only the listed gateways are watched.
        if named {
            s.gateways.retain(|g| {
                self.m.config.gateway_arns.as_ref().is_some_and(|l| l.iter().any(|a| a.as_str() == g.gateway_arn))
            });
        }
        s.errors.extend(summary.errors);
        s
    }

    /// Queues a re-probe `delay_secs` from now (at most 15 minutes: SQS's limit; a longer
    /// grace period is bridged by re-queueing).
    pub(super) async fn send_reprobe(&self, m: &Reprobe, delay_secs: i64) -> Result<(), AwsError> {
        let Some(queue) = self.m.queue else { return Ok(()) };
        let body = Message::Reprobe(m.clone()).to_json();
        let delay = std::time::Duration::from_secs(u64::try_from(delay_secs.clamp(0, 900)).unwrap_or(900));
        self.aux.call(Retry::Idempotent, self.budget.finish_by(), || queue.send(&body, delay)).await
    }

    /// `ListGateways` entries for the given gateways, stopping once all are found.
    async fn summaries(&self, arns: &[GatewayArn]) -> Result<HashMap<GatewayArn, GatewaySummary>, AwsError> {
        let sg = self.m.gateway;
        let mut found = HashMap::new();
        let mut pages = Pages::new(&self.sgw, self.budget.stop_at(), Box::new(move |from| sg.list_gateways(from)));
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

    async fn probe_all(&self, targets: Vec<Target>) -> Vec<Observation> {
        stream::iter(targets).map(|t| self.probe(t)).buffer_unordered(self.m.config.max_concurrency).collect().await
    }

    /// Probes one gateway and reads whether it is watched.
    async fn probe(&self, t: Target) -> Observation {
        let mut o = Observation {
            name: t.summary.as_ref().map(|s| s.name.clone()),
            kind: t.summary.as_ref().map(|s| s.kind),
            health: Health::Unknown,
            watched: t.explicit || self.m.config.gateway_arns.as_ref().is_some_and(|l| l.contains(&t.arn)),
            error: None,
            arn: t.arn.clone(),
        };
        if t.summary.as_ref().is_some_and(|s| s.disabled) {
            o.health = Health::Disabled;
            return o;
        }
        let (sg, until) = (self.m.gateway, self.budget.stop_at());
        let described = self.sgw.call(Retry::Idempotent, until, || sg.describe_gateway(&t.arn)).await;
        let mut tags: Option<Tags> = None;
        o.health = match described {
            Ok(info) => {
                o.name = o.name.or(Some(info.name.clone()));
                o.kind = o.kind.or(Some(info.kind));
                if info.tags_complete {
                    tags = Some(info.tags);
                }
                Health::Online
            }
            Err(e) if e.kind == ErrorKind::NotConnected => Health::Offline,
            Err(e) if e.kind == ErrorKind::NotFound => Health::Gone,
            Err(e) => {
                o.error = Some(e.to_string());
                Health::Unknown
            }
        };
        // `GATEWAY_ARNS` names exactly the watched gateways; otherwise the tag does. An
        // unknown gateway's tags are read too: the guard counts it if it is watched.
        if self.m.config.gateway_arns.is_some() || o.watched || matches!(o.health, Health::Disabled | Health::Gone) {
            return o;
        }
        let tags = match tags {
            Some(t) => t,
            None => match self.sgw.call(Retry::Idempotent, until, || sg.list_tags((&t.arn).into())).await {
                Ok(t) => t,
                Err(e) => {
                    let before = o.error.take().map(|b| format!("{b}; ")).unwrap_or_default();
                    o.error = Some(format!("{before}{} but its tags could not be read: {e}", health_word(o.health)));
                    o.health = Health::Unknown;
                    return o;
                }
            },
        };
        o.watched = tag::is_true(&tags, tag::ENABLED);
        o
    }
}
