//! Storage Gateway over awsJson1_1: `X-Amz-Target: StorageGateway_20130630.<Operation>`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Answer, Call, CallOutcome, CallRecord, Dropped, Service, Simulator, check_auth, respond};
use crate::behaviour::Behaviour;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::storage_gateway::{self, Ctx, LOGGED_MEMBERS, MUTATING, OPERATIONS};

pub(super) const TARGET_PREFIX: &str = "StorageGateway_20130630.";
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";

fn logged_params(body: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = LOGGED_MEMBERS
        .iter()
        .filter_map(|m| body.get(*m).and_then(Value::as_str).map(|v| ((*m).to_owned(), v.to_owned())))
        .collect();
    if let Some(Value::Array(tags)) = body.get("Tags") {
        let joined: Vec<String> = tags
            .iter()
            .map(|t| {
                format!(
                    "{}={}",
                    t.get("Key").and_then(Value::as_str).unwrap_or(""),
                    t.get("Value").and_then(Value::as_str).unwrap_or("")
                )
            })
            .collect();
        params.insert("Tags".into(), joined.join(","));
    }
    for list in ["TagKeys", "VolumeARNs", "TapeARNs"] {
        if let Some(Value::Array(items)) = body.get(list) {
            let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            params.insert(list.into(), joined.join(","));
        }
    }
    params
}

/// An injected `InternalServerError`: 500, or 400 with `internal_error_400` (the API
/// reference pages list it under 400).
fn internal_error(b: &Behaviour) -> ApiError {
    let e = ApiError::internal();
    if b.internal_error_400 { e.with_status(400) } else { e }
}

pub(super) async fn call(sim: &Simulator, call: Call) -> Answer {
    let request_id = sim.new_id();
    let target = call.target.clone().unwrap_or_default();
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(&target).to_owned();
    let parsed = crate::validate::object(&call.body);
    let params = parsed.as_ref().map(logged_params).unwrap_or_default();
    let mut rec = CallRecord::new(Service::StorageGateway, &op, params, MUTATING.contains(&op.as_str()));
    rec.caller = call.caller();
    let fail = |sim: &Simulator, mut rec: CallRecord, e: ApiError| {
        rec.status = e.status;
        rec.outcome = CallOutcome::error(e.error_type, e.error_code);
        sim.record(rec);
        Ok(respond(e.status, JSON_CONTENT_TYPE, e.body().to_string(), &request_id))
    };
    if call.target.is_none() {
        return fail(sim, rec, ApiError::unknown_operation("(no X-Amz-Target header)"));
    }
    if !target.starts_with(TARGET_PREFIX) || !OPERATIONS.contains(&op.as_str()) {
        return fail(sim, rec, ApiError::unknown_operation(&target));
    }
    if call.content_type.as_deref() != Some(JSON_CONTENT_TYPE) {
        return fail(sim, rec, ApiError::serialization("Content-Type must be application/x-amz-json-1.1"));
    }
    let region = sim.shared.fleet.region.clone();
    if let Err(msg) = check_auth(call.auth.as_deref(), Service::StorageGateway, &region) {
        let e = if call.auth.is_none() { ApiError::unsigned(&msg) } else { ApiError::bad_signature(&msg) };
        return fail(sim, rec, e);
    }
    let behaviour = sim.behaviour();
    let fault = sim.delay_and_decide(&op, Service::StorageGateway).await;
    match fault {
        Fault::DropBefore => return sim.dropped(rec),
        Fault::InternalError => return fail(sim, rec, internal_error(&behaviour)),
        Fault::Throttle | Fault::RateLimited => return fail(sim, rec, ApiError::throttling()),
        Fault::None | Fault::DropAfter => {}
    }
    let input = match parsed {
        Ok(input) => input,
        Err(e) => return fail(sim, rec, e),
    };
    let ctx = Ctx { behaviour, now_ms: crate::now_millis() };
    let result = sim.with_world(|w| storage_gateway::call(w, &ctx, &op, &input));
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
