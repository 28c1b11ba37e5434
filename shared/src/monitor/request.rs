//! What `gateway-monitor` is asked to do, decoded from any of its triggers:
//!
//! - an EventBridge scheduled event (`detail-type: Scheduled Event`), or the constant input
//!   of a rule or EventBridge Scheduler: `{}` or `{"action": "sweep"}`: sweep;
//! - `{"action": "readiness"}` (its own schedule, or an operator): the readiness check;
//! - `{"action": "release-hold", "region": ..., "holdId": ..., "operator": ..., "reason": ...}`:
//!   an operator lifts a correlated-outage hold;
//! - a CloudWatch alarm state change, however it arrives: an EventBridge rule
//!   (`CloudWatch Alarm State Change`), the alarm's own Lambda action, or an SNS alarm
//!   notification: probe the gateway the alarm names;
//! - an AWS Health event for Storage Gateway (EventBridge, `source: aws.health`): hold or
//!   release the event's region;
//! - SQS messages from the re-probe queue (`Reprobe`): probe a suspected gateway when its
//!   grace period ends;
//! - a direct invocation `{"gatewayArns": ["..."]}`: probe those.

use std::collections::HashMap;

use aws_lambda_events::event::cloudwatch_alarms::{CloudWatchAlarm, CloudWatchAlarmData, CloudWatchAlarmStateValue};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::health::{self, HealthEvent};
use crate::arn::GatewayArn;
use crate::decode::{DecodeError, decode, json_type};
use crate::handoff::{Message, Reprobe};

/// The CloudWatch namespace of Storage Gateway metrics.
pub const NAMESPACE: &str = "AWS/StorageGateway";
/// Most gateways a direct invocation may name.
pub const MAX_DIRECT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorRequest {
    /// Sweep every watched gateway.
    Sweep,
    /// Probe exactly these (a direct invocation): they count as watched.
    Probe(Vec<GatewayArn>),
    /// Probe the gateway an alarm names.
    Alarm(AlarmHint),
    /// Probe these suspected gateways again: their grace periods end (the re-probe queue).
    Reprobe(Vec<Reprobe>),
    /// An AWS Health event for Storage Gateway: hold, or release, its region.
    Health(HealthEvent),
    /// Check whether each watched gateway could be recovered now.
    Readiness,
    /// An operator lifts a hold.
    ReleaseHold(ReleaseHold),
    /// An event this function has nothing to do with, and why.
    Ignored(String),
}

/// `{"action": "release-hold", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseHold {
    #[serde(rename = "action")]
    _action: String,
    pub region: String,
    pub hold_id: String,
    pub operator: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Alarm,
    Ok,
    InsufficientData,
}

/// How an alarm reached the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmVia {
    /// An EventBridge rule on `CloudWatch Alarm State Change`.
    Eventbridge,
    /// The alarm's own Lambda action.
    LambdaAction,
    /// An SNS alarm notification.
    Sns,
}

