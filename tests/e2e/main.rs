//! End-to-end tests: the real AWS SDK clients, over HTTP on loopback, against the
//! simulator (and, for the ledger, `LEDGER_ENDPOINT` when set). One test binary, so the
//! SDK is linked once.

mod binaries;
mod guard;
mod infra;
mod ledger;
mod matrix;
mod monitor;
mod readiness;
mod recover;
mod reliability;
mod replay;
mod simulator_api;
mod volumes;
