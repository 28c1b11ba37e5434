//! What an answer must be: a refusal in the service's wording for a violation, no refusal
//! for the member at a bound, and answers (successes and errors alike) that hold only what
//! the model's shapes hold, with the model's types.

use serde_json::Value;

use super::cases::{Case, Constraint, Expect};
use super::model::{Model, Shape};
use super::wire::{Element, Reply, parse_xml};

/// The services, for what differs between them: error wording and protocol-level errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    StorageGateway,
    Sns,
    DynamoDb,
    Sqs,
}

impl Kind {
    /// Errors the protocol (not the model) answers: allowed though no operation declares them.
    fn protocol_errors(self) -> &'static [&'static str] {
        match self {
            Kind::StorageGateway => &["SerializationException", "UnknownOperationException", "ThrottlingException"],
            Kind::Sns => &["ValidationError", "InvalidAction", "Throttled"],
            Kind::DynamoDb => &["SerializationException", "ValidationException", "UnknownOperationException"],
            Kind::Sqs => &[
                "SerializationException",
                "ValidationException",
                "UnknownOperationException",
                "MissingParameter",
                "InvalidParameterValue",
            ],
        }
    }

    /// The codes a validation refusal may carry (`errorCode` for Storage Gateway).
    fn validation_codes(self) -> &'static [&'static str] {
        match self {
            Kind::StorageGateway => &["InvalidParameters"],
            Kind::Sns => &["ValidationError", "InvalidParameter"],
            Kind::DynamoDb => &["ValidationException"],
            Kind::Sqs => &[
                "ValidationException",
                "MissingParameter",
                "InvalidParameterValue",
                "InvalidAttributeName",
                "InvalidAttributeValue",
            ],
        }
    }
}

/// An error answer, read from either protocol.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    /// The exception (`__type` without its namespace) or the query `Code`.
    pub exception: String,
    /// Storage Gateway's `error.errorCode`; SQS's `x-amzn-query-error` code.
    pub code: Option<String>,
    /// Storage Gateway's `error.errorDetails.parameter`.
    pub parameter: Option<String>,
    pub message: String,
}

impl Refusal {
    /// The most specific code: Storage Gateway's `errorCode`, else the exception.
    fn code(&self) -> &str {
        self.code.as_deref().unwrap_or(&self.exception)
    }

    fn is_validation(&self, kind: Kind) -> bool {
        self.status == 400
            && (self.exception == "SerializationException" || kind.validation_codes().contains(&self.code()))
    }

    /// Whether it blames the member at `path` (top-level member `top`).
    fn names(&self, path: &str, top: &str) -> bool {
        self.message.contains(&format!("'{path}'"))
            || self.parameter.as_deref() == Some(top)
            || self.message.contains(&format!("parameter: {top}"))
            || self.message.contains(&format!("parameter {top} "))
    }
}

/// What one answer was found to be, for the summary.
#[derive(Default)]
pub struct Tally {
    pub answers_checked: usize,
    pub members_checked: usize,
}

pub struct Verifier<'a> {
    pub kind: Kind,
    pub model: &'a Model,
    pub op: &'a str,
    /// Refusals for reasons beyond the model (an unknown marker, say): `(top member, part
    /// of the message)` pairs a value at a bound may still get.
    pub beyond_model: &'a [(&'a str, &'a str)],
}