/// Which gateway an alarm names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AlarmTarget {
    /// From a `GatewayId` dimension, with the region and account of the event.
    Arn(GatewayArn),
    /// Only a `GatewayName` dimension: found with `ListGateways`.
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmHint {
    pub alarm_name: String,
    pub state: AlarmState,
    pub target: AlarmTarget,
    pub via: AlarmVia,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionInput {
    /// Read only to refuse unknown fields beside it.
    #[serde(rename = "action")]
    _action: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DirectInput {
    gateway_arns: Vec<String>,
}

/// The SNS alarm notification, read leniently: AWS sends `null` for an alarm without a
/// description (and for other members `aws_lambda_events`' `CloudWatchAlarmPayload`
/// requires), so only what this function needs is required here.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsAlarm {
    alarm_name: String,
    new_state_value: String,
    #[serde(default)]
    alarm_arn: Option<String>,
    #[serde(default, rename = "AWSAccountId")]
    aws_account_id: Option<String>,
    trigger: SnsTrigger,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsTrigger {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    dimensions: Vec<SnsDimension>,
    /// Metric-math alarms list their metrics here instead.
    #[serde(default)]
    metrics: Vec<Value>,
}

#[derive(Deserialize)]
struct SnsDimension {
    name: String,
    value: String,
}

const EXPECTED: &str = "expected an EventBridge scheduled event, {} or {\"action\": \"sweep\" | \"readiness\" | \"release-hold\"}, \
a CloudWatch alarm state change (EventBridge, alarm Lambda action or SNS), an AWS Health event, \
SQS messages from the re-probe queue, or {\"gatewayArns\": [...]}";

pub fn decode_event(event: &Value) -> Result<MonitorRequest, DecodeError> {
    let Some(obj) = event.as_object() else {
        return Err(DecodeError::new("event", format!("must be a JSON object, got {}; {EXPECTED}", json_type(event))));
    };
    if obj.is_empty() {
        return Ok(MonitorRequest::Sweep);
    }
    if let Some(action) = obj.get("action") {
        return match action.as_str() {
            Some("sweep") => decode::<ActionInput>(event).map(|_| MonitorRequest::Sweep),
            Some("readiness") => decode::<ActionInput>(event).map(|_| MonitorRequest::Readiness),
            Some("release-hold") => {
                let r: ReleaseHold = decode(event)?;
                for (field, value, max) in [
                    ("region", &r.region, 32),
                    ("holdId", &r.hold_id, 1024),
                    ("operator", &r.operator, 200),
                    ("reason", &r.reason, 1000),
                ] {
                    if value.trim().is_empty() || value.len() > max {
                        return Err(DecodeError::new(field, format!("must be 1 to {max} characters")));
                    }
                }
                Ok(MonitorRequest::ReleaseHold(r))
            }
            _ => Err(DecodeError::new(
                "action",
                format!("unknown action {action}; the actions are `sweep`, `readiness` and `release-hold`"),
            )),
        };
    }
    if obj.contains_key("gatewayArns") {
        let d: DirectInput = decode(event)?;
        if d.gateway_arns.is_empty() {
            return Err(DecodeError::new("gatewayArns", "lists no gateway"));
        }
        if d.gateway_arns.len() > MAX_DIRECT {
            return Err(DecodeError::new(
                "gatewayArns",
                format!("lists {} gateways; at most {MAX_DIRECT}", d.gateway_arns.len()),
            ));
        }
        let mut arns: Vec<GatewayArn> = Vec::with_capacity(d.gateway_arns.len());
        for (i, a) in d.gateway_arns.iter().enumerate() {
            let arn = GatewayArn::parse(&format!("gatewayArns[{i}]"), a)?;
            // Probing one gateway twice at once could hand it off twice.
            if !arns.contains(&arn) {
                arns.push(arn);
            }
        }
        return Ok(MonitorRequest::Probe(arns));
    }
    if obj.contains_key("detail-type") {
        if obj.get("source").and_then(Value::as_str) == Some("aws.health") {
            return health::decode_event(event).map(|h| match h {
                Some(h) => MonitorRequest::Health(h),
                None => MonitorRequest::Ignored("an AWS Health event that is not a Storage Gateway issue".into()),
            });
        }
        let e: EventBridgeEvent = decode(event)?;
        return match e.detail_type.as_str() {
            "Scheduled Event" => Ok(MonitorRequest::Sweep),
            "CloudWatch Alarm State Change" => {
                // The configuration is read leniently: metric-math entries have no
                // `metricStat`, and a period can exceed the crate's `u16`.
                let detail: CloudWatchAlarmData = decode(&e.detail).map_err(|err| err.within("detail"))?;
                let region = e.region.ok_or_else(|| DecodeError::new("region", "missing field `region`"))?;
                let account = e.account.ok_or_else(|| DecodeError::new("account", "missing field `account`"))?;
                let partition =
                    e.resources.as_deref().and_then(|r| r.first()).map(|a| partition_of(a)).unwrap_or("aws");
                metric_alarm(&detail, AlarmVia::Eventbridge, partition, &region, &account)
            }
            other => Err(DecodeError::new(
                "detail-type",
                format!("`{other}` is not handled; expected `Scheduled Event` or `CloudWatch Alarm State Change`"),
            )),
        };
    }
    if obj.contains_key("alarmData") {
        let a: CloudWatchAlarm = decode(event)?;
        let (partition, region, account) = origin(a.alarm_arn.as_deref(), a.region.as_deref(), a.account_id.as_deref())
            .ok_or_else(|| DecodeError::new("alarmArn", "the region and account of the alarm are unknown"))?;
        return metric_alarm(&a.alarm_data, AlarmVia::LambdaAction, &partition, &region, &account);
    }
    if is_sqs(event) {
        let sqs: SqsEvent = decode(event)?;
        if sqs.records.is_empty() {
            return Err(DecodeError::new("Records", "the SQS event has no records"));
        }
        let mut reprobes = Vec::with_capacity(sqs.records.len());
        for (i, r) in sqs.records.iter().enumerate() {
            let at = format!("Records[{i}].body");
            let body: Value = serde_json::from_str(r.body.as_deref().unwrap_or_default())
                .map_err(|e| DecodeError::new(at.clone(), format!("is not JSON: {e}")))?;
            match Message::decode(&body).map_err(|e| e.within(&at))? {
                Message::Reprobe(m) => {
                    GatewayArn::parse("gatewayArn", &m.gateway_arn).map_err(|e| DecodeError::from(e).within(&at))?;
                    reprobes.push(m);
                }
                _ => return Err(DecodeError::new(format!("{at}.type"), "only Reprobe messages come over SQS")),
            }
        }
        return Ok(MonitorRequest::Reprobe(reprobes));
    }
    if obj.contains_key("Records") {
        let sns: SnsEvent = decode(event)?;
        let record = sns.records.first().ok_or_else(|| DecodeError::new("Records", "the SNS event has no records"))?;
        let at = "Records[0].Sns.Message";
        let message: Value =
            serde_json::from_str(&record.sns.message).map_err(|e| DecodeError::new(at, format!("is not JSON: {e}")))?;
        let alarm: SnsAlarm = decode(&message).map_err(|e| e.within(at))?;
        return sns_alarm(&alarm);
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).take(10).collect();
    Err(DecodeError::new("event", format!("unrecognised event with keys {keys:?}; {EXPECTED}")))
}

/// An SQS event: its records come from `aws:sqs`.
fn is_sqs(event: &Value) -> bool {
    event.pointer("/Records/0/eventSource").and_then(Value::as_str) == Some("aws:sqs")
}

fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| p.starts_with("aws")).unwrap_or("aws")
}

