//! Request validation per the service models, before any state is looked at, in the two
//! passes AWS makes: the body is read into the operation's input shape first (a member of
//! the wrong JSON type, however deep, is a serialization error), then every constraint of
//! the model is checked (required members, lengths, patterns, ranges, enums, list members,
//! map values) and all violations are answered together, in AWS's wording:
//! `2 validation errors detected: Value 'bad;key' at 'tags.1.member.key' failed to satisfy
//! constraint: Member must satisfy regular expression pattern: ...; Value null at ...`.
//! Storage Gateway answers them as `InvalidGatewayRequestException` / `InvalidParameters`
//! ([`check`]); SNS as `ValidationError` (`crate::sns`, through [`misfit`]).
//!
//! The shapes below are transcribed from botocore's `storagegateway/2013-06-30` and
//! `sns/2010-03-31` `service-2.json`; `tests/conformance.rs` checks them against those files.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::fleet::re;

/// A shape of the model, as far as validation needs it.
pub enum Shape {
    Str(Str),
    /// `integer` (32 bits) with an optional minimum.
    Int(Option<i64>),
    /// `long` with an optional minimum.
    Long(Option<i64>),
    Bool,
    List(&'static Shape),
    Struct(&'static [Member]),
    /// A map with string keys; the names are its key and value on the query protocol's
    /// wire (`MessageAttributes.entry.N.Name` / `.Value`).
    Map {
        value: &'static Shape,
        key_name: &'static str,
        value_name: &'static str,
    },
}

/// A string shape's constraints.
pub struct Str {
    pub min: Option<usize>,
    pub max: Option<usize>,
    /// The model's pattern, matched against the whole value.
    pub pattern: Option<&'static str>,
    pub values: &'static [&'static str],
}

pub struct Member {
    pub name: &'static str,
    pub required: bool,
    pub shape: &'static Shape,
}

const fn req(name: &'static str, shape: &'static Shape) -> Member {
    Member { name, required: true, shape }
}

const fn opt(name: &'static str, shape: &'static Shape) -> Member {
    Member { name, required: false, shape }
}

const fn sized(min: usize, max: usize) -> Shape {
    Shape::Str(Str { min: Some(min), max: Some(max), pattern: None, values: &[] })
}

const fn patterned(min: Option<usize>, max: Option<usize>, pattern: &'static str) -> Shape {
    Shape::Str(Str { min, max, pattern: Some(pattern), values: &[] })
}

pub const TAPE_ARN_PATTERN: &str =
    r"arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):storagegateway:[a-z\-0-9]+:[0-9]+:tape\/[0-9A-Z]{5,16}$";
pub const VOLUME_ARN_PATTERN: &str = r"arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):storagegateway:[a-z\-0-9]+:[0-9]+:gateway\/(.+)\/volume\/vol-(\S+)";
pub const TAG_KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
pub const SNAPSHOT_ID_PATTERN: &str = r"\Asnap-([0-9A-Fa-f]{8}|[0-9A-Fa-f]{17})\z";
pub const TARGET_NAME_PATTERN: &str = r"^[-\.;a-z0-9]+$";
pub const KMS_KEY_PATTERN: &str = r"(^arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):kms:([a-zA-Z0-9-]+):([0-9]+):(key|alias)/(\S+)$)|(^alias/(\S+)$)";

const PATTERNS: &[&str] =
    &[TAPE_ARN_PATTERN, VOLUME_ARN_PATTERN, TAG_KEY_PATTERN, SNAPSHOT_ID_PATTERN, TARGET_NAME_PATTERN, KMS_KEY_PATTERN];

/// Each model pattern, compiled to match a whole value (as the service's `matches()` does).
static COMPILED: LazyLock<HashMap<&'static str, Regex>> =
    LazyLock::new(|| PATTERNS.iter().map(|p| (*p, re(&format!("^(?:{p})$")))).collect());

/// Whether `value` matches one of the model's patterns, as a whole.
pub fn matches(pattern: &str, value: &str) -> bool {
    match COMPILED.get(pattern) {
        Some(r) => r.is_match(value),
        None => re(&format!("^(?:{pattern})$")).is_match(value),
    }
}

const GATEWAY_ARN: Shape = sized(50, 500);
const RESOURCE_ARN: Shape = sized(50, 500);
const TAPE_ARN: Shape = patterned(Some(50), Some(500), TAPE_ARN_PATTERN);
const VOLUME_ARN: Shape = patterned(Some(50), Some(500), VOLUME_ARN_PATTERN);
const MARKER: Shape = sized(1, 2000);
const POSITIVE_INT: Shape = Shape::Int(Some(1));
const LONG: Shape = Shape::Long(None);
const BOOLEAN: Shape = Shape::Bool;
const TAG_KEY: Shape = patterned(Some(1), Some(128), TAG_KEY_PATTERN);
const TAG_VALUE: Shape = Shape::Str(Str { min: None, max: Some(256), pattern: None, values: &[] });
const TAG: Shape = Shape::Struct(&[req("Key", &TAG_KEY), req("Value", &TAG_VALUE)]);
const TAGS: Shape = Shape::List(&TAG);
const TAG_KEYS: Shape = Shape::List(&TAG_KEY);
const TAPE_ARNS: Shape = Shape::List(&TAPE_ARN);
const VOLUME_ARNS: Shape = Shape::List(&VOLUME_ARN);
const SNAPSHOT_DESCRIPTION: Shape = sized(1, 255);
const SNAPSHOT_ID: Shape = patterned(None, None, SNAPSHOT_ID_PATTERN);
const TARGET_NAME: Shape = patterned(Some(1), Some(200), TARGET_NAME_PATTERN);
const NETWORK_INTERFACE_ID: Shape = Shape::Str(Str { min: None, max: None, pattern: None, values: &[] });
const CLIENT_TOKEN: Shape = sized(5, 100);
const KMS_KEY: Shape = patterned(Some(7), Some(2048), KMS_KEY_PATTERN);

const PAGED: &[Member] = &[opt("Marker", &MARKER), opt("Limit", &POSITIVE_INT)];
const GATEWAY_ONLY: &[Member] = &[req("GatewayARN", &GATEWAY_ARN)];
const GATEWAY_PAGED: &[Member] =
    &[req("GatewayARN", &GATEWAY_ARN), opt("Marker", &MARKER), opt("Limit", &POSITIVE_INT)];
const RETRIEVE_TAPE_RECOVERY_POINT: &[Member] = &[req("TapeARN", &TAPE_ARN), req("GatewayARN", &GATEWAY_ARN)];
const LIST_TAPES: &[Member] = &[opt("TapeARNs", &TAPE_ARNS), opt("Marker", &MARKER), opt("Limit", &POSITIVE_INT)];
const DESCRIBE_TAPES: &[Member] = &[
    req("GatewayARN", &GATEWAY_ARN),
    opt("TapeARNs", &TAPE_ARNS),
    opt("Marker", &MARKER),
    opt("Limit", &POSITIVE_INT),
];
const LIST_VOLUMES: &[Member] = &[opt("GatewayARN", &GATEWAY_ARN), opt("Marker", &MARKER), opt("Limit", &POSITIVE_INT)];
const CREATE_SNAPSHOT: &[Member] =
    &[req("VolumeARN", &VOLUME_ARN), req("SnapshotDescription", &SNAPSHOT_DESCRIPTION), opt("Tags", &TAGS)];
const ADD_TAGS: &[Member] = &[req("ResourceARN", &RESOURCE_ARN), req("Tags", &TAGS)];
const REMOVE_TAGS: &[Member] = &[req("ResourceARN", &RESOURCE_ARN), req("TagKeys", &TAG_KEYS)];
const LIST_TAGS: &[Member] = &[req("ResourceARN", &RESOURCE_ARN), opt("Marker", &MARKER), opt("Limit", &POSITIVE_INT)];
const CREATE_CACHED_VOLUME: &[Member] = &[
    req("GatewayARN", &GATEWAY_ARN),
    req("VolumeSizeInBytes", &LONG),
    opt("SnapshotId", &SNAPSHOT_ID),
    req("TargetName", &TARGET_NAME),
    opt("SourceVolumeARN", &VOLUME_ARN),
    req("NetworkInterfaceId", &NETWORK_INTERFACE_ID),
    req("ClientToken", &CLIENT_TOKEN),
    opt("KMSEncrypted", &BOOLEAN),
    opt("KMSKey", &KMS_KEY),
    opt("Tags", &TAGS),
];
const DESCRIBE_CACHED_VOLUMES: &[Member] = &[req("VolumeARNs", &VOLUME_ARNS)];

/// SNS's unconstrained `String`, `topicARN`, `message`, ... shapes.
const STRING: Shape = Shape::Str(Str { min: None, max: None, pattern: None, values: &[] });
const SNS_TAG: Shape = Shape::Struct(&[req("Key", &SNS_TAG_KEY), req("Value", &SNS_TAG_VALUE)]);
const SNS_TAG_KEY: Shape = sized(1, 128);
const SNS_TAG_VALUE: Shape = sized(0, 256);
const MESSAGE_ATTRIBUTE_VALUE: Shape =
    Shape::Struct(&[req("DataType", &STRING), opt("StringValue", &STRING), opt("BinaryValue", &STRING)]);
const PUBLISH: &[Member] = &[
    opt("TopicArn", &STRING),
    opt("TargetArn", &STRING),
    opt("PhoneNumber", &STRING),
    req("Message", &STRING),
    opt("Subject", &STRING),
    opt("MessageStructure", &STRING),
    opt("MessageAttributes", &Shape::Map { value: &MESSAGE_ATTRIBUTE_VALUE, key_name: "Name", value_name: "Value" }),
    opt("MessageDeduplicationId", &STRING),
    opt("MessageGroupId", &STRING),
];
const CREATE_TOPIC: &[Member] = &[
    req("Name", &STRING),
    opt("Attributes", &Shape::Map { value: &STRING, key_name: "key", value_name: "value" }),
    opt("Tags", &Shape::List(&SNS_TAG)),
    opt("DataProtectionPolicy", &STRING),
];
const LIST_TOPICS: &[Member] = &[opt("NextToken", &STRING)];

/// The input members of every operation the simulator answers; `None` for any other.
pub fn input_shape(op: &str) -> Option<&'static [Member]> {
    Some(match op {
        "ListGateways" => PAGED,
        "DescribeGatewayInformation"
        | "DisableGateway"
        | "ListVolumeRecoveryPoints"
        | "DescribeCache"
        | "DescribeUploadBuffer" => GATEWAY_ONLY,
        "DescribeTapeRecoveryPoints" => GATEWAY_PAGED,
        "RetrieveTapeRecoveryPoint" => RETRIEVE_TAPE_RECOVERY_POINT,
        "ListTapes" => LIST_TAPES,
        "DescribeTapes" => DESCRIBE_TAPES,
        "ListVolumes" => LIST_VOLUMES,
        "CreateSnapshotFromVolumeRecoveryPoint" => CREATE_SNAPSHOT,
        "AddTagsToResource" => ADD_TAGS,
        "RemoveTagsFromResource" => REMOVE_TAGS,
        "ListTagsForResource" => LIST_TAGS,
        "CreateCachediSCSIVolume" => CREATE_CACHED_VOLUME,
        "DescribeCachediSCSIVolumes" => DESCRIBE_CACHED_VOLUMES,
        _ => return None,
    })
}

