//! The readiness check end to end (`{"action": "readiness"}`): whether each watched
//! gateway could be recovered now, with the reasons when not, its figures, the inventory a
//! recovery falls back on, the readable report and the metrics.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use shared::config::{DisablePolicy, MonitorConfig};
use shared::ledger::{Inventory, RunRecord, gateway_pk};
use shared::monitor::readiness::{GatewayReadiness, ReadinessReport};
use shared::monitor::{MonitorAnswer, MonitorRequest};
use shared::ports::{Condition, Key, SystemClock};
use shared::recover::Status;
use shared::recover::report::Counts;
use tests::simulator::Fleet;
use tests::simulator::behaviour::Behaviour;
use tests::simulator::fleet::TapeSpec;
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUMES, gateway as gateway_spec, generate};
use tests::{Function, Lab, direct, gateway, gateway_arn};

/// The recovery point time of every generated tape and volume.
const RECOVERY_POINT: i64 = 1_795_168_800; // 2026-11-20T10:00:00Z

/// Runs the readiness check in this process.
async fn readiness_with(lab: &Lab, config: &MonitorConfig) -> ReadinessReport {
    match lab.monitor_with(config, &SystemClock, None, MonitorRequest::Readiness).await {
        MonitorAnswer::Readiness(r) => *r,
        other => panic!("expected a readiness report, got {other:?}"),
    }
}

async fn readiness(lab: &Lab) -> ReadinessReport {
    readiness_with(lab, &lab.monitor_config(900)).await
}

fn verdict<'a>(r: &'a ReadinessReport, id: &str) -> &'a GatewayReadiness {
    r.gateways.iter().find(|g| g.gateway_id == id).unwrap_or_else(|| panic!("{id} is not in {r:?}"))
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// The inventory the readiness check left in the ledger for a gateway.
async fn inventory(lab: &Lab, id: &str) -> Inventory {
    let items = lab.ledger_items(&gateway_pk(&gateway(id)), "inventory").await;
    assert_eq!(items.len(), 1, "{id}: one inventory item");
    serde_json::from_value(Value::Object(items[0].body.clone())).expect("an inventory")
}

/// A healthy fleet: `tape-primary` with `tapes` tapes and `volume-cache` with `volumes`.
fn healthy(tapes: usize, volumes: usize) -> FleetShape {
    FleetShape { tapes, volumes, failed_offline: false, ..Default::default() }
}

