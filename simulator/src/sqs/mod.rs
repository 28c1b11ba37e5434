//! SQS's queues: the operations the functions use, and messages that become visible
//! after their delay. Standard queues only (no FIFO).
//!
//! A message is *delayed* until `due_at_ms`, then *visible*; receiving it makes it *in
//! flight* until `visible_at_ms` (now plus the visibility timeout), when it is visible
//! again unless it was deleted first. Each receive gives it a new receipt handle.

pub mod md5;
pub mod shapes;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::dynamodb::base64;
use crate::fleet::Fleet;
use crate::validate::{self, Constraint, Expected, Rejection, Step, TypeMismatch, Violation};

/// Operations the simulator answers.
pub const OPERATIONS: &[&str] = &[
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "PurgeQueue",
];
/// Operations that change a queue (receiving does: it puts messages in flight).
pub const MUTATING: &[&str] = &[
    "CreateQueue",
    "DeleteQueue",
    "SetQueueAttributes",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "PurgeQueue",
];

/// Largest message (body plus attributes) SQS takes.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// Longest a message can be delayed, in seconds.
pub const MAX_DELAY_SECONDS: i64 = 900;
/// Longest visibility timeout, in seconds (12 hours).
pub const MAX_VISIBILITY_TIMEOUT: i64 = 43_200;
/// Most message attributes on one message.
const MAX_MESSAGE_ATTRIBUTES: usize = 10;
/// Deliveries remembered per queue for inspection.
const DELIVERY_LOG: usize = 1000;

/// The settable numeric attributes: name, range, default.
const NUMERIC_ATTRIBUTES: &[(&str, i64, i64, i64)] = &[
    ("DelaySeconds", 0, MAX_DELAY_SECONDS, 0),
    ("MaximumMessageSize", 1024, MAX_MESSAGE_BYTES as i64, MAX_MESSAGE_BYTES as i64),
    ("MessageRetentionPeriod", 60, 1_209_600, 345_600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20, 0),
    ("VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT, 30),
    ("KmsDataKeyReusePeriodSeconds", 60, 86_400, 300),
];
/// Other settable attributes, kept as given.
const TEXT_ATTRIBUTES: &[&str] = &["Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"];
/// FIFO queue attributes: FIFO queues are not simulated.
const FIFO_ATTRIBUTES: &[&str] =
    &["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];
/// Attributes computed from the queue's state.
const COMPUTED_ATTRIBUTES: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// An SQS error answer. Over the JSON protocol SQS sends `__type` with the model's shape
/// name and, because it is query-compatible, the old query error code in the
/// `x-amzn-query-error` header (`AWS.SimpleQueueService.NonExistentQueue;Sender`): the
/// SDK takes the error code from that header.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsError {
    pub status: u16,
    /// The `__type` shape name (`QueueDoesNotExist`).
    pub error_type: &'static str,
    /// The query error code (`AWS.SimpleQueueService.NonExistentQueue`).
    pub code: &'static str,
    pub message: String,
    /// `Sender` (the caller's fault) or `Receiver`.
    pub sender_fault: bool,
}

impl SqsError {
    fn new(error_type: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self { status: 400, error_type, code, message: message.into(), sender_fault: true }
    }

    pub fn body(&self) -> Value {
        json!({"__type": format!("com.amazonaws.sqs#{}", self.error_type), "message": self.message})
    }

    /// The `x-amzn-query-error` header.
    pub fn query_error(&self) -> String {
        format!("{};{}", self.code, if self.sender_fault { "Sender" } else { "Receiver" })
    }

    pub fn queue_does_not_exist() -> Self {
        Self::new("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", "InvalidParameterValue", message)
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new("MissingParameter", "MissingParameter", format!("The request must contain the parameter {name}."))
    }

    fn invalid_attribute_name(name: &str) -> Self {
        Self::new("InvalidAttributeName", "InvalidAttributeName", format!("Unknown Attribute {name}."))
    }

    fn invalid_attribute_value(name: &str) -> Self {
        Self::new("InvalidAttributeValue", "InvalidAttributeValue", format!("Invalid value for the parameter {name}."))
    }

    fn receipt_handle_invalid(handle: &str) -> Self {
        Self::new(
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    }

    fn unsupported(message: impl Into<String>) -> Self {
        Self::new("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", message)
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::new("UnknownOperationException", "InvalidAction", format!("Unknown operation {target}"))
    }

    pub fn serialization(message: &str) -> Self {
        Self::new("SerializationException", "SerializationException", message)
    }

    pub fn unauthorized(unsigned: bool, message: &str) -> Self {
        let mut e = if unsigned {
            Self::new("MissingAuthenticationToken", "MissingAuthenticationToken", message)
        } else {
            Self::new("SignatureDoesNotMatch", "SignatureDoesNotMatch", message)
        };
        e.status = 403;
        e
    }

    /// What SQS answers when a caller exceeds its request rate; the SDK retries it.
    pub fn throttled() -> Self {
        Self::new("RequestThrottled", "RequestThrottled", "Request is throttled.")
    }

    pub fn internal() -> Self {
        let mut e = Self::new("InternalError", "InternalError", "We encountered an internal error. Please try again.");
        e.status = 500;
        e.sender_fault = false;
        e
    }
}

/// A message attribute as SendMessage takes it (binary values kept in base64).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageAttribute {
    pub data_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

impl MessageAttribute {
    fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }

    fn value_bytes(&self) -> Vec<u8> {
        match (&self.string_value, &self.binary_value) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(b)) => base64::decode(b).unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// One message in a queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedMessage {
    pub message_id: String,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// The message system attributes it was sent with (`AWSTraceHeader`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub system_attributes: BTreeMap<String, MessageAttribute>,
    pub sender_id: String,
    pub sent_at_ms: u64,
    /// When the message's delay is over (epoch milliseconds).
    pub due_at_ms: u64,
    /// When the message can next be received: its delay's end, or the end of the
    /// visibility timeout of its last receive.
    pub visible_at_ms: u64,
    pub receive_count: u32,
    pub first_received_at_ms: Option<u64>,
    /// The handle of the latest receive; only it can delete the message.
    pub receipt_handle: Option<String>,
}

impl QueuedMessage {
    fn receivable(&self, now_ms: u64) -> bool {
        self.visible_at_ms <= now_ms
    }

    fn delayed(&self, now_ms: u64) -> bool {
        self.due_at_ms > now_ms
    }

    fn in_flight(&self, now_ms: u64) -> bool {
        !self.delayed(now_ms) && !self.receivable(now_ms)
    }
}

/// One delivery of a batch to a queue's invoke URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueDelivery {
    pub at_ms: u64,
    pub url: String,
    pub message_ids: Vec<String>,
    /// The HTTP status, `function error`, or why there was no answer.
    pub result: String,
    /// The messages deleted because the function processed them.
    pub deleted: Vec<String>,
}

/// A batch taken for delivery: its messages are in flight until settled.
#[derive(Debug, Clone)]
pub struct Batch {
    pub queue: String,
    pub url: String,
    pub queue_arn: String,
    pub visibility_timeout_ms: u64,
    pub messages: Vec<QueuedMessage>,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub name: String,
    pub arn: String,
    pub url: String,
    /// The settable attributes, defaults included.
    pub attributes: BTreeMap<String, String>,
    pub created_secs: i64,
    pub modified_secs: i64,
    /// A local Lambda invoke URL that receives the queue's messages (an event source
    /// mapping).
    pub deliver_to: Option<String>,
    pub messages: Vec<QueuedMessage>,
    pub deliveries: Vec<QueueDelivery>,
    in_flight_batches: usize,
    last_purge_ms: Option<u64>,
}

