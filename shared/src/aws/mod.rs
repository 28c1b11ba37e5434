//! The ports, implemented with the AWS SDK for Rust, and the one classifier of AWS errors.
//! Clients are built once per process (cold start matters), from
//! `aws_config::load_defaults`, so the standard environment (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_MAX_ATTEMPTS`, ...) works unchanged.

mod clients;
mod dynamodb;
pub mod error;
mod retry;
mod sns;
mod sqs;
mod storage_gateway;

pub use clients::Clients;
pub use dynamodb::DynamoLedger;
pub use error::{AwsError, ErrorKind};
pub use sns::SdkNotifier;
pub use sqs::SdkQueue;
pub use storage_gateway::SdkStorageGateway;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use error::Answer;

/// The status of a raw HTTP answer.
fn status_of<E>(err: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Turns any SDK error into an [`AwsError`]. `error_code` reads a service's own error code
/// out of a modeled error (Storage Gateway's `error.errorCode`); the exception name, the
/// message and the status come from the answer itself.
pub(crate) fn from_sdk<E>(
    operation: &'static str,
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
    error_code: impl FnOnce(&E) -> Option<String>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = status_of(&err);
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let code = error_code(e);
            let answer = Answer { exception: e.code(), error_code: code.as_deref(), message: e.message(), status };
            AwsError::classify(operation, &answer)
        }
        // Timeouts, refused or dropped connections, unreadable answers: the SDK already
        // retried them; the run may try again later.
        e @ (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)) => {
            AwsError::no_answer(operation, error_chain(&e))
        }
        e => AwsError::malformed(operation, error_chain(&e)),
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

/// Logs and drops an item AWS described with an ARN this project refuses: nothing is ever
/// called with such an ARN.
fn parsed<T>(
    what: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, crate::arn::ArnError>,
) -> Option<T> {
    match value.map(parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            tracing::warn!(what, error = %e, "AWS described an item with an ARN this project refuses; it is left out");
            None
        }
        None => None,
    }
}
