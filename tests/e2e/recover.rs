//! `recover-gateway`'s domain, end to end: the real SDK over HTTP against the simulator.

use std::time::{Duration, Instant};

use shared::aws::SystemClock;
use shared::config::{DisablePolicy, RecoverConfig};
use shared::deadline::Budget;
use shared::recover::report::Outcome;
use shared::recover::{Recovery, RecoveryReport, RecoveryRequest, Source, Status, decode_event};
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUMES};
use tests::simulator::{FaultConfig, FaultSpec, Fleet};
use tests::{Lab, gateway, recover_config};

pub fn direct(failed: &str) -> RecoveryRequest {
    RecoveryRequest {
        failed: gateway(failed),
        standby: None,
        dry_run: false,
        approve_disable: false,
        source: Source::Direct,
    }
}

/// The hand-off `gateway-monitor` publishes for `tape-primary`'s outage at 10:00.
pub fn hand_off() -> shared::handoff::GatewayOffline {
    shared::handoff::GatewayOffline::new(
        &gateway(PRIMARY),
        "tape-primary",
        shared::model::GatewayKind::Tape,
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:15:00Z",
    )
}

pub async fn run_with(lab: &Lab, config: &RecoverConfig, req: RecoveryRequest, budget: Budget) -> RecoveryReport {
    static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    // Every invocation has its own request id, as in Lambda (the lease is keyed by it).
    let request_id = format!("test-request-{}", REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let recovery =
        Recovery { gateway: &lab.clients.gateway, notifier: &lab.clients.notifier, clock: &SystemClock, config };
    recovery.run(req, budget, &request_id).await
}

pub async fn run(lab: &Lab, req: RecoveryRequest) -> RecoveryReport {
    run_with(lab, &recover_config(), req, Budget::after(Duration::from_secs(600))).await
}

/// Mutating Storage Gateway calls the simulator applied.
pub fn mutations(lab: &Lab) -> Vec<String> {
    lab.sim
        .calls()
        .into_iter()
        .filter(|c| c.mutating && c.service == tests::simulator::Service::StorageGateway)
        .map(|c| c.operation)
        .collect()
}

pub fn count(lab: &Lab, op: &str) -> usize {
    lab.sim.applied(op).len()
}

/// Barcodes on a gateway, with each one's status.
pub fn tapes_on(lab: &Lab, id: &str) -> Vec<(String, String)> {
    let arn = gateway(id).to_string();
    lab.sim.with_world(|w| {
        w.tapes
            .values()
            .filter(|t| t.gateway_arn.as_deref() == Some(arn.as_str()))
            .map(|t| (t.barcode.clone(), t.status.clone()))
            .collect()
    })
}

/// Simulated latency on every Storage Gateway call.
pub fn latency(ms: u64) -> FaultConfig {
    FaultConfig { global: FaultSpec { latency_ms: ms, ..Default::default() }, ..Default::default() }
}

#[tokio::test]
async fn a_full_tape_gateway_is_recovered_completely_and_a_second_run_does_nothing_new() {
    let lab = Lab::generated(FleetShape { tapes: 1500, ..Default::default() }).await;
    lab.sim.set_faults(latency(50)).unwrap();
    let t = Instant::now();
    let report = run(&lab, direct(PRIMARY)).await;
    let wall = t.elapsed();
    eprintln!("1,500 tapes at 50 ms simulated latency: {:.2} s", wall.as_secs_f64());
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.tapes.total, report.tapes.done, report.tapes.failed), (1500, 1500, 0));
    let on_standby = tapes_on(&lab, STANDBY);
    assert_eq!(on_standby.len(), 1500);
    assert!(on_standby.iter().all(|(_, s)| s == "RECOVERED"));
    assert_eq!(count(&lab, "RetrieveTapeRecoveryPoint"), 1500, "each tape retrieved exactly once");
    assert_eq!(count(&lab, "DisableGateway"), 1);
    // The audit record went out before the irreversible call.
    let calls = lab.sim.calls();
    let audit = calls.iter().position(|c| c.param("Subject").is_some_and(|s| s.starts_with("AUDIT"))).unwrap();
    let disable = calls.iter().position(|c| c.operation == "DisableGateway").unwrap();
    assert!(audit < disable);
    let report_msg = lab.sim.messages().into_iter().last().unwrap();
    assert_eq!(
        report_msg.subject.as_deref(),
        Some(format!("Recovered 1500/1500 tapes from {PRIMARY} to {STANDBY}").as_str())
    );
    assert!(report_msg.message.contains("retrieved                 1500"), "{}", report_msg.message);

    lab.sim.set_faults(FaultConfig::default()).unwrap();
    let before = lab.sim.calls().len();
    let again = run(&lab, direct(PRIMARY)).await;
    assert_eq!(again.status, Status::Completed);
    assert_eq!((again.tapes.done, again.tapes.already_done), (0, 1500));
    let new_calls: Vec<_> = lab.sim.calls().into_iter().skip(before).collect();
    assert!(
        !new_calls.iter().any(|c| c.operation == "RetrieveTapeRecoveryPoint" || c.operation == "DisableGateway"),
        "a rerun does no duplicate work"
    );
}

