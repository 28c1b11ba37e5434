//! Request validation per the service models, before any state is looked at, in the two
//! passes AWS makes: the body is read into the operation's input shape first (a member of
//! the wrong JSON type, however deep, is a serialization error), then every constraint of
//! the model is checked (required members, lengths, patterns, ranges, enums, list and map
//! sizes, map keys and values) and all violations are answered together, in AWS's wording:
//! `2 validation errors detected: Value 'bad;key' at 'tags.1.member.key' failed to satisfy
//! constraint: Member must satisfy regular expression pattern: ...; Value null at ...`.
//! List members are named `tags.1.member`, map values `item.KEY.member`; a map whose keys
//! (or whose plain values) break their constraints is named as a whole, with every
//! constraint of the key (or value) listed: `Value '{k=v}' at 'item' failed to satisfy
//! constraint: Map keys must satisfy constraint: [Member must have length less than or
//! equal to 65535]`.
//!
//! One validator serves every service: [`examine`] answers what is wrong, structured, and
//! each service words it as it does. Storage Gateway answers it as
//! `InvalidGatewayRequestException` / `InvalidParameters` ([`check`]); SNS as
//! `ValidationError` (`crate::sns`, through [`misfit`]); DynamoDB as `ValidationException`
//! and SQS with its own codes (`crate::dynamodb`, `crate::sqs`).
//!
//! The shapes are transcribed from botocore's `service-2.json`: Storage Gateway's and SNS's
//! below, DynamoDB's in `crate::dynamodb::shapes`, SQS's in `crate::sqs::shapes`;
//! `tests/conformance.rs` checks them against those files.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::fleet::re;

/// A shape of the model, as far as validation needs it.
pub enum Shape {
    /// `string`, and `blob` (a base64 string on the JSON protocols).
    Str(Str),
    /// `integer` (32 bits).
    Int(Range),
    /// `long`.
    Long(Range),
    Bool,
    /// A list; its length bounds are on the [`Member`] whose shape it is.
    List(&'static Shape),
    Struct(&'static [Member]),
    /// A map with string keys; the names are its key and value on the query protocol's
    /// wire (`MessageAttributes.entry.N.Name` / `.Value`). Its length bounds and key
    /// constraints are on the [`Member`] whose shape it is.
    Map {
        value: &'static Shape,
        key_name: &'static str,
        value_name: &'static str,
    },
}

/// A number shape's bounds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// A string shape's constraints.
pub struct Str {
    pub min: Option<usize>,
    pub max: Option<usize>,
    /// The model's pattern, matched against the whole value.
    pub pattern: Option<&'static str>,
    pub values: &'static [&'static str],
    /// A `blob`: the JSON protocols carry it as base64, which must decode.
    pub blob: bool,
}

/// A list's or map's length bounds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Length {
    pub min: Option<usize>,
    pub max: Option<usize>,
}

/// A member of a structure. Every list and map the served operations take is some
/// structure's member, so a collection's length bounds and a map's key constraints (which
/// the model puts on the list or map shape) are kept here.
pub struct Member {
    pub name: &'static str,
    pub required: bool,
    pub shape: &'static Shape,
    /// The list's or map's length bounds.
    pub length: Length,
    /// The map's key constraints.
    pub keys: Option<&'static Str>,
}

pub const fn req(name: &'static str, shape: &'static Shape) -> Member {
    Member { name, required: true, shape, length: Length { min: None, max: None }, keys: None }
}

pub const fn opt(name: &'static str, shape: &'static Shape) -> Member {
    Member { name, required: false, shape, length: Length { min: None, max: None }, keys: None }
}

impl Member {
    /// The same member, a list or map of `min` to `max` items.
    pub const fn items(self, min: Option<usize>, max: Option<usize>) -> Member {
        Member { length: Length { min, max }, ..self }
    }

