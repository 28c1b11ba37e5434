//! Every sample event in `events/`, replayed in order against the simulator loaded with
//! `events/fleet.json`, with an assertion on each answer and on the simulator's state.
//!
//! Two drivers run the same script: the real binaries under the local Lambda runtime
//! (always), and `cargo lambda watch` + `cargo lambda invoke` (ignored by default because
//! it needs cargo-lambda; CI runs it with `cargo test -p e2e --test e2e replay -- --ignored`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tests::local_lambda::{FunctionProcess, LocalFunction, Outcome};
use tests::simulator::{Fleet, Running, Simulator};

use crate::binaries::{binaries, monitor_env, recover_env};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is in the workspace").to_path_buf()
}

fn events_dir() -> PathBuf {
    workspace().join("events")
}

async fn simulator() -> Running {
    let fleet = Fleet::from_file(&events_dir().join("fleet.json").to_string_lossy()).expect("events/fleet.json");
    Simulator::new(fleet).expect("fleet").start("127.0.0.1:0").await.expect("listen")
}

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect();
    out.sort();
    out
}

fn storage_gateway_mutations(sim: &Running) -> usize {
    sim.calls().iter().filter(|c| c.mutating && c.service == tests::simulator::Service::StorageGateway).count()
}

type Check = fn(&Value, &Running);

/// The script: (function, sample file, what must hold after it).
fn script() -> Vec<(&'static str, &'static str, Check)> {
    vec![
        ("gateway-monitor", "alarm-state-change-ok.json", |a, sim| {
            assert_eq!(a["trigger"], "alarm");
            assert_eq!(ids(&a["recoveredOnline"]), ["sgw-45D6789E"], "an OK clears the suspicion");
            let tags = sim.state()["gateways"][3]["tags"].clone();
            assert!(tags.get("recovery:offline-since").is_none(), "{tags}");
        }),
        ("gateway-monitor", "scheduled-sweep.json", |a, _| {
            assert_eq!(a["trigger"], "schedule");
            assert_eq!(a["checked"], 3, "the untagged standby is not watched");
            assert_eq!(ids(&a["newlySuspected"]), ["sgw-12A3456B", "sgw-34C5678D"]);
            assert_eq!(ids(&a["newlyFailed"]), Vec::<String>::new(), "the grace period has not passed");
        }),
        ("gateway-monitor", "scheduler-sweep-input.json", |a, _| {
            assert_eq!(a["trigger"], "schedule");
            assert_eq!(a["counts"]["offline"], 2);
            assert!(ids(&a["newlySuspected"]).is_empty());
        }),
        ("gateway-monitor", "alarm-state-change-alarm.json", |a, _| {
            assert_eq!((a["trigger"].as_str(), a["checked"].as_u64()), (Some("alarm"), Some(1)));
            assert_eq!(a["alarm"]["via"], "eventbridge");
            assert_eq!(a["gateways"][0]["gatewayId"], "sgw-12A3456B");
            assert_eq!(a["gateways"][0]["health"], "offline");
        }),
        ("gateway-monitor", "alarm-lambda-action.json", |a, _| {
            assert_eq!(a["alarm"]["via"], "lambda-action");
            assert_eq!(a["gateways"][0]["gatewayId"], "sgw-12A3456B");
        }),
        ("gateway-monitor", "alarm-sns-notification.json", |a, _| {
            assert_eq!(a["alarm"]["via"], "sns");
            assert_eq!(a["gateways"][0]["gatewayId"], "sgw-34C5678D");
        }),
        ("gateway-monitor", "direct-probe.json", |a, sim| {
            assert_eq!(a["trigger"], "direct");
            assert_eq!((a["checked"].as_u64(), a["counts"]["offline"].as_u64()), (Some(2), Some(2)));
            assert!(sim.messages().iter().all(|m| !m.topic_arn.ends_with(":gateway-recovery")), "no hand-off yet");
        }),
        ("recover-gateway", "direct-dry-run.json", |a, sim| {
            assert_eq!(a["status"], "dry-run");
            assert_eq!(a["tapes"]["planned"], 4);
            assert_eq!(a["disable"]["action"], "needs-approval");
            assert_eq!(storage_gateway_mutations(sim), 3, "only the monitor's three tag writes so far");
        }),
        ("recover-gateway", "sns-gateway-offline-tape.json", |a, sim| {
            assert_eq!(a["status"], "awaiting-approval", "the gateway is not tagged recovery:auto-disable=true");
            assert_eq!(a["approval"]["approveDisable"], true);
            assert_eq!(sim.applied("DisableGateway").len(), 0);
        }),
        ("recover-gateway", "direct-execute.json", |a, sim| {
            assert_eq!(a["status"], "awaiting-approval");
            assert_eq!(sim.applied("RetrieveTapeRecoveryPoint").len(), 0);
        }),
        ("recover-gateway", "direct-execute-approved.json", |a, sim| {
            assert_eq!(a["status"], "completed", "{a}");
            assert_eq!(a["tapes"]["done"], 4);
            assert_eq!(a["disable"]["action"], "disabled");
            assert_eq!(sim.applied("DisableGateway").len(), 1);
            assert_eq!(sim.state()["gateways"][1]["recovered_tapes"], 4);
        }),
        ("recover-gateway", "sns-continuation.json", |a, sim| {
            assert_eq!(a["status"], "completed");
            assert_eq!(a["slice"], 2);
            assert_eq!((a["tapes"]["done"].as_u64(), a["tapes"]["alreadyDone"].as_u64()), (Some(2), Some(2)));
            assert_eq!(sim.applied("RetrieveTapeRecoveryPoint").len(), 4, "nothing retrieved twice");
        }),
        ("recover-gateway", "sns-gateway-offline-volumes.json", |a, sim| {
            assert_eq!(a["status"], "completed", "{a}");
            assert_eq!(a["volumes"]["done"], 2);
            assert_eq!(sim.state()["snapshots"].as_array().map(Vec::len), Some(2));
        }),
    ]
}

