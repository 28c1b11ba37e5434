use serde::{Deserialize, Serialize};

use crate::arn::{GatewayArn, VolumeArn};

/// `VolumeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeKind {
    Cached,
    Stored,
    Other,
}

impl VolumeKind {
    pub fn from_api(s: &str) -> Self {
        match s {
            "CACHED iSCSI" | "CACHED" => Self::Cached,
            "STORED iSCSI" | "STORED" => Self::Stored,
            _ => Self::Other,
        }
    }
}

/// A volume as `ListVolumes` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub volume: VolumeArn,
    pub kind: VolumeKind,
    pub size_bytes: Option<i64>,
}

/// One entry of `ListVolumeRecoveryPoints`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRecoveryPoint {
    pub volume: VolumeArn,
    /// As AWS sends it: a string (`2026-11-20T10:00:00.000Z`).
    pub time: String,
    pub size_bytes: Option<i64>,
}

/// KMS settings of a volume.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KmsSettings {
    pub encrypted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A cached volume as `DescribeCachediSCSIVolumes` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedVolume {
    pub volume: VolumeArn,
    /// `VolumeStatus` as sent (`AVAILABLE`, `CREATING`, `IRRECOVERABLE`, ...).
    pub status: String,
    pub size_bytes: Option<i64>,
    pub target_arn: Option<String>,
    pub target_name: Option<String>,
    pub network_interface: Option<String>,
    pub port: Option<i32>,
    pub kms: KmsSettings,
}

impl CachedVolume {
    /// Whether the volume is usable, or will be without anyone's help (`VolumeStatus`
    /// `AVAILABLE`, or on its way there); `IRRECOVERABLE`, `DELETING` and the
    /// pass-through and not-configured states need a person.
    pub fn healthy(&self) -> bool {
        matches!(self.status.as_str(), "AVAILABLE" | "BOOTSTRAPPING" | "CREATING" | "RESTORE" | "RESTORING")
    }
}

/// `CreateCachediSCSIVolume` from a source volume's latest recovery point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneRequest {
    pub gateway: GatewayArn,
    pub source: VolumeArn,
    pub size_bytes: i64,
    pub target_name: String,
    pub network_interface: String,
    /// 5 to 100 characters; the same token makes a retry return the same volume.
    pub client_token: String,
    pub kms: KmsSettings,
    pub tags: Vec<(String, String)>,
}

/// What `CreateCachediSCSIVolume` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedVolume {
    pub volume: VolumeArn,
    pub target_arn: Option<String>,
}

/// The disks of a cache or an upload buffer (`DescribeCache`, `DescribeUploadBuffer`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disks {
    pub disk_ids: Vec<String>,
    pub allocated_bytes: i64,
}
