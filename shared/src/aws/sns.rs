use std::collections::HashMap;

use aws_sdk_sns::types::MessageAttributeValue;

use super::from_sdk;
use crate::ports::{AwsError, Notifier, Publication};

/// SNS through `aws-sdk-sns`.
#[derive(Clone, Debug)]
pub struct SdkNotifier(pub aws_sdk_sns::Client);

impl Notifier for SdkNotifier {
    async fn publish(&self, m: &Publication) -> Result<String, AwsError> {
        let mut attributes = HashMap::new();
        for (k, v) in &m.attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| AwsError::malformed("Publish", e.to_string()))?;
            attributes.insert(k.clone(), value);
        }
        let o = self
            .0
            .publish()
            .topic_arn(m.topic.as_str())
            .message(&m.body)
            .set_subject(m.subject.clone())
            .set_message_attributes((!attributes.is_empty()).then_some(attributes))
            .send()
            .await
            .map_err(|e| from_sdk("Publish", e, |_| None))?;
        Ok(o.message_id().unwrap_or_default().to_owned())
    }
}
