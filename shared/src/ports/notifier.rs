use std::future::Future;

use super::AwsError;
use crate::arn::TopicArn;

/// One SNS message.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub topic: TopicArn,
    /// Under 100 characters, one line.
    pub subject: Option<String>,
    pub body: String,
    /// String message attributes (for subscription filter policies).
    pub attributes: Vec<(String, String)>,
}

/// Publishing to SNS.
pub trait Notifier: Send + Sync {
    /// `Publish`; answers the message id.
    fn publish(&self, message: &Publication) -> impl Future<Output = Result<String, AwsError>> + Send;
}