/// The input members of every SNS action the simulator answers; `None` for any other.
pub fn sns_input_shape(action: &str) -> Option<&'static [Member]> {
    Some(match action {
        "Publish" => PUBLISH,
        "CreateTopic" => CREATE_TOPIC,
        "ListTopics" => LIST_TOPICS,
        _ => return None,
    })
}

/// The member name as AWS writes it in validation messages (`gatewayARN`, `kMSKey`).
fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why a request does not fit its operation's input shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Misfit {
    /// A member of the wrong JSON type: the serialization error's message.
    Type(String),
    /// The model's constraints it violates, all of them in one message in AWS's wording,
    /// and the top-level member of the first.
    Constraints { message: String, parameter: &'static str },
}

/// Reads `body` as the input of `members`: types first, then every constraint.
pub fn misfit(members: &[Member], body: &Map<String, Value>) -> Option<Misfit> {
    for m in members {
        if let Some(v) = body.get(m.name) {
            if let Err(e) = types(m.shape, v, &camel(m.name)) {
                return Some(Misfit::Type(e));
            }
        }
    }
    let mut found = Vec::new();
    for m in members {
        member(m, body.get(m.name), &camel(m.name), m.name, &mut found);
    }
    let parameter = found.first()?.1;
    let n = found.len();
    let list: Vec<&str> = found.iter().map(|(v, _)| v.as_str()).collect();
    let message = format!("{n} validation error{} detected: {}", if n == 1 { "" } else { "s" }, list.join("; "));
    Some(Misfit::Constraints { message, parameter })
}

