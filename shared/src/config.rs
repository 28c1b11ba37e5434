//! Configuration from environment variables, read once at cold start. A missing or bad
//! value stops the function at init with a message naming the variable.

use std::time::Duration;

use crate::arn::{ArnError, GatewayArn, TopicArn};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {var} is required: {why}")]
    Missing { var: &'static str, why: &'static str },
    #[error("environment variable {var}: {why} (got `{value}`)")]
    Invalid { var: &'static str, value: String, why: String },
    #[error("environment variable {0}")]
    Arn(ArnError),
}

/// Where values come from: the process environment in Lambda, a map in tests.
pub trait Source {
    /// The value, if set and not blank.
    fn get(&self, var: &str) -> Option<String>;

    /// The value as set, blank or not.
    fn raw(&self, var: &str) -> Option<String> {
        self.get(var)
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, var: &str) -> Option<String> {
        self.raw(var).filter(|v| !v.trim().is_empty())
    }

    fn raw(&self, var: &str) -> Option<String> {
        std::env::var(var).ok()
    }
}

/// The SDK's endpoint overrides, if set, must be URLs: a blank `AWS_ENDPOINT_URL` makes the
/// SDK panic on the first call, so it is refused at start-up instead.
fn check_endpoints(src: &dyn Source) -> Result<(), ConfigError> {
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STORAGE_GATEWAY",
        "AWS_ENDPOINT_URL_SNS",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SQS",
    ] {
        if let Some(v) = src.raw(var) {
            let v = v.trim();
            if !(v.starts_with("http://") || v.starts_with("https://")) || v.len() < "http://x".len() {
                return Err(ConfigError::Invalid {
                    var,
                    value: v.to_owned(),
                    why: "must be an http:// or https:// URL, or unset".into(),
                });
            }
        }
    }
    Ok(())
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, var: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == var).map(|(_, v)| (*v).to_owned())
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn get(&self, var: &str) -> Option<String> {
        std::collections::HashMap::get(self, var).cloned()
    }
}

fn number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    src: &dyn Source,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    match src.get(var) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => {
                Err(ConfigError::Invalid { var, value: v, why: format!("must be a whole number from {min} to {max}") })
            }
        },
    }
}

fn topic(src: &dyn Source, var: &'static str, why: &'static str) -> Result<TopicArn, ConfigError> {
    let v = src.get(var).ok_or(ConfigError::Missing { var, why })?;
    TopicArn::parse(var, v.trim()).map_err(ConfigError::Arn)
}

fn optional_topic(src: &dyn Source, var: &'static str) -> Result<Option<TopicArn>, ConfigError> {
    src.get(var).map(|v| TopicArn::parse(var, v.trim()).map_err(ConfigError::Arn)).transpose()
}

/// Default ceiling on Storage Gateway calls in flight in one run; the run finds the rate it
/// can actually use below it (`crate::pacing`).
pub const DEFAULT_CONCURRENCY: usize = 64;

fn float(src: &dyn Source, var: &'static str, default: f64, min: f64, max: f64) -> Result<f64, ConfigError> {
    match src.get(var) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(ConfigError::Invalid { var, value: v, why: format!("must be a number from {min} to {max}") }),
        },
    }
}

fn optional_gateway(src: &dyn Source, var: &'static str) -> Result<Option<GatewayArn>, ConfigError> {
    src.get(var).map(|v| GatewayArn::parse(var, v.trim()).map_err(ConfigError::Arn)).transpose()
}

/// `LEDGER_TABLE_NAME`: a DynamoDB table name (3 to 255 of `A-Za-z0-9_.-`).
fn table(src: &dyn Source) -> Result<String, ConfigError> {
    const VAR: &str = "LEDGER_TABLE_NAME";
    let v = src.get(VAR).ok_or(ConfigError::Missing {
        var: VAR,
        why: "the ledger keeps the leases, the debounce, the audit trail and the holds there",
    })?;
    let v = v.trim().to_owned();
    let ok = (3..=255).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(v)
    } else {
        Err(ConfigError::Invalid {
            var: VAR,
            value: v,
            why: "must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)".into(),
        })
    }
}

fn disable_policy(src: &dyn Source) -> Result<DisablePolicy, ConfigError> {
    match src.get("DISABLE_POLICY").as_deref().map(str::trim) {
        None | Some("tagged") => Ok(DisablePolicy::Tagged),
        Some("approval") => Ok(DisablePolicy::Approval),
        Some(other) => Err(ConfigError::Invalid {
            var: "DISABLE_POLICY",
            value: other.to_owned(),
            why: "must be `tagged` or `approval`".into(),
        }),
    }
}