#[tokio::test]
async fn a_ready_fleet_is_reported_ready_with_its_figures_inventory_report_and_metrics() {
    let lab = Lab::generated(healthy(40, 4)).await;
    let report = readiness(&lab).await;
    assert_eq!((report.ready, report.not_ready, report.gateways.len()), (2, 0, 2), "{report:#?}");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    for g in &report.gateways {
        assert!(g.ready, "{g:?}");
        assert_eq!(g.reasons.len(), 1, "{g:?}");
        assert!(g.reasons[0].starts_with("ready: the standby has room"), "{g:?}");
        assert_eq!(g.estimate_from, "model");
    }

    let tape = verdict(&report, PRIMARY);
    assert_eq!(tape.standby.as_deref(), Some(gateway_arn(STANDBY).as_str()));
    let figures = tape.tapes.as_ref().unwrap();
    assert_eq!((figures.total, figures.with_recovery_point, figures.without_recovery_point), (40, Some(40), Some(0)));
    assert!(figures.at_risk.is_empty());
    let age = now_secs() - RECOVERY_POINT;
    for measured in [figures.newest_recovery_point_age_secs, figures.oldest_recovery_point_age_secs] {
        assert!(measured.is_some_and(|m| (m - age).abs() <= 60), "{measured:?} against {age}");
    }
    assert_eq!(tape.estimated_recovery_secs, Some(64.0), "a minute, then 40 tapes at 10 a second");

    let volumes = verdict(&report, VOLUMES);
    let v = volumes.volumes.as_ref().unwrap();
    assert_eq!((v.total, v.with_recovery_point), (4, 4));
    assert_eq!(volumes.estimated_recovery_secs, Some(68.0), "a minute, then 2 seconds a volume");

    // The inventory a recovery falls back on when the failed gateway cannot be read.
    let tapes = inventory(&lab, PRIMARY).await;
    assert_eq!(tapes.tapes.len(), 40);
    assert!(tapes.tapes.iter().all(|t| t.recovery_point == Some(RECOVERY_POINT)), "{:?}", tapes.tapes[0]);
    let vols = inventory(&lab, VOLUMES).await;
    assert_eq!(vols.volumes.len(), 4);
    for v in &vols.volumes {
        assert_eq!(v.recovery_point.as_deref(), Some("2026-11-20T10:00:00.000Z"));
        assert_eq!(v.size_bytes, 536_870_912_000);
        assert!(v.target_name.as_deref().is_some_and(|n| n.starts_with("backup-vol-")), "{v:?}");
        assert!(v.tags.contains(&("app".to_owned(), "backup".to_owned())), "{v:?}");
    }

    let msg = lab.published("gateway-reports").pop().unwrap();
    assert_eq!(msg.subject.as_deref(), Some("Readiness: all 2 watched gateways can be recovered"));
    assert!(msg.message.contains("2 ready, 0 not ready"), "{}", msg.message);
    assert!(msg.message.contains("tape-primary (sgw-10000000), VTL"), "{}", msg.message);
    assert!(msg.message.contains("tapes: 40, with a recovery point: 40, at risk: 0"), "{}", msg.message);
    assert!(msg.message.contains("volumes: 4, with a recovery point: 4"), "{}", msg.message);
    assert!(msg.message.contains("estimated recovery time: 64 s (model)"), "{}", msg.message);

    // The function itself, with its metrics on stdout.
    let (answer, stdout) = tests::run_logged(&lab, Function::Monitor, &json!({"action": "readiness"})).await;
    assert_eq!((answer["ready"].as_u64(), answer["notReady"].as_u64()), (Some(2), Some(0)), "{answer}");
    let metrics = tests::emf_metrics(&stdout, "gateway-monitor");
    assert_eq!((metrics["GatewaysReady"].as_f64(), metrics["GatewaysNotReady"].as_f64()), (Some(2.0), Some(0.0)));
    let oldest = metrics["OldestRecoveryPointAgeSeconds"].as_f64().unwrap_or_default() as i64;
    let age = now_secs() - RECOVERY_POINT;
    assert!((oldest - age).abs() <= 60, "{oldest} s against {age} s");
    assert_eq!(metrics["EstimatedRecoveryTimeSeconds"].as_f64(), Some(68.0), "the slowest gateway's estimate");
}

/// A second tape gateway, online, tagged to recover to `tape-standby`, with `tapes` tapes.
fn second_tape_gateway(fleet: &mut Fleet, tapes: usize) {
    let mut tags = fleet.gateways[0].tags.clone();
    tags.insert("recovery:standby-gateway".into(), fleet.gateway_arn(STANDBY));
    let mut second = gateway_spec(SECOND, "tape-second", "VTL", true, tags);
    second.tapes = (0..tapes).map(|i| tape(&format!("SEC{i:06}"), Some("2026-11-20T10:00:00Z"), "AVAILABLE")).collect();
    fleet.gateways.push(second);
}

const SECOND: &str = "sgw-20000000";

fn tape(barcode: &str, recovery_point: Option<&str>, status: &str) -> TapeSpec {
    TapeSpec {
        barcode: barcode.into(),
        size_bytes: 107_374_182_400,
        status: status.into(),
        recovery_point_time: recovery_point.map(str::to_owned),
    }
}

