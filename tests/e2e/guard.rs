//! The correlated-outage guard, end to end: `gateway-monitor` sweeping the simulator with a
//! clock the tests move, every hand-off delivered to `recover-gateway` as it is published,
//! the holds in the ledger, and the simulator's call log as the witness of what was (and
//! was not) disabled.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::config::MonitorConfig;
use shared::ledger::{Hold, HoldKind, HoldRelease, HoldState, fleet_pk, region_pk};
use shared::memory::ManualClock;
use shared::monitor::{MonitorAnswer, MonitorRequest, MonitorSummary};
use shared::recover::{Approval, RecoveryReport, RecoveryRequest, Status};
use tests::simulator::fleet::TapeSpec;
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY, generate};
use tests::simulator::{FaultConfig, FaultSpec, Fleet};
use tests::{Lab, REGION, T0, direct, gateway_arn, hand_off_request, summary};

const GRACE: i64 = 900;
const SWEEP_EVERY: i64 = 300;

/// `watched` tape gateways (the primary and `fleet-*`), each tagged
/// `recovery:auto-disable=true` with `tapes` tapes and the standby; the first `offline` of
/// them offline.
fn fleet(watched: usize, offline: usize, tapes: usize) -> Fleet {
    let mut f =
        generate(&FleetShape { tapes, gateways: watched - 1, failed_offline: offline > 0, ..Default::default() });
    let standby = f.gateway_arn(STANDBY);
    for (i, g) in f.gateways.iter_mut().filter(|g| g.name.starts_with("fleet-")).enumerate() {
        g.tags.insert("recovery:auto-disable".into(), "true".into());
        g.tags.insert("recovery:standby-gateway".into(), standby.clone());
        g.tapes = (0..tapes)
            .map(|j| TapeSpec {
                barcode: format!("G{i:03}T{j:04}"),
                size_bytes: 107_374_182_400,
                status: "AVAILABLE".into(),
                recovery_point_time: Some("2026-11-20T10:00:00Z".into()),
            })
            .collect();
        // The primary is the first offline one.
        g.connected = i + 1 >= offline;
    }
    f
}

/// Ids of the watched gateways, the primary first.
fn watched_ids(lab: &Lab) -> Vec<String> {
    let mut ids: Vec<String> = lab.sim.with_world(|w| {
        w.gateways
            .values()
            .filter(|g| w.tags_of(&g.arn).iter().any(|(k, v)| k == "recovery:enabled" && v == "true"))
            .map(|g| g.id.clone())
            .collect()
    });
    ids.sort();
    ids
}

/// The monitor on a moving clock, and `recover-gateway` behind the recovery topic: each
/// hand-off is delivered, in this process, once it is published.
struct Pipeline<'a> {
    lab: &'a Lab,
    clock: ManualClock,
    config: MonitorConfig,
    delivered: usize,
    reports: Vec<RecoveryReport>,
}

impl<'a> Pipeline<'a> {
    fn new(lab: &'a Lab) -> Self {
        Pipeline { lab, clock: ManualClock::at(T0), config: lab.monitor_config(900), delivered: 0, reports: vec![] }
    }

    /// One monitor run, without delivering what it published.
    async fn monitor(&self, request: MonitorRequest) -> MonitorAnswer {
        self.lab.monitor_with(&self.config, &self.clock, None, request).await
    }

    /// A sweep, and its hand-offs delivered.
    async fn sweep(&mut self) -> MonitorSummary {
        let s = summary(self.monitor(MonitorRequest::Sweep).await);
        self.deliver().await;
        s
    }

    /// Sweeps every 5 minutes for `secs`, starting `SWEEP_EVERY` from now.
    async fn sweep_for(&mut self, secs: i64) -> Vec<MonitorSummary> {
        let mut all = vec![];
        for _ in 0..secs / SWEEP_EVERY {
            self.clock.advance_secs(SWEEP_EVERY);
            all.push(self.sweep().await);
        }
        all
    }