/// `DISABLE_POLICY`: when `recover-gateway` may call the irreversible `DisableGateway`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisablePolicy {
    /// Automatically only for a gateway tagged `recovery:auto-disable=true`; otherwise on
    /// an operator's `"approveDisable": true`.
    Tagged,
    /// Never automatically: only on an operator's `"approveDisable": true`.
    Approval,
}

/// `VOLUME_RECOVERY`: how a cached volume gateway's volumes come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeRecovery {
    /// A clone of each volume's recovery point on the volume standby, when one is
    /// configured; else a snapshot of each (the default).
    Clone,
    /// Snapshots only.
    Snapshot,
    /// Clones on the standby, and snapshots too.
    Both,
}

/// When a region's outage counts as correlated, and automatic disables stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardThresholds {
    /// `CORRELATED_OFFLINE_FRACTION` (default 0.55, the Kubernetes node lifecycle
    /// controller's unhealthy-zone threshold): this share of the watched gateways of a
    /// region unhealthy at once...
    pub fraction: f64,
    /// `CORRELATED_MIN_OFFLINE` (default 3): ...and at least this many, so a lone gateway
    /// (1 of 1) or two of a small fleet still recover by themselves.
    pub min_offline: usize,
}

impl GuardThresholds {
    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            fraction: float(src, "CORRELATED_OFFLINE_FRACTION", 0.55, 0.01, 1.0)?,
            min_offline: number(src, "CORRELATED_MIN_OFFLINE", 3, 1, 100_000)?,
        })
    }
}

impl Default for GuardThresholds {
    fn default() -> Self {
        Self { fraction: 0.55, min_offline: 3 }
    }
}

#[derive(Debug, Clone)]
pub struct RecoverConfig {
    /// `REPORT_TOPIC_ARN`: where reports and the disable audit record go.
    pub report_topic: TopicArn,
    /// `RECOVERY_TOPIC_ARN`: where a run that runs out of time publishes its continuation.
    pub recovery_topic: Option<TopicArn>,
    /// `LEDGER_TABLE_NAME`: the ledger's DynamoDB table.
    pub ledger_table: String,
    /// `STANDBY_GATEWAY_ARN`: the tape standby when neither the event nor the gateway's tag names one.
    pub standby: Option<GatewayArn>,
    /// `STANDBY_VOLUME_GATEWAY_ARN`: the volume standby, likewise.
    pub volume_standby: Option<GatewayArn>,
    /// `DISABLE_POLICY`: `tagged` (default) or `approval`.
    pub disable_policy: DisablePolicy,
    /// `VOLUME_RECOVERY`: `clone` (default), `snapshot` or `both`.
    pub volume_recovery: VolumeRecovery,
    /// `MAX_CONCURRENCY`: the ceiling on Storage Gateway calls in flight (default 64).
    pub max_concurrency: usize,
    /// `MAX_AUTO_DISABLES_PER_HOUR`: automatic disables per region per hour (default 5);
    /// an operator's approval is not counted.
    pub max_auto_disables_per_hour: u32,
    /// `TIME_BUDGET_SECONDS`: how long to work when the invocation's deadline is unknown (default 840).
    pub time_budget: Duration,
    /// `DEADLINE_MARGIN_SECONDS`: stop starting work this long before the deadline (default 60).
    pub deadline_margin: Duration,
    /// `MAX_SLICES`: continuations after which a recovery stops and asks for a human (default 20).
    pub max_slices: u32,
    /// `LEASE_HEARTBEAT_SECONDS`: how often a run renews its lease (default 5); a lease not
    /// renewed for three times that has expired.
    pub lease_heartbeat: Duration,
    /// `VERIFY_WAIT_SECONDS`: how long a run waits for retrieved tapes still in a
    /// transitional status to become `RECOVERED` (default 60; the next slice checks again).
    pub verify_wait: Duration,
    /// How long the run's own "offline" answer stays good enough to disable the gateway on;
    /// after that it asks again just before `DisableGateway` (30 s; not an environment setting).
    pub reconfirm_after: Duration,
}

