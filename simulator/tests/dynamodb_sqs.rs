//! DynamoDB and SQS through the real AWS SDK for Rust clients, pointed at a simulator on
//! an ephemeral loopback port: what the functions rely on (conditional writes, queries,
//! delayed messages, delivery to a function) behaves as in AWS, errors included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
};
use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlError;
use aws_sdk_sqs::operation::send_message::SendMessageError;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use simulator::faults::{FaultConfig, FaultSpec};
use simulator::{Fleet, Running, Simulator};

const FLEET: &str = r#"{"region": "us-east-1", "account": "123456789012",
    "tables": [{"name": "leases", "ttl_attribute": "expires"}],
    "queues": [{"name": "reprobe"}]}"#;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn start() -> Result<(Running, SdkConfig), Error> {
    let sim = Simulator::new(Fleet::from_json(FLEET)?)?.start("127.0.0.1:0").await?;
    let sdk = sdk_config(&sim.url(), 3).await;
    Ok((sim, sdk))
}

async fn sdk_config(url: &str, attempts: u32) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("AKIDLOCALSIMULATOR", "not-a-secret", None, None, "test"))
        .retry_config(RetryConfig::standard().with_max_attempts(attempts))
        .load()
        .await
}

fn s(v: &str) -> Av {
    Av::S(v.to_owned())
}

fn n(v: i64) -> Av {
    Av::N(v.to_string())
}

/// The message of an SDK error's service answer (or the error itself).
fn message<E: ProvideErrorMetadata + std::fmt::Debug>(e: &E) -> String {
    e.message().map_or_else(|| format!("{e:?}"), str::to_owned)
}

#[tokio::test]
async fn tables_are_created_and_described_through_the_sdk() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let created = ddb
        .create_table()
        .table_name("runs")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(KeySchemaElement::builder().attribute_name("run").key_type(KeyType::Hash).build()?)
        .key_schema(KeySchemaElement::builder().attribute_name("step").key_type(KeyType::Range).build()?)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("run").attribute_type(ScalarAttributeType::S).build()?,
        )
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("step").attribute_type(ScalarAttributeType::N).build()?,
        )
        .send()
        .await?;
    let description = created.table_description().ok_or("no description")?;
    assert_eq!(description.table_status(), Some(&TableStatus::Active));
    let described = ddb.describe_table().table_name("runs").send().await?;
    let table = described.table().ok_or("no table")?;
    assert_eq!(table.table_arn(), Some("arn:aws:dynamodb:us-east-1:123456789012:table/runs"));
    assert_eq!(table.key_schema().len(), 2);
    assert_eq!(table.billing_mode_summary().and_then(|b| b.billing_mode()), Some(&BillingMode::PayPerRequest));
    // The fleet file's table is there from the start, with its TTL attribute.
    let ttl = ddb.describe_time_to_live().table_name("leases").send().await?;
    assert_eq!(ttl.time_to_live_description().and_then(|d| d.attribute_name()), Some("expires"));

    let again = ddb
        .create_table()
        .table_name("runs")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(KeySchemaElement::builder().attribute_name("run").key_type(KeyType::Hash).build()?)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("run").attribute_type(ScalarAttributeType::S).build()?,
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("ResourceInUseException"));
    let missing = ddb.describe_table().table_name("nope").send().await.unwrap_err().into_service_error();
    assert!(matches!(missing, DescribeTableError::ResourceNotFoundException(_)), "{missing:?}");
    assert_eq!(message(&missing), "Requested resource not found: Table: nope not found");
    let listed = ddb.list_tables().send().await?;
    assert_eq!(listed.table_names(), ["leases", "runs"]);
    drop(sim);
    Ok(())
}

