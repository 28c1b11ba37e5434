//! End-to-end tests: the real AWS SDK clients, over HTTP on loopback, against the
//! simulator. One test binary, so the SDK is linked once.

mod binaries;
mod infra;
mod monitor;
mod recover;
mod reliability;
mod replay;
mod simulator_api;
