//! The simulator, as the real SDK clients see it: every operation's success shape, paging,
//! each error path parsed into the SDK's typed error with the right code, and the state
//! transitions the API reference describes.

use aws_sdk_storagegateway::error::ProvideErrorMetadata;
use aws_sdk_storagegateway::types::{ErrorCode, Tag};
use tests::simulator::generate::FleetShape;
use tests::simulator::{FaultConfig, FaultSpec};
use tests::{Lab, gateway_arn, tape_arn};

const PRIMARY: &str = "sgw-12A3456B";
const STANDBY: &str = "sgw-23B4567C";
const VOLUMES: &str = "sgw-34C5678D";

/// The Storage Gateway `errorCode` of a failed call, dug out of the typed exception.
fn code<E>(e: &aws_sdk_storagegateway::error::SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<ErrorCode>
where
    E: std::error::Error + 'static,
{
    use aws_sdk_storagegateway::types::error::{InternalServerError, InvalidGatewayRequestException};
    let inner = std::error::Error::source(e.as_service_error()?)?;
    if let Some(x) = inner.downcast_ref::<InvalidGatewayRequestException>() {
        return x.error()?.error_code().cloned();
    }
    inner.downcast_ref::<InternalServerError>()?.error()?.error_code().cloned()
}

#[tokio::test]
async fn list_gateways_pages_at_most_100_in_arn_order() {
    let lab = Lab::generated(FleetShape { tapes: 0, gateways: 247, ..Default::default() }).await;
    let pages: Vec<_> = lab.sgw().list_gateways().into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.gateways().len()).collect();
    assert_eq!(sizes, vec![100, 100, 49]);
    let arns: Vec<&str> = pages.iter().flat_map(|p| p.gateways()).filter_map(|g| g.gateway_arn()).collect();
    let mut sorted = arns.clone();
    sorted.sort();
    assert_eq!(arns, sorted);
    assert_eq!(arns.len(), 249);
    let small: Vec<_> =
        lab.sgw().list_gateways().into_paginator().page_size(10).send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(small.len(), 25);
    let g = &pages[0].gateways()[0];
    assert_eq!(g.gateway_type(), Some("VTL"));
    assert_eq!(g.gateway_operational_state(), Some("ACTIVE"));
}

#[tokio::test]
async fn limits_below_one_and_bad_markers_are_invalid_parameters() {
    let lab = Lab::sample().await;
    let e = lab.sgw().list_gateways().limit(0).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
    assert!(e.as_service_error().unwrap().message().unwrap().contains("greater than or equal to 1"));
    let e = lab.sgw().list_gateways().marker("zz-not-hex").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
}

#[tokio::test]
async fn describe_gateway_information_answers_online_offline_and_unknown() {
    let lab = Lab::sample().await;
    let ok = lab.sgw().describe_gateway_information().gateway_arn(gateway_arn(STANDBY)).send().await.unwrap();
    assert_eq!(ok.gateway_id(), Some(STANDBY));
    assert_eq!(ok.gateway_type(), Some("VTL"));
    assert_eq!(ok.gateway_name(), Some("tape-standby"));
    let e = lab.sgw().describe_gateway_information().gateway_arn(gateway_arn(PRIMARY)).send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_gateway_request_exception());
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected));
    let e = lab.sgw().describe_gateway_information().gateway_arn(gateway_arn("sgw-FFFFFFFF")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotFound));
    assert_eq!(e.as_service_error().unwrap().message(), Some("The specified gateway was not found."));
}

#[tokio::test]
async fn arns_outside_50_to_500_characters_and_missing_members_are_refused() {
    let lab = Lab::sample().await;
    let e = lab.sgw().describe_gateway_information().gateway_arn("arn:aws:storagegateway:x").send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
    assert!(e.as_service_error().unwrap().message().unwrap().contains("length greater than or equal to 50"));
    let e = lab.sgw().describe_gateway_information().gateway_arn("a".repeat(501)).send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().message().unwrap().contains("less than or equal to 500"));
    // The SDK does not check required members; the service does.
    let e = lab.sgw().describe_gateway_information().send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().message().unwrap().contains("must not be null"));
    let e = lab
        .sgw()
        .retrieve_tape_recovery_point()
        .tape_arn("arn:aws:storagegateway:us-east-1:123456789012:tape/lowercase1")
        .gateway_arn(gateway_arn(STANDBY))
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().message().unwrap().contains("regular expression pattern"));
}

