//! A local, faithful simulator of the AWS APIs the functions call, on one loopback address:
//! Storage Gateway (awsJson1_1), SNS (awsQuery), DynamoDB and SQS (awsJson1_0). The real
//! AWS SDK clients, pointed at it with `AWS_ENDPOINT_URL`, can be tested without an AWS
//! account. It is only a simulator: running the function binaries as Lambda does is the
//! `local-lambda` crate's job, and the failover drill is the `drill` crate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let fleet = simulator::Fleet::from_file("simulator/fleets/sample.json")?;
//! let running = simulator::Simulator::new(fleet)?.start("127.0.0.1:0").await?;
//! println!("AWS_ENDPOINT_URL={}", running.url());
//! # Ok(()) }
//! ```
//!
//! The behaviour it models, and the choices made where the API reference is silent, are in
//! `simulator/README.md`.

pub mod behaviour;
pub mod dynamodb;
pub mod error;
pub mod faults;
pub mod fleet;
pub mod generate;
pub mod http;
pub mod server;
pub mod sns;
pub mod sqs;
pub mod storage_gateway;
pub mod validate;
pub mod world;

pub use faults::{FaultConfig, FaultSpec};
pub use fleet::Fleet;
pub use server::{CallOutcome, CallRecord, Running, Service, Simulator};

use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

pub(crate) fn now_secs() -> i64 {
    i64::try_from(now_millis() / 1000).unwrap_or(i64::MAX)
}

/// `2026-11-25T10:00:00.123Z`, the form SNS uses for timestamps.
pub(crate) fn rfc3339_millis(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}
