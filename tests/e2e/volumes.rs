//! The volume paths end to end: cached volumes cloned onto the volume standby (once, after
//! reruns and crashes), snapshots, stored volumes, and what the run says when the standby,
//! the failed gateway or a clone is not as it should be.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;

use shared::config::{RecoverConfig, VolumeRecovery};
use shared::monitor::{MonitorAnswer, MonitorRequest};
use shared::ports::SystemClock;
use shared::recover::report::Outcome;
use shared::recover::{Status, decode_event};
use tests::simulator::behaviour::Behaviour;
use tests::simulator::fleet::{GatewaySpec, VolumeSpec};
use tests::simulator::generate::{FleetShape, PRIMARY, VOLUME_STANDBY, VOLUMES, generate};
use tests::simulator::world::Volume;
use tests::simulator::{FaultConfig, FaultSpec, Fleet, Service};
use tests::{Function, Lab, direct, function_env, gateway_arn, invoke, latency, start, tapes};

/// A fleet with `n` cached volumes on the failed `volume-cache` and nothing else to recover.
async fn volume_lab(n: usize) -> Lab {
    Lab::generated(FleetShape { tapes: 0, volumes: n, ..Default::default() }).await
}

/// The volumes on a gateway, as the simulator holds them.
fn volumes_on(lab: &Lab, id: &str) -> Vec<Volume> {
    lab.sim.with_world(|w| w.volumes.values().filter(|v| v.gateway_id == id).cloned().collect())
}

/// The tags of a resource, as a map.
fn tags_of(lab: &Lab, arn: &str) -> BTreeMap<String, String> {
    lab.sim.with_world(|w| w.tags_of(arn).iter().cloned().collect())
}

/// How many clones of each source volume the standby holds.
fn clones_per_source(lab: &Lab) -> BTreeMap<String, usize> {
    let mut per = BTreeMap::new();
    for v in volumes_on(lab, VOLUME_STANDBY) {
        *per.entry(v.source_volume_arn.unwrap_or_default()).or_insert(0) += 1;
    }
    per
}

#[tokio::test]
async fn thirty_two_cached_volumes_are_cloned_onto_the_standby_with_everything_to_reconnect() {
    let lab = volume_lab(32).await;
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.volumes.total, report.volumes.done, report.volumes.verified), (32, 32, 32));
    assert_eq!(lab.count("DisableGateway"), 0, "a volume recovery never disables");

    let sources = volumes_on(&lab, VOLUMES);
    let clones = volumes_on(&lab, VOLUME_STANDBY);
    assert_eq!(clones.len(), 32);
    assert!(clones_per_source(&lab).values().all(|n| *n == 1), "{:?}", clones_per_source(&lab));
    let standby_nic = lab.sim.with_world(|w| w.gateways[&gateway_arn(VOLUME_STANDBY)].network_interfaces[0].clone());
    for source in &sources {
        let clone = clones.iter().find(|c| c.source_volume_arn.as_deref() == Some(&source.arn)).unwrap();
        assert_eq!(clone.size_bytes, source.size_bytes, "{}", source.id);
        assert_eq!(clone.target_name, source.target_name, "the target name follows the source's");
        let tags = tags_of(&lab, &clone.arn);
        for (k, v) in tags_of(&lab, &source.arn) {
            assert_eq!(tags.get(&k), Some(&v), "{}: the source's tag {k}", source.id);
        }
        assert_eq!(tags.get("recovery:source-volume"), Some(&source.arn));
        assert_eq!(tags.get("recovery:recovery-point-time").map(String::as_str), source.recovery_point_time.as_deref());
        // The report says where to point the initiators.
        let item = report.volume_results.iter().find(|r| r.arn == source.arn).unwrap();
        assert_eq!(item.outcome, Outcome::Done);
        assert_eq!(item.verified, Some(true));
        let r = item.reconnect.as_ref().unwrap();
        assert_eq!(r.volume_arn, clone.arn);
        assert_eq!(r.target_arn.as_deref(), Some(clone.target_arn().as_str()));
        assert_eq!(r.target_name, clone.target_name);
        assert_eq!(r.network_interface.as_deref(), Some(standby_nic.as_str()));
        assert_eq!(r.port, 3260);
    }

    let msg = lab.published("gateway-reports").pop().unwrap();
    let body = &msg.message;
    assert_eq!(
        msg.subject.as_deref(),
        Some(format!("Recovered 32/32 volumes from {VOLUMES} to {VOLUME_STANDBY}").as_str())
    );
    assert!(body.contains("Volumes to reconnect (32):"), "{body}");
    for clone in &clones {
        let line = format!("{} target {} at {standby_nic}:3260", clone.arn, clone.target_arn());
        assert!(body.contains(&line), "{line} in {body}");
    }
    assert!(body.contains("Next steps:") && body.contains("iSCSI initiator"), "{body}");
}

