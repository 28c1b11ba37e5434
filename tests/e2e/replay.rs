//! Every sample event in `events/`, replayed on the real function binaries against the
//! simulator loaded with `events/fleet.json`. Each sample gets a fresh world and ledger, the
//! few steps that lead up to it (an open Health event before a release, a sweep before a
//! re-probe, ...), and an assertion on its answer and on what it changed.
//!
//! Two drivers run the same cases: the binaries under the local Lambda runtime (always),
//! and `cargo lambda watch` + `cargo lambda invoke --data-file` (ignored by default: it
//! needs cargo-lambda on the PATH; `.ci/run` runs it). Three more keep the samples honest:
//! every file in `events/` is replayed (and described in `events/README.md`), every trigger
//! the decoders accept has a sample, and each sample has the shape AWS delivers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use aws_lambda_events::event::cloudwatch_alarms::CloudWatchAlarm;
use aws_lambda_events::event::cloudwatch_events::health::Event as HealthDetail;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::ledger::{Hold, HoldState, Watch, WatchState, fleet_pk, gateway_pk, region_pk};
use shared::monitor::health::HealthStatus;
use shared::monitor::request::{AlarmState, AlarmTarget, AlarmVia};
use shared::monitor::{self, MonitorRequest};
use shared::recover::{self, Source};
use tests::simulator::{CallRecord, Fleet, Service};
use tests::{Function, FunctionUnderTest, Lab, function_env, gateway, gateway_arn, invoke, start, workspace};

use Function::{Monitor, Recover};
use Step::{Connect, Event, Prepare, Sample, Wait};

const PRIMARY: &str = "sgw-12A3456B";
const STANDBY: &str = "sgw-23B4567C";
const VOLUMES: &str = "sgw-34C5678D";
const FILE_SHARE: &str = "sgw-45D6789E";
const FLEET_IDS: [&str; 4] = [PRIMARY, STANDBY, VOLUMES, FILE_SHARE];
/// The hold `health-issue-open.json` places (`health-` and the tail of its event ARN).
const HEALTH_HOLD: &str = "health-AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE_BQZTN_4415562781";
const QUEUE: &str = "gateway-reprobe";
const REGION: &str = "us-east-1";

fn events_dir() -> PathBuf {
    workspace().join("events")
}

fn sample_path(f: Function, file: &str) -> PathBuf {
    events_dir().join(f.name()).join(file)
}