#[tokio::test]
async fn each_reason_a_gateway_cannot_be_recovered_is_named() {
    type Breakage = Box<dyn Fn(&mut Fleet)>;
    // (what is wrong, how to break the fleet, then the lab, the gateways not ready, what each reason says)
    let untagged =
        |key: &'static str| -> Breakage { Box::new(move |f: &mut Fleet| drop(f.gateways[0].tags.remove(key))) };
    type Case<'a> = (&'a str, Breakage, Box<dyn Fn(&Lab)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "standby offline",
            Box::new(|_| {}),
            Box::new(|lab| assert!(lab.sim.set_connected(STANDBY, false))),
            vec![PRIMARY],
            "standby sgw-10000001 is not connected",
        ),
        (
            "standby too small",
            Box::new(|_| {}),
            Box::new(|lab| assert_eq!(lab.sim.add_tapes(STANDBY, 1495), Ok(1495))),
            vec![PRIMARY],
            "the standby holds 1495 tapes and has room for 5, but this gateway would bring 10",
        ),
        (
            "standby shared beyond its room",
            Box::new(|f| {
                f.gateways[0].tapes =
                    (0..800).map(|i| tape(&format!("PRI{i:06}"), Some("2026-11-20T10:00:00Z"), "AVAILABLE")).collect();
                second_tape_gateway(f, 800);
            }),
            Box::new(|_| {}),
            vec![PRIMARY, SECOND],
            "standby sgw-10000001 is shared by 2 (sgw-10000000, sgw-20000000); together they would bring 1600 tapes",
        ),
        (
            "no standby configured",
            untagged("recovery:standby-gateway"),
            Box::new(|_| {}),
            vec![PRIMARY],
            "no standby gateway: give standbyGatewayArn, tag the failed gateway recovery:standby-gateway, or set STANDBY_GATEWAY_ARN",
        ),
        (
            "no recovery points",
            Box::new(|f| f.gateways[0].tapes.iter_mut().for_each(|t| t.recovery_point_time = None)),
            Box::new(|_| {}),
            vec![PRIMARY],
            "no recovery point is listed for any of its 10 tapes",
        ),
        (
            "some tapes without a recovery point",
            Box::new(|f| f.gateways[0].tapes.iter_mut().take(3).for_each(|t| t.recovery_point_time = None)),
            Box::new(|_| {}),
            vec![PRIMARY],
            "3 of its 10 tapes have no recovery point: a failure now would lose them",
        ),
        (
            "opt-in not stated",
            untagged("recovery:auto-disable"),
            Box::new(|_| {}),
            vec![PRIMARY],
            "the disable opt-in is not stated: tag it recovery:auto-disable=true",
        ),
    ];
    for (name, break_fleet, break_lab, not_ready, reason) in cases {
        let mut fleet = generate(&healthy(10, 2));
        break_fleet(&mut fleet);
        let lab = Lab::start(fleet).await;
        break_lab(&lab);
        let report = readiness(&lab).await;
        assert_eq!(report.not_ready, not_ready.len(), "{name}: {report:#?}");
        for id in &not_ready {
            let g = verdict(&report, id);
            assert!(!g.ready, "{name}: {g:?}");
            assert!(g.reasons.iter().any(|r| r.contains(reason)), "{name}: {:?}", g.reasons);
        }
        assert!(verdict(&report, VOLUMES).ready, "{name}: the volume gateway is not affected");
        // The not-ready gateways come first, in the answer and in the report.
        assert!(!report.gateways[0].ready && report.gateways.last().unwrap().ready, "{name}");
        let msg = lab.published("gateway-reports").pop().unwrap();
        let total = report.gateways.len();
        assert_eq!(
            msg.subject.as_deref(),
            Some(format!("Readiness: {} of {total} watched gateways NOT ready", not_ready.len()).as_str()),
            "{name}"
        );
        let (bad, good) = (msg.message.find("NOT READY (").unwrap(), msg.message.find("Ready (").unwrap());
        assert!(bad < good, "{name}: {}", msg.message);
        assert!(msg.message.contains(&format!("    - {reason}")), "{name}: {}", msg.message);
    }
}

#[tokio::test]
async fn tapes_at_risk_are_listed_in_the_figures() {
    let mut fleet = generate(&healthy(10, 0));
    for t in fleet.gateways[0].tapes.iter_mut().skip(7) {
        t.status = "IN_TRANSIT_TO_VTS".into();
    }
    let lab = Lab::start(fleet).await;
    let report = readiness(&lab).await;
    let g = verdict(&report, PRIMARY);
    let figures = g.tapes.as_ref().unwrap();
    assert_eq!(figures.at_risk, ["PRI000007", "PRI000008", "PRI000009"]);
    assert!(
        g.reasons.iter().any(|r| r == "3 tapes are at risk (not yet in AWS): PRI000007, PRI000008, PRI000009"),
        "{:?}",
        g.reasons
    );
    let body = lab.published("gateway-reports").pop().unwrap().message;
    assert!(body.contains("at risk: 3"), "{body}");
}

