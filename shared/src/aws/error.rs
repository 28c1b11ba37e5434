//! AWS errors, classified once, here. Everything above this module sees an [`AwsError`]
//! with an [`ErrorKind`] and the AWS error code as a string: `ThrottlingException` is real
//! but not in the Storage Gateway model, so codes are matched as strings, and every shape
//! AWS may send is accepted (the code in `error.errorCode`, in `__type` only, or only in
//! the message; `InternalServerError` with a 500 or a 400).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The gateway is not connected (`GatewayNotConnected`, by code or by message).
    NotConnected,
    /// The gateway, tape, volume, topic, queue or table does not exist.
    NotFound,
    /// Rate limited: "not yet", never "failed", while the run has time.
    Throttled,
    /// A 5xx, `InternalServerError` whatever its status, a timeout or a dropped
    /// connection: worth another try.
    Transient,
    /// The caller may not make this call (IAM, KMS key policy).
    Denied,
    /// Anything else: trying again will not help.
    Permanent,
}

impl ErrorKind {
    pub fn retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Transient)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotConnected => "not connected",
            Self::NotFound => "not found",
            Self::Throttled => "throttled",
            Self::Transient => "transient",
            Self::Denied => "access denied",
            Self::Permanent => "permanent",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    /// The most specific code AWS gave: the Storage Gateway `errorCode` when there is one
    /// (`GatewayNotConnected`), else the exception name (`ThrottlingException`).
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed ({code}, {}): {}", self.operation, self.kind, self.message),
            None => write!(f, "{} failed ({}): {}", self.operation, self.kind, self.message),
        }
    }
}

/// What an answer said, as the adapters read it.
#[derive(Debug, Clone, Default)]
pub struct Answer<'a> {
    /// The exception (`__type`, SNS and SQS `Code`), without a namespace.
    pub exception: Option<&'a str>,
    /// Storage Gateway's `error.errorCode`, when the answer has one.
    pub error_code: Option<&'a str>,
    pub message: Option<&'a str>,
    pub status: Option<u16>,
}

impl AwsError {
    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// An error for an answer AWS should never give (a missing member, say).
    pub fn malformed(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, kind: ErrorKind::Permanent, code: None, message: message.into() }
    }

    /// An error with no answer behind it: a timeout, a refused or dropped connection.
    pub fn no_answer(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, kind: ErrorKind::Transient, code: None, message: message.into() }
    }

    /// Classifies an answer: the one place a code, a message or a status becomes a kind.
    pub fn classify(operation: &'static str, a: &Answer<'_>) -> Self {
        let code = a.error_code.map(str::trim).filter(|c| !c.is_empty()).or(a.exception);
        let message = a.message.unwrap_or("no message").to_owned();
        Self { operation, kind: kind_of(code, a.exception, &message, a.status), code: code.map(str::to_owned), message }
    }

    /// A retrieval, clone or snapshot refused this way fails for every item of the run,
    /// not just this one: the target gateway is gone, full, or cut off.
    pub fn stops_the_run(&self) -> bool {
        self.kind == ErrorKind::NotConnected
            || self.kind == ErrorKind::Denied
            || ["GatewayNotFound", "MaximumTapeCartridgeCountExceeded", "MaximumVolumeCountExceeded", "InvalidGateway"]
                .iter()
                .any(|c| self.code_is(c))
    }
}

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "Throttled",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceededException",
    // SNS publishing to a KMS-encrypted topic, when KMS throttles it.
    "KMSThrottling",
    "KMSThrottlingException",
];
const NOT_FOUND: &[&str] = &[
    "GatewayNotFound",
    "TapeCartridgeNotFound",
    "VolumeNotFound",
    "TargetNotFound",
    "SnapshotNotFound",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
];
const TRANSIENT: &[&str] = &[
    "InternalServerError",
    "InternalError",
    "InternalFailure",
    "InternalServerException",
    "ServiceUnavailable",
    "ServiceUnavailableError",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
    "GatewayInternalError",
    "GatewayProxyNetworkConnectionBusy",
    "KMSInternalException",
    "KMSUnavailableException",
];
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "KMSAccessDenied",
    "KMSAccessDeniedException",
    "KMSDisabled",
    "KMSInvalidState",
];

/// Whether a code means throttling (the SDK's retry classification uses it too).
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING.contains(&code)
}

