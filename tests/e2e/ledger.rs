//! The ledger's own proofs: compare-and-set makes one of two simultaneous deliveries
//! the only one that acts, and every item a run relies on is where its report says.
//! These run on the simulator's DynamoDB and, in CI, on moto's (`LEDGER_ENDPOINT`).

use std::time::Instant;

use shared::ledger::{DisableAudit, Outage, OutageStatus, RunRecord, gateway_pk, load, load_all};
use shared::ports::{Key, Ledger};
use shared::recover::Status;
use tests::simulator::generate::{FleetShape, PRIMARY, STANDBY};
use tests::{Lab, gateway, hand_off_request, latency};

use crate::reliability::{assert_every_tape_once_on_the_standby, duplicate_retrievals};

/// Two deliveries of one hand-off, started together, on clients of their own (two Lambda
/// instances): exactly one retrieves and disables, the other ends `duplicate` having
/// changed nothing, and nothing overlaps. 100 trials.
#[tokio::test]
async fn two_deliveries_started_together_one_acts_the_other_is_a_duplicate_100_trials() {
    let (trials, tapes) = (100, 20);
    let started = Instant::now();
    let mut overlap = 0;
    let mut first_winner = [0usize; 2];
    for trial in 0..trials {
        let lab = Lab::generated(FleetShape { tapes, ..Default::default() }).await;
        lab.sim.set_faults(latency(1)).unwrap();
        let (a, b) = (lab.caller("AKIDINSTANCEA").await, lab.caller("AKIDINSTANCEB").await);
        let (id_a, id_b) = (format!("a-{trial}"), format!("b-{trial}"));
        let (ra, rb) =
            tokio::join!(lab.recover_as(&a, hand_off_request(), &id_a), lab.recover_as(&b, hand_off_request(), &id_b),);
        let (winner, loser, w, l) = match (ra.status, rb.status) {
            (Status::Completed, Status::Duplicate) => (&a, &b, &ra, &rb),
            (Status::Duplicate, Status::Completed) => (&b, &a, &rb, &ra),
            other => panic!("trial {trial}: {other:?}: {} / {}", ra.summary, rb.summary),
        };
        first_winner[usize::from(winner.key.ends_with('B'))] += 1;
        let by_loser = lab.mutations_by(loser);
        overlap += by_loser.len();
        assert!(by_loser.is_empty(), "trial {trial}: the duplicate changed something: {by_loser:?}");
        assert_eq!(w.tapes.done, tapes, "trial {trial}");
        assert_eq!(l.tapes.done, 0, "trial {trial}");
        let by_winner = lab.mutations_by(winner);
        assert_eq!(by_winner.iter().filter(|o| *o == "DisableGateway").count(), 1, "trial {trial}");
        assert_eq!(by_winner.iter().filter(|o| *o == "RetrieveTapeRecoveryPoint").count(), tapes, "trial {trial}");
        assert_every_tape_once_on_the_standby(&lab, tapes);
        assert_eq!(duplicate_retrievals(&lab), 0, "trial {trial}");
        let reports = lab.published("gateway-reports");
        let audits = reports.iter().filter(|m| m.subject.as_deref().is_some_and(|s| s.starts_with("AUDIT"))).count();
        let recovered =
            reports.iter().filter(|m| m.subject.as_deref().is_some_and(|s| s.starts_with("Recovered"))).count();
        assert_eq!((audits, recovered), (1, 1), "trial {trial}: one audit record and one report");
    }
    eprintln!(
        "duplicate delivery: {trials} trials of two invocations started together ({tapes} tapes, ledger at {}): \
         {trials} completed + {trials} duplicate, 1 DisableGateway each, {overlap} mutating calls by a duplicate \
         (instance A won {}, B won {}), {:.1} s",
        tests::ledger_endpoint().unwrap_or_else(|| "the simulator".into()),
        first_winner[0],
        first_winner[1],
        started.elapsed().as_secs_f64()
    );
}

/// The items a completed run leaves, where its report says they are: the lease released,
/// the audit record written before the disable, the outage completed, one run record.
#[tokio::test]
async fn a_completed_run_leaves_its_audit_outage_and_run_record_and_releases_its_lease() {
    let lab = Lab::generated(FleetShape { tapes: 30, ..Default::default() }).await;
    let report = lab.recover(hand_off_request()).await;
    assert_eq!(report.status, Status::Completed, "{}", report.summary);
    let pk = gateway_pk(&gateway(PRIMARY));
    assert_eq!(report.ledger.location, format!("DynamoDB table {}", lab.ledger.table));
    assert_eq!(report.ledger.lease, format!("{pk} / lease"));
    assert_eq!(report.ledger.audit, format!("{pk} / audit#disable"));

    // Released, not deleted: the next run compares its version with the one it read first.
    let lease = Ledger::get(&lab.ledger, &Key::new(pk.clone(), "lease")).await.unwrap().expect("the lease item stays");
    assert!(lease.body["releasedAt"].is_number(), "the lease is released at the end: {lease:?}");
    assert!(lease.expires_at.is_some(), "and expires on its own (TTL)");
    let audit = load::<DisableAudit>(&lab.ledger, &Key::new(pk.clone(), "audit#disable")).await.unwrap();
    let audit = audit.expect("the audit record exists").value;
    assert_eq!(audit.recovery_id, report.recovery_id);
    assert_eq!(audit.standby_gateway_arn, gateway(STANDBY).to_string());
    assert_eq!(audit.tapes, 30);
    assert_eq!(audit.by, "recover-gateway");
    assert!(!audit.reason.is_empty());

    let outages = load_all::<Outage>(&lab.ledger, &pk, "outage#").await.unwrap();
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert_eq!(outages[0].value.status, OutageStatus::Completed);
    assert_eq!(outages[0].value.recovery_id, report.recovery_id);

    let runs = load_all::<RunRecord>(&lab.ledger, &pk, "run#").await.unwrap();
    assert_eq!(runs.len(), 1, "one run record for one run and slice: {runs:?}");
    assert_eq!(runs[0].value.status, Status::Completed);

    // On the simulator, the order is visible too: the audit record precedes the disable.
    if tests::ledger_endpoint().is_none() {
        let calls = lab.sim.calls();
        let audit_put = calls
            .iter()
            .find(|c| c.operation == "PutItem" && c.param("sk") == Some("audit#disable"))
            .map(|c| c.seq)
            .expect("the audit record was put");
        let disable = calls.iter().find(|c| c.operation == "DisableGateway").map(|c| c.seq).expect("disabled");
        assert!(audit_put < disable, "no audit item, no disable");
    }
}
