//! The fleet file: the starting world of a simulation, as JSON.
//!
//! ```json
//! {"region": "us-east-1", "account": "123456789012",
//!  "topics": [{"name": "gateway-recovery"}, {"name": "gateway-reports"}],
//!  "gateways": [
//!    {"id": "sgw-12A3456B", "name": "tape-primary", "type": "VTL", "connected": false,
//!     "tags": {"recovery:auto-disable": "true"},
//!     "tapes": [{"barcode": "TEST04A2A1", "size_bytes": 107374182400,
//!                "status": "AVAILABLE", "recovery_point_time": "2026-11-20T10:00:00Z"}]},
//!    {"id": "sgw-23B4567C", "name": "tape-standby", "type": "VTL", "connected": true},
//!    {"id": "sgw-34C5678D", "name": "volumes", "type": "CACHED", "connected": false,
//!     "volumes": [{"id": "vol-1122AABB", "size_bytes": 536870912000,
//!                  "recovery_point_time": "2026-11-20T10:00:00Z"}]}]}
//! ```
//!
//! ARNs are derived from region, account and ids the way AWS forms them. The file is
//! validated as a whole before the simulator starts: a world AWS could not be in is refused.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::LazyLock;

use regex::Regex;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::behaviour::Behaviour;
use crate::validate::{KMS_KEY_PATTERN, TARGET_NAME_PATTERN, matches};

/// Most tapes a tape gateway can hold (Storage Gateway quotas).
pub const MAX_TAPES_PER_GATEWAY: usize = 1500;
/// Most volumes a volume gateway can hold (Storage Gateway quotas).
pub const MAX_VOLUMES_PER_GATEWAY: usize = 32;
/// Cache or upload buffer per disk when the fleet file gives no size: 150 GiB, the
/// smallest the user guide recommends.
pub const DEFAULT_DISK_BYTES: i64 = 150 * GIB;
/// Gateway types that can have a cache (`DescribeCache`: "cached volume, tape, and file gateway types").
pub const CACHE_TYPES: &[&str] = &["CACHED", "VTL", "FILE_S3", "FILE_FSX_SMB"];
/// Gateway types that can have an upload buffer (`DescribeUploadBuffer`: "stored volume,
/// cached volume, and tape gateway types").
pub const UPLOAD_BUFFER_TYPES: &[&str] = &["CACHED", "STORED", "VTL"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    pub region: String,
    pub account: String,
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    /// SQS queues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<QueueSpec>,
    /// DynamoDB tables that exist from the start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableSpec>,
    #[serde(default)]
    pub gateways: Vec<GatewaySpec>,
    /// How the simulator answers where AWS's documentation is silent.
    #[serde(default, skip_serializing_if = "Behaviour::is_default")]
    pub behaviour: Behaviour,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    /// A local Lambda invoke URL: every message, once its delay is over, is POSTed there
    /// wrapped in the SQS event Lambda receives (an event source mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_to: Option<String>,
}

/// A table with a string partition key and an optional string sort key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    #[serde(default = "default_partition_key")]
    pub partition_key: String,
    #[serde(default = "default_sort_key", skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<String>,
    /// The table's TTL attribute (epoch seconds), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_attribute: Option<String>,
}

fn default_partition_key() -> String {
    "pk".to_owned()
}

