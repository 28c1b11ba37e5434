//! `recover-gateway`'s domain, end to end: the real SDK over HTTP against the simulator,
//! the ledger in DynamoDB (the simulator's, or `LEDGER_ENDPOINT`).

use std::time::{Duration, Instant};

use shared::config::{DisablePolicy, RecoverConfig};
use shared::ledger::gateway_pk;
use shared::recover::report::{DisableAction, Outcome};
use shared::recover::{Approval, RecoveryRequest, Source, Status, decode_event};
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUMES};
use tests::simulator::{FaultConfig, FaultSpec, Fleet, Service};
use tests::{Lab, direct, gateway, hand_off_request, latency, tapes};

#[tokio::test]
async fn a_full_tape_gateway_is_recovered_completely_and_a_second_run_does_nothing_new() {
    let lab = Lab::generated(tapes(1500)).await;
    lab.sim.set_faults(latency(20)).unwrap();
    let t = Instant::now();
    let report = lab.recover(direct(PRIMARY)).await;
    eprintln!("1,500 tapes at 20 ms simulated latency: {:.2} s, pacing {:?}", t.elapsed().as_secs_f64(), report.pacing);
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!(
        (report.tapes.total, report.tapes.done, report.tapes.failed, report.tapes.verified),
        (1500, 1500, 0, 1500)
    );
    let on_standby = lab.tapes_on(STANDBY);
    assert_eq!(on_standby.len(), 1500);
    assert!(on_standby.iter().all(|(_, s)| s == "RECOVERED"));
    assert_eq!(lab.count("RetrieveTapeRecoveryPoint"), 1500, "each tape retrieved exactly once");
    assert_eq!(lab.count("DisableGateway"), 1);
    // The audit record (ledger and SNS) came before the irreversible call.
    let calls = lab.sim.calls();
    let audit_sns = calls.iter().position(|c| c.param("Subject").is_some_and(|s| s.starts_with("AUDIT"))).unwrap();
    let disable = calls.iter().position(|c| c.operation == "DisableGateway").unwrap();
    assert!(audit_sns < disable);
    // The ledger's write is in the simulator's log when the ledger is the simulator's.
    if tests::ledger_endpoint().is_none() {
        let audit_item = calls
            .iter()
            .position(|c| c.service == Service::DynamoDb && c.param("sk") == Some("audit#disable"))
            .unwrap();
        assert!(audit_item < disable);
    }
    let pk = gateway_pk(&gateway(PRIMARY));
    assert_eq!(lab.ledger_items(&pk, "audit#disable").await.len(), 1, "the audit item is in the ledger");
    // No tag was written anywhere.
    assert!(!calls.iter().any(|c| c.operation.contains("Tags") && c.mutating), "the functions never write a tag");
    let msg = lab.published("gateway-reports").pop().unwrap();
    assert_eq!(msg.subject.as_deref(), Some(format!("Recovered 1500/1500 tapes from {PRIMARY} to {STANDBY}").as_str()));
    assert!(msg.message.contains(&lab.ledger.table), "the report says where the lease and audit live");
    lab.sim.set_faults(FaultConfig::default()).unwrap();
    let before = lab.sim.calls().len();
    let again = lab.recover(direct(PRIMARY)).await;
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
    let lab = Lab::generated(tapes(300)).await;
    lab.sim.set_faults(latency(20)).unwrap();
    let config = RecoverConfig { max_concurrency: 4, ..lab.recover_config() };
    let mut req = direct(PRIMARY);
    let mut slices = 0;
    let last = loop {
        slices += 1;
        let report = lab.recover_with(&config, req, Duration::from_millis(400)).await;
        if report.status != Status::Continued {
            break report;
        }
        assert!(report.tapes.pending > 0 || report.tapes.unverified > 0, "{:?}", report.tapes);
        // The continuation is on the recovery topic, as the next invocation receives it.
        let m = lab.published("gateway-recovery").pop().unwrap();
        let event: serde_json::Value = serde_json::from_str(&m.message).unwrap();
        req = decode_event(&event).unwrap().remove(0);
        assert!(matches!(req.source, Source::Continuation(_)));
        assert!(slices < 60, "no progress");
    };
    assert!(slices > 1, "the budget should have cut the first run");
    assert_eq!(last.status, Status::Completed, "{}", last.summary);
    assert_eq!(last.slice, slices);
    assert_eq!(last.tapes.recovered(), 300, "the last report covers all slices: {:?}", last.tapes);
    assert_eq!(lab.count("RetrieveTapeRecoveryPoint"), 300);
    assert_eq!(lab.count("DisableGateway"), 1);
    assert!(last.total_duration_ms >= last.duration_ms);
    // Every slice is in the ledger's run history.
    let runs = lab.ledger_items(&gateway_pk(&gateway(PRIMARY)), "run#").await;
    assert_eq!(runs.len(), slices as usize);
}