/// Whether a code means a transient server-side failure, whatever its HTTP status.
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT.contains(&code)
}

/// AWS's wording when the gateway is unreachable, for answers that carry no `errorCode`.
fn says_not_connected(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("gateway is not connected") || m.contains("gateway is offline") || m.contains("is not connected")
}

fn kind_of(code: Option<&str>, exception: Option<&str>, message: &str, status: Option<u16>) -> ErrorKind {
    let any = |list: &[&str]| code.is_some_and(|c| list.contains(&c)) || exception.is_some_and(|e| list.contains(&e));
    if code == Some("GatewayNotConnected") {
        return ErrorKind::NotConnected;
    }
    if any(THROTTLING) || status == Some(429) {
        return ErrorKind::Throttled;
    }
    if any(TRANSIENT) {
        return ErrorKind::Transient;
    }
    if any(NOT_FOUND) {
        return ErrorKind::NotFound;
    }
    if any(DENIED) {
        return ErrorKind::Denied;
    }
    // The code may be missing, or be the exception's generic name: the message says it.
    if exception.is_none_or(|e| e == "InvalidGatewayRequestException") && says_not_connected(message) {
        return ErrorKind::NotConnected;
    }
    if status.is_some_and(|s| s >= 500) {
        return ErrorKind::Transient;
    }
    ErrorKind::Permanent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(exception: Option<&str>, error_code: Option<&str>, message: &str, status: u16) -> ErrorKind {
        AwsError::classify("Op", &Answer { exception, error_code, message: Some(message), status: Some(status) }).kind
    }

    #[test]
    fn every_shape_of_not_connected_is_not_connected() {
        let igre = Some("InvalidGatewayRequestException");
        assert_eq!(kind(igre, Some("GatewayNotConnected"), "x", 400), ErrorKind::NotConnected);
        assert_eq!(kind(igre, None, "The specified gateway is not connected.", 400), ErrorKind::NotConnected);
        assert_eq!(kind(None, None, "The specified gateway is not connected.", 400), ErrorKind::NotConnected);
        assert_eq!(kind(igre, Some("GatewayNotConnected "), "x", 400), ErrorKind::NotConnected, "AWS pads some codes");
        assert_eq!(kind(igre, Some("InvalidParameters"), "bad marker", 400), ErrorKind::Permanent);
    }

    #[test]
    fn internal_server_error_is_transient_whatever_its_status() {
        for status in [400, 500] {
            assert_eq!(kind(Some("InternalServerError"), Some("InternalError"), "x", status), ErrorKind::Transient);
            assert_eq!(kind(Some("InternalServerError"), None, "x", status), ErrorKind::Transient);
        }
        assert_eq!(kind(Some("Whatever"), None, "x", 503), ErrorKind::Transient);
    }

    #[test]
    fn throttling_by_any_name_is_throttling() {
        for code in ["ThrottlingException", "Throttled", "ProvisionedThroughputExceededException", "KMSThrottling"] {
            assert_eq!(kind(Some(code), None, "Rate exceeded", 400), ErrorKind::Throttled, "{code}");
        }
        assert_eq!(kind(None, None, "slow down", 429), ErrorKind::Throttled);
    }

    #[test]
    fn the_rest() {
        assert_eq!(
            kind(Some("InvalidGatewayRequestException"), Some("GatewayNotFound"), "x", 400),
            ErrorKind::NotFound
        );
        assert_eq!(kind(Some("ResourceNotFoundException"), None, "no table", 400), ErrorKind::NotFound);
        assert_eq!(kind(Some("AccessDeniedException"), None, "no", 400), ErrorKind::Denied);
        assert_eq!(kind(Some("ValidationException"), None, "bad", 400), ErrorKind::Permanent);
        assert!(ErrorKind::Throttled.retryable() && ErrorKind::Transient.retryable());
        assert!(!ErrorKind::NotConnected.retryable() && !ErrorKind::Denied.retryable());
    }

    #[test]
    fn errors_that_end_every_retrieval() {
        let e = |code: &str| AwsError::classify("Op", &Answer { error_code: Some(code), ..Answer::default() });
        assert!(e("MaximumTapeCartridgeCountExceeded").stops_the_run());
        assert!(e("GatewayNotConnected").stops_the_run());
        assert!(!e("InvalidParameters").stops_the_run());
        assert!(!e("TapeCartridgeNotFound").stops_the_run());
    }
}