/// Validates `body` as a Storage Gateway input: `SerializationException` for a wrong
/// type, `InvalidGatewayRequestException` / `InvalidParameters` for the constraints.
pub fn check(members: &[Member], body: &Map<String, Value>) -> Result<(), ApiError> {
    match misfit(members, body) {
        None => Ok(()),
        Some(Misfit::Type(message)) => Err(ApiError::serialization(&message)),
        Some(Misfit::Constraints { message, parameter }) => Err(ApiError::invalid_parameters(message, parameter)),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn mismatch(path: &str, v: &Value, expected: &str) -> String {
    format!("Cannot read {} at '{path}' as {expected}", json_kind(v))
}

/// A map value's path: `messageAttributes.NAME.member`, as list members are `tags.1.member`.
fn map_value_path(path: &str, key: &str) -> String {
    format!("{path}.{key}.member")
}

/// The first pass: every value present has the JSON type its shape needs (null is absent).
fn types(shape: &Shape, v: &Value, path: &str) -> Result<(), String> {
    match (shape, v) {
        (_, Value::Null) | (Shape::Str(_), Value::String(_)) | (Shape::Bool, Value::Bool(_)) => Ok(()),
        (Shape::Int(_), Value::Number(n)) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => Ok(()),
        (Shape::Long(_), Value::Number(n)) if n.as_i64().is_some() => Ok(()),
        (Shape::List(item), Value::Array(items)) => {
            items.iter().enumerate().try_for_each(|(i, x)| types(item, x, &format!("{path}.{}.member", i + 1)))
        }
        (Shape::Struct(members), Value::Object(map)) => members.iter().try_for_each(|m| match map.get(m.name) {
            Some(x) => types(m.shape, x, &format!("{path}.{}", camel(m.name))),
            None => Ok(()),
        }),
        (Shape::Map { value, .. }, Value::Object(map)) => {
            map.iter().try_for_each(|(k, x)| types(value, x, &map_value_path(path, k)))
        }
        (Shape::Str(_), _) => Err(mismatch(path, v, "a string")),
        (Shape::Int(_), _) => Err(mismatch(path, v, "an integer")),
        (Shape::Long(_), _) => Err(mismatch(path, v, "a long integer")),
        (Shape::Bool, _) => Err(mismatch(path, v, "a boolean")),
        (Shape::List(_), _) => Err(mismatch(path, v, "a list")),
        (Shape::Struct(_), _) => Err(mismatch(path, v, "a structure")),
        (Shape::Map { .. }, _) => Err(mismatch(path, v, "a map")),
    }
}

/// How a value is quoted in a violation: `'x'`, `'5'`, `'[a, b]'`.
fn shown(v: &Value) -> String {
    fn bare(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => format!("[{}]", items.iter().map(bare).collect::<Vec<_>>().join(", ")),
            other => other.to_string(),
        }
    }
    format!("'{}'", bare(v))
}

/// Each violation: its message and the top-level member it is in.
type Found = Vec<(String, &'static str)>;

fn violation(found: &mut Found, top: &'static str, path: &str, value: Option<&Value>, constraint: &str) {
    let v = value.map_or_else(|| "null".to_owned(), shown);
    found.push((format!("Value {v} at '{path}' failed to satisfy constraint: {constraint}"), top));
}

fn member(m: &Member, v: Option<&Value>, path: &str, top: &'static str, found: &mut Found) {
    match v {
        None | Some(Value::Null) if m.required => violation(found, top, path, None, "Member must not be null"),
        None | Some(Value::Null) => {}
        Some(v) => constraints(m.shape, v, path, top, found),
    }
}

/// The second pass: the model's constraints, every violation collected.
fn constraints(shape: &Shape, v: &Value, path: &str, top: &'static str, found: &mut Found) {
    match (shape, v) {
        (Shape::Str(s), Value::String(text)) => string(s, v, text, path, top, found),
        (Shape::Int(Some(min)) | Shape::Long(Some(min)), Value::Number(n)) if n.as_i64().is_some_and(|i| i < *min) => {
            violation(found, top, path, Some(v), &format!("Member must have value greater than or equal to {min}"));
        }
        (Shape::List(item), Value::Array(items)) => {
            for (i, x) in items.iter().enumerate() {
                let at = format!("{path}.{}.member", i + 1);
                match x {
                    Value::Null => violation(found, top, &at, None, "Member must not be null"),
                    x => constraints(item, x, &at, top, found),
                }
            }
        }
        (Shape::Struct(members), Value::Object(map)) => {
            for m in members.iter() {
                member(m, map.get(m.name), &format!("{path}.{}", camel(m.name)), top, found);
            }
        }
        (Shape::Map { value, .. }, Value::Object(map)) => {
            for (k, x) in map {
                let at = map_value_path(path, k);
                match x {
                    Value::Null => violation(found, top, &at, None, "Member must not be null"),
                    x => constraints(value, x, &at, top, found),
                }
            }
        }
        _ => {}
    }
}

fn string(s: &Str, v: &Value, text: &str, path: &str, top: &'static str, found: &mut Found) {
    let n = text.chars().count();
    if let Some(min) = s.min.filter(|min| n < *min) {
        violation(found, top, path, Some(v), &format!("Member must have length greater than or equal to {min}"));
    }
    if let Some(max) = s.max.filter(|max| n > *max) {
        violation(found, top, path, Some(v), &format!("Member must have length less than or equal to {max}"));
    }
    if let Some(p) = s.pattern.filter(|p| !matches(p, text)) {
        violation(found, top, path, Some(v), &format!("Member must satisfy regular expression pattern: {p}"));
    }
    if !s.values.is_empty() && !s.values.contains(&text) {
        violation(found, top, path, Some(v), &format!("Member must satisfy enum value set: [{}]", s.values.join(", ")));
    }
}

/// The request body as a JSON object; anything else is a serialization error.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = if body.is_empty() { b"{}".as_slice() } else { body };
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::serialization("request body must be a JSON object")),
        Err(e) => Err(ApiError::serialization(&format!("request body is not valid JSON: {e}"))),
    }
}

