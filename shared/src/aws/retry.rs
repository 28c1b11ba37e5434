//! What the SDK's own retries do not know: SNS's `Throttled` (429) and `KMSThrottling`, and
//! Storage Gateway's `InternalServerError` when it comes with HTTP 400 (as the API
//! reference pages list it) rather than 500. Both are read from the raw answer, so one
//! classifier covers every operation of a service.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryReason};
use aws_smithy_types::retry::ErrorKind as SdkErrorKind;

use super::error::{is_throttling_code, is_transient_code};

/// Retries answers whose error code means throttling or a transient failure, whatever
/// their HTTP status.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByErrorCode {
    pub service: &'static str,
}

fn retry(kind: SdkErrorKind) -> RetryAction {
    RetryAction::RetryIndicated(RetryReason::RetryableError { kind, retry_after: None })
}

/// The error code of a JSON (`__type`) or XML (`<Code>`) error answer.
fn code_in(body: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let t = v.get("__type").and_then(serde_json::Value::as_str)?;
        // `com.amazonaws.dynamodb.v20120810#ThrottlingException` -> `ThrottlingException`.
        return Some(t.rsplit('#').next().unwrap_or(t).to_owned());
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].trim().to_owned())
}

impl ClassifyRetry for ByErrorCode {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else { return RetryAction::NoActionIndicated };
        let status = response.status().as_u16();
        if status < 400 {
            return RetryAction::NoActionIndicated;
        }
        if status == 429 {
            return retry(SdkErrorKind::ThrottlingError);
        }
        match response.body().bytes().and_then(code_in) {
            Some(c) if is_throttling_code(&c) => retry(SdkErrorKind::ThrottlingError),
            Some(c) if is_transient_code(&c) => retry(SdkErrorKind::TransientError),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        self.service
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_json_and_xml_answers() {
        assert_eq!(
            code_in(br#"{"__type":"InternalServerError","message":"x"}"#).as_deref(),
            Some("InternalServerError")
        );
        assert_eq!(
            code_in(br#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"}"#).as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(
            code_in(b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttled</Code></Error></ErrorResponse>")
                .as_deref(),
            Some("Throttled")
        );
        assert_eq!(code_in(b"garbage"), None);
    }
}
