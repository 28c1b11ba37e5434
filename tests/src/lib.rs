//! What every end-to-end test (and the benchmarks) share: a simulator on an ephemeral
//! loopback port, the real AWS SDK clients pointed at it, a ledger table of its own (on the
//! simulator, or on a DynamoDB the project did not write: `LEDGER_ENDPOINT`, e.g. moto's
//! server in CI), the configurations the functions would read, a clock the tests move, and
//! the function binaries run under a local Lambda.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_storagegateway::config::Credentials;
use local_lambda::{FunctionProcess, LocalFunction, Outcome};
use serde_json::Value;
use shared::arn::{GatewayArn, TopicArn};
use shared::aws::{Clients, DynamoLedger, SdkNotifier, SdkStorageGateway};
use shared::config::{DisablePolicy, GuardThresholds, MonitorConfig, RecoverConfig, VolumeRecovery};
use shared::deadline::Budget;
use shared::handoff::GatewayOffline;
use shared::memory::{ManualClock, MemoryQueue};
use shared::model::GatewayKind;
use shared::monitor::{Monitor, MonitorAnswer, MonitorRequest, MonitorSummary};
use shared::ports::SystemClock;
use shared::recover::{Approval, Recovery, RecoveryReport, RecoveryRequest, Source};
use simulator::generate::{FleetShape, PRIMARY, generate};
use simulator::{FaultConfig, FaultSpec, Fleet, Running, Service, Simulator};

pub use local_lambda;
pub use simulator;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
/// A time for tests that move the clock: 2026-11-25T10:00:00Z.
pub const T0: i64 = 1_795_600_800;

/// A DynamoDB endpoint other than the simulator, for the ledger (`LEDGER_ENDPOINT`).
pub fn ledger_endpoint() -> Option<String> {
    std::env::var("LEDGER_ENDPOINT").ok().filter(|v| !v.trim().is_empty())
}

/// A simulator, clients talking to it, and a ledger table of the lab's own.
pub struct Lab {
    pub sim: Running,
    pub sdk: SdkConfig,
    pub clients: Clients,
    pub ledger: DynamoLedger,
    /// Where the ledger lives: the simulator's URL, or `LEDGER_ENDPOINT`.
    pub ledger_url: String,
}

/// SDK configuration for an endpoint, with throwaway credentials.
pub async fn sdk_config(url: &str) -> SdkConfig {
    sdk_config_as(url, "AKIDLOCALSIMULATOR").await
}

/// SDK configuration signing with a given access key id, which the simulator's call log
/// records: concurrent callers told apart.
pub async fn sdk_config_as(url: &str, access_key: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(access_key, "not-a-secret", None, None, "lab"))
        .load()
        .await
}

/// One invocation's own clients (as a separate Lambda instance has), signing with its
/// own access key id.
pub struct Caller {
    pub key: String,
    pub clients: Clients,
    pub ledger: DynamoLedger,
}

/// A table name no other lab uses (moto's server is shared by every test of a run).
fn table_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("ledger-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates the ledger's table as the stack does: `pk` and `sk` strings, on demand.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let attr = |n: &str| {
        AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().expect("attr")
    };
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().expect("key");
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .expect("the ledger table is created");
}

