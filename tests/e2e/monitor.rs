//! `gateway-monitor`'s domain, end to end: the real SDK over HTTP against the simulator, the
//! debounce in the ledger (the simulator's DynamoDB, or `LEDGER_ENDPOINT`), and a clock the
//! tests move. The monitor never writes a tag: the tests read the ledger and the call log.
//!
//! The `ManualClock` also moves with real time, so a check that the grace period has *not*
//! passed yet leaves a margin of 20 seconds below it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::config::MonitorConfig;
use shared::deadline::Budget;
use shared::handoff::{Message, Reprobe};
use shared::ledger::{Watch, WatchState, fleet_pk};
use shared::memory::{ManualClock, MemoryQueue};
use shared::monitor::{Monitor, MonitorRequest, MonitorSummary, Trigger, decode_event};
use shared::ports::Clock;
use shared::time::rfc3339;
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY};
use tests::simulator::{CallRecord, FaultConfig, FaultSpec, Service};
use tests::{Lab, REGION, T0, gateway, gateway_arn, latency, summary};

/// The grace period of these tests (the default).
const GRACE: i64 = 900;

/// The primary (offline, tagged), three watched gateways online, two untagged ones.
fn small_fleet() -> FleetShape {
    FleetShape { tapes: 3, gateways: 3, untagged: 2, ..Default::default() }
}

/// The ledger's debounce items of the region.
async fn watches(lab: &Lab) -> Vec<Watch> {
    lab.ledger_items(&fleet_pk(REGION), "gateway#")
        .await
        .into_iter()
        .map(|i| serde_json::from_value(Value::Object(i.body)).expect("a debounce item"))
        .collect()
}

/// The one debounce item, of the primary.
async fn primary_watch(lab: &Lab) -> Watch {
    let mut w = watches(lab).await;
    assert_eq!(w.len(), 1, "one debounce item: {w:?}");
    let w = w.remove(0);
    assert_eq!(w.gateway_arn, gateway_arn(PRIMARY));
    w
}

/// The functions keep their state in the ledger: not a single tag is ever written.
fn assert_no_tag_writes(lab: &Lab) {
    let writes: Vec<String> = lab
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.operation == "AddTagsToResource" || c.operation == "RemoveTagsFromResource")
        .map(|c| c.operation)
        .collect();
    assert!(writes.is_empty(), "the monitor never writes a tag: {writes:?}");
}

/// Alerts on the report topic whose `event` attribute is `event`.
fn alerts(lab: &Lab, event: &str) -> Vec<tests::simulator::world::Message> {
    lab.published("gateway-reports")
        .into_iter()
        .filter(|m| m.attributes.get("event").is_some_and(|(_, v)| v == event))
        .collect()
}

async fn run(lab: &Lab, config: &MonitorConfig, clock: &ManualClock, request: MonitorRequest) -> MonitorSummary {
    summary(lab.monitor_with(config, clock, None, request).await)
}

/// A run with a budget of its own (the harness gives every run 100 seconds).
async fn run_within(lab: &Lab, clock: &ManualClock, request: MonitorRequest, budget: Duration) -> MonitorSummary {
    let config = lab.monitor_config(900);
    let monitor = Monitor {
        gateway: &lab.clients.gateway,
        notifier: &lab.clients.notifier,
        ledger: &lab.ledger,
        queue: None::<&MemoryQueue>,
        clock,
        config: &config,
    };
    summary(monitor.run(request, Budget::after(budget, Duration::from_secs(5))).await)
}

/// Whether the ledger is the simulator's, so its calls are in the simulator's call log (not
/// with `LEDGER_ENDPOINT`).
fn ledger_on_simulator() -> bool {
    tests::ledger_endpoint().is_none()
}

/// Calls made after the first `from` ones.
fn calls_after(lab: &Lab, from: usize) -> Vec<CallRecord> {
    lab.sim.calls().into_iter().skip(from).collect()
}

fn ledger_writes(calls: &[CallRecord]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.service == Service::DynamoDb && c.mutating)
        .map(|c| format!("{} {}", c.operation, c.param("sk").unwrap_or("?")))
        .collect()
}