    /// Every hand-off published since the last delivery, run by `recover-gateway`; answers
    /// the new reports.
    async fn deliver(&mut self) -> &[RecoveryReport] {
        let hand_offs = self.lab.hand_offs();
        let from = self.reports.len();
        for h in &hand_offs[self.delivered..] {
            for req in shared::recover::decode_event(h).expect("a hand-off recover-gateway reads") {
                self.reports.push(self.lab.recover(req).await);
            }
        }
        self.delivered = hand_offs.len();
        &self.reports[from..]
    }

    /// A monitor run for an event as EventBridge or an operator sends it.
    async fn event(&self, event: &Value) -> MonitorAnswer {
        self.monitor(shared::monitor::decode_event(event).expect("an event the monitor reads")).await
    }
}

/// The region's holds in the ledger.
async fn holds(lab: &Lab) -> Vec<Hold> {
    lab.ledger_items(&region_pk(REGION), "hold#")
        .await
        .into_iter()
        .map(|i| serde_json::from_value(Value::Object(i.body)).expect("a hold"))
        .collect()
}

async fn the_hold(lab: &Lab) -> Hold {
    let mut h = holds(lab).await;
    assert_eq!(h.len(), 1, "{h:?}");
    h.remove(0)
}

/// The `event` attribute of every message on the report topic, in order; `status` for a
/// recovery report.
fn report_events(lab: &Lab) -> Vec<String> {
    lab.published("gateway-reports")
        .into_iter()
        .map(|m| {
            let attr = |k: &str| m.attributes.get(k).map(|(_, v)| v.clone());
            attr("event").unwrap_or_else(|| format!("report:{}", attr("status").unwrap_or_default()))
        })
        .collect()
}

fn count(events: &[String], event: &str) -> usize {
    events.iter().filter(|e| *e == event).count()
}

fn held_by(hand_offs: &[Value]) -> Vec<Option<&str>> {
    hand_offs.iter().map(|h| h["heldBy"].as_str()).collect()
}

#[tokio::test]
async fn the_2020_incident_replayed_disables_nothing_and_alerts_once() {
    let lab = Lab::start(fleet(20, 20, 3)).await;
    let ids = watched_ids(&lab);
    assert_eq!(ids.len(), 20);
    let mut p = Pipeline::new(&lab);
    let mut sweeps = vec![p.sweep().await];
    assert_eq!(sweeps[0].newly_suspected.len(), 20);
    let hold = the_hold(&lab).await;
    assert!(hold.active() && hold.kind == HoldKind::Fleet, "{hold:?}");
    // Six hours offline, a sweep every five minutes: 72 sweeps.
    sweeps.extend(p.sweep_for(6 * 3600 - SWEEP_EVERY).await);
    assert_eq!(sweeps.len(), 72);

    assert_eq!(lab.count("DisableGateway"), 0, "not one gateway disabled");
    let hand_offs = lab.hand_offs();
    assert_eq!(hand_offs.len(), 20, "each gateway handed off once");
    let handed: BTreeSet<String> = hand_offs.iter().map(|h| h["gatewayArn"].as_str().unwrap().to_owned()).collect();
    assert_eq!(handed, ids.iter().map(|id| gateway_arn(id)).collect());
    assert!(held_by(&hand_offs).iter().all(|h| *h == Some(hold.id.as_str())), "{:?}", held_by(&hand_offs));
    let held: usize = sweeps.iter().map(|s| s.held.len()).sum();
    assert_eq!(held, 20, "the summaries say the hand-offs were held");
    assert_eq!(p.reports.len(), 20);
    for r in &p.reports {
        assert_eq!(r.status, Status::AwaitingApproval, "{}", r.summary);
        assert_eq!(r.holds.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), [hold.id.as_str()]);
    }
    // One alert for the whole event: no "recovery started", no per-gateway report.
    let events = report_events(&lab);
    assert_eq!(events, ["HoldPlaced"], "exactly one alert for the whole event");
    let alert = lab.published("gateway-reports").remove(0);
    assert!(alert.subject.as_deref().unwrap_or_default().contains("20 of 20"), "{:?}", alert.subject);
    assert!(alert.message.contains(&hold.id) && alert.message.contains("release-hold"), "{}", alert.message);
    assert_eq!(the_hold(&lab).await.id, hold.id, "the same hold all along");

    // All back online, as such outages end: a few gateways at a time, over 20 minutes.
    // The hold stays until the region is healthy (not merely below the threshold, which
    // would hand the stragglers off to be disabled), then lifts, once.
    for (n, back) in ids.chunks(5).enumerate() {
        for id in back {
            assert!(lab.sim.set_connected(id, true));
        }
        p.clock.advance_secs(SWEEP_EVERY);
        let s = p.sweep().await;
        assert_eq!(s.recovered_online.len(), 5);
        assert!(s.resumed.is_empty(), "nothing is resumed while gateways come back: {:?}", s.resumed);
        let offline = 15 - 5 * n;
        if offline > 0 {
            let h = the_hold(&lab).await;
            assert_eq!((h.id.as_str(), h.offline, h.active()), (hold.id.as_str(), offline, true), "{h:?}");
        }
    }
    assert!(holds(&lab).await.is_empty(), "the hold item is gone from region#{REGION}");
    assert_eq!(report_events(&lab), ["HoldPlaced", "HoldLifted"]);
    assert!(lab.ledger_items(&fleet_pk(REGION), "gateway#").await.is_empty());
    assert_eq!(lab.hand_offs().len(), 20);
    assert_eq!(lab.count("DisableGateway"), 0);
}