impl RecoverConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        check_endpoints(src)?;
        let volume_recovery = match src.get("VOLUME_RECOVERY").as_deref().map(str::trim) {
            None | Some("clone") => VolumeRecovery::Clone,
            Some("snapshot") => VolumeRecovery::Snapshot,
            Some("both") => VolumeRecovery::Both,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "VOLUME_RECOVERY",
                    value: other.to_owned(),
                    why: "must be `clone`, `snapshot` or `both`".into(),
                });
            }
        };
        Ok(Self {
            report_topic: topic(src, "REPORT_TOPIC_ARN", "every run publishes its report there")?,
            recovery_topic: optional_topic(src, "RECOVERY_TOPIC_ARN")?,
            ledger_table: table(src)?,
            standby: optional_gateway(src, "STANDBY_GATEWAY_ARN")?,
            volume_standby: optional_gateway(src, "STANDBY_VOLUME_GATEWAY_ARN")?,
            disable_policy: disable_policy(src)?,
            volume_recovery,
            max_concurrency: number(src, "MAX_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 512)?,
            max_auto_disables_per_hour: number(src, "MAX_AUTO_DISABLES_PER_HOUR", 5, 0, 10_000)?,
            time_budget: Duration::from_secs(number(src, "TIME_BUDGET_SECONDS", 840, 1, 900)?),
            deadline_margin: Duration::from_secs(number(src, "DEADLINE_MARGIN_SECONDS", 60, 0, 600)?),
            max_slices: number(src, "MAX_SLICES", 20, 1, 1000)?,
            lease_heartbeat: Duration::from_secs(number(src, "LEASE_HEARTBEAT_SECONDS", 5, 1, 60)?),
            verify_wait: Duration::from_secs(number(src, "VERIFY_WAIT_SECONDS", 60, 0, 600)?),
            reconfirm_after: Duration::from_secs(30),
        })
    }
}

#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// `GATEWAY_ARNS` (comma-separated): watch exactly these instead of the tagged ones.
    pub gateway_arns: Option<Vec<GatewayArn>>,
    /// `OFFLINE_GRACE_SECONDS`: how long a gateway must stay offline to count as failed (default 900).
    pub grace: Duration,
    /// `RECOVERY_TOPIC_ARN`: where the `GatewayOffline` hand-off goes.
    pub recovery_topic: TopicArn,
    /// `REPORT_TOPIC_ARN`: where the readable alerts and the readiness report go.
    pub report_topic: TopicArn,
    /// `LEDGER_TABLE_NAME`: the ledger's DynamoDB table.
    pub ledger_table: String,
    /// `REPROBE_QUEUE_URL`: an SQS queue that hands a suspected gateway back to the monitor
    /// when its grace period ends. Without it, a failure is declared at the first sweep
    /// after the grace period.
    pub reprobe_queue: Option<String>,
    /// `MAX_CONCURRENCY`: the ceiling on probes in flight (default 64).
    pub max_concurrency: usize,
    /// `CORRELATED_OFFLINE_FRACTION`, `CORRELATED_MIN_OFFLINE`.
    pub guard: GuardThresholds,
    /// `DISABLE_POLICY`, `STANDBY_GATEWAY_ARN`, `STANDBY_VOLUME_GATEWAY_ARN`: as
    /// recover-gateway reads them, so the readiness check judges what it would do.
    pub disable_policy: DisablePolicy,
    pub standby: Option<GatewayArn>,
    pub volume_standby: Option<GatewayArn>,
}

