//! SQS over awsJson1_0: `X-Amz-Target: AmazonSQS.<Operation>`; and delivery of due
//! messages to a queue's Lambda invoke URL (an event source mapping). The queues
//! themselves are in [`crate::sqs`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Answer, Call, CallOutcome, CallRecord, Dropped, Service, Simulator, check_auth, json_answer, respond};
use crate::faults::Fault;
use crate::sqs::{self, Batch, Context, QueueDelivery, QueuedMessage, SqsError};

pub(super) const TARGET_PREFIX: &str = "AmazonSQS.";
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// How often the event source mapping looks for receivable messages.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often a long-polling ReceiveMessage looks again.
const LONG_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Batches in flight at once per queue (Lambda starts an SQS mapping with five pollers).
const MAX_BATCHES_IN_FLIGHT: usize = 5;

fn error_response(e: &SqsError, request_id: &str) -> Response<Full<Bytes>> {
    let mut r = respond(e.status, JSON_CONTENT_TYPE, e.body().to_string(), request_id);
    if let Ok(v) = e.query_error().parse() {
        r.headers_mut().insert("x-amzn-query-error", v);
    }
    r
}

/// The access key id a SigV4 `Authorization` header was made with (SQS's `SenderId`).
fn access_key(auth: Option<&str>) -> Option<String> {
    let credential = auth?.split("Credential=").nth(1)?;
    credential.split('/').next().map(str::to_owned)
}

pub(super) async fn call(sim: &Simulator, call: Call) -> Answer {
    let request_id = sim.new_id();
    let target = call.target.clone().unwrap_or_default();
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(&target).to_owned();
    let parsed = sqs::parse_body(&call.body);
    let params = parsed.as_ref().map(sqs::logged_params).unwrap_or_default();
    let mut rec = CallRecord::new(Service::Sqs, &op, params, sqs::MUTATING.contains(&op.as_str()));
    let fail = |sim: &Simulator, mut rec: CallRecord, e: SqsError| {
        rec.status = e.status;
        rec.outcome = CallOutcome::error(e.error_type, Some(e.code).filter(|c| *c != e.error_type));
        sim.record(rec);
        Ok(error_response(&e, &request_id))
    };
    if !sqs::OPERATIONS.contains(&op.as_str()) {
        return fail(sim, rec, SqsError::unknown_operation(&target));
    }
    if call.content_type.as_deref() != Some(JSON_CONTENT_TYPE) {
        return fail(sim, rec, SqsError::serialization("Content-Type must be application/x-amz-json-1.0"));
    }
    let region = sim.shared.fleet.region.clone();
    if let Err(msg) = check_auth(call.auth.as_deref(), Service::Sqs, &region) {
        return fail(sim, rec, SqsError::unauthorized(call.auth.is_none(), &msg));
    }
    let fault = sim.delay_and_decide(&op, Service::Sqs).await;
    match fault {
        Fault::DropBefore => return sim.dropped(rec),
        Fault::InternalError => return fail(sim, rec, SqsError::internal()),
        Fault::Throttle | Fault::RateLimited => return fail(sim, rec, SqsError::throttled()),
        Fault::None | Fault::DropAfter => {}
    }
    let input = match parsed {
        Ok(input) => input,
        Err(e) => return fail(sim, rec, e),
    };
    let sender = access_key(call.auth.as_deref()).unwrap_or_else(|| sim.shared.fleet.account.clone());
    let result =
        if op == "ReceiveMessage" { long_poll(sim, &input, &sender).await } else { apply(sim, &op, &input, &sender) };
    rec.applied = true;
    if fault == Fault::DropAfter {
        rec.status = 0;
        rec.outcome = CallOutcome::Dropped { applied: true, failed: result.is_err() };
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

fn apply(sim: &Simulator, op: &str, input: &Map<String, Value>, sender: &str) -> Result<Value, SqsError> {
    let mut new_id = || sim.new_id();
    let mut ctx = Context { now_ms: crate::now_millis(), sender_id: sender.to_owned(), new_id: &mut new_id };
    sim.with_queues(|q| q.call(op, input, &mut ctx))
}

/// ReceiveMessage with long polling: answers as soon as a message can be received, or
/// empty once the wait (`WaitTimeSeconds`, else the queue's
/// `ReceiveMessageWaitTimeSeconds`) is over.
async fn long_poll(sim: &Simulator, input: &Map<String, Value>, sender: &str) -> Result<Value, SqsError> {
    let wait_ms = sim.with_queues(|q| q.wait_seconds(input)) * 1000;
    let deadline = crate::now_millis() + wait_ms;
    loop {
        let answer = apply(sim, "ReceiveMessage", input, sender)?;
        if answer.get("Messages").is_some() || crate::now_millis() >= deadline {
            return Ok(answer);
        }
        tokio::time::sleep(LONG_POLL_INTERVAL).await;
    }
}

/// Starts delivering due messages to the queues' invoke URLs in the background: every
/// 50 ms, each queue with an invoke URL gives up batches of up to 10 receivable messages,
/// POSTed as the SQS event Lambda receives. A 2xx answer without `x-amz-function-error`
/// deletes the batch (or, with a partial batch response, all but the failures listed);
/// otherwise the messages stay in flight and are redelivered after their visibility
/// timeout. The task ends when the simulator is gone.
pub(super) fn start_deliveries(sim: Simulator) {
    let shared = Arc::downgrade(&sim.shared);
    drop(sim);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(POLL_INTERVAL).await;
            let Some(shared) = shared.upgrade() else { break };
            let sim = Simulator { shared };
            let batches = sim.with_queues(|q| q.take_batches(crate::now_millis(), MAX_BATCHES_IN_FLIGHT));
            for batch in batches {
                tokio::spawn(deliver(sim.clone(), batch));
            }
        }
    });
}

