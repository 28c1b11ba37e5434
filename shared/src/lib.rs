//! The domain of Storage Gateway failover, shared by the `gateway-monitor` and
//! `recover-gateway` Lambda functions.
//!
//! - Plain data and pure decisions: validated ARNs ([`arn`]), what AWS says about
//!   gateways, tapes and volumes ([`model`]), the messages the functions exchange
//!   ([`handoff`]), the debounce, the guard and the interlock, the plans and the reports
//!   ([`monitor`], [`recover`]).
//! - Ports ([`ports`]): Storage Gateway, SNS, SQS, the ledger and the clock, each with one
//!   SDK implementation ([`aws`]) and an in-memory twin ([`memory`]).
//! - The ledger's items ([`ledger`]): every piece of state the functions keep, in DynamoDB,
//!   written with compare-and-set.
//! - How runs share an account's API rate ([`pacing`]) and time ([`deadline`]).

pub mod arn;
pub mod aws;
pub mod config;
pub mod deadline;
pub mod decode;
pub mod handoff;
pub mod ledger;
pub mod memory;
pub mod model;
pub mod monitor;
pub mod pacing;
pub mod ports;
pub mod recover;
pub mod telemetry;
pub mod time;
