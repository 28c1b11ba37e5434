//! One DynamoDB table: its key schema, settings and items, kept in key order (partition,
//! then sort key in DynamoDB's order) so a Query reads a partition as DynamoDB does.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::DynamoError;
use super::value::{AttributeValue, Item, KeyValue, item_size};

/// DynamoDB's limit on a partition key value.
const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// DynamoDB's limit on a sort key value.
const MAX_SORT_KEY_BYTES: usize = 1024;

/// A key attribute: its name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAttribute {
    pub name: String,
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeySchema {
    pub hash: KeyAttribute,
    pub range: Option<KeyAttribute>,
}

/// An item's primary key: partition key value, and sort key value if the table has one.
pub type PrimaryKey = (KeyValue, Option<KeyValue>);

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub key: KeySchema,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    pub read_capacity: i64,
    pub write_capacity: i64,
    /// Epoch seconds.
    pub created: f64,
    /// The TTL attribute while TTL is enabled. Expired items are not removed: DynamoDB
    /// deletes them lazily, up to days later, and until then they stay readable.
    pub ttl_attribute: Option<String>,
    pub deletion_protection: bool,
    items: BTreeMap<KeyValue, BTreeMap<Option<KeyValue>, Item>>,
}

fn key_error() -> DynamoError {
    DynamoError::validation("The provided key element does not match the schema")
}

fn empty_key(name: &str) -> DynamoError {
    DynamoError::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
    ))
}

impl Table {
    pub fn new(name: &str, arn: String, id: String, key: KeySchema, created: f64) -> Self {
        Self {
            name: name.to_owned(),
            arn,
            id,
            key,
            billing_mode: "PAY_PER_REQUEST".to_owned(),
            read_capacity: 0,
            write_capacity: 0,
            created,
            ttl_attribute: None,
            deletion_protection: false,
            items: BTreeMap::new(),
        }
    }

    fn key_attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.key.hash).chain(self.key.range.as_ref())
    }

    /// The primary key of an item to write (`PutItem`'s `Item`), with PutItem's wording.
    pub fn key_of_item(&self, item: &Item) -> Result<PrimaryKey, DynamoError> {
        let mut values = Vec::new();
        for k in self.key_attributes() {
            let v = item.get(&k.name).ok_or_else(|| {
                DynamoError::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    k.name
                ))
            })?;
            let kv = v.as_key().filter(|kv| kv.type_name() == k.kind).ok_or_else(|| {
                DynamoError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    k.name,
                    k.kind,
                    v.type_name()
                ))
            })?;
            if kv.is_empty() {
                return Err(empty_key(&k.name));
            }
            values.push(kv);
        }
        self.check_key_sizes(values)
    }

    /// The primary key a request names (`Key`, `ExclusiveStartKey`): exactly the key
    /// attributes, of the schema's types.
    pub fn key_of_request(&self, key: &Item) -> Result<PrimaryKey, DynamoError> {
        if key.len() != self.key_attributes().count() {
            return Err(key_error());
        }
        let mut values = Vec::new();
        for k in self.key_attributes() {
            let kv = key.get(&k.name).and_then(AttributeValue::as_key).filter(|kv| kv.type_name() == k.kind);
            let kv = kv.ok_or_else(key_error)?;
            if kv.is_empty() {
                return Err(empty_key(&k.name));
            }
            values.push(kv);
        }
        self.check_key_sizes(values)
    }

    fn check_key_sizes(&self, values: Vec<KeyValue>) -> Result<PrimaryKey, DynamoError> {
        let mut values = values.into_iter();
        let hash = values.next().ok_or_else(key_error)?;
        if hash.size() > MAX_PARTITION_KEY_BYTES {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of{MAX_PARTITION_KEY_BYTES} bytes"
            )));
        }
        let range = values.next();
        if range.as_ref().is_some_and(|r| r.size() > MAX_SORT_KEY_BYTES) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_SORT_KEY_BYTES} bytes"
            )));
        }
        Ok((hash, range))
    }

    /// The key attributes of a stored item, as `LastEvaluatedKey` carries them.
    pub fn key_item(&self, key: &PrimaryKey) -> Item {
        let mut out = Item::new();
        out.insert(self.key.hash.name.clone(), key.0.to_value());
        if let (Some(r), Some(v)) = (&self.key.range, &key.1) {
            out.insert(r.name.clone(), v.to_value());
        }
        out
    }

    pub fn get(&self, key: &PrimaryKey) -> Option<&Item> {
        self.items.get(&key.0).and_then(|p| p.get(&key.1))
    }

    /// Stores an item, answering the one it replaced.
    pub fn put(&mut self, key: PrimaryKey, item: Item) -> Option<Item> {
        self.items.entry(key.0).or_default().insert(key.1, item)
    }

    pub fn remove(&mut self, key: &PrimaryKey) -> Option<Item> {
        let partition = self.items.get_mut(&key.0)?;
        let old = partition.remove(&key.1);
        if partition.is_empty() {
            self.items.remove(&key.0);
        }
        old
    }

    /// One partition's items in sort key order.
    pub fn partition(&self, pk: &KeyValue) -> impl DoubleEndedIterator<Item = (&Option<KeyValue>, &Item)> {
        self.items.get(pk).into_iter().flat_map(|p| p.iter())
    }

    /// Every item, in key order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values().flat_map(BTreeMap::values)
    }

    pub fn item_count(&self) -> usize {
        self.items.values().map(BTreeMap::len).sum()
    }

    fn size_bytes(&self) -> usize {
        self.items().map(item_size).sum()
    }

    /// `TableDescription` as DescribeTable answers it.
    pub fn describe(&self, status: &str) -> Value {
        let key_schema: Vec<Value> = self
            .key_attributes()
            .zip(["HASH", "RANGE"])
            .map(|(k, t)| json!({"AttributeName": k.name, "KeyType": t}))
            .collect();
        let definitions: Vec<Value> =
            self.key_attributes().map(|k| json!({"AttributeName": k.name, "AttributeType": k.kind})).collect();
        let mut d = json!({
            "TableName": self.name,
            "TableArn": self.arn,
            "TableId": self.id,
            "TableStatus": status,
            "CreationDateTime": self.created,
            "KeySchema": key_schema,
            "AttributeDefinitions": definitions,
            "ItemCount": self.item_count(),
            "TableSizeBytes": self.size_bytes(),
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": self.read_capacity,
                "WriteCapacityUnits": self.write_capacity,
            },
            "DeletionProtectionEnabled": self.deletion_protection,
        });
        if self.billing_mode == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] =
                json!({"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": self.created});
        }
        d
    }
}