/// An AWS Health event for Storage Gateway in us-east-1, as EventBridge delivers it.
fn health_event(status: &str) -> Value {
    let mut detail = json!({
        "eventArn": "arn:aws:health:us-east-1::event/STORAGEGATEWAY/AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE/AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE_ABCDE_1234567890",
        "service": "STORAGEGATEWAY", "eventTypeCode": "AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE",
        "eventTypeCategory": "issue", "eventScopeCode": "PUBLIC", "communicationId": "c-1",
        "startTime": "Wed, 25 Nov 2026 09:55:00 GMT", "lastUpdatedTime": "Wed, 25 Nov 2026 09:58:00 GMT",
        "statusCode": status, "eventRegion": "us-east-1",
        "eventDescription": [{"language": "en_US", "latestDescription": "We are investigating connectivity issues for Storage Gateway appliances in the US-EAST-1 Region."}],
        "page": "1", "totalPages": "1", "affectedAccount": "123456789012"});
    if status == "closed" {
        detail["endTime"] = json!("Wed, 25 Nov 2026 11:30:00 GMT");
    }
    json!({"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS Health Event",
        "source": "aws.health", "account": "123456789012", "time": "2026-11-25T09:58:00Z", "region": "us-east-1",
        "resources": [], "detail": detail})
}

#[tokio::test]
async fn an_open_aws_health_event_holds_a_lone_failure_and_its_closing_lets_it_recover() {
    let lab = Lab::start(fleet(4, 1, 3)).await;
    let mut p = Pipeline::new(&lab);
    let s = summary(p.event(&health_event("open")).await);
    let hold = the_hold(&lab).await;
    assert!(matches!(hold.kind, HoldKind::Health { .. }) && hold.active(), "{hold:?}");
    assert_eq!(s.holds.iter().map(|h| (h.id.as_str(), h.state)).collect::<Vec<_>>(), [(hold.id.as_str(), "active")]);
    assert_eq!(report_events(&lab), ["HoldPlaced"]);
    // The same event again (an update): nothing new.
    p.event(&health_event("open")).await;
    assert_eq!(report_events(&lab), ["HoldPlaced"]);

    p.sweep().await;
    p.clock.advance_secs(GRACE);
    let s = p.sweep().await;
    assert_eq!(s.newly_failed, vec![PRIMARY.to_owned()], "1 of 4 offline: not correlated, still handed off");
    assert_eq!(s.held, vec![PRIMARY.to_owned()]);
    assert_eq!(held_by(&lab.hand_offs()), [Some(hold.id.as_str())]);
    let r = &p.reports[0];
    assert_eq!(r.status, Status::AwaitingApproval, "{}", r.summary);
    assert!(r.summary.contains(&hold.reason), "the summary quotes the hold: {}", r.summary);
    assert_eq!(r.holds[0].id, hold.id);
    assert_eq!(lab.count("DisableGateway"), 0);

    // The event closes: the held hand-off goes out again, and that recovery disables it.
    let s = summary(p.event(&health_event("closed")).await);
    assert_eq!(s.resumed, vec![PRIMARY.to_owned()]);
    assert!(holds(&lab).await.is_empty());
    let hand_offs = lab.hand_offs();
    assert_eq!(held_by(&hand_offs), [Some(hold.id.as_str()), None]);
    assert_eq!(hand_offs[0]["outageId"], hand_offs[1]["outageId"], "the same outage");
    let r = p.deliver().await[0].clone();
    assert_eq!(r.status, Status::Completed, "{}", r.summary);
    assert_eq!(r.tapes.done, 3);
    assert_eq!(lab.count("DisableGateway"), 1);
    assert_eq!(lab.tapes_on(STANDBY).len(), 3);
    let events = report_events(&lab);
    assert_eq!(count(&events, "HoldPlaced"), 1);
    assert_eq!(count(&events, "HoldLifted"), 1);
    assert_eq!(count(&events, "report:completed"), 1, "{events:?}");
}

