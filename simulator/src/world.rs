//! The simulated world: gateways, tapes, recovery points, volumes, snapshots, tags, SNS
//! topics and published messages. Everything here is plain data; `storage_gateway` and
//! `sns` change it the way the APIs do.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::fleet::{Fleet, FleetError, parse_time};

#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub gateway_type: String,
    pub connected: bool,
    pub disabled: bool,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub volume_arn: String,
    pub description: String,
    pub recovery_point_time: String,
    pub tags: Vec<(String, String)>,
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
}

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
        };
        for t in &fleet.topics {
            let arn = fleet.topic_arn(&t.name);
            w.topics.insert(arn.clone(), Topic { arn, name: t.name.clone(), deliver_to: t.deliver_to.clone() });
        }
        for g in &fleet.gateways {
            let arn = fleet.gateway_arn(&g.id);
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
                let volume_arn = format!("{arn}/volume/{}", v.id);
                w.volumes.insert(
                    volume_arn.clone(),
                    Volume {
                        arn: volume_arn,
                        id: v.id.clone(),
                        gateway_arn: arn.clone(),
                        gateway_id: g.id.clone(),
                        volume_type: if g.gateway_type == "CACHED" { "CACHED iSCSI" } else { "STORED iSCSI" }
                            .to_owned(),
                        size_bytes: v.size_bytes,
                        usage_bytes: v.usage_bytes.unwrap_or(v.size_bytes / 2),
                        recovery_point_time: v.recovery_point_time.clone(),
                    },
                );
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

    /// Finds a gateway by id (for the control API and tests).
    pub fn gateway_by_id_mut(&mut self, id: &str) -> Option<&mut Gateway> {
        self.gateways.values_mut().find(|g| g.id == id)
    }
}
