//! The simulator's Storage Gateway and SNS, as the real AWS SDK clients see them: every
//! behaviour switch alone and all together, the cached volume operations and each of their
//! refusals, validation before any state, serialization errors, AWS's validation wording,
//! and answers that hold only members of the model's output shapes.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_storagegateway::Client;
use aws_sdk_storagegateway::config::Credentials;
use aws_sdk_storagegateway::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_storagegateway::types::{ErrorCode, Tag};
use serde_json::{Value, json};
use simulator::behaviour::Behaviour;
use simulator::fleet::{Fleet, GatewaySpec};
use simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUME_STANDBY, VOLUMES, generate};
use simulator::{FaultConfig, FaultSpec, Running, Simulator};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const GIB: i64 = 1024 * 1024 * 1024;
const SOURCE_BYTES: i64 = 536_870_912_000;
/// `volume-standby`'s network interface: the fourth gateway of a generated fleet.
const STANDBY_IP: &str = "10.0.0.13";

struct Lab {
    sim: Running,
    sdk: SdkConfig,
}

impl Lab {
    async fn start(fleet: Fleet) -> Lab {
        let sim = Simulator::new(fleet).unwrap().start("127.0.0.1:0").await.unwrap();
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(sim.url())
            .credentials_provider(Credentials::new("AKIDLOCALSIMULATOR", "not-a-secret", None, None, "test"))
            .load()
            .await;
        Lab { sim, sdk }
    }

    async fn with(shape: FleetShape, behaviour: Behaviour) -> Lab {
        let lab = Lab::start(generate(&shape)).await;
        lab.sim.set_behaviour(behaviour).unwrap();
        lab
    }

    /// Tapes on `tape-primary` (offline) and an empty `tape-standby`.
    async fn tapes(n: usize, behaviour: Behaviour) -> Lab {
        Lab::with(FleetShape { tapes: n, ..Default::default() }, behaviour).await
    }

    /// `volume-cache` (offline) with `n` volumes, and `volume-standby`.
    async fn volumes(n: usize, behaviour: Behaviour) -> Lab {
        Lab::with(FleetShape { tapes: 0, volumes: n, ..Default::default() }, behaviour).await
    }

    /// A client that does not retry, so every answer is seen as sent.
    fn sgw(&self) -> Client {
        Client::from_conf(
            aws_sdk_storagegateway::config::Builder::from(&self.sdk)
                .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
                .build(),
        )
    }

    fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }

    /// A signed Storage Gateway request with any body, for what the SDK would never send.
    async fn raw(&self, op: &str, body: Value) -> (u16, Value) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20261125/{REGION}/storagegateway/aws4_request, SignedHeaders=host, Signature=00"
        );
        let target = format!("StorageGateway_20130630.{op}");
        let headers = [
            ("x-amz-target", target.as_str()),
            ("content-type", "application/x-amz-json-1.1"),
            ("authorization", auth.as_str()),
        ];
        let (status, bytes) = simulator::http::post_json(&self.sim.url(), body.to_string(), &headers).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

fn gw(id: &str) -> String {
    format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:gateway/{id}")
}

fn tape(barcode: &str) -> String {
    format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:tape/{barcode}")
}

fn volume(gateway_id: &str, volume_id: &str) -> String {
    format!("{}/volume/{volume_id}", gw(gateway_id))
}

/// The first volume of `volume-cache`.
fn source_volume() -> String {
    volume(VOLUMES, "vol-20000000")
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

/// The Storage Gateway `errorCode` of a failed call, from the typed exception.
fn code<E: std::error::Error + 'static, R>(e: &SdkError<E, R>) -> Option<ErrorCode> {
    use aws_sdk_storagegateway::types::error::{InternalServerError, InvalidGatewayRequestException};
    let inner = std::error::Error::source(e.as_service_error()?)?;
    if let Some(x) = inner.downcast_ref::<InvalidGatewayRequestException>() {
        return x.error()?.error_code().cloned();
    }
    inner.downcast_ref::<InternalServerError>()?.error()?.error_code().cloned()
}

fn message<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.as_service_error().and_then(|s| s.message()).unwrap_or_default().to_owned()
}

fn only(b: impl FnOnce(&mut Behaviour)) -> Behaviour {
    let mut behaviour = Behaviour::default();
    b(&mut behaviour);
    behaviour
}

async fn recovery_points(lab: &Lab, gateway_id: &str) -> Vec<(String, i64)> {
    let pages: Vec<_> = lab
        .sgw()
        .describe_tape_recovery_points()
        .gateway_arn(gw(gateway_id))
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    pages
        .iter()
        .flat_map(|p| p.tape_recovery_point_infos())
        .map(|i| (i.tape_arn().unwrap().to_owned(), i.tape_recovery_point_time().unwrap().secs()))
        .collect()
}

async fn disable(lab: &Lab, gateway_id: &str) {
    lab.sgw().disable_gateway().gateway_arn(gw(gateway_id)).send().await.unwrap();
}

async fn retrieve(lab: &Lab, barcode: &str) -> Result<(), Option<ErrorCode>> {
    let r = lab.sgw().retrieve_tape_recovery_point().tape_arn(tape(barcode)).gateway_arn(gw(STANDBY)).send().await;
    r.map(|_| ()).map_err(|e| code(&e))
}

async fn tape_statuses(lab: &Lab, gateway_id: &str) -> Vec<String> {
    let out = lab.sgw().describe_tapes().gateway_arn(gw(gateway_id)).send().await.unwrap();
    out.tapes().iter().map(|t| t.tape_status().unwrap().to_owned()).collect()
}

// ---- The behaviour matrix: each switch alone. ----

#[tokio::test]
async fn recovery_points_after_disable_hides_them_until_the_gateway_is_disabled() {
    let lab = Lab::tapes(5, Behaviour::default()).await;
    assert_eq!(recovery_points(&lab, PRIMARY).await.len(), 5, "default: listed before DisableGateway");
    let lab = Lab::tapes(5, only(|b| b.recovery_points_after_disable = true)).await;
    assert!(recovery_points(&lab, PRIMARY).await.is_empty());
    disable(&lab, PRIMARY).await;
    assert_eq!(recovery_points(&lab, PRIMARY).await.len(), 5);
}

#[tokio::test]
async fn disabled_gateway_answers_describe_as_running_while_listed_disabled() {
    for answers in [false, true] {
        let lab = Lab::tapes(1, only(|b| b.disabled_gateway_answers = answers)).await;
        disable(&lab, PRIMARY).await;
        let described = lab.sgw().describe_gateway_information().gateway_arn(gw(PRIMARY)).send().await;
        if answers {
            assert_eq!(described.unwrap().gateway_state(), Some("RUNNING"));
        } else {
            assert_eq!(code(&described.unwrap_err()), Some(ErrorCode::GatewayNotConnected));
        }
        let listed = lab.sgw().list_gateways().send().await.unwrap();
        let primary = listed.gateways().iter().find(|g| g.gateway_id() == Some(PRIMARY)).unwrap();
        assert_eq!(primary.gateway_operational_state(), Some("DISABLED"));
    }
}

#[tokio::test]
async fn not_connected_in_message_only_drops_the_error_member() {
    let lab = Lab::tapes(1, only(|b| b.not_connected_in_message_only = true)).await;
    let e = lab.sgw().describe_gateway_information().gateway_arn(gw(PRIMARY)).send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_gateway_request_exception());
    assert_eq!(code(&e), None);
    assert_eq!(message(&e), "The specified gateway is not connected.");
    let (status, body) = lab.raw("DescribeGatewayInformation", json!({"GatewayARN": gw(PRIMARY)})).await;
    assert_eq!(status, 400);
    assert!(body.get("error").is_none(), "{body}");
    // Other codes keep their error member.
    let e = lab.sgw().describe_gateway_information().gateway_arn(gw("sgw-FFFFFFFF")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotFound));
}