#[tokio::test]
async fn an_operator_releases_a_hold_audited_and_the_held_recoveries_go_on() {
    // 4 of 5 offline: correlated.
    let lab = Lab::start(fleet(5, 4, 2)).await;
    let mut p = Pipeline::new(&lab);
    p.sweep().await;
    p.clock.advance_secs(GRACE);
    let s = p.sweep().await;
    assert_eq!((s.newly_failed.len(), s.held.len()), (4, 4));
    let hold = the_hold(&lab).await;
    assert!(p.reports.iter().all(|r| r.status == Status::AwaitingApproval));
    assert_eq!(lab.count("DisableGateway"), 0);

    // A hold that does not exist is refused, and nothing changes.
    let release = |id: &str| {
        json!({"action": "release-hold", "region": "us-east-1", "holdId": id, "operator": "jane",
            "reason": "site power is back; these gateways are really gone"})
    };
    match p.event(&release("fleet-us-east-1-1")).await {
        MonitorAnswer::Refused { refused } => assert!(refused.contains("no hold fleet-us-east-1-1"), "{refused}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(the_hold(&lab).await.active());
    assert!(lab.ledger_items(&region_pk(REGION), "audit#").await.is_empty());

    let s = summary(p.event(&release(&hold.id)).await);
    assert_eq!(s.resumed.len(), 4, "{s:?}");
    assert_eq!(s.holds.iter().map(|h| (h.id.as_str(), h.state)).collect::<Vec<_>>(), [(hold.id.as_str(), "released")]);
    // Audited in the ledger.
    let audit = lab.ledger_items(&region_pk(REGION), "audit#release#").await;
    assert_eq!(audit.len(), 1);
    assert!(audit[0].key.sk.ends_with(&hold.id), "{}", audit[0].key.sk);
    let audit: HoldRelease = serde_json::from_value(Value::Object(audit[0].body.clone())).unwrap();
    assert_eq!((audit.hold_id.as_str(), audit.operator.as_str()), (hold.id.as_str(), "jane"));
    assert!(audit.reason.contains("site power"));
    assert_eq!(audit.gateways.len(), 4);
    // The hold stays recorded, released.
    let released = the_hold(&lab).await;
    assert!(matches!(&released.state, HoldState::Released { by, .. } if by == "jane"), "{released:?}");
    assert_eq!(count(&report_events(&lab), "HoldReleased"), 1);
    let hand_offs = lab.hand_offs();
    assert_eq!(held_by(&hand_offs[4..]), [None; 4], "the held hand-offs go out again, not held");

    // The next sweep, the gateways still offline: the same event does not hold again.
    p.clock.advance_secs(SWEEP_EVERY);
    let s = summary(p.monitor(MonitorRequest::Sweep).await);
    assert_eq!(s.holds.iter().map(|h| h.state).collect::<Vec<_>>(), ["released"]);
    assert!(s.newly_failed.is_empty() && s.resumed.is_empty());
    assert_eq!(the_hold(&lab).await, released);
    assert_eq!(count(&report_events(&lab), "HoldPlaced"), 1, "no second alert");
    assert_eq!(lab.hand_offs().len(), 8);

    // Their recoveries disable them.
    let reports = p.deliver().await.to_vec();
    assert_eq!(reports.len(), 4);
    for r in &reports {
        assert_eq!(r.status, Status::Completed, "{}", r.summary);
        assert_eq!(r.tapes.done, 2);
    }
    assert_eq!(lab.count("DisableGateway"), 4);
    assert_eq!(lab.tapes_on(STANDBY).len(), 8);
}

#[tokio::test]
async fn recover_gateway_enforces_the_hold_itself() {
    // 3 of 4 offline: the first sweep places the hold.
    let lab = Lab::start(fleet(4, 3, 2)).await;
    let p = Pipeline::new(&lab);
    summary(p.monitor(MonitorRequest::Sweep).await);
    let hold = the_hold(&lab).await;
    assert!(hold.active());

    // A direct invocation: held.
    let r = lab.recover(direct(PRIMARY)).await;
    assert_eq!(r.status, Status::AwaitingApproval, "{}", r.summary);
    assert_eq!(r.holds[0].id, hold.id);
    // An old hand-off, made before the hold (it names none), replayed now: held.
    let r = lab.recover(hand_off_request()).await;
    assert_eq!(r.status, Status::AwaitingApproval, "{}", r.summary);
    assert_eq!(r.holds[0].id, hold.id);
    // An approval that does not name the hold (given before it existed): held.
    let approved = Approval { disable: true, override_holds: vec![], operator: Some("jane".into()) };
    let r = lab.recover(RecoveryRequest { approval: approved, ..direct(PRIMARY) }).await;
    assert_eq!(r.status, Status::AwaitingApproval, "{}", r.summary);
    assert_eq!(lab.count("DisableGateway"), 0, "none of them disabled it");

    // The approval payload the held report carries names the hold: that one disables.
    let payload = r.approval.clone().expect("the report says how to approve");
    assert_eq!(payload["overrideHolds"], json!([hold.id]));
    let mut payload = payload;
    payload["operator"] = json!("jane");
    let req = shared::recover::decode_event(&payload).unwrap().remove(0);
    let r = lab.recover(req).await;
    assert_eq!(r.status, Status::Completed, "{}", r.summary);
    assert_eq!(lab.count("DisableGateway"), 1);
    let audit = lab.ledger_items(&shared::ledger::gateway_pk(&tests::gateway(PRIMARY)), "audit#disable").await;
    assert_eq!(audit[0].body["by"], "jane");
    assert!(the_hold(&lab).await.active(), "overriding the hold for one gateway leaves it on the others");
}

#[tokio::test]
async fn a_correlated_outage_is_recorded_in_the_ledger_and_shown_in_the_summary() {
    let lab = Lab::start(fleet(10, 6, 1)).await;
    let ids = watched_ids(&lab);
    let p = Pipeline::new(&lab);
    let s = summary(p.monitor(MonitorRequest::Sweep).await);
    let hold = the_hold(&lab).await;
    assert_eq!(hold.region, REGION);
    assert_eq!(hold.kind, HoldKind::Fleet);
    assert!(hold.active() && hold.alerted, "{hold:?}");
    assert!((T0 * 1000..(T0 + 20) * 1000).contains(&hold.since), "since the sweep that saw it: {}", hold.since);
    assert_eq!((hold.offline, hold.watched), (6, 10));
    let offline: BTreeSet<String> = ids[..6].iter().map(|id| gateway_arn(id)).collect();
    assert_eq!(hold.gateways.iter().cloned().collect::<BTreeSet<_>>(), offline);
    assert!(hold.reason.contains("6 of 10"), "{}", hold.reason);

    assert_eq!(s.holds.len(), 1);
    let shown = &s.holds[0];
    assert_eq!((shown.id.as_str(), shown.region.as_str(), shown.state), (hold.id.as_str(), REGION, "active"));
    assert_eq!((shown.offline, shown.watched), (6, 10));
    assert_eq!(shown.reason, hold.reason);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["holds"][0]["id"], hold.id.as_str(), "the answer shows it: {}", json["holds"]);

    // Worse, then better but still correlated: the same hold, its counts kept current.
    lab.sim.set_connected(&ids[6], false);
    p.clock.advance_secs(SWEEP_EVERY);
    summary(p.monitor(MonitorRequest::Sweep).await);
    let worse = the_hold(&lab).await;
    assert_eq!((worse.id.as_str(), worse.offline, worse.watched), (hold.id.as_str(), 7, 10));
    assert_eq!(worse.since, hold.since);
    assert_eq!(count(&report_events(&lab), "HoldPlaced"), 1);
}

/// A fleet's outage end to end: the sweeps through the grace period, every hand-off
/// recovered; answers the pipeline, its reports in it.
async fn outage(lab: &Lab) -> Pipeline<'_> {
    let mut p = Pipeline::new(lab);
    p.sweep().await;
    p.sweep_for(GRACE).await;
    p
}

