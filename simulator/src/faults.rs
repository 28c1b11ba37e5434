//! Fault injection: latency (fixed and jittered), injected `InternalServerError` and
//! `ThrottlingException`, a token-bucket rate limit, and dropped connections (before the
//! request is applied, or after: the change is made but the answer is lost). Settings are
//! global with per-operation overrides; a seed makes a run repeatable.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One set of fault settings. Rates are probabilities in 0..=1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Added to every call, in milliseconds.
    pub latency_ms: u64,
    /// A uniformly random extra delay of up to this many milliseconds.
    pub jitter_ms: u64,
    /// Share of calls answered `InternalServerError` (500) without being applied.
    pub error_rate: f64,
    /// Share of calls answered `ThrottlingException` (400, "Rate exceeded").
    pub throttle_rate: f64,
    /// Share of calls whose connection is closed before the call is applied.
    pub drop_rate: f64,
    /// Share of calls applied but whose connection is closed before the answer is sent.
    pub drop_response_rate: f64,
    /// Calls per second; calls beyond it are answered `ThrottlingException`.
    pub rate_limit: Option<f64>,
    /// Burst size of the rate limit (defaults to one second's worth).
    pub burst: Option<f64>,
}

/// What `POST /_sim/faults` takes: `{"seed": 7, "latency_ms": 50, "operations":
/// {"RetrieveTapeRecoveryPoint": {"error_rate": 0.1}}}`. The global settings apply to
/// every Storage Gateway call; SNS calls get faults only through `operations`
/// (`"Publish"`), so a test of gateway faults still gets its report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub seed: Option<u64>,
    #[serde(flatten)]
    pub global: FaultSpec,
    pub operations: BTreeMap<String, FaultSpec>,
}

impl FaultConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, spec) in
            std::iter::once(("global", &self.global)).chain(self.operations.iter().map(|(k, v)| (k.as_str(), v)))
        {
            for (field, rate) in [
                ("error_rate", spec.error_rate),
                ("throttle_rate", spec.throttle_rate),
                ("drop_rate", spec.drop_rate),
                ("drop_response_rate", spec.drop_response_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("{name}.{field} must be between 0 and 1, got {rate}"));
                }
            }
            if let Some(r) = spec.rate_limit {
                if r.is_nan() || r <= 0.0 {
                    return Err(format!("{name}.rate_limit must be positive, got {r}"));
                }
            }
        }
        Ok(())
    }
}

/// The decision for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    InternalError,
    Throttle,
    RateLimited,
    DropBefore,
    DropAfter,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Faults {
    config: FaultConfig,
    rng: fastrand::Rng,
    buckets: BTreeMap<String, Bucket>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new(FaultConfig::default())
    }
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let rng = match config.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        Self { config, rng, buckets: BTreeMap::new() }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    fn spec(&self, op: &str, sgw: bool) -> Option<&FaultSpec> {
        self.config.operations.get(op).or(if sgw { Some(&self.config.global) } else { None })
    }

    /// The delay and the fault for one call of `op`.
    pub fn decide(&mut self, op: &str, sgw: bool) -> (Duration, Fault) {
        let Some(spec) = self.spec(op, sgw).cloned() else {
            return (Duration::ZERO, Fault::None);
        };
        let jitter = if spec.jitter_ms > 0 { self.rng.u64(0..=spec.jitter_ms) } else { 0 };
        let delay = Duration::from_millis(spec.latency_ms + jitter);
        if let Some(rate) = spec.rate_limit {
            let burst = spec.burst.unwrap_or(rate).max(1.0);
            let key = if self.config.operations.contains_key(op) { op } else { "*" };
            let bucket =
                self.buckets.entry(key.to_owned()).or_insert_with(|| Bucket { tokens: burst, last: Instant::now() });
            if !bucket.take(rate, burst, Instant::now()) {
                return (delay, Fault::RateLimited);
            }
        }
        let rates = spec.drop_rate + spec.error_rate + spec.throttle_rate + spec.drop_response_rate;
        if rates == 0.0 {
            // No draw: calls without faults do not shift the seeded sequence of those with.
            return (delay, Fault::None);
        }
        let roll = self.rng.f64();
        let mut edge = 0.0;
        for (rate, fault) in [
            (spec.drop_rate, Fault::DropBefore),
            (spec.error_rate, Fault::InternalError),
            (spec.throttle_rate, Fault::Throttle),
            (spec.drop_response_rate, Fault::DropAfter),
        ] {
            edge += rate;
            if roll < edge {
                return (delay, fault);
            }
        }
        (delay, Fault::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_honoured_and_repeatable_with_a_seed() {
        let config = FaultConfig {
            seed: Some(7),
            global: FaultSpec { error_rate: 0.1, throttle_rate: 0.1, ..Default::default() },
            ..Default::default()
        };
        let run = || {
            let mut f = Faults::new(config.clone());
            (0..10_000).map(|_| f.decide("ListTapes", true).1).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "same seed, same faults");
        let errors = a.iter().filter(|f| **f == Fault::InternalError).count();
        let throttles = a.iter().filter(|f| **f == Fault::Throttle).count();
        assert!((800..1200).contains(&errors), "{errors}");
        assert!((800..1200).contains(&throttles), "{throttles}");
    }

    #[test]
    fn sns_gets_only_per_operation_faults() {
        let mut f = Faults::new(FaultConfig {
            global: FaultSpec { error_rate: 1.0, ..Default::default() },
            ..Default::default()
        });
        assert_eq!(f.decide("Publish", false).1, Fault::None);
        assert_eq!(f.decide("ListTapes", true).1, Fault::InternalError);
    }

    #[test]
    fn the_rate_limit_admits_a_burst_then_throttles() {
        let mut f = Faults::new(FaultConfig {
            global: FaultSpec { rate_limit: Some(5.0), ..Default::default() },
            ..Default::default()
        });
        let admitted = (0..20).filter(|_| f.decide("ListTapes", true).1 == Fault::None).count();
        assert_eq!(admitted, 5);
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        let c = FaultConfig { global: FaultSpec { error_rate: 1.5, ..Default::default() }, ..Default::default() };
        assert!(c.validate().unwrap_err().contains("error_rate"));
    }
}