impl Queue {
    fn number(&self, name: &str) -> i64 {
        let default = NUMERIC_ATTRIBUTES.iter().find(|(n, ..)| *n == name).map_or(0, |(.., d)| *d);
        self.attributes.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    fn visibility_timeout_ms(&self) -> u64 {
        self.number("VisibilityTimeout").unsigned_abs() * 1000
    }

    /// Drops messages older than the retention period, as SQS does.
    fn expire(&mut self, now_ms: u64) {
        let retention_ms = self.number("MessageRetentionPeriod").unsigned_abs() * 1000;
        self.messages.retain(|m| m.sent_at_ms + retention_ms > now_ms);
    }

    fn attribute(&self, name: &str, now_ms: u64) -> Option<String> {
        let count = |f: &dyn Fn(&QueuedMessage) -> bool| self.messages.iter().filter(|m| f(m)).count().to_string();
        Some(match name {
            "ApproximateNumberOfMessages" => count(&|m| m.receivable(now_ms)),
            "ApproximateNumberOfMessagesNotVisible" => count(&|m| m.in_flight(now_ms)),
            "ApproximateNumberOfMessagesDelayed" => count(&|m| m.delayed(now_ms)),
            "CreatedTimestamp" => self.created_secs.to_string(),
            "LastModifiedTimestamp" => self.modified_secs.to_string(),
            "QueueArn" => self.arn.clone(),
            other => self.attributes.get(other)?.clone(),
        })
    }

    fn json(&self, now_ms: u64) -> Value {
        let names = COMPUTED_ATTRIBUTES.iter().copied().chain(self.attributes.keys().map(String::as_str));
        let attributes: BTreeMap<&str, String> =
            names.filter_map(|n| self.attribute(n, now_ms).map(|v| (n, v))).collect();
        json!({
            "name": self.name, "url": self.url, "arn": self.arn, "deliver_to": self.deliver_to,
            "attributes": attributes, "messages": self.messages, "deliveries": self.deliveries,
        })
    }
}

/// What a call needs from outside the queues.
pub struct Context<'a> {
    pub now_ms: u64,
    /// Who is calling (the access key id), for `SenderId`.
    pub sender_id: String,
    pub new_id: &'a mut dyn FnMut() -> String,
}

/// Every queue, by name, in one region and account.
#[derive(Debug, Clone)]
pub struct Queues {
    region: String,
    account: String,
    queues: BTreeMap<String, Queue>,
    receipts: u64,
}

impl Default for Queues {
    fn default() -> Self {
        Self::new("us-east-1", "123456789012")
    }
}

fn default_attributes() -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> =
        NUMERIC_ATTRIBUTES.iter().map(|(n, .., d)| ((*n).to_owned(), d.to_string())).collect();
    a.remove("KmsDataKeyReusePeriodSeconds");
    a.insert("SqsManagedSseEnabled".to_owned(), "true".to_owned());
    a
}

/// Typed access to a request's members.
struct Input<'a>(&'a Map<String, Value>);

fn wrong_type(name: &str, expected: &str) -> SqsError {
    SqsError::serialization(&format!("Value for parameter {name} must be {expected}"))
}

impl<'a> Input<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<&'a str>, SqsError> {
        self.get(name).map(|v| v.as_str().ok_or_else(|| wrong_type(name, "a string"))).transpose()
    }

    fn required(&self, name: &str) -> Result<&'a str, SqsError> {
        self.string(name)?.filter(|s| !s.is_empty()).ok_or_else(|| SqsError::missing_parameter(name))
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, SqsError> {
        self.get(name).map(|v| v.as_i64().ok_or_else(|| wrong_type(name, "an integer"))).transpose()
    }

    fn strings(&self, name: &str) -> Result<Vec<&'a str>, SqsError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => {
                a.iter().map(|v| v.as_str().ok_or_else(|| wrong_type(name, "a list of strings"))).collect()
            }
            Some(_) => Err(wrong_type(name, "a list of strings")),
        }
    }

    fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>, SqsError> {
        match self.get(name) {
            None => Ok(BTreeMap::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    v.as_str().map(|s| (k.clone(), s.to_owned())).ok_or_else(|| wrong_type(name, "a map of strings"))
                })
                .collect(),
            Some(_) => Err(wrong_type(name, "a map of strings")),
        }
    }
}

/// `Value 901 for parameter DelaySeconds is invalid. Reason: ...`, SQS's wording.
fn out_of_range(value: i64, name: &str, reason: &str) -> SqsError {
    SqsError::invalid_parameter_value(format!("Value {value} for parameter {name} is invalid. Reason: {reason}"))
}

/// The characters SQS allows in a message: `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
/// #xFFFD | #x10000 to #x10FFFF`.
fn allowed_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn check_text(text: &str, what: &str) -> Result<(), SqsError> {
    match text.chars().find(|c| !allowed_char(*c)) {
        Some(c) => Err(SqsError::new(
            "InvalidMessageContents",
            "InvalidMessageContents",
            format!(
                "Invalid binary character '#x{:X}' was found in the {what}, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                u32::from(c)
            ),
        )),
        None => Ok(()),
    }
}

/// `MD5OfMessageAttributes`: the MD5 of each attribute (sorted by name) encoded as name,
/// data type, transport type (1 string, 2 binary) and value, lengths as 4-byte big-endian.
pub fn md5_of_attributes(attributes: &BTreeMap<String, MessageAttribute>) -> String {
    let mut buf = Vec::new();
    let field = |bytes: &[u8], buf: &mut Vec<u8>| {
        buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buf.extend_from_slice(bytes);
    };
    for (name, a) in attributes {
        field(name.as_bytes(), &mut buf);
        field(a.data_type.as_bytes(), &mut buf);
        buf.push(if a.is_binary() { 2 } else { 1 });
        field(&a.value_bytes(), &mut buf);
    }
    md5::hex(&buf)
}

/// A member's name as the API reference writes it, with the keys and positions below it:
/// `MessageAttributes.a.StringValue`, `AttributeNames.1`.
fn parameter(steps: &[Step]) -> String {
    let parts: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Member(name) => (*name).to_owned(),
            Step::Index(i) => i.to_string(),
            Step::Key(k) => k.clone(),
        })
        .collect();
    parts.join(".")
}

/// SQS's answer to a request that does not fit the model: a member of the wrong JSON type
/// is a `SerializationException` naming it; of the constraints it breaks, the first is
/// answered as SQS answers it (`MissingParameter`, `InvalidAttributeName`, ...), else as
/// `InvalidParameterValue` in the model's wording.
fn rejected(op: &str, rejection: &Rejection) -> SqsError {
    match rejection {
        Rejection::Type(t) => mistyped(t),
        Rejection::Constraints(found) => match found.first() {
            Some(v) => violated(op, v),
            None => SqsError::invalid_parameter_value("The request is invalid."),
        },
    }
}

fn mistyped(t: &TypeMismatch) -> SqsError {
    let expected = match t.expected {
        Expected::String => "a string",
        Expected::Blob => "base64-encoded binary data",
        Expected::Integer | Expected::Long => "an integer",
        Expected::Boolean => "a boolean",
        Expected::List => "a list",
        Expected::Structure => "a structure",
        Expected::Map => "a map",
    };
    wrong_type(&parameter(&t.steps), expected)
}

fn violated(op: &str, v: &Violation) -> SqsError {
    let attribute = |kind: &str, name: &str| {
        SqsError::invalid_parameter_value(format!("The {kind} '{name}' must contain non-empty message attribute type."))
    };
    match (&v.constraint, v.steps.as_slice()) {
        (Constraint::Required, [Step::Member(name)]) => SqsError::missing_parameter(name),
        (Constraint::Required, [Step::Member("MessageAttributes"), Step::Key(k), Step::Member("DataType")]) => {
            attribute("message attribute", k)
        }
        (Constraint::Required, [Step::Member("MessageSystemAttributes"), Step::Key(k), Step::Member("DataType")]) => {
            attribute("message system attribute", k)
        }
        // GetQueueAttributes declares InvalidAttributeName; ReceiveMessage does not.
        (Constraint::Enum(_), [Step::Member(member), Step::Index(_)]) => {
            let name = v.value.as_ref().and_then(Value::as_str).unwrap_or_default();
            if op == "GetQueueAttributes" {
                SqsError::invalid_attribute_name(name)
            } else {
                SqsError::invalid_parameter_value(format!(
                    "Value {name} for parameter {member} is invalid. Reason: Unknown Attribute {name}."
                ))
            }
        }
        (Constraint::MapKey { key, .. }, [Step::Member("Attributes")]) => SqsError::invalid_attribute_name(key),
        (Constraint::MapKey { key, .. }, [Step::Member("MessageSystemAttributes")]) => {
            SqsError::invalid_parameter_value(format!(
                "Value {key} for parameter MessageSystemAttributes is invalid. Reason: The only message system attribute a message can be sent with is AWSTraceHeader."
            ))
        }
        _ => SqsError::invalid_parameter_value(v.message()),
    }
}

