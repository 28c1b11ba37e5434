use std::collections::VecDeque;
use std::sync::Mutex;

use super::lock;
use crate::ports::{AwsError, Notifier, Publication};

/// Keeps what is published; fails when told to.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    published: Mutex<Vec<Publication>>,
    failures: Mutex<VecDeque<AwsError>>,
}

impl MemoryNotifier {
    pub fn published(&self) -> Vec<Publication> {
        lock(&self.published).clone()
    }

    /// The next publishes fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = AwsError>) {
        lock(&self.failures).extend(errors);
    }
}

impl Notifier for MemoryNotifier {
    async fn publish(&self, m: &Publication) -> Result<String, AwsError> {
        if let Some(e) = lock(&self.failures).pop_front() {
            return Err(e);
        }
        let mut published = lock(&self.published);
        published.push(m.clone());
        Ok(format!("message-{}", published.len()))
    }
}