/// A request body already validated by [`check`]: the getters read members without
/// checking them again. A getter that finds a member missing answers the validation
/// error rather than panicking, so a shape table out of step with an operation is a bug
/// answered as a 400, never a crash.
pub struct Input<'a>(pub &'a Map<String, Value>);

impl<'a> Input<'a> {
    pub fn opt_str(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn str(&self, name: &str) -> Result<&'a str, ApiError> {
        self.opt_str(name).ok_or_else(|| missing(name))
    }

    pub fn opt_i64(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }

    pub fn i64(&self, name: &str) -> Result<i64, ApiError> {
        self.opt_i64(name).ok_or_else(|| missing(name))
    }

    /// A boolean member; absent is false.
    pub fn flag(&self, name: &str) -> bool {
        self.0.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A list of strings, `None` when absent.
    pub fn strs(&self, name: &str) -> Option<Vec<&'a str>> {
        self.0.get(name).and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).collect())
    }

    /// A `Tags` list, checked for what the model cannot say: no `aws:` keys, at most 50.
    pub fn tags(&self, name: &str) -> Result<Vec<(String, String)>, ApiError> {
        let Some(items) = self.0.get(name).and_then(Value::as_array) else { return Ok(Vec::new()) };
        let tags: Vec<(String, String)> = items
            .iter()
            .filter_map(|t| Some((t.get("Key")?.as_str()?.to_owned(), t.get("Value")?.as_str()?.to_owned())))
            .collect();
        for (k, v) in &tags {
            tag(k, v).map_err(|e| ApiError::invalid_parameters(e, name))?;
        }
        if tags.len() > MAX_TAGS {
            return Err(ApiError::invalid_parameters(format!("A resource can have at most {MAX_TAGS} tags."), name));
        }
        Ok(tags)
    }
}