#[tokio::test]
async fn a_run_cut_by_the_deadline_continues_and_the_last_report_covers_everything() {
    let lab = Lab::generated(FleetShape { tapes: 300, ..Default::default() }).await;
    lab.sim.set_faults(latency(20)).unwrap();
    let config = RecoverConfig { max_concurrency: 4, ..recover_config() };
    let mut req = direct(PRIMARY);
    let mut slices = 0;
    let last = loop {
        slices += 1;
        let report = run_with(&lab, &config, req, Budget::after(Duration::from_millis(400))).await;
        if report.status != Status::Continued {
            break report;
        }
        assert!(report.tapes.pending > 0);
        // The continuation is on the recovery topic, as the next invocation receives it.
        let m = lab.sim.messages().into_iter().rev().find(|m| m.topic_arn.ends_with(":gateway-recovery")).unwrap();
        let event: serde_json::Value = serde_json::from_str(&m.message).unwrap();
        req = decode_event(&event).unwrap().remove(0);
        assert!(matches!(req.source, Source::Continuation(_)));
        assert!(slices < 40, "no progress");
    };
    assert!(slices > 1, "the budget should have cut the first run");
    assert_eq!(last.status, Status::Completed, "{}", last.summary);
    assert_eq!(last.slice, slices);
    assert_eq!(
        (last.tapes.total, last.tapes.done, last.tapes.already_done),
        (300, 300, 0),
        "the last report covers all slices"
    );
    assert_eq!(count(&lab, "RetrieveTapeRecoveryPoint"), 300);
    assert_eq!(count(&lab, "DisableGateway"), 1);
    assert_eq!(last.disable.as_ref().map(|d| d.action.as_str()), Some("disabled"));
    assert!(last.total_duration_ms >= last.duration_ms);
}

#[tokio::test]
async fn under_the_tagged_policy_an_untagged_gateway_waits_for_approval() {
    let lab = Lab::generated(FleetShape { tapes: 20, auto_disable: false, ..Default::default() }).await;
    let report = run(&lab, direct(PRIMARY)).await;
    assert_eq!(report.status, Status::AwaitingApproval, "{}", report.summary);
    assert!(mutations(&lab).is_empty(), "{:?}", mutations(&lab));
    let approval = report.approval.clone().unwrap();
    assert_eq!(approval["approveDisable"], true);
    assert_eq!(approval["failedGatewayArn"], gateway(PRIMARY).to_string());
    let body = lab.sim.messages().last().unwrap().message.clone();
    assert!(body.contains("\"approveDisable\":true"), "the report carries the exact approval payload: {body}");
    // The operator approves with exactly that payload.
    let req = decode_event(&approval).unwrap().remove(0);
    let done = run(&lab, req).await;
    assert_eq!(done.status, Status::Completed);
    assert_eq!(done.tapes.done, 20);
    assert_eq!(count(&lab, "DisableGateway"), 1);
}

#[tokio::test]
async fn under_the_approval_policy_even_a_tagged_gateway_waits_for_an_operator() {
    let lab = Lab::generated(FleetShape { tapes: 5, auto_disable: true, ..Default::default() }).await;
    let config = RecoverConfig { disable_policy: DisablePolicy::Approval, ..recover_config() };
    let report = run_with(&lab, &config, direct(PRIMARY), Budget::after(Duration::from_secs(60))).await;
    assert_eq!(report.status, Status::AwaitingApproval);
    assert!(mutations(&lab).is_empty());
    let approved = RecoveryRequest { approve_disable: true, ..direct(PRIMARY) };
    let done = run_with(&lab, &config, approved, Budget::after(Duration::from_secs(60))).await;
    assert_eq!(done.status, Status::Completed);
    assert_eq!(count(&lab, "DisableGateway"), 1);
}