fn read_sample(f: Function, file: &str) -> Value {
    let path = sample_path(f, file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

fn fleet() -> Fleet {
    Fleet::from_file(&events_dir().join("fleet.json").to_string_lossy()).expect("events/fleet.json")
}

// ---------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------

/// What happens before the sample arrives.
enum Step {
    /// Another sample, replayed first.
    Sample(Function, &'static str),
    /// An event that is not a sample (JSON text).
    Event(Function, &'static str),
    /// The simulator pulls a gateway's plug, or plugs it back in.
    Connect(&'static str, bool),
    /// Let time pass (a 1-second grace period).
    Wait(Duration),
    /// Change the world through the SDK, as an earlier run would have.
    Prepare(fn(&Lab) -> BoxFuture<'_, ()>),
}

struct Case {
    function: Function,
    file: &'static str,
    given: Vec<Step>,
    /// Settings beyond `function_env`, for both functions.
    env: &'static [(&'static str, &'static str)],
    check: fn(&Replayed<'_>),
}

/// A grace period the tests can wait out.
const SHORT_GRACE: &[(&str, &str)] = &[("OFFLINE_GRACE_SECONDS", "1")];
const GRACE_PASSES: Duration = Duration::from_millis(1100);

/// The steps that leave both offline gateways handed off under the Health hold.
fn handed_off_under_the_health_hold() -> Vec<Step> {
    vec![
        Sample(Monitor, "health-issue-open.json"),
        Sample(Monitor, "scheduled-sweep.json"),
        Wait(GRACE_PASSES),
        Sample(Monitor, "scheduler-sweep-input.json"),
    ]
}

/// What the first slice of a recovery did before it ran out of time: it disabled the
/// gateway and retrieved these tapes to the standby.
async fn first_slice_did(lab: &Lab, barcodes: &[&str]) {
    let sgw = lab.sgw();
    sgw.disable_gateway().gateway_arn(gateway_arn(PRIMARY)).send().await.expect("DisableGateway");
    for b in barcodes {
        sgw.retrieve_tape_recovery_point()
            .tape_arn(tests::tape_arn(b))
            .gateway_arn(gateway_arn(STANDBY))
            .send()
            .await
            .expect("RetrieveTapeRecoveryPoint");
    }
}

fn cases() -> Vec<Case> {
    vec![
        // --- gateway-monitor: sweeps ---------------------------------------------------
        Case {
            function: Monitor,
            file: "scheduled-sweep.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["trigger"], "schedule");
                assert_eq!(
                    (a["checked"].as_u64(), a["notWatched"].as_u64()),
                    (Some(3), Some(1)),
                    "the standby is untagged"
                );
                assert_eq!((a["counts"]["offline"].as_u64(), a["counts"]["online"].as_u64()), (Some(2), Some(1)));
                assert_eq!(ids(&a["newlySuspected"]), [PRIMARY, VOLUMES]);
                assert_eq!(ids(&a["newlyFailed"]), Vec::<String>::new(), "the grace period has just started");
                for id in [PRIMARY, VOLUMES] {
                    assert_eq!(r.ledger.watch(id).map(|w| w.state), Some(WatchState::Suspected), "{id}");
                }
                assert!(r.ledger.watch(FILE_SHARE).is_none());
                // A re-probe for each suspect, due when its grace period (900 s) ends.
                let queued = r.new_queue_messages();
                assert_eq!(queued.len(), 2, "{queued:?}");
                for (body, delay_ms) in &queued {
                    assert_eq!(body["type"], "Reprobe");
                    assert!((899_000..=901_000).contains(delay_ms), "delayed {delay_ms} ms");
                }
                assert!(r.published("gateway-recovery").is_empty(), "no hand-off before the grace period");
                assert!(r.sgw_mutations().is_empty(), "{:?}", r.sgw_mutations());
            },
        },
        Case {
            function: Monitor,
            file: "scheduler-sweep-input.json",
            given: vec![Sample(Monitor, "scheduled-sweep.json")],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["trigger"], "schedule");
                assert_eq!(a["counts"]["offline"], 2);
                // The second sweep only counts the suspects' offline time: no new suspicion,
                // no second re-probe, no hand-off.
                assert!(ids(&a["newlySuspected"]).is_empty() && ids(&a["newlyFailed"]).is_empty(), "{a}");
                assert_eq!(change_of(a, PRIMARY), "still-suspected");
                assert!(r.new_queue_messages().is_empty());
                assert!(r.published("gateway-recovery").is_empty());
            },
        },
        // --- gateway-monitor: alarms ---------------------------------------------------
        Case {
            function: Monitor,
            file: "alarm-state-change-alarm.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["trigger"].as_str(), a["checked"].as_u64()), (Some("alarm"), Some(1)), "{a}");
                assert_eq!(
                    (a["alarm"]["via"].as_str(), a["alarm"]["state"].as_str()),
                    (Some("eventbridge"), Some("ALARM"))
                );
                assert_eq!(probed(a), [(PRIMARY.to_owned(), "offline".to_owned())], "only the gateway the alarm names");
                assert_eq!(change_of(a, PRIMARY), "newly-suspected");
                assert_eq!(r.ledger.watch(PRIMARY).map(|w| w.state), Some(WatchState::Suspected));
                assert!(r.ledger.watch(VOLUMES).is_none(), "an alarm probes one gateway, not the fleet");
            },
        },
        Case {
            function: Monitor,
            file: "alarm-lambda-action.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(
                    (a["trigger"].as_str(), a["alarm"]["via"].as_str()),
                    (Some("alarm"), Some("lambda-action")),
                    "{a}"
                );
                assert_eq!(probed(a), [(PRIMARY.to_owned(), "offline".to_owned())]);
                assert_eq!(r.ledger.watch(PRIMARY).map(|w| w.state), Some(WatchState::Suspected));
            },
        },
        Case {
            function: Monitor,
            file: "alarm-sns-notification.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["trigger"].as_str(), a["alarm"]["via"].as_str()), (Some("alarm"), Some("sns")), "{a}");
                assert_eq!(probed(a), [(VOLUMES.to_owned(), "offline".to_owned())]);
                assert_eq!(r.ledger.watch(VOLUMES).map(|w| w.state), Some(WatchState::Suspected));
            },
        },
        Case {
            function: Monitor,
            file: "alarm-state-change-by-name.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                // A metric-math alarm naming the gateway by `GatewayName` only: found with ListGateways.
                assert_eq!(a["alarm"]["target"], json!({"name": "volumes"}), "{a}");
                assert_eq!(probed(a), [(VOLUMES.to_owned(), "offline".to_owned())]);
                assert!(r.new_calls().iter().any(|c| c.operation == "ListGateways"));
                assert_eq!(r.ledger.watch(VOLUMES).map(|w| w.state), Some(WatchState::Suspected));
            },
        },
        Case {
            function: Monitor,
            file: "alarm-state-change-ok.json",
            // file-share went offline, was suspected, and is back when its alarm clears.
            given: vec![
                Connect(FILE_SHARE, false),
                Event(
                    Monitor,
                    r#"{"gatewayArns": ["arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-45D6789E"]}"#,
                ),
                Connect(FILE_SHARE, true),
            ],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["trigger"].as_str(), a["alarm"]["state"].as_str()), (Some("alarm"), Some("OK")), "{a}");
                assert_eq!(ids(&a["recoveredOnline"]), [FILE_SHARE], "an online sighting clears the suspicion");
                assert!(r.ledger.watch(FILE_SHARE).is_none(), "its debounce item is gone");
            },
        },
        // --- gateway-monitor: direct probe --------------------------------------------
        Case {
            function: Monitor,
            file: "direct-probe.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["trigger"].as_str(), a["checked"].as_u64()), (Some("direct"), Some(2)), "{a}");
                assert_eq!(ids(&a["newlySuspected"]), [PRIMARY, VOLUMES]);
                assert!(r.ledger.watch(FILE_SHARE).is_none(), "only the named gateways are probed");
                assert!(r.published("gateway-recovery").is_empty(), "no hand-off yet");
            },
        },
        // --- gateway-monitor: the re-probe queue ---------------------------------------
        Case {
            function: Monitor,
            file: "sqs-reprobe.json",
            // Suspected by a sweep; the re-probe arrives when the (1-second) grace period is over.
            given: vec![Sample(Monitor, "scheduled-sweep.json"), Wait(GRACE_PASSES)],
            env: SHORT_GRACE,
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["trigger"].as_str(), a["checked"].as_u64()), (Some("reprobe"), Some(1)), "{a}");
                assert_eq!(ids(&a["newlyFailed"]), [PRIMARY], "only the gateway the message names");
                let hand_offs = r.published("gateway-recovery");
                assert_eq!(hand_offs.len(), 1, "handed off once: {hand_offs:?}");
                assert_eq!(
                    (hand_offs[0]["type"].as_str(), hand_offs[0]["gatewayArn"].as_str()),
                    (Some("GatewayOffline"), Some(gateway_arn(PRIMARY).as_str()))
                );
                assert!(hand_offs[0].get("heldBy").is_none());
                let w = r.ledger.watch(PRIMARY).expect("debounce item");
                assert!(w.state == WatchState::HandedOff && w.published, "{w:?}");
                assert_eq!(
                    r.ledger.watch(VOLUMES).map(|w| w.state),
                    Some(WatchState::Suspected),
                    "its own re-probe decides"
                );
            },
        },
        // --- gateway-monitor: AWS Health ----------------------------------------------
        Case {
            function: Monitor,
            file: "health-issue-open.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["trigger"], "health", "{a}");
                assert_eq!(a["holds"][0]["id"], HEALTH_HOLD);
                assert_eq!(a["holds"][0]["state"], "active");
                let hold = r.ledger.hold(HEALTH_HOLD).expect("the hold is in the ledger");
                assert_eq!((hold.region.as_str(), hold.state.clone()), (REGION, HoldState::Active));
                assert!(
                    hold.reason.contains("AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE")
                        && hold.reason.contains("[Investigating]")
                );
                let alerts = r.published_subjects("gateway-reports");
                assert_eq!(alerts, ["HOLD: AWS Health reports a Storage Gateway issue in us-east-1"], "announced once");
                assert!(r.new_calls().iter().all(|c| c.service != Service::StorageGateway), "a hold probes nothing");
            },
        },
        Case {
            function: Monitor,
            file: "health-issue-updated.json",
            given: vec![Sample(Monitor, "health-issue-open.json")],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(
                    (a["holds"][0]["id"].as_str(), a["holds"][0]["state"].as_str()),
                    (Some(HEALTH_HOLD), Some("active"))
                );
                let hold = r.ledger.hold(HEALTH_HOLD).expect("the hold is still there");
                assert!(hold.reason.contains("[Update]"), "the latest description is kept: {}", hold.reason);
                assert_eq!(r.ledger.holds().len(), 1, "the same event, the same hold");
                assert!(r.published_subjects("gateway-reports").is_empty(), "an update announces nothing new");
            },
        },
        Case {
            function: Monitor,
            file: "health-issue-closed.json",
            given: handed_off_under_the_health_hold(),
            env: SHORT_GRACE,
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["trigger"], "health", "{a}");
                assert!(r.ledger.hold(HEALTH_HOLD).is_none(), "the closed event lifts its hold");
                assert_eq!(
                    r.published_subjects("gateway-reports"),
                    [format!("Hold lifted in us-east-1: {HEALTH_HOLD}")]
                );
                // The hand-offs it held go out again, with no hold on them.
                assert_eq!(ids(&a["resumed"]), [PRIMARY, VOLUMES]);
                let resumed = r.published("gateway-recovery");
                assert_eq!(resumed.len(), 2, "{resumed:?}");
                assert!(
                    resumed.iter().all(|m| m["type"] == "GatewayOffline" && m.get("heldBy").is_none()),
                    "{resumed:?}"
                );
                assert!(r.ledger.watch(PRIMARY).is_some_and(|w| w.held_by.is_none() && w.published));
            },
        },
        Case {
            function: Monitor,
            file: "health-scheduled-change.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["trigger"], "ignored", "{a}");
                assert!(a["ignoredReason"].as_str().is_some_and(|w| w.contains("not a Storage Gateway issue")), "{a}");
                assert!(r.ledger.holds().is_empty(), "a scheduled change holds nothing");
                assert!(r.new_calls().is_empty(), "{:?}", r.new_calls());
            },
        },
        // --- gateway-monitor: operator actions ----------------------------------------
        Case {
            function: Monitor,
            file: "release-hold.json",
            given: handed_off_under_the_health_hold(),
            env: SHORT_GRACE,
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["trigger"], "release-hold", "{a}");
                assert_eq!(
                    (a["holds"][0]["id"].as_str(), a["holds"][0]["state"].as_str()),
                    (Some(HEALTH_HOLD), Some("released"))
                );
                let hold = r.ledger.hold(HEALTH_HOLD).expect("a released hold stays until its event closes");
                assert!(
                    matches!(&hold.state, HoldState::Released { by, .. } if by == "jane.doe@example.com"),
                    "{:?}",
                    hold.state
                );
                let audit = r.ledger.sort_keys(&region_pk(REGION));
                assert!(
                    audit.iter().any(|sk| sk.starts_with("audit#release#") && sk.ends_with(HEALTH_HOLD)),
                    "{audit:?}"
                );
                assert_eq!(ids(&a["resumed"]), [PRIMARY, VOLUMES], "the held hand-offs go out again");
                assert!(r.published("gateway-recovery").iter().all(|m| m.get("heldBy").is_none()));
                assert_eq!(
                    r.published_subjects("gateway-reports"),
                    ["Hold released in us-east-1 by jane.doe@example.com"]
                );
            },
        },
        Case {
            function: Monitor,
            file: "readiness-check.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert!(a["checkedAt"].is_string(), "a readiness report: {a}");
                let verdicts: BTreeMap<String, bool> = a["gateways"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|g| (g["gatewayId"].as_str().unwrap_or_default().to_owned(), g["ready"] == true))
                    .collect();
                // The three watched gateways, each judged; none of this fleet is ready.
                assert_eq!(verdicts.keys().map(String::as_str).collect::<Vec<_>>(), [PRIMARY, VOLUMES, FILE_SHARE]);
                assert_eq!((a["ready"].as_u64(), a["notReady"].as_u64()), (Some(0), Some(3)));
                assert!(reasons_of(a, PRIMARY).contains("recovery:auto-disable"), "{}", reasons_of(a, PRIMARY));
                assert!(reasons_of(a, VOLUMES).contains("no standby"), "{}", reasons_of(a, VOLUMES));
                assert!(reasons_of(a, FILE_SHARE).contains("no standby"), "{}", reasons_of(a, FILE_SHARE));
                assert_eq!(r.published_subjects("gateway-reports"), ["Readiness: 3 of 3 watched gateways NOT ready"]);
                assert!(r.sgw_mutations().is_empty(), "a readiness check changes nothing");
            },
        },
        // --- recover-gateway: direct ----------------------------------------------------
        Case {
            function: Recover,
            file: "direct-dry-run.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["status"].as_str(), a["dryRun"].as_bool()), (Some("dry-run"), Some(true)), "{a}");
                assert_eq!(a["tapes"]["planned"], 4);
                assert!(r.sgw_mutations().is_empty(), "a dry run changes nothing: {:?}", r.sgw_mutations());
                assert!(r.ledger.sort_keys(&gateway_pk(&gateway(PRIMARY))).iter().all(|sk| !sk.starts_with("run#")));
            },
        },
        Case {
            function: Recover,
            file: "direct-execute.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["status"], "awaiting-approval", "untagged for automatic disable: {a}");
                assert_eq!(a["approval"]["approveDisable"], true, "the answer carries the payload to approve with");
                assert_eq!(a["approval"]["failedGatewayArn"], gateway_arn(PRIMARY));
                assert_eq!((r.applied("DisableGateway"), r.applied("RetrieveTapeRecoveryPoint")), (0, 0));
                assert_eq!(r.published("gateway-reports").len(), 1, "reported");
            },
        },
        Case {
            function: Recover,
            file: "direct-execute-approved.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["status"], "completed", "{a}");
                assert_eq!((a["tapes"]["done"].as_u64(), a["disable"]["action"].as_str()), (Some(4), Some("disabled")));
                assert_eq!((r.applied("DisableGateway"), r.applied("RetrieveTapeRecoveryPoint")), (1, 4));
                assert_eq!(r.recovered_on_standby(), 4);
                assert!(r.ledger.sort_keys(&gateway_pk(&gateway(PRIMARY))).contains(&"audit#disable".to_owned()));
                assert_eq!(
                    r.published_subjects("gateway-reports").last().map(String::as_str),
                    Some(format!("Recovered 4/4 tapes from {PRIMARY} to {STANDBY}").as_str())
                );
            },
        },
        Case {
            function: Recover,
            file: "direct-execute-override-hold.json",
            given: vec![Sample(Monitor, "health-issue-open.json")],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["status"], "completed", "the operator overrides the hold by id: {a}");
                assert_eq!(r.applied("DisableGateway"), 1);
                assert_eq!(r.recovered_on_standby(), 4);
                assert!(
                    r.ledger.hold(HEALTH_HOLD).is_some_and(|h| h.state == HoldState::Active),
                    "overriding a hold does not lift it for others"
                );
            },
        },
        // --- recover-gateway: hand-offs from gateway-monitor ---------------------------
        Case {
            function: Recover,
            file: "sns-gateway-offline-tape.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(
                    a["status"], "awaiting-approval",
                    "tape-primary is not tagged recovery:auto-disable=true: {a}"
                );
                assert_eq!(a["failedGateway"]["id"], PRIMARY);
                assert_eq!(r.applied("DisableGateway"), 0);
                assert_eq!(r.published("gateway-reports").len(), 1, "the operator is asked, once");
            },
        },
        Case {
            function: Recover,
            file: "sns-gateway-offline-volumes.json",
            given: vec![],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(
                    (a["status"].as_str(), a["failedGateway"]["id"].as_str()),
                    (Some("completed"), Some(VOLUMES)),
                    "{a}"
                );
                // No volume standby in this fleet: each volume's recovery point becomes a snapshot.
                assert_eq!((a["volumes"]["total"].as_u64(), a["volumes"]["done"].as_u64()), (Some(2), Some(2)));
                let snapshots: Vec<&str> = a["volumeResults"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["snapshotId"].as_str())
                    .collect();
                assert_eq!(snapshots.len(), 2, "{a}");
                assert_eq!(r.applied("CreateSnapshotFromVolumeRecoveryPoint"), 2);
                assert_eq!(r.applied("DisableGateway"), 0, "volumes are recovered without disabling the gateway");
                assert_eq!(r.published("gateway-reports").len(), 1);
            },
        },
        Case {
            function: Recover,
            file: "message-gateway-offline-held.json",
            given: vec![Sample(Monitor, "health-issue-open.json")],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!(a["status"], "awaiting-approval", "{a}");
                assert_eq!(a["holds"][0]["id"], HEALTH_HOLD, "held by the Health event");
                assert_eq!(a["approval"]["overrideHolds"], json!([HEALTH_HOLD]), "the payload that would pass it");
                assert_eq!((r.applied("DisableGateway"), r.applied("RetrieveTapeRecoveryPoint")), (0, 0));
                assert!(
                    r.published("gateway-reports").is_empty(),
                    "the monitor reports a hold once, for the whole event"
                );
            },
        },
        // --- recover-gateway: continuations --------------------------------------------
        Case {
            function: Recover,
            file: "sns-continuation.json",
            given: vec![Prepare(|lab| Box::pin(first_slice_did(lab, &["TEST04A2A1", "TEST04A2A2"])))],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["status"].as_str(), a["slice"].as_u64()), (Some("completed"), Some(2)), "{a}");
                // The last slice's report covers the whole recovery: slice 1's tapes count as done.
                assert_eq!((a["tapes"]["done"].as_u64(), a["tapes"]["alreadyDone"].as_u64()), (Some(4), Some(0)));
                assert_eq!(r.applied("RetrieveTapeRecoveryPoint"), 2, "only what slice 1 left");
                assert_eq!(r.applied("DisableGateway"), 0, "slice 1 disabled it");
                assert_eq!(r.recovered_on_standby(), 4);
            },
        },
        Case {
            function: Recover,
            file: "message-recovery-continuation.json",
            given: vec![Prepare(|lab| Box::pin(first_slice_did(lab, &["TEST04A2A1", "TEST04A2A2", "TEST04A2A3"])))],
            env: &[],
            check: |r| {
                let a = &r.answer;
                assert_eq!((a["status"].as_str(), a["slice"].as_u64()), (Some("completed"), Some(3)), "{a}");
                assert_eq!((a["tapes"]["done"].as_u64(), a["tapes"]["alreadyDone"].as_u64()), (Some(4), Some(0)));
                assert_eq!(r.applied("RetrieveTapeRecoveryPoint"), 1, "only the last tape");
                assert_eq!(r.applied("DisableGateway"), 0);
                assert_eq!(r.recovered_on_standby(), 4);
            },
        },
    ]
}

