//! Support for the end-to-end tests: a simulator on an ephemeral loopback port and the
//! real AWS SDK clients pointed at it, plus the configurations the functions would read.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_storagegateway::config::Credentials;
use shared::arn::{GatewayArn, TopicArn};
use shared::aws::sdk::Clients;
use shared::config::{DisablePolicy, MonitorConfig, RecoverConfig};
use simulator::generate::{FleetShape, generate};
use simulator::{Fleet, Running, Simulator};

pub use local_lambda;
pub use simulator;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// A simulator and clients talking to it.
pub struct Lab {
    pub sim: Running,
    pub sdk: SdkConfig,
    pub clients: Clients,
}

/// SDK configuration for the simulator at `url`, with throwaway credentials.
pub async fn sdk_config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("AKIDLOCALSIMULATOR", "not-a-secret", None, None, "lab"))
        .load()
        .await
}

impl Lab {
    pub async fn start(fleet: Fleet) -> Lab {
        let sim = Simulator::new(fleet).expect("valid fleet").start("127.0.0.1:0").await.expect("listen");
        let sdk = sdk_config(&sim.url()).await;
        let clients = Clients::new(&sdk);
        Lab { sim, sdk, clients }
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

    pub fn sgw(&self) -> aws_sdk_storagegateway::Client {
        aws_sdk_storagegateway::Client::new(&self.sdk)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
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
    TopicArn::parse("test", &format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}")).expect("topic")
}

pub fn recover_config() -> RecoverConfig {
    RecoverConfig {
        report_topic: topic("gateway-reports"),
        recovery_topic: Some(topic("gateway-recovery")),
        standby: None,
        disable_policy: DisablePolicy::Tagged,
        max_concurrency: 32,
        time_budget: Duration::from_secs(840),
        deadline_margin: Duration::from_secs(60),
        max_slices: 20,
        lease_heartbeat: Duration::from_secs(1),
        reconfirm_after: Duration::from_secs(30),
    }
}

pub fn monitor_config(grace_secs: u64) -> MonitorConfig {
    MonitorConfig {
        gateway_arns: None,
        grace: Duration::from_secs(grace_secs),
        recovery_topic: topic("gateway-recovery"),
        report_topic: topic("gateway-reports"),
        max_concurrency: 32,
    }
}