async fn deliver(sim: Simulator, batch: Batch) {
    let event = sqs::lambda_event(&batch, &sim.shared.fleet.region).to_string();
    // An invocation still running when the messages become visible again has failed.
    let timeout = Duration::from_millis(batch.visibility_timeout_ms.max(1000));
    let (done, result) = match tokio::time::timeout(timeout, post_event(&batch.url, event)).await {
        Ok(Ok((status, false, body))) if (200..300).contains(&status) => {
            (sqs::processed(&batch, &body), status.to_string())
        }
        Ok(Ok((status, true, _))) => (Vec::new(), format!("{status} function error")),
        Ok(Ok((status, false, _))) => (Vec::new(), status.to_string()),
        Ok(Err(e)) => (Vec::new(), e),
        Err(_) => (Vec::new(), format!("no answer within {} ms", timeout.as_millis())),
    };
    sim.with_queues(|q| q.settle(&batch, &done, result, crate::now_millis()));
}

/// POSTs an event to a Lambda invoke URL; answers the status, whether the function
/// failed (`x-amz-function-error`, which Lambda sets on a 200), and the body.
/// (`crate::http::post_json` does not expose headers, which this needs.)
async fn post_event(url: &str, body: String) -> Result<(u16, bool, Bytes), String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = hyper::Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("bad request to {url}: {e}"))?;
    let resp = client.request(req).await.map_err(|e| format!("POST {url}: {e}"))?;
    let status = resp.status().as_u16();
    let function_error = resp.headers().contains_key("x-amz-function-error");
    let body = resp.into_body().collect().await.map_err(|e| format!("reading answer from {url}: {e}"))?.to_bytes();
    Ok((status, function_error, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueChange {
    deliver_to: Option<String>,
}

/// This service's part of the `/_sim/` control API (`segments` follow `/_sim/`); `None`
/// when the request is not for it.
///
/// - `GET /_sim/queues`: every queue with its attributes, messages (body, `due_at_ms`,
///   `visible_at_ms`, `receive_count`, ...) and deliveries.
/// - `GET /_sim/queues/NAME`: one of them.
/// - `POST /_sim/queues/NAME` `{"deliver_to": URL}` (or `null`): deliver its messages to
///   a local function, or stop.
pub(super) fn control(
    sim: &Simulator,
    method: &hyper::Method,
    segments: &[&str],
    body: &[u8],
) -> Option<Response<Full<Bytes>>> {
    let now = crate::now_millis();
    let not_found = |name: &str| json_answer(404, &json!({"message": format!("no queue {name}")}));
    Some(match (method.clone(), segments) {
        (hyper::Method::GET, ["queues"]) => json_answer(200, &sim.with_queues(|q| q.state_json(now))),
        (hyper::Method::GET, ["queues", name]) => match sim.with_queues(|q| q.queue_json(name, now)) {
            Some(v) => json_answer(200, &v),
            None => not_found(name),
        },
        (hyper::Method::POST, ["queues", name]) => match serde_json::from_slice::<QueueChange>(body) {
            Ok(change) if sim.set_queue_delivery(name, change.deliver_to.clone()) => {
                json_answer(200, &sim.with_queues(|q| q.queue_json(name, now)).unwrap_or_default())
            }
            Ok(_) => not_found(name),
            Err(e) => json_answer(400, &json!({"message": format!("queue change: {e}")})),
        },
        _ => return None,
    })
}

/// SQS, for tests and other crates.
impl Simulator {
    /// A queue's messages, in the order they were sent (empty if there is no such queue).
    pub fn queue_messages(&self, name: &str) -> Vec<QueuedMessage> {
        self.with_queues(|q| q.messages(name))
    }

    /// Removes and answers a queue's messages whose delay is over at `now_ms` (a test
    /// that runs a consumer in-process drives it this way).
    pub fn take_due_messages(&self, name: &str, now_ms: u64) -> Vec<QueuedMessage> {
        self.with_queues(|q| q.take_due(name, now_ms))
    }

    /// Sets or clears the invoke URL a queue's messages are delivered to; false if there
    /// is no such queue.
    pub fn set_queue_delivery(&self, name: &str, url: Option<String>) -> bool {
        self.with_queues(|q| q.set_delivery(name, url))
    }

    /// The deliveries made from a queue to its invoke URL, oldest first.
    pub fn queue_deliveries(&self, name: &str) -> Vec<QueueDelivery> {
        self.with_queues(|q| q.deliveries(name))
    }

    /// Every queue with its messages and deliveries, for `/_sim/state`.
    pub fn queues_state(&self) -> Value {
        let now = crate::now_millis();
        self.with_queues(|q| q.state_json(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_the_signing_access_key() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(access_key(Some(auth)).as_deref(), Some("AKIDEXAMPLE"));
        assert_eq!(access_key(None), None);
    }

    #[test]
    fn errors_carry_the_query_error_header() {
        let r = error_response(&SqsError::queue_does_not_exist(), "rid");
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.headers().get("x-amzn-query-error").and_then(|v| v.to_str().ok()),
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
        );
    }
}
