//! The benchmarks: how close the functions come to what the Storage Gateway API allows,
//! and how far ahead of the usual boto3 script, on the simulator, side by side in one run.
//! Run with `bash bench/run.sh` (it builds the release binaries and the boto3 baseline's
//! virtual environment, then runs this and writes BENCHMARKS.md).
//!
//! ```text
//! bench [--runs N] [--python PATH] [--out FILE] [--quick]
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use local_lambda::{FunctionProcess, LocalFunction, Outcome};
use serde_json::{Value, json};
use simulator::generate::{FleetShape, PRIMARY, STANDBY, generate};
use simulator::{FaultConfig, FaultSpec, Fleet, Running, Simulator};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

fn topic(name: &str) -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}")
}

fn gateway_arn(id: &str) -> String {
    format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:gateway/{id}")
}

struct Opts {
    /// Scenario names to run (all when empty): headroom, recover, rate, memory, baseline, sweep, cold, size.
    only: Vec<String>,
    runs: usize,
    python: Option<PathBuf>,
    out: Option<PathBuf>,
    quick: bool,
}

/// Median, minimum and maximum of some measurements.
#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 };
    Stats { median, min: xs[0], max: xs[n - 1] }
}

impl Stats {
    fn secs(&self) -> String {
        if self.min == self.max {
            format!("{:.2} s", self.median)
        } else {
            format!("{:.2} s ({:.2}–{:.2})", self.median, self.min, self.max)
        }
    }

    fn ms(&self) -> String {
        format!("{:.1} ms ({:.1}–{:.1})", self.median, self.min, self.max)
    }
}

/// One row of the results table.
struct Row {
    scenario: String,
    measured: String,
    reference: String,
    ratio: String,
    verdict: &'static str,
}

fn row(
    scenario: impl Into<String>,
    measured: String,
    reference: String,
    ratio: f64,
    target: f64,
    higher_is_better: bool,
) -> Row {
    let ok = if higher_is_better { ratio >= target } else { ratio <= target };
    let sign = if higher_is_better { "≥" } else { "≤" };
    Row {
        scenario: scenario.into(),
        measured,
        reference,
        ratio: format!("{ratio:.2}× (target {sign} {target}×)"),
        verdict: if ok { "met" } else { "MISSED" },
    }
}

async fn simulator(fleet: Fleet, faults: FaultConfig) -> Running {
    let sim = Simulator::new(fleet).expect("valid fleet");
    sim.set_faults(faults).expect("valid faults");
    sim.start("127.0.0.1:0").await.expect("listen")
}

fn latency(ms: u64) -> FaultConfig {
    FaultConfig { global: FaultSpec { latency_ms: ms, ..Default::default() }, ..Default::default() }
}

struct Function {
    local: LocalFunction,
    process: FunctionProcess,
}

async fn start(binary: &Path, name: &str, sim: &Running, env: &[(&str, String)]) -> Function {
    let local = LocalFunction::start(name, REGION, ACCOUNT, Duration::from_secs(900)).await.expect("local lambda");
    let process = FunctionProcess::spawn(binary, &local, &sim.url(), REGION, env, None).expect("spawn");
    assert!(local.wait_ready(Duration::from_secs(20)).await, "{name} did not start");
    Function { local, process }
}

fn peak_rss_mb(f: &Function) -> Option<f64> {
    let pid = f.process.child.id()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}

fn recover_env(concurrency: usize) -> Vec<(&'static str, String)> {
    vec![
        ("REPORT_TOPIC_ARN", topic("gateway-reports")),
        ("RECOVERY_TOPIC_ARN", topic("gateway-recovery")),
        ("MAX_CONCURRENCY", concurrency.to_string()),
        ("RUST_LOG", "warn".into()),
    ]
}