#[tokio::test]
async fn tape_recovery_points_page_and_work_while_the_gateway_is_offline() {
    let lab = Lab::generated(FleetShape { tapes: 250, ..Default::default() }).await;
    let primary = gateway_arn(tests::simulator::generate::PRIMARY);
    let pages: Vec<_> = lab
        .sgw()
        .describe_tape_recovery_points()
        .gateway_arn(&primary)
        .into_paginator()
        .page_size(40)
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 7);
    let all: Vec<_> = pages.iter().flat_map(|p| p.tape_recovery_point_infos()).collect();
    assert_eq!(all.len(), 250);
    let first = all[0];
    assert!(first.tape_arn().unwrap().ends_with(":tape/PRI000000"));
    // Timestamps travel as epoch seconds.
    assert_eq!(first.tape_recovery_point_time().unwrap().secs(), 1_795_600_800 - 5 * 86_400);
    assert_eq!(first.tape_size_in_bytes(), Some(107_374_182_400));
    let e = lab
        .sgw()
        .describe_tape_recovery_points()
        .gateway_arn(gateway_arn(tests::simulator::generate::STANDBY))
        .send()
        .await
        .map(|o| o.tape_recovery_point_infos().len());
    assert_eq!(e.unwrap(), 0);
}

#[tokio::test]
async fn retrieval_needs_a_disabled_source_a_connected_tape_gateway_and_happens_once() {
    let lab = Lab::sample().await;
    let sgw = lab.sgw();
    let tape = tape_arn("TEST04A2A1");
    let retrieve = |to: &str| sgw.retrieve_tape_recovery_point().tape_arn(&tape).gateway_arn(gateway_arn(to)).send();
    let e = retrieve(STANDBY).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidGateway), "source still enabled");
    sgw.disable_gateway().gateway_arn(gateway_arn(PRIMARY)).send().await.unwrap();
    let e = retrieve(VOLUMES).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported), "not a tape gateway");
    lab.sim.set_connected(STANDBY, false);
    let e = retrieve(STANDBY).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected));
    lab.sim.set_connected(STANDBY, true);
    let ok = retrieve(STANDBY).await.unwrap();
    assert_eq!(ok.tape_arn(), Some(tape.as_str()));
    let e = retrieve(STANDBY).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters), "a tape is retrieved to one gateway only");
    let tapes = sgw.describe_tapes().gateway_arn(gateway_arn(STANDBY)).send().await.unwrap();
    assert_eq!(tapes.tapes().len(), 1);
    assert_eq!(tapes.tapes()[0].tape_status(), Some("RECOVERED"));
    assert_eq!(tapes.tapes()[0].tape_barcode(), Some("TEST04A2A1"));
    let unknown = sgw
        .retrieve_tape_recovery_point()
        .tape_arn(tape_arn("NOSUCHTAPE"))
        .gateway_arn(gateway_arn(STANDBY))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&unknown), Some(ErrorCode::TapeCartridgeNotFound));
}

#[tokio::test]
async fn a_tape_gateway_holds_at_most_1500_tapes() {
    let lab = Lab::generated(FleetShape { tapes: 2, standby_tapes: 1500, ..Default::default() }).await;
    let sgw = lab.sgw();
    sgw.disable_gateway().gateway_arn(gateway_arn(tests::simulator::generate::PRIMARY)).send().await.unwrap();
    let e = sgw
        .retrieve_tape_recovery_point()
        .tape_arn(tape_arn("PRI000000"))
        .gateway_arn(gateway_arn(tests::simulator::generate::STANDBY))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::MaximumTapeCartridgeCountExceeded));
}

