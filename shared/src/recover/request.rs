//! What `recover-gateway` is asked to do, decoded from any of its triggers:
//!
//! - an SNS event (`aws_lambda_events::sns::SnsEvent`) carrying a `GatewayOffline` or a
//!   `RecoveryContinuation` message;
//! - a direct invocation `{"failedGatewayArn": "...", "standbyGatewayArn": "...",
//!   "dryRun": false, "approveDisable": false, "overrideHolds": [], "operator": "..."}`
//!   (only `failedGatewayArn` required);
//! - one of the two messages itself (handy when replaying).
//!
//! Every ARN is validated here, before any AWS call; anything else is refused with an
//! error that names the field.

use aws_lambda_events::event::sns::SnsEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::arn::GatewayArn;
use crate::decode::{DecodeError, decode, json_type};
use crate::handoff::{GatewayOffline, Message, RecoveryContinuation};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An operator (or a script) invoked the function.
    Direct,
    /// `gateway-monitor` handed the gateway off.
    Handoff(GatewayOffline),
    /// This function's own continuation.
    Continuation(RecoveryContinuation),
}

/// An operator's say over the irreversible step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    /// `"approveDisable": true`.
    pub disable: bool,
    /// `"overrideHolds": [...]`: the correlated-outage holds the operator has looked at
    /// and overrides, by id. An approval given before a hold existed cannot pass it.
    pub override_holds: Vec<String>,
    /// Who approved (for the audit record).
    pub operator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRequest {
    pub failed: GatewayArn,
    /// The standby named by the request (a tape gateway for a tape gateway, a cached volume
    /// gateway for a cached volume gateway).
    pub standby: Option<GatewayArn>,
    pub dry_run: bool,
    pub approval: Approval,
    pub source: Source,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DirectInvocation {
    failed_gateway_arn: String,
    #[serde(default)]
    standby_gateway_arn: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    approve_disable: bool,
    #[serde(default)]
    override_holds: Vec<String>,
    #[serde(default)]
    operator: Option<String>,
}

const EXPECTED: &str = "expected an SNS event carrying a GatewayOffline or RecoveryContinuation message, \
a GatewayOffline or RecoveryContinuation message, or {\"failedGatewayArn\": \"arn:aws:storagegateway:...\"}";

/// Decodes an invocation into requests (an SNS event may carry more than one record).
pub fn decode_event(event: &Value) -> Result<Vec<RecoveryRequest>, DecodeError> {
    let Some(obj) = event.as_object() else {
        return Err(DecodeError::new("event", format!("must be a JSON object, got {}; {EXPECTED}", json_type(event))));
    };
    if obj.contains_key("Records") {
        let sns: SnsEvent = decode(event)?;
        if sns.records.is_empty() {
            return Err(DecodeError::new("Records", "the SNS event has no records"));
        }
        return sns
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = format!("Records[{i}].Sns.Message");
                let message: Value = serde_json::from_str(&r.sns.message)
                    .map_err(|e| DecodeError::new(at.clone(), format!("is not JSON: {e}")))?;
                from_message(&message).map_err(|e| e.within(&at))
            })
            .collect();
    }
    if obj.contains_key("type") {
        return from_message(event).map(|r| vec![r]);
    }
    if obj.contains_key("failedGatewayArn") {
        let d: DirectInvocation = decode(event)?;
        if let Some((i, bad)) = d.override_holds.iter().enumerate().find(|(_, h)| h.trim().is_empty() || h.len() > 1024)
        {
            return Err(DecodeError::new(format!("overrideHolds[{i}]"), format!("`{bad}` is not a hold id")));
        }
        if d.operator.as_deref().is_some_and(|o| o.trim().is_empty() || o.len() > 200) {
            return Err(DecodeError::new("operator", "must name who approves, in 1 to 200 characters"));
        }
        return Ok(vec![RecoveryRequest {
            failed: GatewayArn::parse("failedGatewayArn", &d.failed_gateway_arn)?,
            standby: d.standby_gateway_arn.map(|s| GatewayArn::parse("standbyGatewayArn", &s)).transpose()?,
            dry_run: d.dry_run,
            approval: Approval { disable: d.approve_disable, override_holds: d.override_holds, operator: d.operator },
            source: Source::Direct,
        }]);
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).take(10).collect();
    Err(DecodeError::new("event", format!("unrecognised event with keys {keys:?}; {EXPECTED}")))
}

