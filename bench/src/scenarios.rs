//! The scenarios of issue 13 (and the readiness check of issue 16): each runs the release
//! binaries against fresh labs and answers the rows of the results table.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};
use tests::simulator::generate::{PRIMARY, STANDBY};
use tests::{ACCOUNT, Function, Lab, REGION, gateway_arn};

use crate::fleets;
use crate::harness::{Built, Calls, L, L_MS, R, Running, calls_since, env, faults, invoke, lab, now_ms, peak_rss_mb};
use crate::harness::{Stats, cpu_secs, function_cpu_secs, start, stats};
use crate::report::{Row, info, lower_is_better, ratio_row};

const C: usize = 64;
const N: usize = 1500;
const LONG: Duration = Duration::from_secs(900);

fn say(line: impl AsRef<str>) {
    eprintln!("bench: {}", line.as_ref());
}

/// Fails unless the report says every tape was recovered in this one invocation.
fn completed(report: &Value, tapes: usize) -> Result<(), String> {
    let t = &report["tapes"];
    let ok = report["status"] == "completed"
        && report["slice"] == 1
        && t["done"].as_u64() == Some(tapes as u64)
        && t["failed"].as_u64() == Some(0);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}: status {}, slice {}, tapes {}: {}",
            report["failedGateway"]["id"], report["status"], report["slice"], t, report["summary"]
        ))
    }
}

/// One recovery of `tape-primary` by one `recover-gateway` process.
struct OneRecovery {
    secs: f64,
    calls: Calls,
    report: Value,
    rss_mb: Option<f64>,
    timeline: String,
}

/// When each phase happened, in ms after the invocation (from the simulator's call log).
fn timeline(lab: &Lab, t0: u64, answered_ms: u64) -> String {
    let calls = lab.sim.calls();
    let sgw: Vec<_> =
        calls.iter().filter(|c| c.at_ms >= t0 && c.service == tests::simulator::Service::StorageGateway).collect();
    let at = |op: &str, last: bool| {
        let mut it = sgw.iter().filter(|c| c.operation == op);
        let c = if last { it.next_back() } else { it.next() };
        c.map_or("–".to_owned(), |c| (c.at_ms - t0).to_string())
    };
    format!(
        "first call {} ms, DisableGateway {} ms, retrievals {}–{} ms, last DescribeTapes {} ms, answer {} ms",
        sgw.first().map_or(0, |c| c.at_ms - t0),
        at("DisableGateway", false),
        at("RetrieveTapeRecoveryPoint", false),
        at("RetrieveTapeRecoveryPoint", true),
        at("DescribeTapes", true),
        answered_ms
    )
}

async fn recover_one(b: &Built, tapes: usize, rate: Option<f64>, label: &str) -> Result<OneRecovery, String> {
    let lab = lab(fleets::one_gateway(tapes), faults(L_MS, rate)).await?;
    let f = start(&lab, Function::Recover, &b.recover, &env(&lab, Function::Recover, &[]), label).await?;
    let (f_cpu, sim_cpu) = (function_cpu_secs(&f), cpu_secs("self"));
    let t0 = now_ms();
    let t = Instant::now();
    let report = invoke(&f, &json!({"failedGatewayArn": gateway_arn(PRIMARY)}), LONG).await?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = |after: Option<f64>, before: Option<f64>| after.zip(before).map_or(f64::NAN, |(a, b)| a - b);
    let (f_cpu, sim_cpu) = (cpu(function_cpu_secs(&f), f_cpu), cpu(cpu_secs("self"), sim_cpu));
    completed(&report, tapes)?;
    let calls = calls_since(&lab, t0);
    let timeline = format!(
        "{}; CPU: recover-gateway {f_cpu:.2} s, simulator and bench {sim_cpu:.2} s",
        timeline(&lab, t0, (secs * 1000.0) as u64)
    );
    Ok(OneRecovery { secs, calls, report, rss_mb: peak_rss_mb(&f), timeline })
}

