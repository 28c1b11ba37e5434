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
    for var in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STORAGE_GATEWAY", "AWS_ENDPOINT_URL_SNS"] {
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

/// Default bound on concurrent API calls of one run.
pub const DEFAULT_CONCURRENCY: usize = 32;

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

#[derive(Debug, Clone)]
pub struct RecoverConfig {
    /// `REPORT_TOPIC_ARN`: where reports and the disable audit record go.
    pub report_topic: TopicArn,
    /// `RECOVERY_TOPIC_ARN`: where a run that runs out of time publishes its continuation.
    pub recovery_topic: Option<TopicArn>,
    /// `STANDBY_GATEWAY_ARN`: the standby when neither the event nor the gateway's tag names one.
    pub standby: Option<GatewayArn>,
    /// `DISABLE_POLICY`: `tagged` (default) or `approval`.
    pub disable_policy: DisablePolicy,
    /// `MAX_CONCURRENCY`: concurrent retrievals or snapshots (default 32).
    pub max_concurrency: usize,
    /// `TIME_BUDGET_SECONDS`: how long to work when the invocation's deadline is unknown (default 840).
    pub time_budget: Duration,
    /// `DEADLINE_MARGIN_SECONDS`: stop starting work this long before the deadline (default 60).
    pub deadline_margin: Duration,
    /// `MAX_SLICES`: continuations after which a recovery stops and asks for a human (default 20).
    pub max_slices: u32,
    /// `LEASE_HEARTBEAT_SECONDS`: how often a run refreshes its lease (default 5); a lease
    /// not refreshed for three times that is stale.
    pub lease_heartbeat: Duration,
    /// How long the run's own "offline" answer stays good enough to disable the gateway on;
    /// after that it asks again just before `DisableGateway` (30 s; not an environment setting).
    pub reconfirm_after: Duration,
}

impl RecoverConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        check_endpoints(src)?;
        let disable_policy = match src.get("DISABLE_POLICY").as_deref().map(str::trim) {
            None | Some("tagged") => DisablePolicy::Tagged,
            Some("approval") => DisablePolicy::Approval,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "DISABLE_POLICY",
                    value: other.to_owned(),
                    why: "must be `tagged` or `approval`".into(),
                });
            }
        };
        Ok(Self {
            report_topic: topic(src, "REPORT_TOPIC_ARN", "every run publishes its report there")?,
            recovery_topic: optional_topic(src, "RECOVERY_TOPIC_ARN")?,
            standby: src
                .get("STANDBY_GATEWAY_ARN")
                .map(|v| GatewayArn::parse("STANDBY_GATEWAY_ARN", v.trim()).map_err(ConfigError::Arn))
                .transpose()?,
            disable_policy,
            max_concurrency: number(src, "MAX_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 512)?,
            time_budget: Duration::from_secs(number(src, "TIME_BUDGET_SECONDS", 840, 1, 900)?),
            deadline_margin: Duration::from_secs(number(src, "DEADLINE_MARGIN_SECONDS", 60, 0, 600)?),
            max_slices: number(src, "MAX_SLICES", 20, 1, 1000)?,
            lease_heartbeat: Duration::from_secs(number(src, "LEASE_HEARTBEAT_SECONDS", 5, 1, 60)?),
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
    /// `REPORT_TOPIC_ARN`: where the readable alert goes.
    pub report_topic: TopicArn,
    /// `MAX_CONCURRENCY`: concurrent probes (default 32).
    pub max_concurrency: usize,
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
        Ok(Self {
            gateway_arns,
            grace: Duration::from_secs(number(src, "OFFLINE_GRACE_SECONDS", 900, 0, 7 * 24 * 3600)?),
            recovery_topic: topic(src, "RECOVERY_TOPIC_ARN", "the GatewayOffline hand-off is published there")?,
            report_topic: topic(src, "REPORT_TOPIC_ARN", "alerts are published there")?,
            max_concurrency: number(src, "MAX_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 512)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "arn:aws:sns:us-east-1:123456789012:gateway-reports";
    const RECOVERY: &str = "arn:aws:sns:us-east-1:123456789012:gateway-recovery";

    #[test]
    fn recover_defaults() {
        let c = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT)]).unwrap();
        assert_eq!(c.disable_policy, DisablePolicy::Tagged);
        assert_eq!(c.max_concurrency, 32);
        assert_eq!(c.time_budget, Duration::from_secs(840));
        assert!(c.standby.is_none() && c.recovery_topic.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = RecoverConfig::from_source(&[]).unwrap_err();
        assert!(e.to_string().contains("REPORT_TOPIC_ARN"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), ("DISABLE_POLICY", "always")]).unwrap_err();
        assert!(e.to_string().contains("DISABLE_POLICY") && e.to_string().contains("always"), "{e}");
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), ("MAX_CONCURRENCY", "0")]).unwrap_err();
        assert!(e.to_string().contains("MAX_CONCURRENCY"), "{e}");
        let e =
            RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), ("STANDBY_GATEWAY_ARN", "sgw-1")]).unwrap_err();
        assert!(e.to_string().contains("STANDBY_GATEWAY_ARN"), "{e}");
    }

    #[test]
    fn a_blank_endpoint_override_is_refused_at_start_up() {
        let e = RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), ("AWS_ENDPOINT_URL", "")]).unwrap_err();
        assert!(e.to_string().contains("AWS_ENDPOINT_URL"), "{e}");
        let e = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            ("AWS_ENDPOINT_URL_SNS", "localhost:4566"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("AWS_ENDPOINT_URL_SNS"), "{e}");
        assert!(
            RecoverConfig::from_source(&[("REPORT_TOPIC_ARN", REPORT), ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")])
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
        ])
        .unwrap();
        assert_eq!(c.gateway_arns.unwrap().len(), 2);
        assert_eq!(c.grace, Duration::from_secs(60));
        let e = MonitorConfig::from_source(&[
            ("REPORT_TOPIC_ARN", REPORT),
            ("RECOVERY_TOPIC_ARN", RECOVERY),
            ("GATEWAY_ARNS", ","),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("GATEWAY_ARNS"), "{e}");
    }
}
