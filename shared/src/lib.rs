//! The domain of Storage Gateway failover, shared by the `gateway-monitor` and
//! `recover-gateway` Lambda functions: validated ARNs, the hand-off messages, the offline
//! detection and its debounce, the recovery plan, its safety interlock, and the report.
//! AWS is reached only through the narrow ports in [`aws`]; [`aws::sdk`] implements them
//! with the AWS SDK for Rust.

pub mod arn;
pub mod aws;
pub mod config;
pub mod deadline;
pub mod handoff;
pub mod model;
pub mod monitor;
pub mod recover;
pub mod telemetry;
pub mod time;
