use serde::{Deserialize, Serialize};

use crate::model::KmsSettings;

/// What a gateway held when the monitor last looked (`gateway#<arn>` / `inventory`): so a
/// recovery can still name its tapes and clone its volumes when the failed gateway cannot
/// be read, and the report can tell which tapes were written after their recovery point.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    /// Epoch milliseconds.
    pub at: i64,
    pub tapes: Vec<InventoryTape>,
    pub volumes: Vec<InventoryVolume>,
}

/// A tape, by barcode (its ARN follows from the gateway's), kept small: a gateway holds up
/// to 1,500 and an item up to 400 KB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryTape {
    pub barcode: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_bytes: Option<i64>,
    /// Its newest recovery point (epoch seconds), when one could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<i64>,
    /// When its used bytes were last seen to change (epoch ms): a write the ledger knows of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_write_seen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryVolume {
    pub volume_arn: String,
    pub size_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    #[serde(default)]
    pub kms: KmsSettings,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point: Option<String>,
}
