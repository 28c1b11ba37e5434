//! `gateway-monitor`: on a schedule, a CloudWatch alarm, an AWS Health event, a re-probe
//! or a direct call, finds gateways that went offline, waits out the grace period, holds
//! automatic disables when the outage looks correlated, and hands each failed gateway off
//! to `recover-gateway` once; on `{"action": "readiness"}` it checks that every watched
//! gateway could be recovered. The work is in `shared::monitor`; this file decodes, calls
//! the domain and encodes.

use std::process::ExitCode;
use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use shared::aws::{Clients, DynamoLedger, SdkQueue};
use shared::config::{MonitorConfig, ProcessEnv};
use shared::deadline::Budget;
use shared::decode::DecodeError;
use shared::monitor::{self, Monitor, MonitorAnswer};
use shared::ports::{Clock, Ledger, Notifier, Queue, StorageGateway, SystemClock};

/// How long a sweep works when the invocation's deadline is unknown, and what it keeps back.
const FALLBACK_BUDGET: Duration = Duration::from_secs(100);
const MARGIN: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
enum MonitorError {
    /// The event is not one this function understands; sending it again will not help.
    #[error("bad event: {0}")]
    BadEvent(#[from] DecodeError),
    /// The request names something that is not there (a hold to release).
    #[error("refused: {0}")]
    Refused(String),
    /// The monitor could not do its job (the ledger unreadable, a hand-off not published):
    /// the next trigger or Lambda's retry tries again.
    #[error("the monitor could not finish: {0}")]
    Failed(String),
}

impl From<MonitorError> for Diagnostic {
    fn from(e: MonitorError) -> Self {
        let error_type = match e {
            MonitorError::BadEvent(_) | MonitorError::Refused(_) => "NonRetryable",
            MonitorError::Failed(_) => "Retryable",
        };
        Diagnostic { error_type: error_type.to_owned(), error_message: e.to_string() }
    }
}

async fn handle<G: StorageGateway, N: Notifier, L: Ledger, Q: Queue, C: Clock>(
    event: LambdaEvent<Value>,
    monitor: &Monitor<'_, G, N, L, Q, C>,
) -> Result<Value, MonitorError> {
    let request = monitor::decode_event(&event.payload)?;
    let budget = Budget::new(event.context.deadline, monitor.clock.now_ms(), FALLBACK_BUDGET, MARGIN);
    let answer = monitor.run(request, budget).await;
    match &answer {
        MonitorAnswer::Refused { refused } => return Err(MonitorError::Refused(refused.clone())),
        MonitorAnswer::Summary(s) => {
            if let Some(why) = &s.failure {
                return Err(MonitorError::Failed(why.clone()));
            }
        }
        MonitorAnswer::Readiness(_) => {}
    }
    Ok(serde_json::to_value(&answer).unwrap_or(Value::Null))
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
    let ledger = DynamoLedger { client: clients.dynamodb.clone(), table: config.ledger_table.clone() };
    let queue = config.reprobe_queue.clone().map(|url| SdkQueue { client: clients.sqs.clone(), url });
    let monitor = Monitor {
        gateway: &clients.gateway,
        notifier: &clients.notifier,
        ledger: &ledger,
        queue: queue.as_ref(),
        clock: &SystemClock,
        config: &config,
    };
    match lambda_runtime::run(service_fn(|event| handle(event, &monitor))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
