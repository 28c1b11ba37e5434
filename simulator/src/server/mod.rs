//! The HTTP front: one loopback address answering every simulated service, routed by
//! protocol, and the `/_sim/` control and inspection API.
//!
//! | Request | Service | Handler |
//! |---|---|---|
//! | `X-Amz-Target: StorageGateway_20130630.*` | Storage Gateway (awsJson1_1) | [`storage_gateway`] |
//! | `X-Amz-Target: DynamoDB_20120810.*` | DynamoDB (awsJson1_0) | [`dynamodb`] |
//! | `X-Amz-Target: AmazonSQS.*` | SQS (awsJson1_0) | [`sqs`] |
//! | form-encoded body, no target | SNS (awsQuery) | [`sns`] |
//! | `/_sim/...` | control API | [`control`] |

mod control;
mod dynamodb;
mod sns;
mod sqs;
mod storage_gateway;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::behaviour::Behaviour;
use crate::faults::{Fault, FaultConfig, Faults};
use crate::fleet::{Fleet, FleetError};
use crate::world::{Message, Tape, World};

const MAX_BODY: usize = 4 * 1024 * 1024;

/// The services the simulator answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    #[serde(rename = "storagegateway")]
    StorageGateway,
    Sns,
    #[serde(rename = "dynamodb")]
    DynamoDb,
    Sqs,
}

impl Service {
    /// The service name in a SigV4 credential scope.
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::StorageGateway => "storagegateway",
            Self::Sns => "sns",
            Self::DynamoDb => "dynamodb",
            Self::Sqs => "sqs",
        }
    }
}

/// How a call ended, as the call log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// Answered with success.
    Ok,
    /// Answered with an error: the exception (`__type`, SNS `Code`) and, for Storage
    /// Gateway, the `error.errorCode` when the answer carries one.
    Error { exception: String, code: Option<String> },
    /// The connection was closed without an answer; `applied` says whether the call was
    /// carried out first (and `failed` whether it would have answered an error).
    Dropped { applied: bool, failed: bool },
}

impl CallOutcome {
    pub fn error(exception: &str, code: Option<&str>) -> Self {
        Self::Error { exception: exception.to_owned(), code: code.map(str::to_owned) }
    }
}

/// `ok`, `InvalidGatewayRequestException/GatewayNotConnected`, `ThrottlingException`,
/// `dropped`, `dropped-after`, `dropped-after-error`.
impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Error { exception, code: Some(code) } => write!(f, "{exception}/{code}"),
            Self::Error { exception, code: None } => f.write_str(exception),
            Self::Dropped { applied: false, .. } => f.write_str("dropped"),
            Self::Dropped { applied: true, failed: false } => f.write_str("dropped-after"),
            Self::Dropped { applied: true, failed: true } => f.write_str("dropped-after-error"),
        }
    }
}

impl FromStr for CallOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ok" => Self::Ok,
            "dropped" => Self::Dropped { applied: false, failed: false },
            "dropped-after" => Self::Dropped { applied: true, failed: false },
            "dropped-after-error" => Self::Dropped { applied: true, failed: true },
            "" => return Err("an empty outcome".into()),
            other => match other.split_once('/') {
                Some((exception, code)) => Self::error(exception, Some(code)),
                None => Self::error(other, None),
            },
        })
    }
}

impl Serialize for CallOutcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallOutcome {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// One call as the simulator saw it, in arrival order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    pub seq: u64,
    pub at_ms: u64,
    pub service: Service,
    pub operation: String,
    pub params: BTreeMap<String, String>,
    pub status: u16,
    pub outcome: CallOutcome,
    /// Whether the call was carried out (false for injected faults, refusals before the
    /// call reached the world, and drops before it was applied).
    pub applied: bool,
    pub mutating: bool,
    /// The access key id the request was signed with: tells concurrent callers apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

impl CallRecord {
    fn new(service: Service, operation: &str, params: BTreeMap<String, String>, mutating: bool) -> Self {
        Self {
            seq: 0,
            at_ms: crate::now_millis(),
            service,
            operation: operation.to_owned(),
            params,
            status: 200,
            outcome: CallOutcome::Ok,
            applied: false,
            mutating,
            caller: None,
        }
    }