/// 1,500 tapes, L = 50 ms, no limit, default settings, against the dependency chain.
pub async fn chain(b: &Built, runs: usize) -> Result<Vec<Row>, String> {
    say(format!("chain: 1,500 tapes, L = {L_MS} ms, no limit, C = {C} (default), {runs} runs"));
    let (mut times, mut rss, mut last) = (Vec::new(), Vec::new(), None);
    for i in 0..runs {
        let r = recover_one(b, N, None, &format!("chain-{i}")).await?;
        say(format!("   {:.3} s; {}", r.secs, r.timeline));
        times.push(r.secs);
        rss.extend(r.rss_mb);
        last = Some(r);
    }
    let s = stats(times);
    let rounds = N.div_ceil(C);
    let steps = 1 + 1 + 1 + rounds + 1;
    let limit = steps as f64 * L;
    let last = last.ok_or("no run")?;
    let mut rows = vec![ratio_row(
        "Recover 1,500 tapes, L = 50 ms, no limit, default settings (C = 64)",
        s.secs(),
        format!(
            "dependency chain {limit:.2} s = {steps} L (first read, audit, disable, ⌈1500/64⌉ = {rounds} rounds, report)"
        ),
        s.median / limit,
        lower_is_better(1.15),
    )];
    rows.push(info(
        "  of which (last run)",
        format!(
            "{}; {} Storage Gateway calls, {} ledger, {} SNS; pacer peak window {}",
            last.timeline, last.calls.sgw, last.calls.ledger, last.calls.sns, last.report["pacing"]["peakWindow"]
        ),
    ));
    let m = stats(rss);
    rows.push(info("  peak RSS of recover-gateway after it", format!("{:.1} MB (max {:.1})", m.median, m.max)));
    Ok(rows)
}

/// The threaded boto3 peer, on the same fleet and simulator, alternating with ours.
pub async fn baseline(b: &Built, python: &Path, runs: usize) -> Result<Vec<Row>, String> {
    say(format!("baseline: boto3 with 16 threads vs recover-gateway, 1,500 tapes, L = {L_MS} ms, {runs} runs each"));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..runs {
        ours.push(recover_one(b, N, None, &format!("baseline-ours-{i}")).await?.secs);
        theirs.push(boto3(python, 16).await?);
        say(format!("   recover-gateway {:.2} s, boto3 {:.2} s", ours[i], theirs[i]));
    }
    let (o, t) = (stats(ours), stats(theirs));
    Ok(vec![ratio_row(
        "1,500 tapes vs the threaded boto3 peer (16 threads), L = 50 ms, same run",
        format!("recover-gateway {}; boto3 {}", o.secs(), t.secs()),
        "speed-up = boto3 / recover-gateway (medians)".into(),
        t.median / o.median,
        crate::report::higher_is_better(3.0),
    )])
}