/// `MessageSystemAttributes`: `AWSTraceHeader` (the only one the model allows), a
/// non-empty `String`.
fn system_attributes_sent(input: &Input) -> Result<BTreeMap<String, MessageAttribute>, SqsError> {
    let Some(Value::Object(map)) = input.get("MessageSystemAttributes") else { return Ok(BTreeMap::new()) };
    let mut out = BTreeMap::new();
    for (name, v) in map {
        let a = Input(v.as_object().ok_or_else(|| wrong_type("MessageSystemAttributes", "a map of structures"))?);
        let data_type = a.string("DataType")?.unwrap_or_default();
        if data_type != "String" {
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {data_type} for parameter MessageSystemAttributes.{name}.DataType is invalid. Reason: {name} must be of type String."
            )));
        }
        let value = a.string("StringValue")?.filter(|s| !s.is_empty()).ok_or_else(|| {
            SqsError::invalid_parameter_value(format!(
                "Message system attribute '{name}' must contain a non-empty value of type 'String'."
            ))
        })?;
        check_text(value, "message system attribute value")?;
        let attribute = MessageAttribute {
            data_type: data_type.to_owned(),
            string_value: Some(value.to_owned()),
            binary_value: None,
        };
        out.insert(name.clone(), attribute);
    }
    Ok(out)
}