#[tokio::test]
async fn a_healthy_gateway_is_refused_without_a_single_change() {
    let lab = Lab::generated(FleetShape { tapes: 5, failed_offline: false, ..Default::default() }).await;
    let report = run(&lab, RecoveryRequest { approve_disable: true, ..direct(PRIMARY) }).await;
    assert_eq!(report.status, Status::NotFailed);
    assert!(mutations(&lab).is_empty());
    assert_eq!(
        lab.sim.messages().last().unwrap().subject.as_deref(),
        Some(format!("Not recovering {PRIMARY}: it is online").as_str())
    );
}

#[tokio::test]
async fn bad_standbys_are_refused_before_any_change() {
    // (standby, how to break it, what the refusal says)
    type Breakage = Box<dyn Fn(&Lab)>;
    let cases: Vec<(&str, Breakage, &str)> = vec![
        (
            VOLUMES,
            Box::new(|lab| {
                lab.sim.set_connected(VOLUMES, true);
            }),
            "not a tape gateway",
        ),
        (
            STANDBY,
            Box::new(|lab| {
                lab.sim.set_connected(STANDBY, false);
            }),
            "not connected",
        ),
        (
            STANDBY,
            Box::new(|lab| {
                lab.sim.add_tapes(STANDBY, 1495).unwrap();
            }),
            "1500-tape limit",
        ),
        (PRIMARY, Box::new(|_| {}), "failed gateway itself"),
        ("sgw-FFFFFFFF", Box::new(|_| {}), "does not exist"),
    ];
    for (standby, breakage, reason) in cases {
        let lab = Lab::generated(FleetShape { tapes: 10, volumes: 1, ..Default::default() }).await;
        breakage(&lab);
        let req = RecoveryRequest { standby: Some(gateway(standby)), ..direct(PRIMARY) };
        let report = run(&lab, req).await;
        assert_eq!(report.status, Status::Refused, "{standby}: {}", report.summary);
        assert!(report.summary.contains(reason), "{standby}: {}", report.summary);
        assert!(mutations(&lab).is_empty(), "{standby}: {:?}", mutations(&lab));
    }
}

#[tokio::test]
async fn a_standby_named_by_a_bad_tag_is_refused_without_calling_aws_with_it() {
    let mut fleet = tests::simulator::generate::generate(&FleetShape { tapes: 3, ..Default::default() });
    fleet.gateways[0].tags.insert("recovery:standby-gateway".into(), "sgw-23B4567C".into());
    let lab = Lab::start(fleet).await;
    let report = run(&lab, direct(PRIMARY)).await;
    assert_eq!(report.status, Status::Refused);
    assert!(report.summary.contains("tag recovery:standby-gateway"), "{}", report.summary);
    assert!(lab.sim.calls().iter().all(|c| c.params.values().all(|v| v != "sgw-23B4567C")));
}

#[tokio::test]
async fn the_standby_comes_from_the_event_then_the_tag_then_the_environment() {
    let mut fleet: Fleet = tests::simulator::generate::generate(&FleetShape { tapes: 2, ..Default::default() });
    fleet.gateways[0].tags.remove("recovery:standby-gateway");
    let lab = Lab::start(fleet).await;
    let refused = run(&lab, direct(PRIMARY)).await;
    assert!(refused.summary.contains("STANDBY_GATEWAY_ARN"), "{}", refused.summary);
    let config = RecoverConfig { standby: Some(gateway(STANDBY)), ..recover_config() };
    let report = run_with(&lab, &config, direct(PRIMARY), Budget::after(Duration::from_secs(60))).await;
    assert_eq!(report.status, Status::Completed);
    assert_eq!(report.standby_gateway, Some(gateway(STANDBY).to_string()));
}

#[tokio::test]
async fn a_dry_run_plans_everything_and_changes_nothing() {
    let lab = Lab::generated(FleetShape { tapes: 40, standby_tapes: 3, ..Default::default() }).await;
    let report = run(&lab, RecoveryRequest { dry_run: true, ..direct(PRIMARY) }).await;
    assert_eq!(report.status, Status::DryRun);
    assert_eq!(report.tapes.planned, 40);
    assert_eq!(report.disable.as_ref().unwrap().action, "would-disable");
    assert!(mutations(&lab).is_empty(), "{:?}", mutations(&lab));
    assert!(lab.sim.calls().iter().all(|c| !c.mutating || c.service == tests::simulator::Service::Sns));
}

