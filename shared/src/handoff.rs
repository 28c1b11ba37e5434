//! The messages the two functions exchange over SNS, defined once, versioned.
//!
//! - [`GatewayOffline`]: `gateway-monitor` to `recover-gateway`, when a gateway has been
//!   offline past the grace period.
//! - [`RecoveryContinuation`]: `recover-gateway` to itself, when a run runs out of time.
//!
//! Every message carries `"type"` and `"version"`; a reader refuses a version it does not
//! know rather than guess. Fields added later are ignored by older readers.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::arn::{ArnError, GatewayArn};
use crate::model::GatewayKind;

pub const GATEWAY_OFFLINE: &str = "GatewayOffline";
pub const RECOVERY_CONTINUATION: &str = "RecoveryContinuation";
pub const VERSION: u32 = 1;

/// A message that could not be read; `field` is the JSON path of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DecodeError {
    pub field: String,
    pub reason: String,
}

impl DecodeError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }

    /// The same error under a parent path (`Records[0].Sns.Message` + `.gatewayArn`).
    pub fn within(self, parent: &str) -> Self {
        let field = if self.field.is_empty() || self.field == "." {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        Self { field, reason: self.reason }
    }
}

impl From<ArnError> for DecodeError {
    fn from(e: ArnError) -> Self {
        Self { field: e.field.clone(), reason: e.reason_with_value() }
    }
}

/// Decodes JSON into `T`, naming the path of whatever is wrong.
pub fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde's own wording for a missing or unknown field already names it.
        let field = if path == "." { field_in_message(&inner).unwrap_or_else(|| "event".to_owned()) } else { path };
        DecodeError { field, reason: inner }
    })
}

fn field_in_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_owned())
}

/// Gateway went offline and stayed offline past the grace period: recover it.
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
    /// Milliseconds spent in earlier slices.
    #[serde(default)]
    pub elapsed_ms: u64,
    /// Whether this recovery disabled the gateway (and when).
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
    #[serde(default)]
    pub progress: Progress,
}

/// Either message, by its `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    GatewayOffline(GatewayOffline),
    Continuation(RecoveryContinuation),
}

impl Message {
    /// Reads a message, checking its type and version first.
    pub fn decode(value: &Value) -> Result<Self, DecodeError> {
        let Some(obj) = value.as_object() else {
            return Err(DecodeError::new("message", format!("must be a JSON object, got {}", kind_of(value))));
        };
        let version = match obj.get("version") {
            Some(v) => v.as_u64().ok_or_else(|| DecodeError::new("version", format!("must be a number, got {v}")))?,
            None => return Err(DecodeError::new("version", "missing field `version`")),
        };
        match obj.get("type").and_then(Value::as_str) {
            Some(t @ (GATEWAY_OFFLINE | RECOVERY_CONTINUATION)) if version != u64::from(VERSION) => {
                Err(DecodeError::new(
                    "version",
                    format!("{t} version {version} is not supported; this function reads version {VERSION}"),
                ))
            }
            Some(GATEWAY_OFFLINE) => decode(value).map(Message::GatewayOffline),
            Some(RECOVERY_CONTINUATION) => decode(value).map(Message::Continuation),
            Some(other) => Err(DecodeError::new(
                "type",
                format!("unknown message type `{other}`; expected {GATEWAY_OFFLINE} or {RECOVERY_CONTINUATION}"),
            )),
            None => Err(DecodeError::new("type", "missing field `type`")),
        }
    }
}

/// The JSON type of a value, for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
        assert_eq!(Message::decode(&v).unwrap(), Message::GatewayOffline(m));
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
    }
}