/// One end-to-end recovery of a full tape gateway; answers (seconds, pages, peak RSS MB).
async fn recovery_run(
    recover: &Path,
    tapes: usize,
    faults: FaultConfig,
    concurrency: usize,
) -> (f64, usize, Option<f64>) {
    let sim = simulator(generate(&FleetShape { tapes, ..Default::default() }), faults).await;
    let f = start(recover, "recover-gateway", &sim, &recover_env(concurrency)).await;
    let event = json!({"failedGatewayArn": gateway_arn(PRIMARY)}).to_string();
    let t = Instant::now();
    let answer = f.local.invoke(event, Duration::from_secs(900)).await;
    let secs = t.elapsed().as_secs_f64();
    let report = match answer {
        Some(Outcome::Response(b)) => serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
        other => panic!("recover-gateway failed: {other:?}"),
    };
    assert_eq!(report["status"], "completed", "{}", report["summary"]);
    assert_eq!(report["tapes"]["done"].as_u64(), Some(tapes as u64));
    let pages = sim.calls().iter().filter(|c| c.operation == "DescribeTapeRecoveryPoints" && c.ok()).count();
    if std::env::var_os("BENCH_DEBUG").is_some() {
        let calls = sim.calls();
        let t0 = calls.first().map(|c| c.at_ms).unwrap_or(0);
        let mut per_sec: std::collections::BTreeMap<u64, (u32, u32)> = Default::default();
        for c in &calls {
            let e = per_sec.entry((c.at_ms - t0) / 1000).or_default();
            if c.ok() { e.0 += 1 } else { e.1 += 1 }
        }
        eprintln!(
            "calls {} ok {}; per second (ok, refused): {:?}",
            calls.len(),
            calls.iter().filter(|c| c.ok()).count(),
            per_sec.values().collect::<Vec<_>>()
        );
        let mut firsts: std::collections::BTreeMap<String, (u64, u64, usize)> = Default::default();
        for c in &calls {
            let e = firsts.entry(format!("{}:{}", c.service.signing_name(), c.operation)).or_insert((u64::MAX, 0, 0));
            e.0 = e.0.min(c.at_ms - t0);
            e.1 = e.1.max(c.at_ms - t0);
            e.2 += 1;
        }
        eprintln!("timeline (first ms, last ms, calls) by operation, invoke at -{} ms: {firsts:?}", 0);
    }
    (secs, pages, peak_rss_mb(&f))
}