#[tokio::test]
async fn cached_volumes_are_snapshotted_once_per_recovery_point() {
    let lab = Lab::generated(FleetShape { tapes: 0, volumes: 5, ..Default::default() }).await;
    let report = run(&lab, direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.volumes.total, report.volumes.done), (5, 5));
    let snapshots = lab.sim.with_world(|w| w.snapshots.clone());
    assert_eq!(snapshots.len(), 5);
    let s = &snapshots[0];
    assert!(s.description.contains(VOLUMES) && s.description.contains("2026-11-20T10:00:00.000Z"), "{}", s.description);
    assert!(s.tags.iter().any(|(k, v)| k == "recovery:source-gateway" && v.ends_with(VOLUMES)));
    assert!(s.tags.iter().any(|(k, _)| k == "recovery:source-volume"));
    assert_eq!(count(&lab, "DisableGateway"), 0, "volume recovery never disables");
    let again = run(&lab, direct(VOLUMES)).await;
    assert_eq!((again.volumes.done, again.volumes.already_done), (0, 5));
    assert_eq!(lab.sim.with_world(|w| w.snapshots.len()), 5, "no recovery point is snapshotted twice");
    assert!(again.volume_results.iter().all(|v| v.snapshot_id.is_some()));
}

#[tokio::test]
async fn injected_500s_and_throttling_are_survived_with_every_tape_accounted_for() {
    let lab = Lab::generated(FleetShape { tapes: 1500, ..Default::default() }).await;
    lab.sim
        .set_faults(FaultConfig {
            seed: Some(42),
            global: FaultSpec {
                error_rate: 0.1,
                throttle_rate: 0.1,
                latency_ms: 2,
                jitter_ms: 3,
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
    let report = run(&lab, direct(PRIMARY)).await;
    assert_eq!(report.tapes.total, 1500);
    assert_eq!(report.status, Status::Completed, "{} {:?}", report.summary, report.tapes);
    assert_eq!(
        report.tapes.done, 1500,
        "a retrieval whose answer was lost is confirmed on the standby and counted as done"
    );
    let on_standby = tapes_on(&lab, STANDBY);
    assert_eq!(on_standby.len(), 1500);
    assert_eq!(count(&lab, "RetrieveTapeRecoveryPoint"), 1500, "every tape retrieved exactly once");
}

#[tokio::test]
async fn a_replayed_hand_off_after_completion_does_nothing_and_reports_nothing() {
    let lab = Lab::generated(FleetShape { tapes: 10, ..Default::default() }).await;
    let message = hand_off();
    let req = decode_event(&serde_json::to_value(&message).unwrap()).unwrap().remove(0);
    let first = run(&lab, req.clone()).await;
    assert_eq!(first.status, Status::Completed);
    let published = lab.sim.messages().len();
    let before = lab.sim.calls().len();
    let replay = run(&lab, req).await;
    assert_eq!(replay.status, Status::AlreadyCompleted, "{}", replay.summary);
    assert_eq!(lab.sim.messages().len(), published, "no second report");
    assert!(lab.sim.calls().into_iter().skip(before).all(|c| !c.mutating));
}

#[tokio::test]
async fn the_report_names_every_failure_with_its_aws_code_and_one_failure_stops_no_other_tape() {
    let lab = Lab::generated(FleetShape { tapes: 30, gateways: 1, ..Default::default() }).await;
    // Someone already recovered two of the tapes to another gateway, by hand.
    let elsewhere = lab.sim.with_world(|w| w.gateways.values().find(|g| g.name == "fleet-00000").unwrap().arn.clone());
    for barcode in ["PRI000007", "PRI000019"] {
        lab.sim.with_world(|w| {
            let arn = tests::tape_arn(barcode);
            w.tape_recovery_points.get_mut(&arn).unwrap().retrieved_to = Some(elsewhere.clone());
            w.tapes.get_mut(&arn).unwrap().gateway_arn = Some(elsewhere.clone());
        });
    }
    let report = run(&lab, direct(PRIMARY)).await;
    assert_eq!(report.status, Status::Partial, "{}", report.summary);
    assert_eq!((report.tapes.total, report.tapes.done, report.tapes.failed), (30, 28, 2));
    let failed: Vec<_> = report.tape_results.iter().filter(|t| t.outcome == Outcome::Failed).collect();
    assert_eq!(
        failed.iter().map(|f| f.id.as_str()).collect::<std::collections::BTreeSet<_>>(),
        ["PRI000007", "PRI000019"].into()
    );
    assert!(failed.iter().all(|f| f.code.as_deref() == Some("InvalidParameters")), "{failed:?}");
    let m = lab.sim.messages().pop().unwrap();
    assert_eq!(
        m.subject.as_deref(),
        Some(format!("Recovered 28/30 tapes from {PRIMARY} to {STANDBY}, 2 failed").as_str())
    );
    assert!(m.message.contains("PRI000007  InvalidParameters: "), "{}", m.message);
    assert!(!report.retryable, "a permanent failure is not worth an automatic retry");
}