#[tokio::test]
async fn under_the_tagged_policy_an_untagged_gateway_waits_for_approval() {
    let lab = Lab::generated(FleetShape { tapes: 20, auto_disable: false, ..Default::default() }).await;
    let report = lab.recover(direct(PRIMARY)).await;
    assert_eq!(report.status, Status::AwaitingApproval, "{}", report.summary);
    assert!(lab.mutations().is_empty(), "{:?}", lab.mutations());
    let approval = report.approval.clone().unwrap();
    assert_eq!(approval["approveDisable"], true);
    assert_eq!(approval["failedGatewayArn"], gateway(PRIMARY).to_string());
    let body = lab.published("gateway-reports").pop().unwrap().message;
    assert!(body.contains("\"approveDisable\":true"), "the report carries the exact approval payload: {body}");
    // The operator approves with exactly that payload.
    let req = decode_event(&approval).unwrap().remove(0);
    let done = lab.recover(req).await;
    assert_eq!(done.status, Status::Completed, "{}", done.summary);
    assert_eq!(done.tapes.done, 20);
    assert_eq!(lab.count("DisableGateway"), 1);
}

#[tokio::test]
async fn under_the_approval_policy_even_a_tagged_gateway_waits_for_an_operator() {
    let lab = Lab::generated(tapes(5)).await;
    let config = RecoverConfig { disable_policy: DisablePolicy::Approval, ..lab.recover_config() };
    let report = lab.recover_with(&config, direct(PRIMARY), Duration::from_secs(60)).await;
    assert_eq!(report.status, Status::AwaitingApproval);
    assert!(lab.mutations().is_empty());
    let approved = RecoveryRequest { approval: Approval { disable: true, ..Approval::default() }, ..direct(PRIMARY) };
    let done = lab.recover_with(&config, approved, Duration::from_secs(60)).await;
    assert_eq!(done.status, Status::Completed, "{}", done.summary);
    assert_eq!(lab.count("DisableGateway"), 1);
}

#[tokio::test]
async fn a_healthy_gateway_is_refused_without_a_single_change() {
    let lab = Lab::generated(FleetShape { tapes: 5, failed_offline: false, ..Default::default() }).await;
    let report = lab
        .recover(RecoveryRequest { approval: Approval { disable: true, ..Approval::default() }, ..direct(PRIMARY) })
        .await;
    assert_eq!(report.status, Status::NotFailed);
    assert!(lab.mutations().is_empty());
    assert_eq!(
        lab.published("gateway-reports").pop().unwrap().subject.as_deref(),
        Some(format!("Not recovering {PRIMARY}: it is online").as_str())
    );
}

