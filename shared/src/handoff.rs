//! The messages the functions send each other, defined once, versioned.
//!
//! - [`GatewayOffline`]: `gateway-monitor` to `recover-gateway` over SNS, when a gateway has
//!   been offline past the grace period.
//! - [`RecoveryContinuation`]: `recover-gateway` to itself over SNS, when a run runs out of time.
//! - [`Reprobe`]: `gateway-monitor` to itself over SQS, delayed to the end of a suspected
//!   gateway's grace period.
//!
//! Every message carries `"type"` and `"version"`; a reader refuses a version it does not
//! know rather than guess. Fields added later are optional, and older readers ignore them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::arn::{ArnError, GatewayArn};
use crate::decode::{DecodeError, decode, json_type};
use crate::model::GatewayKind;

pub const GATEWAY_OFFLINE: &str = "GatewayOffline";
pub const RECOVERY_CONTINUATION: &str = "RecoveryContinuation";
pub const REPROBE: &str = "Reprobe";
pub const VERSION: u32 = 1;

/// A gateway went offline and stayed offline past the grace period: recover it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayOffline {
    #[serde(rename = "type")]
    pub message_type: String,
    pub version: u32,
    pub gateway_arn: String,
    pub gateway_name: String,
    pub gateway_type: GatewayKind,
    /// When the gateway was first seen offline (RFC 3339).
    pub offline_since: String,
    /// When it was declared failed (RFC 3339).
    pub detected_at: String,
    /// Identifies the outage, so duplicates of the hand-off are recognised:
    /// `<gateway id>@<offline since>`.
    pub outage_id: String,
    /// The correlated-outage hold it was handed off under: the recovery will not disable
    /// it while the hold is active (it reads the holds itself; this is for people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// When the monitor last saw it online (RFC 3339), for the report's recovery point
    /// objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_online: Option<String>,
}

impl GatewayOffline {
    pub fn new(gateway: &GatewayArn, name: &str, kind: GatewayKind, offline_since: &str, detected_at: &str) -> Self {
        Self {
            message_type: GATEWAY_OFFLINE.to_owned(),
            version: VERSION,
            gateway_arn: gateway.to_string(),
            gateway_name: name.to_owned(),
            gateway_type: kind,
            offline_since: offline_since.to_owned(),
            detected_at: detected_at.to_owned(),
            outage_id: format!("{}@{offline_since}", gateway.id()),
            held_by: None,
            last_seen_online: None,
        }
    }

    /// The failed gateway, validated.
    pub fn gateway(&self) -> Result<GatewayArn, ArnError> {
        GatewayArn::parse("gatewayArn", &self.gateway_arn)
    }
}

/// What a recovery has done so far, carried from one slice to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Barcodes of tapes this recovery retrieved in earlier slices.
    #[serde(default)]
    pub retrieved_tapes: Vec<String>,
    /// Snapshots this recovery took in earlier slices: volume ARN and snapshot id.
    #[serde(default)]
    pub snapshots: Vec<(String, String)>,
    /// Clones this recovery created in earlier slices: source volume ARN and new volume ARN.
    #[serde(default)]
    pub clones: Vec<(String, String)>,
    /// Milliseconds spent in earlier slices.
    #[serde(default)]
    pub elapsed_ms: u64,
    /// When this recovery disabled the gateway (RFC 3339).
    #[serde(default)]
    pub disabled_at: Option<String>,
}

/// A recovery ran out of time; the next invocation picks it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryContinuation {
    #[serde(rename = "type")]
    pub message_type: String,
    pub version: u32,
    pub recovery_id: String,
    pub failed_gateway_arn: String,
    #[serde(default)]
    pub standby_gateway_arn: Option<String>,
    /// The slice this message starts (the first run was slice 1).
    pub slice: u32,
    /// When the recovery started (RFC 3339).
    pub started_at: String,
    #[serde(default)]
    pub outage_id: Option<String>,
    /// The operator's approval, carried over so a later slice still may disable.
    #[serde(default)]
    pub approve_disable: bool,
    #[serde(default)]
    pub override_holds: Vec<String>,
    #[serde(default)]
    pub last_seen_online: Option<String>,
    #[serde(default)]
    pub progress: Progress,
}