impl Lab {
    pub async fn start(fleet: Fleet) -> Lab {
        let sim = Simulator::new(fleet).expect("valid fleet").start("127.0.0.1:0").await.expect("listen");
        let sdk = sdk_config(&sim.url()).await;
        let clients = Clients::new(&sdk);
        let ledger_url = ledger_endpoint().unwrap_or_else(|| sim.url());
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(&ledger_url).build(),
        );
        let table = table_name();
        create_table(&dynamodb, &table).await;
        Lab { sim, sdk, clients, ledger: DynamoLedger { client: dynamodb, table }, ledger_url }
    }

    /// The fleet shipped in `simulator/fleets/sample.json`.
    pub async fn sample() -> Lab {
        let text = include_str!("../../simulator/fleets/sample.json");
        Lab::start(Fleet::from_json(text).expect("sample fleet")).await
    }

    /// A generated fleet: `tape-primary` (failed, tagged auto-disable) with `tapes` tapes,
    /// an empty standby, and whatever else `shape` asks for.
    pub async fn generated(shape: FleetShape) -> Lab {
        Lab::start(generate(&shape)).await
    }

    /// Clients of their own for one invocation, on the same simulator and ledger table.
    pub async fn caller(&self, key: &str) -> Caller {
        let sdk = sdk_config_as(&self.sim.url(), key).await;
        let clients = Clients::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(&self.ledger_url).build(),
        );
        let ledger = DynamoLedger { client: dynamodb, table: self.ledger.table.clone() };
        Caller { key: key.to_owned(), clients, ledger }
    }

    /// Runs a recovery as `caller`, with request id `request_id`.
    pub async fn recover_as(&self, caller: &Caller, req: RecoveryRequest, request_id: &str) -> RecoveryReport {
        let config = self.recover_config();
        let recovery = Recovery {
            gateway: &caller.clients.gateway,
            notifier: &caller.clients.notifier,
            ledger: &caller.ledger,
            clock: &SystemClock,
            config: &config,
        };
        recovery.run(req, Budget::after(Duration::from_secs(600), Duration::from_secs(30)), request_id).await
    }

    /// Storage Gateway calls that changed something, made by `caller`.
    pub fn mutations_by(&self, caller: &Caller) -> Vec<String> {
        self.sim
            .calls()
            .into_iter()
            .filter(|c| c.mutating && c.service == Service::StorageGateway)
            .filter(|c| c.caller.as_deref() == Some(caller.key.as_str()))
            .map(|c| c.operation)
            .collect()
    }

    pub fn sgw(&self) -> aws_sdk_storagegateway::Client {
        aws_sdk_storagegateway::Client::new(&self.sdk)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }

    pub fn recovery<'a>(
        &'a self,
        config: &'a RecoverConfig,
    ) -> Recovery<'a, SdkStorageGateway, SdkNotifier, DynamoLedger, SystemClock> {
        Recovery {
            gateway: &self.clients.gateway,
            notifier: &self.clients.notifier,
            ledger: &self.ledger,
            clock: &SystemClock,
            config,
        }
    }

    /// Runs a recovery in this process, as one invocation with its own request id.
    pub async fn recover_with(&self, config: &RecoverConfig, req: RecoveryRequest, budget: Duration) -> RecoveryReport {
        static REQUESTS: AtomicU64 = AtomicU64::new(1);
        let id = format!("test-request-{}", REQUESTS.fetch_add(1, Ordering::Relaxed));
        self.recovery(config).run(req, Budget::after(budget, Duration::from_secs(30)), &id).await
    }

    pub async fn recover(&self, req: RecoveryRequest) -> RecoveryReport {
        self.recover_with(&self.recover_config(), req, Duration::from_secs(600)).await
    }

    /// The recovery's configuration for this lab.
    pub fn recover_config(&self) -> RecoverConfig {
        RecoverConfig { ledger_table: self.ledger.table.clone(), ..recover_config() }
    }

    pub fn monitor_config(&self, grace_secs: u64) -> MonitorConfig {
        MonitorConfig { ledger_table: self.ledger.table.clone(), ..monitor_config(grace_secs) }
    }

    /// Runs the monitor in this process with a clock the test moves.
    pub async fn monitor_with<C: shared::ports::Clock>(
        &self,
        config: &MonitorConfig,
        clock: &C,
        queue: Option<&MemoryQueue>,
        request: MonitorRequest,
    ) -> MonitorAnswer {
        let monitor = Monitor {
            gateway: &self.clients.gateway,
            notifier: &self.clients.notifier,
            ledger: &self.ledger,
            queue,
            clock,
            config,
        };
        monitor.run(request, Budget::after(Duration::from_secs(100), Duration::from_secs(10))).await
    }

    /// A scheduled sweep, with a 900-second grace period.
    pub async fn sweep(&self, clock: &ManualClock) -> MonitorSummary {
        summary(self.monitor_with(&self.monitor_config(900), clock, None, MonitorRequest::Sweep).await)
    }

    /// The environment a function binary needs to use this lab's ledger.
    pub fn ledger_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("LEDGER_TABLE_NAME", self.ledger.table.clone())];
        if let Some(url) = ledger_endpoint() {
            env.push(("AWS_ENDPOINT_URL_DYNAMODB", url));
        }
        env
    }

    /// The ledger's items of one partition whose sort key starts with `prefix`.
    pub async fn ledger_items(&self, pk: &str, prefix: &str) -> Vec<shared::ports::Item> {
        shared::ports::Ledger::query(&self.ledger, pk, prefix).await.expect("the ledger answers")
    }

    /// Storage Gateway calls that changed something.
    pub fn mutations(&self) -> Vec<String> {
        self.sim
            .calls()
            .into_iter()
            .filter(|c| c.mutating && c.service == Service::StorageGateway)
            .map(|c| c.operation)
            .collect()
    }

    /// Applied calls of one operation.
    pub fn count(&self, op: &str) -> usize {
        self.sim.applied(op).len()
    }

    /// Barcodes on a gateway, with each one's status.
    pub fn tapes_on(&self, id: &str) -> Vec<(String, String)> {
        let arn = gateway(id).to_string();
        self.sim.with_world(|w| {
            w.tapes
                .values()
                .filter(|t| t.gateway_arn.as_deref() == Some(arn.as_str()))
                .map(|t| (t.barcode.clone(), t.status.clone()))
                .collect()
        })
    }

    /// Messages published to a topic, newest last.
    pub fn published(&self, topic_name: &str) -> Vec<simulator::world::Message> {
        let suffix = format!(":{topic_name}");
        self.sim.messages().into_iter().filter(|m| m.topic_arn.ends_with(&suffix)).collect()
    }

    /// Hand-offs published so far, as JSON.
    pub fn hand_offs(&self) -> Vec<Value> {
        self.published("gateway-recovery")
            .into_iter()
            .filter_map(|m| serde_json::from_str::<Value>(&m.message).ok())
            .filter(|v| v["type"] == "GatewayOffline")
            .collect()
    }
}

