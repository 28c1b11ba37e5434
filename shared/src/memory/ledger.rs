use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde_json::Value;

use super::lock;
use crate::ports::{AwsError, Condition, Item, Key, Ledger, Written};

/// The ledger in a map, with DynamoDB's conditional-write semantics.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    items: Mutex<BTreeMap<Key, Item>>,
    failures: Mutex<VecDeque<AwsError>>,
    writes: Mutex<usize>,
}

fn holds(existing: Option<&Item>, c: &Condition) -> bool {
    match (c, existing) {
        (Condition::Always, _) => true,
        (Condition::Absent, e) => e.is_none(),
        (Condition::Version(v), Some(e)) => e.version == *v,
        (Condition::Version(_), None) => false,
        (Condition::AbsentOrEquals { .. }, None) => true,
        (Condition::AbsentOrEquals { field, value }, Some(e)) => {
            e.body.get(*field).and_then(Value::as_str) == Some(value.as_str())
        }
    }
}

impl MemoryLedger {
    /// Every item, in key order.
    pub fn items(&self) -> Vec<Item> {
        lock(&self.items).values().cloned().collect()
    }

    /// Writes (puts and deletes) so far, including those whose condition failed.
    pub fn writes(&self) -> usize {
        *lock(&self.writes)
    }

    /// The next calls fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = AwsError>) {
        lock(&self.failures).extend(errors);
    }

    fn injected(&self) -> Result<(), AwsError> {
        match lock(&self.failures).pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Ledger for MemoryLedger {
    async fn get(&self, key: &Key) -> Result<Option<Item>, AwsError> {
        self.injected()?;
        Ok(lock(&self.items).get(key).cloned())
    }

    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, AwsError> {
        self.injected()?;
        Ok(lock(&self.items).values().filter(|i| i.key.pk == pk && i.key.sk.starts_with(sk_prefix)).cloned().collect())
    }

    async fn put(&self, item: &Item, condition: &Condition) -> Result<Written, AwsError> {
        self.injected()?;
        *lock(&self.writes) += 1;
        let mut items = lock(&self.items);
        if !holds(items.get(&item.key), condition) {
            return Ok(Written::Conflict);
        }
        items.insert(item.key.clone(), item.clone());
        Ok(Written::Done)
    }

    async fn delete(&self, key: &Key, condition: &Condition) -> Result<Written, AwsError> {
        self.injected()?;
        *lock(&self.writes) += 1;
        let mut items = lock(&self.items);
        if !holds(items.get(key), condition) {
            return Ok(Written::Conflict);
        }
        items.remove(key);
        Ok(Written::Done)
    }

    fn location(&self) -> String {
        "the in-memory ledger".to_owned()
    }
}
