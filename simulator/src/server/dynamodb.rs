//! DynamoDB over awsJson1_0: `X-Amz-Target: DynamoDB_20120810.<Operation>`. The tables
//! themselves are in [`crate::dynamodb`].

use serde_json::{Value, json};

use super::{Answer, Call, CallOutcome, CallRecord, Dropped, Service, Simulator, check_auth, json_answer, respond};
use crate::dynamodb::{self, DynamoError};
use crate::faults::Fault;
use crate::fleet::TableSpec;

pub(super) const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

pub(super) async fn call(sim: &Simulator, call: Call) -> Answer {
    let request_id = sim.new_id();
    let target = call.target.clone().unwrap_or_default();
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(&target).to_owned();
    let parsed: Result<serde_json::Map<String, serde_json::Value>, DynamoError> = dynamodb::parse_body(&call.body);
    let params = match &parsed {
        Ok(body) => sim.with_tables(|t| t.logged_params(body)),
        Err(_) => Default::default(),
    };
    let mut rec = CallRecord::new(Service::DynamoDb, &op, params, dynamodb::MUTATING.contains(&op.as_str()));
    let fail = |sim: &Simulator, mut rec: CallRecord, e: DynamoError| {
        rec.status = e.status;
        rec.outcome = CallOutcome::error(e.error_type, None);
        sim.record(rec);
        Ok(respond(e.status, JSON_CONTENT_TYPE, e.body().to_string(), &request_id))
    };
    if !dynamodb::OPERATIONS.contains(&op.as_str()) {
        return fail(sim, rec, DynamoError::unknown_operation(&target));
    }
    if call.content_type.as_deref() != Some(JSON_CONTENT_TYPE) {
        return fail(sim, rec, DynamoError::serialization("Content-Type must be application/x-amz-json-1.0"));
    }
    let region = sim.shared.fleet.region.clone();
    if let Err(msg) = check_auth(call.auth.as_deref(), Service::DynamoDb, &region) {
        return fail(sim, rec, DynamoError::unauthorized(call.auth.is_none(), &msg));
    }
    let fault = sim.delay_and_decide(&op, Service::DynamoDb).await;
    match fault {
        Fault::DropBefore => return sim.dropped(rec),
        Fault::InternalError => return fail(sim, rec, DynamoError::internal()),
        Fault::Throttle => return fail(sim, rec, DynamoError::throttling()),
        Fault::RateLimited => return fail(sim, rec, DynamoError::provisioned_throughput_exceeded()),
        Fault::None | Fault::DropAfter => {}
    }
    let input = match parsed {
        Ok(input) => input,
        Err(e) => return fail(sim, rec, e),
    };
    let now = crate::now_secs();
    let result = sim.with_tables(|t| dynamodb::call(t, &op, &input, now));
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

/// This service's part of the `/_sim/` control API (`segments` follow `/_sim/`); `None`
/// when the request is not for it.
///
/// - `GET /_sim/tables`: every table with its schema, TTL attribute and items (plain JSON,
///   values decoded).
/// - `GET /_sim/tables/NAME`: one of them.
pub(super) fn control(
    sim: &Simulator,
    method: &hyper::Method,
    segments: &[&str],
    _body: &[u8],
) -> Option<hyper::Response<http_body_util::Full<bytes::Bytes>>> {
    if *method != hyper::Method::GET {
        return None;
    }
    match segments {
        ["tables"] => {
            let all: Vec<Value> = sim.with_tables(|t| t.names().iter().filter_map(|n| t.table_json(n)).collect());
            Some(json_answer(200, &Value::Array(all)))
        }
        ["tables", name] => Some(match sim.with_tables(|t| t.table_json(name)) {
            Some(v) => json_answer(200, &v),
            None => json_answer(404, &json!({"message": format!("no table {name}")})),
        }),
        _ => None,
    }
}

/// DynamoDB, for tests and other crates.
impl Simulator {
    /// A table's items in DynamoDB JSON (`{"pk": {"S": "a"}}`), in key order; empty if
    /// there is no such table.
    pub fn table_items(&self, table: &str) -> Vec<Value> {
        self.with_tables(|t| t.items_json(table)).unwrap_or_default()
    }

    /// A table's items as plain JSON (`{"pk": "a", "n": 1}`), in key order.
    pub fn table_items_plain(&self, table: &str) -> Vec<Value> {
        self.with_tables(|t| t.items_plain(table)).unwrap_or_default()
    }

    /// Creates a table as a fleet file declares one; false if it already exists.
    pub fn create_table(&self, spec: &TableSpec) -> bool {
        self.with_tables(|t| t.create(spec, crate::now_secs()))
    }

    /// Stores an item given in DynamoDB JSON, checked as `PutItem` checks it (a test
    /// staging a scene); the error message if DynamoDB would refuse it.
    pub fn put_table_item(&self, table: &str, item: &Value) -> Result<(), String> {
        let body = json!({"TableName": table, "Item": item});
        let body = body.as_object().cloned().unwrap_or_default();
        self.with_tables(|t| dynamodb::call(t, "PutItem", &body, crate::now_secs()))
            .map(|_| ())
            .map_err(|e| format!("{}: {}", e.error_type, e.message))
    }

    /// Every table's schema, TTL attribute and item count, for `/_sim/state`.
    pub fn tables_state(&self) -> Value {
        self.with_tables(|t| t.state_json())
    }
}
