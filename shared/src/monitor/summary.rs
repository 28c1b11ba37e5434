//! What the monitor answers, logs and counts.

use serde::Serialize;

use super::debounce::{Change, Health};
use super::request::AlarmHint;

/// What started the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    Schedule,
    Alarm,
    Direct,
    Reprobe,
    Health,
    ReleaseHold,
    Ignored,
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
    /// When it was first seen offline (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_since: Option<String>,
    /// The hold its hand-off was made under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// Why the health is unknown, or what went wrong acting on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub watched: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub online: usize,
    pub offline: usize,
    pub disabled: usize,
    pub gone: usize,
    pub unknown: usize,
}

/// An active hold, as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldView {
    pub id: String,
    pub region: String,
    pub reason: String,
    pub since: String,
    pub offline: usize,
    pub watched: usize,
    /// `active`, or `released` (an operator lifted it; it stays until the event ends).
    pub state: &'static str,
}

/// The monitor's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorSummary {
    pub trigger: Trigger,
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
    /// Of the newly failed: handed off under a hold (they will not be disabled).
    pub held: Vec<String>,
    pub recovered_online: Vec<String>,
    /// Hand-offs published again: a hold was lifted, or a lost publish was retried.
    pub resumed: Vec<String>,
    /// The regions' holds.
    pub holds: Vec<HoldView>,
    /// Problems: listing failures, probes that could not classify, hand-offs that failed.
    pub errors: Vec<String>,
    /// A problem that kept the monitor from doing its job (the ledger unreadable, a
    /// hand-off that could not be published): the invocation fails so alarms fire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub duration_ms: u64,
    /// Every watched gateway's result.
    pub gateways: Vec<GatewayResult>,
}

impl MonitorSummary {
    pub fn new(trigger: Trigger) -> Self {
        Self {
            trigger,
            alarm: None,
            ignored_reason: None,
            checked: 0,
            not_watched: 0,
            counts: Counts::default(),
            newly_suspected: vec![],
            newly_failed: vec![],
            held: vec![],
            recovered_online: vec![],
            resumed: vec![],
            holds: vec![],
            errors: vec![],
            failure: None,
            duration_ms: 0,
            gateways: vec![],
        }
    }

    /// Fills the counts and the lists from the gateways' results.
    pub fn tally(&mut self, results: Vec<GatewayResult>) {
        let (mut watched, not_watched): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.watched);
        watched.sort_by(|a, b| a.gateway_arn.cmp(&b.gateway_arn));
        for g in &watched {
            match g.health {
                Health::Online => self.counts.online += 1,
                Health::Offline => self.counts.offline += 1,
                Health::Disabled => self.counts.disabled += 1,
                Health::Gone => self.counts.gone += 1,
                Health::Unknown => self.counts.unknown += 1,
            }
            let id = g.gateway_id.clone();
            match g.change {
                Change::NewlySuspected => self.newly_suspected.push(id),
                Change::NewlyFailed => {
                    if g.held_by.is_some() {
                        self.held.push(id.clone());
                    }
                    self.newly_failed.push(id);
                }
                Change::RecoveredOnline => self.recovered_online.push(id),
                Change::Steady | Change::StillSuspected { .. } | Change::AlreadyHandedOff => {}
            }
            if let Some(e) = &g.error {
                self.errors.push(format!("{}: {e}", g.gateway_id));
            }
        }
        // Gateways that were not watched are not acted on; an unknown one is still worth a word.
        for g in &not_watched {
            if let Some(e) = &g.error {
                self.errors.push(format!("{} (not confirmed watched): {e}", g.gateway_id));
            }
        }
        self.checked = watched.len();
        self.not_watched = not_watched.len();
        self.gateways = watched;
    }
}