impl Verifier<'_> {
    /// Every problem with the answer to `case`.
    pub fn check(&self, case: &Case, reply: &Reply, tally: &mut Tally) -> Vec<String> {
        let mut problems = Vec::new();
        if reply.status == 200 {
            self.check_output(reply, &mut problems, tally);
        } else if reply.status == 0 {
            problems.push(String::from_utf8_lossy(&reply.body).into_owned());
            return problems;
        }
        let refusal = if reply.status == 200 { None } else { self.refusal(reply, &mut problems) };
        if let Some(r) = &refusal {
            tally.answers_checked += 1;
            self.check_declared(r, &mut problems);
        }
        match (&case.expect, &refusal) {
            (Expect::Valid, Some(r)) => problems.push(format!("the valid request was refused: {r:?}")),
            (Expect::Violation { .. }, None) => problems.push("accepted".into()),
            (Expect::Violation { path, constraint }, Some(r)) => {
                self.check_violation(path, constraint, r, &mut problems)
            }
            (Expect::Accepted { path, top }, Some(r)) if self.refused_for(r, path, top) => {
                problems.push(format!("refused for the member: {r:?}"))
            }
            _ => {}
        }
        problems
    }

    fn refused_for(&self, r: &Refusal, path: &str, top: &str) -> bool {
        let explained = self.beyond_model.iter().any(|(m, msg)| *m == top && r.message.contains(msg));
        r.is_validation(self.kind) && r.names(path, top) && !explained
    }

    fn check_violation(&self, path: &str, constraint: &Constraint, r: &Refusal, problems: &mut Vec<String>) {
        if r.status != 400 {
            problems.push(format!("status {} (want 400): {r:?}", r.status));
        }
        match constraint.wording() {
            None => {
                if r.exception != "SerializationException" {
                    problems.push(format!("want SerializationException: {r:?}"));
                }
                let names_member = match self.kind {
                    Kind::DynamoDb => true,
                    Kind::Sqs => sqs_names(&r.message, path),
                    _ => r.message.contains(&format!("'{path}'")),
                };
                if !names_member {
                    problems.push(format!("the message does not name '{path}': {:?}", r.message));
                }
            }
            Some(wording) => {
                if !self.kind.validation_codes().contains(&r.code()) {
                    problems.push(format!("want one of {:?}: {r:?}", self.kind.validation_codes()));
                }
                let clause = format!("at '{path}' failed to satisfy constraint: {wording}");
                let sqs_named = r.code() == "InvalidAttributeName" || sqs_names(&r.message, path);
                let named = worded(&r.message, path, constraint) || (self.kind == Kind::Sqs && sqs_named);
                if !named {
                    problems.push(format!("the message lacks \"{clause}\": {:?}", r.message));
                }
            }
        }
    }

    /// The error answer, or a problem if it is not one in the protocol's form.
    fn refusal(&self, reply: &Reply, problems: &mut Vec<String>) -> Option<Refusal> {
        let found = match self.kind {
            Kind::Sns => xml_refusal(reply, self.model, problems),
            _ => json_refusal(reply, self.model, problems),
        };
        if found.is_none() {
            problems.push(format!(
                "status {} with an unreadable error: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
        found
    }

    /// A modeled exception must be one the operation declares.
    fn check_declared(&self, r: &Refusal, problems: &mut Vec<String>) {
        let declared: Vec<&str> = self
            .model
            .errors(self.op)
            .iter()
            .map(|s| if self.kind == Kind::Sns { s.error_code() } else { s.name })
            .collect();
        if !declared.contains(&r.exception.as_str()) && !self.kind.protocol_errors().contains(&r.exception.as_str()) {
            problems.push(format!("{} is neither declared for {} nor a protocol error", r.exception, self.op));
        }
    }

    fn check_output(&self, reply: &Reply, problems: &mut Vec<String>, tally: &mut Tally) {
        tally.answers_checked += 1;
        let output = self.model.output(self.op);
        if self.kind == Kind::Sns {
            let wrapper =
                output.and_then(|(_, w)| w).map(str::to_owned).unwrap_or_else(|| format!("{}Result", self.op));
            match parse_xml(&String::from_utf8_lossy(&reply.body)) {
                Ok(root) => self.check_xml_output(&root, output.map(|(s, _)| s), &wrapper, problems, tally),
                Err(e) => problems.push(format!("the answer is not XML: {e}")),
            }
            return;
        }
        match (serde_json::from_slice::<Value>(&reply.body), output) {
            (Ok(v), Some((shape, _))) => conform_json(shape, &v, "", problems, tally),
            (Ok(Value::Object(o)), None) if o.is_empty() => {}
            (Ok(v), None) => problems.push(format!("the model has no output, the answer is {v}")),
            (Err(e), _) => problems.push(format!("the answer is not JSON: {e}")),
        }
    }

    fn check_xml_output(
        &self,
        root: &Element,
        shape: Option<Shape>,
        wrapper: &str,
        problems: &mut Vec<String>,
        tally: &mut Tally,
    ) {
        let want_root = format!("{}Response", self.op);
        if root.name != want_root {
            problems.push(format!("root <{}>, want <{want_root}>", root.name));
        }
        if root.attribute("xmlns") != self.model.metadata("xmlNamespace") {
            problems.push(format!(
                "xmlns {:?}, want {:?}",
                root.attribute("xmlns"),
                self.model.metadata("xmlNamespace")
            ));
        }
        if root.child("ResponseMetadata").and_then(|m| m.child("RequestId")).is_none() {
            problems.push("no ResponseMetadata/RequestId".into());
        }
        for c in root.children.iter().filter(|c| c.name != wrapper && c.name != "ResponseMetadata") {
            problems.push(format!("<{}> beside <{wrapper}>", c.name));
        }
        match (root.child(wrapper), shape) {
            (Some(result), Some(shape)) => conform_xml(shape, result, wrapper, problems, tally),
            (None, Some(_)) => problems.push(format!("no <{wrapper}>")),
            _ => {}
        }
    }
}

/// Whether `message` names the violation of `constraint` at `path` in AWS's wording. An
/// enum's values may be listed in any order (DynamoDB lists them in its own, not the
/// model's); a map key's or value's constraint is named at the map, within the list of
/// the key's (value's) constraints.
fn worded(message: &str, path: &str, constraint: &Constraint) -> bool {
    let at = format!("at '{path}' failed to satisfy constraint: ");
    let after = |head: &str| -> Vec<&str> {
        let needle = format!("{at}{head}");
        message.match_indices(&needle).map(|(i, _)| &message[i + needle.len()..]).collect()
    };
    match constraint {
        Constraint::Enum(values) => after("Member must satisfy enum value set: [").iter().any(|rest| {
            let listed: Vec<&str> = rest.split(']').next().unwrap_or_default().split(", ").collect();
            listed.len() == values.len() && values.iter().all(|v| listed.contains(&v.as_str()))
        }),
        Constraint::MapKeys(inner) | Constraint::MapValue(inner) => {
            let head = if matches!(constraint, Constraint::MapKeys(_)) { "Map keys" } else { "Map value" };
            let wording = inner.wording().unwrap_or_default();
            after(&format!("{head} must satisfy constraint: [")).iter().any(|rest| rest.contains(&wording))
        }
        other => other.wording().is_some_and(|w| message.contains(&format!("{at}{w}"))),
    }
}

/// SQS words its refusals its own way ("The request must contain the parameter QueueUrl.",
/// "Value for parameter DelaySeconds must be an integer", "The message attribute 'a' must
/// contain ...", `InvalidAttributeName` "Unknown Attribute X."): it names the top-level
/// member as the API reference writes it (`QueueUrl`, or `tags`, which the model spells in
/// lower case), or the map key the problem is under.
fn sqs_names(message: &str, path: &str) -> bool {
    let mut parts = path.split('.');
    let top = parts.next().unwrap_or_default();
    let key = parts.next().filter(|k| k.parse::<usize>().is_err());
    let upper: String =
        top.chars().next().map(|c| c.to_uppercase().chain(top.chars().skip(1)).collect()).unwrap_or_default();
    message.contains(&format!("'{path}'"))
        || message.contains(&format!("parameter {upper}"))
        || message.contains(&format!("parameter {top}"))
        || key.is_some_and(|k| message.contains(&format!("'{k}'")))
}

/// A JSON error answer: `__type` (namespace dropped), `message`, Storage Gateway's `error`,
/// SQS's `x-amzn-query-error`; the body is checked against the exception's shape when the
/// model has it.
fn json_refusal(reply: &Reply, model: &Model, problems: &mut Vec<String>) -> Option<Refusal> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&reply.body) else { return None };
    let full = body.get("__type")?.as_str()?;
    let exception = full.rsplit('#').next().unwrap_or(full).to_owned();
    let message = body.get("message").or_else(|| body.get("Message")).and_then(Value::as_str).unwrap_or_default();
    let shape = model.shape(&exception);
    if shape.kind() == "structure" {
        let mut members = body.clone();
        members.remove("__type");
        conform_json(shape, &Value::Object(members), &exception, problems, &mut Tally::default());
    }
    let query_code =
        reply.headers.get("x-amzn-query-error").and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next());
    let error = body.get("error").cloned().unwrap_or_default();
    Some(Refusal {
        status: reply.status,
        code: error["errorCode"].as_str().or(query_code).map(str::to_owned),
        parameter: error["errorDetails"]["parameter"].as_str().map(str::to_owned),
        message: message.to_owned(),
        exception,
    })
}