    /// The same member, a map whose keys are `keys`.
    pub const fn keyed(self, keys: &'static Str) -> Member {
        Member { keys: Some(keys), ..self }
    }
}

/// A string of `min` to `max` characters, matching `pattern`, one of `values` (if any).
pub const fn text(
    min: Option<usize>,
    max: Option<usize>,
    pattern: Option<&'static str>,
    values: &'static [&'static str],
) -> Str {
    Str { min, max, pattern, values, blob: false }
}

pub const fn sized(min: usize, max: usize) -> Shape {
    Shape::Str(text(Some(min), Some(max), None, &[]))
}

pub const fn patterned(min: Option<usize>, max: Option<usize>, pattern: &'static str) -> Shape {
    Shape::Str(text(min, max, Some(pattern), &[]))
}

/// An enum: one of `values`, listed in the order the service lists them in its messages.
pub const fn one_of(values: &'static [&'static str]) -> Shape {
    Shape::Str(text(None, None, None, values))
}

pub const fn int(min: Option<i64>, max: Option<i64>) -> Shape {
    Shape::Int(Range { min, max })
}

pub const fn long(min: Option<i64>, max: Option<i64>) -> Shape {
    Shape::Long(Range { min, max })
}

/// An unconstrained `string`.
pub const STRING: Shape = Shape::Str(text(None, None, None, &[]));
/// A `blob`.
pub const BLOB: Shape = Shape::Str(Str { min: None, max: None, pattern: None, values: &[], blob: true });
pub const BOOLEAN: Shape = Shape::Bool;

pub const TAPE_ARN_PATTERN: &str =
    r"arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):storagegateway:[a-z\-0-9]+:[0-9]+:tape\/[0-9A-Z]{5,16}$";
pub const VOLUME_ARN_PATTERN: &str = r"arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):storagegateway:[a-z\-0-9]+:[0-9]+:gateway\/(.+)\/volume\/vol-(\S+)";
pub const TAG_KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
pub const SNAPSHOT_ID_PATTERN: &str = r"\Asnap-([0-9A-Fa-f]{8}|[0-9A-Fa-f]{17})\z";
pub const TARGET_NAME_PATTERN: &str = r"^[-\.;a-z0-9]+$";
pub const KMS_KEY_PATTERN: &str = r"(^arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):kms:([a-zA-Z0-9-]+):([0-9]+):(key|alias)/(\S+)$)|(^alias/(\S+)$)";
/// DynamoDB's table and index names.
pub const DYNAMODB_NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";

const PATTERNS: &[&str] = &[
    TAPE_ARN_PATTERN,
    VOLUME_ARN_PATTERN,
    TAG_KEY_PATTERN,
    SNAPSHOT_ID_PATTERN,
    TARGET_NAME_PATTERN,
    KMS_KEY_PATTERN,
    DYNAMODB_NAME_PATTERN,
];

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
const POSITIVE_INT: Shape = int(Some(1), None);
const LONG: Shape = long(None, None);
const TAG_KEY: Shape = patterned(Some(1), Some(128), TAG_KEY_PATTERN);
const TAG_VALUE: Shape = Shape::Str(text(None, Some(256), None, &[]));
const TAG: Shape = Shape::Struct(&[req("Key", &TAG_KEY), req("Value", &TAG_VALUE)]);
const TAGS: Shape = Shape::List(&TAG);
const TAG_KEYS: Shape = Shape::List(&TAG_KEY);
const TAPE_ARNS: Shape = Shape::List(&TAPE_ARN);
const VOLUME_ARNS: Shape = Shape::List(&VOLUME_ARN);
const SNAPSHOT_DESCRIPTION: Shape = sized(1, 255);
const SNAPSHOT_ID: Shape = patterned(None, None, SNAPSHOT_ID_PATTERN);
const TARGET_NAME: Shape = patterned(Some(1), Some(200), TARGET_NAME_PATTERN);
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
    req("NetworkInterfaceId", &STRING),
    req("ClientToken", &CLIENT_TOKEN),
    opt("KMSEncrypted", &BOOLEAN),
    opt("KMSKey", &KMS_KEY),
    opt("Tags", &TAGS),
];
const DESCRIBE_CACHED_VOLUMES: &[Member] = &[req("VolumeARNs", &VOLUME_ARNS)];

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
pub fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One step from the request's top down to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A structure's member, by its model name (`Tags`).
    Member(&'static str),
    /// A list's member, 1-based.
    Index(usize),
    /// A map's value, by its key.
    Key(String),
}