#[tokio::test]
async fn disable_gateway_is_for_tape_gateways_connected_or_not_and_cannot_be_undone() {
    let lab = Lab::sample().await;
    let sgw = lab.sgw();
    let e = sgw.disable_gateway().gateway_arn(gateway_arn(VOLUMES)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported));
    // Nothing stops disabling a healthy gateway: that is why the functions have an interlock.
    let ok = sgw.disable_gateway().gateway_arn(gateway_arn(STANDBY)).send().await.unwrap();
    assert_eq!(ok.gateway_arn(), Some(gateway_arn(STANDBY).as_str()));
    let e = sgw.disable_gateway().gateway_arn(gateway_arn(STANDBY)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidGateway));
    let listed = sgw.list_gateways().send().await.unwrap();
    let state = listed.gateways().iter().find(|g| g.gateway_id() == Some(STANDBY)).unwrap().gateway_operational_state();
    assert_eq!(state, Some("DISABLED"));
    let e = sgw.describe_gateway_information().gateway_arn(gateway_arn(STANDBY)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotConnected), "a disabled gateway is cut off");
}

#[tokio::test]
async fn list_tapes_and_describe_tapes_page_and_filter() {
    let lab = Lab::generated(FleetShape { tapes: 130, standby_tapes: 5, ..Default::default() }).await;
    let sgw = lab.sgw();
    let all: usize = sgw
        .list_tapes()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|p| p.tape_infos().len())
        .sum();
    assert_eq!(all, 135);
    let one = sgw.list_tapes().tape_arns(tape_arn("STB000001")).send().await.unwrap();
    assert_eq!(one.tape_infos().len(), 1);
    assert_eq!(one.tape_infos()[0].gateway_arn(), Some(gateway_arn(tests::simulator::generate::STANDBY).as_str()));
    let standby = gateway_arn(tests::simulator::generate::STANDBY);
    let described = sgw
        .describe_tapes()
        .gateway_arn(&standby)
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(described.len(), 3);
    let filtered = sgw
        .describe_tapes()
        .gateway_arn(&standby)
        .tape_arns(tape_arn("STB000003"))
        .tape_arns(tape_arn("PRI000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.tapes().len(), 1, "tapes on other gateways are left out");
}

#[tokio::test]
async fn volumes_recovery_points_and_snapshots() {
    let lab = Lab::sample().await;
    let sgw = lab.sgw();
    let vols = sgw.list_volumes().gateway_arn(gateway_arn(VOLUMES)).send().await.unwrap();
    assert_eq!(vols.volume_infos().len(), 1);
    assert_eq!(vols.volume_infos()[0].volume_type(), Some("CACHED iSCSI"));
    let e = sgw.list_volumes().gateway_arn(gateway_arn(PRIMARY)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported));
    let rps = sgw.list_volume_recovery_points().gateway_arn(gateway_arn(VOLUMES)).send().await.unwrap();
    let rp = &rps.volume_recovery_point_infos()[0];
    assert_eq!(rp.volume_recovery_point_time(), Some("2026-11-20T10:00:00.000Z"));
    let e = sgw.list_volume_recovery_points().gateway_arn(gateway_arn(PRIMARY)).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::NotSupported), "volume recovery points exist only for cached gateways");
    let volume = rp.volume_arn().unwrap();
    let snap = sgw
        .create_snapshot_from_volume_recovery_point()
        .volume_arn(volume)
        .snapshot_description("drill")
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    let id = snap.snapshot_id().unwrap();
    assert!(id.starts_with("snap-") && id.len() == 22, "{id}");
    assert_eq!(snap.volume_recovery_point_time(), Some("2026-11-20T10:00:00.000Z"));
    let e = sgw
        .create_snapshot_from_volume_recovery_point()
        .volume_arn(volume)
        .snapshot_description("")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
    let e = sgw
        .create_snapshot_from_volume_recovery_point()
        .volume_arn(format!("{}/volume/vol-99999999", gateway_arn(VOLUMES)))
        .snapshot_description("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::VolumeNotFound));
}