/// The summary of a monitor answer (panics on the readiness report: tests know which).
pub fn summary(a: MonitorAnswer) -> MonitorSummary {
    match a {
        MonitorAnswer::Summary(s) => *s,
        other => panic!("expected a summary, got {other:?}"),
    }
}

pub fn gateway(id: &str) -> GatewayArn {
    GatewayArn::from_id("test", "aws", REGION, ACCOUNT, id).expect("gateway id")
}

pub fn gateway_arn(id: &str) -> String {
    gateway(id).to_string()
}

pub fn tape_arn(barcode: &str) -> String {
    format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:tape/{barcode}")
}

pub fn topic(name: &str) -> TopicArn {
    TopicArn::parse("test", &topic_arn(name)).expect("topic")
}

pub fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}")
}

/// The recovery's configuration as the template sets it, with a 1-second heartbeat.
pub fn recover_config() -> RecoverConfig {
    RecoverConfig {
        report_topic: topic("gateway-reports"),
        recovery_topic: Some(topic("gateway-recovery")),
        ledger_table: "ledger".into(),
        standby: None,
        volume_standby: None,
        disable_policy: DisablePolicy::Tagged,
        volume_recovery: VolumeRecovery::Clone,
        max_concurrency: 64,
        max_auto_disables_per_hour: 5,
        time_budget: Duration::from_secs(840),
        deadline_margin: Duration::from_secs(60),
        max_slices: 20,
        lease_heartbeat: Duration::from_secs(1),
        verify_wait: Duration::from_secs(10),
        reconfirm_after: Duration::from_secs(30),
    }
}

pub fn monitor_config(grace_secs: u64) -> MonitorConfig {
    MonitorConfig {
        gateway_arns: None,
        grace: Duration::from_secs(grace_secs),
        recovery_topic: topic("gateway-recovery"),
        report_topic: topic("gateway-reports"),
        ledger_table: "ledger".into(),
        reprobe_queue: None,
        max_concurrency: 64,
        guard: GuardThresholds::default(),
        disable_policy: DisablePolicy::Tagged,
        standby: None,
        volume_standby: None,
    }
}

/// A direct invocation for a gateway.
pub fn direct(failed: &str) -> RecoveryRequest {
    RecoveryRequest {
        failed: gateway(failed),
        standby: None,
        dry_run: false,
        approval: Approval::default(),
        source: Source::Direct,
    }
}

/// The hand-off `gateway-monitor` publishes for `tape-primary`'s outage at 10:00.
pub fn hand_off() -> GatewayOffline {
    GatewayOffline::new(
        &gateway(PRIMARY),
        "tape-primary",
        GatewayKind::Tape,
        "2026-11-25T10:00:00Z",
        "2026-11-25T10:15:00Z",
    )
}

pub fn hand_off_request() -> RecoveryRequest {
    RecoveryRequest { source: Source::Handoff(hand_off()), ..direct(PRIMARY) }
}

