//! The worst day of the quarter: API faults, crashes, duplicate deliveries, flaps, and a
//! standby that fails mid-run, all on the ledger. Each test prints the figures
//! RELIABILITY.md reports (`cargo test -p tests --test e2e reliability -- --nocapture`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::memory::ManualClock;
use shared::recover::Status;
use tests::local_lambda::{FunctionProcess, LocalFunction, Outcome};
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY};
use tests::simulator::{FaultConfig, FaultSpec};
use tests::{ACCOUNT, Function, Lab, REGION, T0, binaries, direct, function_env, gateway_arn, hand_off, latency};

/// The standby holds each of the failed gateway's tapes exactly once, RECOVERED.
pub fn assert_every_tape_once_on_the_standby(lab: &Lab, tapes: usize) {
    let on = lab.tapes_on(STANDBY);
    let mut seen = BTreeMap::new();
    for (barcode, status) in &on {
        assert_eq!(status, "RECOVERED", "{barcode}");
        *seen.entry(barcode.clone()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), tapes, "every tape is on the standby");
    assert!(seen.values().all(|n| *n == 1));
    // The recovery points say the same: each retrieved once, to the standby.
    let retrieved =
        lab.sim.with_world(|w| w.tape_recovery_points.values().filter(|r| r.retrieved_to.is_some()).count());
    assert_eq!(retrieved, tapes);
}

/// Retrievals AWS refused because the tape had already been retrieved: duplicate work.
pub fn duplicate_retrievals(lab: &Lab) -> usize {
    lab.sim
        .calls()
        .iter()
        .filter(|c| c.operation == "RetrieveTapeRecoveryPoint" && c.error_code() == Some("InvalidParameters"))
        .count()
}

#[tokio::test]
async fn api_faults_lose_nothing_and_retrieve_each_tape_once() {
    for seed in [1, 2, 3] {
        let lab = Lab::generated(FleetShape { tapes: 1500, ..Default::default() }).await;
        lab.sim
            .set_faults(FaultConfig {
                seed: Some(seed),
                global: FaultSpec {
                    latency_ms: 1,
                    jitter_ms: 4,
                    error_rate: 0.1,
                    throttle_rate: 0.1,
                    drop_rate: 0.02,
                    drop_response_rate: 0.02,
                    ..Default::default()
                },
                ..Default::default()
            })
            .unwrap();
        let t = Instant::now();
        let report = lab.recover(direct(PRIMARY)).await;
        let calls = lab.sim.calls();
        let faults: BTreeMap<String, usize> = calls.iter().filter(|c| !c.ok()).fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c.outcome.to_string()).or_default() += 1;
            m
        });
        eprintln!(
            "seed {seed}: {:?} in {:.1} s; {} calls, faults {faults:?}; tapes {:?}",
            report.status,
            t.elapsed().as_secs_f64(),
            calls.len(),
            report.tapes
        );
        assert_eq!(report.status, Status::Completed, "seed {seed}: {}", report.summary);
        assert_eq!(report.tapes.total, 1500);
        assert_eq!(report.tapes.done, 1500, "the report accounts for every tape as retrieved by this run");
        assert_every_tape_once_on_the_standby(&lab, 1500);
    }
}

/// One more instance of `recover-gateway` polling `function`.
fn start_recover(lab: &Lab, function: &LocalFunction) -> FunctionProcess {
    let env = function_env(lab, Function::Recover);
    FunctionProcess::spawn(&binaries().recover, function, &lab.sim.url(), REGION, &env, None).unwrap()
}

async fn recover_function() -> LocalFunction {
    LocalFunction::start("recover-gateway", REGION, ACCOUNT, Duration::from_secs(900)).await.unwrap()
}