/// Probe this gateway again at `dueAt`: its grace period ends then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reprobe {
    #[serde(rename = "type")]
    pub message_type: String,
    pub version: u32,
    pub gateway_arn: String,
    /// Epoch seconds.
    pub due_at: i64,
}

impl Reprobe {
    pub fn new(gateway: &GatewayArn, due_at: i64) -> Self {
        Self { message_type: REPROBE.to_owned(), version: VERSION, gateway_arn: gateway.to_string(), due_at }
    }
}

/// Any of the messages, by its `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    GatewayOffline(GatewayOffline),
    Continuation(RecoveryContinuation),
    Reprobe(Reprobe),
}

impl Message {
    /// Reads a message, checking its type and version first.
    pub fn decode(value: &Value) -> Result<Self, DecodeError> {
        let Some(obj) = value.as_object() else {
            return Err(DecodeError::new("message", format!("must be a JSON object, got {}", json_type(value))));
        };
        let version = match obj.get("version") {
            Some(v) => v.as_u64().ok_or_else(|| DecodeError::new("version", format!("must be a number, got {v}")))?,
            None => return Err(DecodeError::new("version", "missing field `version`")),
        };
        match obj.get("type").and_then(Value::as_str) {
            Some(t @ (GATEWAY_OFFLINE | RECOVERY_CONTINUATION | REPROBE)) if version != u64::from(VERSION) => {
                Err(DecodeError::new(
                    "version",
                    format!("{t} version {version} is not supported; this function reads version {VERSION}"),
                ))
            }
            Some(GATEWAY_OFFLINE) => decode(value).map(Message::GatewayOffline),
            Some(RECOVERY_CONTINUATION) => decode(value).map(Message::Continuation),
            Some(REPROBE) => decode(value).map(Message::Reprobe),
            Some(other) => Err(DecodeError::new(
                "type",
                format!(
                    "unknown message type `{other}`; expected {GATEWAY_OFFLINE}, {RECOVERY_CONTINUATION} or {REPROBE}"
                ),
            )),
            None => Err(DecodeError::new("type", "missing field `type`")),
        }
    }

    /// The message as JSON text.
    pub fn to_json(&self) -> String {
        let v = match self {
            Message::GatewayOffline(m) => serde_json::to_string(m),
            Message::Continuation(m) => serde_json::to_string(m),
            Message::Reprobe(m) => serde_json::to_string(m),
        };
        // Plain structs of strings and numbers always serialize.
        v.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gw() -> GatewayArn {
        GatewayArn::parse("t", "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B").unwrap()
    }

    #[test]
    fn a_hand_off_round_trips_and_names_its_outage() {
        let m = GatewayOffline::new(
            &gw(),
            "tape-primary",
            GatewayKind::Tape,
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:15:00Z",
        );
        assert_eq!(m.outage_id, "sgw-12A3456B@2026-11-25T10:00:00Z");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "GatewayOffline");
        assert_eq!(v["gatewayType"], "VTL");
        assert!(v.get("heldBy").is_none(), "optional fields stay out of the message when unset");
        assert_eq!(Message::decode(&v).unwrap(), Message::GatewayOffline(m));
    }

    #[test]
    fn a_reprobe_round_trips() {
        let m = Message::Reprobe(Reprobe::new(&gw(), 1_795_601_700));
        let v: Value = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(v["dueAt"], 1_795_601_700);
        assert_eq!(Message::decode(&v).unwrap(), m);
    }

    #[test]
    fn unknown_versions_and_types_are_refused_by_name() {
        let e = Message::decode(&json!({"type": "GatewayOffline", "version": 2})).unwrap_err();
        assert_eq!(e.field, "version");
        assert!(e.reason.contains("version 2"));
        let e = Message::decode(&json!({"type": "Other", "version": 1})).unwrap_err();
        assert_eq!(e.field, "type");
        let e = Message::decode(&json!({"type": "GatewayOffline", "version": 1, "gatewayArn": 5})).unwrap_err();
        assert_eq!(e.field, "gatewayArn", "{e}");
        let e = Message::decode(&json!({"type": "GatewayOffline", "version": 1})).unwrap_err();
        assert_eq!(e.field, "gatewayArn", "{e}");
        let e = Message::decode(&json!({"type": "Reprobe", "version": 1, "gatewayArn": "x", "dueAt": 1, "x": 1}))
            .unwrap_err();
        assert_eq!(e.field, "x", "{e}");
    }
}
