//! The HTTP front: one loopback address answering Storage Gateway (awsJson1_1), SNS
//! (awsQuery) and the `/_sim/` control and inspection API.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::faults::{Fault, FaultConfig, Faults};
use crate::fleet::{Fleet, FleetError};
use crate::sns::{self, SnsError};
use crate::storage_gateway::{self, LOGGED_MEMBERS, MUTATING, OPERATIONS};
use crate::world::{Message, Tape, World};

const TARGET_PREFIX: &str = "StorageGateway_20130630.";
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const MAX_BODY: usize = 4 * 1024 * 1024;

/// One call as the simulator saw it, in arrival order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    pub seq: u64,
    pub at_ms: u64,
    pub service: String,
    pub operation: String,
    pub params: BTreeMap<String, String>,
    pub status: u16,
    /// `ok`, the error label (`InvalidGatewayRequestException/GatewayNotConnected`), or
    /// `dropped`.
    pub outcome: String,
    /// Whether the call changed or read the world (false for injected faults and drops
    /// before the call was applied).
    pub applied: bool,
    pub mutating: bool,
}

impl CallRecord {
    pub fn ok(&self) -> bool {
        self.outcome == "ok"
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub message_id: String,
    pub url: String,
    pub attempts: u32,
    /// The HTTP status of the last attempt, or the error that prevented one.
    pub result: String,
}

pub(crate) struct Shared {
    fleet: Fleet,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    calls: Mutex<Vec<CallRecord>>,
    deliveries: Mutex<Vec<Delivery>>,
    seq: AtomicU64,
    ids: Mutex<fastrand::Rng>,
}

/// A simulator: the world and its fault settings, cheap to clone and share.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

/// A simulator listening on an address; dropping it stops the listener.
pub struct Running {
    pub addr: SocketAddr,
    pub sim: Simulator,
    task: JoinHandle<()>,
}

impl Running {
    /// The endpoint URL for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::ops::Deref for Running {
    type Target = Simulator;
    fn deref(&self) -> &Simulator {
        &self.sim
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind; keep serving it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Simulator {
    pub fn new(fleet: Fleet) -> Result<Self, FleetError> {
        let world = World::from_fleet(&fleet)?;
        Ok(Self {
            shared: Arc::new(Shared {
                fleet,
                world: Mutex::new(world),
                faults: Mutex::new(Faults::default()),
                calls: Mutex::new(Vec::new()),
                deliveries: Mutex::new(Vec::new()),
                seq: AtomicU64::new(0),
                ids: Mutex::new(fastrand::Rng::with_seed(0x5eed)),
            }),
        })
    }

    /// Listens on `addr` (use `127.0.0.1:0` for an ephemeral port) and serves until dropped.
    pub async fn start(self, addr: &str) -> std::io::Result<Running> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = self.shared.clone();
        let task = crate::http::serve(listener, move |req| handle(shared.clone(), req));
        Ok(Running { addr, sim: self, task })
    }

    pub fn fleet(&self) -> &Fleet {
        &self.shared.fleet
    }

    /// Reads or changes the world directly (tests use this to stage a scene).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut lock(&self.shared.world))
    }

    pub fn state(&self) -> Value {
        self.with_world(|w| state_json(w))
    }

    pub fn set_connected(&self, gateway_id: &str, connected: bool) -> bool {
        self.with_world(|w| match w.gateway_by_id_mut(gateway_id) {
            Some(g) => {
                g.connected = connected;
                true
            }
            None => false,
        })
    }

    /// Puts `count` fresh tapes on a gateway (as if someone created them), up to its limit.
    pub fn add_tapes(&self, gateway_id: &str, count: usize) -> Result<usize, String> {
        self.with_world(|w| {
            let arn = w
                .gateways
                .values()
                .find(|g| g.id == gateway_id)
                .map(|g| g.arn.clone())
                .ok_or_else(|| format!("no gateway {gateway_id}"))?;
            let mut added = 0;
            let mut n = 0usize;
            while added < count && w.tapes_on(&arn) < crate::fleet::MAX_TAPES_PER_GATEWAY {
                let barcode = format!("SIM{:07}", n);
                n += 1;
                let tape_arn = w.tape_arn(&barcode);
                if w.tapes.contains_key(&tape_arn) {
                    continue;
                }
                w.tapes.insert(
                    tape_arn.clone(),
                    Tape {
                        arn: tape_arn,
                        barcode,
                        size_bytes: 107_374_182_400,
                        status: "AVAILABLE".into(),
                        gateway_arn: Some(arn.clone()),
                        created: crate::now_secs(),
                    },
                );
                added += 1;
            }
            Ok(added)
        })
    }