fn always_failing(op: &str) -> FaultConfig {
    let mut faults = FaultConfig { seed: Some(1), ..Default::default() };
    faults.operations.insert(op.into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    faults
}

#[tokio::test]
async fn internal_error_400_answers_injected_faults_with_400_which_the_sdk_does_not_retry() {
    for as_400 in [false, true] {
        let lab = Lab::tapes(1, only(|b| b.internal_error_400 = as_400)).await;
        lab.sim.set_faults(always_failing("ListGateways")).unwrap();
        let retrying = Client::from_conf(
            aws_sdk_storagegateway::config::Builder::from(&lab.sdk)
                .retry_config(
                    aws_smithy_types::retry::RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(1)),
                )
                .build(),
        );
        let e = retrying.list_gateways().send().await.unwrap_err();
        assert!(e.as_service_error().unwrap().is_internal_server_error());
        assert_eq!(e.raw_response().unwrap().status().as_u16(), if as_400 { 400 } else { 500 });
        let calls = lab.sim.calls().iter().filter(|c| c.operation == "ListGateways").count();
        assert_eq!(calls, if as_400 { 1 } else { 3 }, "as_400={as_400}");
    }
}

#[tokio::test]
async fn offset_markers_are_decimal_offsets() {
    let lab = Lab::tapes(25, only(|b| b.offset_markers = true)).await;
    let sgw = lab.sgw();
    let first = sgw.list_tapes().limit(10).send().await.unwrap();
    assert_eq!(first.marker(), Some("10"));
    let second = sgw.list_tapes().limit(10).marker("10").send().await.unwrap();
    assert_eq!(second.marker(), Some("20"));
    assert_eq!(second.tape_infos()[0].tape_barcode(), Some("PRI000010"));
    let last = sgw.list_tapes().limit(10).marker("20").send().await.unwrap();
    assert_eq!((last.tape_infos().len(), last.marker()), (5, None));
    let e = sgw.list_tapes().marker("abc").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
    // The default marker is opaque, not an offset.
    let lab = Lab::tapes(25, Behaviour::default()).await;
    let first = lab.sgw().list_tapes().limit(10).send().await.unwrap();
    assert_ne!(first.marker(), Some("10"));
    assert_eq!(
        code(&lab.sgw().list_tapes().marker("abc").send().await.unwrap_err()),
        Some(ErrorCode::InvalidParameters)
    );
}

#[tokio::test]
async fn recovery_points_vanish_once_their_tape_is_retrieved() {
    let lab = Lab::tapes(3, only(|b| b.recovery_points_vanish = true)).await;
    disable(&lab, PRIMARY).await;
    retrieve(&lab, "PRI000001").await.unwrap();
    let left: Vec<String> = recovery_points(&lab, PRIMARY).await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(left, vec![tape("PRI000000"), tape("PRI000002")]);
    assert_eq!(retrieve(&lab, "PRI000001").await, Err(Some(ErrorCode::TapeCartridgeNotFound)));
    // The default keeps them listed, and a second retrieval is InvalidParameters.
    let lab = Lab::tapes(3, Behaviour::default()).await;
    disable(&lab, PRIMARY).await;
    retrieve(&lab, "PRI000001").await.unwrap();
    assert_eq!(recovery_points(&lab, PRIMARY).await.len(), 3);
    assert_eq!(retrieve(&lab, "PRI000001").await, Err(Some(ErrorCode::InvalidParameters)));
}

#[tokio::test]
async fn vanishing_recovery_points_read_with_offset_markers_shift_the_listing() {
    let lab = Lab::tapes(30, only(|b| (b.recovery_points_vanish, b.offset_markers) = (true, true))).await;
    disable(&lab, PRIMARY).await;
    let sgw = lab.sgw();
    let (mut seen, mut marker) = (Vec::new(), None::<String>);
    loop {
        let page = sgw
            .describe_tape_recovery_points()
            .gateway_arn(gw(PRIMARY))
            .limit(10)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        for info in page.tape_recovery_point_infos() {
            let barcode = info.tape_arn().unwrap().rsplit('/').next().unwrap().to_owned();
            retrieve(&lab, &barcode).await.unwrap();
            seen.push(barcode);
        }
        match page.marker() {
            Some(m) => marker = Some(m.to_owned()),
            None => break,
        }
    }
    assert!(seen.len() < 30, "retrieving while listing by offset skips tapes: {}", seen.len());
    assert!(!recovery_points(&lab, PRIMARY).await.is_empty(), "those skipped are still waiting");
}

#[tokio::test]
async fn recovery_points_per_tape_lists_several_and_retrieval_takes_the_latest_once() {
    let lab = Lab::tapes(2, only(|b| b.recovery_points_per_tape = 3)).await;
    let points = recovery_points(&lab, PRIMARY).await;
    assert_eq!(points.len(), 6);
    let latest = points[0].1;
    let first: Vec<&(String, i64)> = points.iter().filter(|(t, _)| *t == tape("PRI000000")).collect();
    assert_eq!(first.len(), 3);
    assert_eq!(first.iter().map(|(_, s)| latest - s).collect::<Vec<_>>(), vec![0, 3600, 7200]);
    disable(&lab, PRIMARY).await;
    retrieve(&lab, "PRI000000").await.unwrap();
    assert_eq!(retrieve(&lab, "PRI000000").await, Err(Some(ErrorCode::InvalidParameters)));
    assert_eq!(tape_statuses(&lab, STANDBY).await, vec!["RECOVERED"]);
    assert_eq!(recovery_points(&lab, PRIMARY).await.len(), 6, "all still listed by default");
}

#[tokio::test]
async fn recovered_after_ms_shows_retrieving_first() {
    let lab = Lab::tapes(1, only(|b| b.recovered_after_ms = 400)).await;
    disable(&lab, PRIMARY).await;
    retrieve(&lab, "PRI000000").await.unwrap();
    assert_eq!(tape_statuses(&lab, STANDBY).await, vec!["RETRIEVING"]);
    let listed = lab.sgw().list_tapes().send().await.unwrap();
    assert_eq!(listed.tape_infos()[0].tape_status(), Some("RETRIEVING"));
    assert_eq!(retrieve(&lab, "PRI000000").await, Err(Some(ErrorCode::InvalidParameters)), "already retrieving");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(tape_statuses(&lab, STANDBY).await, vec!["RECOVERED"]);
    let lab = Lab::tapes(1, Behaviour::default()).await;
    disable(&lab, PRIMARY).await;
    retrieve(&lab, "PRI000000").await.unwrap();
    assert_eq!(tape_statuses(&lab, STANDBY).await, vec!["RECOVERED"], "default: at once");
}

#[tokio::test]
async fn tag_writes_need_connection_refuses_them_on_offline_gateways_and_their_volumes() {
    let lab = Lab::volumes(1, only(|b| b.tag_writes_need_connection = true)).await;
    let sgw = lab.sgw();
    for arn in [gw(PRIMARY), gw(VOLUMES), source_volume()] {
        let e = sgw.add_tags_to_resource().resource_arn(&arn).tags(tag("k", "v")).send().await.unwrap_err();
        assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected), "{arn}");
        let e = sgw.remove_tags_from_resource().resource_arn(&arn).tag_keys("k").send().await.unwrap_err();
        assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected), "{arn}");
        sgw.list_tags_for_resource().resource_arn(&arn).send().await.expect("reading tags still works");
    }
    sgw.add_tags_to_resource().resource_arn(gw(STANDBY)).tags(tag("k", "v")).send().await.unwrap();
    disable(&lab, STANDBY).await;
    let e = sgw.add_tags_to_resource().resource_arn(gw(STANDBY)).tags(tag("k", "v")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected), "a disabled gateway is cut off");
    let lab = Lab::volumes(1, Behaviour::default()).await;
    lab.sgw().add_tags_to_resource().resource_arn(source_volume()).tags(tag("k", "v")).send().await.unwrap();
    lab.sgw().add_tags_to_resource().resource_arn(gw(PRIMARY)).tags(tag("k", "v")).send().await.unwrap();
}

