use std::time::Duration;

use super::from_sdk;
use crate::ports::{AwsError, Queue};

/// SQS through `aws-sdk-sqs`: one queue, by its URL.
#[derive(Clone, Debug)]
pub struct SdkQueue {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
}

impl Queue for SdkQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), AwsError> {
        // SQS takes at most 900 seconds.
        let delay = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|e| from_sdk("SendMessage", e, |_| None))?;
        Ok(())
    }
}