fn default_sort_key() -> Option<String> {
    Some("sk".to_owned())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    /// A local Lambda invoke URL (e.g. `cargo lambda watch`'s
    /// `http://127.0.0.1:9000/2015-03-31/functions/recover-gateway/invocations`): every
    /// message published to the topic is POSTed there wrapped in an SNS event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    pub id: String,
    pub name: String,
    /// `VTL`, `CACHED`, `STORED`, `FILE_S3` or `FILE_FSX_SMB`.
    #[serde(rename = "type")]
    pub gateway_type: String,
    #[serde(default = "yes")]
    pub connected: bool,
    /// Already disabled (`DisableGateway` was called before the simulation starts).
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tapes: Vec<TapeSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeSpec>,
    /// The gateway's IPv4 addresses (`DescribeGatewayInformation`'s
    /// `GatewayNetworkInterfaces`, and the `NetworkInterfaceId`s a volume can be exposed
    /// on); empty: one address of its own, `10.0.0.N` (see [`default_interface`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_interfaces: Vec<String>,
    /// Local disk ids allocated as cache (cached volume, tape and file gateways).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache_disks: Vec<String>,
    /// Cache allocated, in bytes; default 150 GiB per cache disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_bytes: Option<i64>,
    /// Local disk ids allocated as upload buffer (volume and tape gateways).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upload_buffer_disks: Vec<String>,
    /// Upload buffer allocated, in bytes; default 150 GiB per upload buffer disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_buffer_bytes: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TapeSpec {
    pub barcode: String,
    pub size_bytes: i64,
    #[serde(default = "available")]
    pub status: String,
    /// When set, the tape has a recovery point at this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_time: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    pub id: String,
    pub size_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_bytes: Option<i64>,
    /// When set, the (cached) volume has a recovery point at this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_time: Option<String>,
    /// The iSCSI target name (the model's `TargetName`: 1-200 of `-.;a-z0-9`, unique on
    /// the gateway); default the id in lower case (`vol-2000000a`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// The KMS key the volume is encrypted with (the model's `KMSKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// `VolumeStatus`; default `AVAILABLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl VolumeSpec {
    /// The target name, or the default derived from the id.
    pub fn target_name(&self) -> String {
        self.target_name.clone().unwrap_or_else(|| self.id.to_lowercase())
    }
}

/// The network interface a gateway gets when the fleet file names none: `10.0.0.10` for
/// the first gateway, then one address each (`10.0.1.4` for the 251st), unique in the fleet.
pub fn default_interface(index: usize) -> String {
    let n = index + 10;
    format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

fn yes() -> bool {
    true
}

fn available() -> String {
    "AVAILABLE".to_owned()
}

/// Why a fleet file was refused; the message names the offending entry.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("fleet file is not valid JSON for the fleet format: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot read fleet file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("fleet: {0}")]
    Invalid(String),
}

pub const GATEWAY_TYPES: &[&str] = &["VTL", "CACHED", "STORED", "FILE_S3", "FILE_FSX_SMB"];

static REGION: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-z]{2}(-[a-z]+)+-[0-9]$"));
static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| re(r"^[0-9]{12}$"));
static GATEWAY_ID: LazyLock<Regex> = LazyLock::new(|| re(r"^sgw-[0-9A-F]{8}$"));
static VOLUME_ID: LazyLock<Regex> = LazyLock::new(|| re(r"^vol-[0-9A-F]{8}$"));
static BARCODE: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z0-9]{5,16}$"));
static TOPIC_NAME: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9_-]{1,256}$"));

/// Compiles a pattern that is a literal in this crate, so it is known to be valid.
pub(crate) fn re(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => unreachable!("built-in pattern {pattern} is invalid: {e}"),
    }
}

/// Parses an RFC 3339 time into epoch seconds.
pub fn parse_time(field: &str, value: &str) -> Result<i64, FleetError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| FleetError::Invalid(format!("{field}: `{value}` is not an RFC 3339 time: {e}")))
}

impl Fleet {
    pub fn from_json(text: &str) -> Result<Self, FleetError> {
        let fleet: Fleet = serde_json::from_str(text)?;
        fleet.validate()?;
        Ok(fleet)
    }

    pub fn from_file(path: &str) -> Result<Self, FleetError> {
        let text = std::fs::read_to_string(path).map_err(|source| FleetError::Io { path: path.to_owned(), source })?;
        Self::from_json(&text)
    }

    pub fn gateway_arn(&self, id: &str) -> String {
        format!("arn:aws:storagegateway:{}:{}:gateway/{id}", self.region, self.account)
    }

    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }

    pub fn queue_arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account)
    }

    /// Checks everything AWS itself would never allow, entry by entry.
    pub fn validate(&self) -> Result<(), FleetError> {
        if !REGION.is_match(&self.region) {
            return invalid(format!("region `{}` is not an AWS region name", self.region));
        }
        if !ACCOUNT.is_match(&self.account) {
            return invalid(format!("account `{}` must be 12 digits", self.account));
        }
        self.behaviour.validate().map_err(FleetError::Invalid)?;
        let mut topics = BTreeSet::new();
        for t in &self.topics {
            if !TOPIC_NAME.is_match(&t.name) {
                return invalid(format!("topic name `{}` is not a valid SNS topic name", t.name));
            }
            if !topics.insert(&t.name) {
                return invalid(format!("topic `{}` is declared twice", t.name));
            }
        }
        let mut seen = Seen::default();
        for g in &self.gateways {
            g.validate(&mut seen)?;
        }
        Ok(())
    }
}