fn message_attributes(input: &Input) -> Result<BTreeMap<String, MessageAttribute>, SqsError> {
    let Some(value) = input.get("MessageAttributes") else { return Ok(BTreeMap::new()) };
    let Value::Object(map) = value else { return Err(wrong_type("MessageAttributes", "a map")) };
    if map.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(SqsError::invalid_parameter_value(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            map.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (name, v) in map {
        check_attribute_name(name)?;
        let Value::Object(fields) = v else { return Err(wrong_type("MessageAttributes", "a map of structures")) };
        let a = Input(fields);
        let data_type = a.string("DataType")?.unwrap_or_default();
        if data_type.is_empty() {
            return Err(SqsError::invalid_parameter_value(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        let base = data_type.split('.').next().unwrap_or_default();
        let empty = |kind: &str| {
            SqsError::invalid_parameter_value(format!(
                "Message (user) attribute '{name}' must contain a non-empty value of type '{kind}'."
            ))
        };
        let attribute = match base {
            "String" | "Number" => {
                let s = a.string("StringValue")?.filter(|s| !s.is_empty()).ok_or_else(|| empty(base))?;
                check_text(s, "message attribute value")?;
                if base == "Number" && crate::dynamodb::number::Number::parse(s).is_err() {
                    return Err(SqsError::invalid_parameter_value(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
                MessageAttribute {
                    data_type: data_type.to_owned(),
                    string_value: Some(s.to_owned()),
                    binary_value: None,
                }
            }
            "Binary" => {
                let b = a.string("BinaryValue")?.unwrap_or_default();
                let bytes = base64::decode(b).ok_or_else(|| wrong_type("BinaryValue", "base64"))?;
                if bytes.is_empty() {
                    return Err(empty("Binary"));
                }
                MessageAttribute {
                    data_type: data_type.to_owned(),
                    string_value: None,
                    binary_value: Some(base64::encode(&bytes)),
                }
            }
            _ => {
                return Err(SqsError::invalid_parameter_value(format!(
                    "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )));
            }
        };
        out.insert(name.clone(), attribute);
    }
    Ok(out)
}

/// Attribute names: up to 256 of `A-Za-z0-9_-.`, not starting `AWS.` or `Amazon.`, no
/// leading, trailing or doubled periods.
fn check_attribute_name(name: &str) -> Result<(), SqsError> {
    let lower = name.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..");
    if valid {
        Ok(())
    } else {
        Err(SqsError::invalid_parameter_value(format!("Message (user) attribute name '{name}' is invalid.")))
    }
}

/// Whether a `MessageAttributeNames` entry asks for `name` (`All`, `.*`, `name`, `prefix.*`).
fn attribute_wanted(patterns: &[&str], name: &str) -> bool {
    patterns.iter().any(|p| match *p {
        "All" | ".*" => true,
        p => match p.strip_suffix(".*") {
            Some(prefix) => name.starts_with(&format!("{prefix}.")),
            None => p == name,
        },
    })
}

/// The queue a `QueueUrl` names: its last path segment.
fn name_in_url(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or_default()
}

impl Queues {
    pub fn new(region: &str, account: &str) -> Self {
        Self { region: region.to_owned(), account: account.to_owned(), queues: BTreeMap::new(), receipts: 0 }
    }

    /// The queues a fleet file declares, empty, with default attributes.
    pub fn from_fleet(fleet: &Fleet) -> Self {
        let mut queues = Self::new(&fleet.region, &fleet.account);
        for q in &fleet.queues {
            queues.insert(&q.name, default_attributes(), crate::now_secs());
            queues.set_delivery(&q.name, q.deliver_to.clone());
        }
        queues
    }

    fn insert(&mut self, name: &str, attributes: BTreeMap<String, String>, now_secs: i64) -> &Queue {
        let queue = Queue {
            name: name.to_owned(),
            arn: format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account),
            url: self.url(name),
            attributes,
            created_secs: now_secs,
            modified_secs: now_secs,
            deliver_to: None,
            messages: Vec::new(),
            deliveries: Vec::new(),
            in_flight_batches: 0,
            last_purge_ms: None,
        };
        self.queues.entry(name.to_owned()).or_insert(queue)
    }

    /// The URL SQS answers for a queue.
    pub fn url(&self, name: &str) -> String {
        format!("https://sqs.{}.amazonaws.com/{}/{name}", self.region, self.account)
    }

    pub fn queue(&self, name: &str) -> Option<&Queue> {
        self.queues.get(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.queues.keys().cloned().collect()
    }

    /// A queue's messages, in the order they were sent.
    pub fn messages(&self, name: &str) -> Vec<QueuedMessage> {
        self.queues.get(name).map(|q| q.messages.clone()).unwrap_or_default()
    }

    /// Removes and answers the messages whose delay is over.
    pub fn take_due(&mut self, name: &str, now_ms: u64) -> Vec<QueuedMessage> {
        let Some(q) = self.queues.get_mut(name) else { return Vec::new() };
        let (due, waiting) = std::mem::take(&mut q.messages).into_iter().partition(|m| m.due_at_ms <= now_ms);
        q.messages = waiting;
        due
    }

    /// Sets or clears a queue's invoke URL; false if there is no such queue.
    pub fn set_delivery(&mut self, name: &str, url: Option<String>) -> bool {
        match self.queues.get_mut(name) {
            Some(q) => {
                q.deliver_to = url;
                true
            }
            None => false,
        }
    }

    pub fn deliveries(&self, name: &str) -> Vec<QueueDelivery> {
        self.queues.get(name).map(|q| q.deliveries.clone()).unwrap_or_default()
    }

    /// One queue for the control API: attributes, messages, deliveries.
    pub fn queue_json(&self, name: &str, now_ms: u64) -> Option<Value> {
        self.queues.get(name).map(|q| q.json(now_ms))
    }

    /// Every queue for the control API.
    pub fn state_json(&self, now_ms: u64) -> Value {
        Value::Array(self.queues.values().map(|q| q.json(now_ms)).collect())
    }

    /// How long a ReceiveMessage may wait for a message: its `WaitTimeSeconds`, else the
    /// queue's `ReceiveMessageWaitTimeSeconds` (long polling).
    pub fn wait_seconds(&self, body: &Map<String, Value>) -> u64 {
        let input = Input(body);
        let Some(q) = input.string("QueueUrl").ok().flatten().and_then(|u| self.queues.get(name_in_url(u))) else {
            return 0;
        };
        let wait = input
            .integer("WaitTimeSeconds")
            .ok()
            .flatten()
            .unwrap_or_else(|| q.number("ReceiveMessageWaitTimeSeconds"));
        wait.clamp(0, 20).unsigned_abs()
    }

    fn by_url(&mut self, input: &Input, now_ms: u64) -> Result<&mut Queue, SqsError> {
        let url = input.required("QueueUrl")?;
        let q = self.queues.get_mut(name_in_url(url)).ok_or_else(SqsError::queue_does_not_exist)?;
        q.expire(now_ms);
        Ok(q)
    }

    fn new_receipt(&mut self, queue: &str, message_id: &str) -> String {
        self.receipts += 1;
        base64::encode(format!("{queue}\n{message_id}\n{}", self.receipts).as_bytes())
    }

    /// Answers one call: the request is read against the operation's input shape first
    /// (types, then the model's constraints), then SQS's own rules apply.
    pub fn call(&mut self, op: &str, body: &Map<String, Value>, ctx: &mut Context) -> Result<Value, SqsError> {
        let shape = shapes::input(op).ok_or_else(|| SqsError::unknown_operation(op))?;
        if let Some(rejection) = validate::examine(shape, body) {
            return Err(rejected(op, &rejection));
        }
        let input = Input(body);
        match op {
            "CreateQueue" => self.create_queue(&input, ctx),
            "GetQueueUrl" => {
                let name = input.required("QueueName")?;
                let owner = input.string("QueueOwnerAWSAccountId")?;
                if owner.is_some_and(|a| a != self.account) {
                    return Err(SqsError::queue_does_not_exist());
                }
                self.queues.get(name).ok_or_else(SqsError::queue_does_not_exist)?;
                Ok(json!({"QueueUrl": self.url(name)}))
            }
            "ListQueues" => self.list_queues(&input),
            "DeleteQueue" => {
                let name = self.by_url(&input, ctx.now_ms)?.name.clone();
                self.queues.remove(&name);
                Ok(json!({}))
            }
            "GetQueueAttributes" => self.get_attributes(&input, ctx.now_ms),
            "SetQueueAttributes" => {
                let attributes = checked_attributes(&input.string_map("Attributes")?)?;
                let q = self.by_url(&input, ctx.now_ms)?;
                q.attributes.extend(attributes);
                q.modified_secs = (ctx.now_ms / 1000) as i64;
                Ok(json!({}))
            }
            "SendMessage" => self.send_message(&input, ctx),
            "ReceiveMessage" => self.receive_message(&input, ctx.now_ms),
            "DeleteMessage" => self.delete_message(&input, ctx.now_ms),
            "ChangeMessageVisibility" => self.change_visibility(&input, ctx.now_ms),
            "PurgeQueue" => {
                let q = self.by_url(&input, ctx.now_ms)?;
                if q.last_purge_ms.is_some_and(|t| ctx.now_ms < t + 60_000) {
                    return Err(SqsError::new(
                        "PurgeQueueInProgress",
                        "AWS.SimpleQueueService.PurgeQueueInProgress",
                        format!("Only one PurgeQueue operation on {} is allowed every 60 seconds.", q.name),
                    ));
                }
                q.messages.clear();
                q.last_purge_ms = Some(ctx.now_ms);
                Ok(json!({}))
            }
            other => Err(SqsError::unknown_operation(other)),
        }
    }

    fn create_queue(&mut self, input: &Input, ctx: &Context) -> Result<Value, SqsError> {
        let name = input.required("QueueName")?;
        let valid = name.len() <= 80 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let given = input.string_map("Attributes")?;
        if name.ends_with(".fifo") || given.contains_key("FifoQueue") {
            return Err(SqsError::unsupported("FIFO queues are not supported by this simulator"));
        }
        if !valid {
            return Err(SqsError::invalid_parameter_value(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            ));
        }
        let checked = checked_attributes(&given)?;
        if let Some(existing) = self.queues.get(name) {
            if let Some((k, _)) = checked.iter().find(|(k, v)| existing.attributes.get(*k) != Some(*v)) {
                return Err(SqsError::new(
                    "QueueNameExists",
                    "QueueAlreadyExists",
                    format!("A queue already exists with the same name and a different value for attribute {k}"),
                ));
            }
            return Ok(json!({"QueueUrl": existing.url}));
        }
        let mut attributes = default_attributes();
        attributes.extend(checked);
        let url = self.insert(name, attributes, (ctx.now_ms / 1000) as i64).url.clone();
        Ok(json!({"QueueUrl": url}))
    }

    fn list_queues(&self, input: &Input) -> Result<Value, SqsError> {
        let prefix = input.string("QueueNamePrefix")?.unwrap_or_default();
        let max = input.integer("MaxResults")?;
        if let Some(m) = max.filter(|m| !(1..=1000).contains(m)) {
            return Err(out_of_range(m, "MaxResults", "Must be between 1 and 1000, if provided."));
        }
        let after = input.string("NextToken")?;
        let mut names: Vec<&String> =
            self.queues.keys().filter(|n| n.starts_with(prefix) && after.is_none_or(|a| n.as_str() > a)).collect();
        let limit = max.map_or(1000, |m| m as usize);
        let more = max.is_some() && names.len() > limit;
        names.truncate(limit);
        let mut answer = json!({});
        if !names.is_empty() {
            answer["QueueUrls"] = json!(names.iter().map(|n| self.url(n)).collect::<Vec<_>>());
        }
        if let (true, Some(last)) = (more, names.last()) {
            answer["NextToken"] = json!(last);
        }
        Ok(answer)
    }

    fn get_attributes(&mut self, input: &Input, now_ms: u64) -> Result<Value, SqsError> {
        let wanted = input.strings("AttributeNames")?;
        let q = self.by_url(input, now_ms)?;
        let known = |n: &str| {
            COMPUTED_ATTRIBUTES.contains(&n)
                || NUMERIC_ATTRIBUTES.iter().any(|(a, ..)| *a == n)
                || TEXT_ATTRIBUTES.contains(&n)
                || FIFO_ATTRIBUTES.contains(&n)
                || n == "SqsManagedSseEnabled"
        };
        if let Some(bad) = wanted.iter().find(|n| **n != "All" && !known(n)) {
            return Err(SqsError::invalid_attribute_name(bad));
        }
        let names: Vec<String> = if wanted.contains(&"All") {
            COMPUTED_ATTRIBUTES.iter().map(|s| (*s).to_owned()).chain(q.attributes.keys().cloned()).collect()
        } else {
            wanted.iter().map(|s| (*s).to_owned()).collect()
        };
        let attributes: BTreeMap<String, String> =
            names.into_iter().filter_map(|n| q.attribute(&n, now_ms).map(|v| (n, v))).collect();
        Ok(if attributes.is_empty() { json!({}) } else { json!({"Attributes": attributes}) })
    }

    fn send_message(&mut self, input: &Input, ctx: &mut Context) -> Result<Value, SqsError> {
        let body = input.string("MessageBody")?.unwrap_or_default();
        let delay = input.integer("DelaySeconds")?;
        let attributes = message_attributes(input)?;
        let system_attributes = system_attributes_sent(input)?;
        let q = self.by_url(input, ctx.now_ms)?;
        if body.is_empty() {
            return Err(SqsError::missing_parameter("MessageBody"));
        }
        check_text(body, "message body")?;
        if input.get("MessageDeduplicationId").is_some() {
            // Only FIFO queues deduplicate (and FIFO queues are not simulated).
            return Err(SqsError::invalid_parameter_value(
                "The request include parameter that is not valid for this queue type",
            ));
        }
        if let Some(d) = delay.filter(|d| !(0..=MAX_DELAY_SECONDS).contains(d)) {
            return Err(out_of_range(d, "DelaySeconds", "DelaySeconds must be >= 0 and <= 900."));
        }
        let max = q.number("MaximumMessageSize").unsigned_abs() as usize;
        let size = body.len()
            + attributes.iter().map(|(k, a)| k.len() + a.data_type.len() + a.value_bytes().len()).sum::<usize>();
        if size > max {
            return Err(SqsError::invalid_parameter_value(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
            )));
        }
        let delay_ms = delay.unwrap_or_else(|| q.number("DelaySeconds")).unsigned_abs() * 1000;
        let m = QueuedMessage {
            message_id: (ctx.new_id)(),
            body: body.to_owned(),
            md5_of_body: md5::hex(body.as_bytes()),
            attributes,
            system_attributes,
            sender_id: ctx.sender_id.clone(),
            sent_at_ms: ctx.now_ms,
            due_at_ms: ctx.now_ms + delay_ms,
            visible_at_ms: ctx.now_ms + delay_ms,
            receive_count: 0,
            first_received_at_ms: None,
            receipt_handle: None,
        };
        let mut answer = json!({"MessageId": m.message_id, "MD5OfMessageBody": m.md5_of_body});
        if !m.attributes.is_empty() {
            answer["MD5OfMessageAttributes"] = json!(md5_of_attributes(&m.attributes));
        }
        if !m.system_attributes.is_empty() {
            answer["MD5OfMessageSystemAttributes"] = json!(md5_of_attributes(&m.system_attributes));
        }
        q.messages.push(m);
        Ok(answer)
    }

    /// Marks up to `max` receivable messages received: in flight for `visibility_ms`, with
    /// a new receipt handle each.
    fn receive(&mut self, name: &str, max: usize, visibility_ms: u64, now_ms: u64) -> Vec<QueuedMessage> {
        let ids: Vec<String> = match self.queues.get(name) {
            Some(q) => {
                q.messages.iter().filter(|m| m.receivable(now_ms)).take(max).map(|m| m.message_id.clone()).collect()
            }
            None => return Vec::new(),
        };
        let handles: Vec<String> = ids.iter().map(|id| self.new_receipt(name, id)).collect();
        let Some(q) = self.queues.get_mut(name) else { return Vec::new() };
        let mut out = Vec::new();
        for (id, handle) in ids.iter().zip(handles) {
            if let Some(m) = q.messages.iter_mut().find(|m| m.message_id == *id) {
                m.receive_count += 1;
                m.first_received_at_ms.get_or_insert(now_ms);
                m.visible_at_ms = now_ms + visibility_ms;
                m.receipt_handle = Some(handle);
                out.push(m.clone());
            }
        }
        out
    }

    fn receive_message(&mut self, input: &Input, now_ms: u64) -> Result<Value, SqsError> {
        let max = input.integer("MaxNumberOfMessages")?;
        if let Some(m) = max.filter(|m| !(1..=10).contains(m)) {
            return Err(out_of_range(m, "MaxNumberOfMessages", "Must be between 1 and 10, if provided."));
        }
        let visibility = input.integer("VisibilityTimeout")?;
        if let Some(v) = visibility.filter(|v| !(0..=MAX_VISIBILITY_TIMEOUT).contains(v)) {
            return Err(out_of_range(v, "VisibilityTimeout", "Must be between 0 and 43200, if provided."));
        }
        if let Some(w) = input.integer("WaitTimeSeconds")?.filter(|w| !(0..=20).contains(w)) {
            return Err(out_of_range(w, "WaitTimeSeconds", "Must be >= 0 and <= 20, if provided."));
        }
        let mut system = input.strings("AttributeNames")?;
        system.extend(input.strings("MessageSystemAttributeNames")?);
        let user = input.strings("MessageAttributeNames")?;
        let q = self.by_url(input, now_ms)?;
        let name = q.name.clone();
        let visibility_ms = visibility.map_or_else(|| q.visibility_timeout_ms(), |v| v.unsigned_abs() * 1000);
        let received = self.receive(&name, max.unwrap_or(1).unsigned_abs() as usize, visibility_ms, now_ms);
        if received.is_empty() {
            return Ok(json!({}));
        }
        let messages: Vec<Value> = received.iter().map(|m| received_json(m, &system, &user)).collect();
        Ok(json!({"Messages": messages}))
    }

    /// The message a receipt handle of this queue names, if the handle is well-formed.
    fn handle_target(queue: &str, handle: &str) -> Result<String, SqsError> {
        let decoded = base64::decode(handle).and_then(|b| String::from_utf8(b).ok());
        match decoded.as_deref().map(|d| d.split('\n').collect::<Vec<_>>()).as_deref() {
            Some([q, id, _]) if *q == queue => Ok((*id).to_owned()),
            _ => Err(SqsError::receipt_handle_invalid(handle)),
        }
    }

    fn delete_message(&mut self, input: &Input, now_ms: u64) -> Result<Value, SqsError> {
        let handle = input.required("ReceiptHandle")?;
        let q = self.by_url(input, now_ms)?;
        let id = Self::handle_target(&q.name, handle)?;
        // Only the latest receive's handle deletes; an older one succeeds without effect.
        q.messages.retain(|m| !(m.message_id == id && m.receipt_handle.as_deref() == Some(handle)));
        Ok(json!({}))
    }

    fn change_visibility(&mut self, input: &Input, now_ms: u64) -> Result<Value, SqsError> {
        let handle = input.required("ReceiptHandle")?;
        let timeout =
            input.integer("VisibilityTimeout")?.ok_or_else(|| SqsError::missing_parameter("VisibilityTimeout"))?;
        if !(0..=MAX_VISIBILITY_TIMEOUT).contains(&timeout) {
            return Err(out_of_range(timeout, "VisibilityTimeout", "Must be between 0 and 43200, if provided."));
        }
        let q = self.by_url(input, now_ms)?;
        let id = Self::handle_target(&q.name, handle)?;
        let m = q
            .messages
            .iter_mut()
            .find(|m| m.message_id == id && m.in_flight(now_ms) && m.receipt_handle.as_deref() == Some(handle));
        let Some(m) = m else {
            return Err(SqsError::new(
                "MessageNotInflight",
                "AWS.SimpleQueueService.MessageNotInflight",
                "Message does not exist or is not available for visibility timeout change.",
            ));
        };
        m.visible_at_ms = now_ms + timeout.unsigned_abs() * 1000;
        Ok(json!({}))
    }

    /// Takes batches of up to 10 receivable messages from every queue with an invoke URL,
    /// at most `max_in_flight` batches per queue at a time, as an event source mapping
    /// polls. The messages are in flight until [`Queues::settle`].
    pub fn take_batches(&mut self, now_ms: u64, max_in_flight: usize) -> Vec<Batch> {
        let mut batches = Vec::new();
        let names: Vec<String> =
            self.queues.values().filter(|q| q.deliver_to.is_some()).map(|q| q.name.clone()).collect();
        for name in names {
            while let Some(q) = self.queues.get_mut(&name) {
                q.expire(now_ms);
                let (Some(url), true) = (q.deliver_to.clone(), q.in_flight_batches < max_in_flight) else { break };
                let (arn, visibility_ms) = (q.arn.clone(), q.visibility_timeout_ms());
                let messages = self.receive(&name, 10, visibility_ms, now_ms);
                if messages.is_empty() {
                    break;
                }
                if let Some(q) = self.queues.get_mut(&name) {
                    q.in_flight_batches += 1;
                }
                batches.push(Batch {
                    queue: name.clone(),
                    url,
                    queue_arn: arn,
                    visibility_timeout_ms: visibility_ms,
                    messages,
                });
            }
        }
        batches
    }

    /// Ends a delivery: deletes the messages the function processed (`done`, by message
    /// id), leaves the others in flight until their visibility timeout, and logs it.
    pub fn settle(&mut self, batch: &Batch, done: &[String], result: String, now_ms: u64) {
        let Some(q) = self.queues.get_mut(&batch.queue) else { return };
        q.in_flight_batches = q.in_flight_batches.saturating_sub(1);
        let mut deleted = Vec::new();
        for sent in &batch.messages {
            if !done.contains(&sent.message_id) {
                continue;
            }
            let before = q.messages.len();
            q.messages.retain(|m| !(m.message_id == sent.message_id && m.receipt_handle == sent.receipt_handle));
            if q.messages.len() < before {
                deleted.push(sent.message_id.clone());
            }
        }
        q.deliveries.push(QueueDelivery {
            at_ms: now_ms,
            url: batch.url.clone(),
            message_ids: batch.messages.iter().map(|m| m.message_id.clone()).collect(),
            result,
            deleted,
        });
        if q.deliveries.len() > DELIVERY_LOG {
            q.deliveries.remove(0);
        }
    }
}

/// Validates CreateQueue/SetQueueAttributes `Attributes`.
fn checked_attributes(given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, SqsError> {
    let mut out = BTreeMap::new();
    for (name, value) in given {
        if let Some((_, min, max, _)) = NUMERIC_ATTRIBUTES.iter().find(|(n, ..)| n == name) {
            let v: i64 = value.trim().parse().map_err(|_| SqsError::invalid_attribute_value(name))?;
            if !(*min..=*max).contains(&v) {
                return Err(SqsError::invalid_attribute_value(name));
            }
            out.insert(name.clone(), v.to_string());
        } else if name == "SqsManagedSseEnabled" {
            if !matches!(value.as_str(), "true" | "false") {
                return Err(SqsError::invalid_attribute_value(name));
            }
            out.insert(name.clone(), value.clone());
        } else if TEXT_ATTRIBUTES.contains(&name.as_str()) {
            out.insert(name.clone(), value.clone());
        } else if FIFO_ATTRIBUTES.contains(&name.as_str()) {
            return Err(SqsError::unsupported("FIFO queues are not supported by this simulator"));
        } else {
            return Err(SqsError::invalid_attribute_name(name));
        }
    }
    Ok(out)
}

/// A received message as ReceiveMessage answers it, with the system and user attributes
/// asked for.
fn received_json(m: &QueuedMessage, system: &[&str], user: &[&str]) -> Value {
    let all = system.contains(&"All");
    let mut attributes = Map::new();
    for (name, value) in system_attributes(m) {
        if all || system.contains(&name) {
            attributes.insert(name.to_owned(), json!(value));
        }
    }
    let chosen: BTreeMap<String, MessageAttribute> =
        m.attributes.iter().filter(|(k, _)| attribute_wanted(user, k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut v = json!({
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": m.md5_of_body,
        "Body": m.body,
    });
    if !attributes.is_empty() {
        v["Attributes"] = Value::Object(attributes);
    }
    if !chosen.is_empty() {
        v["MD5OfMessageAttributes"] = json!(md5_of_attributes(&chosen));
        let shown: Map<String, Value> = chosen
            .iter()
            .map(|(k, a)| {
                let mut o = json!({"DataType": a.data_type});
                if let Some(s) = &a.string_value {
                    o["StringValue"] = json!(s);
                }
                if let Some(b) = &a.binary_value {
                    o["BinaryValue"] = json!(b);
                }
                (k.clone(), o)
            })
            .collect();
        v["MessageAttributes"] = Value::Object(shown);
    }
    v
}

/// A message's system attributes: the four every message has, and those it was sent with.
fn system_attributes(m: &QueuedMessage) -> Vec<(&str, String)> {
    let mut out = vec![
        ("SenderId", m.sender_id.clone()),
        ("SentTimestamp", m.sent_at_ms.to_string()),
        ("ApproximateReceiveCount", m.receive_count.to_string()),
        ("ApproximateFirstReceiveTimestamp", m.first_received_at_ms.unwrap_or(m.sent_at_ms).to_string()),
    ];
    for (name, a) in &m.system_attributes {
        out.push((name.as_str(), a.string_value.clone().unwrap_or_default()));
    }
    out
}

/// The SQS event Lambda receives for a batch (what an event source mapping sends).
pub fn lambda_event(batch: &Batch, region: &str) -> Value {
    let records: Vec<Value> = batch
        .messages
        .iter()
        .map(|m| {
            let attributes: Map<String, Value> =
                system_attributes(m).into_iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
            let user: Map<String, Value> = m
                .attributes
                .iter()
                .map(|(k, a)| {
                    let mut o = json!({"stringListValues": [], "binaryListValues": [], "dataType": a.data_type});
                    if let Some(s) = &a.string_value {
                        o["stringValue"] = json!(s);
                    }
                    if let Some(b) = &a.binary_value {
                        o["binaryValue"] = json!(b);
                    }
                    (k.clone(), o)
                })
                .collect();
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": attributes,
                "messageAttributes": user,
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": batch.queue_arn,
                "awsRegion": region,
            })
        })
        .collect();
    json!({"Records": records})
}

/// Which messages of a delivered batch the function processed, from its answer: all of
/// them, unless it answered a partial batch response (`{"batchItemFailures":
/// [{"itemIdentifier": id}]}`), which lists those to retry. A failure entry that names no
/// message of the batch fails the whole batch, as Lambda treats it.
pub fn processed(batch: &Batch, answer: &[u8]) -> Vec<String> {
    let ids: Vec<String> = batch.messages.iter().map(|m| m.message_id.clone()).collect();
    let failures = match serde_json::from_slice::<Value>(answer) {
        Ok(Value::Object(o)) => match o.get("batchItemFailures") {
            Some(Value::Array(f)) => f.clone(),
            _ => return ids,
        },
        _ => return ids,
    };
    let mut failed = Vec::new();
    for f in &failures {
        match f.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if ids.iter().any(|i| i == id) => failed.push(id.to_owned()),
            _ => return Vec::new(),
        }
    }
    ids.into_iter().filter(|i| !failed.contains(i)).collect()
}

/// The request body as a JSON object.
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, SqsError> {
    match serde_json::from_slice::<Value>(if body.is_empty() { b"{}" } else { body }) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(SqsError::serialization("request body must be a JSON object")),
        Err(e) => Err(SqsError::serialization(&format!("request body is not valid JSON: {e}"))),
    }
}

/// The members of a request the call log keeps: the queue's name (from `QueueName` or the
/// `QueueUrl`), and `DelaySeconds` when given.
pub fn logged_params(body: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let name = body
        .get("QueueName")
        .and_then(Value::as_str)
        .or_else(|| body.get("QueueUrl").and_then(Value::as_str).map(name_in_url));
    if let Some(n) = name {
        params.insert("QueueName".to_owned(), n.to_owned());
    }
    if let Some(d) = body.get("DelaySeconds").and_then(Value::as_i64) {
        params.insert("DelaySeconds".to_owned(), d.to_string());
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Harness {
        queues: Queues,
        now_ms: u64,
        ids: u64,
    }

    impl Harness {
        fn new() -> Self {
            let fleet =
                Fleet::from_json(r#"{"region":"us-east-1","account":"123456789012","queues":[{"name":"probes"}]}"#)
                    .unwrap();
            Self { queues: Queues::from_fleet(&fleet), now_ms: 1_000_000, ids: 0 }
        }

        fn call(&mut self, op: &str, body: Value) -> Result<Value, SqsError> {
            let ids = &mut self.ids;
            let mut new_id = || {
                *ids += 1;
                format!("msg-{ids}")
            };
            let mut ctx = Context { now_ms: self.now_ms, sender_id: "AKID".into(), new_id: &mut new_id };
            self.queues.call(op, body.as_object().unwrap(), &mut ctx)
        }

        fn url(&self) -> String {
            self.queues.url("probes")
        }

        fn send(&mut self, body: &str, delay: Option<i64>) -> Result<Value, SqsError> {
            let mut b = json!({"QueueUrl": self.url(), "MessageBody": body});
            if let Some(d) = delay {
                b["DelaySeconds"] = json!(d);
            }
            self.call("SendMessage", b)
        }

        fn receive(&mut self, extra: Value) -> Vec<Value> {
            let mut b = json!({"QueueUrl": self.url(), "MaxNumberOfMessages": 10});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            let a = self.call("ReceiveMessage", b).unwrap();
            a.get("Messages").and_then(Value::as_array).cloned().unwrap_or_default()
        }
    }

    #[test]
    fn a_delayed_message_is_invisible_until_its_delay_is_over() {
        let mut h = Harness::new();
        h.send("later", Some(5)).unwrap();
        assert!(h.receive(json!({})).is_empty());
        let attrs = h.call("GetQueueAttributes", json!({"QueueUrl": h.url(), "AttributeNames": ["All"]})).unwrap();
        assert_eq!(attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"], "1");
        assert_eq!(attrs["Attributes"]["ApproximateNumberOfMessages"], "0");
        assert_eq!(attrs["Attributes"]["QueueArn"], "arn:aws:sqs:us-east-1:123456789012:probes");
        h.now_ms += 4_999;
        assert!(h.receive(json!({})).is_empty());
        h.now_ms += 1;
        let got = h.receive(json!({}));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["Body"], "later");
        assert_eq!(got[0]["MD5OfBody"], md5::hex(b"later"));
    }

    #[test]
    fn a_received_message_returns_after_its_visibility_timeout_unless_deleted() {
        let mut h = Harness::new();
        h.send("m", None).unwrap();
        let first = h.receive(json!({"VisibilityTimeout": 10, "AttributeNames": ["ApproximateReceiveCount"]}));
        assert_eq!(first[0]["Attributes"]["ApproximateReceiveCount"], "1");
        h.now_ms += 9_999;
        assert!(h.receive(json!({})).is_empty(), "in flight");
        h.now_ms += 1;
        let second = h.receive(json!({"MessageSystemAttributeNames": ["All"]}));
        assert_eq!(second[0]["Attributes"]["ApproximateReceiveCount"], "2");
        assert_ne!(first[0]["ReceiptHandle"], second[0]["ReceiptHandle"]);
        // The old handle no longer deletes; the new one does.
        h.call("DeleteMessage", json!({"QueueUrl": h.url(), "ReceiptHandle": first[0]["ReceiptHandle"]})).unwrap();
        assert_eq!(h.queues.messages("probes").len(), 1);
        h.call("DeleteMessage", json!({"QueueUrl": h.url(), "ReceiptHandle": second[0]["ReceiptHandle"]})).unwrap();
        assert!(h.queues.messages("probes").is_empty());
        let e = h.call("DeleteMessage", json!({"QueueUrl": h.url(), "ReceiptHandle": "garbage"})).unwrap_err();
        assert_eq!(e.code, "ReceiptHandleIsInvalid");
    }

    #[test]
    fn the_default_visibility_timeout_is_thirty_seconds() {
        let mut h = Harness::new();
        h.send("m", None).unwrap();
        assert_eq!(h.receive(json!({})).len(), 1);
        h.now_ms += 29_999;
        assert!(h.receive(json!({})).is_empty());
        h.now_ms += 1;
        assert_eq!(h.receive(json!({})).len(), 1);
    }

    #[test]
    fn send_validates_as_sqs_does() {
        let mut h = Harness::new();
        let e = h.send("x", Some(901)).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                "InvalidParameterValue",
                "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )
        );
        assert_eq!(e.query_error(), "InvalidParameterValue;Sender");
        assert_eq!(h.send("x", Some(-1)).unwrap_err().code, "InvalidParameterValue");
        assert_eq!(h.send("", None).unwrap_err().code, "MissingParameter");
        assert_eq!(h.send("bad\u{1}", None).unwrap_err().code, "InvalidMessageContents");
        assert!(h.send(&"x".repeat(MAX_MESSAGE_BYTES), None).is_ok());
        assert!(h.send(&"x".repeat(MAX_MESSAGE_BYTES + 1), None).unwrap_err().message.contains("shorter than 262144"));
        let e = h
            .call(
                "SendMessage",
                json!({"QueueUrl": "http://sqs.us-east-1.localhost/123456789012/nope", "MessageBody": "x"}),
            )
            .unwrap_err();
        assert_eq!((e.error_type, e.code), ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"));
        let bad_attr = json!({"QueueUrl": h.url(), "MessageBody": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "abc"}}});
        assert!(h.call("SendMessage", bad_attr).unwrap_err().message.contains("to a number"));
        let bad_type = json!({"QueueUrl": h.url(), "MessageBody": "x", "MessageAttributes": {"n": {"DataType": "Date", "StringValue": "1"}}});
        assert!(h.call("SendMessage", bad_type).unwrap_err().message.contains("supported type prefixes"));
    }

    #[test]
    fn any_url_ending_in_the_queue_name_reaches_it() {
        let mut h = Harness::new();
        for url in [
            "http://sqs.us-east-1.localhost/123456789012/probes",
            "http://127.0.0.1:4566/000000000000/probes/",
            "probes",
        ] {
            h.call("SendMessage", json!({"QueueUrl": url, "MessageBody": "x"})).unwrap();
        }
        assert_eq!(h.queues.messages("probes").len(), 3);
    }

    #[test]
    fn message_attributes_round_trip_with_sqs_digests() {
        let mut h = Harness::new();
        let sent = h
            .call(
                "SendMessage",
                json!({"QueueUrl": h.url(), "MessageBody": "x", "MessageAttributes": {
                    "kind": {"DataType": "String", "StringValue": "probe"},
                    "n": {"DataType": "Number", "StringValue": "3"},
                    "raw": {"DataType": "Binary", "BinaryValue": "AAEC"}}}),
            )
            .unwrap();
        let got = h.receive(json!({"MessageAttributeNames": ["All"]}));
        assert_eq!(got[0]["MessageAttributes"]["kind"], json!({"DataType": "String", "StringValue": "probe"}));
        assert_eq!(got[0]["MessageAttributes"]["raw"], json!({"DataType": "Binary", "BinaryValue": "AAEC"}));
        assert_eq!(got[0]["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"]);
        // The documented encoding, for one string attribute.
        let one: BTreeMap<String, MessageAttribute> = [(
            "a".to_owned(),
            MessageAttribute { data_type: "String".into(), string_value: Some("b".into()), binary_value: None },
        )]
        .into();
        let mut expected = Vec::new();
        expected.extend_from_slice(&[0, 0, 0, 1, b'a', 0, 0, 0, 6]);
        expected.extend_from_slice(b"String");
        expected.extend_from_slice(&[1, 0, 0, 0, 1, b'b']);
        assert_eq!(md5_of_attributes(&one), md5::hex(&expected));
        let none = h.receive(json!({}));
        assert!(none.is_empty(), "in flight");
    }

    #[test]
    fn queues_are_created_idempotently_and_validated() {
        let mut h = Harness::new();
        let a = h.call("CreateQueue", json!({"QueueName": "q1", "Attributes": {"DelaySeconds": "5"}})).unwrap();
        assert_eq!(a["QueueUrl"], "https://sqs.us-east-1.amazonaws.com/123456789012/q1");
        assert!(h.call("CreateQueue", json!({"QueueName": "q1", "Attributes": {"DelaySeconds": "5"}})).is_ok());
        let e = h.call("CreateQueue", json!({"QueueName": "q1", "Attributes": {"DelaySeconds": "6"}})).unwrap_err();
        assert_eq!((e.error_type, e.code), ("QueueNameExists", "QueueAlreadyExists"));
        assert_eq!(h.call("CreateQueue", json!({"QueueName": "bad name"})).unwrap_err().code, "InvalidParameterValue");
        assert_eq!(
            h.call("CreateQueue", json!({"QueueName": "x".repeat(81)})).unwrap_err().code,
            "InvalidParameterValue"
        );
        assert_eq!(
            h.call("CreateQueue", json!({"QueueName": "q2", "Attributes": {"DelaySeconds": "901"}})).unwrap_err().code,
            "InvalidAttributeValue"
        );
        assert_eq!(
            h.call("CreateQueue", json!({"QueueName": "q2", "Attributes": {"Colour": "red"}})).unwrap_err().code,
            "InvalidAttributeName"
        );
        let url = h.call("GetQueueUrl", json!({"QueueName": "q1"})).unwrap();
        assert_eq!(url["QueueUrl"], a["QueueUrl"]);
        assert_eq!(h.call("GetQueueUrl", json!({"QueueName": "zz"})).unwrap_err().error_type, "QueueDoesNotExist");
        // The queue's own delay applies when a message has none.
        h.call("SendMessage", json!({"QueueUrl": a["QueueUrl"], "MessageBody": "x"})).unwrap();
        assert_eq!(h.queues.messages("q1")[0].due_at_ms, h.now_ms + 5_000);
        let listed = h.call("ListQueues", json!({"QueueNamePrefix": "q"})).unwrap();
        assert_eq!(listed["QueueUrls"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn take_due_removes_only_messages_whose_delay_is_over() {
        let mut h = Harness::new();
        h.send("now", None).unwrap();
        h.send("soon", Some(2)).unwrap();
        h.send("later", Some(10)).unwrap();
        let due = h.queues.take_due("probes", h.now_ms + 2_000);
        assert_eq!(due.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["now", "soon"]);
        assert_eq!(h.queues.messages("probes")[0].body, "later");
    }

    #[test]
    fn messages_expire_after_the_retention_period() {
        let mut h = Harness::new();
        h.call("SetQueueAttributes", json!({"QueueUrl": h.url(), "Attributes": {"MessageRetentionPeriod": "60"}}))
            .unwrap();
        h.send("old", None).unwrap();
        h.now_ms += 60_000;
        assert!(h.receive(json!({})).is_empty());
    }

    #[test]
    fn deliveries_take_batches_of_ten_and_settle_partial_failures() {
        let mut h = Harness::new();
        h.queues.set_delivery("probes", Some("http://127.0.0.1:1/fn".into()));
        for i in 0..12 {
            h.send(&format!("m{i}"), None).unwrap();
        }
        let batches = h.queues.take_batches(h.now_ms, 5);
        assert_eq!(batches.iter().map(|b| b.messages.len()).collect::<Vec<_>>(), [10, 2]);
        let event = lambda_event(&batches[1], "us-east-1");
        let record = &event["Records"][0];
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(record["eventSourceARN"], "arn:aws:sqs:us-east-1:123456789012:probes");
        assert_eq!(record["attributes"]["ApproximateReceiveCount"], "1");
        let first_id = batches[1].messages[0].message_id.clone();
        let answer = json!({"batchItemFailures": [{"itemIdentifier": first_id}]}).to_string();
        let done = processed(&batches[1], answer.as_bytes());
        assert_eq!(done.len(), 1);
        h.queues.settle(&batches[1], &done, "200".into(), h.now_ms);
        assert_eq!(processed(&batches[0], b"null").len(), 10);
        assert!(processed(&batches[0], br#"{"batchItemFailures":[{"itemIdentifier":"nope"}]}"#).is_empty());
        h.queues.settle(&batches[0], &[], "500".into(), h.now_ms);
        assert_eq!(h.queues.messages("probes").len(), 11);
        assert!(h.queues.take_batches(h.now_ms, 5).is_empty(), "all in flight");
        h.now_ms += 30_000;
        let again = h.queues.take_batches(h.now_ms, 5);
        assert_eq!(again.iter().map(|b| b.messages.len()).sum::<usize>(), 11);
        assert_eq!(again[0].messages[0].receive_count, 2);
        assert_eq!(h.queues.deliveries("probes").len(), 2);
    }

    #[test]
    fn requests_are_read_against_the_model_first() {
        let mut h = Harness::new();
        let url = h.url();
        let e = h.call("SetQueueAttributes", json!({"QueueUrl": url})).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("MissingParameter", "The request must contain the parameter Attributes.")
        );
        for (op, body, wrong) in [
            ("CreateQueue", json!({"QueueName": "q", "tags": "x"}), "tags"),
            ("CreateQueue", json!({"QueueName": "q", "tags": {"a": 5}}), "tags.a"),
            ("GetQueueUrl", json!({"QueueName": "probes", "QueueOwnerAWSAccountId": 5}), "QueueOwnerAWSAccountId"),
            ("ReceiveMessage", json!({"QueueUrl": url, "ReceiveRequestAttemptId": 5}), "ReceiveRequestAttemptId"),
            ("SendMessage", json!({"QueueUrl": url, "MessageBody": "x", "MessageGroupId": 5}), "MessageGroupId"),
            (
                "SendMessage",
                json!({"QueueUrl": url, "MessageBody": "x", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v", "StringListValues": [5]}}}),
                "MessageAttributes.a.StringListValues.1",
            ),
            (
                "SendMessage",
                json!({"QueueUrl": url, "MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "%%%"}}}),
                "MessageAttributes.a.BinaryValue",
            ),
        ] {
            let e = h.call(op, body).unwrap_err();
            assert_eq!(e.error_type, "SerializationException", "{op}: {}", e.message);
            assert!(e.message.starts_with(&format!("Value for parameter {wrong} must be")), "{}", e.message);
        }
        let e = h.call("ReceiveMessage", json!({"QueueUrl": url, "AttributeNames": ["Bogus"]})).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let e = h.call("GetQueueAttributes", json!({"QueueUrl": url, "AttributeNames": ["Bogus"]})).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), ("InvalidAttributeName", "Unknown Attribute Bogus."));
        let e =
            h.call("ReceiveMessage", json!({"QueueUrl": url, "MessageSystemAttributeNames": ["Policy"]})).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        // ReceiveMessage's AttributeNames take message system attributes too.
        assert!(h.call("ReceiveMessage", json!({"QueueUrl": url, "AttributeNames": ["SenderId", "Policy"]})).is_ok());
        let e = h
            .call(
                "SendMessage",
                json!({"QueueUrl": url, "MessageBody": "x", "MessageAttributes": {"a": {"StringValue": "v"}}}),
            )
            .unwrap_err();
        assert_eq!(e.message, "The message attribute 'a' must contain non-empty message attribute type.");
        let e = h
            .call("SendMessage", json!({"QueueUrl": url, "MessageBody": "x", "MessageDeduplicationId": "d"}))
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        let e = h
            .call("GetQueueUrl", json!({"QueueName": "probes", "QueueOwnerAWSAccountId": "210987654321"}))
            .unwrap_err();
        assert_eq!(e.error_type, "QueueDoesNotExist");
    }

    #[test]
    fn a_trace_header_travels_with_its_message() {
        let mut h = Harness::new();
        let url = h.url();
        let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
        let system = json!({"AWSTraceHeader": {"DataType": "String", "StringValue": trace}});
        let sent = h
            .call("SendMessage", json!({"QueueUrl": url, "MessageBody": "x", "MessageSystemAttributes": system}))
            .unwrap();
        let one: BTreeMap<String, MessageAttribute> = [(
            "AWSTraceHeader".to_owned(),
            MessageAttribute { data_type: "String".into(), string_value: Some(trace.into()), binary_value: None },
        )]
        .into();
        assert_eq!(sent["MD5OfMessageSystemAttributes"], md5_of_attributes(&one));
        let got = h.receive(json!({"MessageSystemAttributeNames": ["AWSTraceHeader"]}));
        assert_eq!(got[0]["Attributes"], json!({"AWSTraceHeader": trace}));
        let bad = json!({"QueueUrl": url, "MessageBody": "x", "MessageSystemAttributes": {"Other": {"DataType": "String", "StringValue": "v"}}});
        let e = h.call("SendMessage", bad).unwrap_err();
        assert!(e.message.contains("parameter MessageSystemAttributes"), "{}", e.message);
        let number = json!({"QueueUrl": url, "MessageBody": "x", "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "Number", "StringValue": "1"}}});
        assert_eq!(h.call("SendMessage", number).unwrap_err().code, "InvalidParameterValue");
        let missing = json!({"QueueUrl": url, "MessageBody": "x", "MessageSystemAttributes": {"AWSTraceHeader": {"StringValue": "1"}}});
        assert_eq!(
            h.call("SendMessage", missing).unwrap_err().message,
            "The message system attribute 'AWSTraceHeader' must contain non-empty message attribute type."
        );
    }
}
