//! `recover-gateway`: given a failed Storage Gateway (over SNS from `gateway-monitor`, or
//! invoked directly), recovers every tape onto a standby tape gateway and every cached
//! volume onto a standby volume gateway (or into a snapshot), and reports each one. The
//! work is in `shared::recover`; this file decodes, calls the domain and encodes.

use std::process::ExitCode;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use shared::aws::{Clients, DynamoLedger};
use shared::config::{ProcessEnv, RecoverConfig};
use shared::deadline::Budget;
use shared::decode::DecodeError;
use shared::ports::{Clock, Ledger, Notifier, StorageGateway, SystemClock};
use shared::recover::{self, Recovery, RecoveryReport, Status};

#[derive(Debug, thiserror::Error)]
enum RecoverError {
    /// The event is not one this function understands; sending it again will not help.
    #[error("bad event: {0}")]
    BadEvent(#[from] DecodeError),
    /// The run ended in `error`: AWS could not be asked, or refused for good.
    #[error("recovery of {gateway} failed: {summary}")]
    Failed { gateway: String, summary: String, retryable: bool },
}

impl From<RecoverError> for Diagnostic {
    fn from(e: RecoverError) -> Self {
        let error_type = match e {
            RecoverError::BadEvent(_) | RecoverError::Failed { retryable: false, .. } => "NonRetryable",
            RecoverError::Failed { retryable: true, .. } => "Retryable",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: e.to_string() }
    }
}

async fn handle<G: StorageGateway, N: Notifier, L: Ledger, C: Clock>(
    event: LambdaEvent<Value>,
    recovery: &Recovery<'_, G, N, L, C>,
) -> Result<Value, RecoverError> {
    let requests = recover::decode_event(&event.payload)?;
    let c = recovery.config;
    let budget = Budget::new(event.context.deadline, recovery.clock.now_ms(), c.time_budget, c.deadline_margin);
    let mut reports: Vec<RecoveryReport> = Vec::with_capacity(requests.len());
    for request in requests {
        reports.push(recovery.run(request, budget, &event.context.request_id).await);
    }
    // Every `error` fails the invocation, so Lambda's Errors metric and the alarm fire; a
    // retryable one is retried by Lambda (for an asynchronous invocation). The report was
    // published either way.
    if let Some(r) = reports.iter().find(|r| r.status == Status::Error) {
        return Err(RecoverError::Failed {
            gateway: r.failed_gateway.id.clone(),
            summary: r.summary.clone(),
            retryable: r.retryable,
        });
    }
    let answer = match reports.len() {
        1 => serde_json::to_value(&reports[0]),
        _ => serde_json::to_value(&reports),
    };
    Ok(answer.unwrap_or(Value::Null))
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init_logging();
    // A bad setting stops the function at init, with the variable named in the log.
    let config = match RecoverConfig::from_source(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "recover-gateway cannot start");
            return ExitCode::FAILURE;
        }
    };
    let clients = Clients::from_env().await;
    let ledger = DynamoLedger { client: clients.dynamodb.clone(), table: config.ledger_table.clone() };
    let recovery = Recovery {
        gateway: &clients.gateway,
        notifier: &clients.notifier,
        ledger: &ledger,
        clock: &SystemClock,
        config: &config,
    };
    match lambda_runtime::run(service_fn(|event| handle(event, &recovery))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