#[tokio::test]
async fn a_rerun_asks_for_the_same_clones_and_creates_none() {
    let lab = volume_lab(32).await;
    let first = lab.recover(direct(VOLUMES)).await;
    assert_eq!(first.status, Status::Completed, "{}", first.summary);
    let tokens: BTreeSet<String> = lab
        .sim
        .applied("CreateCachediSCSIVolume")
        .iter()
        .filter_map(|c| c.param("ClientToken").map(str::to_owned))
        .collect();
    assert_eq!(tokens.len(), 32, "one client token per volume");
    let before = lab.sim.calls().len();

    let again = lab.recover(direct(VOLUMES)).await;
    assert_eq!(again.status, Status::Completed, "{}", again.summary);
    assert_eq!((again.volumes.done, again.volumes.already_done, again.volumes.verified), (0, 32, 32));
    let asked: Vec<_> =
        lab.sim.calls().into_iter().skip(before).filter(|c| c.operation == "CreateCachediSCSIVolume").collect();
    assert!(
        asked.iter().all(|c| c.param("ClientToken").is_some_and(|t| tokens.contains(t))),
        "a rerun asks only with the first run's client tokens"
    );
    assert_eq!(volumes_on(&lab, VOLUME_STANDBY).len(), 32, "no second clone");
    assert!(clones_per_source(&lab).values().all(|n| *n == 1));
    for item in &again.volume_results {
        let was = first.volume_results.iter().find(|r| r.arn == item.arn).unwrap();
        assert_eq!(item.reconnect.as_ref().map(|r| &r.volume_arn), was.reconnect.as_ref().map(|r| &r.volume_arn));
    }
}

/// Puts `n` empty volumes on the volume standby through the API, named `existing-<i>`, or
/// with the names given.
async fn fill_standby(lab: &Lab, names: &[String]) {
    let sgw = lab.sgw();
    let nic = lab.sim.with_world(|w| w.gateways[&gateway_arn(VOLUME_STANDBY)].network_interfaces[0].clone());
    for name in names {
        sgw.create_cachedi_scsi_volume()
            .gateway_arn(gateway_arn(VOLUME_STANDBY))
            .volume_size_in_bytes(1 << 30)
            .target_name(name)
            .network_interface_id(&nic)
            .client_token(format!("someone-else-{name}"))
            .send()
            .await
            .expect("the standby takes a volume");
    }
}

#[tokio::test]
async fn a_standby_without_room_for_every_volume_is_refused_before_any_change() {
    let lab = volume_lab(4).await;
    fill_standby(&lab, &(0..30).map(|i| format!("existing-{i}")).collect::<Vec<_>>()).await;
    let before = lab.sim.calls().len();
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Refused, "{}", report.summary);
    assert!(
        report.summary.contains("holds 30 volumes") && report.summary.contains("32-volume limit"),
        "{}",
        report.summary
    );
    assert!(report.summary.contains("room for 2"), "{}", report.summary);
    assert!(!report.retryable, "a full standby does not empty itself");
    let changes: Vec<_> = lab
        .sim
        .calls()
        .into_iter()
        .skip(before)
        .filter(|c| c.mutating && c.service == Service::StorageGateway)
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(volumes_on(&lab, VOLUME_STANDBY).len(), 30);
}

#[tokio::test]
async fn a_target_name_already_used_on_the_standby_gives_a_predictable_name_that_reruns_keep() {
    let lab = volume_lab(2).await;
    let source = volumes_on(&lab, VOLUMES).remove(0);
    fill_standby(&lab, std::slice::from_ref(&source.target_name)).await;
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    let clone_of = |lab: &Lab, arn: &str| {
        volumes_on(lab, VOLUME_STANDBY)
            .into_iter()
            .filter(|v| v.source_volume_arn.as_deref() == Some(arn))
            .collect::<Vec<_>>()
    };
    let renamed = clone_of(&lab, &source.arn);
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0].target_name, format!("{}-r2", source.target_name));
    let item = report.volume_results.iter().find(|r| r.arn == source.arn).unwrap();
    assert_eq!(item.reconnect.as_ref().unwrap().target_name, renamed[0].target_name, "the report names the new target");
    let other = volumes_on(&lab, VOLUMES).remove(1);
    assert_eq!(clone_of(&lab, &other.arn)[0].target_name, other.target_name, "no collision, no rename");

    let again = lab.recover(direct(VOLUMES)).await;
    assert_eq!(again.status, Status::Completed, "{}", again.summary);
    let still = clone_of(&lab, &source.arn);
    assert_eq!(still.len(), 1, "no second clone");
    assert_eq!(still[0].target_name, renamed[0].target_name, "the rerun keeps the name");
    assert_eq!(volumes_on(&lab, VOLUME_STANDBY).len(), 3);
}

