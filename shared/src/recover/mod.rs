//! `recover-gateway`: bring every tape and volume of a failed gateway back.

mod lease;
pub mod plan;
pub mod report;
pub mod request;
mod run;
mod tapes;
mod volumes;

pub use report::{RecoveryReport, Status};
pub use request::{RecoveryRequest, Source, decode_event};
pub use run::Recovery;