/// Every file in `events/` is in the script, so no sample goes unreplayed.
fn check_script_covers_every_sample() {
    let mut samples = Vec::new();
    for function in ["gateway-monitor", "recover-gateway"] {
        for entry in std::fs::read_dir(events_dir().join(function)).expect("events dir") {
            let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
            samples.push((function.to_owned(), name));
        }
    }
    samples.sort();
    let mut scripted: Vec<(String, String)> =
        script().iter().map(|(f, n, _)| ((*f).to_owned(), (*n).to_owned())).collect();
    scripted.sort();
    assert_eq!(samples, scripted, "every sample in events/ must be replayed");
}

#[tokio::test]
async fn every_sample_event_replays_on_the_real_binaries() {
    check_script_covers_every_sample();
    let sim = simulator().await;
    let (monitor_bin, recover_bin) = binaries();
    let mut functions = Vec::new();
    for (name, bin, env) in
        [("gateway-monitor", monitor_bin, monitor_env()), ("recover-gateway", recover_bin, recover_env())]
    {
        let f = LocalFunction::start(name, "us-east-1", "123456789012", Duration::from_secs(900)).await.unwrap();
        let p = FunctionProcess::spawn(bin, &f, &sim.url(), "us-east-1", &env, None).unwrap();
        functions.push((name, f, p));
    }
    for (function, file, check) in script() {
        let payload = std::fs::read(events_dir().join(function).join(file)).unwrap();
        let f = &functions.iter().find(|(n, _, _)| *n == function).unwrap().1;
        let answer = match f.invoke(payload, Duration::from_secs(120)).await {
            Some(Outcome::Response(body)) => serde_json::from_slice::<Value>(&body).unwrap(),
            other => panic!("{function} {file}: {other:?}"),
        };
        check(&answer, &sim);
    }
}

/// `cargo lambda` on the PATH (CI puts its virtual environment's `bin` there).
fn cargo_lambda() -> Option<()> {
    let ok = std::process::Command::new("cargo")
        .args(["lambda", "--version"])
        .stdout(Stdio::null())
        .status()
        .ok()?
        .success();
    ok.then_some(())
}

#[tokio::test]
#[ignore = "needs cargo-lambda on the PATH; CI runs it: cargo test -p e2e --test e2e replay -- --ignored"]
async fn every_sample_event_replays_with_cargo_lambda() {
    check_script_covers_every_sample();
    cargo_lambda().expect("cargo lambda is not installed (pip install cargo-lambda)");
    // Built up front, so the first invoke does not wait for a compile.
    binaries();
    let sim = simulator().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut watch = tokio::process::Command::new("cargo");
    watch
        .args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(workspace())
        .env("AWS_ENDPOINT_URL", sim.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDLOCALSIMULATOR")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("REPORT_TOPIC_ARN", crate::binaries::topic("gateway-reports"))
        .env("RECOVERY_TOPIC_ARN", crate::binaries::topic("gateway-recovery"))
        .env("OFFLINE_GRACE_SECONDS", "900")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let _watch = watch.spawn().expect("cargo lambda watch starts");
    // Wait for the emulator to listen.
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (function, file, check) in script() {
        let path = events_dir().join(function).join(file);
        let out = tokio::process::Command::new("cargo")
            .args(["lambda", "invoke", function, "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
            .args(["--output-format", "json", "--data-file"])
            .arg(&path)
            .current_dir(workspace())
            .output()
            .await
            .expect("cargo lambda invoke runs");
        assert!(out.status.success(), "{function} {file}: {}", String::from_utf8_lossy(&out.stderr));
        let answer: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{function} {file}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
        check(&answer, &sim);
    }
}
