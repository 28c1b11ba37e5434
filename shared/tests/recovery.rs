//! The recovery's decisions on the in-memory twins: whole runs, without HTTP, with tokio's
//! paused clock (leases, backoffs and deadlines pass instantly). The end-to-end tier runs
//! the same code with the real SDK against the simulator.

use std::time::Duration;

use serde_json::Value;
use shared::arn::{GatewayArn, TapeArn, TopicArn};
use shared::config::{DisablePolicy, RecoverConfig, VolumeRecovery};
use shared::deadline::Budget;
use shared::handoff::{GatewayOffline, Message};
use shared::ledger::{self, Hold, HoldKind, HoldState, region_pk};
use shared::memory::{ManualClock, MemoryGateway, MemoryLedger, MemoryNotifier, MemoryVolume, error};
use shared::model::{GatewayKind, Tags, VolumeKind};
use shared::ports::Key;
use shared::recover::report::{DisableAction, Outcome};
use shared::recover::{Approval, Recovery, RecoveryReport, RecoveryRequest, Source, Status, decode_event};

const T0: i64 = 1_795_600_800;

fn gw(id: &str) -> GatewayArn {
    GatewayArn::parse("t", &format!("arn:aws:storagegateway:us-west-2:123456789012:gateway/{id}")).unwrap()
}

fn tape(n: usize) -> TapeArn {
    TapeArn::parse("t", &format!("arn:aws:storagegateway:us-west-2:123456789012:tape/TAPE{n:06}")).unwrap()
}

fn topic(name: &str) -> TopicArn {
    TopicArn::parse("t", &format!("arn:aws:sns:us-west-2:123456789012:{name}")).unwrap()
}

fn config() -> RecoverConfig {
    RecoverConfig {
        report_topic: topic("reports"),
        recovery_topic: Some(topic("recovery")),
        ledger_table: "ledger".into(),
        standby: None,
        volume_standby: None,
        disable_policy: DisablePolicy::Tagged,
        volume_recovery: VolumeRecovery::Clone,
        max_concurrency: 16,
        max_auto_disables_per_hour: 5,
        time_budget: Duration::from_secs(840),
        deadline_margin: Duration::from_secs(60),
        max_slices: 20,
        lease_heartbeat: Duration::from_secs(5),
        verify_wait: Duration::from_secs(10),
        reconfirm_after: Duration::from_secs(30),
    }
}

/// A failed tape gateway (`sgw-AAAAAAAA`, offline, tagged for automatic disable) with
/// `tapes` tapes, and an empty standby (`sgw-BBBBBBBB`).
struct World {
    sg: MemoryGateway,
    sns: MemoryNotifier,
    ledger: MemoryLedger,
    clock: ManualClock,
    config: RecoverConfig,
}

fn world(tapes: usize) -> World {
    let sg = MemoryGateway::default();
    let (failed, standby) = (gw("sgw-AAAAAAAA"), gw("sgw-BBBBBBBB"));
    sg.add_gateway(&failed, GatewayKind::Tape, false);
    sg.add_gateway(&standby, GatewayKind::Tape, true);
    let standby_arn = standby.to_string();
    sg.set_tags(&failed, &[("recovery:auto-disable", "true"), ("recovery:standby-gateway", &standby_arn)]);
    for n in 0..tapes {
        sg.add_tape(&failed, &tape(n), Some(T0 - 3600));
    }
    World {
        sg,
        sns: MemoryNotifier::default(),
        ledger: MemoryLedger::default(),
        clock: ManualClock::at(T0),
        config: config(),
    }
}

impl World {
    fn recovery(&self) -> Recovery<'_, MemoryGateway, MemoryNotifier, MemoryLedger, ManualClock> {
        Recovery {
            gateway: &self.sg,
            notifier: &self.sns,
            ledger: &self.ledger,
            clock: &self.clock,
            config: &self.config,
        }
    }

    async fn run(&self, req: RecoveryRequest, budget: Duration, request_id: &str) -> RecoveryReport {
        self.recovery().run(req, Budget::after(budget, Duration::from_secs(60)), request_id).await
    }

    fn on_standby(&self) -> usize {
        self.sg.tapes_on(&gw("sgw-BBBBBBBB")).len()
    }

    /// The continuations published so far, as requests.
    fn continuations(&self) -> Vec<RecoveryRequest> {
        self.sns
            .published()
            .iter()
            .filter(|p| p.topic == topic("recovery"))
            .filter_map(|p| serde_json::from_str::<Value>(&p.body).ok())
            .filter_map(|v| decode_event(&v).ok())
            .flatten()
            .collect()
    }
}