/// A fleet with a stored volume gateway, offline, holding `n` volumes.
fn stored_fleet(n: usize) -> Fleet {
    let mut fleet = generate(&FleetShape { tapes: 0, ..Default::default() });
    fleet.gateways.push(GatewaySpec {
        id: STORED.into(),
        name: "volume-stored".into(),
        gateway_type: "STORED".into(),
        connected: false,
        disabled: false,
        tags: BTreeMap::from([("recovery:enabled".to_owned(), "true".to_owned())]),
        tapes: vec![],
        volumes: (0..n)
            .map(|i| VolumeSpec {
                id: format!("vol-{:08X}", 0x3000_0000 + i),
                size_bytes: 107_374_182_400,
                usage_bytes: None,
                recovery_point_time: None,
                target_name: None,
                kms_key: None,
                status: None,
                tags: BTreeMap::new(),
            })
            .collect(),
        network_interfaces: vec![],
        cache_disks: vec![],
        cache_bytes: None,
        upload_buffer_disks: vec!["pci-0000:03:00.0-scsi-0:0:2:0".into()],
        upload_buffer_bytes: None,
    });
    fleet
}

const STORED: &str = "sgw-30000000";

#[tokio::test]
async fn stored_volumes_are_each_reported_with_the_way_back_and_nothing_is_changed() {
    let lab = Lab::start(stored_fleet(3)).await;
    let report = lab.recover(direct(STORED)).await;
    assert_eq!(report.volumes.total, 3, "{}", report.summary);
    assert_eq!(report.volumes.manual, 3);
    for v in &report.volume_results {
        assert_eq!(v.outcome, Outcome::Manual, "{v:?}");
        let note = v.note.as_deref().unwrap_or_default();
        assert!(
            note.contains("latest") && note.contains("snapshot") && note.contains("stored volume gateway"),
            "{note}"
        );
    }
    assert!(lab.mutations().is_empty(), "{:?}", lab.mutations());
    let body = lab.published("gateway-reports").pop().unwrap().message;
    assert!(body.contains("Volumes that need a person (3):"), "{body}");
    assert!(body.contains("vol-30000000: "), "{body}");
}

/// Snapshots the simulator holds, per volume.
fn snapshots_per_volume(lab: &Lab) -> BTreeMap<String, Vec<String>> {
    let mut per: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in lab.sim.with_world(|w| w.snapshots.clone()) {
        per.entry(s.volume_arn).or_default().push(s.id);
    }
    per
}

#[tokio::test]
async fn volume_recovery_snapshot_takes_one_snapshot_each_and_both_clones_too() {
    // Jitter, so calls finish out of order: each result must carry its own volume's snapshot.
    let jitter = FaultConfig {
        seed: Some(3),
        global: FaultSpec { latency_ms: 2, jitter_ms: 40, ..Default::default() },
        ..Default::default()
    };
    for (setting, clones) in [(VolumeRecovery::Snapshot, false), (VolumeRecovery::Both, true)] {
        let lab = volume_lab(12).await;
        lab.sim.set_faults(jitter.clone()).unwrap();
        let config = RecoverConfig { volume_recovery: setting, ..lab.recover_config() };
        let report = lab.recover_with(&config, direct(VOLUMES), Duration::from_secs(120)).await;
        assert_eq!(report.status, Status::Completed, "{setting:?}: {}", report.summary);
        assert_eq!((report.volumes.total, report.volumes.done), (12, 12), "{setting:?}");
        let snapshots = snapshots_per_volume(&lab);
        assert_eq!(snapshots.len(), 12, "{setting:?}: every volume snapshotted");
        assert!(snapshots.values().all(|s| s.len() == 1), "{setting:?}: once each: {snapshots:?}");
        assert_eq!(lab.count("CreateSnapshotFromVolumeRecoveryPoint"), 12);
        for item in &report.volume_results {
            assert_eq!(
                item.snapshot_id.as_ref(),
                snapshots.get(&item.arn).map(|s| &s[0]),
                "{setting:?}: {} carries its own snapshot",
                item.id
            );
            assert_eq!(item.reconnect.is_some(), clones, "{setting:?}: {item:?}");
        }
        assert_eq!(volumes_on(&lab, VOLUME_STANDBY).len(), if clones { 12 } else { 0 }, "{setting:?}");
        assert_eq!(lab.count("CreateCachediSCSIVolume"), if clones { 12 } else { 0 }, "{setting:?}");
    }
}