/// A value's path as AWS writes it: `tags.1.member.key`, `item.pk.member.m`.
pub fn path(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        let sep = if out.is_empty() { "" } else { "." };
        match s {
            Step::Member(name) => {
                let _ = write!(out, "{sep}{}", camel(name));
            }
            Step::Index(i) => {
                let _ = write!(out, "{sep}{i}.member");
            }
            Step::Key(k) => {
                let _ = write!(out, "{sep}{k}.member");
            }
        }
    }
    out
}

/// The top-level member a path starts at.
fn top(steps: &[Step]) -> &'static str {
    match steps.first() {
        Some(Step::Member(name)) => name,
        _ => "",
    }
}

/// The JSON type a shape needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    String,
    /// A base64 string.
    Blob,
    Integer,
    Long,
    Boolean,
    List,
    Structure,
    Map,
}

/// What a value of the wrong type was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    True,
    False,
    /// A whole number (or one too big for the shape).
    Integer,
    Decimal,
    String,
    /// A string that is not base64, where a blob was expected.
    NotBase64 {
        /// Its length.
        len: usize,
    },
    List,
    Object,
}

impl Found {
    fn of(v: &Value) -> Found {
        match v {
            Value::Bool(true) => Found::True,
            Value::Bool(false) | Value::Null => Found::False,
            Value::Number(n) if n.is_i64() || n.is_u64() => Found::Integer,
            Value::Number(_) => Found::Decimal,
            Value::String(_) => Found::String,
            Value::Array(_) => Found::List,
            Value::Object(_) => Found::Object,
        }
    }
}

/// A member of the wrong JSON type: where, what it was, what the shape needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    pub steps: Vec<Step>,
    pub found: Found,
    pub expected: Expected,
}

impl TypeMismatch {
    pub fn path(&self) -> String {
        path(&self.steps)
    }

    /// Storage Gateway's (and this simulator's generic) wording: `Cannot read a number at
    /// 'limit' as a string`.
    pub fn message(&self) -> String {
        let found = match self.found {
            Found::True | Found::False => "a boolean",
            Found::Integer | Found::Decimal => "a number",
            Found::String => "a string",
            Found::NotBase64 { .. } => "a string that is not base64",
            Found::List => "a list",
            Found::Object => "an object",
        };
        let expected = match self.expected {
            Expected::String => "a string",
            Expected::Blob => "base64 bytes",
            Expected::Integer => "an integer",
            Expected::Long => "a long integer",
            Expected::Boolean => "a boolean",
            Expected::List => "a list",
            Expected::Structure => "a structure",
            Expected::Map => "a map",
        };
        format!("Cannot read {found} at '{}' as {expected}", self.path())
    }
}

/// A constraint of the model, as a violation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    Required,
    MinLength(usize),
    MaxLength(usize),
    MinValue(i64),
    MaxValue(i64),
    Pattern(&'static str),
    Enum(&'static [&'static str]),
    /// A map's key breaks the key constraints (the violation names the whole map).
    MapKey {
        key: String,
        constraints: Vec<String>,
    },
    /// A map's plain value breaks the value constraints (the violation names the whole map).
    MapValue {
        key: String,
        constraints: Vec<String>,
    },
}

