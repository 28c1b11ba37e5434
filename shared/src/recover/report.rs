//! The recovery report: every tape and volume accounted for. The handler returns it as
//! JSON; SNS gets a one-line subject that says the outcome and a readable body that stays
//! under SNS's 256 KB limit whatever the fleet size; the logs get the full per-item list.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::aws::AwsError;
use crate::model::GatewayKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every tape and volume is recovered.
    Completed,
    /// The run ended with failures, or with work left that a rerun will finish.
    Partial,
    /// Out of time: a continuation was published and the next invocation goes on.
    Continued,
    /// `DisableGateway` is needed and not allowed without an operator's approval.
    AwaitingApproval,
    /// The gateway answers as healthy: nothing was done.
    NotFailed,
    /// A check failed before any change (bad standby, no room, unknown gateway, ...).
    Refused,
    /// The plan, with no change made.
    DryRun,
    /// A replayed hand-off for an outage whose recovery already completed.
    AlreadyCompleted,
    /// Another run holds the lease and is doing this work right now.
    Duplicate,
    /// AWS could not be asked (throttled, unavailable); trying again may help.
    Error,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Partial => "partial",
            Self::Continued => "continued",
            Self::AwaitingApproval => "awaiting-approval",
            Self::NotFailed => "not-failed",
            Self::Refused => "refused",
            Self::DryRun => "dry-run",
            Self::AlreadyCompleted => "already-completed",
            Self::Duplicate => "duplicate",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Retrieved (or snapshotted) by this recovery.
    Done,
    /// Found already on the standby (or already snapshotted) before this recovery touched it.
    AlreadyDone,
    Failed,
    /// Not attempted: the run stopped first (out of time, or the standby failed).
    Pending,
    /// What a dry run would do.
    Planned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    /// Tape barcode or volume id.
    pub id: String,
    pub arn: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ItemResult {
    pub fn new(id: &str, arn: &str, outcome: Outcome) -> Self {
        Self { id: id.to_owned(), arn: arn.to_owned(), outcome, snapshot_id: None, code: None, message: None }
    }

    pub fn failed(id: &str, arn: &str, e: &AwsError) -> Self {
        Self {
            code: Some(e.code.clone().unwrap_or_else(|| e.kind.to_string())),
            message: Some(e.message.clone()),
            ..Self::new(id, arn, Outcome::Failed)
        }
    }

    pub fn note(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub already_done: usize,
    pub failed: usize,
    pub pending: usize,
    pub planned: usize,
}

impl Counts {
    pub fn of(items: &[ItemResult]) -> Self {
        let mut c = Counts { total: items.len(), ..Default::default() };
        for i in items {
            match i.outcome {
                Outcome::Done => c.done += 1,
                Outcome::AlreadyDone => c.already_done += 1,
                Outcome::Failed => c.failed += 1,
                Outcome::Pending => c.pending += 1,
                Outcome::Planned => c.planned += 1,
            }
        }
        c
    }

    /// Recovered, by this recovery or before it.
    pub fn recovered(&self) -> usize {
        self.done + self.already_done
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRef {
    pub arn: String,
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<GatewayKind>,
}

/// What happened about `DisableGateway`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisableRecord {
    /// `already-disabled`, `disabled`, `would-disable`, `needs-approval`, `not-needed`.
    pub action: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryReport {
    pub status: Status,
    /// Why the run ended as it did, in a sentence.
    pub summary: String,
    pub recovery_id: String,
    pub failed_gateway: GatewayRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby_gateway: Option<String>,
    pub dry_run: bool,
    pub started_at: String,
    pub finished_at: String,
    /// This invocation's time.
    pub duration_ms: u64,
    /// Since the recovery began, over all slices.
    pub total_duration_ms: u64,
    pub slice: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable: Option<DisableRecord>,
    pub tapes: Counts,
    pub volumes: Counts,
    /// The payload an operator sends to approve `DisableGateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Value>,
    /// Whether trying again later may succeed (for `error` and `partial`).
    pub retryable: bool,
    pub tape_results: Vec<ItemResult>,
    pub volume_results: Vec<ItemResult>,
    /// Whether every recovery point was listed: if not, the counts are a lower bound.
    pub listing_complete: bool,
}

/// SNS's limit for a message body, with headroom for the attributes.
pub const MAX_BODY_BYTES: usize = 250_000;
/// Failures listed in the SNS body; the rest are in the logs.
const MAX_FAILURES_LISTED: usize = 500;

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

impl RecoveryReport {
    /// The SNS subject: one line under 100 characters that says the outcome.
    pub fn subject(&self) -> String {
        let gw = &self.failed_gateway.id;
        let to = self.standby_gateway.as_deref().and_then(|a| a.rsplit('/').next()).unwrap_or("?");
        let t = &self.tapes;
        let v = &self.volumes;
        let tapes = t.total > 0 || self.failed_gateway.kind == Some(GatewayKind::Tape);
        let s = match self.status {
            Status::Completed | Status::Partial | Status::AlreadyCompleted if tapes && !self.listing_complete => {
                format!("Recovered {} of {}+ tapes from {gw} to {to}, listing incomplete", t.recovered(), t.total)
            }
            Status::Completed | Status::Partial | Status::AlreadyCompleted if tapes => {
                let mut s = format!("Recovered {}/{} tapes from {gw} to {to}", t.recovered(), t.total);
                if t.failed > 0 || t.pending > 0 {
                    let _ = write!(s, ", {} failed", t.failed);
                }
                if t.pending > 0 {
                    let _ = write!(s, ", {} left", t.pending);
                }
                s
            }
            Status::Completed | Status::Partial | Status::AlreadyCompleted => {
                let mut s = format!("Snapshotted {}/{} volumes of {gw}", v.recovered(), v.total);
                if v.failed > 0 || v.pending > 0 {
                    let _ = write!(s, ", {} failed", v.failed);
                }
                s
            }
            Status::Continued if tapes => {
                format!("Recovering {gw}: {}/{} tapes so far, continuing", t.recovered(), t.total)
            }
            Status::Continued => format!("Recovering {gw}: {}/{} volumes so far, continuing", v.recovered(), v.total),
            Status::AwaitingApproval => {
                format!("Approval needed to disable {gw} and recover {} tapes to {to}", t.total)
            }
            Status::NotFailed => format!("Not recovering {gw}: it is online"),
            Status::DryRun if tapes => {
                format!("Dry run: {} of {} tapes would be recovered from {gw} to {to}", t.planned, t.total)
            }
            Status::DryRun => format!("Dry run: {} of {} volumes of {gw} would be snapshotted", v.planned, v.total),
            Status::Refused => format!("Recovery of {gw} refused: {}", self.summary),
            Status::Duplicate => format!("Recovery of {gw} is already in progress elsewhere"),
            Status::Error => format!("Recovery of {gw} stopped: {}", self.summary),
        };
        // One line, under 100 characters (SNS's limit).
        truncate_chars(&s.replace(['\n', '\r'], " "), 99)
    }

    /// The readable SNS body: counts, duration, every failure with its reason (up to a
    /// bound), the approval payload when one is needed. Always under `MAX_BODY_BYTES`.
    pub fn body(&self) -> String {
        let mut b = String::new();
        let g = &self.failed_gateway;
        let _ = writeln!(b, "Storage Gateway recovery: {}", self.status.as_str().to_uppercase());
        let _ = writeln!(b, "{}", self.summary);
        let _ = writeln!(b);
        let _ = writeln!(
            b,
            "Failed gateway:  {} ({}){}",
            g.name.as_deref().unwrap_or("?"),
            g.id,
            g.kind.map(|k| format!(", {}", k.as_api())).unwrap_or_default()
        );
        let _ = writeln!(b, "                 {}", g.arn);
        if let Some(s) = &self.standby_gateway {
            let _ = writeln!(b, "Standby gateway: {s}");
        }
        let _ = writeln!(b, "Recovery id:     {}", self.recovery_id);
        let _ = writeln!(b, "Started:         {}", self.started_at);
        let _ = writeln!(b, "Finished:        {}", self.finished_at);
        let _ = writeln!(
            b,
            "Duration:        {:.1} s this run, {:.1} s in all ({} run{})",
            self.duration_ms as f64 / 1000.0,
            self.total_duration_ms as f64 / 1000.0,
            self.slice,
            if self.slice == 1 { "" } else { "s" }
        );
        if let Some(d) = &self.disable {
            let _ = writeln!(
                b,
                "DisableGateway:  {} ({}){}",
                d.action,
                d.reason,
                d.at.as_ref().map(|a| format!(" at {a}")).unwrap_or_default()
            );
        }
        for (what, c, done, already) in [
            ("Tapes", &self.tapes, "retrieved", "already on the standby"),
            ("Volumes", &self.volumes, "snapshotted", "already snapshotted"),
        ] {
            if c.total == 0 {
                continue;
            }
            let _ = writeln!(b);
            if what == "Tapes" && !self.listing_complete {
                let _ = writeln!(b, "{what}: {} listed so far (the listing of recovery points is incomplete)", c.total);
            } else {
                let _ = writeln!(b, "{what}: {}", c.total);
            }
            for (label, n) in [
                (done, c.done),
                (already, c.already_done),
                ("failed", c.failed),
                ("not attempted yet", c.pending),
                ("planned", c.planned),
            ] {
                if n > 0 || label == "failed" {
                    let _ = writeln!(b, "  {label:<24}{n:>6}");
                }
            }
        }
        if let Some(a) = &self.approval {
            let _ = writeln!(b);
            let _ = writeln!(b, "To approve DisableGateway (irreversible) and recover, invoke recover-gateway with:");
            let _ = writeln!(b, "  {a}");
        }
        let failures: Vec<&ItemResult> =
            self.tape_results.iter().chain(&self.volume_results).filter(|i| i.outcome == Outcome::Failed).collect();
        if !failures.is_empty() {
            let _ = writeln!(b);
            let _ = writeln!(b, "Failures ({}):", failures.len());
            for (n, f) in failures.iter().enumerate() {
                let line = format!(
                    "  {}  {}: {}\n",
                    f.id,
                    f.code.as_deref().unwrap_or("error"),
                    truncate_chars(f.message.as_deref().unwrap_or(""), 300)
                );
                if n >= MAX_FAILURES_LISTED || b.len() + line.len() > MAX_BODY_BYTES - 512 {
                    let _ = writeln!(b, "  ... and {} more (see the logs)", failures.len() - n);
                    break;
                }
                b.push_str(&line);
            }
        }
        let _ = writeln!(b);
        let _ = writeln!(
            b,
            "Every tape and volume, with its outcome, is in the function's logs (log message \"recovery item\", recoveryId {}).",
            self.recovery_id
        );
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: Status, tapes: usize, failed: usize) -> RecoveryReport {
        let tape_results: Vec<ItemResult> = (0..tapes)
            .map(|i| {
                let id = format!("TAPE{i:06}");
                let arn = format!("arn:aws:storagegateway:us-east-1:123456789012:tape/{id}");
                if i < failed {
                    ItemResult::new(&id, &arn, Outcome::Failed).note("x".repeat(400))
                } else {
                    ItemResult::new(&id, &arn, Outcome::Done)
                }
            })
            .collect();
        RecoveryReport {
            status,
            summary: "done".into(),
            recovery_id: "r".into(),
            failed_gateway: GatewayRef {
                arn: "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B".into(),
                id: "sgw-12A3456B".into(),
                name: Some("tape-primary".into()),
                kind: Some(GatewayKind::Tape),
            },
            standby_gateway: Some("arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-23B4567C".into()),
            dry_run: false,
            started_at: "2026-11-25T10:00:00Z".into(),
            finished_at: "2026-11-25T10:00:10Z".into(),
            duration_ms: 10_000,
            total_duration_ms: 10_000,
            slice: 1,
            disable: None,
            tapes: Counts::of(&tape_results),
            volumes: Counts::default(),
            approval: None,
            retryable: false,
            tape_results,
            volume_results: vec![],
            listing_complete: true,
        }
    }

    #[test]
    fn the_subject_says_the_outcome_in_under_100_characters() {
        let r = report(Status::Partial, 1500, 2);
        assert_eq!(r.subject(), "Recovered 1498/1500 tapes from sgw-12A3456B to sgw-23B4567C, 2 failed");
        let ok = report(Status::Completed, 3, 0);
        assert_eq!(ok.subject(), "Recovered 3/3 tapes from sgw-12A3456B to sgw-23B4567C");
        let mut long = report(Status::Refused, 0, 0);
        long.summary = "a very long reason\nwith a line break ".repeat(10);
        let s = long.subject();
        assert!(s.chars().count() < 100 && !s.contains('\n'), "{s}");
    }

    #[test]
    fn the_body_stays_under_the_sns_limit_whatever_fails() {
        let r = report(Status::Partial, 1500, 1500);
        let body = r.body();
        assert!(body.len() < MAX_BODY_BYTES, "{}", body.len());
        assert!(body.contains("Failures (1500):"));
        assert!(body.contains("more (see the logs)"));
        assert!(body.contains("TAPE000000"));
    }

    #[test]
    fn the_body_lists_counts_and_every_failure_when_few() {
        let r = report(Status::Partial, 10, 2);
        let body = r.body();
        assert!(body.contains("retrieved                    8"), "{body}");
        assert!(body.contains("failed                       2"), "{body}");
        assert!(body.contains("TAPE000001"));
        assert!(!body.contains("more (see the logs)"));
    }
}
