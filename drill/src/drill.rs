//! The failover drill: a whole failover on the built-in simulator, with the real function
//! binaries under a local Lambda, told as it happens.
//!
//! 1. **Readiness**: before anything fails, the readiness check says which gateways could
//!    be recovered; one (`tape-small`) deliberately could not: its standby is nearly full.
//! 2. **A failure**: a tape gateway and a cached volume gateway lose their connection (and
//!    a third gateway flaps). The monitor suspects them at the next sweep, and the
//!    re-probe queue hands them back at the end of the grace period, when they are
//!    declared failed and handed off over SNS. `recover-gateway` disables the tape gateway
//!    (it is tagged for it; the audit record first), retrieves every tape to the standby,
//!    clones every volume onto the volume standby, and reports.
//! 3. **A correlated outage**: half the fleet goes dark at once. The monitor places a
//!    hold, sends one alert, hands the gateways off marked held, and nothing is disabled;
//!    when they come back, the hold lifts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use local_lambda::{FunctionProcess, LocalFunction, Outcome};
use serde_json::{Value, json};
use simulator::behaviour::Behaviour;
use simulator::fleet::{GatewaySpec, QueueSpec, TableSpec, TapeSpec};
use simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUME_STANDBY, VOLUMES, generate};
use simulator::{FaultConfig, FaultSpec, Running, Simulator};

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
    /// The simulator's behaviour switches (`all`, or names), for a drill under another
    /// reading of AWS's silences.
    pub behaviour: Behaviour,
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
            behaviour: Behaviour::default(),
        }
    }
}

const ACCOUNT: &str = "123456789012";
const TABLE: &str = "gateway-recovery-ledger";
const QUEUE: &str = "gateway-reprobe";
/// The deliberately unready gateway and its too-full standby.
const SMALL: &str = "sgw-1000F000";
const SMALL_STANDBY: &str = "sgw-1000F001";
/// The standby of the bystander gateways (`fleet-*`), so that only tape-small is not ready.
const FLEET_STANDBY: &str = "sgw-1000F002";
/// Fleet gateways that go dark together in the correlated outage.
const DARK: usize = 6;

struct Story {
    started: Instant,
}

impl Story {
    fn say(&self, line: impl AsRef<str>) {
        println!("[{:>5.1}s] {}", self.started.elapsed().as_secs_f64(), line.as_ref());
    }

