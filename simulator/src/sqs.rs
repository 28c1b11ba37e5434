//! SQS's queues: the operations the functions use, and messages that become visible
//! after their delay.

use crate::fleet::Fleet;

/// Every queue, by name.
#[derive(Debug, Clone, Default)]
pub struct Queues {}

impl Queues {
    pub fn from_fleet(_fleet: &Fleet) -> Self {
        Self::default()
    }
}
