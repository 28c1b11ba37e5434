//! DynamoDB's tables: the operations the functions use, with DynamoDB's semantics.
//!
//! - [`value`]: attribute values, DynamoDB JSON, equality and item sizes; [`number`]: exact
//!   decimals.
//! - [`expression`]: condition, filter, key condition and projection expressions.
//! - [`table`]: one table's schema and items; `ops`: the operations and their validation.

pub mod base64;
pub mod expression;
pub mod number;
mod ops;
pub mod shapes;
pub mod table;
pub mod value;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::fleet::{Fleet, TableSpec};
use crate::validate::{self, Expected, Found, Rejection, TypeMismatch};
use table::{KeyAttribute, KeySchema, Table};
pub use value::{AttributeValue, Item, KeyValue};

/// Operations the simulator answers.
pub const OPERATIONS: &[&str] = &[
    "CreateTable",
    "DescribeTable",
    "DeleteTable",
    "ListTables",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "GetItem",
    "PutItem",
    "DeleteItem",
    "Query",
];
/// Operations that change a table.
pub const MUTATING: &[&str] = &["CreateTable", "DeleteTable", "UpdateTimeToLive", "PutItem", "DeleteItem"];

/// Every table, by name, in one region and account.
#[derive(Debug, Clone)]
pub struct Tables {
    region: String,
    account: String,
    tables: BTreeMap<String, Table>,
    /// Tables created so far, for their ids.
    created: u64,
}

impl Default for Tables {
    fn default() -> Self {
        Self::new("us-east-1", "123456789012")
    }
}

impl Tables {
    pub fn new(region: &str, account: &str) -> Self {
        Self { region: region.to_owned(), account: account.to_owned(), tables: BTreeMap::new(), created: 0 }
    }

    /// The tables a fleet file declares, empty, with string keys and TTL enabled on their
    /// TTL attribute.
    pub fn from_fleet(fleet: &Fleet) -> Self {
        let mut tables = Self::new(&fleet.region, &fleet.account);
        for spec in &fleet.tables {
            tables.create(spec, crate::now_secs());
        }
        tables
    }

    /// Creates a table from a fleet-file declaration; false if it already exists.
    pub fn create(&mut self, spec: &TableSpec, now_secs: i64) -> bool {
        if self.tables.contains_key(&spec.name) {
            return false;
        }
        let string_key = |name: &str| KeyAttribute { name: name.to_owned(), kind: "S" };
        let schema =
            KeySchema { hash: string_key(&spec.partition_key), range: spec.sort_key.as_deref().map(string_key) };
        let mut table = self.new_table(&spec.name, schema, now_secs as f64);
        table.ttl_attribute = spec.ttl_attribute.clone();
        self.tables.insert(spec.name.clone(), table);
        true
    }

    fn new_table(&mut self, name: &str, key: KeySchema, created: f64) -> Table {
        self.created += 1;
        let arn = format!("arn:aws:dynamodb:{}:{}:table/{name}", self.region, self.account);
        // Stable, unique and UUID-shaped: the name's FNV-1a hash and a counter.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            hash >> 32,
            (hash >> 16) & 0xffff,
            hash & 0xfff,
            (hash >> 4) & 0xfff,
            self.created
        );
        Table::new(name, arn, id, key, created)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// A table's items in DynamoDB JSON, in key order; `None` if there is no such table.
    pub fn items_json(&self, name: &str) -> Option<Vec<Value>> {
        self.tables.get(name).map(|t| t.items().map(value::item_to_json).collect())
    }

    /// A table's items as plain JSON (values decoded), in key order.
    pub fn items_plain(&self, name: &str) -> Option<Vec<Value>> {
        self.tables.get(name).map(|t| t.items().map(value::item_to_plain).collect())
    }

    /// One table for the control API: schema, TTL and every item as plain JSON.
    pub fn table_json(&self, name: &str) -> Option<Value> {
        let t = self.tables.get(name)?;
        let mut v = summary(t);
        v["items"] = Value::Array(t.items().map(value::item_to_plain).collect());
        Some(v)
    }

    /// Every table's schema, TTL attribute and item count (no items), for `/_sim/state`.
    pub fn state_json(&self) -> Value {
        Value::Array(self.tables.values().map(summary).collect())
    }

    /// The call log's parameters for a request: `TableName`, and the partition and sort
    /// key values of the item it reads or writes as `pk` and `sk` (whatever the key
    /// attributes are called), so tests can count writes per item.
    pub fn logged_params(&self, body: &Map<String, Value>) -> BTreeMap<String, String> {
        let mut params = logged_params(body);
        let table = body.get("TableName").and_then(Value::as_str).and_then(|n| self.tables.get(n));
        let (Some(table), Some(Value::Object(key))) = (table, body.get("Key").or_else(|| body.get("Item"))) else {
            return params;
        };
        params.remove("pk");
        params.remove("sk");
        let roles = [("pk", Some(&table.key.hash)), ("sk", table.key.range.as_ref())];
        for (role, attribute) in roles {
            if let Some(v) = attribute.and_then(|a| key.get(&a.name)).and_then(key_text) {
                params.insert(role.to_owned(), v);
            }
        }
        params
    }
}

