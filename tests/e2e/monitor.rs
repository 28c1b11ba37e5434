//! `gateway-monitor`'s domain, end to end: the real SDK over HTTP against the simulator,
//! with a clock the tests move.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use serde_json::json;
use shared::aws::Clock;
use shared::config::MonitorConfig;
use shared::monitor::{Monitor, MonitorRequest, MonitorSummary, decode_event};
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY};
use tests::simulator::{FaultConfig, FaultSpec};
use tests::{Lab, gateway, monitor_config};

/// A clock the test sets.
pub struct TestClock(pub AtomicI64);

impl TestClock {
    pub fn at(t: i64) -> Self {
        Self(AtomicI64::new(t))
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub const T0: i64 = 1_795_600_800;

pub async fn sweep_with(
    lab: &Lab,
    config: &MonitorConfig,
    clock: &TestClock,
    request: MonitorRequest,
) -> MonitorSummary {
    let monitor = Monitor { gateway: &lab.clients.gateway, notifier: &lab.clients.notifier, clock, config };
    monitor.run(request).await
}

pub async fn sweep(lab: &Lab, clock: &TestClock) -> MonitorSummary {
    sweep_with(lab, &monitor_config(900), clock, MonitorRequest::Sweep).await
}

/// Hand-offs published so far.
pub fn hand_offs(lab: &Lab) -> Vec<serde_json::Value> {
    lab.sim
        .messages()
        .into_iter()
        .filter(|m| m.topic_arn.ends_with(":gateway-recovery"))
        .map(|m| serde_json::from_str(&m.message).unwrap())
        .collect()
}

fn tag(lab: &Lab, id: &str, key: &str) -> Option<String> {
    let arn = gateway(id).to_string();
    lab.sim.with_world(|w| w.tags_of(&arn).iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
}

fn small_fleet() -> FleetShape {
    FleetShape { tapes: 3, gateways: 3, untagged: 2, ..Default::default() }
}

#[tokio::test]
async fn a_real_outage_hands_off_exactly_once_on_the_first_sweep_after_the_grace_period() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    let s = sweep(&lab, &clock).await;
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    assert!(s.newly_failed.is_empty());
    assert_eq!(tag(&lab, PRIMARY, "recovery:offline-since").as_deref(), Some("2026-11-25T10:00:00Z"));
    clock.advance(600);
    assert!(sweep(&lab, &clock).await.newly_failed.is_empty(), "10 minutes < 15 minutes of grace");
    clock.advance(299);
    assert!(sweep(&lab, &clock).await.newly_failed.is_empty());
    clock.advance(1);
    let s = sweep(&lab, &clock).await;
    assert_eq!(s.newly_failed, vec![PRIMARY.to_owned()]);
    let h = hand_offs(&lab);
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["type"], "GatewayOffline");
    assert_eq!(h[0]["version"], 1);
    assert_eq!(h[0]["gatewayArn"], gateway(PRIMARY).to_string());
    assert_eq!(h[0]["offlineSince"], "2026-11-25T10:00:00Z");
    assert_eq!(h[0]["gatewayType"], "VTL");
    assert_eq!(tag(&lab, PRIMARY, "recovery:state").as_deref(), Some("handed-off"));
    let alert = lab.sim.messages().into_iter().find(|m| m.topic_arn.ends_with(":gateway-reports")).unwrap();
    assert!(alert.subject.unwrap().starts_with(&format!("Gateway {PRIMARY} (tape-primary) offline for 15 min")));
    for _ in 0..5 {
        clock.advance(300);
        assert!(sweep(&lab, &clock).await.newly_failed.is_empty());
    }
    assert_eq!(hand_offs(&lab).len(), 1, "exactly one hand-off per outage");
    assert_eq!(lab.sim.applied("DisableGateway").len(), 0, "the monitor never disables anything");
}

#[tokio::test]
async fn a_flapping_gateway_never_causes_a_hand_off_or_a_disable() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    for _ in 0..50 {
        // Offline for two sweeps (10 minutes), then back for one.
        lab.sim.set_connected(PRIMARY, false);
        sweep(&lab, &clock).await;
        clock.advance(300);
        sweep(&lab, &clock).await;
        clock.advance(300);
        lab.sim.set_connected(PRIMARY, true);
        let s = sweep(&lab, &clock).await;
        assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
        clock.advance(300);
    }
    assert!(hand_offs(&lab).is_empty());
    assert!(lab.sim.applied("DisableGateway").is_empty());
    assert_eq!(tag(&lab, PRIMARY, "recovery:offline-since"), None, "cleared when seen online");
}

