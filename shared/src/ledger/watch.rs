use serde::{Deserialize, Serialize};

use crate::model::GatewayKind;

/// The debounce of one watched gateway that is not online (`fleet#<region>` /
/// `gateway#<arn>`). An online gateway has no item: writes happen only on changes, and a
/// sweep of 1,000 gateways reads them all in one `Query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Watch {
    pub gateway_arn: String,
    pub name: String,
    pub kind: GatewayKind,
    pub state: WatchState,
    /// When it was first seen offline (epoch seconds).
    pub offline_since: i64,
    /// The last sweep that saw it online, if the ledger knows (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_online: Option<i64>,
    /// `<gateway id>@<offline since>`, once declared failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage_id: Option<String>,
    /// When the hand-off was claimed (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_off_at: Option<i64>,
    /// Whether the hand-off message went out (a claim whose publish was lost is retried).
    #[serde(default)]
    pub published: bool,
    /// The hold it was handed off under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// When the delayed re-probe for the end of its grace period was sent (epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reprobe_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WatchState {
    /// Offline, not yet for the whole grace period.
    Suspected,
    /// Declared failed and handed off.
    HandedOff,
}

/// The last sweep of a region (`fleet#<region>` / `sweep`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepRecord {
    /// Epoch seconds.
    pub at: i64,
    pub watched: usize,
    pub offline: usize,
}
