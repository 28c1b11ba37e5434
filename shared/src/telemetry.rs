//! Structured JSON logs through `tracing`, and CloudWatch Embedded Metric Format lines.

use serde_json::{Map, Value, json};
use tracing_subscriber::EnvFilter;

/// JSON logs on stdout (CloudWatch Logs keeps them as they are). `RUST_LOG` overrides the
/// level; the SDK's own chatter stays at `warn` unless asked for.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_storagegateway=warn,aws_sdk_sns=warn,lambda_runtime=warn")
    });
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

/// The namespace our metrics live in.
pub const NAMESPACE: &str = "StorageGatewayRecovery";

/// One metric: name, value, CloudWatch unit (`Count`, `Milliseconds`, ...).
pub type Metric<'a> = (&'a str, f64, &'a str);

/// An EMF line: CloudWatch turns it into metrics with the dimension `Function`.
pub fn emf(function: &str, metrics: &[Metric<'_>], timestamp_ms: u64) -> Value {
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": metrics.iter().map(|(n, _, u)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }],
        }),
    );
    root.insert("Function".into(), json!(function));
    for (n, v, _) in metrics {
        root.insert((*n).to_owned(), json!(v));
    }
    Value::Object(root)
}

/// Writes an EMF line straight to stdout (not through `tracing`, which would wrap it).
pub fn emit_metrics(function: &str, metrics: &[Metric<'_>]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default();
    println!("{}", emf(function, metrics, now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_lines_declare_every_metric_they_carry() {
        let v = emf("recover-gateway", &[("TapesRetrieved", 3.0, "Count"), ("DurationMs", 12.0, "Milliseconds")], 1);
        assert_eq!(v["TapesRetrieved"], 3.0);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"], "DurationMs");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "Function");
        assert_eq!(v["Function"], "recover-gateway");
    }
}