/// The boto3 baseline against the same kind of simulator.
async fn baseline_run(python: &Path, tapes: usize, latency_ms: u64) -> f64 {
    let sim = simulator(generate(&FleetShape { tapes, ..Default::default() }), latency(latency_ms)).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .args(["--endpoint", &sim.url(), "--failed", &gateway_arn(PRIMARY), "--standby", &gateway_arn(STANDBY)])
        .output()
        .await
        .expect("python runs");
    assert!(out.status.success(), "baseline failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("baseline prints JSON");
    assert_eq!(v["retrieved"].as_u64(), Some(tapes as u64), "{v}");
    v["seconds"].as_f64().unwrap_or(f64::NAN)
}

/// One sweep of `gateways` watched gateways; answers (seconds, pages).
async fn sweep_run(monitor: &Path, gateways: usize, latency_ms: u64, concurrency: usize) -> (f64, usize) {
    let fleet = generate(&FleetShape { tapes: 0, gateways, ..Default::default() });
    let sim = simulator(fleet, latency(latency_ms)).await;
    let env = [
        ("REPORT_TOPIC_ARN", topic("gateway-reports")),
        ("RECOVERY_TOPIC_ARN", topic("gateway-recovery")),
        ("MAX_CONCURRENCY", concurrency.to_string()),
        ("RUST_LOG", "warn".into()),
    ];
    let f = start(monitor, "gateway-monitor", &sim, &env).await;
    let t = Instant::now();
    let answer = f.local.invoke("{}", Duration::from_secs(300)).await;
    let secs = t.elapsed().as_secs_f64();
    let summary = match answer {
        Some(Outcome::Response(b)) => serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
        other => panic!("gateway-monitor failed: {other:?}"),
    };
    assert_eq!(summary["checked"].as_u64(), Some(gateways as u64 + 1), "{summary}");
    let pages = sim.calls().iter().filter(|c| c.operation == "ListGateways" && c.ok()).count();
    (secs, pages)
}

/// Cold start: exec to the first `GET /runtime/invocation/next`, and to the first answer.
async fn cold_start(binary: &Path, name: &str, event: Value, env: &[(&str, String)], fleet: &Fleet) -> (f64, f64) {
    let sim = simulator(fleet.clone(), FaultConfig::default()).await;
    let local = LocalFunction::start(name, REGION, ACCOUNT, Duration::from_secs(900)).await.expect("local lambda");
    // The event waits in the queue, so the first answer comes as soon as the runtime can give it.
    let payload = event.to_string();
    let spawned = Instant::now();
    let _process = FunctionProcess::spawn(binary, &local, &sim.url(), REGION, env, None).expect("spawn");
    let answer = local.invoke(payload, Duration::from_secs(30)).await;
    let answered = spawned.elapsed().as_secs_f64() * 1000.0;
    assert!(matches!(answer, Some(Outcome::Response(_))), "{name}: {answer:?}");
    let init = local.first_poll().map(|t| t.duration_since(spawned).as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    (init, answered)
}

/// Requests per second the simulator serves with no latency: `connections` clients each
/// sending signed-looking `DescribeGatewayInformation` calls for `seconds`.
async fn headroom(connections: usize, seconds: f64) -> f64 {
    let sim =
        simulator(generate(&FleetShape { tapes: 0, gateways: 10, ..Default::default() }), FaultConfig::default()).await;
    let addr = sim.addr;
    let body = json!({"GatewayARN": gateway_arn(STANDBY)}).to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: StorageGateway_20130630.DescribeGatewayInformation\r\n\
         Content-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20261125/{REGION}/storagegateway/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).ok();
            let mut buf = vec![0u8; 64 * 1024];
            let mut done = 0u64;
            while Instant::now() < deadline {
                s.write_all(request.as_bytes()).await.expect("write");
                // Read one whole answer: headers, then Content-Length bytes.
                let mut got = Vec::new();
                loop {
                    let n = s.read(&mut buf).await.expect("read");
                    assert!(n > 0, "connection closed");
                    got.extend_from_slice(&buf[..n]);
                    if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            assert!(head.starts_with("http/1.1 200"), "{head}");
                            break;
                        }
                    }
                }
                done += 1;
            }
            done
        }));
    }
    let t = Instant::now();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("client");
    }
    total as f64 / t.elapsed().as_secs_f64()
}

fn zip_size(name: &str) -> Option<u64> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    std::fs::metadata(root.join("target/lambda").join(name).join("bootstrap.zip")).ok().map(|m| m.len())
}

fn parse_args() -> Result<Opts, String> {
    let mut opts = Opts { only: Vec::new(), runs: 3, python: None, out: None, quick: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => {
                opts.runs = args.next().and_then(|v| v.parse().ok()).filter(|n| *n > 0).ok_or("--runs N (N ≥ 1)")?
            }
            "--python" => opts.python = Some(args.next().ok_or("--python PATH")?.into()),
            "--out" => opts.out = Some(args.next().ok_or("--out FILE")?.into()),
            "--quick" => opts.quick = true,
            "--only" => opts.only = args.next().ok_or("--only LIST")?.split(',').map(str::to_owned).collect(),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: bench [--only headroom,recover,rate,baseline,sweep,cold,size] [--runs N] [--python PATH] [--out FILE] [--quick]"
                ));
            }
        }
    }
    Ok(opts)
}

