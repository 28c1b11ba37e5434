//! Correct whatever AWS does where its documentation is silent: a 300-tape recovery and a
//! cached volume recovery under every behaviour switch of the simulator, alone and all at
//! once, with 10 % of the Storage Gateway calls failing. Every tape ends on the standby
//! once, the report is right, and a rerun changes nothing.

use std::collections::BTreeMap;

use shared::monitor::{MonitorAnswer, MonitorRequest};
use shared::ports::SystemClock;
use shared::recover::Status;
use tests::simulator::behaviour::Behaviour;
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUME_STANDBY, VOLUMES};
use tests::simulator::{FaultConfig, FaultSpec};
use tests::{Lab, direct};

const TAPES: usize = 300;
const VOLUMES_N: usize = 4;

/// 10 % of the calls fail: 500s (or 400s under `internal-error-400`), throttles, and
/// connections dropped before and after the call is applied.
fn faults(seed: u64) -> FaultConfig {
    FaultConfig {
        seed: Some(seed),
        global: FaultSpec {
            latency_ms: 1,
            jitter_ms: 2,
            error_rate: 0.04,
            throttle_rate: 0.04,
            drop_rate: 0.01,
            drop_response_rate: 0.01,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// One case: the fleet starts healthy (so the daily readiness check records its
/// inventory), then the two failed gateways lose their connection.
async fn case(name: &str, behaviour: Behaviour, seed: u64) {
    let lab =
        Lab::generated(FleetShape { tapes: TAPES, volumes: VOLUMES_N, failed_offline: false, ..Default::default() })
            .await;
    lab.sim.set_behaviour(behaviour).unwrap();
    let readiness = lab.monitor_with(&lab.monitor_config(900), &SystemClock, None, MonitorRequest::Readiness).await;
    assert!(matches!(readiness, MonitorAnswer::Readiness(_)), "{name}");
    assert!(lab.sim.set_connected(PRIMARY, false) && lab.sim.set_connected(VOLUMES, false));
    lab.sim.set_faults(faults(seed)).unwrap();

    let tapes = lab.recover(direct(PRIMARY)).await;
    assert_eq!(tapes.status, Status::Completed, "{name}: {} {:?}", tapes.summary, tapes.tapes);
    assert_eq!((tapes.tapes.total, tapes.tapes.recovered()), (TAPES, TAPES), "{name}: {:?}", tapes.tapes);
    assert_eq!(tapes.tapes.verified, TAPES, "{name}: every tape confirmed RECOVERED on the standby");
    let mut seen = BTreeMap::new();
    for (barcode, status) in lab.tapes_on(STANDBY) {
        assert_eq!(status, "RECOVERED", "{name}: {barcode}");
        *seen.entry(barcode).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), TAPES, "{name}: every tape on the standby");
    assert!(seen.values().all(|n| *n == 1), "{name}");
    assert_eq!(lab.count("DisableGateway"), 1, "{name}");
    if behaviour.recovery_points_per_tape > 1 {
        assert!(
            tapes.tape_results.iter().all(|t| t.recovery_point.is_some()),
            "{name}: the report names the point used"
        );
    }

    let volumes = lab.recover(direct(VOLUMES)).await;
    assert_eq!(volumes.status, Status::Completed, "{name}: {} {:?}", volumes.summary, volumes.volumes);
    assert_eq!(
        (volumes.volumes.total, volumes.volumes.done, volumes.volumes.verified),
        (VOLUMES_N, VOLUMES_N, VOLUMES_N),
        "{name}"
    );
    let clones = lab.sim.with_world(|w| w.volumes.values().filter(|v| v.gateway_id == VOLUME_STANDBY).count());
    assert_eq!(clones, VOLUMES_N, "{name}: one clone per volume");

    // A rerun, faults and all, changes nothing.
    let before = lab.sim.calls().len();
    let again = lab.recover(direct(PRIMARY)).await;
    assert_eq!(again.status, Status::Completed, "{name}: rerun: {}", again.summary);
    assert_eq!(again.tapes.done, 0, "{name}");
    let again = lab.recover(direct(VOLUMES)).await;
    assert_eq!(again.status, Status::Completed, "{name}: rerun: {}", again.summary);
    let new: Vec<_> = lab.sim.calls().into_iter().skip(before).collect();
    let changes: Vec<_> = new
        .iter()
        .filter(|c| {
            c.applied
                && matches!(
                    c.operation.as_str(),
                    "RetrieveTapeRecoveryPoint" | "DisableGateway" | "CreateCachediSCSIVolume"
                )
                && c.ok()
        })
        .map(|c| c.operation.clone())
        .collect();
    // A clone asked for again with its client token answers the same volume: allowed,
    // but no new volume may appear.
    assert!(changes.iter().all(|op| op == "CreateCachediSCSIVolume"), "{name}: the rerun changed {changes:?}");
    assert_eq!(
        lab.sim.with_world(|w| w.volumes.values().filter(|v| v.gateway_id == VOLUME_STANDBY).count()),
        VOLUMES_N,
        "{name}"
    );
    eprintln!("{name}: ok ({} calls, {} throttles)", lab.sim.calls().len(), tapes.pacing.throttles);
}

#[tokio::test]
async fn every_switch_alone() {
    for (i, name) in Behaviour::NAMES.iter().enumerate() {
        let b = Behaviour::from_names(name).unwrap();
        case(name, b, i as u64 + 1).await;
    }
}

#[tokio::test]
async fn every_switch_at_once() {
    case("all", Behaviour::all(), 99).await;
}

#[tokio::test]
async fn the_default_choices() {
    case("default", Behaviour::default(), 7).await;
}
