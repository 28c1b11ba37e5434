use serde::{Deserialize, Serialize};

/// Who works on a gateway right now (`gateway#<arn>` / `lease`). One item per gateway,
/// taken with a conditional put (absent, released or expired), renewed by a heartbeat that
/// checks the record version number, marked released at the end, taken over once expired:
/// the DynamoDB lock client's design. Release keeps the item (until its TTL), so its
/// version keeps counting: a run that read version N before it looked at the gateway and
/// takes the lease at N knows no other run worked in between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// The invocation holding it (its Lambda request id).
    pub owner: String,
    pub recovery_id: String,
    /// Epoch milliseconds.
    pub acquired_at: i64,
    pub renewed_at: i64,
    /// Past this (epoch ms), the lease is dead and may be taken over.
    pub lease_until: i64,
    /// When its holder gave it back (epoch ms): free to take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<i64>,
}

impl Lease {
    /// Nobody holds it at `now_ms`: given back, or expired.
    pub fn free_at(&self, now_ms: i64) -> bool {
        self.released_at.is_some() || self.lease_until < now_ms
    }
}
