//! The control and inspection API under `/_sim/`.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response};
use serde::Deserialize;
use serde_json::json;

use super::{CallRecord, Simulator, json_answer};
use crate::behaviour::Behaviour;
use crate::faults::FaultConfig;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayChange {
    connected: Option<bool>,
    add_tapes: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicChange {
    deliver_to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VolumeChange {
    status: String,
}

/// `POST /_sim/behaviour` takes the switches as JSON (`{"offset_markers": true}`, the
/// others default) or as a string of names (`"all"`, `"offset-markers,recovery-points-vanish"`).
fn parse_behaviour(body: &[u8]) -> Result<Behaviour, String> {
    match serde_json::from_slice::<serde_json::Value>(body).map_err(|e| format!("behaviour: {e}"))? {
        serde_json::Value::String(names) => Behaviour::from_names(&names),
        v => serde_json::from_value(v).map_err(|e| format!("behaviour: {e}")),
    }
}

pub(super) async fn handle(
    sim: &Simulator,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let rest = path.trim_start_matches("/_sim/").trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    let bad = |msg: String| json_answer(400, &json!({"message": msg}));
    if let Some(answer) = super::dynamodb::control(sim, method, &segments, body) {
        return answer;
    }
    if let Some(answer) = super::sqs::control(sim, method, &segments, body) {
        return answer;
    }
    match (method.clone(), segments.as_slice()) {
        (Method::GET, ["health"]) => json_answer(200, &json!({"ok": true})),
        (Method::GET, ["state"]) => json_answer(200, &sim.state()),
        (Method::GET, ["calls"]) => {
            let since: u64 = query
                .and_then(|q| {
                    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "since").map(|(_, v)| v.into_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let calls: Vec<CallRecord> = sim.calls().into_iter().filter(|c| c.seq >= since).collect();
            json_answer(200, &json!(calls))
        }
        (Method::GET, ["calls", "summary"]) => {
            let mut summary: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            for c in sim.calls() {
                *summary.entry(c.operation).or_default().entry(c.outcome.to_string()).or_default() += 1;
            }
            json_answer(200, &json!(summary))
        }
        (Method::GET, ["messages"]) => json_answer(200, &json!(sim.messages())),
        (Method::GET, ["deliveries"]) => json_answer(200, &json!(sim.deliveries())),
        (Method::GET, ["faults"]) => json_answer(200, &json!(sim.faults())),
        (Method::POST, ["faults"]) => match serde_json::from_slice::<FaultConfig>(body) {
            Ok(config) => match sim.set_faults(config) {
                Ok(()) => json_answer(200, &json!(sim.faults())),
                Err(e) => bad(e),
            },
            Err(e) => bad(format!("fault settings: {e}")),
        },
        (Method::DELETE, ["faults"]) => {
            let _ = sim.set_faults(FaultConfig::default());
            json_answer(200, &json!(sim.faults()))
        }
        (Method::POST, ["gateways", id]) => match serde_json::from_slice::<GatewayChange>(body) {
            Ok(change) => {
                if let Some(c) = change.connected {
                    if !sim.set_connected(id, c) {
                        return json_answer(404, &json!({"message": format!("no gateway {id}")}));
                    }
                }
                if let Some(n) = change.add_tapes {
                    if let Err(e) = sim.add_tapes(id, n) {
                        return json_answer(404, &json!({"message": e}));
                    }
                }
                json_answer(200, &sim.state())
            }
            Err(e) => bad(format!("gateway change: {e}")),
        },
        (Method::GET, ["behaviour"]) => json_answer(200, &json!(sim.behaviour())),
        (Method::POST, ["behaviour"]) => match parse_behaviour(body).and_then(|b| sim.set_behaviour(b)) {
            Ok(()) => json_answer(200, &json!(sim.behaviour())),
            Err(e) => bad(e),
        },
        (Method::DELETE, ["behaviour"]) => match sim.set_behaviour(sim.fleet().behaviour) {
            Ok(()) => json_answer(200, &json!(sim.behaviour())),
            Err(e) => bad(e),
        },
        (Method::POST, ["volumes", id]) => match serde_json::from_slice::<VolumeChange>(body) {
            Ok(change) => match sim.set_volume_status(id, &change.status) {
                Ok(()) => json_answer(200, &sim.state()),
                Err(e) if e.starts_with("no volume") => json_answer(404, &json!({"message": e})),
                Err(e) => bad(e),
            },
            Err(e) => bad(format!("volume change: {e}")),
        },
        (Method::POST, ["topics", name]) => match serde_json::from_slice::<TopicChange>(body) {
            Ok(change) if sim.set_delivery(name, change.deliver_to.clone()) => json_answer(200, &sim.state()),
            Ok(_) => json_answer(404, &json!({"message": format!("no topic {name}")})),
            Err(e) => bad(format!("topic change: {e}")),
        },
        (Method::POST, ["reset"]) => match sim.reset() {
            Ok(()) => json_answer(200, &sim.state()),
            Err(e) => bad(e.to_string()),
        },
        _ => json_answer(404, &json!({"message": format!("no control endpoint {method} {path}")})),
    }
}