    pub fn set_faults(&self, config: FaultConfig) -> Result<(), String> {
        config.validate()?;
        *lock(&self.shared.faults) = Faults::new(config);
        Ok(())
    }

    pub fn faults(&self) -> FaultConfig {
        lock(&self.shared.faults).config().clone()
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.shared.calls).clone()
    }

    /// Calls of one operation that were applied and answered `ok` or dropped after being applied.
    pub fn applied(&self, operation: &str) -> Vec<CallRecord> {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.operation == operation && c.applied && (c.ok() || c.outcome == "dropped"))
            .cloned()
            .collect()
    }

    pub fn messages(&self) -> Vec<Message> {
        self.with_world(|w| w.messages.clone())
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.deliveries).clone()
    }

    pub fn set_delivery(&self, topic_name: &str, url: Option<String>) -> bool {
        self.with_world(|w| match w.topics.values_mut().find(|t| t.name == topic_name) {
            Some(t) => {
                t.deliver_to = url;
                true
            }
            None => false,
        })
    }

    /// Back to the fleet file's world, with an empty call log.
    pub fn reset(&self) -> Result<(), FleetError> {
        let world = World::from_fleet(&self.shared.fleet)?;
        *lock(&self.shared.world) = world;
        lock(&self.shared.calls).clear();
        lock(&self.shared.deliveries).clear();
        *lock(&self.shared.faults) = Faults::default();
        Ok(())
    }

    fn new_id(&self) -> String {
        let mut rng = lock(&self.shared.ids);
        let mut hex = |n: usize| (0..n).map(|_| rng.hexdigit_lowercase()).collect::<String>();
        format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
    }

    /// Waits the injected latency and answers the fault to inject, if any, for one call.
    async fn delay_and_decide(&self, op: &str, storage_gateway: bool) -> Fault {
        let (delay, fault) = lock(&self.shared.faults).decide(op, storage_gateway);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        fault
    }

    /// Records a call whose connection is dropped before it is applied, and drops it.
    fn dropped(&self, mut rec: CallRecord) -> Answer {
        rec.status = 0;
        rec.outcome = "dropped".into();
        self.record(rec);
        Err(Dropped)
    }

    fn record(&self, mut rec: CallRecord) {
        rec.seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.calls).push(rec);
    }
}

trait RngExt {
    fn hexdigit_lowercase(&mut self) -> char;
}

impl RngExt for fastrand::Rng {
    fn hexdigit_lowercase(&mut self) -> char {
        char::from_digit(self.u32(0..16), 16).unwrap_or('0')
    }
}

/// Signals hyper to close the connection without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

type Answer = Result<Response<Full<Bytes>>, Dropped>;

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>, request_id: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = request_id.parse() {
        r.headers_mut().insert("x-amzn-RequestId", v);
    }
    r
}

fn json_answer(status: u16, v: &Value) -> Response<Full<Bytes>> {
    respond(status, "application/json", v.to_string(), "")
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let sim = Simulator { shared };
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(json_answer(413, &json!({"message": "request body too large or unreadable"}))),
    };
    let path = parts.uri.path();
    if path.starts_with("/_sim/") {
        return Ok(control(&sim, &parts.method, path, parts.uri.query(), &body).await);
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if parts.method != Method::POST || path != "/" {
        return Ok(json_answer(404, &json!({"message": format!("nothing at {} {path}", parts.method)})));
    }
    let auth = header("authorization");
    match header("x-amz-target") {
        Some(target) => storage_gateway_call(&sim, &target, header("content-type"), auth, &body).await,
        None => sns_call(&sim, auth, &body).await,
    }
}

