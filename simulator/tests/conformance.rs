//! The simulator against the official service models botocore ships: "a simulator that
//! accepts what AWS would reject proves nothing".
//!
//! For every operation the simulator serves, the test derives from the model's input shape
//! one valid request, one request violating each constraint of each member at any depth
//! (required, lengths, ranges, patterns, enums, list sizes, JSON types), and one at each
//! bound; sends them as raw HTTP in the service's protocol; and checks that violations are
//! refused in AWS's wording naming the member, that bounds are not refused for the member,
//! and that every answer holds only members of the model's shapes, of the model's types.
//!
//! The models are found through `BOTOCORE_DATA` (botocore's `data` directory) or the
//! botocore of `python3` on `PATH`. Without them the test passes with a loud notice, unless
//! `CONFORMANCE_REQUIRED=1`, when it fails. `cargo test -p simulator --test conformance --
//! --nocapture` prints what was generated and checked per operation.
//!
//! Every service is enforced: any deviation fails the test.

mod conformance {
    pub mod cases;
    pub mod fixtures;
    pub mod model;
    pub mod pattern;
    pub mod verify;
    pub mod wire;
}

use std::time::Instant;

use conformance::cases::{Expect, Fixture, Generator};
use conformance::fixtures::{self, REGION};
use conformance::model::{Model, data_dir};
use conformance::verify::{Kind, Tally, Verifier};
use conformance::wire::{Protocol, Wire};
use serde_json::{Value, json};
use simulator::{Running, Simulator};

/// A simulated service and where its model is.
struct Service {
    kind: Kind,
    /// botocore's directory name and API version.
    botocore: (&'static str, &'static str),
    signing_name: &'static str,
    operations: Vec<&'static str>,
    fixture: Box<dyn Fixture>,
    /// Refusals beyond the model a value at a bound may get: `(top member, part of the
    /// message)`.
    beyond_model: &'static [(&'static str, &'static str)],
}

fn services(sim: &Running) -> Vec<Service> {
    let network_interface = sim.with_world(|w| {
        let standby = fixtures::fleet().gateway_arn(simulator::generate::VOLUME_STANDBY);
        w.gateways.get(&standby).and_then(|g| g.network_interfaces.first().cloned()).unwrap_or_default()
    });
    vec![
        Service {
            kind: Kind::StorageGateway,
            botocore: ("storagegateway", "2013-06-30"),
            signing_name: "storagegateway",
            operations: simulator::storage_gateway::OPERATIONS.to_vec(),
            fixture: Box::new(fixtures::StorageGateway { network_interface }),
            beyond_model: fixtures::STORAGE_GATEWAY_BEYOND_MODEL,
        },
        Service {
            kind: Kind::Sns,
            botocore: ("sns", "2010-03-31"),
            signing_name: "sns",
            operations: vec!["Publish", "CreateTopic", "ListTopics"],
            fixture: Box::new(fixtures::Sns),
            beyond_model: &[],
        },
        Service {
            kind: Kind::DynamoDb,
            botocore: ("dynamodb", "2012-08-10"),
            signing_name: "dynamodb",
            operations: simulator::dynamodb::OPERATIONS.to_vec(),
            fixture: Box::new(fixtures::DynamoDb),
            beyond_model: fixtures::DYNAMODB_BEYOND_MODEL,
        },
        Service {
            kind: Kind::Sqs,
            botocore: ("sqs", "2012-11-05"),
            signing_name: "sqs",
            operations: simulator::sqs::OPERATIONS.to_vec(),
            fixture: Box::new(fixtures::Sqs),
            beyond_model: &[],
        },
    ]
}

/// What was generated and checked for one operation.
#[derive(Default)]
struct Row {
    valid: usize,
    violations: usize,
    bounds: usize,
    /// Cases whose answer deviates from the model.
    deviations: usize,
    tally: Tally,
}

