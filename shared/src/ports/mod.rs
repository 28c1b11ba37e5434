//! The narrow ports the domain talks through. Each has one implementation with the AWS
//! SDK (`crate::aws`) and an in-memory twin for unit tests (`crate::memory`). The domain
//! never sees an SDK type: only validated ARNs, the plain data of `crate::model`, and
//! classified [`AwsError`]s.

mod clock;
mod ledger;
mod notifier;
mod queue;
mod storage_gateway;

pub use clock::{Clock, SystemClock};
pub use ledger::{Condition, Item, Key, Ledger, Written};
pub use notifier::{Notifier, Publication};
pub use queue::Queue;
pub use storage_gateway::{PageStream, StorageGateway};

pub use crate::aws::error::{AwsError, ErrorKind};