/// Checks the SigV4 `Authorization` header names this service and the fleet's region.
/// Signatures themselves are not verified: there is no secret to check them against.
fn check_auth(auth: Option<&str>, service: &str, region: &str) -> Result<(), String> {
    let auth = auth.ok_or("Missing Authentication Token")?;
    let scope = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .and_then(|rest| rest.split(", ").find_map(|p| p.strip_prefix("Credential=")))
        .ok_or("Authorization header is not a SigV4 signature")?;
    let parts: Vec<&str> = scope.split('/').collect();
    match parts.as_slice() {
        [_, _, r, s, "aws4_request"] if *r == region && *s == service => Ok(()),
        [_, _, r, s, "aws4_request"] => Err(format!(
            "Credential should be scoped to a valid region and service: got {r}/{s}, this endpoint is {region}/{service}"
        )),
        _ => Err("Credential scope is malformed".into()),
    }
}

fn logged_params(body: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = LOGGED_MEMBERS
        .iter()
        .filter_map(|m| body.get(*m).and_then(Value::as_str).map(|v| ((*m).to_owned(), v.to_owned())))
        .collect();
    if let Some(Value::Array(tags)) = body.get("Tags") {
        let joined: Vec<String> = tags
            .iter()
            .map(|t| {
                format!(
                    "{}={}",
                    t.get("Key").and_then(Value::as_str).unwrap_or(""),
                    t.get("Value").and_then(Value::as_str).unwrap_or("")
                )
            })
            .collect();
        params.insert("Tags".into(), joined.join(","));
    }
    if let Some(Value::Array(keys)) = body.get("TagKeys") {
        let joined: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        params.insert("TagKeys".into(), joined.join(","));
    }
    params
}

async fn storage_gateway_call(
    sim: &Simulator,
    target: &str,
    content_type: Option<String>,
    auth: Option<String>,
    body: &[u8],
) -> Answer {
    let request_id = sim.new_id();
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(target).to_owned();
    let parsed = crate::validate::object(body);
    let params = parsed.as_ref().map(logged_params).unwrap_or_default();
    let mut rec = CallRecord {
        seq: 0,
        at_ms: crate::now_millis(),
        service: "storagegateway".into(),
        operation: op.clone(),
        params,
        status: 200,
        outcome: "ok".into(),
        applied: false,
        mutating: MUTATING.contains(&op.as_str()),
    };
    let fail = |sim: &Simulator, mut rec: CallRecord, e: ApiError| {
        rec.status = e.status;
        rec.outcome = e.label();
        sim.record(rec);
        Ok(respond(e.status, JSON_CONTENT_TYPE, e.body().to_string(), &request_id))
    };
    if !target.starts_with(TARGET_PREFIX) || !OPERATIONS.contains(&op.as_str()) {
        return fail(sim, rec, ApiError::unknown_operation(target));
    }
    if content_type.as_deref() != Some(JSON_CONTENT_TYPE) {
        return fail(sim, rec, ApiError::serialization("Content-Type must be application/x-amz-json-1.1"));
    }
    let region = sim.shared.fleet.region.clone();
    if let Err(msg) = check_auth(auth.as_deref(), "storagegateway", &region) {
        let e = if auth.is_none() { ApiError::unsigned(&msg) } else { ApiError::bad_signature(&msg) };
        return fail(sim, rec, e);
    }
    let fault = sim.delay_and_decide(&op, true).await;
    match fault {
        Fault::DropBefore => return sim.dropped(rec),
        Fault::InternalError => return fail(sim, rec, ApiError::internal()),
        Fault::Throttle | Fault::RateLimited => return fail(sim, rec, ApiError::throttling()),
        Fault::None | Fault::DropAfter => {}
    }
    let input = match parsed {
        Ok(input) => input,
        Err(e) => return fail(sim, rec, e),
    };
    let result = sim.with_world(|w| storage_gateway::call(w, &op, &input));
    rec.applied = true;
    if fault == Fault::DropAfter {
        rec.status = 0;
        rec.outcome = if result.is_ok() { "dropped".into() } else { "dropped-error".into() };
        sim.record(rec);
        return Err(Dropped);
    }
    match result {
        Ok(v) => {
            sim.record(rec);
            Ok(respond(200, JSON_CONTENT_TYPE, v.to_string(), &request_id))
        }
        Err(e) => fail(sim, rec, e),
    }
}

