//! One run of `gateway-monitor`: what the trigger asks, done, and summarised.

use serde::Serialize;
use tokio::time::Instant;

use super::readiness::ReadinessReport;
use super::request::{AlarmTarget, MonitorRequest};
use super::summary::{MonitorSummary, Trigger};
use crate::config::MonitorConfig;
use crate::deadline::Budget;
use crate::pacing::Pacer;
use crate::ports::{Clock, Ledger, Notifier, Queue, StorageGateway};
use crate::time::millis;

/// What the monitor needs from the outside world.
pub struct Monitor<'a, G, N, L, Q, C> {
    pub gateway: &'a G,
    pub notifier: &'a N,
    pub ledger: &'a L,
    /// The re-probe queue (`REPROBE_QUEUE_URL`), when there is one.
    pub queue: Option<&'a Q>,
    pub clock: &'a C,
    pub config: &'a MonitorConfig,
}

/// The monitor's answer: a summary of the probes, or the readiness report.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum MonitorAnswer {
    Summary(Box<MonitorSummary>),
    Readiness(Box<ReadinessReport>),
    /// The request cannot be done as asked (an operator named a hold that does not exist).
    Refused {
        refused: String,
    },
}

/// A run in progress: its budget and its pacers.
pub(super) struct Sweep<'r, G, N, L, Q, C> {
    pub m: &'r Monitor<'r, G, N, L, Q, C>,
    pub budget: Budget,
    /// Storage Gateway calls.
    pub sgw: Pacer,
    /// Ledger, SNS and SQS calls.
    pub aux: Pacer,
    pub now: i64,
}

impl<G: StorageGateway, N: Notifier, L: Ledger, Q: Queue, C: Clock> Monitor<'_, G, N, L, Q, C> {
    pub async fn run(&self, request: MonitorRequest, budget: Budget) -> MonitorAnswer {
        let started = Instant::now();
        let ceiling = self.config.max_concurrency;
        let run = Sweep {
            m: self,
            budget,
            sgw: Pacer::adaptive(ceiling.div_ceil(2), ceiling),
            aux: Pacer::fixed(32),
            now: self.clock.now(),
        };
        let mut summary = match request {
            MonitorRequest::Readiness => return MonitorAnswer::Readiness(Box::new(run.readiness().await)),
            MonitorRequest::Ignored(why) => {
                let mut s = MonitorSummary::new(Trigger::Ignored);
                s.ignored_reason = Some(why);
                s
            }
            MonitorRequest::Sweep => match &self.config.gateway_arns {
                Some(arns) => run.named(Trigger::Schedule, arns, true).await,
                None => run.everything().await,
            },
            MonitorRequest::Probe(arns) => run.named(Trigger::Direct, &arns, false).await,
            MonitorRequest::Alarm(hint) => {
                let mut s = match &hint.target {
                    AlarmTarget::Arn(arn) => run.named(Trigger::Alarm, std::slice::from_ref(arn), false).await,
                    AlarmTarget::Name(name) => run.by_name(name, &hint.alarm_name).await,
                };
                s.alarm = Some(hint);
                s
            }
            MonitorRequest::Reprobe(messages) => run.reprobe(&messages).await,
            MonitorRequest::Health(event) => run.health(&event).await,
            MonitorRequest::ReleaseHold(r) => match run.release(&r).await {
                Ok(s) => s,
                Err(refused) => return MonitorAnswer::Refused { refused },
            },
        };
        summary.duration_ms = millis(started.elapsed());
        self.log(&summary);
        MonitorAnswer::Summary(Box::new(summary))
    }

    fn log(&self, s: &MonitorSummary) {
        for g in &s.gateways {
            if !matches!(g.change, super::debounce::Change::Steady) || g.error.is_some() {
                tracing::info!(gateway = g.gateway_id, health = ?g.health, change = ?g.change, held_by = g.held_by, error = g.error, "gateway");
            }
        }
        let active = s.holds.iter().filter(|h| h.state == "active").count();
        crate::telemetry::emit_metrics(
            "gateway-monitor",
            &[
                ("GatewaysChecked", s.checked as f64, "Count"),
                ("GatewaysOffline", s.counts.offline as f64, "Count"),
                ("GatewaysFailed", s.newly_failed.len() as f64, "Count"),
                ("GatewaysUnknown", s.counts.unknown as f64, "Count"),
                ("HandOffsHeld", s.held.len() as f64, "Count"),
                ("ActiveHolds", active as f64, "Count"),
            ],
        );
        tracing::info!(
            trigger = ?s.trigger,
            checked = s.checked,
            counts = ?s.counts,
            newly_suspected = s.newly_suspected.len(),
            newly_failed = ?s.newly_failed,
            held = ?s.held,
            recovered_online = ?s.recovered_online,
            holds = active,
            errors = s.errors.len(),
            duration_ms = s.duration_ms,
            "sweep done"
        );
    }
}