#[tokio::test]
async fn a_gateway_that_comes_back_after_a_hand_off_clears_its_state_and_starts_over() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    sweep(&lab, &clock).await;
    clock.advance(900);
    assert_eq!(sweep(&lab, &clock).await.newly_failed.len(), 1);
    lab.sim.set_connected(PRIMARY, true);
    let s = sweep(&lab, &clock).await;
    assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
    assert_eq!(tag(&lab, PRIMARY, "recovery:state"), None);
    assert_eq!(tag(&lab, PRIMARY, "recovery:offline-since"), None);
    lab.sim.set_connected(PRIMARY, false);
    clock.advance(60);
    let s = sweep(&lab, &clock).await;
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()], "a new outage is debounced again");
    clock.advance(900);
    assert_eq!(sweep(&lab, &clock).await.newly_failed.len(), 1);
    assert_eq!(hand_offs(&lab).len(), 2, "one per outage");
    assert_ne!(hand_offs(&lab)[0]["outageId"], hand_offs(&lab)[1]["outageId"]);
}

#[tokio::test]
async fn untagged_gateways_are_ignored_even_offline() {
    let lab = Lab::generated(small_fleet()).await;
    let other = lab.sim.with_world(|w| w.gateways.values().find(|g| g.name == "other-00000").unwrap().id.clone());
    lab.sim.set_connected(&other, false);
    let s = sweep(&lab, &TestClock::at(T0)).await;
    assert_eq!(s.not_watched, 3, "two untagged gateways and the untagged standby");
    assert!(!s.gateways.iter().any(|g| g.gateway_id == other));
    assert_eq!(tag(&lab, &other, "recovery:offline-since"), None);
    assert_eq!(s.checked, 4);
    assert_eq!((s.counts.online, s.counts.offline), (3, 1));
}

fn alarm_event(state: &str, dimensions: serde_json::Value) -> serde_json::Value {
    json!({"version": "0", "id": "4d0d5b7c-0000-0000-0000-000000000000", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:tape-primary-health"],
        "detail": {"alarmName": "tape-primary-health",
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-11-25T10:00:00.000+0000"},
            "configuration": {"metrics": [{"id": "m1", "returnData": true, "metricStat": {"period": 300, "stat": "Sum",
                "metric": {"namespace": "AWS/StorageGateway", "name": "HealthNotifications", "dimensions": dimensions}}}]}}})
}

#[tokio::test]
async fn an_alarm_probes_its_gateway_at_once_and_an_ok_clears_the_suspicion() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    let config = monitor_config(900);
    let req =
        decode_event(&alarm_event("ALARM", json!({"GatewayId": PRIMARY, "GatewayName": "tape-primary"}))).unwrap();
    let s = sweep_with(&lab, &config, &clock, req).await;
    assert_eq!(s.trigger, "alarm");
    assert_eq!(s.checked, 1, "only the gateway the alarm names");
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    let describes = lab.sim.calls().iter().filter(|c| c.operation == "DescribeGatewayInformation").count();
    assert_eq!(describes, 1);
    // The alarm says OK, and the API agrees: the suspicion is cleared.
    lab.sim.set_connected(PRIMARY, true);
    let req = decode_event(&alarm_event("OK", json!({"GatewayName": "tape-primary"}))).unwrap();
    let s = sweep_with(&lab, &config, &clock, req).await;
    assert_eq!(s.recovered_online, vec![PRIMARY.to_owned()]);
    assert_eq!(tag(&lab, PRIMARY, "recovery:offline-since"), None);
    // An alarm is a hint, the API is the truth: OK while the API says offline keeps it suspected.
    lab.sim.set_connected(PRIMARY, false);
    let s = sweep_with(&lab, &config, &clock, decode_event(&alarm_event("OK", json!({"GatewayId": PRIMARY}))).unwrap())
        .await;
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
}

