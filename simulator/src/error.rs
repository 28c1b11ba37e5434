//! Storage Gateway error answers, shaped as AWS sends them over awsJson1_1:
//! `{"__type": ..., "message": ..., "error": {"errorCode": ..., "errorDetails": {...}}}`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// The `__type` of the answer (the exception shape name).
    pub error_type: &'static str,
    pub message: String,
    /// `error.errorCode`, a value of the model's `ErrorCode` enum.
    pub error_code: Option<&'static str>,
    pub details: BTreeMap<String, String>,
}

impl ApiError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, message: message.into(), error_code: None, details: BTreeMap::new() }
    }

    /// `InvalidGatewayRequestException` (400) with an `errorCode`.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(400, "InvalidGatewayRequestException", message);
        e.error_code = Some(code);
        e
    }

    pub fn detail(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    pub fn invalid_parameters(message: impl Into<String>, parameter: &str) -> Self {
        Self::invalid("InvalidParameters", message).detail("parameter", parameter)
    }

    pub fn gateway_not_found(arn: &str) -> Self {
        Self::invalid("GatewayNotFound", "The specified gateway was not found.").detail("gatewayArn", arn)
    }

    pub fn gateway_not_connected(arn: &str) -> Self {
        Self::invalid("GatewayNotConnected", "The specified gateway is not connected.").detail("gatewayArn", arn)
    }

    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::invalid("NotSupported", message)
    }

    /// `InternalServerError` (500), as injected by the fault settings.
    pub fn internal() -> Self {
        let mut e = Self::new(500, "InternalServerError", "An internal error has occurred. Please try again.");
        e.error_code = Some("InternalError");
        e
    }

    /// The same error answered with another HTTP status (`internal_error_400`).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The same error without its `error` member, its code left in the message only
    /// (`not_connected_in_message_only`).
    pub fn message_only(mut self) -> Self {
        self.error_code = None;
        self.details.clear();
        self
    }

    /// Not in the Storage Gateway model, but what AWS answers when a rate limit is hit.
    pub fn throttling() -> Self {
        Self::new(400, "ThrottlingException", "Rate exceeded")
    }

    pub fn serialization(message: &str) -> Self {
        Self::new(400, "SerializationException", message)
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::new(400, "UnknownOperationException", format!("Unknown operation {target}"))
    }

    pub fn unsigned(message: &str) -> Self {
        Self::new(403, "MissingAuthenticationTokenException", message)
    }

    pub fn bad_signature(message: &str) -> Self {
        Self::new(403, "InvalidSignatureException", message)
    }

    pub fn body(&self) -> Value {
        let mut v = json!({"__type": self.error_type, "message": self.message});
        if let Some(code) = self.error_code {
            v["error"] = json!({"errorCode": code, "errorDetails": self.details});
        }
        v
    }

    /// How the call log names the outcome, e.g. `InvalidGatewayRequestException/GatewayNotFound`.
    pub fn label(&self) -> String {
        match self.error_code {
            Some(code) => format!("{}/{code}", self.error_type),
            None => self.error_type.to_owned(),
        }
    }
}