#[tokio::test]
async fn one_of_ten_offline_recovers_automatically() {
    let lab = Lab::start(fleet(10, 1, 2)).await;
    let reports = outage(&lab).await.reports;
    assert_eq!(held_by(&lab.hand_offs()), [None]);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, Status::Completed, "{}", reports[0].summary);
    assert_eq!(lab.count("DisableGateway"), 1);
    assert!(holds(&lab).await.is_empty());
    assert_eq!(lab.tapes_on(STANDBY).len(), 2);
}

#[tokio::test]
async fn six_of_ten_offline_hold() {
    let lab = Lab::start(fleet(10, 6, 2)).await;
    let reports = outage(&lab).await.reports;
    let hold = the_hold(&lab).await;
    assert_eq!(held_by(&lab.hand_offs()), [Some(hold.id.as_str()); 6]);
    assert_eq!(reports.len(), 6);
    assert!(reports.iter().all(|r| r.status == Status::AwaitingApproval));
    assert_eq!(lab.count("DisableGateway"), 0);
    assert_eq!(report_events(&lab), ["HoldPlaced"]);
}

#[tokio::test]
async fn a_lone_watched_gateway_recovers_automatically() {
    let lab = Lab::start(fleet(1, 1, 2)).await;
    assert_eq!(watched_ids(&lab), [PRIMARY]);
    let reports = outage(&lab).await.reports;
    assert_eq!(held_by(&lab.hand_offs()), [None]);
    assert_eq!(reports[0].status, Status::Completed, "{}", reports[0].summary);
    assert_eq!(lab.count("DisableGateway"), 1);
    assert!(holds(&lab).await.is_empty());
}