/// Partition, region and account, from the alarm ARN or the event's own fields.
fn origin(alarm_arn: Option<&str>, region: Option<&str>, account: Option<&str>) -> Option<(String, String, String)> {
    let parts: Vec<&str> = alarm_arn.map(|a| a.split(':').collect()).unwrap_or_default();
    let partition = parts.get(1).copied().filter(|p| p.starts_with("aws")).unwrap_or("aws");
    let region = region.or(parts.get(3).copied()).filter(|r| !r.is_empty())?;
    let account = account.or(parts.get(4).copied()).filter(|a| !a.is_empty())?;
    Some((partition.to_owned(), region.to_owned(), account.to_owned()))
}

fn state_of(value: &str) -> AlarmState {
    match value {
        "ALARM" => AlarmState::Alarm,
        "OK" => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    }
}

fn metric_alarm(
    data: &CloudWatchAlarmData,
    via: AlarmVia,
    partition: &str,
    region: &str,
    account: &str,
) -> Result<MonitorRequest, DecodeError> {
    let state = match data.state.as_ref().map(|s| &s.value) {
        Some(CloudWatchAlarmStateValue::Alarm) => AlarmState::Alarm,
        Some(CloudWatchAlarmStateValue::Ok) => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    };
    let config = &data.configuration;
    if config.get("alarmRule").is_some() {
        return Ok(MonitorRequest::Ignored(format!(
            "composite alarm {} names no metric, so no gateway; alarm on AWS/StorageGateway metrics instead",
            data.alarm_name
        )));
    }
    // `metrics[].metricStat.metric`; metric-math expressions have none and are skipped.
    let found: Vec<(Option<String>, HashMap<String, String>)> = config
        .get("metrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.pointer("/metricStat/metric"))
        .map(|m| {
            let ns = m.get("namespace").and_then(Value::as_str).map(str::to_owned);
            let dims = m
                .get("dimensions")
                .and_then(Value::as_object)
                .map(|d| d.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
                .unwrap_or_default();
            (ns, dims)
        })
        .collect();
    let metrics: Vec<(Option<&str>, &HashMap<String, String>)> =
        found.iter().map(|(ns, d)| (ns.as_deref(), d)).collect();
    target(&data.alarm_name, state, &metrics, &Origin { via, partition, region, account })
}

/// Where an alarm came from: how it arrived, and the partition, region and account its
/// gateway is in.
struct Origin<'a> {
    via: AlarmVia,
    partition: &'a str,
    region: &'a str,
    account: &'a str,
}

fn sns_alarm(a: &SnsAlarm) -> Result<MonitorRequest, DecodeError> {
    let Some((partition, region, account)) = origin(a.alarm_arn.as_deref(), None, a.aws_account_id.as_deref()) else {
        return Err(DecodeError::new(
            "Records[0].Sns.Message.AlarmArn",
            "the region and account of the alarm are unknown",
        ));
    };
    let mut dims = HashMap::new();
    for d in &a.trigger.dimensions {
        dims.insert(d.name.clone(), d.value.clone());
    }
    let mut metrics = vec![(a.trigger.namespace.as_deref(), &dims)];
    // Metric-math alarms: [{"MetricStat": {"Metric": {"Namespace":..,"Dimensions":[{name,value}]}}}]
    let math: Vec<(Option<String>, HashMap<String, String>)> = a
        .trigger
        .metrics
        .iter()
        .filter_map(|m| m.pointer("/MetricStat/Metric"))
        .map(|m| {
            let ns = m.get("Namespace").and_then(Value::as_str).map(str::to_owned);
            let dims = m
                .get("Dimensions")
                .and_then(Value::as_array)
                .map(|ds| {
                    ds.iter()
                        .filter_map(|d| {
                            Some((d.get("name")?.as_str()?.to_owned(), d.get("value")?.as_str()?.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            (ns, dims)
        })
        .collect();
    metrics.extend(math.iter().map(|(ns, d)| (ns.as_deref(), d)));
    let origin = Origin { via: AlarmVia::Sns, partition: &partition, region: &region, account: &account };
    target(&a.alarm_name, state_of(&a.new_state_value), &metrics, &origin)
}

fn target(
    alarm: &str,
    state: AlarmState,
    metrics: &[(Option<&str>, &HashMap<String, String>)],
    o: &Origin<'_>,
) -> Result<MonitorRequest, DecodeError> {
    let via = o.via;
    let ours: Vec<&HashMap<String, String>> =
        metrics.iter().filter(|(ns, _)| *ns == Some(NAMESPACE)).map(|(_, d)| *d).collect();
    if ours.is_empty() {
        let seen: Vec<&str> = metrics.iter().filter_map(|(ns, _)| *ns).collect();
        return Ok(MonitorRequest::Ignored(format!(
            "alarm {alarm} watches {}, not {NAMESPACE}",
            if seen.is_empty() { "no namespace".to_owned() } else { seen.join(", ") }
        )));
    }
    for dims in &ours {
        if let Some(id) = dims.get("GatewayId") {
            let arn = GatewayArn::from_id("GatewayId dimension", o.partition, o.region, o.account, id)?;
            return Ok(MonitorRequest::Alarm(AlarmHint {
                alarm_name: alarm.to_owned(),
                state,
                target: AlarmTarget::Arn(arn),
                via,
            }));
        }
    }
    for dims in &ours {
        if let Some(name) = dims.get("GatewayName") {
            return Ok(MonitorRequest::Alarm(AlarmHint {
                alarm_name: alarm.to_owned(),
                state,
                target: AlarmTarget::Name(name.clone()),
                via,
            }));
        }
    }
    Ok(MonitorRequest::Ignored(format!("alarm {alarm} on {NAMESPACE} has no GatewayId or GatewayName dimension")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GW: &str = "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B";

    #[test]
    fn actions() {
        assert_eq!(decode_event(&json!({"action": "readiness"})).unwrap(), MonitorRequest::Readiness);
        let r = decode_event(&json!({"action": "release-hold", "region": "us-west-2", "holdId": "h1", "operator": "jane", "reason": "site power"}))
            .unwrap();
        assert!(matches!(r, MonitorRequest::ReleaseHold(ref h) if h.hold_id == "h1" && h.operator == "jane"));
        let e = decode_event(&json!({"action": "release-hold", "region": "us-west-2", "holdId": "h1", "reason": "x"}))
            .unwrap_err();
        assert_eq!(e.field, "operator", "{e:?}");
        let e = decode_event(
            &json!({"action": "release-hold", "region": "us-west-2", "holdId": " ", "operator": "j", "reason": "x"}),
        )
        .unwrap_err();
        assert_eq!(e.field, "holdId", "{e:?}");
        let e = decode_event(&json!({"action": "readiness", "x": 1})).unwrap_err();
        assert_eq!(e.field, "x", "{e:?}");
    }

    #[test]
    fn reprobes_come_over_sqs() {
        let body = json!({"type": "Reprobe", "version": 1, "gatewayArn": GW, "dueAt": 1_795_601_700}).to_string();
        let event = json!({"Records": [{"messageId": "m1", "receiptHandle": "r", "body": body, "attributes": {},
            "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:gateway-reprobe", "awsRegion": "us-east-1"}]});
        let r = decode_event(&event).unwrap();
        assert!(matches!(r, MonitorRequest::Reprobe(ref m) if m.len() == 1 && m[0].due_at == 1_795_601_700), "{r:?}");
        let bad = event.to_string().replace("sgw-12A3456B", "sgw-1");
        let e = decode_event(&serde_json::from_str(&bad).unwrap()).unwrap_err();
        assert_eq!(e.field, "Records[0].body.gatewayArn", "{e:?}");
    }

    #[test]
    fn sweeps() {
        assert_eq!(decode_event(&json!({})).unwrap(), MonitorRequest::Sweep);
        assert_eq!(decode_event(&json!({"action": "sweep"})).unwrap(), MonitorRequest::Sweep);
        let scheduled = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/gateway-sweep"], "detail": {}});
        assert_eq!(decode_event(&scheduled).unwrap(), MonitorRequest::Sweep);
    }

    #[test]
    fn direct_probes_validate_every_arn() {
        assert_eq!(
            decode_event(&json!({"gatewayArns": [GW]})).unwrap(),
            MonitorRequest::Probe(vec![GatewayArn::parse("x", GW).unwrap()])
        );
        assert_eq!(
            decode_event(&json!({"gatewayArns": [GW, GW]})).unwrap(),
            MonitorRequest::Probe(vec![GatewayArn::parse("x", GW).unwrap()]),
            "a gateway named twice is probed once"
        );
        let e = decode_event(&json!({"gatewayArns": [GW, "sgw-1"]})).unwrap_err();
        assert_eq!(e.field, "gatewayArns[1]");
        let e = decode_event(&json!({"gatewayArns": []})).unwrap_err();
        assert_eq!(e.field, "gatewayArns");
        let e = decode_event(&json!({"gatewayArns": [GW], "extra": 1})).unwrap_err();
        assert_eq!(e.field, "extra", "{e:?}");
        let e = decode_event(&json!({"action": "nap"})).unwrap_err();
        assert_eq!(e.field, "action");
    }

    fn eventbridge_alarm(namespace: &str, dims: Value, state: &str) -> Value {
        json!({"version": "0", "id": "x", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
            "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:gw-offline"],
            "detail": {"alarmName": "gw-offline",
                "state": {"value": state, "reason": "r", "timestamp": "2026-11-25T10:00:00.000+0000"},
                "previousState": {"value": "OK", "reason": "r", "timestamp": "2026-11-25T09:00:00.000+0000"},
                "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {"namespace": namespace,
                    "name": "HealthNotifications", "dimensions": dims}, "period": 300, "stat": "Sum"}, "returnData": true}]}}})
    }

    #[test]
    fn an_eventbridge_alarm_names_the_gateway_by_id() {
        let r = decode_event(&eventbridge_alarm(
            NAMESPACE,
            json!({"GatewayId": "sgw-12A3456B", "GatewayName": "tape-primary"}),
            "ALARM",
        ))
        .unwrap();
        let MonitorRequest::Alarm(hint) = r else { panic!("{r:?}") };
        assert_eq!(hint.target, AlarmTarget::Arn(GatewayArn::parse("x", GW).unwrap()));
        assert_eq!(hint.state, AlarmState::Alarm);
        let r = decode_event(&eventbridge_alarm(NAMESPACE, json!({"GatewayName": "tape-primary"}), "OK")).unwrap();
        assert!(
            matches!(r, MonitorRequest::Alarm(AlarmHint { target: AlarmTarget::Name(ref n), state: AlarmState::Ok, .. }) if n == "tape-primary")
        );
    }

    #[test]
    fn metric_math_and_long_period_alarms_are_read() {
        let mut e = eventbridge_alarm(NAMESPACE, json!({"GatewayId": "sgw-12A3456B"}), "ALARM");
        e["detail"]["configuration"]["metrics"][0]["metricStat"]["period"] = json!(86_400);
        let metrics = e["detail"]["configuration"]["metrics"].as_array_mut().unwrap();
        metrics.insert(0, json!({"id": "e1", "expression": "m1 > 0", "label": "offline", "returnData": true}));
        let r = decode_event(&e).unwrap();
        assert!(matches!(r, MonitorRequest::Alarm(AlarmHint { target: AlarmTarget::Arn(_), .. })), "{r:?}");
        let mut composite = e.clone();
        composite["detail"]["configuration"] = json!({"alarmRule": "ALARM(a) OR ALARM(b)"});
        assert!(matches!(decode_event(&composite).unwrap(), MonitorRequest::Ignored(ref w) if w.contains("composite")));
    }

    #[test]
    fn alarms_on_other_namespaces_are_ignored_with_the_reason() {
        let r = decode_event(&eventbridge_alarm("AWS/EC2", json!({"InstanceId": "i-1"}), "ALARM")).unwrap();
        assert!(matches!(r, MonitorRequest::Ignored(ref why) if why.contains("AWS/EC2")), "{r:?}");
    }

    #[test]
    fn an_sns_alarm_with_null_members_is_read() {
        let message = json!({"AlarmName": "gw-offline", "AlarmDescription": null, "AWSAccountId": "123456789012",
            "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed", "StateChangeTime": "2026-11-25T10:00:00.000+0000",
            "Region": "US East (N. Virginia)", "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:gw-offline",
            "OldStateValue": "OK", "Trigger": {"MetricName": "HealthNotifications", "Namespace": NAMESPACE,
                "StatisticType": "Statistic", "Statistic": "SUM", "Unit": null,
                "Dimensions": [{"value": "sgw-12A3456B", "name": "GatewayId"}], "Period": 300, "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1.0, "TreatMissingData": "missing",
                "EvaluateLowSampleCountPercentile": ""}});
        let event = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alarms:1",
            "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
            "Subject": "ALARM: \"gw-offline\" in US East (N. Virginia)", "Message": message.to_string(),
            "Timestamp": "2026-11-25T10:00:01.000Z", "SignatureVersion": "1", "Signature": "s",
            "SigningCertUrl": "https://x", "UnsubscribeUrl": "https://x", "MessageAttributes": {}}}]});
        let r = decode_event(&event).unwrap();
        assert!(
            matches!(r, MonitorRequest::Alarm(AlarmHint { via: AlarmVia::Sns, target: AlarmTarget::Arn(_), .. })),
            "{r:?}"
        );
    }

    #[test]
    fn unknown_events_are_refused_naming_what_is_wrong() {
        let e = decode_event(&json!("sweep")).unwrap_err();
        assert_eq!(e.field, "event");
        let e = decode_event(
            &json!({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}),
        )
        .unwrap_err();
        assert_eq!(e.field, "detail-type");
        let e = decode_event(&json!({"foo": 1})).unwrap_err();
        assert!(e.reason.contains("foo"));
    }
}