// ---------------------------------------------------------------------------------------
// What a check sees
// ---------------------------------------------------------------------------------------

/// A sample's answer, and the world right after it.
struct Replayed<'a> {
    answer: Value,
    lab: &'a Lab,
    ledger: LedgerView,
    /// The calls the sample's run made (taken before the ledger was read for the check).
    calls: Vec<CallRecord>,
    /// Simulator log lengths before the sample: what is after is the sample's doing.
    messages_before: usize,
    queued_before: usize,
}

impl Replayed<'_> {
    fn new_calls(&self) -> &[CallRecord] {
        &self.calls
    }

    fn applied(&self, op: &str) -> usize {
        self.new_calls().iter().filter(|c| c.applied && c.operation == op).count()
    }

    fn sgw_mutations(&self) -> Vec<String> {
        self.calls
            .iter()
            .filter(|c| c.mutating && c.applied && c.service == Service::StorageGateway)
            .map(|c| c.operation.clone())
            .collect()
    }

    /// Messages the sample's run published to a topic, as JSON (`{"text": ..}` when not JSON).
    fn published(&self, topic: &str) -> Vec<Value> {
        self.new_messages(topic)
            .into_iter()
            .map(|m| serde_json::from_str(&m.message).unwrap_or_else(|_| json!({"text": m.message})))
            .collect()
    }

    fn published_subjects(&self, topic: &str) -> Vec<String> {
        self.new_messages(topic).into_iter().map(|m| m.subject.unwrap_or_default()).collect()
    }

    fn new_messages(&self, topic: &str) -> Vec<tests::simulator::world::Message> {
        let suffix = format!(":{topic}");
        self.lab
            .sim
            .messages()
            .into_iter()
            .skip(self.messages_before)
            .filter(|m| m.topic_arn.ends_with(&suffix))
            .collect()
    }

    /// Re-probes the sample queued: body and delay.
    fn new_queue_messages(&self) -> Vec<(Value, u64)> {
        self.lab
            .sim
            .queue_messages(QUEUE)
            .into_iter()
            .skip(self.queued_before)
            .map(|m| (serde_json::from_str(&m.body).unwrap_or(Value::Null), m.due_at_ms.saturating_sub(m.sent_at_ms)))
            .collect()
    }

    fn recovered_on_standby(&self) -> usize {
        self.lab.tapes_on(STANDBY).iter().filter(|(_, s)| s == "RECOVERED").count()
    }
}