/// A CloudWatch alarm on a gateway's `HealthNotifications`, as EventBridge delivers it.
fn alarm(gateway_id: &str) -> Value {
    json!({"version": "0", "id": "4d0d5b7c-0000-0000-0000-000000000000", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-25T10:30:00Z", "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:gateway-health"],
        "detail": {"alarmName": "gateway-health",
            "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2026-11-25T10:30:00.000+0000"},
            "configuration": {"metrics": [{"id": "m1", "returnData": true, "metricStat": {"period": 300, "stat": "Sum",
                "metric": {"namespace": "AWS/StorageGateway", "name": "HealthNotifications",
                    "dimensions": {"GatewayId": gateway_id}}}}]}}})
}

#[tokio::test]
async fn recovered_gateways_do_not_count_against_the_region_afterwards() {
    // 2 of 6 offline: not correlated; both are recovered, so disabled.
    let lab = Lab::start(fleet(6, 2, 1)).await;
    let ids = watched_ids(&lab);
    let mut p = outage(&lab).await;
    assert_eq!(p.reports.iter().filter(|r| r.status == Status::Completed).count(), 2);
    assert_eq!(lab.count("DisableGateway"), 2);
    let s = p.sweep_for(SWEEP_EVERY).await.remove(0);
    assert_eq!((s.checked, s.counts.offline), (4, 0), "the disabled ones are no longer watched");
    // A third gateway fails; its alarm comes before the next sweep. One of the four
    // gateways left is offline: nothing is correlated.
    assert!(lab.sim.set_connected(&ids[2], false));
    let s = summary(p.event(&alarm(&ids[2])).await);
    assert_eq!(s.newly_suspected, vec![ids[2].clone()]);
    assert!(holds(&lab).await.is_empty(), "no hold: {:?}", s.holds);
    assert_eq!(count(&report_events(&lab), "HoldPlaced"), 0);
    p.sweep_for(GRACE).await;
    assert_eq!(lab.count("DisableGateway"), 3, "it recovers automatically, as the first two did");
}

