use serde::{Deserialize, Serialize};

use crate::arn::{GatewayArn, TapeArn};

/// `TapeStatus`. AWS lists more values than its documentation explains; anything else is
/// kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TapeStatus {
    Creating,
    Available,
    InTransitToVts,
    Archived,
    Retrieving,
    Retrieved,
    Recovered,
    Irrecoverable,
    Deleting,
    Deleted,
    #[serde(untagged)]
    Other(String),
}

impl TapeStatus {
    pub fn from_api(s: &str) -> Self {
        match s {
            "CREATING" => Self::Creating,
            "AVAILABLE" => Self::Available,
            "IN_TRANSIT_TO_VTS" => Self::InTransitToVts,
            "ARCHIVED" => Self::Archived,
            "RETRIEVING" => Self::Retrieving,
            "RETRIEVED" => Self::Retrieved,
            "RECOVERED" => Self::Recovered,
            "IRRECOVERABLE" => Self::Irrecoverable,
            "DELETING" => Self::Deleting,
            "DELETED" => Self::Deleted,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_api(&self) -> &str {
        match self {
            Self::Creating => "CREATING",
            Self::Available => "AVAILABLE",
            Self::InTransitToVts => "IN_TRANSIT_TO_VTS",
            Self::Archived => "ARCHIVED",
            Self::Retrieving => "RETRIEVING",
            Self::Retrieved => "RETRIEVED",
            Self::Recovered => "RECOVERED",
            Self::Irrecoverable => "IRRECOVERABLE",
            Self::Deleting => "DELETING",
            Self::Deleted => "DELETED",
            Self::Other(s) => s,
        }
    }

    /// Data written to the tape may not have reached AWS yet: a failure now would lose it.
    pub fn at_risk(&self) -> bool {
        matches!(self, Self::Creating | Self::InTransitToVts | Self::Irrecoverable)
    }
}

/// One entry of `DescribeTapeRecoveryPoints`. A tape can have several.
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
    pub status: TapeStatus,
    pub size_bytes: Option<i64>,
    pub used_bytes: Option<i64>,
}

/// A tape anywhere in the region (`ListTapes`), with the gateway it is on, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapeInfo {
    pub tape: TapeArn,
    pub gateway: Option<GatewayArn>,
    pub status: TapeStatus,
    pub size_bytes: Option<i64>,
}