#[tokio::test]
async fn volume_calls_need_connection_refuses_volume_reads_of_an_offline_gateway() {
    for needs in [false, true] {
        let lab = Lab::volumes(1, only(|b| b.volume_calls_need_connection = needs)).await;
        let sgw = lab.sgw();
        let listed = sgw.list_volume_recovery_points().gateway_arn(gw(VOLUMES)).send().await;
        let snap = sgw
            .create_snapshot_from_volume_recovery_point()
            .volume_arn(source_volume())
            .snapshot_description("x")
            .send()
            .await;
        let described = sgw.describe_cachedi_scsi_volumes().volume_arns(source_volume()).send().await;
        if needs {
            assert_eq!(code(&listed.unwrap_err()), Some(ErrorCode::GatewayNotConnected));
            assert_eq!(code(&snap.unwrap_err()), Some(ErrorCode::GatewayNotConnected));
            assert_eq!(code(&described.unwrap_err()), Some(ErrorCode::GatewayNotConnected));
        } else {
            assert_eq!(listed.unwrap().volume_recovery_point_infos().len(), 1);
            assert!(snap.unwrap().snapshot_id().is_some());
            assert_eq!(described.unwrap().cachedi_scsi_volumes().len(), 1);
        }
        // Cloning from an offline gateway's recovery point is the point of it: always allowed.
        create(&lab, "clone-0", "token-0").send().await.unwrap();
    }
}

#[tokio::test]
async fn disable_needs_disconnected_refuses_a_connected_gateway() {
    let lab = Lab::tapes(1, only(|b| b.disable_needs_disconnected = true)).await;
    let e = lab.sgw().disable_gateway().gateway_arn(gw(STANDBY)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidGateway));
    assert!(message(&e).contains("is connected"), "{}", message(&e));
    disable(&lab, PRIMARY).await;
    let lab = Lab::tapes(1, Behaviour::default()).await;
    disable(&lab, STANDBY).await;
}

#[tokio::test]
async fn volume_available_after_ms_shows_creating_or_bootstrapping_first() {
    let lab = Lab::volumes(1, only(|b| b.volume_available_after_ms = 400)).await;
    let empty = create_empty(&lab, "empty", "token-empty").send().await.unwrap();
    let clone = create(&lab, "clone", "token-clone").send().await.unwrap();
    let status = |arn: &str| {
        let (sgw, arn) = (lab.sgw(), arn.to_owned());
        async move {
            let out = sgw.describe_cachedi_scsi_volumes().volume_arns(arn).send().await.unwrap();
            let v = &out.cachedi_scsi_volumes()[0];
            (v.volume_status().unwrap().to_owned(), v.volume_progress())
        }
    };
    assert_eq!(status(empty.volume_arn().unwrap()).await, ("CREATING".to_owned(), None));
    let (s, progress) = status(clone.volume_arn().unwrap()).await;
    assert_eq!(s, "BOOTSTRAPPING");
    assert!(progress.is_some_and(|p| (0.0..100.0).contains(&p)), "{progress:?}");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(status(empty.volume_arn().unwrap()).await, ("AVAILABLE".to_owned(), None));
    assert_eq!(status(clone.volume_arn().unwrap()).await, ("AVAILABLE".to_owned(), None));
}

// ---- Every switch at once. ----

