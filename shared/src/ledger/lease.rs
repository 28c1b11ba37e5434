use serde::{Deserialize, Serialize};

/// Who works on a gateway right now (`gateway#<arn>` / `lease`). One item per gateway,
/// taken with a conditional put (absent, or expired), renewed by a heartbeat that checks
/// the record version number, deleted at the end, taken over once expired: the DynamoDB
/// lock client's design.
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
}
