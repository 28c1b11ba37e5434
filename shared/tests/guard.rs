//! The correlated-outage guard, proven on generated outages: fleets of 1 to 500 watched
//! tape gateways, any number of them offline at once. The real monitor sweeps them (on the
//! in-memory twins, time paused), hands off what it declares failed, and the real
//! recovery runs for every hand-off. Above the threshold no gateway is ever disabled
//! automatically; below it, at least one is.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use shared::arn::{GatewayArn, TapeArn, TopicArn};
use shared::config::{DisablePolicy, GuardThresholds, MonitorConfig, RecoverConfig, VolumeRecovery};
use shared::deadline::Budget;
use shared::memory::{ManualClock, MemoryGateway, MemoryLedger, MemoryNotifier, MemoryQueue};
use shared::model::GatewayKind;
use shared::monitor::guard::{RegionHealth, correlated};
use shared::monitor::{Monitor, MonitorRequest};
use shared::recover::{Recovery, decode_event};

const T0: i64 = 1_795_600_800;
const GRACE: u64 = 900;

fn gw(n: usize) -> GatewayArn {
    GatewayArn::parse(
        "t",
        &format!("arn:aws:storagegateway:us-west-2:123456789012:gateway/sgw-{:08X}", 0x1000_0000 + n),
    )
    .unwrap()
}

fn topic(name: &str) -> TopicArn {
    TopicArn::parse("t", &format!("arn:aws:sns:us-west-2:123456789012:{name}")).unwrap()
}

fn monitor_config() -> MonitorConfig {
    MonitorConfig {
        gateway_arns: None,
        grace: Duration::from_secs(GRACE),
        recovery_topic: topic("recovery"),
        report_topic: topic("reports"),
        ledger_table: "ledger".into(),
        reprobe_queue: None,
        max_concurrency: 64,
        guard: GuardThresholds::default(),
        disable_policy: DisablePolicy::Tagged,
        standby: None,
        volume_standby: None,
    }
}

fn recover_config() -> RecoverConfig {
    RecoverConfig {
        report_topic: topic("reports"),
        recovery_topic: None,
        ledger_table: "ledger".into(),
        standby: None,
        volume_standby: None,
        disable_policy: DisablePolicy::Tagged,
        volume_recovery: VolumeRecovery::Clone,
        max_concurrency: 8,
        max_auto_disables_per_hour: 5,
        time_budget: Duration::from_secs(840),
        deadline_margin: Duration::from_secs(60),
        max_slices: 20,
        lease_heartbeat: Duration::from_secs(5),
        verify_wait: Duration::from_secs(0),
        reconfirm_after: Duration::from_secs(30),
    }
}

/// Runs one outage: `fleet` watched gateways (each with one tape and a shared standby),
/// `offline` of them lose their connection; answers the automatic disables.
async fn outage(fleet: usize, offline: usize) -> usize {
    let sg = MemoryGateway::default();
    let (sns, ledger, queue, clock) =
        (MemoryNotifier::default(), MemoryLedger::default(), MemoryQueue::default(), ManualClock::at(T0));
    let standby = gw(9999);
    sg.add_gateway(&standby, GatewayKind::Tape, true);
    let standby_arn = standby.to_string();
    for n in 0..fleet {
        let g = gw(n);
        sg.add_gateway(&g, GatewayKind::Tape, n >= offline);
        sg.set_tags(
            &g,
            &[
                ("recovery:enabled", "true"),
                ("recovery:auto-disable", "true"),
                ("recovery:standby-gateway", &standby_arn),
            ],
        );
        let tape = TapeArn::parse("t", &format!("arn:aws:storagegateway:us-west-2:123456789012:tape/T{n:07}")).unwrap();
        sg.add_tape(&g, &tape, Some(T0 - 60));
    }
    let (mc, rc) = (monitor_config(), recover_config());
    let monitor =
        Monitor { gateway: &sg, notifier: &sns, ledger: &ledger, queue: Some(&queue), clock: &clock, config: &mc };
    let budget = || Budget::after(Duration::from_secs(100), Duration::from_secs(10));
    monitor.run(MonitorRequest::Sweep, budget()).await;
    clock.advance_secs(GRACE as i64 + 1);
    monitor.run(MonitorRequest::Sweep, budget()).await;
    let recovery = Recovery { gateway: &sg, notifier: &sns, ledger: &ledger, clock: &clock, config: &rc };
    let hand_offs: Vec<Value> = sns
        .published()
        .into_iter()
        .filter(|p| p.topic == topic("recovery"))
        .filter_map(|p| serde_json::from_str(&p.body).ok())
        .collect();
    assert_eq!(hand_offs.len(), offline, "every offline gateway is handed off once, held or not");
    for (i, h) in hand_offs.iter().enumerate() {
        for req in decode_event(h).unwrap() {
            recovery
                .run(req, Budget::after(Duration::from_secs(600), Duration::from_secs(60)), &format!("req-{i}"))
                .await;
        }
    }
    sg.count("DisableGateway")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap()
}

/// Fleet sizes from 1 to 500, most of them small (where the thresholds bite hardest).
fn fleet() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 1usize..=12, 3 => 1usize..=60, 1 => 1usize..=500]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_an_automatic_disable_above_the_threshold_and_always_one_below(
        (fleet, offline) in fleet().prop_flat_map(|n| (Just(n), 1..=n)),
    ) {
        let disabled = runtime().block_on(outage(fleet, offline));
        let held = correlated(RegionHealth { watched: fleet, unhealthy: offline }, &GuardThresholds::default());
        if held {
            prop_assert_eq!(disabled, 0, "{} of {} offline is correlated: nothing disabled", offline, fleet);
        } else {
            prop_assert!(disabled >= 1, "{} of {} offline is not correlated: at least one disabled", offline, fleet);
            prop_assert!(disabled <= 5, "the hourly cap holds: {}", disabled);
        }
    }
}

#[test]
fn the_issues_cases() {
    let rt = runtime();
    assert!(rt.block_on(outage(10, 1)) == 1, "1 of 10 recovers automatically");
    assert_eq!(rt.block_on(outage(10, 6)), 0, "6 of 10 hold");
    assert_eq!(rt.block_on(outage(1, 1)), 1, "a lone watched gateway recovers automatically");
}
