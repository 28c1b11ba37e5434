//! DynamoDB's tables: the operations the functions use, with DynamoDB's semantics.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Operations the simulator answers.
pub const OPERATIONS: &[&str] = &[];
/// Operations that change a table.
pub const MUTATING: &[&str] = &[];

/// Every table, by name.
#[derive(Debug, Clone, Default)]
pub struct Tables {}

impl Tables {
    /// The tables a fleet file declares, empty.
    pub fn from_fleet(_fleet: &crate::fleet::Fleet) -> Self {
        Self::default()
    }
}

/// A DynamoDB error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoError {
    pub status: u16,
    /// The exception's short name (`ConditionalCheckFailedException`).
    pub error_type: &'static str,
    pub message: String,
}

impl DynamoError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, message: message.into() }
    }

    /// `{"__type": "com.amazonaws.dynamodb.v20120810#<type>", "message": ...}`.
    pub fn body(&self) -> Value {
        json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{}", self.error_type), "message": self.message})
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::new(400, "UnknownOperationException", format!("Unknown operation {target}"))
    }

    pub fn serialization(message: &str) -> Self {
        Self::new(400, "SerializationException", message)
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

/// The members of a request the call log keeps.
pub fn logged_params(body: &Map<String, Value>) -> BTreeMap<String, String> {
    body.get("TableName").and_then(Value::as_str).map(|t| ("TableName".to_owned(), t.to_owned())).into_iter().collect()
}

/// Answers one call.
pub fn call(_tables: &mut Tables, op: &str, _body: &Map<String, Value>, _now_secs: i64) -> Result<Value, DynamoError> {
    Err(DynamoError::unknown_operation(op))
}