#[tokio::test]
async fn of_two_racing_claims_exactly_one_wins() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let claim = |owner: &str| {
        ddb.put_item()
            .table_name("leases")
            .item("pk", s("gateway#sgw-12A3456B"))
            .item("sk", s("lease"))
            .item("owner", s(owner))
            .condition_expression("attribute_not_exists(pk)")
            .send()
    };
    let (a, b) = tokio::join!(claim("a"), claim("b"));
    let loser = match (a, b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e.into_service_error(),
        other => panic!("{other:?}"),
    };
    assert!(matches!(loser, PutItemError::ConditionalCheckFailedException(_)), "{loser:?}");
    // The call log counts writes per item.
    let applied = sim.applied("PutItem");
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].param("pk"), Some("gateway#sgw-12A3456B"));
    assert_eq!(applied[0].param("sk"), Some("lease"));
    assert_eq!(applied[0].param("TableName"), Some("leases"));
    assert_eq!(sim.table_items_plain("leases").len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_version_compare_and_set_fails_on_a_stale_version_with_the_old_item() -> Result<(), Error> {
    let (_sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let write = |version: i64, expected: Option<i64>| {
        let mut put = ddb
            .put_item()
            .table_name("leases")
            .item("pk", s("run#1"))
            .item("sk", s("state"))
            .item("version", n(version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_values(ReturnValue::AllOld);
        put = match expected {
            Some(v) => put
                .condition_expression("#v = :expected")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", n(v)),
            None => put.condition_expression("attribute_not_exists(pk)"),
        };
        put.send()
    };
    assert!(write(1, None).await?.attributes().is_none(), "nothing was replaced");
    let second = write(2, Some(1)).await?;
    assert_eq!(second.attributes().and_then(|a| a.get("version")), Some(&n(1)));
    let stale = write(3, Some(1)).await.unwrap_err().into_service_error();
    let PutItemError::ConditionalCheckFailedException(e) = stale else { panic!("{stale:?}") };
    assert_eq!(e.message(), Some("The conditional request failed"));
    assert_eq!(e.item().and_then(|i| i.get("version")), Some(&n(2)), "the item the condition was checked against");
    Ok(())
}

#[tokio::test]
async fn an_expired_lease_can_be_taken_over() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let take = |owner: &str, now: i64, until: i64| {
        ddb.put_item()
            .table_name("leases")
            .item("pk", s("lease"))
            .item("sk", s("-"))
            .item("owner", s(owner))
            .item("until", n(until))
            .condition_expression("attribute_not_exists(pk) OR #until < :now")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", n(now))
            .send()
    };
    take("a", 100, 200).await?;
    assert!(take("b", 150, 250).await.is_err(), "a's lease runs until 200");
    take("b", 201, 300).await?;
    assert_eq!(sim.table_items_plain("leases")[0]["owner"], "b");
    Ok(())
}

#[tokio::test]
async fn deletes_can_be_conditional() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    sim.put_table_item("leases", &serde_json::json!({"pk": {"S": "x"}, "sk": {"S": "1"}, "owner": {"S": "a"}}))?;
    let delete = |owner: &str| {
        ddb.delete_item()
            .table_name("leases")
            .key("pk", s("x"))
            .key("sk", s("1"))
            .condition_expression("#o = :me")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":me", s(owner))
            .return_values(ReturnValue::AllOld)
            .send()
    };
    let refused = delete("b").await.unwrap_err().into_service_error();
    assert!(matches!(refused, DeleteItemError::ConditionalCheckFailedException(_)), "{refused:?}");
    let deleted = delete("a").await?;
    assert_eq!(deleted.attributes().and_then(|a| a.get("owner")), Some(&s("a")));
    assert!(sim.table_items("leases").is_empty());
    // Deleting what is not there is not an error.
    ddb.delete_item().table_name("leases").key("pk", s("x")).key("sk", s("1")).send().await?;
    Ok(())
}

#[tokio::test]
async fn queries_read_a_partition_in_order_and_page_through_it() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    for i in 0..7 {
        ddb.put_item()
            .table_name("leases")
            .item("pk", s("run#1"))
            .item("sk", s(&format!("tape#{i:02}")))
            .item("n", n(i))
            .send()
            .await?;
    }
    ddb.put_item().table_name("leases").item("pk", s("run#1")).item("sk", s("volume#00")).send().await?;
    ddb.put_item().table_name("leases").item("pk", s("run#2")).item("sk", s("tape#99")).send().await?;

    let query = || {
        ddb.query()
            .table_name("leases")
            .key_condition_expression("pk = :run AND begins_with(sk, :tape)")
            .expression_attribute_values(":run", s("run#1"))
            .expression_attribute_values(":tape", s("tape#"))
            .consistent_read(true)
    };
    let all = query().send().await?;
    assert_eq!(all.count(), 7);
    let sks: Vec<&str> = all.items().iter().filter_map(|i| i.get("sk")?.as_s().ok().map(String::as_str)).collect();
    assert_eq!(sks, (0..7).map(|i| format!("tape#{i:02}")).collect::<Vec<_>>());
    let newest = query().scan_index_forward(false).limit(1).send().await?;
    assert_eq!(newest.items()[0].get("sk"), Some(&s("tape#06")));
    assert!(newest.last_evaluated_key().is_some());

    let before = sim.calls().iter().filter(|c| c.operation == "Query").count();
    let items: Vec<HashMap<String, Av>> =
        query().limit(3).into_paginator().items().send().collect::<Result<_, _>>().await?;
    assert_eq!(items.len(), 7);
    let pages = sim.calls().iter().filter(|c| c.operation == "Query").count() - before;
    assert_eq!(pages, 3, "3 + 3 + 1, the last page short so without LastEvaluatedKey");
    Ok(())
}