#[tokio::test]
async fn tags_on_offline_gateways_and_volumes_follow_the_model() {
    let lab = Lab::sample().await;
    let sgw = lab.sgw();
    let arn = gateway_arn(PRIMARY);
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    sgw.add_tags_to_resource()
        .resource_arn(&arn)
        .tags(tag("recovery:offline-since", "2026-11-25T10:00:00Z"))
        .send()
        .await
        .unwrap();
    let listed = sgw.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    let keys: Vec<&str> = listed.tags().iter().map(|t| t.key()).collect();
    assert!(keys.contains(&"recovery:offline-since") && keys.contains(&"recovery:enabled"), "{keys:?}");
    sgw.remove_tags_from_resource().resource_arn(&arn).tag_keys("recovery:offline-since").send().await.unwrap();
    let listed = sgw.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert!(!listed.tags().iter().any(|t| t.key() == "recovery:offline-since"));
    let e = sgw.add_tags_to_resource().resource_arn(&arn).tags(tag("aws:reserved", "x")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidParameters));
    let mut too_many = sgw.add_tags_to_resource().resource_arn(&arn);
    for i in 0..50 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    let e = too_many.send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().message().unwrap().contains("50 tags"));
    let e = sgw.list_tags_for_resource().resource_arn(gateway_arn("sgw-FFFFFFFF")).send().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GatewayNotFound));
    let volume = format!("{}/volume/vol-1122AABB", gateway_arn(VOLUMES));
    sgw.add_tags_to_resource().resource_arn(&volume).tags(tag("recovery:snapshot-of", "x")).send().await.unwrap();
}

