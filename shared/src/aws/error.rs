//! AWS errors, classified once, here. Everything above this module sees an [`AwsError`]
//! with a [`ErrorKind`] and the AWS error code as a string (`ThrottlingException` is real
//! but not in the Storage Gateway model, so codes are matched as strings where the SDK has
//! no variant).

use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The gateway is not connected (`GatewayNotConnected`).
    NotConnected,
    /// The gateway, tape, volume or topic does not exist.
    NotFound,
    /// Rate limited; worth another try later.
    Throttled,
    /// A 5xx, a timeout or a dropped connection; worth another try.
    Transient,
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

impl AwsError {
    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// An error for an answer AWS should never give (a missing member, say).
    pub fn malformed(operation: &'static str, message: impl Into<String>) -> Self {
        Self { operation, kind: ErrorKind::Permanent, code: None, message: message.into() }
    }
}

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "Throttled",
    // SNS publishing to a KMS-encrypted topic, when KMS throttles it.
    "KMSThrottling",
    "KMSThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
];
const NOT_FOUND_CODES: &[&str] =
    &["GatewayNotFound", "TapeCartridgeNotFound", "VolumeNotFound", "TargetNotFound", "SnapshotNotFound", "NotFound"];
const TRANSIENT_CODES: &[&str] = &[
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableError",
    "RequestTimeout",
    "RequestTimeoutException",
    "GatewayInternalError",
    "GatewayProxyNetworkConnectionBusy",
];

/// Whether an error code means throttling (for retry classification too).
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// The one place an error code becomes a kind.
pub fn kind_of(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    match code {
        Some("GatewayNotConnected") => ErrorKind::NotConnected,
        Some(c) if NOT_FOUND_CODES.contains(&c) => ErrorKind::NotFound,
        Some(c) if THROTTLING_CODES.contains(&c) => ErrorKind::Throttled,
        Some(c) if TRANSIENT_CODES.contains(&c) => ErrorKind::Transient,
        _ if status == Some(429) => ErrorKind::Throttled,
        _ if status.is_some_and(|s| s >= 500) => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    }
}

/// Classifies any SDK error. `service` turns a modeled service error into its most
/// specific code and its message (for Storage Gateway, the `errorCode` inside
/// `InvalidGatewayRequestException`).
pub fn classify<E, R>(
    operation: &'static str,
    err: SdkError<E, R>,
    service: impl FnOnce(E) -> (Option<String>, String),
) -> AwsError
where
    E: std::error::Error + 'static,
    R: HasStatus + fmt::Debug,
{
    let status = err.raw_response().map(HasStatus::status);
    match err {
        SdkError::ServiceError(ctx) => {
            let (code, message) = service(ctx.into_err());
            AwsError { operation, kind: kind_of(code.as_deref(), status), code, message }
        }
        // Timeouts, refused or dropped connections, unreadable answers: the SDK already
        // retried them; the caller may try again later.
        e @ (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)) => {
            AwsError { operation, kind: ErrorKind::Transient, code: None, message: error_chain(&e) }
        }
        e => AwsError { operation, kind: ErrorKind::Permanent, code: None, message: error_chain(&e) },
    }
}

/// Code and message of a modeled error, from its metadata.
pub fn metadata(e: &impl ProvideErrorMetadata) -> (Option<String>, String) {
    (e.code().map(str::to_owned), e.message().unwrap_or("no message").to_owned())
}

/// The status of a raw HTTP answer, whatever the response type.
pub trait HasStatus {
    fn status(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(kind_of(Some("GatewayNotConnected"), Some(400)), ErrorKind::NotConnected);
        assert_eq!(kind_of(Some("GatewayNotFound"), Some(400)), ErrorKind::NotFound);
        assert_eq!(kind_of(Some("ThrottlingException"), Some(400)), ErrorKind::Throttled);
        assert_eq!(kind_of(Some("Throttled"), Some(429)), ErrorKind::Throttled);
        assert_eq!(kind_of(Some("KMSThrottling"), Some(400)), ErrorKind::Throttled);
        assert_eq!(kind_of(Some("InternalError"), Some(500)), ErrorKind::Transient);
        assert_eq!(kind_of(Some("Whatever"), Some(503)), ErrorKind::Transient);
        assert_eq!(kind_of(Some("InvalidParameters"), Some(400)), ErrorKind::Permanent);
        assert_eq!(kind_of(None, None), ErrorKind::Permanent);
        assert!(ErrorKind::Throttled.retryable() && !ErrorKind::NotConnected.retryable());
    }
}