#[tokio::test]
async fn a_hold_whose_alert_was_lost_is_announced_by_the_next_run_once() {
    let lab = Lab::start(fleet(5, 4, 1)).await;
    let mut p = Pipeline::new(&lab);
    let mut faults = FaultConfig::default();
    faults.operations.insert("Publish".into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let s = p.sweep().await;
    lab.sim.set_faults(FaultConfig::default()).unwrap();
    let hold = the_hold(&lab).await;
    assert!(hold.active() && !hold.alerted, "placed, but its alert did not go out: {hold:?}");
    assert!(s.errors.iter().any(|e| e.contains("could not be published")), "{:?}", s.errors);
    assert!(report_events(&lab).is_empty());

    for _ in 0..3 {
        p.sweep_for(SWEEP_EVERY).await;
        assert_eq!(report_events(&lab), ["HoldPlaced"], "announced once, by the next sweep");
    }
    let announced = the_hold(&lab).await;
    assert!(announced.alerted && announced.id == hold.id);
    // The event goes on as usual: held, nothing disabled.
    p.sweep_for(GRACE).await;
    assert_eq!(held_by(&lab.hand_offs()), [Some(hold.id.as_str()); 4]);
    assert_eq!(lab.count("DisableGateway"), 0);
    assert_eq!(report_events(&lab), ["HoldPlaced"]);
}

#[tokio::test]
async fn a_health_hold_whose_alert_was_lost_is_announced_by_the_next_run_once() {
    let lab = Lab::start(fleet(4, 1, 1)).await;
    let mut p = Pipeline::new(&lab);
    let mut faults = FaultConfig::default();
    faults.operations.insert("Publish".into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    p.event(&health_event("open")).await;
    lab.sim.set_faults(FaultConfig::default()).unwrap();
    assert!(!the_hold(&lab).await.alerted);
    assert!(report_events(&lab).is_empty());
    p.sweep().await;
    assert_eq!(report_events(&lab), ["HoldPlaced"]);
    p.event(&health_event("open")).await;
    p.sweep_for(SWEEP_EVERY).await;
    assert_eq!(report_events(&lab), ["HoldPlaced"], "once");
    assert!(the_hold(&lab).await.alerted);
}

#[tokio::test]
async fn a_region_hovering_around_the_threshold_is_held_once_until_it_is_healthy() {
    // 6 of 10 offline, then one flaps back and forth across the 55 % line.
    let lab = Lab::start(fleet(10, 6, 1)).await;
    let ids = watched_ids(&lab);
    let mut p = Pipeline::new(&lab);
    p.sweep().await;
    let hold = the_hold(&lab).await;
    for n in 0..12 {
        assert!(lab.sim.set_connected(&ids[5], n % 2 == 0));
        p.sweep_for(SWEEP_EVERY).await;
        assert_eq!(the_hold(&lab).await.id, hold.id, "the same hold");
    }
    assert_eq!(report_events(&lab), ["HoldPlaced"], "one alert, no lift and place again");
    assert_eq!(lab.count("DisableGateway"), 0);
    assert!(held_by(&lab.hand_offs()).iter().all(|h| *h == Some(hold.id.as_str())));
    // Healthy again (two isolated failures left): lifted; those two go on as usual.
    for id in &ids[2..6] {
        assert!(lab.sim.set_connected(id, true));
    }
    let s = p.sweep_for(SWEEP_EVERY).await.remove(0);
    assert!(holds(&lab).await.is_empty());
    let events = report_events(&lab);
    assert_eq!((count(&events, "HoldPlaced"), count(&events, "HoldLifted")), (1, 1), "{events:?}");
    let mut resumed = s.resumed.clone();
    resumed.sort();
    assert_eq!(resumed, ids[..2].to_vec(), "the two still offline are handed off again");
    assert_eq!(lab.count("DisableGateway"), 2, "and recover under the normal policy");
}