/// Without the models: a failure if they are required, else a notice nobody can miss.
fn unavailable(why: &str) {
    let required = std::env::var("CONFORMANCE_REQUIRED").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "CONFORMANCE_REQUIRED=1, but botocore's service models cannot be found: {why}. \
         Set BOTOCORE_DATA to botocore's data directory, or put a python3 with botocore on PATH."
    );
    eprintln!(
        "\n{bar}\nSKIPPED: the model conformance test did not run: {why}.\n\
         Set BOTOCORE_DATA or put a python3 with botocore on PATH (CONFORMANCE_REQUIRED=1 makes this a failure).\n{bar}\n",
        bar = "!".repeat(100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_operation_conforms_to_the_botocore_model() {
    let data = match data_dir() {
        Ok(d) => d,
        Err(why) => return unavailable(&why),
    };
    let sim = Simulator::new(fixtures::fleet()).unwrap().start("127.0.0.1:0").await.unwrap();
    let wire = Wire::new(sim.url(), REGION);
    let started = Instant::now();
    let (mut rows, mut failures) = (Vec::new(), Vec::new());
    for service in services(&sim) {
        let model = match Model::load(&data, service.botocore.0, service.botocore.1) {
            Ok(m) => m,
            Err(why) => return unavailable(&why),
        };
        let protocol = Protocol::of(&model).unwrap();
        for op in &service.operations {
            let row = check_operation(&sim, &wire, &service, &model, &protocol, op, &mut failures).await;
            rows.push((service.botocore.0, *op, row));
        }
    }
    print_summary(&rows, started.elapsed());
    assert!(failures.is_empty(), "{} of the model's cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// Sends every case of one operation, each to a fresh world, and checks each answer.
async fn check_operation(
    sim: &Running,
    wire: &Wire,
    service: &Service,
    model: &Model,
    protocol: &Protocol,
    op: &str,
    failures: &mut Vec<String>,
) -> Row {
    let mut row = Row::default();
    if !model.has_operation(op) {
        failures.push(format!("{op}: the simulator serves it, the {} model has no such operation", service.botocore.0));
        return row;
    }
    let generator = Generator::new(model, op, service.fixture.as_ref(), protocol.is_json());
    let verifier = Verifier { kind: service.kind, model, op, beyond_model: service.beyond_model };
    for case in generator.cases() {
        match case.expect {
            Expect::Valid => row.valid += 1,
            Expect::Violation { .. } => row.violations += 1,
            Expect::Accepted { .. } => row.bounds += 1,
        }
        sim.reset().unwrap();
        let body = match service.kind {
            Kind::Sqs => with_receipt_handle(wire, protocol, model, case.body.clone()).await,
            _ => case.body.clone(),
        };
        let reply = wire.send(protocol, model, service.signing_name, op, &body).await;
        if verbose() {
            println!(
                "{op} [{}] {} -> {} {}",
                case.label,
                excerpt(&case.body.to_string()),
                reply.status,
                excerpt(&String::from_utf8_lossy(&reply.body))
            );
        }
        let problems = verifier.check(&case, &reply, &mut row.tally);
        row.deviations += usize::from(!problems.is_empty());
        for p in problems {
            failures.push(format!("{op} [{}]: {p}\n    request: {}", case.label, excerpt(&body.to_string())));
        }
    }
    for s in generator.skipped.borrow().iter() {
        println!("not generated: {s}");
    }
    row
}

/// A made-up receipt handle is refused, so the fixture's placeholder is replaced by the
/// handle of a message sent and received just before the case.
async fn with_receipt_handle(wire: &Wire, protocol: &Protocol, model: &Model, mut body: Value) -> Value {
    if body.get("ReceiptHandle").and_then(Value::as_str) != Some(fixtures::RECEIPT_HANDLE) {
        return body;
    }
    let queue = json!({"QueueUrl": fixtures::queue_url(), "MessageBody": "conformance"});
    wire.send(protocol, model, "sqs", "SendMessage", &queue).await;
    let received =
        wire.send(protocol, model, "sqs", "ReceiveMessage", &json!({"QueueUrl": fixtures::queue_url()})).await;
    let answer: Value = serde_json::from_slice(&received.body).unwrap_or_default();
    if let Some(handle) = answer["Messages"][0]["ReceiptHandle"].as_str() {
        body["ReceiptHandle"] = json!(handle);
    }
    body
}

/// `CONFORMANCE_VERBOSE=1` prints every request and its answer.
fn verbose() -> bool {
    std::env::var("CONFORMANCE_VERBOSE").is_ok_and(|v| v == "1")
}

fn excerpt(s: &str) -> String {
    if s.chars().count() <= 300 { s.to_owned() } else { format!("{}...", s.chars().take(300).collect::<String>()) }
}

fn print_summary(rows: &[(&str, &str, Row)], elapsed: std::time::Duration) {
    println!(
        "\n{:<16} {:<40} {:>5} {:>10} {:>6} {:>8} {:>8} {:>10}",
        "service", "operation", "valid", "violations", "bounds", "answers", "members", "deviations"
    );
    let mut total = Row::default();
    for (service, op, r) in rows {
        println!(
            "{service:<16} {op:<40} {:>5} {:>10} {:>6} {:>8} {:>8} {:>10}",
            r.valid, r.violations, r.bounds, r.tally.answers_checked, r.tally.members_checked, r.deviations
        );
        total.valid += r.valid;
        total.violations += r.violations;
        total.bounds += r.bounds;
        total.tally.answers_checked += r.tally.answers_checked;
        total.tally.members_checked += r.tally.members_checked;
        total.deviations += r.deviations;
    }
    println!(
        "{:<16} {:<40} {:>5} {:>10} {:>6} {:>8} {:>8} {:>10}   ({} requests in {:.1} s)\n",
        "total",
        "",
        total.valid,
        total.violations,
        total.bounds,
        total.tally.answers_checked,
        total.tally.members_checked,
        total.deviations,
        total.valid + total.violations + total.bounds,
        elapsed.as_secs_f64()
    );
}