#[tokio::test]
async fn a_tape_recovery_under_every_switch() {
    let lab = Lab::tapes(12, Behaviour::all()).await;
    let sgw = lab.sgw();
    assert!(recovery_points(&lab, PRIMARY).await.is_empty(), "nothing before DisableGateway");
    let e = sgw.disable_gateway().gateway_arn(gw(STANDBY)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidGateway), "the healthy standby cannot be disabled");
    let e = sgw.describe_gateway_information().gateway_arn(gw(PRIMARY)).send().await.unwrap_err();
    assert_eq!((code(&e), message(&e).as_str()), (None, "The specified gateway is not connected."));
    disable(&lab, PRIMARY).await;
    let described = sgw.describe_gateway_information().gateway_arn(gw(PRIMARY)).send().await.unwrap();
    assert_eq!(described.gateway_state(), Some("RUNNING"), "a disabled gateway answers");
    let points = recovery_points(&lab, PRIMARY).await;
    assert_eq!(points.len(), 36, "three per tape");
    for i in 0..12 {
        retrieve(&lab, &format!("PRI{i:06}")).await.unwrap();
    }
    assert!(recovery_points(&lab, PRIMARY).await.is_empty(), "retrieved recovery points vanish");
    assert!(tape_statuses(&lab, STANDBY).await.iter().all(|s| s == "RETRIEVING"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(tape_statuses(&lab, STANDBY).await.iter().all(|s| s == "RECOVERED"));
    let e = sgw.add_tags_to_resource().resource_arn(gw(PRIMARY)).tags(tag("k", "v")).send().await.unwrap_err();
    assert_eq!(message(&e), "The specified gateway is not connected.");
    let first = sgw.list_tapes().limit(5).send().await.unwrap();
    assert_eq!(first.marker(), Some("5"));
    lab.sim.set_faults(always_failing("ListTapes")).unwrap();
    let e = sgw.list_tapes().send().await.unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
}

#[tokio::test]
async fn a_volume_clone_under_every_switch() {
    let lab = Lab::volumes(2, Behaviour::all()).await;
    let e = lab.sgw().list_volume_recovery_points().gateway_arn(gw(VOLUMES)).send().await.unwrap_err();
    assert_eq!(message(&e), "The specified gateway is not connected.");
    let made = create(&lab, "clone-a", "token-a").send().await.unwrap();
    let again = create(&lab, "clone-a", "token-a").send().await.unwrap();
    assert_eq!(made.volume_arn(), again.volume_arn());
    let out = lab.sgw().describe_cachedi_scsi_volumes().volume_arns(made.volume_arn().unwrap()).send().await.unwrap();
    assert_eq!(out.cachedi_scsi_volumes()[0].volume_status(), Some("BOOTSTRAPPING"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = lab.sgw().describe_cachedi_scsi_volumes().volume_arns(made.volume_arn().unwrap()).send().await.unwrap();
    assert_eq!(out.cachedi_scsi_volumes()[0].volume_status(), Some("AVAILABLE"));
    lab.sgw().add_tags_to_resource().resource_arn(made.volume_arn().unwrap()).tags(tag("k", "v")).send().await.unwrap();
}

// ---- Setting the behaviour. ----

#[tokio::test]
async fn behaviour_comes_from_the_fleet_file_the_control_api_and_rust() {
    let mut fleet = generate(&FleetShape { tapes: 2, ..Default::default() });
    let text = serde_json::to_string(&fleet).unwrap().replacen('{', r#"{"behaviour": {"offset_markers": true},"#, 1);
    fleet = Fleet::from_json(&text).unwrap();
    assert!(fleet.behaviour.offset_markers);
    let bad = serde_json::to_string(&fleet).unwrap().replace("offset_markers", "offset_marker");
    assert!(Fleet::from_json(&bad).unwrap_err().to_string().contains("offset_marker"));
    let lab = Lab::start(fleet).await;
    assert!(lab.sim.behaviour().offset_markers);
    let url = format!("{}/_sim/behaviour", lab.sim.url());
    let (status, body) = simulator::http::post_json(&url, json!("all").to_string(), &[]).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(lab.sim.behaviour(), Behaviour::all());
    let (status, _) =
        simulator::http::post_json(&url, json!({"recovery_points_per_tape": 2}).to_string(), &[]).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(lab.sim.behaviour(), Behaviour { recovery_points_per_tape: 2, ..Behaviour::default() });
    for bad in [json!("no-such-switch"), json!({"no_such_switch": true}), json!({"recovery_points_per_tape": 0})] {
        let (status, body) = simulator::http::post_json(&url, bad.to_string(), &[]).await.unwrap();
        assert_eq!(status, 400, "{bad}: {}", String::from_utf8_lossy(&body));
    }
    lab.sim.set_behaviour(Behaviour::from_names("recovery-points-vanish").unwrap()).unwrap();
    assert!(lab.sim.behaviour().recovery_points_vanish);
    assert!(lab.sim.set_behaviour(Behaviour { recovery_points_per_tape: 0, ..Behaviour::default() }).is_err());
    assert_eq!(lab.sim.state()["behaviour"]["recovery_points_vanish"], json!(true));
    lab.sim.reset().unwrap();
    assert_eq!(lab.sim.behaviour(), Behaviour { offset_markers: true, ..Behaviour::default() }, "back to the fleet's");
}

// ---- CreateCachediSCSIVolume and the cached volume operations. ----

/// A clone of `volume-cache`'s first volume on `volume-standby`.
fn create(
    lab: &Lab,
    target: &str,
    token: &str,
) -> aws_sdk_storagegateway::operation::create_cachedi_scsi_volume::builders::CreateCachediSCSIVolumeFluentBuilder {
    create_empty(lab, target, token).source_volume_arn(source_volume())
}

fn create_empty(
    lab: &Lab,
    target: &str,
    token: &str,
) -> aws_sdk_storagegateway::operation::create_cachedi_scsi_volume::builders::CreateCachediSCSIVolumeFluentBuilder {
    lab.sgw()
        .create_cachedi_scsi_volume()
        .gateway_arn(gw(VOLUME_STANDBY))
        .volume_size_in_bytes(SOURCE_BYTES)
        .target_name(target)
        .network_interface_id(STANDBY_IP)
        .client_token(token)
}

#[tokio::test]
async fn a_clone_of_a_recovery_point_is_a_new_cached_volume() {
    let lab = Lab::volumes(2, Behaviour::default()).await;
    let sgw = lab.sgw();
    let info = sgw.describe_gateway_information().gateway_arn(gw(VOLUME_STANDBY)).send().await.unwrap();
    let ip = info.gateway_network_interfaces()[0].ipv4_address().unwrap().to_owned();
    assert_eq!(ip, STANDBY_IP);
    let made = create(&lab, "restored-1", "token-1").tags(tag("app", "backup")).send().await.unwrap();
    let arn = made.volume_arn().unwrap();
    assert_eq!(arn, volume(VOLUME_STANDBY, "vol-50000000"));
    let target = format!("{}/target/iqn.1997-05.com.amazon:restored-1", gw(VOLUME_STANDBY));
    assert_eq!(made.target_arn(), Some(target.as_str()));
    let out = sgw.describe_cachedi_scsi_volumes().volume_arns(arn).send().await.unwrap();
    let v = &out.cachedi_scsi_volumes()[0];
    assert_eq!(v.volume_id(), Some("vol-50000000"));
    assert_eq!((v.volume_type(), v.volume_status()), (Some("CACHED iSCSI"), Some("AVAILABLE")));
    assert_eq!(v.volume_attachment_status(), Some("ATTACHED"));
    assert_eq!(v.volume_size_in_bytes(), SOURCE_BYTES);
    assert_eq!(v.target_name(), Some("restored-1"));
    assert_eq!(v.volume_used_in_bytes(), Some(SOURCE_BYTES / 2), "the source's data");
    assert!(v.created_date().is_some() && v.source_snapshot_id().is_none() && v.kms_key().is_none());
    let iscsi = v.volumei_scsi_attributes().unwrap();
    assert_eq!(iscsi.target_arn(), Some(target.as_str()));
    assert_eq!((iscsi.network_interface_id(), iscsi.network_interface_port()), (Some(STANDBY_IP), 3260));
    assert_eq!((iscsi.lun_number(), iscsi.chap_enabled()), (Some(1), false));
    let listed = sgw.list_volumes().gateway_arn(gw(VOLUME_STANDBY)).send().await.unwrap();
    assert_eq!(listed.volume_infos().len(), 1);
    assert_eq!(listed.volume_infos()[0].volume_arn(), Some(arn));
    let tags = sgw.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), vec![("app", "backup")]);
    sgw.add_tags_to_resource().resource_arn(arn).tags(tag("recovery:clone-of", "vol-20000000")).send().await.unwrap();
    sgw.remove_tags_from_resource().resource_arn(arn).tag_keys("app").send().await.unwrap();
    let tags = sgw.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags().iter().map(|t| t.key()).collect::<Vec<_>>(), vec!["recovery:clone-of"]);
    let points = sgw.list_volume_recovery_points().gateway_arn(gw(VOLUME_STANDBY)).send().await.unwrap();
    assert!(points.volume_recovery_point_infos().is_empty(), "no recovery point of its own yet");
    let second = create(&lab, "restored-2", "token-2").send().await.unwrap();
    assert_eq!(second.volume_arn(), Some(volume(VOLUME_STANDBY, "vol-50000001").as_str()));
}

#[tokio::test]
async fn a_volume_restored_from_a_snapshot_names_it_and_keeps_kms_settings() {
    let lab = Lab::volumes(1, Behaviour::default()).await;
    let sgw = lab.sgw();
    let snap = sgw
        .create_snapshot_from_volume_recovery_point()
        .volume_arn(source_volume())
        .snapshot_description("drill")
        .send()
        .await
        .unwrap();
    let id = snap.snapshot_id().unwrap();
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let made = create_empty(&lab, "from-snap", "token-snap")
        .snapshot_id(id)
        .kms_encrypted(true)
        .kms_key(key)
        .send()
        .await
        .unwrap();
    let out = sgw.describe_cachedi_scsi_volumes().volume_arns(made.volume_arn().unwrap()).send().await.unwrap();
    let v = &out.cachedi_scsi_volumes()[0];
    assert_eq!((v.source_snapshot_id(), v.kms_key()), (Some(id), Some(key)));
    let e = create_empty(&lab, "from-nothing", "token-nothing").snapshot_id("snap-1234abcd").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::SnapshotNotFound));
    let e = create_empty(&lab, "too-small", "token-small")
        .snapshot_id(id)
        .volume_size_in_bytes(GIB)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
    let empty = create_empty(&lab, "empty", "token-empty").send().await.unwrap();
    let out = sgw.describe_cachedi_scsi_volumes().volume_arns(empty.volume_arn().unwrap()).send().await.unwrap();
    assert_eq!(out.cachedi_scsi_volumes()[0].volume_used_in_bytes(), Some(0));
}

/// A fleet with gateways `volume-standby` cannot take volumes on.
fn with_gateways(extra: Value) -> Fleet {
    let mut fleet = generate(&FleetShape { tapes: 1, volumes: 1, ..Default::default() });
    let extra: Vec<GatewaySpec> = serde_json::from_value(extra).unwrap();
    fleet.gateways.extend(extra);
    fleet.validate().unwrap();
    fleet
}

#[tokio::test]
async fn create_cached_volume_refuses_each_wrong_target() {
    let fleet = with_gateways(json!([
        {"id": "sgw-AAAAAAA1", "name": "no-cache", "type": "CACHED", "network_interfaces": ["10.1.0.1"],
         "upload_buffer_disks": ["d2"]},
        {"id": "sgw-AAAAAAA2", "name": "no-buffer", "type": "CACHED", "network_interfaces": ["10.1.0.2"],
         "cache_disks": ["d1"]},
        {"id": "sgw-AAAAAAA3", "name": "stored", "type": "STORED", "network_interfaces": ["10.1.0.3"],
         "upload_buffer_disks": ["d2"], "volumes": [{"id": "vol-AAAAAAA3", "size_bytes": 536_870_912_000_i64}]}
    ]));
    let lab = Lab::start(fleet).await;
    let to = |id: &str, ip: &str| create(&lab, "t", "token-x").gateway_arn(gw(id)).network_interface_id(ip);
    let cases = [
        (to(STANDBY, "10.0.0.11"), ErrorCode::NotSupported, "a tape gateway"),
        (to("sgw-AAAAAAA3", "10.1.0.3"), ErrorCode::NotSupported, "a stored gateway"),
        (to("sgw-FFFFFFFF", "10.0.0.1"), ErrorCode::GatewayNotFound, "no such gateway"),
        (to(VOLUMES, "10.0.0.12"), ErrorCode::GatewayNotConnected, "offline"),
        (to(VOLUME_STANDBY, "10.9.9.9"), ErrorCode::InvalidParameters, "not its interface"),
        (to("sgw-AAAAAAA1", "10.1.0.1"), ErrorCode::InvalidGateway, "no cache"),
        (to("sgw-AAAAAAA2", "10.1.0.2"), ErrorCode::InvalidGateway, "no upload buffer"),
    ];
    for (request, expected, why) in cases {
        let e = request.send().await.unwrap_err();
        assert_eq!(code(&e), Some(expected), "{why}: {}", message(&e));
    }
    let e = to("sgw-AAAAAAA1", "10.1.0.1").send().await.unwrap_err();
    assert!(message(&e).contains("Cache storage must be allocated"), "{}", message(&e));
    lab.sim.set_connected(VOLUME_STANDBY, false);
    let e = create(&lab, "t", "token-y").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected));
    assert!(lab.sim.with_world(|w| w.volumes_on(&gw(VOLUME_STANDBY))) == 0, "nothing was created");
}