fn from_message(v: &Value) -> Result<RecoveryRequest, DecodeError> {
    match Message::decode(v)? {
        Message::GatewayOffline(m) => Ok(RecoveryRequest {
            failed: m.gateway()?,
            standby: None,
            dry_run: false,
            approval: Approval::default(),
            source: Source::Handoff(m),
        }),
        Message::Continuation(c) => Ok(RecoveryRequest {
            failed: GatewayArn::parse("failedGatewayArn", &c.failed_gateway_arn)?,
            standby: c.standby_gateway_arn.as_deref().map(|s| GatewayArn::parse("standbyGatewayArn", s)).transpose()?,
            dry_run: false,
            approval: Approval { disable: c.approve_disable, override_holds: c.override_holds.clone(), operator: None },
            source: Source::Continuation(c),
        }),
        Message::Reprobe(_) => {
            Err(DecodeError::new("type", "a Reprobe message is for gateway-monitor, not recover-gateway"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GW: &str = "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B";

    #[test]
    fn a_direct_invocation_needs_only_the_failed_gateway() {
        let r = decode_event(&json!({"failedGatewayArn": GW})).unwrap();
        assert_eq!(r[0].failed.id(), "sgw-12A3456B");
        assert!(!r[0].dry_run && r[0].approval == Approval::default() && r[0].standby.is_none());
        assert_eq!(r[0].source, Source::Direct);
        let r = decode_event(
            &json!({"failedGatewayArn": GW, "approveDisable": true, "overrideHolds": ["hold-1"], "operator": "jane"}),
        )
        .unwrap();
        assert_eq!(r[0].approval.override_holds, ["hold-1"]);
        assert_eq!(r[0].approval.operator.as_deref(), Some("jane"));
    }

    #[test]
    fn every_refusal_names_the_field() {
        let cases = [
            (json!([1, 2]), "event"),
            (json!({"hello": 1}), "event"),
            (json!({"failedGatewayArn": 7}), "failedGatewayArn"),
            (json!({"failedGatewayArn": "sgw-12A3456B"}), "failedGatewayArn"),
            (json!({"failedGatewayArn": GW, "standbyGatewayArn": "nope"}), "standbyGatewayArn"),
            (json!({"failedGatewayArn": GW, "approveDisabel": true}), "approveDisabel"),
            (json!({"failedGatewayArn": GW, "dryRun": "yes"}), "dryRun"),
            (json!({"failedGatewayArn": GW, "overrideHolds": [""]}), "overrideHolds[0]"),
            (json!({"failedGatewayArn": GW, "overrideHolds": "all"}), "overrideHolds"),
            (json!({"failedGatewayArn": GW, "operator": " "}), "operator"),
            (json!({"Records": []}), "Records"),
            (json!({"Records": [{"EventSource": "aws:sns"}]}), "Records[0]"),
            (json!({"type": "Reprobe", "version": 1, "gatewayArn": GW, "dueAt": 1}), "type"),
        ];
        for (event, field) in cases {
            let e = decode_event(&event).unwrap_err();
            assert!(e.field.starts_with(field), "{event}: {e:?}");
        }
    }

    #[test]
    fn a_hand_off_inside_an_sns_event_is_decoded() {
        let message = json!({"type": "GatewayOffline", "version": 1, "gatewayArn": GW, "gatewayName": "tape-primary",
            "gatewayType": "VTL", "offlineSince": "2026-11-25T10:00:00Z", "detectedAt": "2026-11-25T10:15:00Z",
            "outageId": "sgw-12A3456B@2026-11-25T10:00:00Z"});
        let event = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:gateway-recovery:1",
            "Sns": {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:gateway-recovery",
                "Subject": null, "Message": message.to_string(), "Timestamp": "2026-11-25T10:15:00.000Z",
                "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://x", "UnsubscribeUrl": "https://x",
                "MessageAttributes": {}}}]});
        let r = decode_event(&event).unwrap();
        assert!(matches!(&r[0].source, Source::Handoff(m) if m.outage_id.starts_with("sgw-12A3456B@")));
        let bad = event.to_string().replace("sgw-12A3456B\\\",\\\"gatewayName", "sgw-1\\\",\\\"gatewayName");
        let e = decode_event(&serde_json::from_str(&bad).unwrap()).unwrap_err();
        assert_eq!(e.field, "Records[0].Sns.Message.gatewayArn", "{e:?}");
    }
}