fn summary(t: &Table) -> Value {
    json!({
        "name": t.name,
        "arn": t.arn,
        "partition_key": {"name": t.key.hash.name, "type": t.key.hash.kind},
        "sort_key": t.key.range.as_ref().map(|r| json!({"name": r.name, "type": r.kind})),
        "ttl_attribute": t.ttl_attribute,
        "item_count": t.item_count(),
    })
}

/// A key value of DynamoDB JSON as the call log shows it (`{"S": "a"}` is `a`).
fn key_text(v: &Value) -> Option<String> {
    AttributeValue::from_json(v).ok().and_then(|v| v.as_key()).map(|k| k.display())
}

/// A DynamoDB error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoError {
    pub status: u16,
    /// The exception's short name (`ConditionalCheckFailedException`).
    pub error_type: &'static str,
    pub message: String,
    /// The item a failed condition was checked against, in DynamoDB JSON, when the
    /// request asked for it (`ReturnValuesOnConditionCheckFailure: ALL_OLD`).
    pub item: Option<Value>,
}

impl DynamoError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, message: message.into(), item: None }
    }

    /// `{"__type": "com.amazonaws.dynamodb.v20120810#<type>", "message": ..., "Item": ...}`.
    pub fn body(&self) -> Value {
        let mut v =
            json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{}", self.error_type), "message": self.message});
        if let Some(item) = &self.item {
            v["Item"] = item.clone();
        }
        v
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::new(400, "UnknownOperationException", format!("Unknown operation {target}"))
    }

    pub fn serialization(message: &str) -> Self {
        Self::new(400, "SerializationException", message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message)
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(400, "ResourceNotFoundException", message)
    }

    pub fn resource_in_use(message: impl Into<String>) -> Self {
        Self::new(400, "ResourceInUseException", message)
    }

    /// `ConditionalCheckFailedException`, carrying the old item when asked for.
    pub fn conditional_check_failed(item: Option<Value>) -> Self {
        let mut e = Self::new(400, "ConditionalCheckFailedException", "The conditional request failed");
        e.item = item;
        e
    }

    pub fn unauthorized(unsigned: bool, message: &str) -> Self {
        if unsigned {
            Self::new(400, "MissingAuthenticationTokenException", message)
        } else {
            Self::new(400, "InvalidSignatureException", message)
        }
    }

    pub fn internal() -> Self {
        Self::new(500, "InternalServerError", "Internal server error")
    }

    pub fn throttling() -> Self {
        Self::new(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
    }

    pub fn provisioned_throughput_exceeded() -> Self {
        Self::new(
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        )
    }
}

/// The request body as a JSON object.
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, DynamoError> {
    match serde_json::from_slice::<Value>(if body.is_empty() { b"{}" } else { body }) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DynamoError::serialization("request body must be a JSON object")),
        Err(e) => Err(DynamoError::serialization(&format!("request body is not valid JSON: {e}"))),
    }
}

/// The members of a request the call log keeps, without knowing the table: `TableName`,
/// and `pk`/`sk` when the `Key` or `Item` has attributes of those names.
/// [`Tables::logged_params`] also knows tables whose keys are named otherwise.
pub fn logged_params(body: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = body
        .get("TableName")
        .and_then(Value::as_str)
        .map(|t| ("TableName".to_owned(), t.to_owned()))
        .into_iter()
        .collect();
    if let Some(Value::Object(key)) = body.get("Key").or_else(|| body.get("Item")) {
        for role in ["pk", "sk"] {
            if let Some(v) = key.get(role).and_then(key_text) {
                params.insert(role.to_owned(), v);
            }
        }
    }
    params
}

/// DynamoDB's answer to a request that does not fit the model: the first member of the
/// wrong JSON type as its JSON reader words it, else every violated constraint.
pub fn rejected(rejection: Rejection) -> DynamoError {
    match rejection {
        Rejection::Type(t) => DynamoError::serialization(&serialization_message(&t)),
        Rejection::Constraints(v) => DynamoError::validation(validate::summary(&v)),
    }
}