fn say(line: impl AsRef<str>) {
    eprintln!("bench: {}", line.as_ref());
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (monitor, recover) = match local_lambda::build::build(&cargo, &local_lambda::build::FUNCTIONS, true) {
        Ok(mut p) => (p.remove("gateway-monitor").unwrap_or_default(), p.remove("recover-gateway").unwrap_or_default()),
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let runs = opts.runs;
    let wanted = |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == name);
    const L: f64 = 0.050;
    const N: usize = 1500;

    if wanted("headroom") {
        say("7. simulator headroom");
        let mut measured = Vec::new();
        for _ in 0..runs {
            measured.push(headroom(32, 3.0).await);
        }
        let rps = stats(measured);
        // The busiest scenario below asks for 64 calls per 50 ms: 1,280 calls/s.
        rows.push(row(
            "7. Simulator headroom, no latency, 32 connections",
            format!("{:.0} req/s ({:.0}–{:.0})", rps.median, rps.min, rps.max),
            "1,280 req/s (64 calls per 50 ms, the busiest scenario)".into(),
            rps.median / 1280.0,
            5.0,
            true,
        ));
    }

    say("1. tape recovery, 1,500 tapes, L = 50 ms, C = 1, 4, 16, 64");
    let curve: &[usize] = if !wanted("recover") && !wanted("baseline") && !wanted("memory") {
        &[]
    } else if opts.quick || !wanted("recover") {
        &[64]
    } else {
        &[1, 4, 16, 64]
    };
    let mut rss = Vec::new();
    let mut ours_default = None;
    for &c in curve {
        let n_runs = if c == 1 { 1.max(runs / 3) } else { runs };
        let mut times = Vec::new();
        let mut pages = 0;
        for _ in 0..n_runs {
            let (secs, p, peak) = recovery_run(&recover, N, latency(50), c).await;
            times.push(secs);
            pages = p;
            if c == 64 {
                rss.extend(peak);
            }
        }
        let s = stats(times);
        let limit = pages as f64 * L + N.div_ceil(c) as f64 * L;
        say(format!("   C = {c}: {} (limit {limit:.2} s)", s.secs()));
        rows.push(row(
            format!("1. Recover 1,500 tapes, L = 50 ms, C = {c}"),
            s.secs(),
            format!("limit {limit:.2} s = {pages} pages·L + ⌈{N}/{c}⌉·L"),
            s.median / limit,
            1.2,
            false,
        ));
        if c == 64 {
            ours_default = Some(s.median);
        }
    }

    if wanted("rate") {
        say("1. tape recovery, 1,500 tapes, rate limit R = 20/s, C = 32");
        let limited =
            FaultConfig { global: FaultSpec { rate_limit: Some(20.0), ..Default::default() }, ..Default::default() };
        let r_runs = if opts.quick { 1 } else { 1.max(runs / 2) };
        let mut times = Vec::new();
        for _ in 0..r_runs {
            times.push(recovery_run(&recover, N, limited.clone(), 32).await.0);
        }
        let s = stats(times);
        let limit = N as f64 / 20.0;
        rows.push(row(
            "1. Recover 1,500 tapes, rate limit R = 20/s, C = 32",
            s.secs(),
            format!("limit {limit:.2} s = N/R"),
            s.median / limit,
            1.2,
            false,
        ));
    }

    say("5. memory");
    if !rss.is_empty() {
        let m = stats(rss);
        rows.push(row(
            "5. Peak RSS of recover-gateway during scenario 1 (C = 64)",
            format!("{:.1} MB ({:.1}–{:.1})", m.median, m.min, m.max),
            "32 MB".into(),
            m.median / 32.0,
            1.0,
            false,
        ));
    }

    say("2. baseline: boto3, sequential, L = 50 ms");
    match &opts.python {
        Some(_) if !wanted("baseline") => {}
        Some(python) => {
            let b_runs = if opts.quick { 1 } else { 1.max(runs / 2) };
            let mut times = Vec::new();
            for _ in 0..b_runs {
                times.push(baseline_run(python, N, 50).await);
            }
            let b = stats(times);
            let ours = ours_default.unwrap_or(f64::NAN);
            rows.push(row(
                "2. Baseline boto3 script (sequential) vs recover-gateway at C = 64, 1,500 tapes, L = 50 ms",
                format!("boto3 {}; recover-gateway {ours:.2} s", b.secs()),
                "speed-up".into(),
                b.median / ours,
                20.0,
                true,
            ));
        }
        None if !wanted("baseline") => {}
        None => notes.push("Scenario 2 skipped: no --python with boto3 given (bench/run.sh provides one).".to_owned()),
    }

    say("3. monitor sweep, 1,000 gateways, L = 50 ms");
    for c in if wanted("sweep") { vec![16, 32, 64] } else { vec![] } {
        let mut times = Vec::new();
        let mut pages = 0;
        for _ in 0..runs {
            let (secs, p) = sweep_run(&monitor, 1000, 50, c).await;
            times.push(secs);
            pages = p;
        }
        let s = stats(times);
        let n = 1001;
        let limit = pages as f64 * L + (n as usize).div_ceil(c) as f64 * L;
        rows.push(row(
            format!("3. Sweep 1,000 gateways, L = 50 ms, C = {c}"),
            s.secs(),
            format!("limit {limit:.2} s = {pages} pages·L + ⌈{n}/{c}⌉·L"),
            s.median / limit,
            1.25,
            false,
        ));
    }

    say("4. cold start, 20 starts each");
    let cold: Vec<&str> = if wanted("cold") { vec!["gateway-monitor", "recover-gateway"] } else { vec![] };
    let fleet = generate(&FleetShape { tapes: 5, ..Default::default() });
    let monitor_env = [
        ("REPORT_TOPIC_ARN", topic("gateway-reports")),
        ("RECOVERY_TOPIC_ARN", topic("gateway-recovery")),
        ("RUST_LOG", "warn".into()),
    ];
    for (name, binary, event, env) in [
        ("gateway-monitor", &monitor, json!({"gatewayArns": [gateway_arn(STANDBY)]}), monitor_env.to_vec()),
        (
            "recover-gateway",
            &recover,
            json!({"failedGatewayArn": gateway_arn(PRIMARY), "dryRun": true}),
            recover_env(32),
        ),
    ] {
        if !cold.contains(&name) {
            continue;
        }
        let mut inits = Vec::new();
        let mut firsts = Vec::new();
        for _ in 0..20 {
            let (init, first) = cold_start(binary, name, event.clone(), &env, &fleet).await;
            inits.push(init);
            firsts.push(first);
        }
        let i = stats(inits);
        let f = stats(firsts);
        rows.push(row(
            format!("4. Cold start of {name}: exec to first GET /next (median of 20)"),
            i.ms(),
            "15 ms".into(),
            i.median / 15.0,
            1.0,
            false,
        ));
        rows.push(Row {
            scenario: format!("4. Cold start of {name}: exec to the answer of its first event"),
            measured: f.ms(),
            reference: "(no target; includes the event's API calls)".into(),
            ratio: "".into(),
            verdict: "",
        });
    }

    say("6. package size");
    for name in if wanted("size") { vec!["gateway-monitor", "recover-gateway"] } else { vec![] } {
        match zip_size(name) {
            Some(bytes) => {
                let mb = bytes as f64 / 1024.0 / 1024.0;
                rows.push(row(format!("6. {name} arm64 zip"), format!("{mb:.2} MB ({bytes} bytes)"), "5 MB".into(), mb / 5.0, 1.0, false));
            }
            None => notes.push(format!(
                "Scenario 6: target/lambda/{name}/bootstrap.zip not found; build it with `cargo lambda build --release --arm64 --output-format zip --bin {name}` (bench/run.sh does)."
            )),
        }
    }

    let mut table =
        String::from("| Scenario | Measured (median, min–max) | Limit or target | Ratio | |\n|---|---|---|---|---|\n");
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.scenario, r.measured, r.reference, r.ratio, r.verdict
        ));
    }
    for n in &notes {
        table.push_str(&format!("\n{n}\n"));
    }
    println!("{table}");
    if let Some(out) = &opts.out {
        if let Err(e) = std::fs::write(out, &table) {
            eprintln!("cannot write {}: {e}", out.display());
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}