    fn block(&self, text: &str) {
        println!("\n{}\n", text.trim_end().lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"));
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

fn scheduled_event(n: u64, region: &str) -> Value {
    json!({
        "version": "0", "id": format!("5c1e0c5e-0000-4000-8000-{n:012}"), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT, "time": "2026-12-01T10:00:00Z", "region": region,
        "resources": [format!("arn:aws:events:{region}:{ACCOUNT}:rule/gateway-monitor-sweep")], "detail": {}
    })
}

fn list(v: &Value) -> String {
    let items: Vec<&str> = v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    items.join(", ")
}

/// The drill's world: the generated fleet, a small tape gateway whose standby is nearly
/// full, the ledger's table and the re-probe queue.
fn fleet(opts: &DrillOptions) -> simulator::Fleet {
    let shape = FleetShape {
        tapes: opts.tapes,
        volumes: opts.volumes,
        gateways: 9,
        untagged: 1,
        failed_offline: false,
        ..Default::default()
    };
    let mut fleet = generate(&shape);
    let arn = |id: &str| fleet.gateway_arn(id);
    let small_standby = arn(SMALL_STANDBY);
    let fleet_standby = arn(FLEET_STANDBY);
    let template = fleet.gateways.iter().find(|g| g.id == STANDBY).cloned();
    if let Some(t) = template {
        let tape = |prefix: &str, i: usize, rp: bool| TapeSpec {
            barcode: format!("{prefix}{i:06}"),
            size_bytes: 107_374_182_400,
            status: "AVAILABLE".into(),
            recovery_point_time: rp.then(|| "2026-11-30T22:00:00Z".to_owned()),
        };
        let mut small = GatewaySpec {
            id: SMALL.into(),
            name: "tape-small".into(),
            tapes: (0..40).map(|i| tape("SML", i, true)).collect(),
            ..t.clone()
        };
        small.tags.insert("recovery:enabled".into(), "true".into());
        small.tags.insert("recovery:auto-disable".into(), "true".into());
        small.tags.insert("recovery:standby-gateway".into(), small_standby);
        let full = GatewaySpec {
            id: SMALL_STANDBY.into(),
            name: "tape-small-standby".into(),
            tapes: (0..1480).map(|i| tape("FUL", i, false)).collect(),
            ..t.clone()
        };
        // The bystanders are configured like any production gateway: a standby of their
        // own and an opt-in that waits for an operator.
        for g in fleet.gateways.iter_mut().filter(|g| g.name.starts_with("fleet-")) {
            if g.tags.get("recovery:enabled").is_some_and(|v| v == "true") {
                g.tags.insert("recovery:auto-disable".into(), "false".into());
                g.tags.insert("recovery:standby-gateway".into(), fleet_standby.clone());
            }
        }
        let bystanders_standby =
            GatewaySpec { id: FLEET_STANDBY.into(), name: "fleet-standby".into(), tapes: vec![], ..t };
        fleet.gateways.push(small);
        fleet.gateways.push(full);
        fleet.gateways.push(bystanders_standby);
    }
    fleet.tables.push(TableSpec {
        name: TABLE.into(),
        partition_key: "pk".into(),
        sort_key: Some("sk".into()),
        ttl_attribute: Some("expiresAt".into()),
    });
    fleet.queues.push(QueueSpec { name: QUEUE.into(), deliver_to: None });
    fleet
}

struct Functions {
    monitor: LocalFunction,
    _monitor_process: FunctionProcess,
    _recover_process: FunctionProcess,
    recover: LocalFunction,
}

async fn start_functions(
    opts: &DrillOptions,
    sim: &Running,
    bins: (&Path, &Path),
    logs: &Path,
) -> Result<Functions, String> {
    let region = sim.fleet().region.clone();
    let url = sim.url();
    let timeout = Duration::from_secs(900);
    let monitor =
        LocalFunction::start("gateway-monitor", &region, ACCOUNT, timeout).await.map_err(|e| e.to_string())?;
    let recover =
        LocalFunction::start("recover-gateway", &region, ACCOUNT, timeout).await.map_err(|e| e.to_string())?;
    sim.set_delivery("gateway-recovery", Some(recover.invoke_url()));
    sim.set_queue_delivery(QUEUE, Some(monitor.invoke_url()));
    let topic = |name: &str| format!("arn:aws:sns:{region}:{ACCOUNT}:{name}");
    let common = |extra: Vec<(&'static str, String)>| {
        let mut env = vec![
            ("RECOVERY_TOPIC_ARN", topic("gateway-recovery")),
            ("REPORT_TOPIC_ARN", topic("gateway-reports")),
            ("LEDGER_TABLE_NAME", TABLE.to_owned()),
            ("RUST_LOG", "info".into()),
        ];
        env.extend(extra);
        env
    };
    let monitor_env = common(vec![
        ("OFFLINE_GRACE_SECONDS", opts.grace_secs.to_string()),
        ("REPROBE_QUEUE_URL", format!("https://sqs.{region}.amazonaws.com/{ACCOUNT}/{QUEUE}")),
    ]);
    let recover_env = common(vec![("DISABLE_POLICY", "tagged".into()), ("LEASE_HEARTBEAT_SECONDS", "2".into())]);
    let m = FunctionProcess::spawn(bins.0, &monitor, &url, &region, &monitor_env, log_file(logs, "gateway-monitor"))
        .map_err(|e| format!("cannot start gateway-monitor: {e}"))?;
    let r = FunctionProcess::spawn(bins.1, &recover, &url, &region, &recover_env, log_file(logs, "recover-gateway"))
        .map_err(|e| format!("cannot start recover-gateway: {e}"))?;
    if !(monitor.wait_ready(Duration::from_secs(10)).await && recover.wait_ready(Duration::from_secs(10)).await) {
        return Err(format!("the functions did not start; see their logs in {}", logs.display()));
    }
    Ok(Functions { monitor, _monitor_process: m, _recover_process: r, recover })
}

/// Runs the drill; answers whether everything went as it should.
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
    let sim = Simulator::new(fleet(&opts)).map_err(|e| e.to_string())?;
    sim.set_faults(FaultConfig {
        global: FaultSpec { latency_ms: opts.latency_ms, ..Default::default() },
        ..Default::default()
    })?;
    sim.set_behaviour(opts.behaviour)?;
    let sim = sim.start("127.0.0.1:0").await.map_err(|e| format!("cannot start the simulator: {e}"))?;
    let region = sim.fleet().region.clone();
    let logs = std::env::temp_dir().join("sgw-drill");
    let f = start_functions(&opts, &sim, (&monitor_bin, &recover_bin), &logs).await?;
    let watched =
        sim.fleet().gateways.iter().filter(|g| g.tags.get("recovery:enabled").is_some_and(|v| v == "true")).count();
    story.say(format!(
        "simulator on {} with {} gateways ({watched} watched; {} tapes on tape-primary, {} volumes on volume-cache), {} ms per API call, AWS behaviour: {}",
        sim.url(),
        sim.fleet().gateways.len(),
        opts.tapes,
        opts.volumes,
        opts.latency_ms,
        opts.behaviour
    ));
    story.say(format!("functions running under a local Lambda runtime; their logs are in {}", logs.display()));
    let mut ok = true;

    // 1. Readiness, before anything fails.
    story.say("readiness check (gateway-monitor {\"action\": \"readiness\"}):");
    let answer = f.monitor.invoke(json!({"action": "readiness"}).to_string(), Duration::from_secs(120)).await;
    match answer {
        Some(Outcome::Response(b)) => {
            let r: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            let small_ready = r["gateways"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|g| g["gatewayId"] == SMALL)
                .map(|g| g["ready"].clone());
            if let Some(m) =
                sim.messages().iter().rev().find(|m| m.subject.as_deref().is_some_and(|s| s.starts_with("Readiness")))
            {
                story.say(format!("SNS gateway-reports: {}", m.subject.as_deref().unwrap_or_default()));
                story.block(&m.message.lines().take(24).collect::<Vec<_>>().join("\n"));
            }
            if small_ready != Some(Value::Bool(false)) {
                story.say("the readiness check should have found tape-small not ready");
                ok = false;
            }
        }
        other => {
            story.say(format!("the readiness check failed: {other:?}"));
            ok = false;
        }
    }

    // 2. A failure.
    let flapper = sim.with_world(|w| w.gateways.values().find(|g| g.name == "fleet-00001").map(|g| g.id.clone()));
    let mut sweep = 0u64;
    let mut seen = 0usize;
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let deadline = Instant::now() + opts.timeout;
    let mut next_sweep = Instant::now();
    let mut last_progress = (usize::MAX, usize::MAX);
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
                    if let Some(fl) = &flapper {
                        sim.set_connected(fl, false);
                        story.say(format!("{fl} (fleet-00001) drops out too, but only for a moment"));
                    }
                }
                3 => {
                    if let Some(fl) = &flapper {
                        sim.set_connected(fl, true);
                    }
                }
                _ => {}
            }
            sweep_once(&f.monitor, sweep, &region, &story).await;
            next_sweep += opts.sweep_every;
        }
        ok &= narrate(&sim, &mut seen, &mut reported, &story);
        let progress = sim.with_world(|w| {
            let standby = w.gateways.values().find(|g| g.id == STANDBY).map(|g| g.arn.clone()).unwrap_or_default();
            (w.tapes_on(&standby), w.volumes.values().filter(|v| v.gateway_id == VOLUME_STANDBY).count())
        });
        if progress != last_progress && (progress.0 > 0 || progress.1 > 0) {
            story.say(format!(
                "progress: {}/{} tapes on the standby, {}/{} volumes cloned",
                progress.0, opts.tapes, progress.1, opts.volumes
            ));
            last_progress = progress;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 3. A correlated outage: half the fleet goes dark at once.
    let dark: Vec<String> = sim.with_world(|w| {
        w.gateways
            .values()
            .filter(|g| g.name.starts_with("fleet-") && g.name != "fleet-00001")
            .take(DARK)
            .map(|g| g.id.clone())
            .collect()
    });
    for id in &dark {
        sim.set_connected(id, false);
    }
    story.say(format!(
        "{} more gateways go dark at once ({}): a site, a network or AWS itself",
        dark.len(),
        dark.join(", ")
    ));
    let disables_before = sim.applied("DisableGateway").len();
    let held_at = Instant::now();
    let hold_for = Duration::from_secs(opts.grace_secs) + opts.sweep_every * 3;
    while held_at.elapsed() < hold_for && Instant::now() < deadline {
        if Instant::now() >= next_sweep {
            sweep += 1;
            sweep_once(&f.monitor, sweep, &region, &story).await;
            next_sweep += opts.sweep_every;
        }
        narrate(&sim, &mut seen, &mut reported, &story);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &dark {
        sim.set_connected(id, true);
    }
    story.say("they come back");
    sweep += 1;
    sweep_once(&f.monitor, sweep, &region, &story).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    narrate(&sim, &mut seen, &mut reported, &story);

    let disabled =
        sim.with_world(|w| w.gateways.values().filter(|g| g.disabled).map(|g| g.id.clone()).collect::<Vec<_>>());
    let held: Vec<Value> = sim
        .messages()
        .iter()
        .filter(|m| m.topic_arn.ends_with(":gateway-recovery"))
        .filter_map(|m| serde_json::from_str::<Value>(&m.message).ok())
        .filter(|v| v["heldBy"].is_string())
        .collect();
    let alerts =
        sim.messages().iter().filter(|m| m.attributes.get("event").is_some_and(|(_, v)| v == "HoldPlaced")).count();
    let phase3_disables = sim.applied("DisableGateway").len() - disables_before;
    let flapper_hand_offs = flapper.as_ref().map_or(0, |fl| {
        sim.messages()
            .iter()
            .filter(|m| m.topic_arn.ends_with(":gateway-recovery") && m.message.contains(&format!("gateway/{fl}\"")))
            .count()
    });
    story.say(format!(
        "done: disabled {disabled:?}; the correlated outage: {} hand-offs held, {alerts} alert, {phase3_disables} DisableGateway; the flapping gateway handed off {flapper_hand_offs} times; {} API calls in all",
        held.len(),
        sim.calls().len()
    ));
    ok &= disabled == [PRIMARY.to_owned()]
        && phase3_disables == 0
        && alerts == 1
        && held.len() == dark.len()
        && flapper_hand_offs == 0;
    drop(f.recover);
    Ok(ok)
}

async fn sweep_once(monitor: &LocalFunction, n: u64, region: &str, story: &Story) {
    let answer = monitor.invoke(scheduled_event(n, region).to_string(), Duration::from_secs(60)).await;
    let Some(Outcome::Response(body)) = answer else {
        story.say(format!("sweep {n}: gateway-monitor failed: {answer:?}"));
        return;
    };
    let s: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let c = &s["counts"];
    let mut line = format!(
        "sweep {n}: {} watched, {} online, {} offline, {} disabled",
        s["checked"], c["online"], c["offline"], c["disabled"]
    );
    for (key, label) in [
        ("newlySuspected", "suspected"),
        ("newlyFailed", "FAILED, handed off"),
        ("held", "held"),
        ("recoveredOnline", "back online"),
        ("resumed", "resumed"),
    ] {
        if s[key].as_array().is_some_and(|a| !a.is_empty()) {
            line.push_str(&format!("; {label}: {}", list(&s[key])));
        }
    }
    if let Some(h) = s["holds"].as_array().and_then(|h| h.first()) {
        line.push_str(&format!("; hold {} ({})", h["id"].as_str().unwrap_or("?"), h["state"].as_str().unwrap_or("?")));
    }
    story.say(line);
}

/// Tells what was published since the last look; answers false if a recovery report says
/// something other than completed.
fn narrate(sim: &Running, seen: &mut usize, reported: &mut BTreeSet<String>, story: &Story) -> bool {
    let mut ok = true;
    for m in sim.messages().into_iter().skip(*seen) {
        *seen += 1;
        let topic = m.topic_arn.rsplit(':').next().unwrap_or("").to_owned();
        match (topic.as_str(), m.subject.as_deref()) {
            ("gateway-recovery", _) => {
                let v: Value = serde_json::from_str(&m.message).unwrap_or(Value::Null);
                let held = v["heldBy"].as_str().map(|h| format!(" (held by {h})")).unwrap_or_default();
                story.say(format!(
                    "SNS gateway-recovery: {} for {}{held} → invokes recover-gateway",
                    v["type"].as_str().unwrap_or("message"),
                    v["gatewayArn"]
                        .as_str()
                        .or(v["failedGatewayArn"].as_str())
                        .and_then(|a| a.rsplit('/').next())
                        .unwrap_or("?")
                ));
            }
            (_, Some(subject)) if subject.starts_with("Recovered") => {
                story.say(format!("SNS gateway-reports: {subject}"));
                let gateway = m.message.lines().find_map(|l| l.trim().strip_prefix("arn:")).map(str::to_owned);
                reported.insert(gateway.unwrap_or_else(|| m.message_id.clone()));
                ok &= m.message.lines().next().unwrap_or_default().ends_with("COMPLETED");
                story.block(&m.message);
            }
            (_, Some(subject)) if subject.starts_with("HOLD") => {
                story.say(format!("SNS gateway-reports: {subject}"));
                story.block(&m.message);
            }
            (_, Some(subject)) if subject.starts_with("Readiness") => {}
            (_, Some(subject)) => story.say(format!("SNS {topic}: {subject}")),
            (_, None) => {}
        }
    }
    ok
}