/// The ledger items of the fleet's region and gateways, read after the sample.
struct LedgerView {
    items: Vec<(String, String, Value)>,
}

impl LedgerView {
    async fn read(lab: &Lab) -> Self {
        let mut pks = vec![region_pk(REGION), fleet_pk(REGION)];
        pks.extend(FLEET_IDS.iter().map(|id| gateway_pk(&gateway(id))));
        let mut items = Vec::new();
        for pk in pks {
            for i in lab.ledger_items(&pk, "").await {
                items.push((i.key.pk.clone(), i.key.sk.clone(), Value::Object(i.body)));
            }
        }
        Self { items }
    }

    fn sort_keys(&self, pk: &str) -> Vec<String> {
        self.items.iter().filter(|(p, _, _)| p == pk).map(|(_, sk, _)| sk.clone()).collect()
    }

    fn holds(&self) -> Vec<Hold> {
        let pk = region_pk(REGION);
        self.items
            .iter()
            .filter(|(p, sk, _)| *p == pk && sk.starts_with("hold#"))
            .map(|(_, sk, v)| serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{sk}: {e}")))
            .collect()
    }

    fn hold(&self, id: &str) -> Option<Hold> {
        self.holds().into_iter().find(|h| h.id == id)
    }

    fn watch(&self, id: &str) -> Option<Watch> {
        let (pk, sk) = (fleet_pk(REGION), format!("gateway#{}", gateway(id)));
        self.items
            .iter()
            .find(|(p, s, _)| *p == pk && *s == sk)
            .map(|(_, _, v)| serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{sk}: {e}")))
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ids(v: &Value) -> Vec<String> {
    sorted(v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect())
}

/// The gateways a monitor run probed, with what it saw.
fn probed(a: &Value) -> Vec<(String, String)> {
    a["gateways"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| (g["gatewayId"].as_str().unwrap_or("?").to_owned(), g["health"].as_str().unwrap_or("?").to_owned()))
        .collect()
}

fn change_of(a: &Value, id: &str) -> String {
    let g = a["gateways"].as_array().into_iter().flatten().find(|g| g["gatewayId"] == id);
    g.and_then(|g| g["change"].as_str()).unwrap_or("(not probed)").to_owned()
}

fn reasons_of(a: &Value, id: &str) -> String {
    let g = a["gateways"].as_array().into_iter().flatten().find(|g| g["gatewayId"] == id);
    g.map(|g| g["reasons"].to_string()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Drivers
// ---------------------------------------------------------------------------------------

/// The environment of both functions for a case: the tests' settings, the re-probe queue,
/// and the case's own.
fn case_env(lab: &Lab, f: Function, extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut env = function_env(lab, f);
    if f == Monitor {
        env.push(("REPROBE_QUEUE_URL", format!("https://sqs.{REGION}.amazonaws.com/{}/{QUEUE}", tests::ACCOUNT)));
    }
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

/// How a payload reaches a function.
enum Payload<'a> {
    File(&'a Path),
    Text(&'a str),
}

trait Driver: Sized {
    async fn start(lab: &Lab, env: &[(&'static str, &'static str)]) -> Self;
    /// The function's answer; panics if the invocation failed.
    async fn invoke(&self, f: Function, payload: Payload<'_>) -> Value;
}

/// The binaries under the local Lambda runtime.
struct LocalLambda {
    monitor: FunctionUnderTest,
    recover: FunctionUnderTest,
}

impl Driver for LocalLambda {
    async fn start(lab: &Lab, env: &[(&'static str, &'static str)]) -> Self {
        let monitor = start(lab, Monitor, &case_env(lab, Monitor, env)).await;
        let recover = start(lab, Recover, &case_env(lab, Recover, env)).await;
        Self { monitor, recover }
    }

    async fn invoke(&self, f: Function, payload: Payload<'_>) -> Value {
        let text = match payload {
            Payload::File(p) => std::fs::read_to_string(p).expect("sample"),
            Payload::Text(t) => t.to_owned(),
        };
        let event: Value = serde_json::from_str(&text).expect("JSON");
        match invoke(if f == Monitor { &self.monitor } else { &self.recover }, &event).await {
            tests::local_lambda::Outcome::Response(body) => serde_json::from_slice(&body).expect("a JSON answer"),
            tests::local_lambda::Outcome::Error(body) => {
                panic!("{} failed: {}", f.name(), String::from_utf8_lossy(&body))
            }
        }
    }
}

/// `cargo lambda watch` running both functions, invoked with `cargo lambda invoke`.
struct CargoLambda {
    port: u16,
    _watch: tokio::process::Child,
}

impl Driver for CargoLambda {
    async fn start(lab: &Lab, env: &[(&'static str, &'static str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let mut watch = tokio::process::Command::new("cargo");
        watch
            .args(["lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(workspace())
            .env("AWS_ENDPOINT_URL", lab.sim.url())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "AKIDLOCALSIMULATOR")
            .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        // One process serves both functions: the union of their settings (none conflict).
        for f in [Monitor, Recover] {
            for (k, v) in case_env(lab, f, env) {
                watch.env(k, v);
            }
        }
        let watch = watch.spawn().expect("cargo lambda watch starts");
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { port, _watch: watch };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cargo lambda watch did not listen on port {port} within a minute");
    }

    async fn invoke(&self, f: Function, payload: Payload<'_>) -> Value {
        let mut cmd = tokio::process::Command::new("cargo");
        cmd.args(["lambda", "invoke", f.name(), "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string(), "--output-format", "json"])
            .current_dir(workspace());
        match payload {
            Payload::File(p) => cmd.arg("--data-file").arg(p),
            Payload::Text(t) => cmd.arg("--data-ascii").arg(t),
        };
        let out = cmd.output().await.expect("cargo lambda invoke runs");
        assert!(out.status.success(), "{}: {}", f.name(), String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", f.name(), String::from_utf8_lossy(&out.stdout)))
    }
}

/// Replays one case on a fresh world.
async fn replay<D: Driver>(case: &Case) {
    let lab = Lab::start(fleet()).await;
    let driver = D::start(&lab, case.env).await;
    for step in &case.given {
        match step {
            Sample(f, file) => {
                driver.invoke(*f, Payload::File(&sample_path(*f, file))).await;
            }
            Event(f, text) => {
                driver.invoke(*f, Payload::Text(text)).await;
            }
            Connect(id, up) => assert!(lab.sim.set_connected(id, *up), "{id}"),
            Wait(d) => tokio::time::sleep(*d).await,
            Prepare(prepare) => prepare(&lab).await,
        }
    }
    let calls_before = lab.sim.calls().len();
    let messages_before = lab.sim.messages().len();
    let queued_before = lab.sim.queue_messages(QUEUE).len();
    let answer = driver.invoke(case.function, Payload::File(&sample_path(case.function, case.file))).await;
    let calls = lab.sim.calls().into_iter().skip(calls_before).collect();
    let ledger = LedgerView::read(&lab).await;
    let replayed = Replayed { answer, lab: &lab, ledger, calls, messages_before, queued_before };
    // The answer is the first thing to look at when a check fails.
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.check)(&replayed))) {
        eprintln!("{} {}: the answer was {:#}", case.function.name(), case.file, replayed.answer);
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn every_sample_event_replays_on_the_real_binaries() {
    tests::binaries();
    for case in cases() {
        replay::<LocalLambda>(&case).await;
    }
}

/// `cargo lambda` on the PATH (CI puts its virtual environment's `bin` there).
fn cargo_lambda_installed() -> bool {
    std::process::Command::new("cargo")
        .args(["lambda", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
#[ignore = "needs cargo-lambda on the PATH; .ci/run runs it: cargo test -p tests --test e2e replay::every_sample_event_replays_with_cargo_lambda -- --ignored"]
async fn every_sample_event_replays_with_cargo_lambda() {
    assert!(cargo_lambda_installed(), "cargo lambda is not installed (pip install cargo-lambda)");
    // Built up front, so `cargo lambda watch` finds the binaries fresh and starts at once.
    tests::binaries();
    for case in cases() {
        replay::<CargoLambda>(&case).await;
    }
}

// ---------------------------------------------------------------------------------------
// The samples themselves
// ---------------------------------------------------------------------------------------

/// Every file in `events/<function>/` is replayed above, and nothing is replayed that is
/// not there.
#[test]
fn every_sample_is_replayed() {
    let mut on_disk = BTreeSet::new();
    for f in [Monitor, Recover] {
        for entry in std::fs::read_dir(events_dir().join(f.name())).expect("events dir") {
            on_disk.insert(format!("{}/{}", f.name(), entry.expect("entry").file_name().to_string_lossy()));
        }
    }
    let extra: Vec<_> = std::fs::read_dir(events_dir())
        .expect("events/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !["fleet.json", "README.md", "gateway-monitor", "recover-gateway"].contains(&n.as_str()))
        .collect();
    assert!(extra.is_empty(), "events/ holds files no test replays: {extra:?}");
    let cases = cases();
    let replayed: BTreeSet<String> = cases.iter().map(|c| format!("{}/{}", c.function.name(), c.file)).collect();
    assert_eq!(replayed.len(), cases.len(), "a sample is replayed twice");
    assert_eq!(on_disk, replayed, "every sample in events/ must have a replay case, and every case a sample");
    let readme = std::fs::read_to_string(events_dir().join("README.md")).expect("events/README.md");
    for sample in &on_disk {
        assert!(readme.contains(sample.as_str()), "events/README.md does not describe {sample}");
    }
}

/// What a monitor request is, as a trigger. The match is exhaustive: a new variant of
/// `MonitorRequest` does not compile until it is named here and listed in `MONITOR_TRIGGERS`.
fn monitor_trigger(r: &MonitorRequest) -> Vec<&'static str> {
    match r {
        MonitorRequest::Sweep => vec!["sweep"],
        MonitorRequest::Probe(_) => vec!["direct probe"],
        MonitorRequest::Alarm(h) => vec![
            match h.via {
                AlarmVia::Eventbridge => "alarm via EventBridge",
                AlarmVia::LambdaAction => "alarm via its Lambda action",
                AlarmVia::Sns => "alarm via SNS",
            },
            match h.target {
                AlarmTarget::Arn(_) => "alarm names a GatewayId",
                AlarmTarget::Name(_) => "alarm names a GatewayName",
            },
            match h.state {
                AlarmState::Alarm => "alarm in ALARM",
                AlarmState::Ok => "alarm back to OK",
                // The monitor probes on any state; no sample is needed for this one.
                AlarmState::InsufficientData => "alarm INSUFFICIENT_DATA",
            },
        ],
        MonitorRequest::Reprobe(_) => vec!["SQS re-probe"],
        MonitorRequest::Health(h) => vec![match h.status {
            HealthStatus::Open => "Health issue open",
            HealthStatus::Closed => "Health issue closed",
            // Health uses `upcoming` for scheduled changes, which are ignored before their
            // status is read; an upcoming *issue* neither holds nor releases.
            HealthStatus::Upcoming => "Health issue upcoming",
        }],
        MonitorRequest::Readiness => vec!["readiness"],
        MonitorRequest::ReleaseHold(_) => vec!["release-hold"],
        MonitorRequest::Ignored(_) => vec!["ignored"],
    }
}

const MONITOR_TRIGGERS: &[&str] = &[
    "sweep",
    "direct probe",
    "alarm via EventBridge",
    "alarm via its Lambda action",
    "alarm via SNS",
    "alarm names a GatewayId",
    "alarm names a GatewayName",
    "alarm in ALARM",
    "alarm back to OK",
    "SQS re-probe",
    "Health issue open",
    "Health issue closed",
    "readiness",
    "release-hold",
    "ignored",
];

/// Likewise for recover-gateway: the request's source, how it arrived, and the operator's say.
fn recover_trigger(raw: &Value, r: &recover::RecoveryRequest) -> Vec<&'static str> {
    let sns = raw.get("Records").is_some();
    let mut t = vec![match (&r.source, sns) {
        (Source::Direct, _) => "direct",
        (Source::Handoff(m), true) if m.gateway_type == shared::model::GatewayKind::Tape => "SNS GatewayOffline (tape)",
        (Source::Handoff(_), true) => "SNS GatewayOffline (volumes)",
        (Source::Handoff(_), false) => "GatewayOffline message",
        (Source::Continuation(_), true) => "SNS RecoveryContinuation",
        (Source::Continuation(_), false) => "RecoveryContinuation message",
    }];
    if r.dry_run {
        t.push("dryRun");
    }
    if r.approval.disable && r.source == Source::Direct {
        t.push("approveDisable");
    }
    if !r.approval.override_holds.is_empty() {
        t.push("overrideHolds");
    }
    t
}

const RECOVER_TRIGGERS: &[&str] = &[
    "direct",
    "dryRun",
    "approveDisable",
    "overrideHolds",
    "SNS GatewayOffline (tape)",
    "SNS GatewayOffline (volumes)",
    "GatewayOffline message",
    "SNS RecoveryContinuation",
    "RecoveryContinuation message",
];

/// Every sample decodes, and together they cover every trigger either function accepts.
#[test]
fn every_trigger_has_a_sample() {
    let mut covered: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for case in cases() {
        let raw = read_sample(case.function, case.file);
        let kinds = match case.function {
            Monitor => {
                let r = monitor::decode_event(&raw).unwrap_or_else(|e| panic!("{}: {e}", case.file));
                monitor_trigger(&r)
            }
            Recover => {
                let rs = recover::decode_event(&raw).unwrap_or_else(|e| panic!("{}: {e}", case.file));
                rs.iter().flat_map(|r| recover_trigger(&raw, r)).collect()
            }
        };
        for k in kinds {
            covered.entry(k).or_default().push(case.file.to_owned());
        }
    }
    let missing: Vec<&&str> =
        MONITOR_TRIGGERS.iter().chain(RECOVER_TRIGGERS).filter(|t| !covered.contains_key(**t)).collect();
    assert!(missing.is_empty(), "no sample for {missing:?}; covered: {covered:?}");
}

/// The samples have the payload shapes AWS sends, as `aws_lambda_events` reads them (for
/// the Health detail too, which the monitor reads with its own lenient struct).
#[test]
fn samples_have_the_shapes_aws_sends() {
    for case in cases() {
        let raw = read_sample(case.function, case.file);
        let at = case.file;
        let sqs = raw.pointer("/Records/0/eventSource") == Some(&json!("aws:sqs"));
        if sqs {
            let e: SqsEvent = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
            for m in &e.records {
                let body = m.body.as_deref().unwrap_or_default();
                let md5 = m.md5_of_body.as_deref().unwrap_or_default();
                assert_eq!(md5, tests::simulator::sqs::md5::hex(body.as_bytes()), "{at}: md5OfBody is the body's MD5");
                assert_eq!(m.event_source_arn.as_deref(), Some("arn:aws:sqs:us-east-1:123456789012:gateway-reprobe"));
            }
        } else if raw.get("Records").is_some() {
            let e: SnsEvent = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert!(e.records.iter().all(|r| r.event_source == "aws:sns"), "{at}");
        } else if raw.get("alarmData").is_some() {
            let _: CloudWatchAlarm = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
        } else if raw.get("detail-type").is_some() {
            let e: EventBridgeEvent = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!((e.account.as_deref(), e.region.as_deref()), (Some(tests::ACCOUNT), Some(REGION)), "{at}");
            if e.source == "aws.health" {
                assert_eq!(e.detail_type, "AWS Health Event", "{at}");
                // The crate requires `endTime`, which only a closed event has.
                let mut detail = raw["detail"].clone();
                detail.as_object_mut().expect("detail").entry("endTime").or_insert(json!(""));
                let d: HealthDetail = serde_json::from_value(detail).unwrap_or_else(|e| panic!("{at}: {e}"));
                assert_eq!(d.service, "STORAGEGATEWAY", "{at}");
                assert!(d.event_arn.starts_with("arn:aws:health:us-east-1::event/STORAGEGATEWAY/"), "{at}");
                let entities = d.affected_entities.unwrap_or_default();
                assert!(
                    !entities.is_empty()
                        && entities.iter().all(|x| x
                            .entity_value
                            .starts_with("arn:aws:storagegateway:us-east-1:123456789012:gateway/")),
                    "{at}"
                );
                assert_eq!(
                    raw["detail"]["endTime"].is_string(),
                    raw["detail"]["statusCode"] == "closed",
                    "{at}: only a closed event has an end"
                );
            }
        }
        // Every gateway a sample names is in events/fleet.json, so replays find it.
        let text = raw.to_string();
        for (i, _) in text.match_indices("gateway/sgw-") {
            let id: String =
                text[i + "gateway/".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            assert!(FLEET_IDS.contains(&id.as_str()), "{at}: {id} is not in events/fleet.json");
        }
        assert!(!text.contains(":us-west-") && !text.contains(":eu-"), "{at}: the fleet is in us-east-1");
    }
}
