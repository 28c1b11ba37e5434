//! `gateway-monitor`: notice a gateway has died, never on a flap, and hand it off once.

pub mod decide;
mod sweep;
pub mod trigger;

pub use sweep::{GatewayResult, Monitor, MonitorSummary};
pub use trigger::{MonitorRequest, decode_event};
