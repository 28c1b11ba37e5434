//! `sgw-sim drill`: a whole failover on the built-in simulator, with the real function
//! binaries under a local Lambda runtime. The schedule fires `gateway-monitor`; two
//! gateways lose their connection (and a third flaps); the monitor waits out the grace
//! period and hands the failed ones off over SNS; SNS invokes `recover-gateway`, which
//! disables the tape gateway (it is tagged for it), retrieves every tape to the standby,
//! snapshots every volume, and reports. The drill prints the story as it happens and
//! ends with the reports a person would read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use local_lambda::{FunctionProcess, LocalFunction, Outcome};
use simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUMES, generate};
use simulator::{FaultConfig, FaultSpec, Simulator};

pub struct DrillOptions {
    pub tapes: usize,
    pub volumes: usize,
    pub grace_secs: u64,
    pub sweep_every: Duration,
    pub latency_ms: u64,
    pub release: bool,
    /// Use prebuilt binaries from this directory instead of building them.
    pub bin_dir: Option<PathBuf>,
    pub timeout: Duration,
}

impl Default for DrillOptions {
    fn default() -> Self {
        Self {
            tapes: 300,
            volumes: 4,
            grace_secs: 6,
            sweep_every: Duration::from_secs(2),
            latency_ms: 20,
            release: false,
            bin_dir: None,
            timeout: Duration::from_secs(180),
        }
    }
}

struct Story {
    started: Instant,
}

impl Story {
    fn say(&self, line: impl AsRef<str>) {
        println!("[{:>5.1}s] {}", self.started.elapsed().as_secs_f64(), line.as_ref());
    }
}

/// Builds both functions with the cargo that runs the drill and answers their paths.
pub fn build_functions(release: bool) -> Result<(PathBuf, PathBuf), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut built = local_lambda::build::build(&cargo, &local_lambda::build::FUNCTIONS, release)?;
    match (built.remove("gateway-monitor"), built.remove("recover-gateway")) {
        (Some(m), Some(r)) => Ok((m, r)),
        _ => Err("cargo did not build both functions".into()),
    }
}

fn log_file(dir: &Path, name: &str) -> Option<std::fs::File> {
    std::fs::create_dir_all(dir).ok()?;
    std::fs::File::create(dir.join(format!("{name}.log"))).ok()
}

fn scheduled_event(n: u64) -> Value {
    json!({
        "version": "0", "id": format!("5c1e0c5e-0000-4000-8000-{n:012}"), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/gateway-monitor-sweep"], "detail": {}
    })
}

fn list(v: &Value) -> String {
    let items: Vec<&str> = v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    items.join(", ")
}

