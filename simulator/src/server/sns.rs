//! SNS over awsQuery: a form-encoded `POST /`, XML answers; and delivery of published
//! messages to a topic's Lambda invoke URL.

use super::{Answer, Call, CallOutcome, CallRecord, Delivery, Dropped, Service, Simulator, check_auth, lock, respond};
use crate::faults::Fault;
use crate::sns::{self, SnsError};
use crate::world::Message;

pub(super) async fn call(sim: &Simulator, call: Call) -> Answer {
    let caller = call.caller();
    let (auth, body) = (call.auth, &call.body[..]);
    let request_id = sim.new_id();
    let params = sns::parse_form(body);
    let action = params.get("Action").cloned().unwrap_or_default();
    let logged = ["TopicArn", "Subject", "Name"]
        .iter()
        .filter_map(|k| params.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    let mut rec = CallRecord::new(Service::Sns, &action, logged, action == "Publish" || action == "CreateTopic");
    rec.caller = caller;
    let fail = |mut rec: CallRecord, e: SnsError| {
        rec.status = e.status;
        rec.outcome = CallOutcome::error(e.code, None);
        sim.record(rec);
        Ok(respond(e.status, "text/xml", e.xml(&request_id), &request_id))
    };
    let region = sim.shared.fleet.region.clone();
    if let Err(msg) = check_auth(auth.as_deref(), Service::Sns, &region) {
        let code = if auth.is_none() { "MissingAuthenticationToken" } else { "SignatureDoesNotMatch" };
        return fail(rec, SnsError { status: 403, code, message: msg });
    }
    let fault = sim.delay_and_decide(&action, Service::Sns).await;
    match fault {
        Fault::DropBefore => return sim.dropped(rec),
        Fault::InternalError => return fail(rec, SnsError::internal()),
        Fault::Throttle | Fault::RateLimited => return fail(rec, SnsError::throttled()),
        Fault::None | Fault::DropAfter => {}
    }
    let message_id = sim.new_id();
    let result = sim.with_world(|w| sns::call(w, &params, &request_id, || message_id));
    rec.applied = true;
    match result {
        Ok(answer) => {
            if let Some((topic, message)) = answer.delivery {
                deliver(sim.clone(), topic, message);
            }
            if fault == Fault::DropAfter {
                rec.status = 0;
                rec.outcome = CallOutcome::Dropped { applied: true, failed: false };
                sim.record(rec);
                return Err(Dropped);
            }
            sim.record(rec);
            Ok(respond(200, "text/xml", answer.xml, &request_id))
        }
        Err(e) => fail(rec, e),
    }
}

/// Delivers a message to its topic's Lambda invoke URL in the background, as SNS does
/// (asynchronously, retrying a few times when the endpoint is not up yet).
fn deliver(sim: Simulator, topic: crate::world::Topic, message: Message) {
    let Some(url) = topic.deliver_to.clone() else { return };
    let region = sim.shared.fleet.region.clone();
    let event = sns::lambda_event(&topic, &message, &region).to_string();
    tokio::spawn(async move {
        let mut attempts = 0;
        let mut result = String::new();
        while attempts < 5 {
            attempts += 1;
            match crate::http::post_json(&url, event.clone(), &[]).await {
                Ok((status, _)) if status < 500 => {
                    result = status.to_string();
                    break;
                }
                Ok((status, _)) => result = status.to_string(),
                Err(e) => result = e,
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempts))).await;
        }
        lock(&sim.shared.deliveries).push(Delivery { message_id: message.message_id, url, attempts, result });
    });
}
