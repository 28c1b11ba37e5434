//! The recovery report: every tape and volume accounted for. The handler returns it as
//! JSON; SNS gets a one-line subject that says the outcome and a readable body that stays
//! under SNS's 256 KB limit whatever the fleet size; the logs get the full per-item list.

mod body;
mod rpo;

pub use rpo::{Rpo, Rto, recovery_objectives};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::error::{AwsError, ErrorKind};
use crate::model::GatewayKind;
use crate::pacing::PacerStats;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every tape and volume is recovered (and verified, or said otherwise in the report).
    Completed,
    /// The run ended with failures, or with work left that a rerun will finish.
    Partial,
    /// Out of time: a continuation was published and the next invocation goes on.
    Continued,
    /// `DisableGateway` is needed and not allowed without an operator: the policy, a
    /// correlated-outage hold, or the hourly cap.
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
    /// AWS could not be asked, or answered in a way no retry fixes (access denied, a
    /// missing table): the invocation fails so alarms fire.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
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

    /// Statuses the run that did the work reports; a duplicate or a replay says nothing.
    pub fn publishes(self) -> bool {
        !matches!(self, Self::AlreadyCompleted | Self::Duplicate)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Retrieved, cloned or snapshotted by this recovery.
    Done,
    /// Found already on the standby (or already cloned or snapshotted) before this recovery.
    AlreadyDone,
    Failed,
    /// Not attempted yet: the run stopped first (out of time, the standby failed, throttled
    /// until the budget ran out).
    Pending,
    /// What a dry run would do.
    Planned,
    /// Cannot be recovered by this tool; the item says how a person brings it back.
    Manual,
}

/// What AWS answered for one item that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemError {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl From<&AwsError> for ItemError {
    fn from(e: &AwsError) -> Self {
        Self { kind: e.kind, code: e.code.clone(), message: e.message.clone() }
    }
}

/// Where a cloned volume can be reached: what an operator points the iSCSI initiators at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconnect {
    pub volume_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    pub target_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interface: Option<String>,
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    /// Tape barcode or volume id.
    pub id: String,
    pub arn: String,
    pub outcome: Outcome,
    /// The recovery point used (RFC 3339 for tapes; as AWS wrote it for volumes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
    /// Anything else an operator should know about this item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<Reconnect>,
    /// The tape's status on the standby when it is not `RECOVERED` yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby_status: Option<String>,
    /// Whether the result was confirmed on the standby after the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

impl ItemResult {
    pub fn new(id: &str, arn: &str, outcome: Outcome) -> Self {
        Self {
            id: id.to_owned(),
            arn: arn.to_owned(),
            outcome,
            recovery_point: None,
            error: None,
            note: None,
            snapshot_id: None,
            reconnect: None,
            standby_status: None,
            verified: None,
        }
    }

    pub fn failed(id: &str, arn: &str, e: &AwsError) -> Self {
        Self { error: Some(e.into()), ..Self::new(id, arn, Outcome::Failed) }
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    pub fn at(mut self, recovery_point: Option<String>) -> Self {
        self.recovery_point = recovery_point;
        self
    }

    /// Whether trying this item again may succeed.
    pub fn retryable(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.kind.retryable())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub already_done: usize,
    pub failed: usize,
    pub pending: usize,
    pub planned: usize,
    #[serde(default)]
    pub manual: usize,
    /// Of `done`: confirmed on the standby (tapes `RECOVERED`, clones in a good state).
    #[serde(default)]
    pub verified: usize,
    /// Of `done`: not confirmed yet (a tape still arriving), to be checked again.
    #[serde(default)]
    pub unverified: usize,
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
                Outcome::Manual => c.manual += 1,
            }
            match (i.outcome, i.verified) {
                (Outcome::Done | Outcome::AlreadyDone, Some(true)) => c.verified += 1,
                (Outcome::Done | Outcome::AlreadyDone, Some(false)) => c.unverified += 1,
                _ => {}
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisableAction {
    /// It was disabled before this recovery.
    AlreadyDisabled,
    /// This recovery disabled it.
    Disabled,
    /// A dry run: it would be disabled.
    WouldDisable,
    /// It must be disabled to recover, and an operator must approve.
    NeedsApproval,
    /// Nothing to retrieve, or a volume gateway: no disable.
    NotNeeded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisableRecord {
    pub action: DisableAction,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// A hold that kept (or would keep) this recovery from disabling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldRef {
    pub id: String,
    pub reason: String,
    pub since: String,
}

/// Where this recovery's state lives, for an operator who wants to look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerRefs {
    pub location: String,
    /// `pk / sk` of the lease and of the audit record.
    pub lease: String,
    pub audit: String,
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
    pub standby_gateway: Option<GatewayRef>,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<HoldRef>,
    pub tapes: Counts,
    pub volumes: Counts,
    /// The payload an operator sends to approve `DisableGateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Value>,
    /// Whether trying again later may succeed (for `error` and `partial`).
    pub retryable: bool,
    /// Whether every recovery point was listed: if not, the counts are a lower bound.
    pub listing_complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpo: Option<Rpo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rto: Option<Rto>,
    /// What a person does next.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<String>,
    pub ledger: LedgerRefs,
    /// How the run shared the account's Storage Gateway rate.
    pub pacing: PacerStats,
    pub tape_results: Vec<ItemResult>,
    pub volume_results: Vec<ItemResult>,
}

impl RecoveryReport {
    /// The SNS subject: one line under 100 characters that says the outcome.
    pub fn subject(&self) -> String {
        body::subject(self)
    }

    /// The readable SNS body, always under `MAX_BODY_BYTES`.
    pub fn body(&self) -> String {
        body::body(self)
    }
}

/// SNS's limit for a message body, with headroom for the attributes.
pub const MAX_BODY_BYTES: usize = 250_000;
