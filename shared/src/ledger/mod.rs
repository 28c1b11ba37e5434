//! The ledger's items: every piece of state the functions keep, in one DynamoDB table
//! (`LEDGER_TABLE_NAME`), keyed by `pk` and `sk`, each written with a condition. Nothing
//! is ever written to a gateway: operator configuration stays in tags, read-only.
//!
//! | Item | `pk` | `sk` | Written by |
//! |---|---|---|---|
//! | [`Lease`] | `gateway#<arn>` | `lease` | recover |
//! | [`Outage`] | `gateway#<arn>` | `outage#<outage id>` | recover |
//! | [`DisableAudit`] | `gateway#<arn>` | `audit#disable` | recover, before `DisableGateway` |
//! | [`SnapshotMarker`] | `gateway#<arn>` | `snapshot#<volume arn>#<recovery point>` | recover, before the snapshot call |
//! | [`CloneRecord`] | `gateway#<arn>` | `clone#<volume arn>` | recover, before the clone call |
//! | [`RunRecord`] | `gateway#<arn>` | `run#<start ms>#<recovery id>#<slice>` | recover, at the end of every run |
//! | [`Inventory`] | `gateway#<arn>` | `inventory` | monitor (readiness) |
//! | [`Watch`] | `fleet#<region>` | `gateway#<arn>` | monitor: the debounce of a gateway not seen online |
//! | [`SweepRecord`] | `fleet#<region>` | `sweep` | monitor, every sweep |
//! | [`Hold`] | `region#<region>` | `hold#fleet`, `hold#health#<event arn>` | monitor |
//! | [`HoldRelease`] | `region#<region>` | `audit#release#<ms>#<hold id>` | monitor, when an operator lifts a hold |
//! | [`DisableCount`] | `region#<region>` | `disables#<hour>` | recover, before an automatic disable |
//!
//! Every item has `version` (its record version number; writers compare and set) and,
//! where it should go away by itself, `expiresAt` (the table's TTL attribute).

pub mod audit;
mod hold;
mod inventory;
mod lease;
mod markers;
mod outage;
mod runs;
mod watch;

pub use audit::{DisableAudit, HoldRelease};
pub use hold::{DisableCount, Hold, HoldKind, HoldState};
pub use inventory::{Inventory, InventoryTape, InventoryVolume};
pub use lease::Lease;
pub use markers::{CloneRecord, SnapshotMarker, SnapshotState};
pub use outage::{Outage, OutageStatus};
pub use runs::RunRecord;
pub use watch::{SweepRecord, Watch, WatchState};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::arn::GatewayArn;
use crate::ports::{AwsError, Condition, Item, Key, Ledger, Written};

pub fn gateway_pk(gateway: &GatewayArn) -> String {
    format!("gateway#{gateway}")
}

pub fn fleet_pk(region: &str) -> String {
    format!("fleet#{region}")
}

pub fn region_pk(region: &str) -> String {
    format!("region#{region}")
}

/// A typed item and its record version number.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    pub key: Key,
    pub value: T,
    pub version: u64,
}

/// An item's body that could not be read back as its type: a bug, or someone else's edit.
fn unreadable(key: &Key, e: &serde_json::Error) -> AwsError {
    AwsError::malformed("GetItem", format!("ledger item {}/{} is not readable: {e}", key.pk, key.sk))
}

fn decode<T: DeserializeOwned>(item: Item) -> Result<Stored<T>, AwsError> {
    let value = serde_json::from_value(Value::Object(item.body)).map_err(|e| unreadable(&item.key, &e))?;
    Ok(Stored { key: item.key, value, version: item.version })
}

fn encode<T: Serialize>(key: &Key, value: &T, version: u64, expires_at: Option<i64>) -> Result<Item, AwsError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(body)) => Ok(Item { key: key.clone(), version, expires_at, body }),
        Ok(_) => Err(AwsError::malformed("PutItem", "a ledger item must be a JSON object")),
        Err(e) => Err(AwsError::malformed("PutItem", e.to_string())),
    }
}

pub async fn load<T: DeserializeOwned>(l: &impl Ledger, key: &Key) -> Result<Option<Stored<T>>, AwsError> {
    l.get(key).await?.map(decode).transpose()
}

/// Every item of a partition whose sort key starts with `prefix`.
pub async fn load_all<T: DeserializeOwned>(
    l: &impl Ledger,
    pk: &str,
    prefix: &str,
) -> Result<Vec<Stored<T>>, AwsError> {
    l.query(pk, prefix).await?.into_iter().map(decode).collect()
}

/// Creates an item that must not exist yet (version 1).
pub async fn create<T: Serialize>(
    l: &impl Ledger,
    key: &Key,
    value: &T,
    expires_at: Option<i64>,
) -> Result<Written, AwsError> {
    l.put(&encode(key, value, 1, expires_at)?, &Condition::Absent).await
}

/// Replaces an item if it still has `version` (compare-and-set); writes `version + 1`.
pub async fn replace<T: Serialize>(
    l: &impl Ledger,
    key: &Key,
    value: &T,
    version: u64,
    expires_at: Option<i64>,
) -> Result<Written, AwsError> {
    l.put(&encode(key, value, version + 1, expires_at)?, &Condition::Version(version)).await
}

/// Creates or replaces, whichever the item's state calls for: `current` is the version read.
pub async fn upsert<T: Serialize>(
    l: &impl Ledger,
    key: &Key,
    value: &T,
    current: Option<u64>,
    expires_at: Option<i64>,
) -> Result<Written, AwsError> {
    match current {
        Some(v) => replace(l, key, value, v, expires_at).await,
        None => create(l, key, value, expires_at).await,
    }
}

/// Writes under any condition, at a given version.
pub async fn write<T: Serialize>(
    l: &impl Ledger,
    key: &Key,
    value: &T,
    version: u64,
    condition: &Condition,
    expires_at: Option<i64>,
) -> Result<Written, AwsError> {
    l.put(&encode(key, value, version, expires_at)?, condition).await
}

/// A year and a month, in seconds: how long run history is kept.
pub const HISTORY_SECS: i64 = 400 * 86_400;
