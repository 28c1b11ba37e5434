//! Bad input, generated: 100,000 cases over ARN parsing, both functions' event decoding and
//! the hand-off messages. Nothing panics; every refusal names a field; everything accepted
//! carries only validated ARNs (so no AWS call can be made with an unvalidated one).

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shared::arn::{GatewayArn, TapeArn, VolumeArn};
use shared::handoff::Message;
use shared::monitor::{self, MonitorRequest, request::AlarmTarget};
use shared::recover;

/// Near-valid ARNs (the interesting ones) and anything at all.
fn arn_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "arn:(aws|aws-cn|aws-us-gov|aws-iso-b|aws-x|)?:(storagegateway|sns|ec2|)?:[a-z0-9-]{0,14}:[0-9]{0,14}:(gateway|tape|volume|)/(sgw-)?[0-9A-Za-z-]{0,30}(/volume/vol-[0-9A-F]{0,10})?",
        "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-[0-9A-F]{6,30}",
        "arn:aws:storagegateway:us-east-1:123456789012:tape/[0-9A-Za-z]{0,20}",
        "\\PC{0,80}",
        "[a-z:/0-9-]{400,600}",
    ]
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        arn_like().prop_map(Value::String),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z-]{1,12}",
                    Just("failedGatewayArn".to_owned()),
                    Just("gatewayArns".to_owned()),
                    Just("type".to_owned()),
                    Just("version".to_owned()),
                    Just("Records".to_owned()),
                    Just("detail-type".to_owned()),
                    Just("alarmData".to_owned()),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The sample events of one function, read once: each case mutates one of them.
fn samples(function: &str) -> &'static [Value] {
    static MONITOR: OnceLock<Vec<Value>> = OnceLock::new();
    static RECOVER: OnceLock<Vec<Value>> = OnceLock::new();
    let cell = if function == "gateway-monitor" { &MONITOR } else { &RECOVER };
    cell.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(function);
        let mut out: Vec<Value> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap())
            .collect();
        out.sort_by_key(|v| v.to_string());
        out
    })
}

/// Every path in a JSON value (as pointers).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