#[tokio::test]
async fn create_cached_volume_refuses_each_wrong_source_or_setting() {
    let fleet = with_gateways(json!([
        {"id": "sgw-AAAAAAA3", "name": "stored", "type": "STORED",
         "volumes": [{"id": "vol-AAAAAAA3", "size_bytes": 536_870_912_000_i64}]},
        {"id": "sgw-AAAAAAA4", "name": "fresh", "type": "CACHED",
         "volumes": [{"id": "vol-AAAAAAA4", "size_bytes": 536_870_912_000_i64}]}
    ]));
    let lab = Lab::start(fleet).await;
    let key = "arn:aws:kms:us-east-1:123456789012:key/k1";
    let cases = [
        (
            create(&lab, "a", "token-a").volume_size_in_bytes(SOURCE_BYTES - GIB),
            ErrorCode::InvalidParameters,
            "smaller",
        ),
        (
            create(&lab, "a", "token-a").source_volume_arn(volume(VOLUMES, "vol-2FFFFFFF")),
            ErrorCode::VolumeNotFound,
            "no source",
        ),
        (
            create(&lab, "a", "token-a").source_volume_arn(volume("sgw-AAAAAAA3", "vol-AAAAAAA3")),
            ErrorCode::VolumeNotReady,
            "stored",
        ),
        (
            create(&lab, "a", "token-a").source_volume_arn(volume("sgw-AAAAAAA4", "vol-AAAAAAA4")),
            ErrorCode::VolumeNotReady,
            "no rp",
        ),
        (create(&lab, "a", "token-a").kms_key(key), ErrorCode::InvalidParameters, "key without KMSEncrypted"),
        (create(&lab, "a", "token-a").kms_encrypted(true), ErrorCode::InvalidParameters, "KMSEncrypted without key"),
        (create(&lab, "a", "token-a").snapshot_id("snap-1234abcd"), ErrorCode::InvalidParameters, "both sources"),
        (
            create(&lab, "a", "token-a").volume_size_in_bytes(SOURCE_BYTES + 1),
            ErrorCode::InvalidParameters,
            "not whole GiB",
        ),
        (create(&lab, "a", "token-a").network_interface_id("eth0"), ErrorCode::InvalidParameters, "not an IP"),
        (create(&lab, "a", "token-a").tags(tag("aws:x", "v")), ErrorCode::InvalidParameters, "aws: tag"),
    ];
    for (request, expected, why) in cases {
        let e = request.send().await.unwrap_err();
        assert_eq!(code(&e), Some(expected), "{why}: {}", message(&e));
    }
    let e = create(&lab, "a", "token-a").kms_key(key).send().await.unwrap_err();
    assert_eq!(message(&e), "KMSKey can only be set when KMSEncrypted is true.");
    // None of those used up the token.
    create(&lab, "a", "token-a").send().await.unwrap();
}

#[tokio::test]
async fn a_client_token_answers_its_first_volume_and_refuses_other_parameters() {
    let lab = Lab::volumes(1, Behaviour::default()).await;
    let first = create(&lab, "clone", "token-1").tags(tag("a", "1")).send().await.unwrap();
    let again = create(&lab, "clone", "token-1").tags(tag("a", "1")).send().await.unwrap();
    assert_eq!((first.volume_arn(), first.target_arn()), (again.volume_arn(), again.target_arn()));
    assert_eq!(lab.sim.with_world(|w| w.volumes_on(&gw(VOLUME_STANDBY))), 1, "one volume");
    // Later, with the gateway unreachable, the retry still gets its answer.
    lab.sim.set_connected(VOLUME_STANDBY, false);
    let later = create(&lab, "clone", "token-1").tags(tag("a", "1")).send().await.unwrap();
    assert_eq!(later.volume_arn(), first.volume_arn());
    lab.sim.set_connected(VOLUME_STANDBY, true);
    for different in [
        create(&lab, "clone", "token-1"),
        create(&lab, "clone-2", "token-1").tags(tag("a", "1")),
        create(&lab, "clone", "token-1").tags(tag("a", "1")).volume_size_in_bytes(SOURCE_BYTES + GIB),
    ] {
        let e = different.send().await.unwrap_err();
        assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
        assert_eq!(message(&e), "ClientToken was reused with different parameters.");
    }
    let e = create(&lab, "clone", "token-2").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::TargetAlreadyExists), "a new token, the same target name");
}

#[tokio::test]
async fn a_gateway_holds_at_most_32_volumes() {
    let lab = Lab::volumes(1, Behaviour::default()).await;
    for i in 0..32 {
        create(&lab, &format!("clone-{i}"), &format!("token-{i}")).send().await.unwrap();
    }
    let e = create(&lab, "clone-32", "token-32").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::MaximumVolumeCountExceeded));
    let listed = lab.sgw().list_volumes().gateway_arn(gw(VOLUME_STANDBY)).send().await.unwrap();
    assert_eq!(listed.volume_infos().len(), 32);
    let again = create(&lab, "clone-31", "token-31").send().await.unwrap();
    assert!(again.volume_arn().is_some(), "a retry of the 32nd still answers");
}

#[tokio::test]
async fn a_volume_can_be_put_in_an_error_state() {
    let lab = Lab::volumes(1, Behaviour::default()).await;
    let made = create(&lab, "clone", "token").send().await.unwrap();
    let arn = made.volume_arn().unwrap();
    let id = arn.rsplit('/').next().unwrap();
    lab.sim.set_volume_status(id, "IRRECOVERABLE").unwrap();
    let out = lab.sgw().describe_cachedi_scsi_volumes().volume_arns(arn).send().await.unwrap();
    assert_eq!(out.cachedi_scsi_volumes()[0].volume_status(), Some("IRRECOVERABLE"));
    let url = format!("{}/_sim/volumes/{id}", lab.sim.url());
    let (status, _) = simulator::http::post_json(&url, json!({"status": "AVAILABLE"}).to_string(), &[]).await.unwrap();
    assert_eq!(status, 200);
    let out = lab.sgw().describe_cachedi_scsi_volumes().volume_arns(arn).send().await.unwrap();
    assert_eq!(out.cachedi_scsi_volumes()[0].volume_status(), Some("AVAILABLE"));
    let missing = format!("{}/_sim/volumes/vol-FFFFFFFF", lab.sim.url());
    let (status, _) =
        simulator::http::post_json(&missing, json!({"status": "AVAILABLE"}).to_string(), &[]).await.unwrap();
    assert_eq!(status, 404);
    assert!(lab.sim.set_volume_status(id, "X").is_err());
}

#[tokio::test]
async fn describe_cached_volumes_is_sorted_and_for_one_gateways_cached_volumes() {
    let fleet = with_gateways(json!([
        {"id": "sgw-AAAAAAA3", "name": "stored", "type": "STORED",
         "volumes": [{"id": "vol-AAAAAAA3", "size_bytes": 536_870_912_000_i64}]}
    ]));
    let mut fleet = fleet;
    fleet.gateways.iter_mut().find(|g| g.id == VOLUMES).unwrap().connected = true;
    let lab = Lab::start(fleet).await;
    let sgw = lab.sgw();
    let b = create(&lab, "b", "token-b").send().await.unwrap();
    let a = create(&lab, "a", "token-a").send().await.unwrap();
    let out = sgw
        .describe_cachedi_scsi_volumes()
        .volume_arns(b.volume_arn().unwrap())
        .volume_arns(a.volume_arn().unwrap())
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = out.cachedi_scsi_volumes().iter().filter_map(|v| v.volume_arn()).collect();
    assert_eq!(
        arns,
        vec![
            a.volume_arn().unwrap().min(b.volume_arn().unwrap()),
            a.volume_arn().unwrap().max(b.volume_arn().unwrap())
        ]
    );
    let e = sgw
        .describe_cachedi_scsi_volumes()
        .volume_arns(volume(VOLUME_STANDBY, "vol-FFFFFFFF"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::VolumeNotFound));
    let e = sgw
        .describe_cachedi_scsi_volumes()
        .volume_arns(volume("sgw-AAAAAAA3", "vol-AAAAAAA3"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported));
    let e = sgw
        .describe_cachedi_scsi_volumes()
        .volume_arns(a.volume_arn().unwrap())
        .volume_arns(source_volume())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "two gateways");
    let e = sgw.describe_cachedi_scsi_volumes().send().await.unwrap_err();
    assert!(message(&e).contains("Value null at 'volumeARNs'"), "{}", message(&e));
}