#[tokio::test]
async fn the_estimate_is_measured_from_the_ledgers_run_history_when_there_is_one() {
    let lab = Lab::generated(healthy(40, 0)).await;
    // An earlier recovery of this gateway: 100 tapes in 10 seconds.
    let run = RunRecord {
        recovery_id: format!("{PRIMARY}-earlier"),
        slice: 1,
        status: Status::Completed,
        summary: "all 100 tapes recovered".into(),
        started_at: 1_795_000_000_000,
        finished_at: 1_795_000_010_000,
        duration_ms: 10_000,
        tapes: Counts { total: 100, done: 100, verified: 100, ..Counts::default() },
        volumes: Counts::default(),
    };
    let key = Key::new(gateway_pk(&gateway(PRIMARY)), RunRecord::sort_key(run.started_at, &run.recovery_id, 1));
    shared::ledger::write(&lab.ledger, &key, &run, 1, &Condition::Always, None).await.unwrap();
    let report = readiness(&lab).await;
    let g = verdict(&report, PRIMARY);
    assert_eq!(g.estimate_from, "measured", "{g:?}");
    assert_eq!(
        g.estimated_recovery_secs,
        Some(34.0),
        "half the model's minute, then 40 tapes at the measured 10 a second"
    );
    let body = lab.published("gateway-reports").pop().unwrap().message;
    assert!(body.contains("estimated recovery time: 34 s (measured)"), "{body}");
}

#[tokio::test]
async fn a_check_while_the_gateway_is_offline_keeps_what_the_last_inventory_knew() {
    let lab = Lab::generated(healthy(0, 8)).await;
    lab.sim.set_behaviour(Behaviour { volume_calls_need_connection: true, ..Behaviour::default() }).unwrap();
    assert!(verdict(&readiness(&lab).await, VOLUMES).ready);
    // The gateway fails; the next daily check runs before the recovery does.
    assert!(lab.sim.set_connected(VOLUMES, false));
    let offline = readiness(&lab).await;
    let g = verdict(&offline, VOLUMES);
    assert!(!g.ready, "{g:?}");
    assert!(g.reasons.iter().any(|r| r.contains("recovery points could not be read")), "{:?}", g.reasons);
    let kept = inventory(&lab, VOLUMES).await;
    assert_eq!(kept.volumes.len(), 8);
    assert!(kept.volumes.iter().all(|v| v.recovery_point.is_some() && v.target_name.is_some()), "{kept:?}");
    // So the recovery, refused the recovery points by AWS, still clones every volume.
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.volumes.done, report.volumes.verified), (8, 8));
}

#[tokio::test]
async fn a_thousand_watched_gateways_are_checked_in_one_invocation() {
    let lab =
        Lab::generated(FleetShape { tapes: 10, gateways: 1000, failed_offline: false, ..Default::default() }).await;
    // One standby for the whole fleet, and disables on approval: every gateway can be ready.
    let config = MonitorConfig {
        standby: Some(gateway(STANDBY)),
        disable_policy: DisablePolicy::Approval,
        ..lab.monitor_config(900)
    };
    let started = Instant::now();
    let report = readiness_with(&lab, &config).await;
    let took = started.elapsed();
    eprintln!(
        "readiness of 1,001 watched gateways: {:.2} s wall ({} ms in the report), {} Storage Gateway calls",
        took.as_secs_f64(),
        report.duration_ms,
        lab.sim.calls().iter().filter(|c| c.service == tests::simulator::Service::StorageGateway).count()
    );
    assert_eq!(report.gateways.len(), 1001, "every watched gateway is in the answer");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let not_ready: BTreeMap<&str, &Vec<String>> =
        report.gateways.iter().filter(|g| !g.ready).map(|g| (g.gateway_id.as_str(), &g.reasons)).collect();
    assert!(not_ready.is_empty(), "{not_ready:?}");
    let msg = lab.published("gateway-reports").pop().unwrap();
    assert_eq!(msg.subject.as_deref(), Some("Readiness: all 1001 watched gateways can be recovered"));
    assert!(msg.message.len() < 256 * 1024, "the report fits in an SNS message");
}