async fn sns_call(sim: &Simulator, auth: Option<String>, body: &[u8]) -> Answer {
    let request_id = sim.new_id();
    let params = sns::parse_form(body);
    let action = params.get("Action").cloned().unwrap_or_default();
    let mut rec = CallRecord {
        seq: 0,
        at_ms: crate::now_millis(),
        service: "sns".into(),
        operation: action.clone(),
        params: ["TopicArn", "Subject", "Name"]
            .iter()
            .filter_map(|k| params.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect(),
        status: 200,
        outcome: "ok".into(),
        applied: false,
        mutating: action == "Publish" || action == "CreateTopic",
    };
    let fail = |mut rec: CallRecord, e: SnsError| {
        rec.status = e.status;
        rec.outcome = e.code.to_owned();
        sim.record(rec);
        Ok(respond(e.status, "text/xml", e.xml(&request_id), &request_id))
    };
    let region = sim.shared.fleet.region.clone();
    if let Err(msg) = check_auth(auth.as_deref(), "sns", &region) {
        let code = if auth.is_none() { "MissingAuthenticationToken" } else { "SignatureDoesNotMatch" };
        return fail(rec, SnsError { status: 403, code, message: msg });
    }
    let fault = sim.delay_and_decide(&action, false).await;
    match fault {
        Fault::DropBefore => return sim.dropped(rec),
        Fault::InternalError => return fail(rec, SnsError::internal()),
        Fault::Throttle | Fault::RateLimited => return fail(rec, SnsError::throttled()),
        Fault::None | Fault::DropAfter => {}
    }
    let message_id = sim.new_id();
    let result = sim.with_world(|w| sns::call(w, &params, &request_id, || message_id));
    rec.applied = true;
    match result {
        Ok(answer) => {
            if let Some((topic, message)) = answer.delivery {
                deliver(sim.clone(), topic, message);
            }
            if fault == Fault::DropAfter {
                rec.status = 0;
                rec.outcome = "dropped".into();
                sim.record(rec);
                return Err(Dropped);
            }
            sim.record(rec);
            Ok(respond(200, "text/xml", answer.xml, &request_id))
        }
        Err(e) => fail(rec, e),
    }
}

/// Delivers a message to its topic's Lambda invoke URL in the background, as SNS does
/// (asynchronously, retrying a few times when the endpoint is not up yet).
fn deliver(sim: Simulator, topic: crate::world::Topic, message: Message) {
    let Some(url) = topic.deliver_to.clone() else { return };
    let region = sim.shared.fleet.region.clone();
    let event = sns::lambda_event(&topic, &message, &region).to_string();
    tokio::spawn(async move {
        let mut attempts = 0;
        let mut result = String::new();
        while attempts < 5 {
            attempts += 1;
            match crate::http::post_json(&url, event.clone(), &[]).await {
                Ok((status, _)) if status < 500 => {
                    result = status.to_string();
                    break;
                }
                Ok((status, _)) => result = status.to_string(),
                Err(e) => result = e,
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempts))).await;
        }
        lock(&sim.shared.deliveries).push(Delivery { message_id: message.message_id, url, attempts, result });
    });
}

fn state_json(w: &World) -> Value {
    let gateways: Vec<Value> = w
        .gateways
        .values()
        .map(|g| {
            json!({
                "id": g.id, "arn": g.arn, "name": g.name, "type": g.gateway_type,
                "connected": g.connected, "disabled": g.disabled,
                "tapes": w.tapes_on(&g.arn),
                "recovered_tapes": w.tapes.values()
                    .filter(|t| t.gateway_arn.as_deref() == Some(g.arn.as_str()) && t.status == "RECOVERED").count(),
                "tags": w.tags_of(&g.arn).iter().cloned().collect::<BTreeMap<_, _>>(),
            })
        })
        .collect();
    json!({
        "region": w.region, "account": w.account, "gateways": gateways,
        "tape_recovery_points": w.tape_recovery_points.len(),
        "tape_recovery_points_retrieved": w.tape_recovery_points.values().filter(|r| r.retrieved_to.is_some()).count(),
        "volumes": w.volumes.values().map(|v| json!({
            "arn": v.arn, "recovery_point_time": v.recovery_point_time,
            "tags": w.tags_of(&v.arn).iter().cloned().collect::<BTreeMap<_, _>>(),
        })).collect::<Vec<_>>(),
        "snapshots": w.snapshots,
        "topics": w.topics.values().collect::<Vec<_>>(),
        "messages": w.messages.len(),
    })
}

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

async fn control(
    sim: &Simulator,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let rest = path.trim_start_matches("/_sim/").trim_end_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    let bad = |msg: String| json_answer(400, &json!({"message": msg}));
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
                *summary.entry(c.operation).or_default().entry(c.outcome).or_default() += 1;
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