#[tokio::test]
async fn invalid_requests_are_refused_with_dynamodb_messages() -> Result<(), Error> {
    let (_sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let put = || ddb.put_item().table_name("leases").item("pk", s("a")).item("sk", s("b"));
    let cases = [
        (
            put().condition_expression("attribute_not_exists(status)").send().await,
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        (
            put().condition_expression("attribute_not_exists(pk)").expression_attribute_values(":x", n(1)).send().await,
            "1 validation error detected: Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}",
        ),
        (
            put().condition_expression("v = :nope").send().await,
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        (
            put().condition_expression("attribute_not_exists(pk) AND").send().await,
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"",
        ),
        (
            ddb.put_item().table_name("leases").item("sk", s("b")).send().await,
            "One or more parameter values were invalid: Missing the key pk in the item",
        ),
        (
            ddb.put_item().table_name("leases").item("pk", n(1)).item("sk", s("b")).send().await,
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
        ),
        (put().item("big", s(&"x".repeat(400 * 1024))).send().await, "Item size has exceeded the maximum allowed size"),
    ];
    for (result, expected) in cases {
        let e = result.unwrap_err().into_service_error();
        assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
        assert_eq!(message(&e), expected);
    }
    let get = ddb.get_item().table_name("leases").key("pk", s("a")).send().await.unwrap_err().into_service_error();
    assert_eq!(message(&get), "The provided key element does not match the schema");
    let query = ddb
        .query()
        .table_name("leases")
        .key_condition_expression("pk = :a OR sk = :b")
        .expression_attribute_values(":a", s("a"))
        .expression_attribute_values(":b", s("b"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(query.code(), Some("ValidationException"));
    let unknown = ddb.get_item().table_name("nope").key("pk", s("a")).send().await.unwrap_err().into_service_error();
    assert_eq!(unknown.code(), Some("ResourceNotFoundException"));
    Ok(())
}

#[tokio::test]
async fn injected_faults_reach_the_sdk_as_dynamodb_errors() -> Result<(), Error> {
    let (sim, _) = start().await?;
    let sdk = sdk_config(&sim.url(), 1).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let put = || ddb.put_item().table_name("leases").item("pk", s("a")).item("sk", s("b")).send();
    let only_put =
        |spec: FaultSpec| FaultConfig { operations: [("PutItem".to_owned(), spec)].into(), ..Default::default() };
    sim.set_faults(only_put(FaultSpec { throttle_rate: 1.0, ..Default::default() }))?;
    let throttled = put().await.unwrap_err().into_service_error();
    assert!(matches!(throttled, PutItemError::ThrottlingException(_)), "{throttled:?}");
    sim.set_faults(only_put(FaultSpec { rate_limit: Some(0.001), burst: Some(1.0), ..Default::default() }))?;
    put().await?;
    let limited = put().await.unwrap_err().into_service_error();
    assert!(matches!(limited, PutItemError::ProvisionedThroughputExceededException(_)), "{limited:?}");
    // Other operations are untouched.
    ddb.get_item().table_name("leases").key("pk", s("a")).key("sk", s("b")).send().await?;
    sim.set_faults(only_put(FaultSpec { error_rate: 1.0, ..Default::default() }))?;
    let internal = put().await.unwrap_err().into_service_error();
    assert!(matches!(internal, PutItemError::InternalServerError(_)), "{internal:?}");
    Ok(())
}

#[tokio::test]
async fn a_delayed_message_arrives_after_its_delay_and_is_deleted() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let created =
        sqs.create_queue().queue_name("probes").attributes(QueueAttributeName::VisibilityTimeout, "20").send().await?;
    let url = created.queue_url().ok_or("no url")?.to_owned();
    assert_eq!(url, "https://sqs.us-east-1.amazonaws.com/123456789012/probes");
    assert_eq!(sqs.get_queue_url().queue_name("probes").send().await?.queue_url(), Some(url.as_str()));
    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body("probe sgw-12A3456B")
        .delay_seconds(1)
        .message_attributes("attempt", MessageAttributeValue::builder().data_type("Number").string_value("2").build()?)
        .send()
        .await?;
    assert_eq!(sent.md5_of_message_body(), Some(simulator::sqs::md5::hex(b"probe sgw-12A3456B").as_str()));
    let due = sim.queue_messages("probes")[0].due_at_ms;
    assert!(due >= sim.queue_messages("probes")[0].sent_at_ms + 1000);

    let receive = || {
        sqs.receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
    };
    assert!(receive().await?.messages().is_empty(), "still delayed");
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    let attributes = attributes.attributes().ok_or("no attributes")?;
    assert_eq!(attributes.get(&QueueAttributeName::ApproximateNumberOfMessagesDelayed).map(String::as_str), Some("1"));
    assert_eq!(
        attributes.get(&QueueAttributeName::QueueArn).map(String::as_str),
        Some("arn:aws:sqs:us-east-1:123456789012:probes")
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let got = receive().await?;
    let [message] = got.messages() else { panic!("{got:?}") };
    assert_eq!(message.body(), Some("probe sgw-12A3456B"));
    assert_eq!(message.md5_of_body(), sent.md5_of_message_body());
    assert_eq!(message.md5_of_message_attributes(), sent.md5_of_message_attributes());
    assert_eq!(message.message_attributes().and_then(|a| a.get("attempt")).and_then(|a| a.string_value()), Some("2"));
    let system = message.attributes().ok_or("no system attributes")?;
    assert_eq!(system.get(&MessageSystemAttributeName::ApproximateReceiveCount).map(String::as_str), Some("1"));
    assert_eq!(system.get(&MessageSystemAttributeName::SenderId).map(String::as_str), Some("AKIDLOCALSIMULATOR"));
    assert!(receive().await?.messages().is_empty(), "in flight");
    sqs.delete_message().queue_url(&url).receipt_handle(message.receipt_handle().ok_or("no handle")?).send().await?;
    assert!(sim.queue_messages("probes").is_empty());
    Ok(())
}

#[tokio::test]
async fn long_polling_waits_for_a_message() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs.get_queue_url().queue_name("reprobe").send().await?.queue_url().ok_or("no url")?.to_owned();
    sqs.send_message().queue_url(&url).message_body("soon").delay_seconds(1).send().await?;
    let started = std::time::Instant::now();
    let got = sqs.receive_message().queue_url(&url).wait_time_seconds(5).send().await?;
    assert_eq!(got.messages().len(), 1);
    assert!((900..4000).contains(&started.elapsed().as_millis()), "{:?}", started.elapsed());
    drop(sim);
    Ok(())
}

#[tokio::test]
async fn sqs_errors_are_the_sdks_modeled_errors_and_codes() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs.get_queue_url().queue_name("reprobe").send().await?.queue_url().ok_or("no url")?.to_owned();
    let too_late = sqs.send_message().queue_url(&url).message_body("x").delay_seconds(901).send().await.unwrap_err();
    assert_eq!(too_late.code(), Some("InvalidParameterValue"));
    assert_eq!(
        too_late.message(),
        Some("Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.")
    );
    let missing = sqs.get_queue_url().queue_name("nope").send().await.unwrap_err().into_service_error();
    assert!(matches!(missing, GetQueueUrlError::QueueDoesNotExist(_)), "{missing:?}");
    let nowhere = sqs
        .send_message()
        .queue_url("http://sqs.us-east-1.localhost/123456789012/nope")
        .message_body("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(nowhere, SendMessageError::QueueDoesNotExist(_)), "{nowhere:?}");
    assert_eq!(nowhere.message(), Some("The specified queue does not exist."));
    // Any URL whose last segment names the queue reaches it.
    sqs.send_message()
        .queue_url("http://sqs.us-east-1.localhost/123456789012/reprobe")
        .message_body("x")
        .send()
        .await?;
    assert_eq!(sim.queue_messages("reprobe").len(), 1);
    let calls = sim.calls();
    let refused = calls.iter().find(|c| c.operation == "GetQueueUrl" && !c.ok()).ok_or("no refused call")?;
    assert_eq!(refused.error_code(), Some("AWS.SimpleQueueService.NonExistentQueue"));
    Ok(())
}

/// A local HTTP endpoint standing in for a function's invoke URL: it records every body
/// posted and answers the scripted statuses in turn (then 200). A status of 299 answers
/// 200 with `x-amz-function-error`, as Lambda reports a function error.
struct Endpoint {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

async fn endpoint(script: Vec<u16>) -> Result<Endpoint, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/2015-03-31/functions/recover-gateway/invocations", listener.local_addr()?);
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let script: Script = Arc::new(Mutex::new(script.into_iter()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (seen, script) = (seen.clone(), script.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(req, seen.clone(), script.clone()));
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    Ok(Endpoint { url, bodies })
}

type Script = Arc<Mutex<std::vec::IntoIter<u16>>>;

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Vec<Value>>>,
    script: Script,
) -> Result<hyper::Response<Full<Bytes>>, Error> {
    let body = req.into_body().collect().await?.to_bytes();
    let event: Value = serde_json::from_slice(&body)?;
    seen.lock().map_err(|_| Error::from("poisoned"))?.push(event);
    let status = script.lock().map_err(|_| Error::from("poisoned"))?.next().unwrap_or(200);
    let mut builder = hyper::Response::builder().status(if status == 299 { 200 } else { status });
    if status == 299 {
        builder = builder.header("x-amz-function-error", "Unhandled");
    }
    Ok(builder.body(Full::new(Bytes::from_static(b"{}")))?)
}

impl Endpoint {
    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().map(|b| b.clone()).unwrap_or_default()
    }

    async fn wait_for(&self, count: usize, within: Duration) -> Vec<Value> {
        let deadline = std::time::Instant::now() + within;
        while self.bodies().len() < count && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.bodies()
    }
}

#[tokio::test]
async fn a_queue_delivers_to_its_function_after_the_delay_and_retries_failures() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let function = endpoint(vec![500, 299]).await?;
    let url = sqs
        .create_queue()
        .queue_name("deliveries")
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await?
        .queue_url()
        .ok_or("no url")?
        .to_owned();
    assert!(sim.set_queue_delivery("deliveries", Some(function.url.clone())));
    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body(r#"{"gateway":"sgw-12A3456B"}"#)
        .delay_seconds(1)
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(function.bodies().is_empty(), "delivered before its delay was over");

    // 500, then a function error: each leaves the message to come back after 1 s.
    let bodies = function.wait_for(3, Duration::from_secs(8)).await;
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    let records: Vec<&Value> = bodies.iter().map(|b| &b["Records"][0]).collect();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["messageId"].as_str(), sent.message_id());
        assert_eq!(r["body"], r#"{"gateway":"sgw-12A3456B"}"#);
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["eventSourceARN"], "arn:aws:sqs:us-east-1:123456789012:deliveries");
        assert_eq!(r["awsRegion"], "us-east-1");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], (i + 1).to_string());
    }
    assert_ne!(records[0]["receiptHandle"], records[1]["receiptHandle"]);
    // The third answer was a success: the message is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !sim.queue_messages("deliveries").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(sim.queue_messages("deliveries").is_empty());
    let log = sim.queue_deliveries("deliveries");
    let results: Vec<&str> = log.iter().map(|d| d.result.as_str()).collect();
    assert_eq!(results, ["500", "200 function error", "200"]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(function.bodies().len(), 3, "no delivery after success");
    Ok(())
}

#[tokio::test]
async fn the_control_api_shows_tables_and_queues_and_sets_delivery() -> Result<(), Error> {
    let (sim, sdk) = start().await?;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    ddb.put_item().table_name("leases").item("pk", s("a")).item("sk", s("b")).item("n", n(7)).send().await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs.get_queue_url().queue_name("reprobe").send().await?.queue_url().ok_or("no url")?.to_owned();
    sqs.send_message().queue_url(&url).message_body("later").delay_seconds(60).send().await?;

    let tables = get(&format!("{}/_sim/tables", sim.url())).await?;
    assert_eq!(tables[0]["name"], "leases");
    assert_eq!(tables[0]["items"][0], serde_json::json!({"pk": "a", "sk": "b", "n": 7}));
    let one = get(&format!("{}/_sim/tables/leases", sim.url())).await?;
    assert_eq!(one["ttl_attribute"], "expires");
    let queues = get(&format!("{}/_sim/queues", sim.url())).await?;
    let message = &queues[0]["messages"][0];
    assert_eq!(message["body"], "later");
    assert!(
        message["due_at_ms"].as_u64().ok_or("no due time")? >= message["sent_at_ms"].as_u64().unwrap_or(0) + 60_000
    );
    let (status, _) = simulator::http::post_json(
        &format!("{}/_sim/queues/reprobe", sim.url()),
        r#"{"deliver_to":"http://127.0.0.1:9/x"}"#.into(),
        &[],
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(
        sim.with_queues(|q| q.queue("reprobe").and_then(|q| q.deliver_to.clone())).as_deref(),
        Some("http://127.0.0.1:9/x")
    );
    let (status, _) = simulator::http::post_json(&format!("{}/_sim/queues/nope", sim.url()), "{}".into(), &[]).await?;
    assert_eq!(status, 404);
    // Tests that run a consumer in-process take due messages themselves.
    assert!(sim.take_due_messages("reprobe", simulator_now_ms()).is_empty());
    assert_eq!(sim.take_due_messages("reprobe", simulator_now_ms() + 61_000).len(), 1);
    Ok(())
}

fn simulator_now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

async fn get(url: &str) -> Result<Value, Error> {
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let resp = client.get(url.parse()?).await?;
    let body = resp.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&body)?)
}