#[tokio::test]
async fn a_real_outage_hands_off_exactly_once_after_the_grace_period() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let s = lab.sweep(&clock).await;
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    assert!(s.newly_failed.is_empty());
    let w = primary_watch(&lab).await;
    assert_eq!(w.state, WatchState::Suspected);
    let since = w.offline_since;
    assert!((T0..T0 + 20).contains(&since), "first seen offline at this sweep: {since}");
    assert_eq!(w.last_seen_online, None, "no sweep saw it online before");

    clock.advance_secs(600);
    let s = lab.sweep(&clock).await;
    assert!(s.newly_failed.is_empty() && s.newly_suspected.is_empty(), "10 minutes < 15 minutes of grace: {s:?}");
    clock.advance_secs(280);
    assert!(lab.sweep(&clock).await.newly_failed.is_empty(), "still inside the grace period");
    assert!(lab.hand_offs().is_empty());
    assert_eq!(primary_watch(&lab).await.offline_since, since, "the debounce keeps the first sighting");

    clock.advance_secs(20);
    let s = lab.sweep(&clock).await;
    assert_eq!(s.newly_failed, vec![PRIMARY.to_owned()]);
    assert!(s.held.is_empty());
    let h = lab.hand_offs();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["type"], "GatewayOffline");
    assert_eq!(h[0]["version"], 1);
    assert_eq!(h[0]["gatewayArn"], gateway_arn(PRIMARY));
    assert_eq!(h[0]["gatewayName"], "tape-primary");
    assert_eq!(h[0]["gatewayType"], "VTL");
    assert_eq!(h[0]["offlineSince"], rfc3339(since));
    assert_eq!(h[0]["outageId"], format!("{PRIMARY}@{}", rfc3339(since)));
    assert!(h[0].get("heldBy").is_none(), "no hold: {}", h[0]);
    let w = primary_watch(&lab).await;
    assert_eq!((w.state, w.published), (WatchState::HandedOff, true));
    assert_eq!(w.outage_id.as_deref(), h[0]["outageId"].as_str());
    let alert = alerts(&lab, "GatewayFailed");
    assert_eq!(alert.len(), 1);
    let subject = alert[0].subject.clone().unwrap_or_default();
    assert!(subject.starts_with(&format!("Gateway {PRIMARY} (tape-primary) offline for 15 min")), "{subject}");

    for _ in 0..5 {
        clock.advance_secs(300);
        let s = lab.sweep(&clock).await;
        assert!(s.newly_failed.is_empty() && s.resumed.is_empty(), "{s:?}");
    }
    assert_eq!(lab.hand_offs().len(), 1, "exactly one hand-off per outage");
    assert_eq!(alerts(&lab, "GatewayFailed").len(), 1, "and one alert");
    assert_eq!(lab.count("DisableGateway"), 0, "the monitor never disables anything");
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn a_flapping_gateway_never_hands_off() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    for _ in 0..20 {
        // Offline for two sweeps (10 minutes), then back for one.
        lab.sim.set_connected(PRIMARY, false);
        assert_eq!(lab.sweep(&clock).await.newly_suspected, vec![PRIMARY.to_owned()]);
        clock.advance_secs(300);
        assert!(lab.sweep(&clock).await.newly_failed.is_empty());
        clock.advance_secs(300);
        lab.sim.set_connected(PRIMARY, true);
        let s = lab.sweep(&clock).await;
        assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
        assert!(watches(&lab).await.is_empty(), "seen online: the debounce item goes");
        clock.advance_secs(300);
    }
    assert!(lab.hand_offs().is_empty());
    assert!(alerts(&lab, "GatewayFailed").is_empty());
    assert_eq!(lab.count("DisableGateway"), 0);
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn a_gateway_that_comes_back_after_a_hand_off_clears_its_item_and_starts_over() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    lab.sweep(&clock).await;
    clock.advance_secs(GRACE);
    assert_eq!(lab.sweep(&clock).await.newly_failed, vec![PRIMARY.to_owned()]);
    lab.sim.set_connected(PRIMARY, true);
    let s = lab.sweep(&clock).await;
    assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
    assert!(watches(&lab).await.is_empty(), "back online: its item is gone");

    lab.sim.set_connected(PRIMARY, false);
    clock.advance_secs(60);
    let s = lab.sweep(&clock).await;
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()], "a new outage is debounced again");
    let w = primary_watch(&lab).await;
    assert_eq!(w.state, WatchState::Suspected);
    assert!(w.last_seen_online.is_some(), "the previous sweep saw it online");
    clock.advance_secs(GRACE - 20);
    assert!(lab.sweep(&clock).await.newly_failed.is_empty(), "the new outage waits for its own grace period");
    clock.advance_secs(20);
    assert_eq!(lab.sweep(&clock).await.newly_failed, vec![PRIMARY.to_owned()]);
    let h = lab.hand_offs();
    assert_eq!(h.len(), 2, "one per outage");
    assert_ne!(h[0]["outageId"], h[1]["outageId"]);
    assert!(h[1]["lastSeenOnline"].is_string(), "the second outage knows when it was last seen online: {}", h[1]);
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn untagged_gateways_are_ignored_even_offline() {
    let lab = Lab::generated(small_fleet()).await;
    let other = lab.sim.with_world(|w| w.gateways.values().find(|g| g.name == "other-00000").unwrap().id.clone());
    lab.sim.set_connected(&other, false);
    let clock = ManualClock::at(T0);
    let s = lab.sweep(&clock).await;
    assert_eq!(s.not_watched, 3, "two untagged gateways and the untagged standby");
    assert_eq!(s.checked, 4);
    assert_eq!((s.counts.online, s.counts.offline), (3, 1));
    assert!(!s.gateways.iter().any(|g| g.gateway_id == other));
    clock.advance_secs(2 * GRACE);
    lab.sweep(&clock).await;
    assert_eq!(primary_watch(&lab).await.state, WatchState::HandedOff, "only the watched one has an item");
    assert!(!lab.hand_offs().iter().any(|h| h["gatewayArn"] == gateway_arn(&other)));
    assert_no_tag_writes(&lab);
}