#[tokio::test]
async fn bad_standbys_are_refused_before_any_change() {
    // (standby, how to break it, what the refusal says)
    type Breakage = Box<dyn Fn(&Lab)>;
    let cases: Vec<(&str, Breakage, &str)> = vec![
        (VOLUMES, Box::new(|lab| assert!(lab.sim.set_connected(VOLUMES, true))), "not a tape gateway"),
        (STANDBY, Box::new(|lab| assert!(lab.sim.set_connected(STANDBY, false))), "not connected"),
        (STANDBY, Box::new(|lab| assert_eq!(lab.sim.add_tapes(STANDBY, 1495), Ok(1495))), "1500-tape limit"),
        (PRIMARY, Box::new(|_| {}), "failed gateway itself"),
        ("sgw-FFFFFFFF", Box::new(|_| {}), "does not exist"),
    ];
    for (standby, breakage, reason) in cases {
        let lab = Lab::generated(FleetShape { tapes: 10, volumes: 1, ..Default::default() }).await;
        breakage(&lab);
        let report = lab.recover(RecoveryRequest { standby: Some(gateway(standby)), ..direct(PRIMARY) }).await;
        assert_eq!(report.status, Status::Refused, "{standby}: {}", report.summary);
        assert!(report.summary.contains(reason), "{standby}: {}", report.summary);
        assert!(lab.mutations().is_empty(), "{standby}: {:?}", lab.mutations());
    }
}

#[tokio::test]
async fn a_standby_named_by_a_bad_tag_is_refused_without_calling_aws_with_it() {
    let mut fleet = tests::simulator::generate::generate(&tapes(3));
    fleet.gateways[0].tags.insert("recovery:standby-gateway".into(), "sgw-23B4567C".into());
    let lab = Lab::start(fleet).await;
    let report = lab.recover(direct(PRIMARY)).await;
    assert_eq!(report.status, Status::Refused);
    assert!(report.summary.contains("tag recovery:standby-gateway"), "{}", report.summary);
    assert!(lab.sim.calls().iter().all(|c| c.params.values().all(|v| v != "sgw-23B4567C")));
}

#[tokio::test]
async fn the_standby_comes_from_the_event_then_the_tag_then_the_environment() {
    let mut fleet: Fleet = tests::simulator::generate::generate(&tapes(2));
    fleet.gateways[0].tags.remove("recovery:standby-gateway");
    let lab = Lab::start(fleet).await;
    let refused = lab.recover(direct(PRIMARY)).await;
    assert!(refused.summary.contains("STANDBY_GATEWAY_ARN"), "{}", refused.summary);
    let config = RecoverConfig { standby: Some(gateway(STANDBY)), ..lab.recover_config() };
    let report = lab.recover_with(&config, direct(PRIMARY), Duration::from_secs(60)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!(report.standby_gateway.map(|s| s.arn), Some(gateway(STANDBY).to_string()));
}

#[tokio::test]
async fn a_dry_run_plans_everything_and_changes_nothing() {
    let lab = Lab::generated(FleetShape { tapes: 40, standby_tapes: 3, ..Default::default() }).await;
    let report = lab.recover(RecoveryRequest { dry_run: true, ..direct(PRIMARY) }).await;
    assert_eq!(report.status, Status::DryRun, "{}", report.summary);
    assert_eq!(report.tapes.planned, 40);
    assert_eq!(report.disable.as_ref().unwrap().action, DisableAction::WouldDisable);
    assert!(lab.mutations().is_empty(), "{:?}", lab.mutations());
    let ledger_writes: Vec<_> = lab
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.service == Service::DynamoDb && c.mutating && c.operation != "CreateTable")
        .collect();
    assert!(ledger_writes.is_empty(), "not even the ledger: {ledger_writes:?}");
}

#[tokio::test]
async fn cached_volumes_are_snapshotted_once_per_recovery_point_without_a_volume_standby() {
    let mut fleet = tests::simulator::generate::generate(&FleetShape { tapes: 0, volumes: 5, ..Default::default() });
    fleet.gateways.iter_mut().for_each(|g| drop(g.tags.remove("recovery:standby-gateway")));
    let lab = Lab::start(fleet).await;
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.volumes.total, report.volumes.done), (5, 5));
    let snapshots = lab.sim.with_world(|w| w.snapshots.clone());
    assert_eq!(snapshots.len(), 5);
    let s = &snapshots[0];
    assert!(s.description.contains(VOLUMES) && s.description.contains("2026-11-20T10:00:00.000Z"), "{}", s.description);
    assert!(s.tags.iter().any(|(k, v)| k == "recovery:source-gateway" && v.ends_with(VOLUMES)));
    assert_eq!(lab.count("DisableGateway"), 0, "volume recovery never disables");
    let again = lab.recover(direct(VOLUMES)).await;
    assert_eq!((again.volumes.done, again.volumes.already_done), (0, 5), "{}", again.summary);
    assert_eq!(lab.sim.with_world(|w| w.snapshots.len()), 5, "no recovery point is snapshotted twice");
    assert!(again.volume_results.iter().all(|v| v.snapshot_id.is_some()));
}

