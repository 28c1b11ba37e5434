use std::future::Future;

use serde_json::{Map, Value};

use super::AwsError;

/// Where an item lives: the partition key `pk` and the sort key `sk` of the ledger table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// One item of the ledger. Every item carries a record version number, so writers can
/// compare and set; `expires_at` (epoch seconds) lets DynamoDB's TTL delete it, eventually
/// (TTL is lazy, so nothing relies on it for correctness).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    pub version: u64,
    pub expires_at: Option<i64>,
    /// The item's own attributes (a JSON object; stored as native DynamoDB attributes).
    pub body: Map<String, Value>,
}

/// What must hold for a write to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Nothing.
    Always,
    /// No item with this key exists.
    Absent,
    /// The item exists with this record version number (compare-and-set).
    Version(u64),
    /// Absent, or the item's string attribute `field` is `value` (the same writer again).
    AbsentOrEquals { field: &'static str, value: String },
}

/// Whether a conditional write happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    /// The condition did not hold: someone else wrote first.
    Conflict,
}

/// The ledger: one DynamoDB table owned by the stack, keyed by `pk` and `sk`.
pub trait Ledger: Send + Sync {
    /// `GetItem`, strongly consistent.
    fn get(&self, key: &Key) -> impl Future<Output = Result<Option<Item>, AwsError>> + Send;

    /// `Query` of one partition, every page, strongly consistent: the items whose sort key
    /// starts with `sk_prefix`, in sort key order.
    fn query(&self, pk: &str, sk_prefix: &str) -> impl Future<Output = Result<Vec<Item>, AwsError>> + Send;

    /// `PutItem` under a condition.
    fn put(&self, item: &Item, condition: &Condition) -> impl Future<Output = Result<Written, AwsError>> + Send;

    /// `DeleteItem` under a condition.
    fn delete(&self, key: &Key, condition: &Condition) -> impl Future<Output = Result<Written, AwsError>> + Send;

    /// Where the items live, for reports (`DynamoDB table gateway-recovery-ledger`).
    fn location(&self) -> String;
}