#[tokio::test]
async fn volume_calls_refused_while_offline_give_one_retryable_refusal_unless_the_inventory_knows() {
    let offline_calls = Behaviour { volume_calls_need_connection: true, ..Behaviour::default() };
    let lab = volume_lab(16).await;
    lab.sim.set_behaviour(offline_calls).unwrap();
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Refused, "{}", report.summary);
    assert!(report.retryable, "AWS may answer later, or a readiness check may record the inventory");
    assert!(report.summary.contains("offline") && report.summary.contains("readiness check"), "{}", report.summary);
    let failed: Vec<_> =
        lab.sim.calls().into_iter().filter(|c| c.service == Service::StorageGateway && !c.ok()).collect();
    assert!(failed.len() <= 3, "a handful of refused calls, not one per volume: {failed:?}");
    assert_eq!(lab.count("CreateCachediSCSIVolume"), 0);
    assert_eq!(lab.published("gateway-reports").len(), 1, "one report");

    // With the inventory the readiness check recorded while the gateway was online.
    let lab = Lab::generated(FleetShape { tapes: 0, volumes: 16, failed_offline: false, ..Default::default() }).await;
    lab.sim.set_behaviour(offline_calls).unwrap();
    let readiness = lab.monitor_with(&lab.monitor_config(900), &SystemClock, None, MonitorRequest::Readiness).await;
    assert!(matches!(readiness, MonitorAnswer::Readiness(_)));
    assert!(lab.sim.set_connected(VOLUMES, false));
    let report = lab.recover(direct(VOLUMES)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.volumes.done, report.volumes.verified), (16, 16));
    assert!(clones_per_source(&lab).len() == 16 && clones_per_source(&lab).values().all(|n| *n == 1));
    assert!(
        report.volume_results.iter().all(|v| v.note.as_deref().is_some_and(|n| n.contains("inventory"))),
        "each volume says where its settings came from"
    );
    // The clones are what the live source would have given.
    for source in volumes_on(&lab, VOLUMES) {
        let clone = volumes_on(&lab, VOLUME_STANDBY)
            .into_iter()
            .find(|c| c.source_volume_arn.as_deref() == Some(&source.arn))
            .unwrap();
        assert_eq!((clone.size_bytes, &clone.target_name), (source.size_bytes, &source.target_name));
        assert_eq!(tags_of(&lab, &clone.arn).get("app").map(String::as_str), Some("backup"));
    }
}

/// Waits until `done` says so, polling the simulator; panics after a minute.
async fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Whether the run has written a clone's choice in the ledger: the moment just before the
/// first `CreateCachediSCSIVolume`.
fn clone_chosen(lab: &Lab) -> bool {
    lab.sim
        .calls()
        .iter()
        .any(|c| c.service == Service::DynamoDb && c.param("sk").is_some_and(|k| k.starts_with("clone#")))
}