#[tokio::test]
async fn describe_cache_and_upload_buffer() {
    let fleet = with_gateways(json!([
        {"id": "sgw-AAAAAAA3", "name": "stored", "type": "STORED", "upload_buffer_disks": ["ub"],
         "upload_buffer_bytes": 1073741824},
        {"id": "sgw-AAAAAAA5", "name": "files", "type": "FILE_S3", "cache_disks": ["c"]}
    ]));
    let lab = Lab::start(fleet).await;
    let sgw = lab.sgw();
    let cache = sgw.describe_cache().gateway_arn(gw(VOLUME_STANDBY)).send().await.unwrap();
    assert_eq!(cache.gateway_arn(), Some(gw(VOLUME_STANDBY).as_str()));
    assert_eq!(cache.disk_ids().len(), 1);
    assert_eq!(cache.cache_allocated_in_bytes(), 4 * 1024 * GIB);
    let buffer = sgw.describe_upload_buffer().gateway_arn(gw(VOLUME_STANDBY)).send().await.unwrap();
    assert_eq!(buffer.disk_ids().len(), 1);
    assert_eq!(buffer.upload_buffer_allocated_in_bytes(), 150 * GIB, "150 GiB a disk by default");
    let stored = sgw.describe_upload_buffer().gateway_arn(gw("sgw-AAAAAAA3")).send().await.unwrap();
    assert_eq!(stored.upload_buffer_allocated_in_bytes(), GIB);
    let files = sgw.describe_cache().gateway_arn(gw("sgw-AAAAAAA5")).send().await.unwrap();
    assert_eq!(files.disk_ids(), ["c"]);
    let e = sgw.describe_cache().gateway_arn(gw("sgw-AAAAAAA3")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported), "a stored gateway has no cache");
    let e = sgw.describe_upload_buffer().gateway_arn(gw("sgw-AAAAAAA5")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported), "a file gateway has no upload buffer");
    for op in ["cache", "buffer"] {
        let e = if op == "cache" {
            code(&sgw.describe_cache().gateway_arn(gw(VOLUMES)).send().await.unwrap_err())
        } else {
            code(&sgw.describe_upload_buffer().gateway_arn(gw(VOLUMES)).send().await.unwrap_err())
        };
        assert_eq!(e, Some(ErrorCode::GatewayNotConnected), "{op}");
    }
}

#[tokio::test]
async fn network_interfaces_come_from_the_fleet() {
    let fleet = with_gateways(json!([
        {"id": "sgw-AAAAAAA6", "name": "two-nics", "type": "CACHED", "network_interfaces": ["192.168.1.5", "192.168.2.5"]}
    ]));
    let lab = Lab::start(fleet).await;
    let info = lab.sgw().describe_gateway_information().gateway_arn(gw("sgw-AAAAAAA6")).send().await.unwrap();
    let ips: Vec<&str> = info.gateway_network_interfaces().iter().filter_map(|n| n.ipv4_address()).collect();
    assert_eq!(ips, vec!["192.168.1.5", "192.168.2.5"]);
    let info = lab.sgw().describe_gateway_information().gateway_arn(gw(STANDBY)).send().await.unwrap();
    assert_eq!(info.gateway_network_interfaces()[0].ipv4_address(), Some("10.0.0.11"), "a default of its own");
}

// ---- Validation before state. ----

#[tokio::test]
async fn input_is_validated_before_any_state_is_looked_at() {
    let lab = Lab::volumes(1, Behaviour::default()).await;
    let sgw = lab.sgw();
    // Offline gateways, wrong gateway types and unknown gateways never win over bad input.
    let e = sgw.describe_tapes().gateway_arn(gw(PRIMARY)).limit(0).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "Limit before GatewayNotConnected");
    let e = sgw.describe_tapes().gateway_arn(gw(PRIMARY)).tape_arns("x").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "TapeARNs before GatewayNotConnected");
    let e = sgw.describe_tapes().gateway_arn(gw(PRIMARY)).marker("zz").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "an unreadable Marker before GatewayNotConnected");
    let e =
        sgw.describe_tape_recovery_points().gateway_arn(gw(VOLUMES)).marker("m".repeat(2001)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "Marker before NotSupported");
    let e = sgw.list_volumes().gateway_arn(gw("sgw-FFFFFFFF")).limit(0).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "Limit before GatewayNotFound");
    let e = sgw.retrieve_tape_recovery_point().tape_arn("x").gateway_arn(gw(VOLUMES)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "TapeARN before NotSupported");
    let e = create(&lab, "Upper", "token").gateway_arn(gw("sgw-FFFFFFFF")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "TargetName before GatewayNotFound");
    let e =
        sgw.add_tags_to_resource().resource_arn(gw("sgw-FFFFFFFF")).tags(tag("bad;key", "v")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "tags before GatewayNotFound");
    let e = sgw.list_tags_for_resource().resource_arn(gw("sgw-FFFFFFFF")).marker("zz").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
}

#[tokio::test]
async fn validation_messages_are_in_aws_wording_with_member_paths() {
    let lab = Lab::tapes(1, Behaviour::default()).await;
    let sgw = lab.sgw();
    let e = sgw.add_tags_to_resource().resource_arn(gw(STANDBY)).tags(tag("bad;key", "v")).send().await.unwrap_err();
    assert_eq!(
        message(&e),
        r"1 validation error detected: Value 'bad;key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
    );
    let e = sgw
        .add_tags_to_resource()
        .resource_arn(gw(STANDBY))
        .tags(tag("ok", "v"))
        .tags(tag("bad;key", "v"))
        .tags(tag("k", &"v".repeat(257)))
        .send()
        .await
        .unwrap_err();
    let m = message(&e);
    assert!(m.starts_with("2 validation errors detected: Value 'bad;key' at 'tags.2.member.key' failed"), "{m}");
    assert!(m.contains("; Value '") && m.contains("at 'tags.3.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"), "{m}");
    let e = sgw.list_tapes().tape_arns("x").send().await.unwrap_err();
    let m = message(&e);
    assert!(m.contains("Value 'x' at 'tapeARNs.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{m}");
    assert!(m.contains("Value 'x' at 'tapeARNs.1.member' failed to satisfy constraint: Member must have length greater than or equal to 50"), "{m}");
    let e = sgw.describe_gateway_information().send().await.unwrap_err();
    assert_eq!(
        message(&e),
        "1 validation error detected: Value null at 'gatewayARN' failed to satisfy constraint: Member must not be null"
    );
}

#[tokio::test]
async fn members_of_the_wrong_json_type_are_serialization_errors() {
    let lab = Lab::tapes(1, Behaviour::default()).await;
    for (op, body) in [
        ("AddTagsToResource", json!({"ResourceARN": gw(PRIMARY), "Tags": [{"Key": 5, "Value": "v"}]})),
        ("AddTagsToResource", json!({"ResourceARN": gw(PRIMARY), "Tags": {"Key": "k", "Value": "v"}})),
        ("ListGateways", json!({"Limit": "x"})),
        ("ListTapes", json!({"TapeARNs": "x"})),
        ("DescribeGatewayInformation", json!({"GatewayARN": ["x"]})),
        ("CreateCachediSCSIVolume", json!({"GatewayARN": gw(VOLUME_STANDBY), "KMSEncrypted": "yes"})),
    ] {
        let (status, answer) = lab.raw(op, body.clone()).await;
        assert_eq!(status, 400, "{op} {body}");
        assert_eq!(answer["__type"], "SerializationException", "{op} {body}: {answer}");
    }
    // The SDK surfaces it by its code.
    let (status, answer) = lab.raw("ListGateways", json!({"Limit": 1.5})).await;
    assert_eq!((status, answer["__type"].as_str()), (400, Some("SerializationException")));
}

#[tokio::test]
async fn a_request_without_a_target_gets_a_json_error() {
    let lab = Lab::tapes(1, Behaviour::default()).await;
    let (status, body) =
        simulator::http::post_json(&lab.sim.url(), "{}".into(), &[("content-type", "application/x-amz-json-1.1")])
            .await
            .unwrap();
    assert_eq!(status, 400);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["__type"], "UnknownOperationException", "{body}");
    let (status, body) = lab.raw("DeleteGateway", json!({})).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")));
}