/// An awsQuery error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
fn xml_refusal(reply: &Reply, model: &Model, problems: &mut Vec<String>) -> Option<Refusal> {
    let root = parse_xml(&String::from_utf8_lossy(&reply.body)).ok()?;
    if root.name != "ErrorResponse" || root.child("RequestId").is_none() {
        problems.push(format!("an error answer <{}> without the ErrorResponse form", root.name));
    }
    if root.attribute("xmlns") != model.metadata("xmlNamespace") {
        problems.push(format!("error xmlns {:?}", root.attribute("xmlns")));
    }
    let error = root.child("Error")?;
    let kind = error.child("Type").map(|t| t.text.as_str());
    if !matches!(kind, Some("Sender" | "Receiver")) {
        problems.push(format!("error Type {kind:?}"));
    }
    Some(Refusal {
        status: reply.status,
        exception: error.child("Code")?.text.clone(),
        code: None,
        parameter: None,
        message: error.child("Message").map(|m| m.text.clone()).unwrap_or_default(),
    })
}

/// Checks a JSON value against a shape: no member the model lacks, required members
/// present, each of its JSON type (timestamps as epoch seconds), enums within the model's
/// values, lists and maps member by member.
pub fn conform_json(shape: Shape, v: &Value, path: &str, problems: &mut Vec<String>, tally: &mut Tally) {
    tally.members_checked += 1;
    let at = if path.is_empty() { "the answer" } else { path };
    match (shape.kind(), v) {
        ("structure", Value::Object(o)) => {
            let members = shape.members();
            for (k, x) in o {
                match members.iter().find(|m| m.name == k) {
                    Some(m) => conform_json(m.shape, x, &join(path, k), problems, tally),
                    None => problems.push(format!("{at} has {k}, which {} does not", shape.name)),
                }
            }
            for m in members.iter().filter(|m| m.required && !o.contains_key(m.name)) {
                problems.push(format!("{at} lacks {}, which {} requires", m.name, shape.name));
            }
        }
        ("list", Value::Array(items)) => {
            if let Some(item) = shape.list_member() {
                for (i, x) in items.iter().enumerate() {
                    conform_json(item.shape, x, &format!("{path}[{i}]"), problems, tally);
                }
            }
        }
        ("map", Value::Object(o)) => {
            if let Some(value) = shape.map_value() {
                for (k, x) in o {
                    conform_json(value.shape, x, &format!("{path}[{k}]"), problems, tally);
                }
            }
        }
        ("string", Value::String(s)) => check_enum(shape, s, at, problems),
        ("blob", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("timestamp" | "double" | "float", Value::Number(_)) => {}
        ("integer" | "long", Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        (kind, other) => problems.push(format!("{at} is {other}, not a {kind} ({})", shape.name)),
    }
}

fn check_enum(shape: Shape, s: &str, at: &str, problems: &mut Vec<String>) {
    let values = shape.enum_values();
    if !values.is_empty() && !values.contains(&s) {
        problems.push(format!("{at} is {s:?}, not one of {} {values:?}", shape.name));
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() { k.to_owned() } else { format!("{path}.{k}") }
}

/// Checks an awsQuery answer element against a shape: child elements named as the model
/// names the members, lists as `<member>` elements, scalars as text of their type.
pub fn conform_xml(shape: Shape, el: &Element, path: &str, problems: &mut Vec<String>, tally: &mut Tally) {
    tally.members_checked += 1;
    match shape.kind() {
        "structure" => {
            let members = shape.members();
            for c in &el.children {
                match members.iter().find(|m| m.wire_name() == c.name) {
                    Some(m) => conform_xml(m.shape, c, &format!("{path}/{}", c.name), problems, tally),
                    None => problems.push(format!("{path} has <{}>, which {} does not", c.name, shape.name)),
                }
            }
            for m in members.iter().filter(|m| m.required && el.child(m.wire_name()).is_none()) {
                problems.push(format!("{path} lacks <{}>, which {} requires", m.wire_name(), shape.name));
            }
        }
        "list" => {
            let Some(item) = shape.list_member() else { return };
            let name = item.location_name.unwrap_or("member");
            for (i, c) in el.children.iter().enumerate() {
                if c.name != name {
                    problems.push(format!("{path} holds <{}>, want <{name}>", c.name));
                }
                conform_xml(item.shape, c, &format!("{path}/{name}[{}]", i + 1), problems, tally);
            }
        }
        "map" => {
            for c in el.children.iter().filter(|c| c.name != "entry") {
                problems.push(format!("{path} holds <{}>, want <entry>", c.name));
            }
        }
        kind => {
            if let Some(c) = el.children.first() {
                problems.push(format!("{path} (a {kind}) holds <{}>", c.name));
            }
            scalar_text(shape, &el.text, path, problems);
        }
    }
}

fn scalar_text(shape: Shape, text: &str, path: &str, problems: &mut Vec<String>) {
    let ok = match shape.kind() {
        "integer" | "long" => text.parse::<i64>().is_ok(),
        "double" | "float" => text.parse::<f64>().is_ok(),
        "boolean" => matches!(text, "true" | "false"),
        "timestamp" => text.contains('T'),
        _ => true,
    };
    if !ok {
        problems.push(format!("{path} is {text:?}, not a {}", shape.kind()));
    }
    check_enum(shape, text, path, problems);
}
