//! `gateway-monitor`: notice a gateway has died, never on a flap, never when the outage is
//! AWS's own or shared by the whole region, and hand it off once.
//!
//! A run ([`run`]) probes the gateways its trigger names ([`probe`]), applies the debounce
//! ([`debounce`]) against the ledger, weighs the region with the guard ([`guard`]),
//! places, keeps or lifts holds ([`holds`]), and acts ([`act`]): suspects, clears, hands
//! off with compare-and-set, and schedules the re-probe at the end of the grace period.
//! The readiness check ([`readiness`]) says whether each watched gateway could be
//! recovered now.

mod act;
mod alerts;
pub mod debounce;
pub mod guard;
pub mod health;
mod holds;
mod probe;
pub mod readiness;
pub mod request;
mod run;
pub mod summary;

pub use request::{MonitorRequest, decode_event};
pub use run::{Monitor, MonitorAnswer};
pub use summary::{GatewayResult, MonitorSummary, Trigger};