// ---- SNS. ----

#[tokio::test]
async fn sns_publish_refuses_malformed_and_foreign_topic_arns_and_misses_unknown_ones() {
    let lab = Lab::tapes(1, Behaviour::default()).await;
    let sns = lab.sns();
    for bad in [
        "not-an-arn",
        "arn:aws:sns:us-east-1:123456789012",
        "arn:aws:sns:eu-west-1:123456789012:gateway-reports",
        "arn:aws:sns:us-east-1:999999999999:gateway-reports",
    ] {
        let e = sns.publish().topic_arn(bad).message("m").send().await.unwrap_err();
        let service = e.as_service_error().unwrap();
        assert!(service.is_invalid_parameter_exception(), "{bad}: {e:?}");
        assert_eq!(service.message(), Some("Invalid parameter: TopicArn"), "{bad}");
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 400);
    }
    let e = sns
        .publish()
        .topic_arn("arn:aws:sns:us-east-1:123456789012:no-such-topic")
        .message("m")
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_not_found_exception());
    assert_eq!(e.as_service_error().unwrap().message(), Some("Topic does not exist"));
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
    sns.publish().topic_arn("arn:aws:sns:us-east-1:123456789012:gateway-reports").message("m").send().await.unwrap();
}

// ---- Answers hold only what the model's output shapes hold. ----

/// Each operation's output shape, and every structure's members with their kind: `s`
/// string, `n` whole number, `f` any number, `b` boolean, `t` timestamp (epoch seconds),
/// `L:` a list of, `S:` a structure. From botocore's `service-2.json`.
const OUTPUTS: &[(&str, &str)] = &[
    ("ListGateways", "ListGatewaysOutput"),
    ("DescribeGatewayInformation", "DescribeGatewayInformationOutput"),
    ("DisableGateway", "DisableGatewayOutput"),
    ("DescribeTapeRecoveryPoints", "DescribeTapeRecoveryPointsOutput"),
    ("RetrieveTapeRecoveryPoint", "RetrieveTapeRecoveryPointOutput"),
    ("ListTapes", "ListTapesOutput"),
    ("DescribeTapes", "DescribeTapesOutput"),
    ("ListVolumes", "ListVolumesOutput"),
    ("ListVolumeRecoveryPoints", "ListVolumeRecoveryPointsOutput"),
    ("CreateSnapshotFromVolumeRecoveryPoint", "CreateSnapshotFromVolumeRecoveryPointOutput"),
    ("AddTagsToResource", "AddTagsToResourceOutput"),
    ("RemoveTagsFromResource", "RemoveTagsFromResourceOutput"),
    ("ListTagsForResource", "ListTagsForResourceOutput"),
    ("CreateCachediSCSIVolume", "CreateCachediSCSIVolumeOutput"),
    ("DescribeCachediSCSIVolumes", "DescribeCachediSCSIVolumesOutput"),
    ("DescribeCache", "DescribeCacheOutput"),
    ("DescribeUploadBuffer", "DescribeUploadBufferOutput"),
];

type Members = &'static [(&'static str, &'static str)];

const SHAPES: &[(&str, Members)] = &[
    ("ListGatewaysOutput", &[("Gateways", "L:S:GatewayInfo"), ("Marker", "s")]),
    (
        "GatewayInfo",
        &[
            ("GatewayId", "s"),
            ("GatewayARN", "s"),
            ("GatewayType", "s"),
            ("GatewayOperationalState", "s"),
            ("GatewayName", "s"),
            ("Ec2InstanceId", "s"),
            ("Ec2InstanceRegion", "s"),
            ("HostEnvironment", "s"),
            ("HostEnvironmentId", "s"),
            ("DeprecationDate", "s"),
            ("SoftwareVersion", "s"),
        ],
    ),
    (
        "DescribeGatewayInformationOutput",
        &[
            ("GatewayARN", "s"),
            ("GatewayId", "s"),
            ("GatewayName", "s"),
            ("GatewayTimezone", "s"),
            ("GatewayState", "s"),
            ("GatewayNetworkInterfaces", "L:S:NetworkInterface"),
            ("GatewayType", "s"),
            ("NextUpdateAvailabilityDate", "s"),
            ("LastSoftwareUpdate", "s"),
            ("Ec2InstanceId", "s"),
            ("Ec2InstanceRegion", "s"),
            ("Tags", "L:S:Tag"),
            ("VPCEndpoint", "s"),
            ("CloudWatchLogGroupARN", "s"),
            ("HostEnvironment", "s"),
            ("EndpointType", "s"),
            ("SoftwareUpdatesEndDate", "s"),
            ("DeprecationDate", "s"),
            ("GatewayCapacity", "s"),
            ("SupportedGatewayCapacities", "L:s"),
            ("HostEnvironmentId", "s"),
            ("SoftwareVersion", "s"),
        ],
    ),
    ("NetworkInterface", &[("Ipv4Address", "s"), ("MacAddress", "s"), ("Ipv6Address", "s")]),
    ("Tag", &[("Key", "s"), ("Value", "s")]),
    ("DisableGatewayOutput", &[("GatewayARN", "s")]),
    (
        "DescribeTapeRecoveryPointsOutput",
        &[("GatewayARN", "s"), ("TapeRecoveryPointInfos", "L:S:TapeRecoveryPointInfo"), ("Marker", "s")],
    ),
    (
        "TapeRecoveryPointInfo",
        &[("TapeARN", "s"), ("TapeRecoveryPointTime", "t"), ("TapeSizeInBytes", "n"), ("TapeStatus", "s")],
    ),
    ("RetrieveTapeRecoveryPointOutput", &[("TapeARN", "s")]),
    ("ListTapesOutput", &[("TapeInfos", "L:S:TapeInfo"), ("Marker", "s")]),
    (
        "TapeInfo",
        &[
            ("TapeARN", "s"),
            ("TapeBarcode", "s"),
            ("TapeSizeInBytes", "n"),
            ("TapeStatus", "s"),
            ("GatewayARN", "s"),
            ("PoolId", "s"),
            ("RetentionStartDate", "t"),
            ("PoolEntryDate", "t"),
        ],
    ),
    ("DescribeTapesOutput", &[("Tapes", "L:S:Tape"), ("Marker", "s")]),
    (
        "Tape",
        &[
            ("TapeARN", "s"),
            ("TapeBarcode", "s"),
            ("TapeCreatedDate", "t"),
            ("TapeSizeInBytes", "n"),
            ("TapeStatus", "s"),
            ("VTLDevice", "s"),
            ("Progress", "f"),
            ("TapeUsedInBytes", "n"),
            ("KMSKey", "s"),
            ("PoolId", "s"),
            ("Worm", "b"),
            ("RetentionStartDate", "t"),
            ("PoolEntryDate", "t"),
        ],
    ),
    ("ListVolumesOutput", &[("GatewayARN", "s"), ("Marker", "s"), ("VolumeInfos", "L:S:VolumeInfo")]),
    (
        "VolumeInfo",
        &[
            ("VolumeARN", "s"),
            ("VolumeId", "s"),
            ("GatewayARN", "s"),
            ("GatewayId", "s"),
            ("VolumeType", "s"),
            ("VolumeSizeInBytes", "n"),
            ("VolumeAttachmentStatus", "s"),
        ],
    ),
    (
        "ListVolumeRecoveryPointsOutput",
        &[("GatewayARN", "s"), ("VolumeRecoveryPointInfos", "L:S:VolumeRecoveryPointInfo")],
    ),
    (
        "VolumeRecoveryPointInfo",
        &[
            ("VolumeARN", "s"),
            ("VolumeSizeInBytes", "n"),
            ("VolumeUsageInBytes", "n"),
            ("VolumeRecoveryPointTime", "s"),
        ],
    ),
    (
        "CreateSnapshotFromVolumeRecoveryPointOutput",
        &[("SnapshotId", "s"), ("VolumeARN", "s"), ("VolumeRecoveryPointTime", "s")],
    ),
    ("AddTagsToResourceOutput", &[("ResourceARN", "s")]),
    ("RemoveTagsFromResourceOutput", &[("ResourceARN", "s")]),
    ("ListTagsForResourceOutput", &[("ResourceARN", "s"), ("Marker", "s"), ("Tags", "L:S:Tag")]),
    ("CreateCachediSCSIVolumeOutput", &[("VolumeARN", "s"), ("TargetARN", "s")]),
    ("DescribeCachediSCSIVolumesOutput", &[("CachediSCSIVolumes", "L:S:CachediSCSIVolume")]),
    (
        "CachediSCSIVolume",
        &[
            ("VolumeARN", "s"),
            ("VolumeId", "s"),
            ("VolumeType", "s"),
            ("VolumeStatus", "s"),
            ("VolumeAttachmentStatus", "s"),
            ("VolumeSizeInBytes", "n"),
            ("VolumeProgress", "f"),
            ("SourceSnapshotId", "s"),
            ("VolumeiSCSIAttributes", "S:VolumeiSCSIAttributes"),
            ("CreatedDate", "t"),
            ("VolumeUsedInBytes", "n"),
            ("KMSKey", "s"),
            ("TargetName", "s"),
        ],
    ),
    (
        "VolumeiSCSIAttributes",
        &[
            ("TargetARN", "s"),
            ("NetworkInterfaceId", "s"),
            ("NetworkInterfacePort", "n"),
            ("LunNumber", "n"),
            ("ChapEnabled", "b"),
        ],
    ),
    (
        "DescribeCacheOutput",
        &[
            ("GatewayARN", "s"),
            ("DiskIds", "L:s"),
            ("CacheAllocatedInBytes", "n"),
            ("CacheUsedPercentage", "f"),
            ("CacheDirtyPercentage", "f"),
            ("CacheHitPercentage", "f"),
            ("CacheMissPercentage", "f"),
        ],
    ),
    (
        "DescribeUploadBufferOutput",
        &[
            ("GatewayARN", "s"),
            ("DiskIds", "L:s"),
            ("UploadBufferUsedInBytes", "n"),
            ("UploadBufferAllocatedInBytes", "n"),
        ],
    ),
];