impl Constraint {
    /// The text after "failed to satisfy constraint: ".
    pub fn wording(&self) -> String {
        match self {
            Self::Required => "Member must not be null".to_owned(),
            Self::MinLength(n) => format!("Member must have length greater than or equal to {n}"),
            Self::MaxLength(n) => format!("Member must have length less than or equal to {n}"),
            Self::MinValue(n) => format!("Member must have value greater than or equal to {n}"),
            Self::MaxValue(n) => format!("Member must have value less than or equal to {n}"),
            Self::Pattern(p) => format!("Member must satisfy regular expression pattern: {p}"),
            Self::Enum(values) => format!("Member must satisfy enum value set: [{}]", values.join(", ")),
            Self::MapKey { constraints, .. } => {
                format!("Map keys must satisfy constraint: [{}]", constraints.join(", "))
            }
            Self::MapValue { constraints, .. } => {
                format!("Map value must satisfy constraint: [{}]", constraints.join(", "))
            }
        }
    }
}

/// One constraint a request breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub steps: Vec<Step>,
    pub constraint: Constraint,
    /// The value that breaks it (the whole map for map keys and values); `None` if missing.
    pub value: Option<Value>,
}

impl Violation {
    pub fn path(&self) -> String {
        path(&self.steps)
    }

    /// The top-level member it is in (`Tags`).
    pub fn top(&self) -> &'static str {
        top(&self.steps)
    }

    /// `Value 'x' at 'member' failed to satisfy constraint: ...`.
    pub fn message(&self) -> String {
        let v = self.value.as_ref().map_or_else(|| "null".to_owned(), shown);
        format!("Value {v} at '{}' failed to satisfy constraint: {}", self.path(), self.constraint.wording())
    }
}

/// All the violations in one message: `2 validation errors detected: ...; ...`.
pub fn summary(violations: &[Violation]) -> String {
    let n = violations.len();
    let list: Vec<String> = violations.iter().map(Violation::message).collect();
    format!("{n} validation error{} detected: {}", if n == 1 { "" } else { "s" }, list.join("; "))
}

/// Why a request does not fit its operation's input shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// The first member of the wrong JSON type (the first pass stops at it).
    Type(TypeMismatch),
    /// Every constraint of the model it breaks, in the order of the model's members.
    Constraints(Vec<Violation>),
}

/// Reads `body` as the input of `members`: types first, then every constraint.
pub fn examine(members: &[Member], body: &Map<String, Value>) -> Option<Rejection> {
    let mut steps = Vec::new();
    for m in members {
        if let Some(v) = body.get(m.name) {
            steps.push(Step::Member(m.name));
            let typed = types(m.shape, v, &mut steps);
            steps.pop();
            if let Err(e) = typed {
                return Some(Rejection::Type(e));
            }
        }
    }
    let mut found = Vec::new();
    for m in members {
        member(m, body.get(m.name), &mut vec![Step::Member(m.name)], &mut found);
    }
    (!found.is_empty()).then_some(Rejection::Constraints(found))
}

/// Why a request does not fit its operation's input shape, in Storage Gateway's and SNS's
/// terms.
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
    Some(match examine(members, body)? {
        Rejection::Type(t) => Misfit::Type(t.message()),
        Rejection::Constraints(v) => {
            Misfit::Constraints { message: summary(&v), parameter: v.first().map_or("", Violation::top) }
        }
    })
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