fn direct() -> RecoveryRequest {
    RecoveryRequest {
        failed: gw("sgw-AAAAAAAA"),
        standby: None,
        dry_run: false,
        approval: Approval::default(),
        source: Source::Direct,
    }
}

fn hand_off() -> RecoveryRequest {
    let m = GatewayOffline::new(
        &gw("sgw-AAAAAAAA"),
        "primary",
        GatewayKind::Tape,
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:15:00Z",
    );
    RecoveryRequest { source: Source::Handoff(m), ..direct() }
}

#[tokio::test(start_paused = true)]
async fn a_gateway_is_recovered_once_with_the_audit_first_and_a_rerun_changes_nothing() {
    let w = world(250);
    let r = w.run(hand_off(), Duration::from_secs(600), "req-1").await;
    assert_eq!(r.status, Status::Completed, "{}", r.summary);
    assert_eq!((r.tapes.total, r.tapes.done, r.tapes.verified), (250, 250, 250));
    assert_eq!(r.disable.as_ref().map(|d| d.action), Some(DisableAction::Disabled));
    assert_eq!(w.on_standby(), 250);
    assert_eq!(w.sg.count("RetrieveTapeRecoveryPoint"), 250, "each tape asked for once");
    assert_eq!(w.sg.count("DisableGateway"), 1);
    // The audit item and the outage are in the ledger; the lease is released.
    let items = w.ledger.items();
    let pk = ledger::gateway_pk(&gw("sgw-AAAAAAAA"));
    assert!(items.iter().any(|i| i.key == Key::new(&pk, "audit#disable")));
    assert!(items.iter().any(|i| i.key.sk.starts_with("outage#") && i.body["status"] == "completed"));
    assert!(items.iter().any(|i| i.key.sk.starts_with("run#")));
    let lease = items.iter().find(|i| i.key.sk == "lease").expect("the lease item stays, for its version");
    assert!(lease.body["releasedAt"].is_number(), "the lease was released: {:?}", lease.body);
    // The audit went out on SNS before the disable; the report after.
    let subjects: Vec<String> = w.sns.published().iter().filter_map(|p| p.subject.clone()).collect();
    assert!(subjects[0].starts_with("AUDIT: disabling"), "{subjects:?}");
    assert!(subjects.last().unwrap().starts_with("Recovered 250/250 tapes"), "{subjects:?}");
    // A replay of the hand-off does nothing and says nothing.
    let published = w.sns.published().len();
    let again = w.run(hand_off(), Duration::from_secs(600), "req-2").await;
    assert_eq!(again.status, Status::AlreadyCompleted, "{}", again.summary);
    assert_eq!(w.sns.published().len(), published);
    // A direct rerun finds everything on the standby.
    let rerun = w.run(direct(), Duration::from_secs(600), "req-3").await;
    assert_eq!(rerun.status, Status::Completed);
    assert_eq!((rerun.tapes.done, rerun.tapes.already_done), (0, 250));
    assert_eq!(w.sg.count("RetrieveTapeRecoveryPoint"), 250);
}

