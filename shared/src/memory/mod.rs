//! In-memory twins of every port, for unit tests of the domain without HTTP: the same
//! contracts as the SDK adapters (conditional writes, pages with markers, classified
//! errors), in a few hundred lines each, with failures that tests inject.

mod clock;
mod ledger;
mod notifier;
mod queue;
mod storage_gateway;

pub use clock::ManualClock;
pub use ledger::MemoryLedger;
pub use notifier::MemoryNotifier;
pub use queue::MemoryQueue;
pub use storage_gateway::{MemoryGateway, MemoryVolume};

use crate::aws::error::Answer;
use crate::ports::AwsError;

/// An error as AWS would answer it, for tests to inject: `error("RetrieveTapeRecoveryPoint",
/// "ThrottlingException", 400)`.
pub fn error(operation: &'static str, code: &str, status: u16) -> AwsError {
    AwsError::classify(
        operation,
        &Answer { exception: Some(code), error_code: None, message: Some("injected"), status: Some(status) },
    )
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