/// Runs the drill; answers whether both recoveries completed.
pub async fn run(opts: DrillOptions) -> Result<bool, String> {
    let (monitor_bin, recover_bin) = match &opts.bin_dir {
        Some(dir) => (dir.join("gateway-monitor"), dir.join("recover-gateway")),
        None => build_functions(opts.release)?,
    };
    for b in [&monitor_bin, &recover_bin] {
        if !b.exists() {
            return Err(format!("{} does not exist", b.display()));
        }
    }
    let story = Story { started: Instant::now() };
    let shape = FleetShape {
        tapes: opts.tapes,
        volumes: opts.volumes,
        gateways: 5,
        untagged: 1,
        failed_offline: false,
        ..Default::default()
    };
    let fleet = generate(&shape);
    let region = fleet.region.clone();
    let sim = Simulator::new(fleet).map_err(|e| e.to_string())?;
    sim.set_faults(FaultConfig {
        global: FaultSpec { latency_ms: opts.latency_ms, ..Default::default() },
        ..Default::default()
    })?;
    let sim = sim.start("127.0.0.1:0").await.map_err(|e| format!("cannot start the simulator: {e}"))?;
    let url = sim.url();
    let timeout = Duration::from_secs(900);
    let monitor =
        LocalFunction::start("gateway-monitor", &region, "123456789012", timeout).await.map_err(|e| e.to_string())?;
    let recover =
        LocalFunction::start("recover-gateway", &region, "123456789012", timeout).await.map_err(|e| e.to_string())?;
    sim.set_delivery("gateway-recovery", Some(recover.invoke_url()));
    let topic = |name: &str| format!("arn:aws:sns:{region}:123456789012:{name}");
    let logs = std::env::temp_dir().join("sgw-drill");
    let _monitor_process = FunctionProcess::spawn(
        &monitor_bin,
        &monitor,
        &url,
        &region,
        &[
            ("RECOVERY_TOPIC_ARN", topic("gateway-recovery")),
            ("REPORT_TOPIC_ARN", topic("gateway-reports")),
            ("OFFLINE_GRACE_SECONDS", opts.grace_secs.to_string()),
            ("RUST_LOG", "info".into()),
        ],
        log_file(&logs, "gateway-monitor"),
    )
    .map_err(|e| format!("cannot start gateway-monitor: {e}"))?;
    let _recover_process = FunctionProcess::spawn(
        &recover_bin,
        &recover,
        &url,
        &region,
        &[
            ("RECOVERY_TOPIC_ARN", topic("gateway-recovery")),
            ("REPORT_TOPIC_ARN", topic("gateway-reports")),
            ("DISABLE_POLICY", "tagged".into()),
            ("RUST_LOG", "info".into()),
        ],
        log_file(&logs, "recover-gateway"),
    )
    .map_err(|e| format!("cannot start recover-gateway: {e}"))?;
    if !(monitor.wait_ready(Duration::from_secs(10)).await && recover.wait_ready(Duration::from_secs(10)).await) {
        return Err(format!("the functions did not start; see their logs in {}", logs.display()));
    }
    story.say(format!(
        "simulator on {url} with {} gateways ({} tapes on tape-primary, {} volumes on volume-cache), {} ms per API call",
        3 + shape.gateways + shape.untagged,
        opts.tapes,
        opts.volumes,
        opts.latency_ms
    ));
    story.say(format!(
        "gateway-monitor and recover-gateway running under a local Lambda runtime; logs in {}",
        logs.display()
    ));
    story.say(format!(
        "the schedule fires gateway-monitor every {} s; grace period {} s; recover-gateway is subscribed to gateway-recovery",
        opts.sweep_every.as_secs(),
        opts.grace_secs
    ));

    let flapper = sim.with_world(|w| w.gateways.values().find(|g| g.name == "fleet-00001").map(|g| g.id.clone()));
    let mut sweep = 0u64;
    let mut seen_messages = 0usize;
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut last_progress = (usize::MAX, usize::MAX);
    let deadline = Instant::now() + opts.timeout;
    let mut next_sweep = Instant::now();
    let mut ok = true;
    while reported.len() < 2 {
        if Instant::now() > deadline {
            story.say("the drill timed out before both recoveries reported");
            return Ok(false);
        }
        if Instant::now() >= next_sweep {
            sweep += 1;
            match sweep {
                2 => {
                    sim.set_connected(PRIMARY, false);
                    sim.set_connected(VOLUMES, false);
                    story.say(format!("{PRIMARY} (tape-primary) and {VOLUMES} (volume-cache) lose their connection"));
                    if let Some(f) = &flapper {
                        sim.set_connected(f, false);
                        story.say(format!("{f} (fleet-00001) drops out too, but only for a moment"));
                    }
                }
                3 => {
                    if let Some(f) = &flapper {
                        sim.set_connected(f, true);
                        story.say(format!("{f} (fleet-00001) is back"));
                    }
                }
                _ => {}
            }
            let answer = monitor.invoke(scheduled_event(sweep).to_string(), Duration::from_secs(60)).await;
            match answer {
                Some(Outcome::Response(body)) => {
                    let s: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let c = &s["counts"];
                    let mut line = format!(
                        "sweep {sweep}: {} watched, {} online, {} offline, {} disabled",
                        s["checked"], c["online"], c["offline"], c["disabled"]
                    );
                    for (key, label) in [
                        ("newlySuspected", "suspected"),
                        ("newlyFailed", "FAILED, handed off"),
                        ("recoveredOnline", "back online"),
                    ] {
                        if s[key].as_array().is_some_and(|a| !a.is_empty()) {
                            line.push_str(&format!("; {label}: {}", list(&s[key])));
                        }
                    }
                    story.say(line);
                }
                Some(Outcome::Error(body)) => {
                    story.say(format!("gateway-monitor failed: {}", String::from_utf8_lossy(&body)));
                    ok = false;
                }
                None => story.say("gateway-monitor did not answer"),
            }
            next_sweep = Instant::now() + opts.sweep_every;
        }
        for m in sim.messages().into_iter().skip(seen_messages) {
            seen_messages += 1;
            let topic = m.topic_arn.rsplit(':').next().unwrap_or("").to_owned();
            match (topic.as_str(), m.subject.as_deref()) {
                ("gateway-recovery", _) => {
                    let v: Value = serde_json::from_str(&m.message).unwrap_or(Value::Null);
                    story.say(format!(
                        "SNS gateway-recovery: {} for {} → invokes recover-gateway",
                        v["type"].as_str().unwrap_or("message"),
                        v["gatewayArn"].as_str().or(v["failedGatewayArn"].as_str()).unwrap_or("?")
                    ));
                }
                (_, Some(subject)) if subject.starts_with("AUDIT") => {
                    story.say(format!("SNS gateway-reports: {subject}"))
                }
                (_, Some(subject)) if subject.starts_with("Recovered") || subject.starts_with("Snapshotted") => {
                    story.say(format!("SNS gateway-reports: {subject}"));
                    let gateway = m.message.lines().find_map(|l| l.trim().strip_prefix("arn:")).map(str::to_owned);
                    reported.insert(gateway.unwrap_or_else(|| m.message_id.clone()));
                    let status_line = m.message.lines().next().unwrap_or_default();
                    if !status_line.ends_with("COMPLETED") {
                        ok = false;
                    }
                    println!(
                        "\n{}\n",
                        m.message.trim_end().lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
                    );
                }
                (_, Some(subject)) => story.say(format!("SNS {topic}: {subject}")),
                (_, None) => {}
            }
        }
        let progress = sim.with_world(|w| {
            let standby = w.gateways.values().find(|g| g.id == STANDBY).map(|g| g.arn.clone()).unwrap_or_default();
            (w.tapes_on(&standby), w.snapshots.len())
        });
        if progress != last_progress && (progress.0 > 0 || progress.1 > 0) {
            story.say(format!(
                "progress: {}/{} tapes on the standby, {}/{} volumes snapshotted",
                progress.0, opts.tapes, progress.1, opts.volumes
            ));
            last_progress = progress;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let disabled =
        sim.with_world(|w| w.gateways.values().filter(|g| g.disabled).map(|g| g.id.clone()).collect::<Vec<_>>());
    let handoffs = sim
        .messages()
        .iter()
        .filter(|m| m.topic_arn.ends_with(":gateway-recovery") && m.message.contains("\"GatewayOffline\""))
        .count();
    story.say(format!(
        "done: disabled {disabled:?}; {handoffs} hand-off(s) for 2 outages; the flapping gateway was never handed off; {} API calls in all",
        sim.calls().len()
    ));
    Ok(ok)
}
