//! `gateway-monitor`: on a schedule, a CloudWatch alarm or a direct call, finds gateways
//! that went offline, waits out the grace period, and hands each failed gateway off to
//! `recover-gateway` once. The work is in `shared::monitor`.

use std::process::ExitCode;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use shared::aws::sdk::Clients;
use shared::aws::{Clock, Notifier, StorageGateway, SystemClock};
use shared::config::{MonitorConfig, ProcessEnv};
use shared::handoff::DecodeError;
use shared::monitor::{self, Monitor};

#[derive(Debug, thiserror::Error)]
enum MonitorError {
    /// The event is not one this function understands; sending it again will not help.
    #[error("bad event: {0}")]
    BadEvent(#[from] DecodeError),
}

impl From<MonitorError> for Diagnostic {
    fn from(e: MonitorError) -> Self {
        Diagnostic { error_type: "NonRetryable".to_owned(), error_message: e.to_string() }
    }
}

async fn handle<G: StorageGateway, N: Notifier, C: Clock>(
    event: LambdaEvent<Value>,
    monitor: &Monitor<'_, G, N, C>,
) -> Result<Value, MonitorError> {
    let request = monitor::decode_event(&event.payload)?;
    let summary = monitor.run(request).await;
    Ok(serde_json::to_value(&summary).unwrap_or(Value::Null))
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init_logging();
    // A bad setting stops the function at init, with the variable named in the log.
    let config = match MonitorConfig::from_source(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "gateway-monitor cannot start");
            return ExitCode::FAILURE;
        }
    };
    let clients = Clients::from_env().await;
    let monitor =
        Monitor { gateway: &clients.gateway, notifier: &clients.notifier, clock: &SystemClock, config: &config };
    match lambda_runtime::run(service_fn(|event| handle(event, &monitor))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