#[tokio::test]
async fn a_run_killed_at_any_point_is_finished_by_the_next_one() {
    let event = json!({"failedGatewayArn": gateway_arn(PRIMARY)}).to_string();
    let trials = 20;
    let mut killed_after = Vec::new();
    for trial in 0..trials {
        let lab = Lab::generated(FleetShape { tapes: 1500, ..Default::default() }).await;
        lab.sim
            .set_faults(FaultConfig {
                seed: Some(trial),
                global: FaultSpec { latency_ms: 2, jitter_ms: 4, ..Default::default() },
                ..Default::default()
            })
            .unwrap();
        let function = recover_function().await;
        let mut first = start_recover(&lab, &function);
        assert!(function.wait_ready(Duration::from_secs(20)).await);
        function.invoke_async(event.clone());
        // Kill it somewhere between its first call and its last retrieval.
        let at = fastrand::Rng::with_seed(trial).u64(0..1500);
        loop {
            let retrieved = lab.sim.applied("RetrieveTapeRecoveryPoint").len() as u64;
            if retrieved >= at || lab.sim.calls().len() as u64 > 1600 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        first.kill().await;
        let before = lab.sim.applied("RetrieveTapeRecoveryPoint").len();
        killed_after.push(before);
        // A new instance, a new invocation.
        let second_fn = recover_function().await;
        let _second = start_recover(&lab, &second_fn);
        let answer = second_fn.invoke(event.clone(), Duration::from_secs(300)).await;
        let Some(Outcome::Response(body)) = answer else { panic!("trial {trial}: {answer:?}") };
        let report: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(report["status"], "completed", "trial {trial}: {}", report["summary"]);
        let done = report["tapes"]["done"].as_u64().unwrap() as usize;
        let already = report["tapes"]["alreadyDone"].as_u64().unwrap() as usize;
        assert_eq!(done + already, 1500, "trial {trial}: every tape accounted for");
        assert!(already >= before, "trial {trial}: what the killed run did is found on the standby");
        assert_every_tape_once_on_the_standby(&lab, 1500);
        assert_eq!(duplicate_retrievals(&lab), 0, "trial {trial}: no tape was retrieved twice, nor even asked twice");
    }
    eprintln!("killed after {killed_after:?} retrievals; every rerun completed");
}

#[tokio::test]
async fn two_concurrent_invocations_and_a_late_replay_duplicate_nothing() {
    let lab = Lab::generated(FleetShape { tapes: 600, ..Default::default() }).await;
    lab.sim.set_faults(latency(5)).unwrap();
    let event = serde_json::to_string(&hand_off()).unwrap();
    // One function, two instances polling it: SNS delivered the hand-off twice at once.
    let function = recover_function().await;
    let _a = start_recover(&lab, &function);
    let _b = start_recover(&lab, &function);
    let (ra, rb) = tokio::join!(
        function.invoke(event.clone(), Duration::from_secs(300)),
        function.invoke(event.clone(), Duration::from_secs(300))
    );
    let reports: Vec<Value> = [ra, rb]
        .into_iter()
        .map(|r| match r {
            Some(Outcome::Response(b)) => serde_json::from_slice(&b).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_every_tape_once_on_the_standby(&lab, 600);
    let mut statuses: Vec<&str> = reports.iter().map(|r| r["status"].as_str().unwrap()).collect();
    statuses.sort();
    eprintln!(
        "concurrent duplicates: statuses {statuses:?}, retrieved {:?}, duplicate retrieval attempts {}",
        reports.iter().map(|r| &r["tapes"]["done"]).collect::<Vec<_>>(),
        duplicate_retrievals(&lab)
    );
    // One run does the work; the other finds the lease and leaves it to the first (or, if
    // the first finished while it waited, finds the outage recovered), without a report.
    assert!(statuses == ["completed", "duplicate"] || statuses == ["already-completed", "completed"], "{statuses:?}");
    let done: u64 = reports.iter().map(|r| r["tapes"]["done"].as_u64().unwrap_or(0)).sum();
    assert_eq!(done, 600);
    assert_eq!(duplicate_retrievals(&lab), 0, "no error storm: no retrieval was attempted twice");
    assert_eq!(lab.sim.applied("DisableGateway").len(), 1, "disabled once");
    let reports_published =
        lab.sim.messages().iter().filter(|m| m.subject.as_deref().is_some_and(|s| s.starts_with("Recovered"))).count();
    assert_eq!(reports_published, 1, "one report, no conflicting second one");
    // The hand-off replayed after completion does nothing and reports nothing.
    let published = lab.sim.messages().len();
    let replay = function.invoke(event, Duration::from_secs(60)).await;
    let Some(Outcome::Response(b)) = replay else { panic!("{replay:?}") };
    let r: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(r["status"], "already-completed");
    assert_eq!(lab.sim.messages().len(), published);
}

#[tokio::test]
async fn a_thousand_flaps_never_hand_off_and_a_real_outage_hands_off_once() {
    let lab = Lab::generated(FleetShape { tapes: 1, gateways: 0, ..Default::default() }).await;
    let clock = ManualClock::at(T0);
    let cycles = 1000;
    for _ in 0..cycles {
        // Down for 14 minutes (three sweeps), back for one sweep.
        lab.sim.set_connected(PRIMARY, false);
        for _ in 0..3 {
            lab.sweep(&clock).await;
            clock.advance_secs(280);
        }
        lab.sim.set_connected(PRIMARY, true);
        lab.sweep(&clock).await;
        clock.advance_secs(60);
    }
    assert!(lab.hand_offs().is_empty());
    assert!(lab.sim.applied("DisableGateway").is_empty());
    let flaps_calls = lab.sim.calls().len();
    lab.sim.set_connected(PRIMARY, false);
    for _ in 0..10 {
        lab.sweep(&clock).await;
        clock.advance_secs(300);
    }
    assert_eq!(lab.hand_offs().len(), 1);
    eprintln!(
        "{cycles} flaps ({flaps_calls} API calls): 0 hand-offs, 0 DisableGateway; then a real outage: 1 hand-off"
    );
}

#[tokio::test]
async fn a_standby_that_goes_offline_mid_run_stops_it_cleanly_and_a_later_run_finishes() {
    let lab = Lab::generated(FleetShape { tapes: 1500, ..Default::default() }).await;
    lab.sim.set_faults(latency(2)).unwrap();
    let lab_ref = &lab;
    let pull_the_plug = async {
        while lab_ref.sim.applied("RetrieveTapeRecoveryPoint").len() < 500 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        lab_ref.sim.set_connected(STANDBY, false);
    };
    let (report, ()) = tokio::join!(lab.recover(direct(PRIMARY)), pull_the_plug);
    assert_eq!(report.status, Status::Partial, "{}", report.summary);
    assert!(report.summary.contains("GatewayNotConnected"), "{}", report.summary);
    assert!(report.retryable);
    let t = report.tapes;
    assert_eq!(t.done + t.failed + t.pending, 1500, "what was done and what remains: {t:?}");
    assert!(t.done >= 500 && t.pending > 0, "{t:?}");
    let body = lab.sim.messages().last().unwrap().message.clone();
    assert!(body.contains("not attempted yet"), "{body}");
    // The failures are standby-wide, so the run stopped instead of hammering it.
    // Retrievals refused: at most the calls in flight (the window's ceiling, 64).
    let calls = lab.sim.calls();
    let refused =
        |op: &str| calls.iter().filter(|c| c.operation == op && c.error_code() == Some("GatewayNotConnected")).count();
    let retrievals = refused("RetrieveTapeRecoveryPoint");
    eprintln!(
        "standby offline: {retrievals} retrievals refused, {} standby reads refused after it went away",
        refused("DescribeTapes") + refused("ListTapes")
    );
    assert!(retrievals <= 64, "{retrievals} retrievals after the standby went away");
    lab.sim.set_connected(STANDBY, true);
    let later = lab.recover(direct(PRIMARY)).await;
    assert_eq!(later.status, Status::Completed, "{}", later.summary);
    assert_eq!(later.tapes.done + later.tapes.already_done, 1500);
    assert_every_tape_once_on_the_standby(&lab, 1500);
}

#[tokio::test]
async fn a_standby_that_fills_up_mid_run_stops_it_cleanly_and_a_later_run_finishes_elsewhere() {
    let lab = Lab::generated(FleetShape { tapes: 300, standby_tapes: 1000, ..Default::default() }).await;
    lab.sim.set_faults(latency(2)).unwrap();
    let lab_ref = &lab;
    // Someone else creates tapes on the standby while the recovery runs.
    let fill = async {
        while lab_ref.sim.applied("RetrieveTapeRecoveryPoint").len() < 100 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        lab_ref.sim.add_tapes(STANDBY, 1500).unwrap();
    };
    let (report, ()) = tokio::join!(lab.recover(direct(PRIMARY)), fill);
    assert_eq!(report.status, Status::Partial, "{}", report.summary);
    assert!(report.summary.contains("MaximumTapeCartridgeCountExceeded"), "{}", report.summary);
    let t = report.tapes;
    assert_eq!(t.total, 300);
    assert!(t.done >= 100 && t.pending > 0, "{t:?}");
    // A rerun to the same, full, standby is refused before doing anything.
    let before = lab.sim.calls().len();
    let again = lab.recover(direct(PRIMARY)).await;
    assert_eq!(again.status, Status::Refused);
    assert!(again.summary.contains("1500-tape limit"), "{}", again.summary);
    // Nothing changed on AWS (the ledger's run record and the report are written, as always).
    let changed: Vec<String> = lab
        .sim
        .calls()
        .into_iter()
        .skip(before)
        .filter(|c| c.mutating && c.service == tests::simulator::Service::StorageGateway)
        .map(|c| c.operation)
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
}

#[tokio::test]
async fn a_listing_throttled_part_way_is_read_again_and_nothing_is_missed() {
    let mut lab = Lab::generated(FleetShape { tapes: 400, ..Default::default() }).await;
    // Clients that give up on a page quickly, so the run has to ask for it again.
    let quick = aws_smithy_types::retry::RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(1));
    lab.clients = shared::aws::Clients::with_retry(&lab.sdk, quick);
    let mut faults = FaultConfig { seed: Some(11), ..Default::default() };
    faults
        .operations
        .insert("DescribeTapeRecoveryPoints".into(), FaultSpec { throttle_rate: 0.7, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let report = lab.recover(direct(PRIMARY)).await;
    let reads = lab.sim.calls().into_iter().filter(|c| c.operation == "DescribeTapeRecoveryPoints").collect::<Vec<_>>();
    let mut per_page: BTreeMap<String, usize> = BTreeMap::new();
    for c in &reads {
        *per_page.entry(c.param("Marker").unwrap_or("(first)").to_owned()).or_default() += 1;
    }
    let asked_again = per_page.values().filter(|n| **n > 2).count();
    eprintln!(
        "listing: {} page reads for {} pages, {asked_again} pages asked for again by the run; {:?}",
        reads.len(),
        per_page.len(),
        report.tapes
    );
    assert!(asked_again > 0, "the SDK's attempts ran out on some page and the run read it again: {per_page:?}");
    assert_eq!(per_page.len(), 4, "each page is read from where the listing was, not from the start");
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!(report.tapes.done, 400);
    assert_every_tape_once_on_the_standby(&lab, 400);
}

#[tokio::test]
async fn a_gateway_that_comes_back_during_a_slow_read_is_asked_again_and_not_disabled() {
    let lab = Lab::generated(FleetShape { tapes: 50, standby_tapes: 1, ..Default::default() }).await;
    // The first read is slow (the standby's tapes take 2 s), and meanwhile the gateway returns.
    let mut faults = FaultConfig::default();
    faults.operations.insert("DescribeTapes".into(), FaultSpec { latency_ms: 2000, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let lab_ref = &lab;
    let comes_back = async {
        while !lab_ref.sim.calls().iter().any(|c| c.operation == "DescribeGatewayInformation" && !c.ok()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lab_ref.sim.set_connected(PRIMARY, true);
    };
    let config = shared::config::RecoverConfig { reconfirm_after: Duration::from_secs(1), ..lab.recover_config() };
    let (report, ()) = tokio::join!(lab.recover_with(&config, direct(PRIMARY), Duration::from_secs(60)), comes_back);
    assert_eq!(report.status, Status::NotFailed, "{}", report.summary);
    assert!(report.summary.contains("came back"), "{}", report.summary);
    assert!(lab.sim.applied("DisableGateway").is_empty(), "a gateway that came back is never disabled");
    assert!(lab.sim.applied("RetrieveTapeRecoveryPoint").is_empty());
}

#[tokio::test]
async fn a_duplicate_delivered_a_moment_later_finds_the_lease_and_leaves_the_work() {
    let req = shared::recover::decode_event(&serde_json::to_value(hand_off()).unwrap()).unwrap().remove(0);
    for delay_ms in [30u64, 150, 600] {
        let lab = Lab::generated(FleetShape { tapes: 600, ..Default::default() }).await;
        lab.sim.set_faults(latency(5)).unwrap();
        let later = async {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            lab.recover(req.clone()).await
        };
        let (a, b) = tokio::join!(lab.recover(req.clone()), later);
        let mut statuses = vec![a.status.as_str(), b.status.as_str()];
        statuses.sort();
        eprintln!(
            "duplicate {delay_ms} ms later: {statuses:?}, duplicate retrieval attempts {}",
            duplicate_retrievals(&lab)
        );
        assert!(
            statuses == ["completed", "duplicate"] || statuses == ["already-completed", "completed"],
            "{statuses:?}"
        );
        assert_every_tape_once_on_the_standby(&lab, 600);
        assert_eq!(duplicate_retrievals(&lab), 0, "{delay_ms} ms: no retrieval asked twice");
        assert_eq!(lab.sim.applied("DisableGateway").len(), 1);
        let reports = lab
            .sim
            .messages()
            .iter()
            .filter(|m| m.subject.as_deref().is_some_and(|s| s.starts_with("Recovered")))
            .count();
        assert_eq!(reports, 1, "{delay_ms} ms: one report");
        let audits =
            lab.sim.messages().iter().filter(|m| m.subject.as_deref().is_some_and(|s| s.starts_with("AUDIT"))).count();
        assert_eq!(audits, 1, "{delay_ms} ms: one audit record");
    }
}
