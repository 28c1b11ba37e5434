//! The real function binaries, run as Lambda runs them (a local Runtime API, the standard
//! environment), against the simulator.

use std::time::Duration;

use serde_json::{Value, json};
use tests::local_lambda::{FunctionProcess, LocalFunction, Outcome};
use tests::simulator::generate::{FleetShape, PRIMARY};
use tests::simulator::{FaultConfig, FaultSpec};
use tests::{ACCOUNT, Function, Lab, REGION, binaries, function_env, gateway_arn, invoke, start};

/// Bad events every function must refuse by naming the field, before any AWS call.
fn bad_recovery_events() -> Vec<(Value, &'static str)> {
    let good = gateway_arn(PRIMARY);
    vec![
        (json!([]), "event"),
        (json!("recover"), "event"),
        (json!({}), "event"),
        (json!({"failedGatewayArn": "arn:aws:storagegateway:us-east-1:1:gateway/sgw-1"}), "failedGatewayArn"),
        (json!({"failedGatewayArn": format!("{good}{}", "A".repeat(460))}), "failedGatewayArn"),
        (json!({"failedGatewayArn": good.replace("storagegateway", "ec2")}), "failedGatewayArn"),
        (json!({"failedGatewayArn": gateway_arn("sgw-12A3456B").to_lowercase()}), "failedGatewayArn"),
        (json!({"failedGatewayArn": good, "standbyGatewayArn": "sgw-23B4567C"}), "standbyGatewayArn"),
        (json!({"failedGatewayArn": good, "approve": true}), "approve"),
        (json!({"failedGatewayArn": good, "dryRun": "false"}), "dryRun"),
        (json!({"type": "GatewayOffline", "version": 2}), "version"),
        (json!({"type": "GatewayOffline", "version": 1, "gatewayArn": "x"}), "gatewayName"),
        (
            json!({"type": "GatewayOffline", "version": 1, "gatewayArn": "arn:aws:storagegateway:us-east-1:123456789012:gateway/x",
                "gatewayName": "n", "gatewayType": "VTL", "offlineSince": "t", "detectedAt": "t", "outageId": "o"}),
            "gatewayArn",
        ),
        (
            json!({"type": "RecoveryContinuation", "version": 1, "recoveryId": "r", "failedGatewayArn": good, "slice": "two", "startedAt": "t"}),
            "slice",
        ),
        (
            json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:1",
                "Sns": {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "not json",
                "Timestamp": "2026-11-25T10:00:00.000Z", "SignatureVersion": "1", "Signature": "s", "SigningCertUrl": "u", "UnsubscribeUrl": "u"}}]}),
            "Records[0].Sns.Message",
        ),
    ]
}

#[tokio::test]
async fn recover_gateway_refuses_bad_events_by_name_without_calling_aws() {
    let lab = Lab::generated(FleetShape { tapes: 2, ..Default::default() }).await;
    let f = start(&lab, Function::Recover, &function_env(&lab, Function::Recover)).await;
    let before = lab.sim.calls().len();
    for (event, field) in bad_recovery_events() {
        let Outcome::Error(body) = invoke(&f, &event).await else { panic!("{event} was accepted") };
        let e: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(e["errorType"], "NonRetryable", "{event}: {e}");
        let msg = e["errorMessage"].as_str().unwrap();
        assert!(msg.starts_with(&format!("bad event: {field}")), "{event}: {msg}");
    }
    assert_eq!(lab.sim.calls().len(), before, "no AWS call was made: {:?}", lab.sim.calls());
}

#[tokio::test]
async fn gateway_monitor_refuses_bad_events_by_name_without_calling_aws() {
    let lab = Lab::generated(FleetShape { tapes: 0, ..Default::default() }).await;
    let f = start(&lab, Function::Monitor, &function_env(&lab, Function::Monitor)).await;
    let before = lab.sim.calls().len();
    for (event, field) in [
        (json!(null), "event"),
        (json!({"gatewayArns": ["sgw-12A3456B"]}), "gatewayArns[0]"),
        (json!({"gatewayArns": []}), "gatewayArns"),
        (json!({"action": "reboot"}), "action"),
        (json!({"action": "release-hold", "region": "us-east-1", "holdId": "h"}), "operator"),
        (json!({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}), "Records[0].body"),
        (
            json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.storagegateway", "detail": {}}),
            "detail-type",
        ),
        (json!({"unexpected": true}), "event"),
    ] {
        let Outcome::Error(body) = invoke(&f, &event).await else { panic!("{event} was accepted") };
        let e: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(e["errorType"], "NonRetryable");
        assert!(e["errorMessage"].as_str().unwrap().starts_with(&format!("bad event: {field}")), "{event}: {e}");
    }
    assert_eq!(lab.sim.calls().len(), before);
}

