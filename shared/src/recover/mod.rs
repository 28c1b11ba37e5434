//! `recover-gateway`: bring every tape and volume of a failed gateway back.
//!
//! One run, in order ([`run`]): read what it needs ([`observe`]), confirm the failure,
//! check the standby ([`standby`]), pass the `DisableGateway` interlock ([`interlock`]),
//! take the lease ([`lease`]), disable with an audit record first ([`disable`]), retrieve
//! every tape ([`tapes`]) or clone / snapshot every volume ([`volumes`]), verify, conclude
//! ([`conclude`]), and report ([`report`]). The decisions are pure functions; the I/O is
//! around them.

pub mod conclude;
mod disable;
pub mod interlock;
pub mod lease;
mod observe;
pub mod report;
pub mod request;
mod run;
pub mod standby;
mod tapes;
mod volumes;

pub use report::{RecoveryReport, Status};
pub use request::{Approval, RecoveryRequest, Source, decode_event};
pub use run::Recovery;