impl MonitorConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        check_endpoints(src)?;
        let gateway_arns = match src.get("GATEWAY_ARNS") {
            None => None,
            Some(list) => {
                let mut arns: Vec<GatewayArn> = Vec::new();
                for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let arn = GatewayArn::parse("GATEWAY_ARNS", s).map_err(ConfigError::Arn)?;
                    if !arns.contains(&arn) {
                        arns.push(arn);
                    }
                }
                if arns.is_empty() {
                    return Err(ConfigError::Invalid {
                        var: "GATEWAY_ARNS",
                        value: list,
                        why: "lists no ARN; unset it to watch the gateways tagged recovery:enabled=true".into(),
                    });
                }
                Some(arns)
            }
        };
        let reprobe_queue = match src.get("REPROBE_QUEUE_URL") {
            None => None,
            Some(u) if u.trim().starts_with("https://") || u.trim().starts_with("http://") => Some(u.trim().to_owned()),
            Some(u) => {
                return Err(ConfigError::Invalid {
                    var: "REPROBE_QUEUE_URL",
                    value: u,
                    why: "must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), or unset"
                        .into(),
                });
            }
        };
        Ok(Self {
            gateway_arns,
            grace: Duration::from_secs(number(src, "OFFLINE_GRACE_SECONDS", 900, 0, 7 * 24 * 3600)?),
            recovery_topic: topic(src, "RECOVERY_TOPIC_ARN", "the GatewayOffline hand-off is published there")?,
            report_topic: topic(src, "REPORT_TOPIC_ARN", "alerts are published there")?,
            ledger_table: table(src)?,
            reprobe_queue,
            max_concurrency: number(src, "MAX_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 512)?,
            guard: GuardThresholds::from_source(src)?,
            disable_policy: disable_policy(src)?,
            standby: optional_gateway(src, "STANDBY_GATEWAY_ARN")?,
            volume_standby: optional_gateway(src, "STANDBY_VOLUME_GATEWAY_ARN")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "arn:aws:sns:us-east-1:123456789012:gateway-reports";
    const RECOVERY: &str = "arn:aws:sns:us-east-1:123456789012:gateway-recovery";
    const TABLE: (&str, &str) = ("LEDGER_TABLE_NAME", "gateway-recovery-ledger");

    #[test]
    fn recover_defaults() {
        let c = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), TABLE]).unwrap();
        assert_eq!(c.disable_policy, DisablePolicy::Tagged);
        assert_eq!(c.max_concurrency, 64);
        assert_eq!(c.volume_recovery, VolumeRecovery::Clone);
        assert_eq!(c.max_auto_disables_per_hour, 5);
        assert_eq!(c.time_budget, Duration::from_secs(840));
        assert!(c.standby.is_none() && c.recovery_topic.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = RecoverConfig::from_source(&[]).unwrap_err();
        assert!(e.to_string().contains("REPORT_TOPIC_ARN"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), TABLE, ("DISABLE_POLICY", "always")])
            .unwrap_err();
        assert!(e.to_string().contains("DISABLE_POLICY") && e.to_string().contains("always"), "{e}");
        let e =
            RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), TABLE, ("MAX_CONCURRENCY", "0")]).unwrap_err();
        assert!(e.to_string().contains("MAX_CONCURRENCY"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), TABLE, ("STANDBY_GATEWAY_ARN", "sgw-1")])
            .unwrap_err();
        assert!(e.to_string().contains("STANDBY_GATEWAY_ARN"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT)]).unwrap_err();
        assert!(e.to_string().contains("LEDGER_TABLE_NAME"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), ("LEDGER_TABLE_NAME", "a b")]).unwrap_err();
        assert!(e.to_string().contains("LEDGER_TABLE_NAME"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), TABLE, ("VOLUME_RECOVERY", "copy")])
            .unwrap_err();
        assert!(e.to_string().contains("VOLUME_RECOVERY"), "{e}");
    }

    #[test]
    fn a_blank_endpoint_override_is_refused_at_start_up() {
        let e =
            RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), TABLE, ("AWS_ENDPOINT_URL", "")]).unwrap_err();
        assert!(e.to_string().contains("AWS_ENDPOINT_URL"), "{e}");
        let e = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            TABLE,
            ("AWS_ENDPOINT_URL_SNS", "localhost:4566"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("AWS_ENDPOINT_URL_SNS"), "{e}");
        assert!(
            RecoverConfig::from_source(&[
                ("REPORT_TOPIC_ARN", REPORT),
                TABLE,
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
            ])
            .is_ok()
        );
    }

    #[test]
    fn monitor_reads_an_explicit_gateway_list() {
        let c = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            ("GATEWAY_ARNS", "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B, arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-23B4567C"),
            ("OFFLINE_GRACE_SECONDS", "60"),
            TABLE,
        ])
        .unwrap();
        assert_eq!(c.gateway_arns.unwrap().len(), 2);
        assert_eq!(c.grace, Duration::from_secs(60));
        assert_eq!(c.guard, GuardThresholds::default());
        let e = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            ("GATEWAY_ARNS", ","),
            TABLE,
        ])
        .unwrap_err();
        assert!(e.to_string().contains("GATEWAY_ARNS"), "{e}");
        let e = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            TABLE,
            ("CORRELATED_OFFLINE_FRACTION", "1.5"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("CORRELATED_OFFLINE_FRACTION"), "{e}");
        let e = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            TABLE,
            ("REPROBE_QUEUE_URL", "gateway-reprobe"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("REPROBE_QUEUE_URL"), "{e}");
    }
}