#[tokio::test]
async fn an_alarm_on_another_namespace_or_an_unwatched_gateway_is_answered_as_ignored() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    let mut ec2 = alarm_event("ALARM", json!({"InstanceId": "i-0123"}));
    ec2["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"] = json!("AWS/EC2");
    let s = sweep_with(&lab, &monitor_config(900), &clock, decode_event(&ec2).unwrap()).await;
    assert_eq!(s.trigger, "ignored");
    assert!(s.ignored_reason.unwrap().contains("AWS/EC2"));
    let s = sweep_with(
        &lab,
        &monitor_config(900),
        &clock,
        decode_event(&alarm_event("ALARM", json!({"GatewayId": STANDBY}))).unwrap(),
    )
    .await;
    assert!(s.ignored_reason.unwrap().contains("not watched"));
    assert!(lab.sim.calls().iter().all(|c| !c.mutating));
}

#[tokio::test]
async fn a_direct_probe_checks_just_those_gateways_and_reports_gone_ones() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    let req = decode_event(&json!({"gatewayArns": [gateway(PRIMARY).to_string(), gateway(STANDBY).to_string(), gateway("sgw-FFFFFFFF").to_string()]})).unwrap();
    let s = sweep_with(&lab, &monitor_config(900), &clock, req).await;
    assert_eq!(s.trigger, "direct");
    assert_eq!(s.checked, 3, "named gateways count as watched, tagged or not");
    assert_eq!((s.counts.online, s.counts.offline, s.counts.gone), (1, 1, 1));
    let probed: Vec<_> = lab.sim.calls().into_iter().filter(|c| c.operation == "DescribeGatewayInformation").collect();
    assert_eq!(probed.len(), 3);
}

#[tokio::test]
async fn throttling_is_retried_and_a_gateway_that_cannot_be_probed_is_unknown_never_offline() {
    let lab = Lab::generated(small_fleet()).await;
    let clock = TestClock::at(T0);
    let mut faults = FaultConfig { seed: Some(9), ..Default::default() };
    faults
        .operations
        .insert("DescribeGatewayInformation".into(), FaultSpec { throttle_rate: 0.3, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let s = sweep(&lab, &clock).await;
    assert_eq!(s.counts.unknown, 0, "the SDK retried the throttled probes: {:?}", s.errors);
    assert_eq!(s.newly_suspected, vec![PRIMARY.to_owned()]);
    let mut faults = FaultConfig { seed: Some(9), ..Default::default() };
    faults
        .operations
        .insert("DescribeGatewayInformation".into(), FaultSpec { throttle_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    lab.sim.with_world(|w| w.tags.values_mut().for_each(|t| t.retain(|(k, _)| k != "recovery:offline-since")));
    clock.advance(3600);
    let s = sweep(&lab, &clock).await;
    assert_eq!(s.counts.offline, 0);
    assert!(s.newly_suspected.is_empty() && s.newly_failed.is_empty());
    assert!(s.errors.iter().any(|e| e.contains("ThrottlingException")), "{:?}", s.errors);
    assert!(hand_offs(&lab).is_empty());
}

#[tokio::test]
async fn a_fleet_of_1000_gateways_is_swept_in_one_invocation() {
    let lab = Lab::generated(FleetShape { tapes: 0, gateways: 1000, ..Default::default() }).await;
    lab.sim
        .set_faults(FaultConfig { global: FaultSpec { latency_ms: 50, ..Default::default() }, ..Default::default() })
        .unwrap();
    let t = Instant::now();
    let s = sweep_with(
        &lab,
        &MonitorConfig { max_concurrency: 64, ..monitor_config(900) },
        &TestClock::at(T0),
        MonitorRequest::Sweep,
    )
    .await;
    eprintln!("1,000-gateway sweep at 50 ms simulated latency, concurrency 64: {:.2} s", t.elapsed().as_secs_f64());
    assert_eq!(s.checked, 1001);
    assert_eq!((s.counts.online, s.counts.offline, s.counts.unknown), (1000, 1, 0));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
}

#[tokio::test]
async fn an_explicit_watch_list_replaces_the_tag() {
    let lab = Lab::generated(small_fleet()).await;
    let config = MonitorConfig { gateway_arns: Some(vec![gateway(STANDBY)]), ..monitor_config(900) };
    lab.sim.set_connected(STANDBY, false);
    let s = sweep_with(&lab, &config, &TestClock::at(T0), MonitorRequest::Sweep).await;
    assert_eq!(s.checked, 1);
    assert_eq!(s.newly_suspected, vec![STANDBY.to_owned()]);
    assert!(!s.gateways.iter().any(|g| g.gateway_id == PRIMARY));
}
