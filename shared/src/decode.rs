//! Decoding events and messages from JSON, in one place: every refusal names the JSON path
//! of what is wrong (`Records[0].Sns.Message.gatewayArn`), so an operator can fix the event.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::arn::ArnError;

/// An event or message that could not be read; `field` is the JSON path of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DecodeError {
    pub field: String,
    pub reason: String,
}

impl DecodeError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }

    /// The same error under a parent path (`Records[0].Sns.Message` + `.gatewayArn`).
    pub fn within(self, parent: &str) -> Self {
        let field = if self.field.is_empty() || self.field == "." {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        Self { field, reason: self.reason }
    }
}

impl From<ArnError> for DecodeError {
    fn from(e: ArnError) -> Self {
        Self { field: e.field.clone(), reason: e.reason_with_value() }
    }
}

/// Decodes JSON into `T`, naming the path of whatever is wrong.
pub fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde's own wording for a missing or unknown field already names it.
        let field = if path == "." { field_in_message(&inner).unwrap_or_else(|| "event".to_owned()) } else { path };
        DecodeError { field, reason: inner }
    })
}

/// Decodes a JSON string found at `at` (an SNS message, an SQS body).
pub fn decode_str<T: DeserializeOwned>(text: &str, at: &str) -> Result<T, DecodeError> {
    let value: Value = serde_json::from_str(text).map_err(|e| DecodeError::new(at, format!("is not JSON: {e}")))?;
    decode(&value).map_err(|e| e.within(at))
}

fn field_in_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_owned())
}

/// The JSON type of a value, for messages (`a number`, `an array`).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct T {
        a: u32,
    }

    #[test]
    fn paths_name_the_field() {
        assert_eq!(decode::<T>(&json!({"a": 1})).map(|t| t.a), Ok(1));
        assert_eq!(decode::<T>(&json!({"a": "x"})).unwrap_err().field, "a");
        assert_eq!(decode::<T>(&json!({})).unwrap_err().field, "a");
        assert_eq!(decode::<T>(&json!({"a": 1, "b": 2})).unwrap_err().field, "b");
        assert_eq!(decode_str::<T>("{\"a\": true}", "Records[0].body").unwrap_err().field, "Records[0].body.a");
        assert_eq!(decode_str::<T>("nope", "Records[0].body").unwrap_err().field, "Records[0].body");
    }
}