#[tokio::test]
async fn a_crash_at_any_point_then_a_rerun_leaves_exactly_one_clone_per_volume() {
    let event = json!({"failedGatewayArn": gateway_arn(VOLUMES)});
    // The last kill leaves 8 clones (two rounds of 4 at 50 ms) to go: room enough, on a
    // loaded machine, for the kill to land before the run ends.
    for k in [0, 1, 7, 16, 24] {
        let lab = volume_lab(32).await;
        lab.sim.set_faults(latency(50)).unwrap();
        // A narrow window spreads the clones over time, so the kill lands among them.
        let mut env = function_env(&lab, Function::Recover);
        env.push(("MAX_CONCURRENCY", "4".into()));
        let mut doomed = start(&lab, Function::Recover, &env).await;
        doomed.function.invoke_async(event.to_string());
        if k == 0 {
            until("the first clone's choice in the ledger", || clone_chosen(&lab)).await;
        } else {
            until(&format!("{k} clones"), || lab.count("CreateCachediSCSIVolume") >= k).await;
        }
        doomed.process.kill().await;
        let at_kill = lab.count("CreateCachediSCSIVolume");
        assert!(at_kill < 32, "k={k}: the kill came after the run had finished cloning");

        let survivor = start(&lab, Function::Recover, &env).await;
        let answer = invoke(&survivor, &event).await.json();
        assert_eq!(answer["status"], "completed", "k={k}: {answer}");
        assert_eq!(answer["volumes"]["total"], 32, "k={k}");
        assert_eq!(answer["volumes"]["verified"], 32, "k={k}");
        let per_source = clones_per_source(&lab);
        assert_eq!(per_source.len(), 32, "k={k}: every volume cloned");
        assert!(per_source.values().all(|n| *n == 1), "k={k}: each once: {per_source:?}");
        eprintln!("killed after {at_kill} clones (k={k}); the rerun finished with 32");
    }
}