/// Every problem with `v` as a value of `kind`, at `path`.
fn conforms(kind: &str, v: &Value, path: &str, problems: &mut Vec<String>) {
    let ok = match (kind, v) {
        ("s", Value::String(_)) | ("b", Value::Bool(_)) | ("f" | "t", Value::Number(_)) => true,
        ("n", Value::Number(n)) => n.is_i64() || n.is_u64(),
        (k, Value::Array(items)) if k.starts_with("L:") => {
            for (i, item) in items.iter().enumerate() {
                conforms(&k[2..], item, &format!("{path}[{i}]"), problems);
            }
            true
        }
        (k, Value::Object(map)) if k.starts_with("S:") => {
            let members = SHAPES.iter().find(|(n, _)| *n == &k[2..]).map(|(_, m)| *m).unwrap();
            for (name, value) in map {
                match members.iter().find(|(m, _)| m == name) {
                    Some((_, member_kind)) => conforms(member_kind, value, &format!("{path}.{name}"), problems),
                    None => problems.push(format!("{path}.{name} is not in {}", &k[2..])),
                }
            }
            true
        }
        _ => false,
    };
    if !ok {
        problems.push(format!("{path} = {v} is not of kind {kind}"));
    }
}

#[tokio::test]
async fn every_answer_holds_only_members_of_the_models_output_shape() {
    let slow = Behaviour { volume_available_after_ms: 60_000, ..Behaviour::default() };
    let lab = Lab::with(FleetShape { tapes: 3, volumes: 2, ..Default::default() }, slow).await;
    let tape_arn = tape("PRI000000");
    let key = "arn:aws:kms:us-east-1:123456789012:key/k1";
    let calls: Vec<(&str, Value)> = vec![
        ("ListGateways", json!({"Limit": 2})),
        ("DescribeGatewayInformation", json!({"GatewayARN": gw(STANDBY)})),
        ("ListTagsForResource", json!({"ResourceARN": gw(PRIMARY), "Limit": 1})),
        ("DescribeTapeRecoveryPoints", json!({"GatewayARN": gw(PRIMARY), "Limit": 1})),
        ("DisableGateway", json!({"GatewayARN": gw(PRIMARY)})),
        ("RetrieveTapeRecoveryPoint", json!({"TapeARN": tape_arn, "GatewayARN": gw(STANDBY)})),
        ("ListTapes", json!({"Limit": 1})),
        ("DescribeTapes", json!({"GatewayARN": gw(STANDBY)})),
        ("ListVolumes", json!({"GatewayARN": gw(VOLUMES), "Limit": 1})),
        ("ListVolumeRecoveryPoints", json!({"GatewayARN": gw(VOLUMES)})),
        ("CreateSnapshotFromVolumeRecoveryPoint", json!({"VolumeARN": source_volume(), "SnapshotDescription": "d"})),
        ("AddTagsToResource", json!({"ResourceARN": gw(STANDBY), "Tags": [{"Key": "k", "Value": "v"}]})),
        ("RemoveTagsFromResource", json!({"ResourceARN": gw(STANDBY), "TagKeys": ["k"]})),
        (
            "CreateCachediSCSIVolume",
            json!({"GatewayARN": gw(VOLUME_STANDBY), "VolumeSizeInBytes": SOURCE_BYTES, "TargetName": "t",
                   "SourceVolumeARN": source_volume(), "NetworkInterfaceId": STANDBY_IP, "ClientToken": "token",
                   "KMSEncrypted": true, "KMSKey": key}),
        ),
        (
            "CreateCachediSCSIVolume",
            json!({"GatewayARN": gw(VOLUME_STANDBY), "VolumeSizeInBytes": SOURCE_BYTES, "TargetName": "s",
                   "SnapshotId": "snap-01000000000000000", "NetworkInterfaceId": STANDBY_IP, "ClientToken": "token-s"}),
        ),
        (
            "DescribeCachediSCSIVolumes",
            json!({"VolumeARNs": [volume(VOLUME_STANDBY, "vol-50000000"), volume(VOLUME_STANDBY, "vol-50000001")]}),
        ),
        ("DescribeCache", json!({"GatewayARN": gw(VOLUME_STANDBY)})),
        ("DescribeUploadBuffer", json!({"GatewayARN": gw(VOLUME_STANDBY)})),
    ];
    let mut problems = Vec::new();
    for (op, body) in calls {
        let (status, answer) = lab.raw(op, body.clone()).await;
        assert_eq!(status, 200, "{op} {body}: {answer}");
        let shape = OUTPUTS.iter().find(|(o, _)| *o == op).unwrap().1;
        conforms(&format!("S:{shape}"), &answer, op, &mut problems);
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The optional members were there to be checked.
    let (_, described) =
        lab.raw("DescribeCachediSCSIVolumes", json!({"VolumeARNs": [volume(VOLUME_STANDBY, "vol-50000001")]})).await;
    let v = &described["CachediSCSIVolumes"][0];
    assert!(v["VolumeProgress"].is_number() && v["SourceSnapshotId"].is_string(), "{v}");
    assert!(v["CreatedDate"].is_number(), "timestamps are epoch seconds: {v}");
}