    pub fn ok(&self) -> bool {
        self.outcome == CallOutcome::Ok
    }

    /// The most specific error code of the answer: `error.errorCode` if any, else the exception.
    pub fn error_code(&self) -> Option<&str> {
        match &self.outcome {
            CallOutcome::Error { code: Some(c), .. } => Some(c),
            CallOutcome::Error { exception, code: None } => Some(exception),
            _ => None,
        }
    }

    pub fn dropped(&self) -> bool {
        matches!(self.outcome, CallOutcome::Dropped { .. })
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
    /// DynamoDB's tables, apart from the Storage Gateway and SNS world.
    tables: Mutex<crate::dynamodb::Tables>,
    /// SQS's queues.
    queues: Mutex<crate::sqs::Queues>,
    faults: Mutex<Faults>,
    /// The switches for what AWS's documentation leaves open.
    behaviour: Mutex<Behaviour>,
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
        let queues = crate::sqs::Queues::from_fleet(&fleet);
        let tables = crate::dynamodb::Tables::from_fleet(&fleet);
        let behaviour = fleet.behaviour;
        Ok(Self {
            shared: Arc::new(Shared {
                fleet,
                world: Mutex::new(world),
                tables: Mutex::new(tables),
                queues: Mutex::new(queues),
                faults: Mutex::new(Faults::default()),
                behaviour: Mutex::new(behaviour),
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
        sqs::start_deliveries(self.clone());
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
        let behaviour = self.behaviour();
        self.with_world(|w| state_json(w, &behaviour, crate::now_millis()))
    }

    /// The switches in force for what AWS's documentation leaves open.
    pub fn behaviour(&self) -> Behaviour {
        *lock(&self.shared.behaviour)
    }

    /// Changes how the simulator answers where AWS's documentation is silent; takes effect
    /// at the next call (statuses already computed lazily follow the new values too).
    pub fn set_behaviour(&self, behaviour: Behaviour) -> Result<(), String> {
        behaviour.validate()?;
        *lock(&self.shared.behaviour) = behaviour;
        Ok(())
    }

    /// Sets a volume's `VolumeStatus` (say `IRRECOVERABLE`), ending any transitional status.
    pub fn set_volume_status(&self, volume_id: &str, status: &str) -> Result<(), String> {
        if !(3..=50).contains(&status.len()) {
            return Err(format!("volume status `{status}` must be 3 to 50 characters (the model's VolumeStatus)"));
        }
        self.with_world(|w| match w.volume_by_id_mut(volume_id) {
            Some(v) => {
                v.status = status.to_owned();
                v.pending = None;
                Ok(())
            }
            None => Err(format!("no volume {volume_id}")),
        })
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
                        retrieved_at_ms: None,
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
            .filter(|c| {
                c.operation == operation
                    && c.applied
                    && matches!(c.outcome, CallOutcome::Ok | CallOutcome::Dropped { applied: true, failed: false })
            })
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

    /// Back to the fleet file's world and behaviour, with an empty call log and no faults.
    pub fn reset(&self) -> Result<(), FleetError> {
        let world = World::from_fleet(&self.shared.fleet)?;
        *lock(&self.shared.world) = world;
        *lock(&self.shared.behaviour) = self.shared.fleet.behaviour;
        *lock(&self.shared.tables) = crate::dynamodb::Tables::from_fleet(&self.shared.fleet);
        *lock(&self.shared.queues) = crate::sqs::Queues::from_fleet(&self.shared.fleet);
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

    /// DynamoDB's tables, read or changed directly.
    pub fn with_tables<R>(&self, f: impl FnOnce(&mut crate::dynamodb::Tables) -> R) -> R {
        f(&mut lock(&self.shared.tables))
    }

    /// SQS's queues, read or changed directly.
    pub fn with_queues<R>(&self, f: impl FnOnce(&mut crate::sqs::Queues) -> R) -> R {
        f(&mut lock(&self.shared.queues))
    }

    /// Waits the injected latency and answers the fault to inject, if any, for one call.
    async fn delay_and_decide(&self, op: &str, service: Service) -> Fault {
        let (delay, fault) = lock(&self.shared.faults).decide(op, service == Service::StorageGateway);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        fault
    }

    /// Records a call whose connection is dropped before it is applied, and drops it.
    fn dropped(&self, mut rec: CallRecord) -> Answer {
        rec.status = 0;
        rec.outcome = CallOutcome::Dropped { applied: false, failed: false };
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
        return Ok(control::handle(&sim, &parts.method, path, parts.uri.query(), &body).await);
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if parts.method != Method::POST || path != "/" {
        return Ok(json_answer(404, &json!({"message": format!("nothing at {} {path}", parts.method)})));
    }
    let request = Call {
        target: header("x-amz-target"),
        content_type: header("content-type"),
        auth: header("authorization"),
        body,
    };
    match request.target.as_deref() {
        Some(t) if t.starts_with(storage_gateway::TARGET_PREFIX) => storage_gateway::call(&sim, request).await,
        Some(t) if t.starts_with(dynamodb::TARGET_PREFIX) => dynamodb::call(&sim, request).await,
        Some(t) if t.starts_with(sqs::TARGET_PREFIX) => sqs::call(&sim, request).await,
        Some(_) => storage_gateway::call(&sim, request).await,
        // awsQuery (SNS) is a form; a JSON request without a target is answered in JSON.
        None if request.content_type.as_deref().is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) => {
            sns::call(&sim, request).await
        }
        None => storage_gateway::call(&sim, request).await,
    }
}

/// One request to a simulated service.
pub(crate) struct Call {
    pub target: Option<String>,
    pub content_type: Option<String>,
    pub auth: Option<String>,
    pub body: Bytes,
}

impl Call {
    /// The access key id of the SigV4 `Authorization` header, if any.
    pub fn caller(&self) -> Option<String> {
        let auth = self.auth.as_deref()?.strip_prefix("AWS4-HMAC-SHA256 ")?;
        let scope = auth.split(", ").find_map(|p| p.strip_prefix("Credential="))?;
        scope.split('/').next().map(str::to_owned)
    }
}

/// Checks the SigV4 `Authorization` header names this service and the fleet's region.
/// Signatures themselves are not verified: there is no secret to check them against.
fn check_auth(auth: Option<&str>, service: Service, region: &str) -> Result<(), String> {
    let service = service.signing_name();
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

fn state_json(w: &World, behaviour: &Behaviour, now_ms: u64) -> Value {
    let recovered = |arn: &str| {
        w.tapes
            .values()
            .filter(|t| {
                t.gateway_arn.as_deref() == Some(arn)
                    && t.status_at(now_ms, behaviour.recovered_after_ms) == "RECOVERED"
            })
            .count()
    };
    let gateways: Vec<Value> = w
        .gateways
        .values()
        .map(|g| {
            json!({
                "id": g.id, "arn": g.arn, "name": g.name, "type": g.gateway_type,
                "connected": g.connected, "disabled": g.disabled,
                "network_interfaces": g.network_interfaces,
                "tapes": w.tapes_on(&g.arn),
                "recovered_tapes": recovered(&g.arn),
                "volumes": w.volumes_on(&g.arn),
                "tags": w.tags_of(&g.arn).iter().cloned().collect::<BTreeMap<_, _>>(),
            })
        })
        .collect();
    json!({
        "region": w.region, "account": w.account, "gateways": gateways,
        "behaviour": behaviour,
        "tape_recovery_points": w.tape_recovery_points.len(),
        "tape_recovery_points_retrieved": w.tape_recovery_points.values().filter(|r| r.retrieved_to.is_some()).count(),
        "volumes": w.volumes.values().map(|v| json!({
            "arn": v.arn, "id": v.id, "status": v.status_at(now_ms).0, "target_name": v.target_name,
            "recovery_point_time": v.recovery_point_time, "source_volume_arn": v.source_volume_arn,
            "source_snapshot_id": v.source_snapshot_id,
            "tags": w.tags_of(&v.arn).iter().cloned().collect::<BTreeMap<_, _>>(),
        })).collect::<Vec<_>>(),
        "snapshots": w.snapshots,
        "topics": w.topics.values().collect::<Vec<_>>(),
        "messages": w.messages.len(),
    })
}
