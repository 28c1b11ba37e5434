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
use std::sync::LazyLock;

use regex::Regex;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Most tapes a tape gateway can hold (Storage Gateway quotas).
pub const MAX_TAPES_PER_GATEWAY: usize = 1500;

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
        let bad = |msg: String| Err(FleetError::Invalid(msg));
        if !REGION.is_match(&self.region) {
            return bad(format!("region `{}` is not an AWS region name", self.region));
        }
        if !ACCOUNT.is_match(&self.account) {
            return bad(format!("account `{}` must be 12 digits", self.account));
        }
        let mut topics = BTreeSet::new();
        for t in &self.topics {
            if !TOPIC_NAME.is_match(&t.name) {
                return bad(format!("topic name `{}` is not a valid SNS topic name", t.name));
            }
            if !topics.insert(&t.name) {
                return bad(format!("topic `{}` is declared twice", t.name));
            }
        }
        let (mut ids, mut names, mut barcodes, mut volumes) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for g in &self.gateways {
            let at = format!("gateway {}", g.id);
            if !GATEWAY_ID.is_match(&g.id) {
                return bad(format!("{at}: id must look like sgw-12A3456B (sgw- and 8 upper-case hex digits)"));
            }
            if !ids.insert(&g.id) {
                return bad(format!("{at}: id is used twice"));
            }
            if g.name.is_empty() || g.name.len() > 255 {
                return bad(format!("{at}: name must be 1 to 255 characters"));
            }
            if !names.insert(&g.name) {
                return bad(format!("{at}: name `{}` is used twice", g.name));
            }
            if !GATEWAY_TYPES.contains(&g.gateway_type.as_str()) {
                return bad(format!("{at}: type `{}` is not one of {GATEWAY_TYPES:?}", g.gateway_type));
            }
            if g.disabled && g.gateway_type != "VTL" {
                return bad(format!("{at}: only tape gateways (VTL) can be disabled"));
            }
            if g.tags.len() > 50 {
                return bad(format!("{at}: a resource can carry at most 50 tags"));
            }
            for (k, v) in &g.tags {
                crate::validate::tag(k, v).map_err(|e| FleetError::Invalid(format!("{at}: {e}")))?;
            }
            if !g.tapes.is_empty() && g.gateway_type != "VTL" {
                return bad(format!("{at}: only tape gateways (VTL) hold tapes"));
            }
            if g.tapes.len() > MAX_TAPES_PER_GATEWAY {
                return bad(format!(
                    "{at}: {} tapes, but a tape gateway holds at most {MAX_TAPES_PER_GATEWAY}",
                    g.tapes.len()
                ));
            }
            for t in &g.tapes {
                if !BARCODE.is_match(&t.barcode) {
                    return bad(format!("{at}: tape barcode `{}` must be 5 to 16 of A-Z and 0-9", t.barcode));
                }
                if !barcodes.insert(&t.barcode) {
                    return bad(format!("{at}: tape barcode `{}` is used twice", t.barcode));
                }
                if t.size_bytes < 100 * GIB || t.size_bytes > 15 * 1024 * GIB || t.size_bytes % GIB != 0 {
                    return bad(format!(
                        "{at}: tape {} size {} must be whole GiB from 100 GiB to 15 TiB",
                        t.barcode, t.size_bytes
                    ));
                }
                if let Some(rp) = &t.recovery_point_time {
                    parse_time(&format!("{at}: tape {} recovery_point_time", t.barcode), rp)?;
                }
            }
            if !g.volumes.is_empty() && !matches!(g.gateway_type.as_str(), "CACHED" | "STORED") {
                return bad(format!("{at}: only volume gateways (CACHED, STORED) hold volumes"));
            }
            for v in &g.volumes {
                if !VOLUME_ID.is_match(&v.id) {
                    return bad(format!("{at}: volume id `{}` must look like vol-1122AABB", v.id));
                }
                if !volumes.insert(&v.id) {
                    return bad(format!("{at}: volume id `{}` is used twice", v.id));
                }
                if v.size_bytes <= 0 {
                    return bad(format!("{at}: volume {} size must be positive", v.id));
                }
                if let Some(rp) = &v.recovery_point_time {
                    if g.gateway_type != "CACHED" {
                        return bad(format!(
                            "{at}: volume {} has a recovery point, but only cached volumes have recovery points",
                            v.id
                        ));
                    }
                    parse_time(&format!("{at}: volume {} recovery_point_time", v.id), rp)?;
                }
            }
        }
        Ok(())
    }
}

const GIB: i64 = 1024 * 1024 * 1024;

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
    fn unknown_fields_are_refused_so_typos_do_not_pass_silently() {
        let err = Fleet::from_json(&SAMPLE.replace("\"connected\":true", "\"conected\":true")).unwrap_err();
        assert!(err.to_string().contains("conected"), "{err}");
    }
}
