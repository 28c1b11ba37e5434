use serde::{Deserialize, Serialize};

/// Written before `DisableGateway` (`gateway#<arn>` / `audit#disable`), with a condition:
/// absent, or written by this same recovery (a rerun after a crash). No audit item, no
/// disable. It is also published on the report topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisableAudit {
    pub recovery_id: String,
    pub request_id: String,
    pub gateway_arn: String,
    pub standby_gateway_arn: String,
    /// Why it is allowed: the opt-in, or the operator's approval.
    pub reason: String,
    /// Tapes known to need the disable (a lower bound while the listing goes on).
    pub tapes: usize,
    pub tapes_complete: bool,
    /// Epoch milliseconds.
    pub at: i64,
    /// `recover-gateway`, or the operator named in an approval.
    pub by: String,
}

/// The attribute the rerun condition reads.
pub const RECOVERY_ID: &str = "recoveryId";

/// An operator lifting a hold (`region#<region>` / `audit#release#<ms>#<hold id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldRelease {
    pub hold_id: String,
    pub operator: String,
    pub reason: String,
    /// Epoch milliseconds.
    pub at: i64,
    /// The gateways the release let recover.
    pub gateways: Vec<String>,
}
