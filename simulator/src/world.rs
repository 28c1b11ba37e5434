//! The simulated world: gateways, tapes, recovery points, volumes, snapshots, tags, SNS
//! topics and published messages. Everything here is plain data; `storage_gateway` and
//! `sns` change it the way the APIs do.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::fleet::{Fleet, FleetError, GatewaySpec, VolumeSpec, parse_time};

#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub gateway_type: String,
    pub connected: bool,
    pub disabled: bool,
    /// IPv4 addresses, the `NetworkInterfaceId`s volumes can be exposed on.
    pub network_interfaces: Vec<String>,
    pub cache: Disks,
    pub upload_buffer: Disks,
}

/// Local disks allocated to one use (cache or upload buffer), and their total size.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Disks {
    pub ids: Vec<String>,
    pub bytes: i64,
}

impl Disks {
    fn from_spec(ids: &[String], bytes: Option<i64>) -> Self {
        let count = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        Self { ids: ids.to_vec(), bytes: bytes.unwrap_or(count.saturating_mul(crate::fleet::DEFAULT_DISK_BYTES)) }
    }
}

impl Gateway {
    /// `GatewayOperationalState` as `ListGateways` reports it.
    pub fn operational_state(&self) -> &'static str {
        if self.disabled { "DISABLED" } else { "ACTIVE" }
    }

    /// Whether calls that need the gateway appliance can reach it. A disabled gateway is
    /// cut off from the service for good, connected or not.
    pub fn reachable(&self) -> bool {
        self.connected && !self.disabled
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tape {
    pub arn: String,
    pub barcode: String,
    pub size_bytes: i64,
    pub status: String,
    /// The gateway the tape is on (`None` for a tape in the shelf).
    pub gateway_arn: Option<String>,
    pub created: i64,
    /// When the tape was retrieved to its gateway (epoch milliseconds); with
    /// `recovered_after_ms` it shows `RETRIEVING` until that long after.
    pub retrieved_at_ms: Option<u64>,
}

/// What a retrieved tape shows while it is still being retrieved (`recovered_after_ms`).
pub const RETRIEVING: &str = "RETRIEVING";

impl Tape {
    /// `TapeStatus` as the API shows it at `now_ms`: a retrieved tape is `RETRIEVING` for
    /// `recovered_after_ms`, then its status.
    pub fn status_at(&self, now_ms: u64, recovered_after_ms: u64) -> &str {
        match self.retrieved_at_ms {
            Some(at) if now_ms < at.saturating_add(recovered_after_ms) => RETRIEVING,
            _ => &self.status,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TapeRecoveryPoint {
    pub tape_arn: String,
    /// The gateway the tape was on when the recovery point was taken.
    pub gateway_arn: String,
    pub time: i64,
    pub size_bytes: i64,
    pub status: String,
    /// The gateway the tape was retrieved to; a recovery point is retrieved at most once.
    pub retrieved_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    pub arn: String,
    pub id: String,
    pub gateway_arn: String,
    pub gateway_id: String,
    pub volume_type: String,
    pub size_bytes: i64,
    pub usage_bytes: i64,
    /// As ListVolumeRecoveryPoints sends it: a string, not a timestamp.
    pub recovery_point_time: Option<String>,
    /// `VolumeStatus` once any transition is over.
    pub status: String,
    /// A transitional status shown until a time (a volume just created).
    pub pending: Option<Pending>,
    pub target_name: String,
    /// The interface the iSCSI target is exposed on.
    pub network_interface_id: String,
    pub lun_number: u32,
    pub kms_key: Option<String>,
    /// The snapshot the volume was restored from, if any.
    pub source_snapshot_id: Option<String>,
    /// The volume it was cloned from, if any.
    pub source_volume_arn: Option<String>,
    /// Epoch seconds.
    pub created: i64,
}

/// A status shown between two times (epoch milliseconds), e.g. `CREATING`.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub status: String,
    pub since_ms: u64,
    pub until_ms: u64,
}

impl Volume {
    /// `VolumeStatus` at `now_ms`, and `VolumeProgress` (percent) while it bootstraps or restores.
    pub fn status_at(&self, now_ms: u64) -> (&str, Option<f64>) {
        match &self.pending {
            Some(p) if now_ms < p.until_ms => {
                let progress = matches!(p.status.as_str(), "BOOTSTRAPPING" | "RESTORING").then(|| {
                    let span = p.until_ms.saturating_sub(p.since_ms).max(1);
                    (now_ms.saturating_sub(p.since_ms) as f64 * 100.0 / span as f64).min(99.9)
                });
                (&p.status, progress)
            }
            _ => (&self.status, None),
        }
    }

    /// `<gateway arn>/target/iqn.1997-05.com.amazon:<target name>`.
    pub fn target_arn(&self) -> String {
        format!("{}/target/iqn.1997-05.com.amazon:{}", self.gateway_arn, self.target_name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub volume_arn: String,
    pub description: String,
    pub recovery_point_time: String,
    pub tags: Vec<(String, String)>,
    /// The size of the volume the snapshot was taken of.
    pub size_bytes: i64,
    pub usage_bytes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub deliver_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub attributes: BTreeMap<String, (String, String)>,
    /// Epoch milliseconds.
    pub published_at: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct World {
    pub region: String,
    pub account: String,
    /// Keyed by ARN; ordered so that pages are stable.
    pub gateways: BTreeMap<String, Gateway>,
    pub tapes: BTreeMap<String, Tape>,
    /// Keyed by tape ARN.
    pub tape_recovery_points: BTreeMap<String, TapeRecoveryPoint>,
    pub volumes: BTreeMap<String, Volume>,
    pub snapshots: Vec<Snapshot>,
    /// Resource ARN to its tags, in the order they were added.
    pub tags: HashMap<String, Vec<(String, String)>>,
    pub topics: BTreeMap<String, Topic>,
    pub messages: Vec<Message>,
    /// `CreateCachediSCSIVolume` client tokens and what they were used for.
    pub client_tokens: BTreeMap<String, IssuedToken>,
    /// The next volume number for `CreateCachediSCSIVolume` (`vol-` and 8 upper-case hex digits).
    pub next_volume: u32,
}

/// A client token's first request (the whole input) and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub request: serde_json::Value,
    pub volume_arn: String,
    pub target_arn: String,
}

/// The first id `CreateCachediSCSIVolume` hands out.
pub const FIRST_CREATED_VOLUME: u32 = 0x5000_0000;

impl World {
    pub fn from_fleet(fleet: &Fleet) -> Result<Self, FleetError> {
        fleet.validate()?;
        let now = crate::now_secs();
        let mut w = World {
            region: fleet.region.clone(),
            account: fleet.account.clone(),
            gateways: BTreeMap::new(),
            tapes: BTreeMap::new(),
            tape_recovery_points: BTreeMap::new(),
            volumes: BTreeMap::new(),
            snapshots: Vec::new(),
            tags: HashMap::new(),
            topics: BTreeMap::new(),
            messages: Vec::new(),
            client_tokens: BTreeMap::new(),
            next_volume: FIRST_CREATED_VOLUME,
        };
        for t in &fleet.topics {
            let arn = fleet.topic_arn(&t.name);
            w.topics.insert(arn.clone(), Topic { arn, name: t.name.clone(), deliver_to: t.deliver_to.clone() });
        }
        for (index, g) in fleet.gateways.iter().enumerate() {
            let arn = fleet.gateway_arn(&g.id);
            let interfaces = match g.network_interfaces.as_slice() {
                [] => vec![crate::fleet::default_interface(index)],
                given => given.to_vec(),
            };
            if !g.tags.is_empty() {
                w.tags.insert(arn.clone(), g.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
            }
            for t in &g.tapes {
                let tape_arn = w.tape_arn(&t.barcode);
                w.tapes.insert(
                    tape_arn.clone(),
                    Tape {
                        arn: tape_arn.clone(),
                        barcode: t.barcode.clone(),
                        size_bytes: t.size_bytes,
                        status: t.status.clone(),
                        gateway_arn: Some(arn.clone()),
                        created: now,
                        retrieved_at_ms: None,
                    },
                );
                if let Some(rp) = &t.recovery_point_time {
                    w.tape_recovery_points.insert(
                        tape_arn.clone(),
                        TapeRecoveryPoint {
                            tape_arn,
                            gateway_arn: arn.clone(),
                            time: parse_time("recovery_point_time", rp)?,
                            size_bytes: t.size_bytes,
                            status: t.status.clone(),
                            retrieved_to: None,
                        },
                    );
                }
            }
            for v in &g.volumes {
                let volume = volume_from_spec(v, g, &arn, &interfaces, now);
                if !v.tags.is_empty() {
                    w.tags.insert(volume.arn.clone(), v.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                }
                w.volumes.insert(volume.arn.clone(), volume);
            }
            w.gateways.insert(
                arn.clone(),
                Gateway {
                    arn,
                    id: g.id.clone(),
                    name: g.name.clone(),
                    gateway_type: g.gateway_type.clone(),
                    connected: g.connected,
                    disabled: g.disabled,
                    network_interfaces: interfaces,
                    cache: Disks::from_spec(&g.cache_disks, g.cache_bytes),
                    upload_buffer: Disks::from_spec(&g.upload_buffer_disks, g.upload_buffer_bytes),
                },
            );
        }
        Ok(w)
    }

    pub fn tape_arn(&self, barcode: &str) -> String {
        format!("arn:aws:storagegateway:{}:{}:tape/{barcode}", self.region, self.account)
    }

    pub fn tapes_on(&self, gateway_arn: &str) -> usize {
        self.tapes.values().filter(|t| t.gateway_arn.as_deref() == Some(gateway_arn)).count()
    }

    pub fn tags_of(&self, arn: &str) -> &[(String, String)] {
        self.tags.get(arn).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn volumes_on(&self, gateway_arn: &str) -> usize {
        self.volumes.values().filter(|v| v.gateway_arn == gateway_arn).count()
    }

    /// Finds a volume by id (for the control API and tests).
    pub fn volume_by_id_mut(&mut self, id: &str) -> Option<&mut Volume> {
        self.volumes.values_mut().find(|v| v.id == id)
    }

    /// Finds a gateway by id (for the control API and tests).
    pub fn gateway_by_id_mut(&mut self, id: &str) -> Option<&mut Gateway> {
        self.gateways.values_mut().find(|g| g.id == id)
    }
}

/// A volume as the fleet file declares it, on the gateway `arn`.
fn volume_from_spec(v: &VolumeSpec, g: &GatewaySpec, arn: &str, interfaces: &[String], now: i64) -> Volume {
    Volume {
        arn: format!("{arn}/volume/{}", v.id),
        id: v.id.clone(),
        gateway_arn: arn.to_owned(),
        gateway_id: g.id.clone(),
        volume_type: if g.gateway_type == "CACHED" { "CACHED iSCSI" } else { "STORED iSCSI" }.to_owned(),
        size_bytes: v.size_bytes,
        usage_bytes: v.usage_bytes.unwrap_or(v.size_bytes / 2),
        recovery_point_time: v.recovery_point_time.clone(),
        status: v.status.clone().unwrap_or_else(|| "AVAILABLE".to_owned()),
        pending: None,
        target_name: v.target_name(),
        network_interface_id: interfaces.first().cloned().unwrap_or_default(),
        lun_number: 1,
        kms_key: v.kms_key.clone(),
        source_snapshot_id: None,
        source_volume_arn: None,
        created: now,
    }
}
