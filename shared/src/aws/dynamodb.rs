use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Number, Value};

use super::from_sdk;
use crate::ports::{AwsError, Condition, Item, Key, Ledger, Written};

/// The ledger in a DynamoDB table with the string keys `pk` and `sk`. Every item carries
/// `version` (its record version number) and, if it expires, `expiresAt` (the table's TTL
/// attribute, epoch seconds); the item's own fields are stored as native attributes, so the
/// table reads well in the console.
#[derive(Clone, Debug)]
pub struct DynamoLedger {
    pub client: Client,
    pub table: String,
}

const PK: &str = "pk";
const SK: &str = "sk";
const VERSION: &str = "version";
const EXPIRES_AT: &str = "expiresAt";

/// Field names an item's body may not use: the table's own attributes.
pub const RESERVED: [&str; 4] = [PK, SK, VERSION, EXPIRES_AT];

fn to_attr(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(o) => AttributeValue::M(o.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()),
    }
}

fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(u) = n.parse::<u64>() {
        return Value::Number(u.into());
    }
    n.parse::<f64>().ok().and_then(Number::from_f64).map_or_else(|| Value::String(n.to_owned()), Value::Number)
}

fn from_attr(a: &AttributeValue) -> Value {
    match a {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect()),
        AttributeValue::M(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), from_attr(v))).collect()),
        AttributeValue::Ss(s) => Value::Array(s.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(n) => Value::Array(n.iter().map(|n| number(n)).collect()),
        _ => Value::Null,
    }
}

fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn item_attrs(item: &Item) -> HashMap<String, AttributeValue> {
    let mut attrs = key_attrs(&item.key);
    attrs.insert(VERSION.to_owned(), AttributeValue::N(item.version.to_string()));
    if let Some(t) = item.expires_at {
        attrs.insert(EXPIRES_AT.to_owned(), AttributeValue::N(t.to_string()));
    }
    for (k, v) in &item.body {
        if !RESERVED.contains(&k.as_str()) {
            attrs.insert(k.clone(), to_attr(v));
        }
    }
    attrs
}

fn item_of(attrs: &HashMap<String, AttributeValue>) -> Option<Item> {
    let s = |k: &str| attrs.get(k).and_then(|a| a.as_s().ok()).cloned();
    let n = |k: &str| attrs.get(k).and_then(|a| a.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
    let key = Key { pk: s(PK)?, sk: s(SK)? };
    let body: Map<String, Value> =
        attrs.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())).map(|(k, v)| (k.clone(), from_attr(v))).collect();
    Some(Item {
        key,
        version: n(VERSION).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
        expires_at: n(EXPIRES_AT),
        body,
    })
}

/// A condition as a DynamoDB expression, with its placeholders.
struct Expression {
    text: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn expression(c: &Condition) -> Expression {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let text = match c {
        Condition::Always => None,
        Condition::Absent => {
            names.insert("#pk".to_owned(), PK.to_owned());
            Some("attribute_not_exists(#pk)".to_owned())
        }
        Condition::Version(v) => {
            names.insert("#version".to_owned(), VERSION.to_owned());
            values.insert(":version".to_owned(), AttributeValue::N(v.to_string()));
            Some("#version = :version".to_owned())
        }
        Condition::AbsentOrEquals { field, value } => {
            names.insert("#pk".to_owned(), PK.to_owned());
            names.insert("#field".to_owned(), (*field).to_owned());
            values.insert(":value".to_owned(), AttributeValue::S(value.clone()));
            Some("attribute_not_exists(#pk) OR #field = :value".to_owned())
        }
    };
    Expression { text, names, values }
}

fn some<K, V>(m: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!m.is_empty()).then_some(m)
}

/// A conditional failure is an answer, not an error: someone else wrote first.
fn written<T, E>(operation: &'static str, r: Result<T, SdkError<E, Response>>) -> Result<Written, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(_) => Ok(Written::Done),
        Err(e)
            if e.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException") =>
        {
            Ok(Written::Conflict)
        }
        Err(e) => Err(from_sdk(operation, e, |_| None)),
    }
}

impl Ledger for DynamoLedger {
    async fn get(&self, key: &Key) -> Result<Option<Item>, AwsError> {
        let o = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk("GetItem", e, |_| None))?;
        Ok(o.item().and_then(item_of))
    }

    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, AwsError> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()));
        q = if sk_prefix.is_empty() {
            q.key_condition_expression("#pk = :pk")
        } else {
            q.key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":prefix", AttributeValue::S(sk_prefix.to_owned()))
        };
        let mut pages = q.into_paginator().send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("Query", e, |_| None))?;
            items.extend(page.items().iter().filter_map(item_of));
        }
        Ok(items)
    }

    async fn put(&self, item: &Item, condition: &Condition) -> Result<Written, AwsError> {
        let x = expression(condition);
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_attrs(item)))
            .set_condition_expression(x.text)
            .set_expression_attribute_names(some(x.names))
            .set_expression_attribute_values(some(x.values))
            .send()
            .await;
        written("PutItem", r)
    }

    async fn delete(&self, key: &Key, condition: &Condition) -> Result<Written, AwsError> {
        let x = expression(condition);
        let r = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(x.text)
            .set_expression_attribute_names(some(x.names))
            .set_expression_attribute_values(some(x.values))
            .send()
            .await;
        written("DeleteItem", r)
    }

    fn location(&self) -> String {
        format!("DynamoDB table {}", self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_round_trip_through_attribute_values() {
        let body = json!({"s": "x", "n": 17, "big": 1_795_600_800_000_i64, "f": 0.5, "b": true, "l": [1, "a"], "m": {"k": null}});
        let Value::Object(body) = body else { unreachable!() };
        let item = Item { key: Key::new("gateway#x", "lease"), version: 3, expires_at: Some(9), body };
        let back = item_of(&item_attrs(&item)).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn conditions_render_with_placeholders_only() {
        let x = expression(&Condition::AbsentOrEquals { field: "recoveryId", value: "r1".into() });
        assert_eq!(x.text.as_deref(), Some("attribute_not_exists(#pk) OR #field = :value"));
        assert_eq!(x.names.get("#field").map(String::as_str), Some("recoveryId"));
        assert!(expression(&Condition::Always).text.is_none());
    }
}