/// What DynamoDB's JSON reader says of a value of the wrong type (its messages name no
/// member): `NUMBER_VALUE cannot be converted to String`, `Start of structure or map found
/// where not expected`, ...
pub fn serialization_message(t: &TypeMismatch) -> String {
    let java = match t.expected {
        Expected::String => "String",
        Expected::Boolean => "Boolean",
        Expected::Integer => "Integer",
        Expected::Long => "Long",
        _ => "",
    };
    let scalar = matches!(t.expected, Expected::String | Expected::Boolean | Expected::Integer | Expected::Long);
    match (t.found, t.expected) {
        (Found::Object, Expected::Structure | Expected::Map) | (Found::List, Expected::List) => {
            "Unexpected field type".to_owned()
        }
        (Found::Object, _) => "Start of structure or map found where not expected".to_owned(),
        (Found::NotBase64 { len }, _) if len % 4 != 0 => {
            format!("Base64 encoded length is expected a multiple of 4 bytes but found: {len}")
        }
        (Found::NotBase64 { .. }, _) => "Invalid last non-pad Base64 character dectected".to_owned(),
        (_, Expected::Blob) if t.found == Found::List => {
            "Unrecognized collection type class java.nio.ByteBuffer".to_owned()
        }
        (_, Expected::Blob) => "only base-64-encoded strings are convertible to bytes".to_owned(),
        (Found::List, _) if scalar => format!("Unrecognized collection type class java.lang.{java}"),
        (Found::List, _) => "Start of list found where not expected".to_owned(),
        (Found::String, Expected::Boolean) => "Unexpected token received from parser".to_owned(),
        (found, _) if scalar => {
            let token = match found {
                Found::True => "TRUE_VALUE",
                Found::False => "FALSE_VALUE",
                Found::Decimal => "DECIMAL_VALUE",
                Found::String => "STRING_VALUE",
                _ => "NUMBER_VALUE",
            };
            format!("{token} cannot be converted to {java}")
        }
        (_, Expected::Structure) => "Unexpected value type in payload".to_owned(),
        _ => "Unexpected field type".to_owned(),
    }
}

/// Answers one call: the request is read against the operation's input shape first
/// (types, then every constraint of the model), then DynamoDB's own rules apply.
pub fn call(tables: &mut Tables, op: &str, body: &Map<String, Value>, now_secs: i64) -> Result<Value, DynamoError> {
    let shape = shapes::input(op).ok_or_else(|| DynamoError::unknown_operation(op))?;
    if let Some(rejection) = validate::examine(shape, body) {
        return Err(rejected(rejection));
    }
    match op {
        "CreateTable" => ops::create_table(tables, body, now_secs),
        "DescribeTable" => ops::describe_table(tables, body),
        "DeleteTable" => ops::delete_table(tables, body),
        "ListTables" => ops::list_tables(tables, body),
        "UpdateTimeToLive" => ops::update_time_to_live(tables, body),
        "DescribeTimeToLive" => ops::describe_time_to_live(tables, body),
        "GetItem" => ops::get_item(tables, body),
        "PutItem" => ops::put_item(tables, body),
        "DeleteItem" => ops::delete_item(tables, body),
        "Query" => ops::query(tables, body),
        other => Err(DynamoError::unknown_operation(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_tables_exist_with_string_keys_and_ttl() {
        let fleet = Fleet::from_json(
            r#"{"region":"eu-west-1","account":"123456789012","tables":[{"name":"leases","ttl_attribute":"expires"},
                {"name":"flat","partition_key":"id","sort_key":null}]}"#,
        )
        .unwrap();
        let tables = Tables::from_fleet(&fleet);
        let leases = tables.table("leases").unwrap();
        assert_eq!(leases.key.hash, KeyAttribute { name: "pk".into(), kind: "S" });
        assert_eq!(leases.key.range.as_ref().map(|r| r.name.as_str()), Some("sk"));
        assert_eq!(leases.ttl_attribute.as_deref(), Some("expires"));
        assert_eq!(leases.arn, "arn:aws:dynamodb:eu-west-1:123456789012:table/leases");
        assert!(tables.table("flat").unwrap().key.range.is_none());
        assert_eq!(tables.state_json()[0]["item_count"], 0);
    }

    #[test]
    fn the_call_log_names_the_item_by_its_key_roles() {
        let fleet = Fleet::from_json(
            r#"{"region":"us-east-1","account":"123456789012","tables":[{"name":"t","partition_key":"gw","sort_key":"n"}]}"#,
        )
        .unwrap();
        let tables = Tables::from_fleet(&fleet);
        let body = json!({"TableName": "t", "Item": {"gw": {"S": "sgw-1"}, "n": {"S": "3"}, "x": {"S": "y"}}});
        let params = tables.logged_params(body.as_object().unwrap());
        assert_eq!(params.get("pk").map(String::as_str), Some("sgw-1"));
        assert_eq!(params.get("sk").map(String::as_str), Some("3"));
        assert_eq!(params.get("TableName").map(String::as_str), Some("t"));
        let plain = logged_params(json!({"TableName": "u", "Key": {"pk": {"N": "1.0"}}}).as_object().unwrap());
        assert_eq!(plain.get("pk").map(String::as_str), Some("1"));
    }
}
