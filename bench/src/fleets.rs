//! The worlds the scenarios run in, built on `simulator::generate` where it fits and
//! programmatically where it does not (many failed gateways, each with its own standby).

use std::collections::BTreeMap;

use tests::simulator::Fleet;
use tests::simulator::fleet::{GatewaySpec, QueueSpec, TapeSpec};
use tests::simulator::generate::{FleetShape, STANDBY, generate};

/// The re-probe queue of the hand-off scenario.
pub const QUEUE: &str = "gateway-reprobe";

fn tape(barcode: String, recovery_point: bool) -> TapeSpec {
    TapeSpec {
        barcode,
        size_bytes: 107_374_182_400,
        status: "AVAILABLE".into(),
        recovery_point_time: recovery_point.then(|| "2026-11-20T10:00:00Z".to_owned()),
    }
}

/// A generated fleet emptied of gateways, and the tape standby it had as a template for
/// new ones (so fields added to `GatewaySpec` later keep their generated defaults).
fn empty() -> (Fleet, GatewaySpec) {
    let mut fleet = generate(&FleetShape { tapes: 0, ..Default::default() });
    let template =
        fleet.gateways.iter().find(|g| g.id == STANDBY).cloned().unwrap_or_else(|| fleet.gateways[0].clone());
    fleet.gateways.clear();
    (fleet, template)
}

fn vtl(t: &GatewaySpec, id: String, name: String, connected: bool, tags: BTreeMap<String, String>) -> GatewaySpec {
    GatewaySpec { id, name, gateway_type: "VTL".into(), connected, disabled: false, tags, tapes: vec![], ..t.clone() }
}

fn watched(standby_arn: String, auto_disable: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("recovery:enabled".to_owned(), "true".to_owned()),
        ("recovery:standby-gateway".to_owned(), standby_arn),
        ("recovery:auto-disable".to_owned(), auto_disable.to_owned()),
    ])
}

/// A site outage: `gateways` tape gateways offline at once, each with `tapes` tapes (all
/// with a recovery point) and an empty standby of its own. Answers the fleet and the
/// failed gateways' ids.
pub fn site_outage(gateways: usize, tapes: usize) -> (Fleet, Vec<String>) {
    let (mut fleet, t) = empty();
    let mut failed = Vec::new();
    for i in 0..gateways {
        let id = format!("sgw-{:08X}", 0x2000_0000 + i);
        let standby = format!("sgw-{:08X}", 0x3000_0000 + i);
        let mut g = vtl(&t, id.clone(), format!("site-{i:03}"), false, watched(fleet.gateway_arn(&standby), "true"));
        g.tapes = (0..tapes).map(|j| tape(format!("G{i:03}T{j:05}"), true)).collect();
        fleet.gateways.push(g);
        fleet.gateways.push(vtl(&t, standby, format!("site-{i:03}-standby"), true, BTreeMap::new()));
        failed.push(id);
    }
    (fleet, failed)
}

/// The readiness check's world: `gateways` watched, online tape gateways of `tapes` tapes
/// each (every one with a recovery point, the disable opt-in stated), sharing `standbys`
/// empty standbys evenly.
pub fn readiness(gateways: usize, tapes: usize, standbys: usize) -> Fleet {
    let (mut fleet, t) = empty();
    let standby_ids: Vec<String> = (0..standbys).map(|s| format!("sgw-{:08X}", 0x4000_0000 + s)).collect();
    for (s, id) in standby_ids.iter().enumerate() {
        fleet.gateways.push(vtl(&t, id.clone(), format!("standby-{s:02}"), true, BTreeMap::new()));
    }
    for i in 0..gateways {
        let standby = fleet.gateway_arn(&standby_ids[i % standbys]);
        let mut g =
            vtl(&t, format!("sgw-{:08X}", 0x5000_0000 + i), format!("fleet-{i:05}"), true, watched(standby, "false"));
        g.tapes = (0..tapes).map(|j| tape(format!("R{i:04}T{j:03}"), true)).collect();
        fleet.gateways.push(g);
    }
    fleet
}

/// The sweep's world: `gateways` watched gateways and the generated pair, all online.
pub fn sweep(gateways: usize) -> Fleet {
    generate(&FleetShape { tapes: 0, gateways, failed_offline: false, ..Default::default() })
}

/// The hand-off scenario's world: `tape-primary` (online, 10 tapes) among 10 watched
/// gateways, and the re-probe queue.
pub fn hand_off() -> Fleet {
    let mut fleet = generate(&FleetShape { tapes: 10, gateways: 9, failed_offline: false, ..Default::default() });
    fleet.queues.push(QueueSpec { name: QUEUE.into(), deliver_to: None });
    fleet
}

/// One tape gateway of `tapes` tapes, failed, tagged to disable, and its empty standby.
pub fn one_gateway(tapes: usize) -> Fleet {
    generate(&FleetShape { tapes, ..Default::default() })
}
