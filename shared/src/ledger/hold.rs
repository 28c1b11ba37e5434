use serde::{Deserialize, Serialize};

/// A correlated-outage hold on a region (`region#<region>` / `hold#...`): while one is
/// active, no recovery in the region disables a gateway without an operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub id: String,
    pub region: String,
    pub kind: HoldKind,
    pub state: HoldState,
    /// Epoch milliseconds.
    pub since: i64,
    /// Why, in a sentence (for a Health event, its description).
    pub reason: String,
    /// Watched gateways offline and watched in all, when the hold was last updated.
    pub offline: usize,
    pub watched: usize,
    /// The gateways offline under the hold.
    pub gateways: Vec<String>,
    /// Epoch milliseconds.
    pub updated_at: i64,
    /// Whether the one alert for this event went out.
    #[serde(default)]
    pub alerted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum HoldKind {
    /// Many watched gateways of the region offline at once.
    Fleet,
    /// An open AWS Health event for Storage Gateway in the region.
    #[serde(rename_all = "camelCase")]
    Health { event_arn: String, event_type_code: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum HoldState {
    Active,
    /// An operator lifted it; it stays recorded until the event ends, so the same event
    /// does not hold the region again.
    #[serde(rename_all = "camelCase")]
    Released {
        by: String,
        at: i64,
        reason: String,
    },
}

impl Hold {
    pub fn active(&self) -> bool {
        self.state == HoldState::Active
    }

    /// The sort key: one fleet hold per region, one per Health event.
    pub fn sort_key(kind: &HoldKind) -> String {
        match kind {
            HoldKind::Fleet => "hold#fleet".to_owned(),
            HoldKind::Health { event_arn, .. } => format!("hold#health#{event_arn}"),
        }
    }
}

/// Automatic disables in a region in one hour (`region#<region>` / `disables#<hour>`),
/// counted with compare-and-set so the cap holds however many recoveries run at once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisableCount {
    pub count: u32,
    pub gateways: Vec<String>,
}
