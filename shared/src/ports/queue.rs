use std::future::Future;
use std::time::Duration;

use super::AwsError;

/// A queue that hands a message back to a function after a delay (SQS, with `DelaySeconds`).
pub trait Queue: Send + Sync {
    /// `SendMessage`; `delay` is at most 15 minutes (SQS's limit).
    fn send(&self, body: &str, delay: Duration) -> impl Future<Output = Result<(), AwsError>> + Send;
}