fn invalid<T>(msg: String) -> Result<T, FleetError> {
    Err(FleetError::Invalid(msg))
}

/// What must be unique across the fleet.
#[derive(Default)]
struct Seen<'a> {
    ids: BTreeSet<&'a str>,
    names: BTreeSet<&'a str>,
    barcodes: BTreeSet<&'a str>,
    volumes: BTreeSet<&'a str>,
}

fn check_tags(at: &str, tags: &BTreeMap<String, String>) -> Result<(), FleetError> {
    if tags.len() > crate::validate::MAX_TAGS {
        return invalid(format!("{at}: a resource can carry at most {} tags", crate::validate::MAX_TAGS));
    }
    for (k, v) in tags {
        crate::validate::tag(k, v).map_err(|e| FleetError::Invalid(format!("{at}: {e}")))?;
    }
    Ok(())
}

impl GatewaySpec {
    fn validate<'a>(&'a self, seen: &mut Seen<'a>) -> Result<(), FleetError> {
        let at = format!("gateway {}", self.id);
        if !GATEWAY_ID.is_match(&self.id) {
            return invalid(format!("{at}: id must look like sgw-12A3456B (sgw- and 8 upper-case hex digits)"));
        }
        if !seen.ids.insert(&self.id) {
            return invalid(format!("{at}: id is used twice"));
        }
        if self.name.is_empty() || self.name.len() > 255 {
            return invalid(format!("{at}: name must be 1 to 255 characters"));
        }
        if !seen.names.insert(&self.name) {
            return invalid(format!("{at}: name `{}` is used twice", self.name));
        }
        if !GATEWAY_TYPES.contains(&self.gateway_type.as_str()) {
            return invalid(format!("{at}: type `{}` is not one of {GATEWAY_TYPES:?}", self.gateway_type));
        }
        if self.disabled && self.gateway_type != "VTL" {
            return invalid(format!("{at}: only tape gateways (VTL) can be disabled"));
        }
        check_tags(&at, &self.tags)?;
        self.validate_interfaces(&at)?;
        self.validate_disks(&at)?;
        self.validate_tapes(&at, seen)?;
        self.validate_volumes(&at, seen)
    }

    fn validate_interfaces(&self, at: &str) -> Result<(), FleetError> {
        let mut addresses = BTreeSet::new();
        for ip in &self.network_interfaces {
            if ip.parse::<Ipv4Addr>().is_err() {
                return invalid(format!("{at}: network interface `{ip}` is not an IPv4 address"));
            }
            if !addresses.insert(ip) {
                return invalid(format!("{at}: network interface `{ip}` is listed twice"));
            }
        }
        Ok(())
    }

    fn validate_disks(&self, at: &str) -> Result<(), FleetError> {
        let kind = self.gateway_type.as_str();
        for (what, disks, bytes, types) in [
            ("cache", &self.cache_disks, self.cache_bytes, CACHE_TYPES),
            ("upload buffer", &self.upload_buffer_disks, self.upload_buffer_bytes, UPLOAD_BUFFER_TYPES),
        ] {
            if !disks.is_empty() && !types.contains(&kind) {
                return invalid(format!("{at}: {kind} gateways have no {what} (only {types:?})"));
            }
            if bytes.is_some() && disks.is_empty() {
                return invalid(format!("{at}: {what} bytes are given, but no {what} disks"));
            }
            if bytes.is_some_and(|b| b <= 0) {
                return invalid(format!("{at}: {what} bytes must be positive"));
            }
        }
        let mut ids = BTreeSet::new();
        for d in self.cache_disks.iter().chain(&self.upload_buffer_disks) {
            if d.is_empty() || d.chars().count() > 300 {
                return invalid(format!("{at}: disk id `{d}` must be 1 to 300 characters"));
            }
            if !ids.insert(d) {
                return invalid(format!("{at}: disk `{d}` is allocated twice"));
            }
        }
        Ok(())
    }

    fn validate_tapes<'a>(&'a self, at: &str, seen: &mut Seen<'a>) -> Result<(), FleetError> {
        if !self.tapes.is_empty() && self.gateway_type != "VTL" {
            return invalid(format!("{at}: only tape gateways (VTL) hold tapes"));
        }
        if self.tapes.len() > MAX_TAPES_PER_GATEWAY {
            return invalid(format!(
                "{at}: {} tapes, but a tape gateway holds at most {MAX_TAPES_PER_GATEWAY}",
                self.tapes.len()
            ));
        }
        for t in &self.tapes {
            if !BARCODE.is_match(&t.barcode) {
                return invalid(format!("{at}: tape barcode `{}` must be 5 to 16 of A-Z and 0-9", t.barcode));
            }
            if !seen.barcodes.insert(&t.barcode) {
                return invalid(format!("{at}: tape barcode `{}` is used twice", t.barcode));
            }
            if t.size_bytes < 100 * GIB || t.size_bytes > 15 * 1024 * GIB || t.size_bytes % GIB != 0 {
                return invalid(format!(
                    "{at}: tape {} size {} must be whole GiB from 100 GiB to 15 TiB",
                    t.barcode, t.size_bytes
                ));
            }
            if let Some(rp) = &t.recovery_point_time {
                parse_time(&format!("{at}: tape {} recovery_point_time", t.barcode), rp)?;
            }
        }
        Ok(())
    }

    fn validate_volumes<'a>(&'a self, at: &str, seen: &mut Seen<'a>) -> Result<(), FleetError> {
        if !self.volumes.is_empty() && !matches!(self.gateway_type.as_str(), "CACHED" | "STORED") {
            return invalid(format!("{at}: only volume gateways (CACHED, STORED) hold volumes"));
        }
        if self.volumes.len() > MAX_VOLUMES_PER_GATEWAY {
            return invalid(format!(
                "{at}: {} volumes, but a volume gateway holds at most {MAX_VOLUMES_PER_GATEWAY}",
                self.volumes.len()
            ));
        }
        let mut targets = BTreeSet::new();
        for v in &self.volumes {
            if !VOLUME_ID.is_match(&v.id) {
                return invalid(format!("{at}: volume id `{}` must look like vol-1122AABB", v.id));
            }
            if !seen.volumes.insert(&v.id) {
                return invalid(format!("{at}: volume id `{}` is used twice", v.id));
            }
            v.validate(&format!("{at}: volume {}", v.id), &self.gateway_type)?;
            let target = v.target_name();
            if !targets.insert(target.clone()) {
                return invalid(format!("{at}: volume {}: target name `{target}` is used twice on the gateway", v.id));
            }
        }
        Ok(())
    }
}

