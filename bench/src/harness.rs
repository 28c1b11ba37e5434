//! What every scenario shares: the release binaries, labs with faults, function processes
//! started as Lambda starts them, figures from the simulator's call log, and statistics.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tests::local_lambda::{FunctionProcess, LocalFunction, Outcome};
use tests::simulator::{CallRecord, FaultConfig, FaultSpec, Fleet, Service};
use tests::{ACCOUNT, Function, Lab, REGION, function_env};

/// Storage Gateway latency of every scenario, and the account-wide rate limit of the
/// rate-limited ones.
pub const L_MS: u64 = 50;
pub const L: f64 = L_MS as f64 / 1000.0;
pub const R: f64 = 20.0;

/// The release binaries the figures are taken on.
pub struct Built {
    pub monitor: PathBuf,
    pub recover: PathBuf,
    pub echo: PathBuf,
}

/// Builds both functions exactly as they ship (`cargo build --release -p gateway-monitor
/// -p recover-gateway`), and the echo floor with the same profile.
pub fn build() -> Result<Built, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut f = tests::local_lambda::build::build(&cargo, &tests::local_lambda::build::FUNCTIONS, true)?;
    let monitor = f.remove("gateway-monitor").ok_or("cargo did not build gateway-monitor")?;
    let recover = f.remove("recover-gateway").ok_or("cargo did not build recover-gateway")?;
    let echo = build_echo(&cargo)?;
    Ok(Built { monitor, recover, echo })
}

fn build_echo(cargo: &str) -> Result<PathBuf, String> {
    eprintln!("building the echo floor (bench --bin echo, release) with {cargo}...");
    let out = Command::new(cargo)
        .args(["build", "--release", "-p", "bench", "--bin", "echo", "--message-format=json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !out.status.success() {
        return Err("building the echo function failed (see above)".into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.pointer("/target/name").and_then(Value::as_str) == Some("echo"))
        .and_then(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built echo but did not say where its binary is".into())
}

/// A lab whose simulator injects `faults` once the ledger's table exists.
pub async fn lab(fleet: Fleet, faults: FaultConfig) -> Result<Lab, String> {
    let lab = Lab::start(fleet).await;
    lab.sim.set_faults(faults)?;
    Ok(lab)
}

/// `latency_ms` on every Storage Gateway call and, with `rate`, one token bucket for the
/// whole Storage Gateway API (the simulator's global settings apply to every Storage
/// Gateway operation not named in `operations`, through one bucket; SNS, DynamoDB and SQS
/// calls get neither).
pub fn faults(latency_ms: u64, rate: Option<f64>) -> FaultConfig {
    FaultConfig { global: FaultSpec { latency_ms, rate_limit: rate, ..Default::default() }, ..Default::default() }
}

/// The function's environment as the template sets it (`function_env`, with the default
/// 5-second lease heartbeat instead of the tests' 1 second), plus `extra`.
pub fn env(lab: &Lab, f: Function, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = function_env(lab, f);
    env.retain(|(k, _)| *k != "LEASE_HEARTBEAT_SECONDS");
    for (k, v) in extra {
        env.retain(|(key, _)| key != k);
        env.push((k, v.clone()));
    }
    env
}

/// A function binary running under a local Lambda, against a lab.
pub struct Running {
    pub function: LocalFunction,
    pub process: FunctionProcess,
}

/// Where function logs go (`target/bench-logs/<label>.log`), for a run that went wrong.
fn log_file(label: &str) -> Option<std::fs::File> {
    let dir = tests::workspace().join("target/bench-logs");
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::File::create(dir.join(format!("{label}.log"))).ok()
}

/// Starts `binary` as function `f` and waits for its first `GET /next`.
pub async fn start(
    lab: &Lab,
    f: Function,
    binary: &Path,
    env: &[(&'static str, String)],
    label: &str,
) -> Result<Running, String> {
    let function = LocalFunction::start(f.name(), REGION, ACCOUNT, Duration::from_secs(900))
        .await
        .map_err(|e| format!("local Lambda for {}: {e}", f.name()))?;
    let process = FunctionProcess::spawn(binary, &function, &lab.sim.url(), REGION, env, log_file(label))
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    if !function.wait_ready(Duration::from_secs(30)).await {
        return Err(format!(
            "{} did not ask for work within 30 s (log: target/bench-logs/{label}.log; init error: {:?})",
            f.name(),
            function.init_error()
        ));
    }
    Ok(Running { function, process })
}

/// Invokes and answers the function's JSON answer, or why there is none.
pub async fn invoke(r: &Running, event: &Value, within: Duration) -> Result<Value, String> {
    match r.function.invoke(event.to_string(), within).await {
        Some(Outcome::Response(b)) => serde_json::from_slice(&b).map_err(|e| format!("the answer is not JSON: {e}")),
        Some(Outcome::Error(b)) => Err(format!("the invocation failed: {}", String::from_utf8_lossy(&b))),
        None => Err(format!("no answer within {} s", within.as_secs())),
    }
}

/// Peak resident memory of a function process (`VmHWM`), in MB.
pub fn peak_rss_mb(r: &Running) -> Option<f64> {
    let pid = r.process.child.id()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU time (user + system) of a process so far, in seconds (`self` for this process,
/// which hosts the simulator and the local Lambdas).
pub fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

pub fn function_cpu_secs(r: &Running) -> Option<f64> {
    cpu_secs(&r.process.child.id()?.to_string())
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// What the call log says about the calls made from `from_ms` on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Calls {
    /// Storage Gateway calls admitted (not refused by the rate limit or a fault).
    pub sgw: usize,
    /// Storage Gateway calls refused with a throttle.
    pub sgw_throttled: usize,
    pub retrievals: usize,
    pub list_gateways_pages: usize,
    /// DynamoDB calls: the ledger.
    pub ledger: usize,
    pub sns: usize,
    pub sqs: usize,
}

pub fn throttled(c: &CallRecord) -> bool {
    c.error_code().is_some_and(|e| e.contains("Throttl"))
}

pub fn calls_since(lab: &Lab, from_ms: u64) -> Calls {
    let mut out = Calls::default();
    for c in lab.sim.calls().iter().filter(|c| c.at_ms >= from_ms) {
        match c.service {
            Service::StorageGateway if throttled(c) => out.sgw_throttled += 1,
            Service::StorageGateway => {
                out.sgw += 1;
                if c.operation == "RetrieveTapeRecoveryPoint" && c.ok() {
                    out.retrievals += 1;
                }
                if c.operation == "ListGateways" && c.ok() {
                    out.list_gateways_pages += 1;
                }
            }
            Service::DynamoDb => out.ledger += 1,
            Service::Sns => out.sns += 1,
            Service::Sqs => out.sqs += 1,
        }
    }
    out
}

/// Median, minimum and maximum.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

pub fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return Stats { median: f64::NAN, min: f64::NAN, max: f64::NAN, n };
    }
    let median = if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 };
    Stats { median, min: xs[0], max: xs[n - 1], n }
}

impl Stats {
    pub fn secs(&self) -> String {
        if self.n <= 1 {
            format!("{:.2} s", self.median)
        } else {
            format!("{:.2} s ({:.2}–{:.2}, {} runs)", self.median, self.min, self.max, self.n)
        }
    }

    pub fn ms(&self) -> String {
        format!("{:.2} ms ({:.2}–{:.2}, n = {})", self.median, self.min, self.max, self.n)
    }
}
