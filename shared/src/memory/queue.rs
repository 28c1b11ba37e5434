use std::sync::Mutex;
use std::time::Duration;

use super::lock;
use crate::ports::{AwsError, Queue};

/// Keeps what is sent, with its delay.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    sent: Mutex<Vec<(String, Duration)>>,
}

impl MemoryQueue {
    pub fn sent(&self) -> Vec<(String, Duration)> {
        lock(&self.sent).clone()
    }

    pub fn take(&self) -> Vec<(String, Duration)> {
        std::mem::take(&mut *lock(&self.sent))
    }
}

impl Queue for MemoryQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), AwsError> {
        lock(&self.sent).push((body.to_owned(), delay.min(Duration::from_secs(900))));
        Ok(())
    }
}
