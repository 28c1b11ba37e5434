use serde::{Deserialize, Serialize};

use super::Tags;
use crate::arn::GatewayArn;

/// The kinds of gateway, as `GatewayType` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    pub fn as_api(self) -> &'static str {
        match self {
            Self::Tape => "VTL",
            Self::CachedVolume => "CACHED",
            Self::StoredVolume => "STORED",
            Self::Other => "OTHER",
        }
    }

    /// Gateways this project can bring back onto a standby.
    pub fn is_volume(self) -> bool {
        matches!(self, Self::CachedVolume | Self::StoredVolume)
    }
}

/// One gateway as `ListGateways` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySummary {
    pub arn: GatewayArn,
    pub name: String,
    pub kind: GatewayKind,
    /// `GatewayOperationalState` is `DISABLED`. This, not `DescribeGatewayInformation`, is
    /// what says a gateway is disabled: whether a disabled gateway still answers a
    /// description is undocumented.
    pub disabled: bool,
}

/// A gateway as `DescribeGatewayInformation` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayDescription {
    pub arn: GatewayArn,
    pub name: String,
    pub kind: GatewayKind,
    /// `GatewayState` (`RUNNING`, `SHUTDOWN`), as AWS sends it.
    pub state: String,
    /// IPv4 addresses of its network interfaces (a volume's iSCSI target listens there).
    pub network_interfaces: Vec<String>,
    /// The tags the description carried. AWS sends "up to 10", so `tags_complete` says
    /// whether these are all of them.
    pub tags: Tags,
    pub tags_complete: bool,
}