/// Runs `bench/baseline.py` against a fresh simulator; answers its own timing.
async fn boto3(python: &Path, threads: usize) -> Result<f64, String> {
    let lab = lab(fleets::one_gateway(N), faults(L_MS, None)).await?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .args(["--endpoint", &lab.sim.url(), "--failed", &gateway_arn(PRIMARY), "--standby", &gateway_arn(STANDBY)])
        .args(["--threads", &threads.to_string()])
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!("the boto3 baseline failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("the baseline printed no JSON: {e}"))?;
    if v["retrieved"].as_u64() != Some(N as u64) {
        return Err(format!("the baseline retrieved {} of {N}: {v}", v["retrieved"]));
    }
    v["seconds"].as_f64().ok_or_else(|| format!("no seconds in {v}"))
}

/// 1,500 tapes under R = 20 calls/s (and L = 50 ms), one invocation.
pub async fn rate(b: &Built, runs: usize) -> Result<Vec<Row>, String> {
    say(format!("rate: 1,500 tapes, L = {L_MS} ms, R = {R}/s account-wide, {runs} runs"));
    let mut rows = Vec::new();
    for i in 0..runs {
        let r = recover_one(b, N, Some(R), &format!("rate-{i}")).await?;
        let limit = r.calls.sgw as f64 / R;
        say(format!(
            "   {:.2} s, {} calls admitted, {} throttled; {}",
            r.secs, r.calls.sgw, r.calls.sgw_throttled, r.timeline
        ));
        rows.push(ratio_row(
            "Recover 1,500 tapes, R = 20 calls/s, L = 50 ms, default settings",
            format!("{:.2} s", r.secs),
            format!(
                "N/R = {limit:.2} s (N = {} Storage Gateway calls admitted, {} of them retrievals; {} throttled answers)",
                r.calls.sgw, r.calls.retrievals, r.calls.sgw_throttled
            ),
            r.secs / limit,
            lower_is_better(1.05),
        ));
    }
    Ok(rows)
}

/// One site outage: every failed gateway's own `recover-gateway` process, all invoked at once.
pub struct Outage {
    pub gateways: usize,
    pub tapes: usize,
    pub sdk_adaptive: bool,
    pub total: f64,
    /// Each invocation's answer time, in seconds after the start.
    pub finishes: Vec<f64>,
    pub calls: Calls,
    pub pacer_throttles: u64,
    /// Tapes the reports say were retrieved, and invocations that completed on their own.
    pub recovered: usize,
    pub completed: usize,
    pub problems: Vec<String>,
}

impl Outage {
    pub fn spread(&self) -> (f64, f64, f64) {
        let s = stats(self.finishes.clone());
        (s.min, s.max, s.max - s.min)
    }
}

pub async fn outage(b: &Built, gateways: usize, tapes: usize, sdk_adaptive: bool) -> Result<Outage, String> {
    let mode = if sdk_adaptive { "SDK adaptive retry mode" } else { "default (pacer, SDK standard retries)" };
    say(format!("site outage: {gateways} gateways × {tapes} tapes, L = {L_MS} ms, R = {R}/s, {mode}"));
    let (fleet, failed) = fleets::site_outage(gateways, tapes);
    let lab = lab(fleet, faults(L_MS, Some(R))).await?;
    let extra: Vec<(&'static str, String)> =
        if sdk_adaptive { vec![("AWS_RETRY_MODE", "adaptive".into())] } else { vec![] };
    let mut functions: Vec<Running> = Vec::new();
    for i in 0..gateways {
        // Each invocation signs with its own key, so the call log tells them apart.
        let mut e = env(&lab, Function::Recover, &extra);
        e.push(("AWS_ACCESS_KEY_ID", format!("AKIDBENCH{i:04}")));
        let label = format!("site-{gateways}x{tapes}{}-{i}", if sdk_adaptive { "-adaptive" } else { "" });
        functions.push(start(&lab, Function::Recover, &b.recover, &e, &label).await?);
    }
    let t0 = now_ms();
    let t = Instant::now();
    let answers = join_all(functions.iter().zip(&failed).map(|(f, id)| async move {
        let event = json!({"failedGatewayArn": gateway_arn(id), "approveDisable": true, "operator": "bench"});
        let answer = invoke(f, &event, LONG).await;
        (t.elapsed().as_secs_f64(), answer)
    }))
    .await;
    let total = t.elapsed().as_secs_f64();
    let calls = calls_since(&lab, t0);
    let mut out = Outage {
        gateways,
        tapes,
        sdk_adaptive,
        total,
        finishes: vec![],
        calls,
        pacer_throttles: 0,
        recovered: 0,
        completed: 0,
        problems: vec![],
    };
    for (at, answer) in answers {
        out.finishes.push(at);
        match answer {
            Ok(report) => {
                out.pacer_throttles += report["pacing"]["throttles"].as_u64().unwrap_or(0);
                out.recovered += report["tapes"]["done"].as_u64().unwrap_or(0) as usize;
                match completed(&report, tapes) {
                    Ok(()) => out.completed += 1,
                    Err(e) => out.problems.push(e),
                }
            }
            Err(e) => out.problems.push(e),
        }
    }
    let (first, last, spread) = out.spread();
    say(format!(
        "   {total:.2} s; first gateway done at {first:.2} s, last at {last:.2} s (spread {spread:.2} s); {} calls admitted, {} throttled; {} problems",
        calls.sgw,
        calls.sgw_throttled,
        out.problems.len()
    ));
    Ok(out)
}

pub fn outage_rows(o: &Outage) -> Vec<Row> {
    let limit = o.calls.sgw as f64 / R;
    let retrievals_only = o.calls.retrievals as f64 / R;
    let mode = if o.sdk_adaptive { ", AWS_RETRY_MODE=adaptive" } else { "" };
    let (first, last, spread) = o.spread();
    let mut row = ratio_row(
        format!(
            "Site outage: {} gateways × {} tapes, L = 50 ms, R = 20/s, {} invocations at once{mode}",
            o.gateways, o.tapes, o.gateways
        ),
        format!(
            "{:.2} s; {}/{} tapes recovered, {}/{} invocations completed on their own; finished {first:.1}–{last:.1} s (spread {spread:.1} s)",
            o.total,
            o.recovered,
            o.gateways * o.tapes,
            o.completed,
            o.gateways
        ),
        format!(
            "N/R = {limit:.2} s (N = {} Storage Gateway calls admitted; retrievals alone {retrievals_only:.2} s; {} throttled answers)",
            o.calls.sgw, o.calls.sgw_throttled
        ),
        o.total / limit,
        lower_is_better(1.15),
    );
    if !o.problems.is_empty() {
        row.verdict = crate::report::Verdict::Missed;
        row.measured.push_str(&format!("; NOT all recovered: {}", o.problems.join(" | ")));
    }
    vec![row]
}

/// The pacer against the SDK's adaptive retry mode, on the same site outage, in this run.
pub fn adaptive_rows(default: &Outage, adaptive: &Outage) -> Vec<Row> {
    let (_, _, d_spread) = default.spread();
    let (_, _, a_spread) = adaptive.spread();
    vec![info(
        format!("  SDK adaptive vs pacer only, {} × {}", default.gateways, default.tapes),
        format!(
            "total {:.2} s vs {:.2} s ({:.2}×); spread first–last gateway {:.1} s vs {:.1} s; throttled answers {} vs {}; pacer throttles seen {} vs {}",
            adaptive.total,
            default.total,
            adaptive.total / default.total,
            a_spread,
            d_spread,
            adaptive.calls.sgw_throttled,
            default.calls.sgw_throttled,
            adaptive.pacer_throttles,
            default.pacer_throttles
        ),
    )]
}

/// A function's environment variables.
type Env = Vec<(&'static str, String)>;

/// Exec to the first `GET /next`, for the echo floor and both functions, interleaved.
pub async fn cold(b: &Built, rounds: usize) -> Result<Vec<Row>, String> {
    say(format!("cold start: exec to first GET /next, {rounds} rounds of echo, gateway-monitor, recover-gateway"));
    let lab = Lab::start(fleets::one_gateway(5)).await;
    let subjects: [(&str, &Path, Env); 3] = [
        ("echo", b.echo.as_path(), env(&lab, Function::Recover, &[])),
        ("gateway-monitor", b.monitor.as_path(), env(&lab, Function::Monitor, &[])),
        ("recover-gateway", b.recover.as_path(), env(&lab, Function::Recover, &[])),
    ];
    let mut samples: [Vec<f64>; 3] = [vec![], vec![], vec![]];
    // One start each first, not counted: the binaries into the page cache.
    for round in 0..=rounds {
        for k in 0..3 {
            let i = (round + k) % 3;
            let (name, binary, env) = &subjects[i];
            let ms = cold_once(&lab, name, binary, env).await?;
            if round > 0 {
                samples[i].push(ms);
            }
        }
    }
    let [echo, monitor, recover] = samples.map(stats);
    let floor = echo.median;
    let mut rows = vec![info("Cold start floor: bare lambda_runtime echo, exec to first GET /next", echo.ms())];
    for (name, s) in [("gateway-monitor", monitor), ("recover-gateway", recover)] {
        let mut r = ratio_row(
            format!("Cold start of {name}, exec to first GET /next"),
            s.ms(),
            format!("floor + 2 ms = {:.2} ms", floor + 2.0),
            s.median / (floor + 2.0),
            lower_is_better(1.0),
        );
        r.measured.push_str(&format!("; floor + {:.2} ms", s.median - floor));
        rows.push(r);
    }
    Ok(rows)
}

async fn cold_once(lab: &Lab, name: &str, binary: &Path, env: &[(&'static str, String)]) -> Result<f64, String> {
    use tests::local_lambda::{FunctionProcess, LocalFunction};
    let function = LocalFunction::start(name, REGION, ACCOUNT, Duration::from_secs(60))
        .await
        .map_err(|e| format!("local Lambda: {e}"))?;
    let spawned = Instant::now();
    let mut process = FunctionProcess::spawn(binary, &function, &lab.sim.url(), REGION, env, None)
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let ready = function.wait_ready(Duration::from_secs(20)).await;
    let ms = function.first_poll().map(|t| t.duration_since(spawned).as_secs_f64() * 1000.0);
    process.kill().await;
    match (ready, ms) {
        (true, Some(ms)) => Ok(ms),
        _ => Err(format!("{name} did not ask for work within 20 s")),
    }
}

fn scheduled_event(n: u64) -> Value {
    json!({
        "version": "0", "id": format!("5c1e0c5e-0000-4000-8000-{n:012}"), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT, "time": "2026-12-01T10:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/gateway-monitor-sweep")], "detail": {}
    })
}

/// A gateway loses its connection; the 5-minute schedule fires at once (and every 5
/// minutes after); the re-probe queue brings it back at the grace period's end.
pub async fn hand_off(b: &Built, grace: u64, runs: usize) -> Result<Vec<Row>, String> {
    say(format!(
        "hand-off: grace G = {grace} s, schedule every 5 min (fires at the start), re-probe queue, {runs} runs"
    ));
    let mut rows = Vec::new();
    for i in 0..runs {
        let lab = lab(fleets::hand_off(), faults(L_MS, None)).await?;
        let queue_url = format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{}", fleets::QUEUE);
        let extra = [("OFFLINE_GRACE_SECONDS", grace.to_string()), ("REPROBE_QUEUE_URL", queue_url)];
        let monitor =
            start(&lab, Function::Monitor, &b.monitor, &env(&lab, Function::Monitor, &extra), &format!("hand-off-{i}"))
                .await?;
        if !lab.sim.set_queue_delivery(fleets::QUEUE, Some(monitor.function.invoke_url())) {
            return Err(format!("the simulator has no queue {}", fleets::QUEUE));
        }
        let lost_at = now_ms();
        lab.sim.set_connected(PRIMARY, false);
        let schedule = async {
            for n in 0.. {
                let answer = invoke(&monitor, &scheduled_event(n), Duration::from_secs(120)).await;
                if let Err(e) = answer {
                    say(format!("   scheduled sweep {n} failed: {e}"));
                }
                tokio::time::sleep(Duration::from_secs(300)).await;
            }
        };
        let watch = async {
            let give_up = Instant::now() + Duration::from_secs(grace + 120);
            while Instant::now() < give_up {
                let published = lab
                    .published("gateway-recovery")
                    .into_iter()
                    .find(|m| serde_json::from_str::<Value>(&m.message).is_ok_and(|v| v["type"] == "GatewayOffline"));
                if let Some(m) = published {
                    return Some(m.published_at);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None
        };
        let handed_off = tokio::select! {
            at = watch => at,
            () = schedule => None,
        };
        let Some(at) = handed_off else {
            return Err(format!("no hand-off within G + 120 s (grace {grace} s)"));
        };
        let secs = at.saturating_sub(lost_at) as f64 / 1000.0;
        let calls = calls_since(&lab, lost_at);
        say(format!(
            "   hand-off {secs:.2} s after the loss (G + {:.2} s); {} SQS calls",
            secs - grace as f64,
            calls.sqs
        ));
        let mut r = ratio_row(
            format!("Connection lost to hand-off, G = {grace} s, 5-minute schedule, re-probe queue"),
            format!("{secs:.2} s = G + {:.2} s", secs - grace as f64),
            format!("G + 10 s = {} s", grace + 10),
            secs / (grace + 10) as f64,
            lower_is_better(1.0),
        );
        r.measured.push_str(&format!(" ({} SQS calls)", calls.sqs));
        rows.push(r);
    }
    Ok(rows)
}

/// The readiness check of 1,000 watched gateways (10 tapes each, 10 shared standbys).
pub async fn readiness(b: &Built, runs: usize) -> Result<Vec<Row>, String> {
    say(format!("readiness: 1,000 watched tape gateways × 10 tapes, 10 standbys, L = {L_MS} ms, {runs} runs"));
    let (mut times, mut last) = (Vec::new(), None);
    for i in 0..runs {
        let lab = lab(fleets::readiness(1000, 10, 10), faults(L_MS, None)).await?;
        let m =
            start(&lab, Function::Monitor, &b.monitor, &env(&lab, Function::Monitor, &[]), &format!("readiness-{i}"))
                .await?;
        let t0 = now_ms();
        let t = Instant::now();
        let answer = invoke(&m, &json!({"action": "readiness"}), LONG).await?;
        let secs = t.elapsed().as_secs_f64();
        let calls = calls_since(&lab, t0);
        let ready = answer["ready"].as_u64().unwrap_or(0);
        if ready != 1000 {
            return Err(format!(
                "readiness found {ready} of 1,000 ready (not ready: {}; errors {})",
                answer["notReady"], answer["errors"]
            ));
        }
        say(format!("   {secs:.2} s; {} Storage Gateway calls, {} ledger, {} SNS", calls.sgw, calls.ledger, calls.sns));
        times.push(secs);
        last = Some(calls);
    }
    let s: Stats = stats(times);
    let c = last.ok_or("no run")?;
    Ok(vec![info(
        "Readiness check of 1,000 watched gateways (10 tapes each, 10 shared standbys), L = 50 ms, one invocation",
        format!(
            "{}; 1,000/1,000 ready; {} Storage Gateway calls, {} ledger calls, {} SNS",
            s.secs(),
            c.sgw,
            c.ledger,
            c.sns
        ),
    )])
}

/// A scheduled sweep of 1,000 watched gateways (and the generated pair), all online: the
/// first on an empty ledger, then the steady state.
pub async fn sweep(b: &Built, runs: usize) -> Result<Vec<Row>, String> {
    say(format!("sweep: 1,000 watched gateways (+ the generated pair), all online, L = {L_MS} ms, {runs} runs"));
    let (mut first, mut steady, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let lab = lab(fleets::sweep(1000), faults(L_MS, None)).await?;
        let m = start(&lab, Function::Monitor, &b.monitor, &env(&lab, Function::Monitor, &[]), &format!("sweep-{i}"))
            .await?;
        for n in 0..2u64 {
            let t0 = now_ms();
            let t = Instant::now();
            let answer = invoke(&m, &scheduled_event(n), Duration::from_secs(120)).await?;
            let secs = t.elapsed().as_secs_f64();
            if answer["checked"].as_u64() != Some(1001) {
                return Err(format!("the sweep checked {} of 1,001 watched gateways", answer["checked"]));
            }
            let c = calls_since(&lab, t0);
            say(format!(
                "   sweep {n}: {secs:.2} s; {} Storage Gateway calls ({} ListGateways pages), {} ledger",
                c.sgw, c.list_gateways_pages, c.ledger
            ));
            if n == 0 {
                first.push(secs)
            } else {
                steady.push(secs)
            }
            calls.push((n, c));
        }
    }
    let pick = |n: u64| calls.iter().rev().find(|(k, _)| *k == n).map(|(_, c)| *c).unwrap_or_default();
    let (c0, c1) = (pick(0), pick(1));
    let reference = (c1.list_gateways_pages + 1001usize.div_ceil(C)) as f64 * L;
    Ok(vec![
        info(
            "Sweep of 1,000 watched gateways, all online, L = 50 ms (steady state: the second sweep)",
            format!(
                "{}; {} ledger calls; {} Storage Gateway calls ({} ListGateways pages); reference {reference:.2} s = ({} pages + ⌈1001/64⌉) L",
                stats(steady).secs(),
                c1.ledger,
                c1.sgw,
                c1.list_gateways_pages,
                c1.list_gateways_pages
            ),
        ),
        info(
            "  the first sweep (empty ledger)",
            format!("{}; {} ledger calls; {} Storage Gateway calls", stats(first).secs(), c0.ledger, c0.sgw),
        ),
    ])
}
