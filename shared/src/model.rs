//! What the domain knows about gateways, tapes and volumes: plain data, no SDK types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::arn::{GatewayArn, TapeArn, VolumeArn};

/// Tags of a resource, by key.
pub type Tags = BTreeMap<String, String>;

/// The tags this project reads and writes. All live on the resources themselves, so no
/// database is needed.
pub mod tag {
    /// `true` on a gateway the monitor watches (unless `GATEWAY_ARNS` lists them).
    pub const ENABLED: &str = "recovery:enabled";
    /// When the monitor first saw the gateway offline (RFC 3339).
    pub const OFFLINE_SINCE: &str = "recovery:offline-since";
    /// `handed-off` once the monitor has started a recovery for the current outage.
    pub const STATE: &str = "recovery:state";
    pub const STATE_HANDED_OFF: &str = "handed-off";
    /// When the hand-off was published (RFC 3339).
    pub const HANDED_OFF_AT: &str = "recovery:handed-off-at";
    /// The standby tape gateway's ARN, on a failed tape gateway.
    pub const STANDBY: &str = "recovery:standby-gateway";
    /// `true`: under `DISABLE_POLICY=tagged`, the gateway may be disabled without approval.
    pub const AUTO_DISABLE: &str = "recovery:auto-disable";
    /// Written just before `DisableGateway`: who disabled it and when (the audit trail).
    pub const DISABLED_BY: &str = "recovery:disabled-by";
    pub const DISABLED_AT: &str = "recovery:disabled-at";
    /// `recovery:lease:<request id>` = `<recovery id> <start ms> <heartbeat>`: a run that is
    /// changing things (its lease).
    pub const LEASE_PREFIX: &str = "recovery:lease:";
    /// The outage whose recovery completed, so a replayed hand-off does nothing.
    pub const COMPLETED: &str = "recovery:completed";
    /// On a volume: the recovery point time a snapshot was started for, and then taken.
    pub const SNAPSHOT_STARTED: &str = "recovery:snapshot-started";
    pub const SNAPSHOT_OF: &str = "recovery:snapshot-of";
    pub const SNAPSHOT_ID: &str = "recovery:snapshot-id";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GatewayKind {
    /// `VTL`: a tape gateway.
    #[serde(rename = "VTL")]
    Tape,
    /// `CACHED`: a cached volume gateway.
    #[serde(rename = "CACHED")]
    CachedVolume,
    /// `STORED`: a stored volume gateway.
    #[serde(rename = "STORED")]
    StoredVolume,
    /// A file gateway or anything newer.
    #[serde(rename = "OTHER")]
    Other,
}

impl GatewayKind {
    pub fn from_api(s: &str) -> Self {
        match s {
            "VTL" | "VTL_SNOW" => Self::Tape,
            "CACHED" => Self::CachedVolume,
            "STORED" => Self::StoredVolume,
            _ => Self::Other,
        }
    }

    pub fn as_api(&self) -> &'static str {
        match self {
            Self::Tape => "VTL",
            Self::CachedVolume => "CACHED",
            Self::StoredVolume => "STORED",
            Self::Other => "OTHER",
        }
    }
}

/// One gateway as `ListGateways` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySummary {
    pub arn: GatewayArn,
    pub name: String,
    pub kind: GatewayKind,
    /// `GatewayOperationalState` is `DISABLED`.
    pub disabled: bool,
}

/// A connected gateway as `DescribeGatewayInformation` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayDescription {
    pub arn: GatewayArn,
    pub name: String,
    pub kind: GatewayKind,
    pub state: String,
    /// The tags the description carried; AWS sends at most some of them, so
    /// `tags_complete` says whether these are all.
    pub tags: Tags,
    pub tags_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapeRecoveryPoint {
    pub tape: TapeArn,
    /// Epoch seconds.
    pub time: Option<i64>,
    pub size_bytes: Option<i64>,
}

/// A tape on a gateway (`DescribeTapes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tape {
    pub tape: TapeArn,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRecoveryPoint {
    pub volume: VolumeArn,
    /// As AWS sends it: a string (`2026-11-20T10:00:00.000Z`).
    pub time: String,
    pub size_bytes: Option<i64>,
}