#[tokio::test]
async fn a_missing_setting_stops_the_function_at_init_naming_the_variable() {
    let lab = Lab::sample().await;
    let recover = &binaries().recover;
    let function = LocalFunction::start("recover-gateway", REGION, ACCOUNT, Duration::from_secs(60)).await.unwrap();
    let before = lab.sim.calls().len();
    let log_path = std::env::temp_dir().join(format!("init-error-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut p = FunctionProcess::spawn(recover, &function, &lab.sim.url(), "us-east-1", &[], Some(log)).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), p.child.wait()).await.expect("it exits").unwrap();
    assert!(!status.success());
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("environment variable REPORT_TOPIC_ARN is required: every run publishes its report there"),
        "{log}"
    );
    assert!(function.first_poll().is_none(), "it never asked for work");
    assert_eq!(lab.sim.calls().len(), before);
}

#[tokio::test]
async fn with_cargo_lambda_watchs_duration_deadline_the_time_budget_is_used() {
    let lab = Lab::generated(FleetShape { tapes: 200, ..Default::default() }).await;
    lab.sim
        .set_faults(tests::simulator::FaultConfig {
            global: tests::simulator::FaultSpec { latency_ms: 20, ..Default::default() },
            ..Default::default()
        })
        .unwrap();
    let mut env = function_env(&lab, Function::Recover);
    env.push(("TIME_BUDGET_SECONDS", "1".into()));
    env.push(("MAX_CONCURRENCY", "2".into()));
    let f = start(&lab, Function::Recover, &env).await;
    f.function.set_fixed_deadline_ms(Some(600_000));
    let Outcome::Response(body) = invoke(&f, &json!({"failedGatewayArn": gateway_arn(PRIMARY)})).await else {
        panic!("the recovery failed")
    };
    let report: Value = serde_json::from_slice(&body).unwrap();
    // A deadline in 1970 is not "already expired": the run worked for its budget, then handed over.
    assert_eq!(report["status"], "continued", "{report}");
    let done = report["tapes"]["done"].as_u64().unwrap();
    assert!(done > 0 && done < 200, "{done}");
}

#[tokio::test]
async fn the_whole_chain_runs_on_the_real_binaries() {
    let b = binaries();
    let dir = b.monitor.parent().unwrap().to_path_buf();
    let status = std::process::Command::new(&b.drill)
        .args(["--bin-dir", dir.to_str().unwrap(), "--tapes", "50", "--volumes", "2", "--grace", "2"])
        .args(["--sweep-ms", "700", "--latency-ms", "2", "--timeout", "60"])
        .status()
        .unwrap();
    assert!(status.success(), "the drill failed: {status}");
}

#[tokio::test]
async fn logs_carry_no_credentials_and_no_message_bodies() {
    let lab = Lab::generated(FleetShape { tapes: 20, ..Default::default() }).await;
    let recover = &binaries().recover;
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETMARKER";
    let key_id = "AKIAKEYIDMARKER00000";
    let token = "SESSIONTOKENMARKER";
    let function = LocalFunction::start("recover-gateway", REGION, ACCOUNT, Duration::from_secs(900)).await.unwrap();
    let log_path = std::env::temp_dir().join(format!("secrets-{}.log", std::process::id()));
    let mut env = function_env(&lab, Function::Recover);
    env.retain(|(k, _)| *k != "RUST_LOG");
    env.push(("AWS_ACCESS_KEY_ID", key_id.into()));
    env.push(("AWS_SECRET_ACCESS_KEY", secret.into()));
    env.push(("AWS_SESSION_TOKEN", token.into()));
    let log = std::fs::File::create(&log_path).unwrap();
    let _p = FunctionProcess::spawn(recover, &function, &lab.sim.url(), "us-east-1", &env, Some(log)).unwrap();
    let answer =
        function.invoke(json!({"failedGatewayArn": gateway_arn(PRIMARY)}).to_string(), Duration::from_secs(60)).await;
    assert!(matches!(answer, Some(Outcome::Response(_))), "{answer:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("\"recovery report\""), "the run logged (at the default level): {log}");
    for marker in [secret, key_id, token] {
        assert!(!log.contains(marker), "{marker} leaked into the logs");
    }
    // The published bodies (reports, audit records) are not copied into the logs.
    assert!(lab.sim.messages().iter().any(|m| m.message.contains("Failed gateway:")), "a report was published");
    assert!(
        lab.sim.messages().iter().any(|m| m.message.contains("tapesToRecover")),
        "an audit record was published: {:?} {:?}",
        answer.map(|a| a.json()["summary"].clone()),
        lab.sim.messages().iter().map(|m| m.subject.clone()).collect::<Vec<_>>()
    );
    assert!(!log.contains("Failed gateway:") && !log.contains("tapesToRecover"), "a message body is in the logs");
}

/// Every `error` report fails the invocation, so Lambda's Errors metric and the stack's
/// alarm fire: `NonRetryable` when no retry can help (the ledger's table does not exist),
/// `Retryable` when one may (AWS keeps failing transiently).
#[tokio::test]
async fn an_error_report_fails_the_invocation_with_the_right_diagnostic() {
    let lab = Lab::generated(FleetShape { tapes: 3, ..Default::default() }).await;
    let mut env = function_env(&lab, Function::Recover);
    env.retain(|(k, _)| *k != "LEDGER_TABLE_NAME");
    env.push(("LEDGER_TABLE_NAME", "no-such-table".into()));
    let f = start(&lab, Function::Recover, &env).await;
    let event = json!({"failedGatewayArn": gateway_arn(PRIMARY)});
    let Outcome::Error(body) = invoke(&f, &event).await else { panic!("a missing table must fail the invocation") };
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(e["errorType"], "NonRetryable", "{e}");
    assert!(e["errorMessage"].as_str().unwrap().contains("ResourceNotFoundException"), "{e}");
    assert!(lab.published("gateway-reports").iter().any(|m| m.message.contains("ERROR")), "the report went out too");

    let lab = Lab::generated(FleetShape { tapes: 3, ..Default::default() }).await;
    let mut ops = std::collections::BTreeMap::new();
    ops.insert("DescribeGatewayInformation".to_owned(), FaultSpec { error_rate: 1.0, ..Default::default() });
    lab.sim.set_faults(FaultConfig { operations: ops, ..Default::default() }).unwrap();
    let f = start(&lab, Function::Recover, &function_env(&lab, Function::Recover)).await;
    let Outcome::Error(body) = invoke(&f, &event).await else { panic!("AWS failing must fail the invocation") };
    let e: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(e["errorType"], "Retryable", "{e}");
    assert!(e["errorMessage"].as_str().unwrap().contains("InternalError"), "{e}");
    assert_eq!(lab.count("DisableGateway"), 0);
}
