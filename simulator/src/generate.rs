//! `sgw-sim gen`: large fleets for tests and benchmarks, described by a few numbers.

use std::collections::BTreeMap;

use crate::fleet::{Fleet, GatewaySpec, TapeSpec, TopicSpec, VolumeSpec};

/// What to generate. Gateway ids are assigned in order from `sgw-10000000`.
#[derive(Debug, Clone)]
pub struct FleetShape {
    pub region: String,
    pub account: String,
    /// Tapes (each with a recovery point) on the failed tape gateway `tape-primary`.
    pub tapes: usize,
    /// Tapes already on the standby `tape-standby`.
    pub standby_tapes: usize,
    /// Volumes (each with a recovery point) on the failed cached gateway `volume-cache`; 0: no such gateway.
    pub volumes: usize,
    /// Extra watched gateways (`recovery:enabled=true`), all online.
    pub gateways: usize,
    /// Extra gateways without the watch tag.
    pub untagged: usize,
    /// Tag the failed gateways `recovery:auto-disable=true`.
    pub auto_disable: bool,
    /// Whether the failed gateways start disconnected.
    pub failed_offline: bool,
}

impl Default for FleetShape {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            tapes: 1500,
            standby_tapes: 0,
            volumes: 0,
            gateways: 0,
            untagged: 0,
            auto_disable: true,
            failed_offline: true,
        }
    }
}

pub const PRIMARY: &str = "sgw-10000000";
pub const STANDBY: &str = "sgw-10000001";
pub const VOLUMES: &str = "sgw-10000002";

pub fn generate(shape: &FleetShape) -> Fleet {
    let arn = |id: &str| format!("arn:aws:storagegateway:{}:{}:gateway/{id}", shape.region, shape.account);
    let watched = |extra: &[(&str, String)]| {
        let mut tags: BTreeMap<String, String> = BTreeMap::from([("recovery:enabled".into(), "true".into())]);
        for (k, v) in extra {
            tags.insert((*k).into(), v.clone());
        }
        tags
    };
    let tape = |prefix: &str, i: usize, recovery: bool| TapeSpec {
        barcode: format!("{prefix}{i:06}"),
        size_bytes: 107_374_182_400,
        status: "AVAILABLE".into(),
        recovery_point_time: recovery.then(|| "2026-11-20T10:00:00Z".to_owned()),
    };
    let mut primary_tags = vec![("recovery:standby-gateway", arn(STANDBY))];
    if shape.auto_disable {
        primary_tags.push(("recovery:auto-disable", "true".into()));
    }
    let mut gateways = vec![
        GatewaySpec {
            id: PRIMARY.into(),
            name: "tape-primary".into(),
            gateway_type: "VTL".into(),
            connected: !shape.failed_offline,
            disabled: false,
            tags: watched(&primary_tags),
            tapes: (0..shape.tapes).map(|i| tape("PRI", i, true)).collect(),
            volumes: vec![],
        },
        GatewaySpec {
            id: STANDBY.into(),
            name: "tape-standby".into(),
            gateway_type: "VTL".into(),
            connected: true,
            disabled: false,
            tags: BTreeMap::new(),
            tapes: (0..shape.standby_tapes).map(|i| tape("STB", i, false)).collect(),
            volumes: vec![],
        },
    ];
    if shape.volumes > 0 {
        gateways.push(GatewaySpec {
            id: VOLUMES.into(),
            name: "volume-cache".into(),
            gateway_type: "CACHED".into(),
            connected: !shape.failed_offline,
            disabled: false,
            tags: watched(&[]),
            tapes: vec![],
            volumes: (0..shape.volumes)
                .map(|i| VolumeSpec {
                    id: format!("vol-{:08X}", 0x2000_0000 + i),
                    size_bytes: 536_870_912_000,
                    usage_bytes: None,
                    recovery_point_time: Some("2026-11-20T10:00:00.000Z".into()),
                })
                .collect(),
        });
    }
    let mut next = 0x1000_0100usize;
    for (count, tagged) in [(shape.gateways, true), (shape.untagged, false)] {
        for i in 0..count {
            let id = format!("sgw-{next:08X}");
            next += 1;
            gateways.push(GatewaySpec {
                id,
                name: format!("{}-{i:05}", if tagged { "fleet" } else { "other" }),
                gateway_type: "VTL".into(),
                connected: true,
                disabled: false,
                tags: if tagged { watched(&[]) } else { BTreeMap::new() },
                tapes: vec![],
                volumes: vec![],
            });
        }
    }
    Fleet {
        region: shape.region.clone(),
        account: shape.account.clone(),
        topics: vec![
            TopicSpec { name: "gateway-recovery".into(), deliver_to: None },
            TopicSpec { name: "gateway-reports".into(), deliver_to: None },
        ],
        queues: vec![],
        tables: vec![],
        gateways,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_fleets_are_valid_at_the_limits() {
        let fleet =
            generate(&FleetShape { tapes: 1500, volumes: 32, gateways: 1000, untagged: 10, ..Default::default() });
        fleet.validate().unwrap();
        assert_eq!(fleet.gateways.len(), 3 + 1000 + 10);
        assert_eq!(fleet.gateways[0].tapes.len(), 1500);
    }
}