/// Simulated latency on every Storage Gateway call.
pub fn latency(ms: u64) -> FaultConfig {
    FaultConfig { global: FaultSpec { latency_ms: ms, ..Default::default() }, ..Default::default() }
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

/// Both function binaries (and the drill), built once per test run with the cargo running
/// the tests.
pub fn binaries() -> &'static Binaries {
    static BUILT: OnceLock<Binaries> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        match local_lambda::build::build(&cargo, &["gateway-monitor", "recover-gateway", "drill"], false) {
            Ok(mut b) => Binaries {
                monitor: b.remove("gateway-monitor").expect("built"),
                recover: b.remove("recover-gateway").expect("built"),
                drill: b.remove("drill").expect("built"),
            },
            Err(e) => panic!("building the function binaries failed: {e}"),
        }
    })
}

pub struct Binaries {
    pub monitor: PathBuf,
    pub recover: PathBuf,
    pub drill: PathBuf,
}

/// The functions' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Monitor,
    Recover,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Monitor => "gateway-monitor",
            Function::Recover => "recover-gateway",
        }
    }

    /// Its binary, built once per test run (see [`binaries`]).
    pub fn binary(self) -> &'static Path {
        let b = binaries();
        match self {
            Function::Monitor => &b.monitor,
            Function::Recover => &b.recover,
        }
    }
}

/// The environment each function runs with in these tests (the template's, with a
/// 1-second lease heartbeat), plus the lab's ledger.
pub fn function_env(lab: &Lab, f: Function) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("REPORT_TOPIC_ARN", topic_arn("gateway-reports")),
        ("RECOVERY_TOPIC_ARN", topic_arn("gateway-recovery")),
        ("RUST_LOG", "warn".into()),
    ];
    match f {
        Function::Recover => env.push(("LEASE_HEARTBEAT_SECONDS", "1".into())),
        Function::Monitor => env.push(("OFFLINE_GRACE_SECONDS", "900".into())),
    }
    env.extend(lab.ledger_env());
    env
}

/// A function binary running against the lab's simulator, as Lambda runs it.
pub struct FunctionUnderTest {
    pub function: LocalFunction,
    pub process: FunctionProcess,
}

/// Starts a function binary with `env` (see [`function_env`]).
pub async fn start(lab: &Lab, f: Function, env: &[(&str, String)]) -> FunctionUnderTest {
    let binary = f.binary();
    let function =
        LocalFunction::start(f.name(), REGION, ACCOUNT, Duration::from_secs(900)).await.expect("local lambda");
    let process = FunctionProcess::spawn(binary, &function, &lab.sim.url(), REGION, env, None).expect("spawn");
    FunctionUnderTest { function, process }
}

/// Runs a function once as Lambda runs it and answers its answer and its stdout (the
/// JSON logs and the metrics).
pub async fn run_logged(lab: &Lab, f: Function, event: &Value) -> (Value, String) {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("{}-e2e-{}-{n}.log", f.name(), std::process::id()));
    let log = std::fs::File::create(&path).expect("a log file");
    let binary = f.binary();
    let function =
        LocalFunction::start(f.name(), REGION, ACCOUNT, Duration::from_secs(900)).await.expect("local lambda");
    let env = function_env(lab, f);
    let mut process =
        FunctionProcess::spawn(binary, &function, &lab.sim.url(), REGION, &env, Some(log)).expect("spawn");
    let answer = function.invoke(event.to_string(), Duration::from_secs(300)).await.expect("an answer").json();
    process.kill().await;
    let stdout = std::fs::read_to_string(&path).expect("the log");
    let _ = std::fs::remove_file(&path);
    (answer, stdout)
}

/// The values of the last EMF line a function printed.
pub fn emf_metrics(stdout: &str, function: &str) -> Value {
    stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("_aws").is_some() && v["Function"] == function)
        .unwrap_or_else(|| panic!("no metrics from {function} in {stdout}"))
}

/// Invokes a running function and waits for its answer.
pub async fn invoke(f: &FunctionUnderTest, event: &Value) -> Outcome {
    f.function.invoke(event.to_string(), Duration::from_secs(300)).await.expect("the function answered")
}

/// A fleet with the primary and its standby, at a given size.
pub fn tapes(n: usize) -> FleetShape {
    FleetShape { tapes: n, ..Default::default() }
}

/// The id of the primary tape gateway of generated fleets.
pub const FAILED: &str = PRIMARY;