#[tokio::test]
async fn verification_catches_a_clone_in_an_error_state_and_tapes_not_recovered_yet() {
    let lab = volume_lab(4).await;
    let first = lab.recover(direct(VOLUMES)).await;
    assert_eq!(first.status, Status::Completed, "{}", first.summary);
    let broken = volumes_on(&lab, VOLUME_STANDBY).remove(0);
    lab.sim.set_volume_status(&broken.id, "IRRECOVERABLE").unwrap();

    // The rerun, as the function runs it, with its metrics on stdout.
    let (answer, stdout) =
        tests::run_logged(&lab, Function::Recover, &json!({"failedGatewayArn": gateway_arn(VOLUMES)})).await;
    assert_eq!(answer["status"], "partial", "{answer}");
    let results = answer["volumeResults"].as_array().unwrap();
    let failed: Vec<_> = results.iter().filter(|v| v["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{answer}");
    assert_eq!(failed[0]["arn"], broken.source_volume_arn.clone().unwrap());
    assert_eq!(failed[0]["error"]["code"], "CloneNotUsable");
    assert!(failed[0]["error"]["message"].as_str().unwrap().contains("IRRECOVERABLE"), "{answer}");
    assert_eq!(failed[0]["verified"], false);
    assert_eq!(results.iter().filter(|v| v["verified"] == true).count(), 3);
    let metrics = tests::emf_metrics(&stdout, "recover-gateway");
    assert_eq!(metrics["VerificationFailures"], 1.0, "{stdout}");
    assert_eq!(volumes_on(&lab, VOLUME_STANDBY).len(), 4, "no second clone of the broken one");

    // Tapes still arriving: unverified, with their status, and the next slice checks again.
    let lab = Lab::generated(tapes(20)).await;
    lab.sim.set_behaviour(Behaviour { recovered_after_ms: 60_000, ..Behaviour::default() }).unwrap();
    let config = RecoverConfig { verify_wait: Duration::ZERO, ..lab.recover_config() };
    let report = lab.recover_with(&config, direct(PRIMARY), Duration::from_secs(60)).await;
    assert_eq!(report.status, Status::Continued, "{}", report.summary);
    assert_eq!((report.tapes.done, report.tapes.unverified, report.tapes.verified), (20, 20, 0));
    assert!(
        report
            .tape_results
            .iter()
            .all(|t| t.verified == Some(false) && t.standby_status.as_deref() == Some("RETRIEVING"))
    );
    let continuation = lab.published("gateway-recovery").pop().unwrap();
    assert!(continuation.message.contains("RecoveryContinuation"), "{}", continuation.message);

    // Arriving within the wait: confirmed in the same run.
    let lab = Lab::generated(tapes(20)).await;
    lab.sim.set_behaviour(Behaviour { recovered_after_ms: 300, ..Behaviour::default() }).unwrap();
    let config = RecoverConfig { verify_wait: Duration::from_secs(10), ..lab.recover_config() };
    let report = lab.recover_with(&config, direct(PRIMARY), Duration::from_secs(60)).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    assert_eq!((report.tapes.done, report.tapes.verified, report.tapes.unverified), (20, 20, 0));
}

#[tokio::test]
async fn a_clone_deleted_since_is_reported_missing_and_the_others_are_still_confirmed() {
    let lab = volume_lab(4).await;
    assert_eq!(lab.recover(direct(VOLUMES)).await.status, Status::Completed);
    let gone = volumes_on(&lab, VOLUME_STANDBY).remove(2);
    lab.sim.with_world(|w| w.volumes.remove(&gone.arn));
    let again = lab.recover(direct(VOLUMES)).await;
    assert_eq!(again.status, Status::Partial, "{}", again.summary);
    assert_eq!((again.volumes.failed, again.volumes.verified), (1, 3), "{:?}", again.volumes);
    let missing = again.volume_results.iter().find(|v| v.outcome == Outcome::Failed).unwrap();
    assert_eq!(Some(&missing.arn), gone.source_volume_arn.as_ref());
    let e = missing.error.as_ref().unwrap();
    assert_eq!(e.code.as_deref(), Some("CloneNotUsable"));
    assert!(e.message.contains("not on the standby"), "{}", e.message);
}

#[tokio::test]
async fn the_volume_standby_going_offline_mid_run_stops_the_clones_and_a_later_run_finishes() {
    let lab = volume_lab(32).await;
    lab.sim.set_faults(latency(20)).unwrap();
    let config = RecoverConfig { max_concurrency: 2, ..lab.recover_config() };
    let pull_the_plug = async {
        until("8 clones", || lab.count("CreateCachediSCSIVolume") >= 8).await;
        assert!(lab.sim.set_connected(VOLUME_STANDBY, false));
    };
    let (report, ()) =
        tokio::join!(lab.recover_with(&config, direct(VOLUMES), Duration::from_secs(120)), pull_the_plug);
    assert_eq!(report.status, Status::Partial, "{}", report.summary);
    assert!(report.retryable, "{}", report.summary);
    assert!(
        report.summary.contains("GatewayNotConnected") && report.summary.contains("run again"),
        "{}",
        report.summary
    );
    assert!(report.volumes.pending > 0, "the clones not started are left for the next run: {:?}", report.volumes);
    assert_eq!(report.volumes.total, 32);
    let refused = lab.sim.calls().into_iter().filter(|c| c.operation == "CreateCachediSCSIVolume" && !c.ok()).count();
    assert!(refused <= 2, "at most the clones in flight are refused, not one per volume: {refused}");
    let body = lab.published("gateway-reports").pop().unwrap().message;
    assert!(body.contains("not attempted yet"), "{body}");

    assert!(lab.sim.set_connected(VOLUME_STANDBY, true));
    lab.sim.set_faults(FaultConfig::default()).unwrap();
    let later = lab.recover(direct(VOLUMES)).await;
    assert_eq!(later.status, Status::Completed, "{}", later.summary);
    assert_eq!(later.volumes.verified, 32);
    let per_source = clones_per_source(&lab);
    assert!(per_source.len() == 32 && per_source.values().all(|n| *n == 1), "{per_source:?}");
}

#[tokio::test]
async fn a_run_cut_by_the_deadline_continues_and_the_last_report_covers_every_clone() {
    let lab = volume_lab(32).await;
    // Slow clones and fast reads: every slice gets to its clones, and the budget cuts them.
    let slow_clones = FaultSpec { latency_ms: 300, ..Default::default() };
    let faults =
        FaultConfig { operations: [("CreateCachediSCSIVolume".to_owned(), slow_clones)].into(), ..Default::default() };
    lab.sim.set_faults(faults).unwrap();
    let config = RecoverConfig { max_concurrency: 2, ..lab.recover_config() };
    let mut req = direct(VOLUMES);
    let mut slices = 0;
    let last = loop {
        slices += 1;
        // 2 s slices: on a loaded machine a 1 s slice can end before giving its lease back,
        // and the next then waits for it to expire.
        let report = lab.recover_with(&config, req, Duration::from_secs(2)).await;
        if report.status != Status::Continued {
            break report;
        }
        let m = lab.published("gateway-recovery").pop().unwrap();
        req = decode_event(&serde_json::from_str(&m.message).unwrap()).unwrap().remove(0);
        assert!(slices < 30, "no progress: {}", report.summary);
    };
    assert!(slices > 1, "the budget should have cut the first run");
    assert_eq!(last.status, Status::Completed, "{}", last.summary);
    assert_eq!(
        (last.volumes.done, last.volumes.already_done, last.volumes.verified),
        (32, 0, 32),
        "the last report counts the earlier slices' clones as this recovery's"
    );
    assert_eq!(lab.count("CreateCachediSCSIVolume"), 32, "a slice does not ask again for a clone already made");
    assert!(clones_per_source(&lab).values().all(|n| *n == 1));
}
