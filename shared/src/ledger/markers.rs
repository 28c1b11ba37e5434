use serde::{Deserialize, Serialize};

/// A snapshot of one volume recovery point (`gateway#<arn>` /
/// `snapshot#<volume arn>#<recovery point time>`), written *before* the call, so a rerun
/// after a crash knows a call may have been made and says so instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotMarker {
    pub recovery_id: String,
    pub state: SnapshotState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// Epoch milliseconds.
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotState {
    /// The call was (or was about to be) made; its answer was not recorded.
    Requested,
    Taken,
}

/// A clone of one volume onto the standby (`gateway#<arn>` / `clone#<volume arn>`): the
/// name and the client token chosen, written before the call, so every rerun asks for the
/// same clone and AWS answers the same volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneRecord {
    pub recovery_id: String,
    pub standby_gateway_arn: String,
    pub target_name: String,
    pub client_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    /// Epoch milliseconds.
    pub at: i64,
}