/// The first pass: every value present has the JSON type its shape needs (null is absent).
fn types(shape: &Shape, v: &Value, steps: &mut Vec<Step>) -> Result<(), TypeMismatch> {
    let expected = match (shape, v) {
        (_, Value::Null) | (Shape::Bool, Value::Bool(_)) => return Ok(()),
        (Shape::Str(s), Value::String(text)) => {
            if s.blob && crate::dynamodb::base64::decode(text).is_none() {
                let found = Found::NotBase64 { len: text.chars().count() };
                return Err(TypeMismatch { steps: steps.clone(), found, expected: Expected::Blob });
            }
            return Ok(());
        }
        (Shape::Int(_), Value::Number(n)) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => return Ok(()),
        (Shape::Long(_), Value::Number(n)) if n.as_i64().is_some() => return Ok(()),
        (Shape::List(item), Value::Array(items)) => {
            for (i, x) in items.iter().enumerate() {
                steps.push(Step::Index(i + 1));
                let typed = types(item, x, steps);
                steps.pop();
                typed?;
            }
            return Ok(());
        }
        (Shape::Struct(members), Value::Object(map)) => {
            for m in members.iter() {
                if let Some(x) = map.get(m.name) {
                    steps.push(Step::Member(m.name));
                    let typed = types(m.shape, x, steps);
                    steps.pop();
                    typed?;
                }
            }
            return Ok(());
        }
        (Shape::Map { value, .. }, Value::Object(map)) => {
            for (k, x) in map {
                steps.push(Step::Key(k.clone()));
                let typed = types(value, x, steps);
                steps.pop();
                typed?;
            }
            return Ok(());
        }
        (Shape::Str(s), _) if s.blob => Expected::Blob,
        (Shape::Str(_), _) => Expected::String,
        (Shape::Int(_), _) => Expected::Integer,
        (Shape::Long(_), _) => Expected::Long,
        (Shape::Bool, _) => Expected::Boolean,
        (Shape::List(_), _) => Expected::List,
        (Shape::Struct(_), _) => Expected::Structure,
        (Shape::Map { .. }, _) => Expected::Map,
    };
    Err(TypeMismatch { steps: steps.clone(), found: Found::of(v), expected })
}

/// How a value is quoted in a violation: `'x'`, `'5'`, `'[a, b]'`, `'{k=v}'` (a map as
/// Java prints one).
fn shown(v: &Value) -> String {
    fn bare(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => format!("[{}]", items.iter().map(bare).collect::<Vec<_>>().join(", ")),
            Value::Object(map) => {
                format!("{{{}}}", map.iter().map(|(k, x)| format!("{k}={}", bare(x))).collect::<Vec<_>>().join(", "))
            }
            other => other.to_string(),
        }
    }
    format!("'{}'", bare(v))
}

fn violation(found: &mut Vec<Violation>, steps: &[Step], value: Option<&Value>, constraint: Constraint) {
    found.push(Violation { steps: steps.to_vec(), constraint, value: value.cloned() });
}

/// The second pass for one member: present if required, then its constraints.
fn member(m: &Member, v: Option<&Value>, steps: &mut Vec<Step>, found: &mut Vec<Violation>) {
    let v = match v {
        None | Some(Value::Null) if m.required => return violation(found, steps, None, Constraint::Required),
        None | Some(Value::Null) => return,
        Some(v) => v,
    };
    let len = match v {
        Value::Array(items) => Some(items.len()),
        Value::Object(map) if matches!(m.shape, Shape::Map { .. }) => Some(map.len()),
        _ => None,
    };
    if let Some(n) = len {
        if let Some(min) = m.length.min.filter(|min| n < *min) {
            violation(found, steps, Some(v), Constraint::MinLength(min));
        }
        if let Some(max) = m.length.max.filter(|max| n > *max) {
            violation(found, steps, Some(v), Constraint::MaxLength(max));
        }
    }
    if let (Some(keys), Value::Object(map)) = (m.keys, v) {
        for k in map.keys() {
            if !string_problems(keys, k).is_empty() {
                let constraint = Constraint::MapKey { key: k.clone(), constraints: all_wordings_of_str(keys) };
                violation(found, steps, Some(v), constraint);
            }
        }
    }
    constraints(m.shape, v, steps, found);
}