#[tokio::test(start_paused = true)]
async fn two_deliveries_at_once_one_works_and_the_other_leaves_the_work_to_it() {
    let w = world(200);
    let (a, b) = tokio::join!(
        w.run(hand_off(), Duration::from_secs(600), "a"),
        w.run(hand_off(), Duration::from_secs(600), "b")
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_by_key(|s| s.as_str());
    assert!(
        statuses == [Status::Completed, Status::Duplicate] || statuses == [Status::AlreadyCompleted, Status::Completed],
        "{statuses:?}: {} / {}",
        a.summary,
        b.summary
    );
    assert_eq!(w.sg.count("RetrieveTapeRecoveryPoint"), 200);
    assert_eq!(w.sg.count("DisableGateway"), 1);
}

#[tokio::test(start_paused = true)]
async fn throttles_are_waited_out_and_the_budget_hands_over_to_a_continuation() {
    let w = world(120);
    // Every retrieval throttled, for the whole first run.
    w.sg.fail_all("RetrieveTapeRecoveryPoint", Some(error("RetrieveTapeRecoveryPoint", "ThrottlingException", 400)));
    let first = w.run(hand_off(), Duration::from_secs(20), "req-1").await;
    w.sg.fail_all("RetrieveTapeRecoveryPoint", None);
    assert_eq!(first.status, Status::Continued, "{}", first.summary);
    assert!(first.pacing.throttles > 100, "{:?}", first.pacing);
    assert!(first.tapes.pending > 0);
    assert!(
        first.tape_results.iter().filter(|t| t.outcome == Outcome::Pending).all(|t| t.error.is_none()),
        "a throttle is not a failure"
    );
    let mut next = w.continuations();
    assert_eq!(next.len(), 1);
    let mut slices = 1;
    let last = loop {
        slices += 1;
        let r = w.run(next.remove(0), Duration::from_secs(600), &format!("req-{slices}")).await;
        if r.status != Status::Continued {
            break r;
        }
        next = w.continuations().into_iter().skip(slices - 1).collect();
        assert!(slices < 10);
    };
    assert_eq!(last.status, Status::Completed, "{}", last.summary);
    assert_eq!(last.tapes.recovered(), 120);
    assert_eq!(w.on_standby(), 120);
    assert_eq!(w.sg.count("DisableGateway"), 1, "the continuation knows the gateway is disabled");
}

#[tokio::test(start_paused = true)]
async fn a_retrieval_whose_answer_was_lost_is_found_on_the_standby_not_asked_again() {
    let w = world(30);
    // The first answers are lost after AWS applied them: the retry is refused as a repeat.
    w.sg.fail_next(
        "RetrieveTapeRecoveryPoint",
        (0..5).map(|_| error("RetrieveTapeRecoveryPoint", "InternalServerError", 500)),
    );
    let r = w.run(direct(), Duration::from_secs(600), "req-1").await;
    assert_eq!(r.status, Status::Completed, "{}", r.summary);
    assert_eq!(r.tapes.done, 30);
}

#[tokio::test(start_paused = true)]
async fn a_standby_that_fills_up_stops_the_run_cleanly() {
    let w = world(40);
    w.sg.fail_next(
        "RetrieveTapeRecoveryPoint",
        std::iter::repeat_n((), 200)
            .map(|_| error("RetrieveTapeRecoveryPoint", "MaximumTapeCartridgeCountExceeded", 400)),
    );
    let r = w.run(direct(), Duration::from_secs(600), "req-1").await;
    assert_eq!(r.status, Status::Partial, "{}", r.summary);
    assert!(r.retryable);
    assert!(r.summary.contains("MaximumTapeCartridgeCountExceeded"), "{}", r.summary);
    assert!(w.sg.count("RetrieveTapeRecoveryPoint") <= 16 + 1, "at most the calls in flight after the stop");
}

async fn hold(w: &World, id: &str) {
    let h = Hold {
        id: id.into(),
        region: "us-west-2".into(),
        kind: HoldKind::Fleet,
        state: HoldState::Active,
        since: T0 * 1000,
        reason: "6 of 10 watched gateways in us-west-2 are offline".into(),
        offline: 6,
        watched: 10,
        gateways: vec![],
        updated_at: T0 * 1000,
        alerted: true,
    };
    ledger::create(&w.ledger, &Key::new(region_pk("us-west-2"), "hold#fleet"), &h, None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_hold_stops_the_disable_whatever_the_policy_and_only_an_override_by_name_passes_it() {
    let w = world(10);
    hold(&w, "fleet-us-west-2-1").await;
    let r = w.run(hand_off(), Duration::from_secs(600), "req-1").await;
    assert_eq!(r.status, Status::AwaitingApproval, "{}", r.summary);
    assert_eq!(r.holds.len(), 1);
    assert_eq!(r.approval.as_ref().unwrap()["overrideHolds"][0], "fleet-us-west-2-1");
    assert_eq!(w.sg.count("DisableGateway"), 0);
    assert!(w.sns.published().is_empty(), "a held hand-off says nothing: the monitor sent the one alert");
    let approved = RecoveryRequest { approval: Approval { disable: true, ..Approval::default() }, ..direct() };
    let r = w.run(approved, Duration::from_secs(600), "req-2").await;
    assert_eq!(r.status, Status::AwaitingApproval, "an approval that does not name the hold does not pass it");
    let overridden = RecoveryRequest {
        approval: Approval {
            disable: true,
            override_holds: vec!["fleet-us-west-2-1".into()],
            operator: Some("jane".into()),
        },
        ..direct()
    };
    let r = w.run(overridden, Duration::from_secs(600), "req-3").await;
    assert_eq!(r.status, Status::Completed, "{}", r.summary);
    let audit = w.ledger.items().into_iter().find(|i| i.key.sk == "audit#disable").unwrap();
    assert_eq!(audit.body["by"], "jane");
}

#[tokio::test(start_paused = true)]
async fn automatic_disables_stop_at_the_hourly_cap() {
    let mut w = world(0);
    w.config.max_auto_disables_per_hour = 2;
    let standby = gw("sgw-BBBBBBBB").to_string();
    let mut statuses = Vec::new();
    for n in 0..3 {
        let g = gw(&format!("sgw-C000000{n}"));
        w.sg.add_gateway(&g, GatewayKind::Tape, false);
        w.sg.set_tags(&g, &[("recovery:auto-disable", "true"), ("recovery:standby-gateway", &standby)]);
        w.sg.add_tape(&g, &tape(100 + n), Some(T0));
        let req = RecoveryRequest { failed: g, ..direct() };
        statuses.push(w.run(req, Duration::from_secs(600), &format!("r{n}")).await.status);
    }
    assert_eq!(statuses, [Status::Completed, Status::Completed, Status::AwaitingApproval]);
    assert_eq!(w.sg.count("DisableGateway"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_permanent_aws_error_ends_in_error_and_a_throttle_until_the_end_does_not() {
    let w = world(5);
    w.sg.fail_next("DescribeGatewayInformation", [error("DescribeGatewayInformation", "AccessDeniedException", 400)]);
    let r = w.run(direct(), Duration::from_secs(600), "req-1").await;
    assert_eq!((r.status, r.retryable), (Status::Error, false), "{}", r.summary);
    let w = world(5);
    w.sg.fail_all("DescribeGatewayInformation", Some(error("DescribeGatewayInformation", "ThrottlingException", 400)));
    let r = w.run(direct(), Duration::from_secs(30), "req-1").await;
    assert_eq!(r.status, Status::Continued, "{}", r.summary);
    assert_eq!(w.continuations().len(), 1, "the next slice is on its way");
}

#[tokio::test(start_paused = true)]
async fn cached_volumes_are_cloned_onto_the_standby_once_and_verified() {
    let w = world(0);
    let (failed, standby) = (gw("sgw-DDDDDDDD"), gw("sgw-EEEEEEEE"));
    w.sg.add_gateway(&failed, GatewayKind::CachedVolume, false);
    w.sg.add_gateway(&standby, GatewayKind::CachedVolume, true);
    let s = standby.to_string();
    w.sg.set_tags(&failed, &[("recovery:standby-gateway", &s)]);
    for n in 0..4 {
        let arn = shared::arn::VolumeArn::parse("v", &format!("{failed}/volume/vol-1000000{n}")).unwrap();
        w.sg.add_volume(
            &arn,
            MemoryVolume {
                gateway: failed.clone(),
                kind: VolumeKind::Cached,
                size_bytes: 100 << 30,
                recovery_point: Some("2026-11-25T09:00:00.000Z".into()),
                target_name: format!("db-{n}"),
                status: "AVAILABLE".into(),
                tags: Tags::from([("app".into(), "db".into())]),
                client_token: None,
            },
        );
    }
    let req = RecoveryRequest { failed: failed.clone(), ..direct() };
    let r = w.run(req.clone(), Duration::from_secs(600), "req-1").await;
    assert_eq!(r.status, Status::Completed, "{}", r.summary);
    assert_eq!((r.volumes.done, r.volumes.verified), (4, 4));
    assert!(r.volume_results.iter().all(|v| v.reconnect.as_ref().is_some_and(|c| c.port == 3260)));
    let clones: Vec<_> = w.sg.volumes().into_iter().filter(|(_, v)| v.gateway == standby).collect();
    assert_eq!(clones.len(), 4);
    assert!(
        clones.iter().all(|(_, v)| v.tags.get("app").map(String::as_str) == Some("db")),
        "the source's tags come along"
    );
    assert_eq!(w.sg.count("DisableGateway"), 0, "volume recovery never disables");
    let again = w.run(req, Duration::from_secs(600), "req-2").await;
    assert_eq!(again.status, Status::Completed);
    assert_eq!(w.sg.volumes().into_iter().filter(|(_, v)| v.gateway == standby).count(), 4, "no second clone");
}

#[test]
fn continuations_round_trip_through_the_message() {
    let m = Message::decode(&serde_json::json!({"type": "RecoveryContinuation", "version": 1, "recoveryId": "r", "failedGatewayArn": gw("sgw-AAAAAAAA").to_string(),
        "slice": 2, "startedAt": "2026-11-25T10:00:00Z", "approveDisable": true, "overrideHolds": ["h1"]}))
    .unwrap();
    let Message::Continuation(c) = m else { panic!() };
    assert!(c.approve_disable && c.override_holds == ["h1"]);
}