#[tokio::test]
async fn injected_500s_and_throttling_are_survived_with_every_tape_accounted_for() {
    let lab = Lab::generated(tapes(1500)).await;
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
    let report = lab.recover(direct(PRIMARY)).await;
    assert_eq!(report.tapes.total, 1500);
    assert_eq!(report.status, Status::Completed, "{} {:?}", report.summary, report.tapes);
    assert_eq!(
        report.tapes.done, 1500,
        "a retrieval whose answer was lost is confirmed on the standby and counted as done"
    );
    assert_eq!(lab.tapes_on(STANDBY).len(), 1500);
    assert_eq!(lab.count("RetrieveTapeRecoveryPoint"), 1500, "every tape retrieved exactly once");
}

#[tokio::test]
async fn a_replayed_hand_off_after_completion_does_nothing_and_reports_nothing() {
    let lab = Lab::generated(tapes(10)).await;
    let first = lab.recover(hand_off_request()).await;
    assert_eq!(first.status, Status::Completed, "{}", first.summary);
    let published = lab.sim.messages().len();
    let before = lab.sim.calls().len();
    let replay = lab.recover(hand_off_request()).await;
    assert_eq!(replay.status, Status::AlreadyCompleted, "{}", replay.summary);
    assert_eq!(lab.sim.messages().len(), published, "no second report");
    assert!(lab.sim.calls().into_iter().skip(before).all(|c| !c.mutating || c.service == Service::DynamoDb));
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
    let report = lab.recover(direct(PRIMARY)).await;
    assert_eq!(report.status, Status::Partial, "{}", report.summary);
    assert_eq!((report.tapes.total, report.tapes.done, report.tapes.failed), (30, 28, 2));
    let failed: Vec<_> = report.tape_results.iter().filter(|t| t.outcome == Outcome::Failed).collect();
    assert_eq!(
        failed.iter().map(|f| f.id.as_str()).collect::<std::collections::BTreeSet<_>>(),
        ["PRI000007", "PRI000019"].into()
    );
    assert!(
        failed.iter().all(|f| f.error.as_ref().and_then(|e| e.code.as_deref()) == Some("InvalidParameters")),
        "{failed:?}"
    );
    let m = lab.published("gateway-reports").pop().unwrap();
    assert_eq!(
        m.subject.as_deref(),
        Some(format!("Recovered 28/30 tapes from {PRIMARY} to {STANDBY}, 2 failed").as_str())
    );
    assert!(m.message.contains("PRI000007  InvalidParameters: "), "{}", m.message);
    assert!(!report.retryable, "a permanent failure is not worth an automatic retry");
}

#[tokio::test]
async fn every_tape_has_its_recovery_point_time_and_the_report_its_objectives() {
    let lab = Lab::generated(tapes(50)).await;
    let report = lab.recover(hand_off_request()).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert!(report.tape_results.iter().all(|t| t.recovery_point.as_deref() == Some("2026-11-20T10:00:00Z")));
    let rpo = report.rpo.as_ref().expect("a hand-off knows when the gateway failed");
    assert_eq!(rpo.failure_at, "2026-11-25T10:00:00Z");
    assert_eq!(rpo.worst_secs, 5 * 86_400, "the recovery points are five days older than the failure");
    let body = lab.published("gateway-reports").pop().unwrap().message;
    assert!(body.contains("may have lost up to 5 d 0 h"), "{body}");
}