fn alarm_event(state: &str, dimensions: Value) -> Value {
    json!({"version": "0", "id": "4d0d5b7c-0000-0000-0000-000000000000", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:tape-primary-health"],
        "detail": {"alarmName": "tape-primary-health",
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-11-25T10:00:00.000+0000"},
            "configuration": {"metrics": [{"id": "m1", "returnData": true, "metricStat": {"period": 300, "stat": "Sum",
                "metric": {"namespace": "AWS/StorageGateway", "name": "HealthNotifications", "dimensions": dimensions}}}]}}})
}

fn describes(lab: &Lab) -> usize {
    lab.sim.calls().iter().filter(|c| c.operation == "DescribeGatewayInformation").count()
}

#[tokio::test]
async fn an_alarm_probes_its_gateway_at_once_and_the_api_has_the_last_word() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let config = lab.monitor_config(900);
    let req =
        decode_event(&alarm_event("ALARM", json!({"GatewayId": PRIMARY, "GatewayName": "tape-primary"}))).unwrap();
    let s = run(&lab, &config, &clock, req).await;
    assert_eq!(s.trigger, Trigger::Alarm);
    assert_eq!(s.checked, 1, "only the gateway the alarm names");
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    assert_eq!(describes(&lab), 1);
    assert_eq!(primary_watch(&lab).await.state, WatchState::Suspected);

    // The alarm says OK, and the API agrees: the suspicion is cleared.
    lab.sim.set_connected(PRIMARY, true);
    let req = decode_event(&alarm_event("OK", json!({"GatewayName": "tape-primary"}))).unwrap();
    let s = run(&lab, &config, &clock, req).await;
    assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
    assert!(watches(&lab).await.is_empty());

    // An alarm is a hint, the API is the truth: OK while the API says offline suspects it.
    lab.sim.set_connected(PRIMARY, false);
    let req = decode_event(&alarm_event("OK", json!({"GatewayId": PRIMARY}))).unwrap();
    let s = run(&lab, &config, &clock, req).await;
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    assert_eq!(describes(&lab), 3, "one probe per alarm, no sweep");
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn an_alarm_on_another_namespace_or_an_unwatched_gateway_is_answered_as_ignored() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let config = lab.monitor_config(900);
    let mut ec2 = alarm_event("ALARM", json!({"InstanceId": "i-0123"}));
    ec2["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"] = json!("AWS/EC2");
    let s = run(&lab, &config, &clock, decode_event(&ec2).unwrap()).await;
    assert_eq!(s.trigger, Trigger::Ignored);
    assert!(s.ignored_reason.as_deref().unwrap_or_default().contains("AWS/EC2"), "{s:?}");
    assert_eq!(describes(&lab), 0, "nothing probed");
    lab.sim.set_connected(STANDBY, false);
    let s =
        run(&lab, &config, &clock, decode_event(&alarm_event("ALARM", json!({"GatewayId": STANDBY}))).unwrap()).await;
    assert_eq!(s.trigger, Trigger::Ignored);
    assert!(s.ignored_reason.as_deref().unwrap_or_default().contains("not watched"), "{s:?}");
    let changes: Vec<String> = lab
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.mutating && c.operation != "CreateTable")
        .map(|c| c.operation)
        .collect();
    assert!(changes.is_empty(), "an ignored alarm changes nothing, not even the ledger: {changes:?}");
    assert!(lab.sim.messages().is_empty());
}

