//! End-to-end tests: the real AWS SDK clients, over HTTP on loopback, against the
//! simulator (and, for the ledger, `LEDGER_ENDPOINT` when set). One test binary, so the
//! SDK is linked once.

mod guard;
mod matrix;
mod monitor;
mod readiness;
mod recover;
mod volumes;