impl VolumeSpec {
    fn validate(&self, at: &str, gateway_type: &str) -> Result<(), FleetError> {
        if self.size_bytes <= 0 {
            return invalid(format!("{at}: size must be positive"));
        }
        if let Some(rp) = &self.recovery_point_time {
            if gateway_type != "CACHED" {
                return invalid(format!("{at}: has a recovery point, but only cached volumes have recovery points"));
            }
            parse_time(&format!("{at}: recovery_point_time"), rp)?;
        }
        let target = self.target_name();
        if target.is_empty() || target.len() > 200 || !matches(TARGET_NAME_PATTERN, &target) {
            return invalid(format!("{at}: target name `{target}` must be 1 to 200 of a-z, 0-9, '-', '.' and ';'"));
        }
        if let Some(k) = &self.kms_key {
            if !(7..=2048).contains(&k.len()) || !matches(KMS_KEY_PATTERN, k) {
                return invalid(format!("{at}: kms_key `{k}` is not a KMS key ARN or alias/NAME"));
            }
        }
        if let Some(s) = &self.status {
            if !(3..=50).contains(&s.len()) {
                return invalid(format!("{at}: status `{s}` must be 3 to 50 characters"));
            }
        }
        check_tags(at, &self.tags)
    }
}

pub const GIB: i64 = 1024 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"region":"us-east-1","account":"123456789012","gateways":[
        {"id":"sgw-12A3456B","name":"tape-primary","type":"VTL","connected":false,
         "tags":{"recovery:standby-gateway":"arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-23B4567C"},
         "tapes":[{"barcode":"TEST04A2A1","size_bytes":107374182400,"status":"AVAILABLE","recovery_point_time":"2026-11-20T10:00:00Z"}]},
        {"id":"sgw-23B4567C","name":"tape-standby","type":"VTL","connected":true},
        {"id":"sgw-34C5678D","name":"volumes","type":"CACHED","connected":false,
         "volumes":[{"id":"vol-1122AABB","size_bytes":536870912000,"recovery_point_time":"2026-11-20T10:00:00Z"}]}]}"#;

    #[test]
    fn the_issue_example_is_a_valid_fleet() {
        let fleet = Fleet::from_json(SAMPLE).unwrap();
        assert_eq!(fleet.gateways.len(), 3);
        assert_eq!(
            fleet.gateway_arn("sgw-12A3456B"),
            "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B"
        );
    }

    fn refused(edit: impl FnOnce(&mut Fleet)) -> String {
        let mut fleet = Fleet::from_json(SAMPLE).unwrap();
        edit(&mut fleet);
        fleet.validate().unwrap_err().to_string()
    }

    #[test]
    fn worlds_aws_could_not_be_in_are_refused_with_the_entry_named() {
        assert!(refused(|f| f.gateways[1].tapes = f.gateways[0].tapes.clone()).contains("used twice"));
        assert!(refused(|f| f.gateways[2].tapes = f.gateways[0].tapes.clone()).contains("only tape gateways"));
        assert!(refused(|f| f.gateways[0].gateway_type = "STORED".into()).contains("only tape gateways"));
        assert!(refused(|f| f.gateways[2].gateway_type = "STORED".into()).contains("only cached volumes"));
        assert!(refused(|f| f.gateways[0].id = "sgw-1".into()).contains("sgw-12A3456B"));
        assert!(refused(|f| f.account = "12".into()).contains("12 digits"));
        assert!(
            refused(|f| f.gateways[0].tapes[0].recovery_point_time = Some("yesterday".into())).contains("RFC 3339")
        );
        let too_many = refused(|f| {
            let t = f.gateways[0].tapes[0].clone();
            f.gateways[0].tapes = (0..1501).map(|i| TapeSpec { barcode: format!("T{i:07}"), ..t.clone() }).collect();
        });
        assert!(too_many.contains("at most 1500"), "{too_many}");
    }

    #[test]
    fn interfaces_disks_and_volume_settings_are_checked_entry_by_entry() {
        assert!(refused(|f| f.gateways[2].network_interfaces = vec!["10.0.0.300".into()]).contains("IPv4"));
        let twice = refused(|f| f.gateways[2].network_interfaces = vec!["10.0.0.1".into(), "10.0.0.1".into()]);
        assert!(twice.contains("listed twice"), "{twice}");
        assert!(refused(|f| f.gateways[2].cache_disks = vec!["d".into(), "d".into()]).contains("allocated twice"));
        let stored_cache = refused(|f| {
            f.gateways[2].gateway_type = "STORED".into();
            f.gateways[2].volumes.clear();
            f.gateways[2].cache_disks = vec!["d".into()];
        });
        assert!(stored_cache.contains("no cache"), "{stored_cache}");
        assert!(refused(|f| f.gateways[2].upload_buffer_bytes = Some(5)).contains("no upload buffer disks"));
        assert!(refused(|f| f.gateways[2].volumes[0].target_name = Some("Upper".into())).contains("target name"));
        assert!(refused(|f| f.gateways[2].volumes[0].kms_key = Some("key".into())).contains("kms_key"));
        let many = refused(|f| {
            let v = f.gateways[2].volumes[0].clone();
            f.gateways[2].volumes = (0..33).map(|i| VolumeSpec { id: format!("vol-{i:08X}"), ..v.clone() }).collect();
        });
        assert!(many.contains("at most 32"), "{many}");
        let same_target = refused(|f| {
            f.gateways[2].volumes[0].target_name = Some("shared".into());
            let v = f.gateways[2].volumes[0].clone();
            f.gateways[2].volumes.push(VolumeSpec { id: "vol-2222AABB".into(), ..v });
        });
        assert!(same_target.contains("used twice on the gateway"), "{same_target}");
        assert!(refused(|f| f.behaviour.recovery_points_per_tape = 0).contains("recovery_points_per_tape"));
    }

    #[test]
    fn defaults_for_interfaces_and_target_names() {
        let fleet = Fleet::from_json(SAMPLE).unwrap();
        assert_eq!(fleet.gateways[2].volumes[0].target_name(), "vol-1122aabb");
        assert_eq!(default_interface(0), "10.0.0.10");
        assert_eq!(default_interface(250), "10.0.1.4");
        let all: BTreeSet<String> = (0..5000).map(default_interface).collect();
        assert_eq!(all.len(), 5000);
    }

    #[test]
    fn unknown_fields_are_refused_so_typos_do_not_pass_silently() {
        let err = Fleet::from_json(&SAMPLE.replace("\"connected\":true", "\"conected\":true")).unwrap_err();
        assert!(err.to_string().contains("conected"), "{err}");
    }
}