#[tokio::test]
async fn a_direct_probe_checks_just_those_gateways_and_reports_gone_ones() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let req = decode_event(
        &json!({"gatewayArns": [gateway_arn(PRIMARY), gateway_arn(STANDBY), gateway_arn("sgw-FFFFFFFF")]}),
    )
    .unwrap();
    let s = run(&lab, &lab.monitor_config(900), &clock, req).await;
    assert_eq!(s.trigger, Trigger::Direct);
    assert_eq!(s.checked, 3, "named gateways count as watched, tagged or not");
    assert_eq!((s.counts.online, s.counts.offline, s.counts.gone), (1, 1, 1));
    assert_eq!(describes(&lab), 3, "exactly the three named");
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    assert_eq!(primary_watch(&lab).await.state, WatchState::Suspected, "a gone gateway gets no item");
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn throttling_is_retried_and_a_gateway_that_cannot_be_probed_is_unknown_never_offline() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let throttle = |rate: f64| {
        let mut faults = FaultConfig { seed: Some(9), ..Default::default() };
        faults
            .operations
            .insert("DescribeGatewayInformation".into(), FaultSpec { throttle_rate: rate, ..Default::default() });
        faults
    };
    lab.sim.set_faults(throttle(0.5)).unwrap();
    let s = lab.sweep(&clock).await;
    let throttled = lab.sim.calls().iter().filter(|c| c.error_code() == Some("ThrottlingException")).count();
    assert!(throttled > 0, "the probes were throttled");
    assert_eq!(s.counts.unknown, 0, "and asked again: {:?}", s.errors);
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    let since = primary_watch(&lab).await.offline_since;

    // Throttled for the whole run: unknown, and an hour past the grace period nothing is
    // handed off on a probe that never answered.
    lab.sim.set_faults(throttle(1.0)).unwrap();
    clock.advance_secs(3600);
    let s = run_within(&lab, &clock, MonitorRequest::Sweep, Duration::from_secs(2)).await;
    assert_eq!((s.counts.offline, s.counts.online, s.counts.unknown), (0, 0, 4), "{:?}", s.errors);
    assert!(s.newly_failed.is_empty() && s.recovered_online.is_empty());
    assert!(s.errors.iter().any(|e| e.contains("ThrottlingException")), "{:?}", s.errors);
    let w = primary_watch(&lab).await;
    assert_eq!((w.state, w.offline_since), (WatchState::Suspected, since), "unknown neither clears nor fails it");

    // Failing outright (500s, after every retry): unknown too.
    let mut faults = FaultConfig { seed: Some(9), ..Default::default() };
    faults.operations.insert("DescribeGatewayInformation".into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let s = lab.sweep(&clock).await;
    assert_eq!((s.counts.offline, s.counts.unknown), (0, 4));
    assert!(s.newly_failed.is_empty());
    assert!(s.errors.iter().any(|e| e.contains("InternalError")), "{:?}", s.errors);
    assert!(lab.hand_offs().is_empty(), "a gateway that cannot be probed is never handed off");
    assert_eq!(primary_watch(&lab).await.state, WatchState::Suspected);

    // Its tags unreadable too: it may not be watched any more, but nothing says so, and
    // the sweep keeps its item.
    let mut faults = FaultConfig { seed: Some(9), ..Default::default() };
    for op in ["DescribeGatewayInformation", "ListTagsForResource"] {
        faults.operations.insert(op.into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    }
    lab.sim.set_faults(faults).unwrap();
    let s = lab.sweep(&clock).await;
    assert_eq!(s.checked, 0, "{:?}", s.errors);
    assert!(s.errors.iter().any(|e| e.contains("tags could not be read")), "{:?}", s.errors);
    lab.sim.set_faults(FaultConfig::default()).unwrap();
    assert_eq!(primary_watch(&lab).await.offline_since, since);
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn a_fleet_of_1000_gateways_is_swept_in_one_invocation_reading_the_ledger_in_a_few_calls() {
    let lab = Lab::generated(FleetShape { tapes: 0, gateways: 1000, ..Default::default() }).await;
    lab.sim.set_faults(latency(50)).unwrap();
    let clock = ManualClock::at(T0);
    let config = MonitorConfig { max_concurrency: 64, ..lab.monitor_config(900) };
    let from = lab.sim.calls().len();
    let t = Instant::now();
    let s = run(&lab, &config, &clock, MonitorRequest::Sweep).await;
    let wall = t.elapsed();
    let calls = calls_after(&lab, from);
    let ledger: Vec<&CallRecord> = calls.iter().filter(|c| c.service == Service::DynamoDb).collect();
    let queries = ledger.iter().filter(|c| c.operation == "Query").count();
    eprintln!(
        "1,000-gateway sweep at 50 ms simulated latency, concurrency 64: {:.2} s wall, {} DynamoDB calls ({queries} Query)",
        wall.as_secs_f64(),
        ledger.len()
    );
    assert_eq!(s.checked, 1001);
    assert_eq!((s.counts.online, s.counts.offline, s.counts.unknown), (1000, 1, 0));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    if ledger_on_simulator() {
        assert!(queries <= 3, "the ledger is read in a couple of queries, not one per gateway: {queries}");
        let mut writes = ledger_writes(&calls);
        writes.sort();
        assert_eq!(writes, [format!("PutItem gateway#{}", gateway_arn(PRIMARY)), "PutItem sweep".to_owned()]);
        assert!(ledger.len() <= 5, "{:?}", ledger.iter().map(|c| &c.operation).collect::<Vec<_>>());
    }

    // Nothing changed: only the sweep record is written.
    clock.advance_secs(300);
    let from = lab.sim.calls().len();
    let s = run(&lab, &config, &clock, MonitorRequest::Sweep).await;
    assert_eq!((s.counts.online, s.counts.offline), (1000, 1));
    let calls = calls_after(&lab, from);
    let dynamodb = calls.iter().filter(|c| c.service == Service::DynamoDb).count();
    eprintln!("a second sweep with nothing changed: {dynamodb} DynamoDB calls");
    if ledger_on_simulator() {
        assert_eq!(ledger_writes(&calls), ["PutItem sweep"]);
        assert!(dynamodb <= 3, "{dynamodb}");
    }
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn an_explicit_watch_list_replaces_the_tag() {
    let lab = Lab::generated(small_fleet()).await;
    let config = MonitorConfig { gateway_arns: Some(vec![gateway(STANDBY)]), ..lab.monitor_config(900) };
    lab.sim.set_connected(STANDBY, false);
    let clock = ManualClock::at(T0);
    let s = run(&lab, &config, &clock, MonitorRequest::Sweep).await;
    assert_eq!(s.checked, 1);
    assert_eq!(s.newly_suspected, vec![STANDBY.to_owned()]);
    assert!(!s.gateways.iter().any(|g| g.gateway_id == PRIMARY), "the tagged, offline primary is not listed");
    let w = watches(&lab).await;
    assert_eq!(w.iter().map(|w| w.gateway_arn.as_str()).collect::<Vec<_>>(), [gateway_arn(STANDBY)]);
    clock.advance_secs(GRACE);
    let s = run(&lab, &config, &clock, MonitorRequest::Sweep).await;
    assert_eq!(s.newly_failed, vec![STANDBY.to_owned()]);
    assert_eq!(lab.hand_offs().len(), 1);
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn two_sweeps_at_once_hand_off_once() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    lab.sweep(&clock).await;
    clock.advance_secs(GRACE);
    let from = lab.sim.calls().len();
    let (a, b) = tokio::join!(lab.sweep(&clock), lab.sweep(&clock));
    assert_eq!(a.newly_failed.len() + b.newly_failed.len(), 1, "{:?} / {:?}", a.newly_failed, b.newly_failed);
    assert_eq!(lab.hand_offs().len(), 1, "exactly one GatewayOffline");
    assert_eq!(alerts(&lab, "GatewayFailed").len(), 1);
    // Both read the suspected item; the ledger's compare-and-set let one claim it.
    let watch_sk = format!("gateway#{}", gateway_arn(PRIMARY));
    let claims: Vec<CallRecord> = calls_after(&lab, from)
        .into_iter()
        .filter(|c| c.operation == "PutItem" && c.param("sk") == Some(watch_sk.as_str()))
        .collect();
    let lost = claims.iter().filter(|c| c.outcome.to_string().contains("ConditionalCheckFailed")).count();
    if ledger_on_simulator() {
        assert_eq!(lost, 1, "one claim lost the compare-and-set: {claims:?}");
    }
    let w = primary_watch(&lab).await;
    assert_eq!((w.state, w.published), (WatchState::HandedOff, true));
}

/// The re-probe queue's messages, decoded, with their delays.
fn queued(queue: &MemoryQueue) -> Vec<(Reprobe, Duration)> {
    queue
        .sent()
        .into_iter()
        .map(|(body, delay)| {
            let v: Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(v["type"], "Reprobe", "{v}");
            match Message::decode(&v).expect("a message") {
                Message::Reprobe(r) => (r, delay),
                other => panic!("not a re-probe: {other:?}"),
            }
        })
        .collect()
}

fn with_queue(lab: &Lab) -> MonitorConfig {
    MonitorConfig {
        reprobe_queue: Some("https://sqs.us-east-1.amazonaws.com/123456789012/gateway-reprobe".into()),
        ..lab.monitor_config(900)
    }
}

#[tokio::test]
async fn the_delayed_re_probe_hands_off_at_the_end_of_the_grace_period_without_a_sweep() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let (config, queue) = (with_queue(&lab), MemoryQueue::default());
    let s = summary(lab.monitor_with(&config, &clock, Some(&queue), MonitorRequest::Sweep).await);
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    let w = primary_watch(&lab).await;
    let due = w.offline_since + GRACE;
    assert_eq!(w.reprobe_at, Some(due));
    let q = queued(&queue);
    assert_eq!(q.len(), 1, "one re-probe for the first sighting");
    assert_eq!((q[0].0.gateway_arn.as_str(), q[0].0.due_at), (gateway_arn(PRIMARY).as_str(), due));
    assert_eq!(q[0].1, Duration::from_secs(900), "delayed to the end of the grace period");

    // Delivered early (SQS may): queued again for the time left, nothing probed.
    clock.advance_secs(300);
    let probes = describes(&lab);
    let s =
        summary(lab.monitor_with(&config, &clock, Some(&queue), MonitorRequest::Reprobe(vec![q[0].0.clone()])).await);
    assert_eq!(s.trigger, Trigger::Reprobe);
    assert_eq!(s.checked, 0);
    assert_eq!(describes(&lab), probes, "an early re-probe probes nothing");
    let q = queued(&queue);
    assert_eq!(q.len(), 2);
    assert_eq!(q[1].0.due_at, due, "the same due time");
    let left = due - clock.now();
    assert!(q[1].1 <= Duration::from_secs(600) && q[1].1.as_secs() as i64 >= left - 1, "{:?} for {left} s", q[1].1);
    assert!(lab.hand_offs().is_empty());

    // Delivered after the due time: the hand-off goes out at once, no sweep needed.
    clock.advance_secs(600);
    assert!(clock.now() >= due);
    let sweeps_before = lab.ledger_items(&fleet_pk(REGION), "sweep").await;
    let s =
        summary(lab.monitor_with(&config, &clock, Some(&queue), MonitorRequest::Reprobe(vec![q[1].0.clone()])).await);
    assert_eq!(s.trigger, Trigger::Reprobe);
    assert_eq!(s.newly_failed, vec![PRIMARY.to_owned()]);
    assert_eq!(lab.hand_offs().len(), 1);
    assert_eq!(lab.ledger_items(&fleet_pk(REGION), "sweep").await, sweeps_before, "no sweep ran");
    assert_eq!(queued(&queue).len(), 2, "nothing more is queued");
    assert_eq!(primary_watch(&lab).await.state, WatchState::HandedOff);

    // The next sweep knows it was handed off.
    let s = summary(lab.monitor_with(&config, &clock, Some(&queue), MonitorRequest::Sweep).await);
    assert!(s.newly_failed.is_empty());
    assert_eq!(lab.hand_offs().len(), 1);
    assert_no_tag_writes(&lab);
}

#[tokio::test]
async fn a_re_probe_of_a_gateway_that_came_back_hands_nothing_off() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    let (config, queue) = (with_queue(&lab), MemoryQueue::default());
    lab.monitor_with(&config, &clock, Some(&queue), MonitorRequest::Sweep).await;
    let q = queued(&queue);
    assert_eq!(q.len(), 1);
    lab.sim.set_connected(PRIMARY, true);
    clock.advance_secs(GRACE);
    let s =
        summary(lab.monitor_with(&config, &clock, Some(&queue), MonitorRequest::Reprobe(vec![q[0].0.clone()])).await);
    assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
    assert!(s.newly_failed.is_empty());
    assert!(lab.hand_offs().is_empty());
    assert!(watches(&lab).await.is_empty(), "its item is gone");
    assert_eq!(queue.sent().len(), 1, "and nothing is queued again");
}

#[tokio::test]
async fn a_claim_whose_publish_was_lost_is_published_by_a_later_sweep_after_the_claim_timeout() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = ManualClock::at(T0);
    lab.sweep(&clock).await;
    clock.advance_secs(GRACE);
    let mut faults = FaultConfig::default();
    faults.operations.insert("Publish".into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let s = lab.sweep(&clock).await;
    lab.sim.set_faults(FaultConfig::default()).unwrap();
    assert!(s.newly_failed.is_empty(), "not handed off: {s:?}");
    assert!(s.failure.as_deref().unwrap_or_default().contains("could not be published"), "{:?}", s.failure);
    assert!(lab.hand_offs().is_empty());
    let w = primary_watch(&lab).await;
    assert_eq!((w.state, w.published), (WatchState::HandedOff, false), "claimed, not published");

    // Its writer may still be publishing: not yet.
    clock.advance_secs(60);
    let s = lab.sweep(&clock).await;
    assert!(lab.hand_offs().is_empty() && s.resumed.is_empty(), "{s:?}");
    // Past the claim timeout (120 s): published again, once.
    clock.advance_secs(60);
    let s = lab.sweep(&clock).await;
    assert_eq!(lab.hand_offs().len(), 1);
    assert_eq!(s.resumed, vec![PRIMARY.to_owned()], "the summary says the hand-off went out again");
    assert!(s.failure.is_none(), "{:?}", s.failure);
    let w = primary_watch(&lab).await;
    assert_eq!((w.state, w.published), (WatchState::HandedOff, true));
    for _ in 0..3 {
        clock.advance_secs(300);
        lab.sweep(&clock).await;
    }
    let h = lab.hand_offs();
    assert_eq!(h.len(), 1, "exactly one hand-off in the end");
    assert_eq!(h[0]["outageId"], format!("{PRIMARY}@{}", rfc3339(w.offline_since)));
    assert_eq!(alerts(&lab, "GatewayFailed").len(), 1);
    assert_no_tag_writes(&lab);
}