/// The second pass: the model's constraints, every violation collected.
fn constraints(shape: &Shape, v: &Value, steps: &mut Vec<Step>, found: &mut Vec<Violation>) {
    match (shape, v) {
        (Shape::Str(s), Value::String(text)) => {
            for c in string_problems(s, text) {
                violation(found, steps, Some(v), c);
            }
        }
        (Shape::Int(r) | Shape::Long(r), Value::Number(n)) => {
            for c in number_problems(*r, n.as_i64().unwrap_or_default()) {
                violation(found, steps, Some(v), c);
            }
        }
        (Shape::List(item), Value::Array(items)) => {
            for (i, x) in items.iter().enumerate() {
                steps.push(Step::Index(i + 1));
                match x {
                    Value::Null => violation(found, steps, None, Constraint::Required),
                    x => constraints(item, x, steps, found),
                }
                steps.pop();
            }
        }
        (Shape::Struct(members), Value::Object(map)) => {
            for m in members.iter() {
                steps.push(Step::Member(m.name));
                member(m, map.get(m.name), steps, found);
                steps.pop();
            }
        }
        (Shape::Map { value, .. }, Value::Object(map)) => {
            for (k, x) in map {
                match (value, x) {
                    (_, Value::Null) => {
                        steps.push(Step::Key(k.clone()));
                        violation(found, steps, None, Constraint::Required);
                        steps.pop();
                    }
                    (Shape::Str(_) | Shape::Int(_) | Shape::Long(_), x) => {
                        if scalar_breaks(value, x) {
                            let constraint = Constraint::MapValue { key: k.clone(), constraints: all_wordings(value) };
                            violation(found, steps, Some(v), constraint);
                        }
                    }
                    (value, x) => {
                        steps.push(Step::Key(k.clone()));
                        constraints(value, x, steps, found);
                        steps.pop();
                    }
                }
            }
        }
        _ => {}
    }
}

fn string_problems(s: &Str, text: &str) -> Vec<Constraint> {
    let n = text.chars().count();
    let mut out = Vec::new();
    if let Some(min) = s.min.filter(|min| n < *min) {
        out.push(Constraint::MinLength(min));
    }
    if let Some(max) = s.max.filter(|max| n > *max) {
        out.push(Constraint::MaxLength(max));
    }
    if let Some(p) = s.pattern.filter(|p| !matches(p, text)) {
        out.push(Constraint::Pattern(p));
    }
    if !s.values.is_empty() && !s.values.contains(&text) {
        out.push(Constraint::Enum(s.values));
    }
    out
}

fn number_problems(r: Range, n: i64) -> Vec<Constraint> {
    let mut out = Vec::new();
    if let Some(min) = r.min.filter(|min| n < *min) {
        out.push(Constraint::MinValue(min));
    }
    if let Some(max) = r.max.filter(|max| n > *max) {
        out.push(Constraint::MaxValue(max));
    }
    out
}

/// Whether a plain map value breaks its shape's constraints.
fn scalar_breaks(shape: &Shape, v: &Value) -> bool {
    match (shape, v) {
        (Shape::Str(s), Value::String(text)) => !string_problems(s, text).is_empty(),
        (Shape::Int(r) | Shape::Long(r), Value::Number(n)) => {
            !number_problems(*r, n.as_i64().unwrap_or_default()).is_empty()
        }
        _ => false,
    }
}

/// Every constraint of a string shape, as AWS lists them for map keys and values: the
/// length bounds (maximum first), the pattern, the enum.
fn all_wordings_of_str(s: &Str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(max) = s.max {
        out.push(Constraint::MaxLength(max).wording());
    }
    if let Some(min) = s.min {
        out.push(Constraint::MinLength(min).wording());
    }
    if let Some(p) = s.pattern {
        out.push(Constraint::Pattern(p).wording());
    }
    if !s.values.is_empty() {
        out.push(Constraint::Enum(s.values).wording());
    }
    out
}