/// A sample event with one thing changed: a value replaced, or a key removed. For SNS
/// events, the message inside is mutated too (it is JSON in a string).
fn mutate(sample: &Value, pick: usize, replacement: Value, remove: bool) -> Value {
    let mut v = sample.clone();
    if let Some(Value::String(m)) = v.pointer("/Records/0/Sns/Message").cloned() {
        if pick % 2 == 0 {
            if let Ok(inner) = serde_json::from_str::<Value>(&m) {
                let changed = mutate(&inner, pick / 2, replacement, remove);
                v["Records"][0]["Sns"]["Message"] = Value::String(changed.to_string());
                return v;
            }
        }
    }
    let mut paths = Vec::new();
    pointers(&v, String::new(), &mut paths);
    if paths.is_empty() {
        return replacement;
    }
    let path = &paths[pick % paths.len()];
    let (parent, key) = path.rsplit_once('/').unwrap();
    match v.pointer_mut(if parent.is_empty() { "" } else { parent }) {
        Some(Value::Object(m)) if remove => {
            m.remove(key);
        }
        Some(Value::Array(a)) if remove => {
            if let Ok(i) = key.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        _ => {
            if let Some(slot) = v.pointer_mut(path) {
                *slot = replacement;
            }
        }
    }
    v
}

/// Members the decoders know by name (a missing one is named though it is not in the input).
const KNOWN: &[&str] = &[
    "event",
    "action",
    "region",
    "holdId",
    "operator",
    "reason",
    "overrideHolds",
    "dueAt",
    "message",
    "failedGatewayArn",
    "standbyGatewayArn",
    "dryRun",
    "approveDisable",
    "type",
    "version",
    "gatewayArn",
    "gatewayName",
    "gatewayType",
    "offlineSince",
    "detectedAt",
    "outageId",
    "recoveryId",
    "slice",
    "startedAt",
    "progress",
    "Records",
    "gatewayArns",
    "action",
    "detail-type",
    "detail",
    "source",
    "region",
    "account",
    "alarmData",
    "alarmArn",
    "time",
    "GatewayId dimension",
];

/// A refusal must name a field: the whole event, a member the decoder knows, or a path
/// into the input.
fn names_a_field(field: &str, reason: &str, input: &Value) -> bool {
    let top = field.split(['.', '[']).next().unwrap_or_default();
    !reason.is_empty() && (KNOWN.contains(&top) || input.get(top).is_some())
}

fn recover_accepted_is_validated(event: &Value) {
    match recover::decode_event(event) {
        Ok(requests) => {
            assert!(!requests.is_empty());
            for r in requests {
                // The ARNs are validated types; they re-parse as what they are.
                assert!(GatewayArn::parse("x", r.failed.as_str()).is_ok());
                if let Some(s) = &r.standby {
                    assert!(GatewayArn::parse("x", s.as_str()).is_ok());
                }
            }
        }
        Err(e) => assert!(names_a_field(&e.field, &e.reason, event), "{event}: {e:?}"),
    }
}

fn monitor_accepted_is_validated(event: &Value) {
    match monitor::decode_event(event) {
        Ok(MonitorRequest::Probe(arns)) => {
            assert!(!arns.is_empty());
            assert!(arns.iter().all(|a| GatewayArn::parse("x", a.as_str()).is_ok()));
        }
        Ok(MonitorRequest::Alarm(hint)) => {
            if let AlarmTarget::Arn(a) = &hint.target {
                assert!(GatewayArn::parse("x", a.as_str()).is_ok());
            }
        }
        Ok(MonitorRequest::Reprobe(messages)) => {
            assert!(!messages.is_empty());
            assert!(messages.iter().all(|m| GatewayArn::parse("x", &m.gateway_arn).is_ok()));
        }
        Ok(MonitorRequest::Health(h)) => assert!(!h.region.is_empty() && !h.event_arn.trim().is_empty()),
        Ok(MonitorRequest::ReleaseHold(r)) => assert!(!r.hold_id.trim().is_empty() && !r.operator.trim().is_empty()),
        Ok(MonitorRequest::Sweep | MonitorRequest::Readiness) => {}
        Ok(MonitorRequest::Ignored(why)) => assert!(!why.is_empty()),
        Err(e) => assert!(names_a_field(&e.field, &e.reason, event), "{event}: {e:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arn_parsing_never_panics_and_accepts_only_what_the_api_accepts(s in arn_like()) {
        match GatewayArn::parse("failedGatewayArn", &s) {
            Ok(a) => {
                prop_assert_eq!(a.as_str(), s.as_str());
                prop_assert!((50..=500).contains(&s.chars().count()));
                prop_assert!(a.id().starts_with("sgw-"));
                prop_assert_eq!(a.account().len(), 12);
            }
            Err(e) => {
                prop_assert_eq!(e.field.as_str(), "failedGatewayArn");
                prop_assert!(e.to_string().starts_with("failedGatewayArn: "));
                prop_assert!(e.to_string().len() < 400, "the error does not echo a huge input");
            }
        }
        if let Ok(t) = TapeArn::parse("tapeArn", &s) {
            prop_assert!((5..=16).contains(&t.barcode().len()));
        }
        if let Ok(v) = VolumeArn::parse("volumeArn", &s) {
            prop_assert!(v.volume_id().starts_with("vol-"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 25_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn recover_gateway_events_never_panic_and_refusals_name_the_field(
        which in 0usize..64, pick in any::<usize>(), replacement in json_value(), remove in any::<bool>(), raw in json_value(), use_raw in 0u8..4,
    ) {
        let samples = samples("recover-gateway");
        let event = if use_raw == 0 { raw } else { mutate(&samples[which % samples.len()], pick, replacement, remove) };
        recover_accepted_is_validated(&event);
    }

    #[test]
    fn gateway_monitor_events_never_panic_and_refusals_name_the_field(
        which in 0usize..64, pick in any::<usize>(), replacement in json_value(), remove in any::<bool>(), raw in json_value(), use_raw in 0u8..4,
    ) {
        let samples = samples("gateway-monitor");
        let event = if use_raw == 0 { raw } else { mutate(&samples[which % samples.len()], pick, replacement, remove) };
        monitor_accepted_is_validated(&event);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hand_off_messages_never_panic_and_refusals_name_the_field(
        pick in any::<usize>(), replacement in json_value(), remove in any::<bool>(),
    ) {
        let good = json!({"type": "GatewayOffline", "version": 1,
            "gatewayArn": "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B",
            "gatewayName": "tape-primary", "gatewayType": "VTL", "offlineSince": "2026-11-25T10:00:00Z",
            "detectedAt": "2026-11-25T10:15:00Z", "outageId": "sgw-12A3456B@2026-11-25T10:00:00Z"});
        let m = mutate(&good, pick, replacement, remove);
        match Message::decode(&m) {
            Ok(Message::GatewayOffline(h)) => prop_assert!(h.gateway().is_ok() || recover::decode_event(&m).is_err()),
            Ok(Message::Continuation(_) | Message::Reprobe(_)) => {}
            Err(e) => prop_assert!(names_a_field(&e.field, &e.reason, &m), "{:?}", e),
        }
        recover_accepted_is_validated(&m);
    }
}

#[test]
fn the_samples_themselves_are_accepted() {
    for s in samples("recover-gateway") {
        assert!(recover::decode_event(s).is_ok(), "{s}");
    }
    for s in samples("gateway-monitor") {
        assert!(monitor::decode_event(s).is_ok(), "{s}");
    }
}