#[tokio::test]
async fn injected_errors_are_retried_by_the_sdk_and_surface_typed_when_they_persist() {
    let lab = Lab::sample().await;
    let sgw = aws_sdk_storagegateway::Client::from_conf(
        aws_sdk_storagegateway::config::Builder::from(&lab.sdk)
            .retry_config(
                aws_smithy_types::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
            .build(),
    );
    let arn = gateway_arn(STANDBY);
    let mut faults = FaultConfig { seed: Some(1), ..Default::default() };
    faults.operations.insert("DescribeGatewayInformation".into(), FaultSpec { error_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let e = sgw.describe_gateway_information().gateway_arn(&arn).send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_internal_server_error());
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 500);
    let calls = lab.sim.calls().iter().filter(|c| c.operation == "DescribeGatewayInformation").count();
    assert_eq!(calls, 3, "the SDK retried the 500s");

    let mut faults = FaultConfig { seed: Some(1), ..Default::default() };
    faults
        .operations
        .insert("DescribeGatewayInformation".into(), FaultSpec { throttle_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let e = sgw.describe_gateway_information().gateway_arn(&arn).send().await.unwrap_err();
    assert_eq!(e.as_service_error().unwrap().code(), Some("ThrottlingException"));
    assert_eq!(e.as_service_error().unwrap().message(), Some("Rate exceeded"));
    let calls = lab.sim.calls().iter().filter(|c| c.operation == "DescribeGatewayInformation").count();
    assert_eq!(calls, 6, "throttling is retried too");

    let mut faults = FaultConfig { seed: Some(1), ..Default::default() };
    faults.operations.insert("DescribeGatewayInformation".into(), FaultSpec { drop_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(faults).unwrap();
    let e = sgw.describe_gateway_information().gateway_arn(&arn).send().await.unwrap_err();
    assert!(
        matches!(
            e,
            aws_sdk_storagegateway::error::SdkError::DispatchFailure(_)
                | aws_sdk_storagegateway::error::SdkError::ResponseError(_)
        ),
        "{e:?}"
    );

    lab.sim
        .set_faults(FaultConfig { global: FaultSpec { latency_ms: 120, ..Default::default() }, ..Default::default() })
        .unwrap();
    let t = std::time::Instant::now();
    sgw.describe_gateway_information().gateway_arn(&arn).send().await.unwrap();
    assert!(t.elapsed() >= std::time::Duration::from_millis(120));
}

#[tokio::test]
async fn a_rate_limit_answers_throttling_beyond_its_rate() {
    let lab = Lab::sample().await;
    let sgw = aws_sdk_storagegateway::Client::from_conf(
        aws_sdk_storagegateway::config::Builder::from(&lab.sdk)
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
            .build(),
    );
    lab.sim
        .set_faults(FaultConfig {
            global: FaultSpec { rate_limit: Some(5.0), ..Default::default() },
            ..Default::default()
        })
        .unwrap();
    let mut throttled = 0;
    for _ in 0..20 {
        if let Err(e) = sgw.list_gateways().send().await {
            assert_eq!(e.as_service_error().and_then(|e| e.code()), Some("ThrottlingException"));
            throttled += 1;
        }
    }
    assert!(throttled >= 10, "{throttled}");
}

#[tokio::test]
async fn the_credential_scope_must_name_the_fleets_region() {
    let lab = Lab::sample().await;
    let other = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(lab.sim.url())
        .credentials_provider(aws_sdk_storagegateway::config::Credentials::new("AKID", "secret", None, None, "t"))
        .load()
        .await;
    let e = aws_sdk_storagegateway::Client::new(&other).list_gateways().send().await.unwrap_err();
    assert_eq!(e.as_service_error().unwrap().code(), Some("InvalidSignatureException"));
}

#[tokio::test]
async fn sns_publish_create_and_list_topics() {
    let lab = Lab::sample().await;
    let sns = lab.sns();
    let created = sns.create_topic().name("extra-topic").send().await.unwrap();
    let arn = created.topic_arn().unwrap().to_owned();
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:extra-topic");
    let again = sns.create_topic().name("extra-topic").send().await.unwrap();
    assert_eq!(again.topic_arn(), Some(arn.as_str()), "CreateTopic is idempotent");
    let topics = sns.list_topics().send().await.unwrap();
    assert_eq!(topics.topics().len(), 3);
    let published = sns
        .publish()
        .topic_arn(&arn)
        .subject("Recovered 3/3 tapes")
        .message("body & <xml> \"quotes\" + spaces")
        .message_attributes(
            "status",
            aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("completed")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(published.message_id().unwrap().len() == 36);
    let m = lab.sim.messages().pop().unwrap();
    assert_eq!(m.subject.as_deref(), Some("Recovered 3/3 tapes"));
    assert_eq!(m.message, "body & <xml> \"quotes\" + spaces");
    assert_eq!(m.attributes.get("status"), Some(&("String".to_owned(), "completed".to_owned())));

    let e = sns.publish().topic_arn("arn:aws:sns:us-east-1:123456789012:nope").message("x").send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_not_found_exception());
    let e = sns.publish().topic_arn(&arn).subject("x".repeat(100)).message("x").send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_parameter_exception());
    let e = sns.publish().topic_arn(&arn).subject("two\nlines").message("x").send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_parameter_exception());
    let e = sns.publish().topic_arn(&arn).message("x".repeat(262_145)).send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().message().unwrap().contains("too long"));
    let e = sns.publish().topic_arn(&arn).message("").send().await.unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_parameter_exception());
}

#[tokio::test]
async fn published_messages_are_delivered_to_a_local_function_as_real_sns_events() {
    let lab = Lab::sample().await;
    let f = tests::local_lambda::LocalFunction::start(
        "recover-gateway",
        "us-east-1",
        "123456789012",
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(lab.sim.set_delivery("gateway-recovery", Some(f.invoke_url())));
    lab.sns()
        .publish()
        .topic_arn("arn:aws:sns:us-east-1:123456789012:gateway-recovery")
        .message("{\"hello\":1}")
        .send()
        .await
        .unwrap();
    // Act as the function: take the invocation from the runtime API.
    let next = format!("http://{}/2018-06-01/runtime/invocation/next", f.runtime_api());
    let body = tokio::time::timeout(std::time::Duration::from_secs(5), raw_get(&next)).await.unwrap();
    let event: aws_lambda_events::event::sns::SnsEvent = serde_json::from_str(&body).unwrap();
    assert_eq!(event.records[0].sns.message, "{\"hello\":1}");
    assert_eq!(event.records[0].event_source, "aws:sns");
}

/// A GET without the SDK, for the runtime API.
async fn raw_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn requests_the_sdk_would_never_send_get_the_answers_aws_gives() {
    let lab = Lab::sample().await;
    let post = |target: &str, content_type: &str| {
        let url = lab.sim.url();
        let target = target.to_owned();
        let content_type = content_type.to_owned();
        async move {
            tests::simulator::http::post_json(
                &url,
                "{}".into(),
                &[("x-amz-target", &target), ("content-type", &content_type)],
            )
            .await
            .unwrap()
        }
    };
    let (status, body) = post("StorageGateway_20130630.DeleteGateway", "application/x-amz-json-1.1").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("UnknownOperationException"));
    let (status, body) = post("StorageGateway_20130630.ListGateways", "application/x-amz-json-1.1").await;
    assert_eq!(status, 403, "unsigned");
    assert!(String::from_utf8_lossy(&body).contains("MissingAuthenticationTokenException"));
}