/// Most tags on one resource.
pub const MAX_TAGS: usize = 50;

fn missing(name: &str) -> ApiError {
    ApiError::invalid_parameters(
        format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            camel(name)
        ),
        name,
    )
}

/// One tag, checked against the model's `TagKey` (1-128, pattern) and `TagValue` (at most
/// 256) constraints, and the service's rule that keys do not start with `aws:`.
pub fn tag(key: &str, value: &str) -> Result<(), String> {
    let klen = key.chars().count();
    if !(1..=128).contains(&klen) || !matches(TAG_KEY_PATTERN, key) {
        return Err(format!("tag key `{key}` must be 1 to 128 letters, digits, spaces or _.:/=+-@"));
    }
    if key.starts_with("aws:") {
        return Err(format!("tag key `{key}` must not start with aws:, which AWS reserves"));
    }
    if value.chars().count() > 256 {
        return Err(format!("tag value of `{key}` must be at most 256 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn check_op(op: &str, v: Value) -> Result<(), ApiError> {
        check(input_shape(op).unwrap(), &body(v))
    }

    #[test]
    fn every_model_pattern_compiles() {
        for p in PATTERNS {
            assert!(COMPILED.contains_key(p), "{p}");
        }
    }

    #[test]
    fn arn_length_is_enforced_at_both_ends() {
        let e = check_op("DescribeGatewayInformation", json!({"GatewayARN": "arn:aws:storagegateway:us-east-1:1:gw"}))
            .unwrap_err();
        assert_eq!(e.error_code, Some("InvalidParameters"));
        assert!(e.message.contains("at 'gatewayARN'"), "{}", e.message);
        assert!(e.message.contains("greater than or equal to 50"), "{}", e.message);
        let e = check_op("DescribeGatewayInformation", json!({"GatewayARN": "a".repeat(501)})).unwrap_err();
        assert!(e.message.contains("less than or equal to 500"));
        let e = check_op("DescribeGatewayInformation", json!({})).unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'gatewayARN' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn tape_arns_must_match_the_model_pattern_as_a_whole() {
        let gw = "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B";
        let ok = json!({"TapeARN": "arn:aws:storagegateway:us-east-1:123456789012:tape/TEST04A2A1", "GatewayARN": gw});
        assert!(check_op("RetrieveTapeRecoveryPoint", ok).is_ok());
        let lower =
            json!({"TapeARN": "arn:aws:storagegateway:us-east-1:123456789012:tape/test04a2a1", "GatewayARN": gw});
        let e = check_op("RetrieveTapeRecoveryPoint", lower).unwrap_err();
        assert!(e.message.contains("at 'tapeARN'") && e.message.contains("pattern"), "{}", e.message);
        let prefixed =
            json!({"TapeARN": "xarn:aws:storagegateway:us-east-1:123456789012:tape/TEST04A2A1", "GatewayARN": gw});
        assert!(check_op("RetrieveTapeRecoveryPoint", prefixed).is_err(), "the pattern matches the whole value");
    }

    #[test]
    fn list_members_are_named_by_their_one_based_index() {
        let e = check_op(
            "ListTapes",
            json!({"TapeARNs": ["arn:aws:storagegateway:us-east-1:123456789012:tape/AAAAA1", "x"]}),
        )
        .unwrap_err();
        assert!(e.message.starts_with("2 validation errors detected: "), "{}", e.message);
        assert!(e.message.contains("Value 'x' at 'tapeARNs.2.member' failed to satisfy constraint"), "{}", e.message);
    }

    #[test]
    fn tag_violations_use_aws_wording_and_paths() {
        let e = check_op(
            "AddTagsToResource",
            json!({"ResourceARN": "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B",
                   "Tags": [{"Key": "bad;key", "Value": "v"}]}),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            r"1 validation error detected: Value 'bad;key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
        );
        let e = check_op("AddTagsToResource", json!({"Tags": [{"Key": "k"}, {"Key": "", "Value": "v"}]})).unwrap_err();
        assert!(e.message.starts_with("3 validation errors detected: "), "{}", e.message);
        assert!(e.message.contains("Value null at 'resourceARN'"), "{}", e.message);
        assert!(e.message.contains("Value null at 'tags.1.member.value'"), "{}", e.message);
        assert!(e.message.contains("Value '' at 'tags.2.member.key'"), "{}", e.message);
    }

    #[test]
    fn wrong_json_types_are_serialization_errors_however_deep() {
        for (op, v) in [
            ("ListGateways", json!({"Limit": "x"})),
            ("ListGateways", json!({"Limit": 1.5})),
            ("ListGateways", json!({"Marker": 5})),
            ("ListTapes", json!({"TapeARNs": "x"})),
            ("ListTapes", json!({"TapeARNs": [5]})),
            ("AddTagsToResource", json!({"Tags": [{"Key": 5, "Value": "v"}]})),
            ("AddTagsToResource", json!({"Tags": ["k"]})),
            ("CreateCachediSCSIVolume", json!({"KMSEncrypted": "true"})),
            ("CreateCachediSCSIVolume", json!({"VolumeSizeInBytes": "5"})),
        ] {
            let e = check_op(op, v.clone()).unwrap_err();
            assert_eq!(e.error_type, "SerializationException", "{op} {v}: {}", e.message);
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn limit_must_be_positive() {
        let e = check_op("ListGateways", json!({"Limit": 0})).unwrap_err();
        assert!(e.message.contains("Value '0' at 'limit'") && e.message.contains("greater than or equal to 1"));
        assert!(check_op("ListGateways", json!({"Limit": 10})).is_ok());
    }

    #[test]
    fn tags_follow_the_model_pattern_and_lengths() {
        assert!(tag("recovery:offline-since", "2026-11-20T10:00:00Z").is_ok());
        assert!(tag("", "x").is_err());
        assert!(tag("k", &"v".repeat(257)).is_err());
        assert!(tag("bad;key", "v").is_err());
        assert!(tag("aws:reserved", "v").is_err());
    }

    #[test]
    fn new_volume_members_follow_the_model() {
        let e = check_op(
            "CreateCachediSCSIVolume",
            json!({"GatewayARN": "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B",
                   "VolumeSizeInBytes": 1, "TargetName": "Upper", "NetworkInterfaceId": "10.0.0.1",
                   "ClientToken": "abc", "KMSKey": "nope", "SnapshotId": "snap-1"}),
        )
        .unwrap_err();
        for path in ["'targetName'", "'clientToken'", "'kMSKey'", "'snapshotId'"] {
            assert!(e.message.contains(path), "{path}: {}", e.message);
        }
        assert!(matches(SNAPSHOT_ID_PATTERN, "snap-1122aabb"));
        assert!(matches(KMS_KEY_PATTERN, "arn:aws:kms:us-east-1:123456789012:key/abcd"));
        assert!(matches(KMS_KEY_PATTERN, "alias/backup"));
    }
}