fn all_wordings(shape: &Shape) -> Vec<String> {
    match shape {
        Shape::Str(s) => all_wordings_of_str(s),
        Shape::Int(r) | Shape::Long(r) => {
            let max = r.max.map(|m| Constraint::MaxValue(m).wording());
            let min = r.min.map(|m| Constraint::MinValue(m).wording());
            max.into_iter().chain(min).collect()
        }
        _ => Vec::new(),
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

    const SHORT_KEY: Str = text(None, Some(3), None, &[]);
    const MAPS: &[Member] = &[
        opt("Keyed", &Shape::Map { value: &STRING, key_name: "key", value_name: "value" }).keyed(&SHORT_KEY),
        opt("Values", &Shape::Map { value: &sized(1, 2), key_name: "key", value_name: "value" }),
        opt("Nested", &Shape::Map { value: &TAG, key_name: "key", value_name: "value" }).items(None, Some(1)),
        opt("Names", &Shape::List(&sized(1, 5))).items(Some(1), None),
        opt("Bytes", &BLOB),
    ];

    fn examined(v: Value) -> Option<Rejection> {
        examine(MAPS, &body(v))
    }

    fn messages(v: Value) -> String {
        match examined(v) {
            Some(Rejection::Constraints(found)) => summary(&found),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_map_is_named_as_a_whole_for_its_keys_and_plain_values() {
        assert_eq!(
            messages(json!({"Keyed": {"abcd": "x", "ok": "y"}})),
            "1 validation error detected: Value '{abcd=x, ok=y}' at 'keyed' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 3]"
        );
        assert_eq!(
            messages(json!({"Values": {"k": "long"}})),
            "1 validation error detected: Value '{k=long}' at 'values' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 2, Member must have length greater than or equal to 1]"
        );
        let nested = messages(json!({"Nested": {"a": {"Key": "k"}, "b": {"Key": "k", "Value": "v"}}}));
        assert!(nested.starts_with("2 validation errors detected: "), "{nested}");
        assert!(
            nested
                .contains("at 'nested' failed to satisfy constraint: Member must have length less than or equal to 1")
        );
        assert!(
            nested.contains(
                "Value null at 'nested.a.member.value' failed to satisfy constraint: Member must not be null"
            )
        );
        assert!(examined(json!({"Keyed": {"abc": "x"}, "Values": {"k": "ab"}})).is_none());
    }

    #[test]
    fn list_lengths_members_and_nulls_are_checked() {
        assert_eq!(
            messages(json!({"Names": []})),
            "1 validation error detected: Value '[]' at 'names' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        let m = messages(json!({"Names": ["", null, "abcdef"]}));
        assert!(m.starts_with("3 validation errors detected: "), "{m}");
        assert!(m.contains("Value '' at 'names.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"));
        assert!(m.contains("Value null at 'names.2.member' failed to satisfy constraint: Member must not be null"));
        assert!(m.contains(
            "at 'names.3.member' failed to satisfy constraint: Member must have length less than or equal to 5"
        ));
    }

    #[test]
    fn blobs_are_base64_and_type_errors_say_where() {
        assert!(examined(json!({"Bytes": "AAEC"})).is_none());
        let Some(Rejection::Type(t)) = examined(json!({"Bytes": "not base64!"})) else { panic!() };
        assert_eq!((t.expected, t.found, t.path()), (Expected::Blob, Found::NotBase64 { len: 11 }, "bytes".to_owned()));
        let Some(Rejection::Type(t)) = examined(json!({"Nested": {"a": {"Key": 5}}})) else { panic!() };
        assert_eq!(t.steps, [Step::Member("Nested"), Step::Key("a".into()), Step::Member("Key")]);
        assert_eq!(t.message(), "Cannot read a number at 'nested.a.member.key' as a string");
        // Types are read first: a wrong type wins over a violated constraint elsewhere.
        assert!(matches!(examined(json!({"Names": [], "Bytes": 5})), Some(Rejection::Type(_))));
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
