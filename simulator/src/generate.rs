//! `sgw-sim gen`: large fleets for tests and benchmarks, described by a few numbers.

use std::collections::BTreeMap;

use crate::behaviour::Behaviour;
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
    /// Volumes (each with a recovery point, a target name and the tag `app=backup`) on the
    /// failed cached gateway `volume-cache`, which is tagged to recover to `volume-standby`
    /// (a connected cached gateway with cache, upload buffer and a network interface);
    /// 0: neither gateway.
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
/// The cached volume gateway `volume-cache`'s volumes are cloned to.
pub const VOLUME_STANDBY: &str = "sgw-10000003";

/// A gateway with nothing but its id, name, type and tags.
/// A gateway with no tapes, volumes or disks: what generated fleets and tests build on.
pub fn gateway(
    id: &str,
    name: &str,
    gateway_type: &str,
    connected: bool,
    tags: BTreeMap<String, String>,
) -> GatewaySpec {
    GatewaySpec {
        id: id.into(),
        name: name.into(),
        gateway_type: gateway_type.into(),
        connected,
        disabled: false,
        tags,
        tapes: vec![],
        volumes: vec![],
        network_interfaces: vec![],
        cache_disks: vec![],
        cache_bytes: None,
        upload_buffer_disks: vec![],
        upload_buffer_bytes: None,
    }
}

/// `volume-cache`, failed, and `volume-standby`, ready to take clones of its volumes.
fn volume_gateways(shape: &FleetShape, watched: BTreeMap<String, String>) -> [GatewaySpec; 2] {
    let standby_arn = format!("arn:aws:storagegateway:{}:{}:gateway/{VOLUME_STANDBY}", shape.region, shape.account);
    let mut tags = watched;
    tags.insert("recovery:standby-gateway".into(), standby_arn);
    let mut failed = gateway(VOLUMES, "volume-cache", "CACHED", !shape.failed_offline, tags);
    failed.volumes = (0..shape.volumes)
        .map(|i| {
            let id = format!("vol-{:08X}", 0x2000_0000 + i);
            VolumeSpec {
                target_name: Some(format!("backup-{}", id.to_lowercase())),
                id,
                size_bytes: 536_870_912_000,
                usage_bytes: None,
                recovery_point_time: Some("2026-11-20T10:00:00.000Z".into()),
                kms_key: None,
                status: None,
                tags: BTreeMap::from([("app".to_owned(), "backup".to_owned())]),
            }
        })
        .collect();
    failed.cache_disks = vec!["pci-0000:03:00.0-scsi-0:0:1:0".into()];
    failed.upload_buffer_disks = vec!["pci-0000:03:00.0-scsi-0:0:2:0".into()];
    let mut standby = gateway(VOLUME_STANDBY, "volume-standby", "CACHED", true, BTreeMap::new());
    standby.cache_disks = vec!["pci-0000:03:00.0-scsi-0:0:1:0".into()];
    standby.cache_bytes = Some(4 * 1024 * crate::fleet::GIB);
    standby.upload_buffer_disks = vec!["pci-0000:03:00.0-scsi-0:0:2:0".into()];
    [failed, standby]
}

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
    let mut primary = gateway(PRIMARY, "tape-primary", "VTL", !shape.failed_offline, watched(&primary_tags));
    primary.tapes = (0..shape.tapes).map(|i| tape("PRI", i, true)).collect();
    let mut standby = gateway(STANDBY, "tape-standby", "VTL", true, BTreeMap::new());
    standby.tapes = (0..shape.standby_tapes).map(|i| tape("STB", i, false)).collect();
    let mut gateways = vec![primary, standby];
    if shape.volumes > 0 {
        gateways.extend(volume_gateways(shape, watched(&[])));
    }
    let mut next = 0x1000_0100usize;
    for (count, tagged) in [(shape.gateways, true), (shape.untagged, false)] {
        for i in 0..count {
            let id = format!("sgw-{next:08X}");
            next += 1;
            let name = format!("{}-{i:05}", if tagged { "fleet" } else { "other" });
            gateways.push(gateway(&id, &name, "VTL", true, if tagged { watched(&[]) } else { BTreeMap::new() }));
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
        behaviour: Behaviour::default(),
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
        assert_eq!(fleet.gateways.len(), 4 + 1000 + 10);
        assert_eq!(fleet.gateways[0].tapes.len(), 1500);
    }

    #[test]
    fn volumes_come_with_a_standby_cached_gateway_to_clone_them_to() {
        let fleet = generate(&FleetShape { tapes: 0, volumes: 3, ..Default::default() });
        let failed = fleet.gateways.iter().find(|g| g.id == VOLUMES).unwrap();
        let standby = fleet.gateways.iter().find(|g| g.id == VOLUME_STANDBY).unwrap();
        assert_eq!(failed.tags.get("recovery:standby-gateway"), Some(&fleet.gateway_arn(VOLUME_STANDBY)));
        assert!(standby.connected && standby.gateway_type == "CACHED");
        assert!(!standby.cache_disks.is_empty() && !standby.upload_buffer_disks.is_empty());
        assert_eq!(failed.volumes[0].target_name.as_deref(), Some("backup-vol-20000000"));
        assert_eq!(failed.volumes[0].tags.get("app").map(String::as_str), Some("backup"));
        let none = generate(&FleetShape { volumes: 0, ..Default::default() });
        assert_eq!(none.gateways.len(), 2);
    }
}
