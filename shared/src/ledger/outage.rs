use serde::{Deserialize, Serialize};

/// One outage's recovery (`gateway#<arn>` / `outage#<outage id>`): so a replayed hand-off
/// for a recovered outage does nothing, and a continuation knows what its slices did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outage {
    pub recovery_id: String,
    pub status: OutageStatus,
    /// Epoch milliseconds.
    pub started_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutageStatus {
    InProgress,
    Completed,
}
