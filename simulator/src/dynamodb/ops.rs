//! The operations, each validating its input as DynamoDB does before touching a table:
//! member types and constraints first, then expressions, then the table and its schema.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::expression::{self, Condition, ExprKind, Path, Placeholders, SortCondition};
use super::table::{KeyAttribute, KeySchema, PrimaryKey, Table};
use super::value::{self, AttributeValue, Item, item_from_json, item_size, item_to_json};
use super::{DynamoError, Tables};
use crate::validate::{self, Constraint, DYNAMODB_NAME_PATTERN, Step, Violation};

/// DynamoDB's limit on an item's size (400 KB).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// A Query or Scan page stops once it has read this much item data (1 MB).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

static NAME_PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| crate::fleet::re(r"^#[A-Za-z0-9_]+$"));
static VALUE_PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| crate::fleet::re(r"^:[A-Za-z0-9_]+$"));

/// DynamoDB's own violations, after the model's, worded as the model's are.
fn violations(value: &str, member: &'static str, constraints: Vec<Constraint>) -> Result<(), DynamoError> {
    if constraints.is_empty() {
        return Ok(());
    }
    let found: Vec<Violation> = constraints
        .into_iter()
        .map(|constraint| Violation { steps: vec![Step::Member(member)], constraint, value: Some(json!(value)) })
        .collect();
    Err(DynamoError::validation(validate::summary(&found)))
}

/// Typed access to the request's members. The request has been read against the model
/// (`crate::validate`) before any operation sees it, so the types are right; a getter
/// finding another type answers the SerializationException DynamoDB's reader would.
struct Input<'a>(&'a Map<String, Value>);

impl<'a> Input<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<&'a str>, DynamoError> {
        self.get(name).map(|v| v.as_str().ok_or_else(|| value::wrong_json_type(v, "String"))).transpose()
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, DynamoError> {
        self.get(name).map(|v| v.as_bool().ok_or_else(|| value::wrong_json_type(v, "Boolean"))).transpose()
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, DynamoError> {
        self.get(name).map(|v| v.as_i64().ok_or_else(|| value::wrong_json_type(v, "Integer"))).transpose()
    }

    fn object(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, DynamoError> {
        self.get(name)
            .map(|v| match v {
                Value::Object(m) => Ok(m),
                other => Err(value::wrong_json_type(other, "Map")),
            })
            .transpose()
    }

    fn array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, DynamoError> {
        self.get(name)
            .map(|v| match v {
                Value::Array(a) => Ok(a),
                other => Err(value::wrong_json_type(other, "List")),
            })
            .transpose()
    }

    /// An attribute map the model requires (`Key`, `Item`), parsed as DynamoDB parses one.
    fn item(&self, name: &str) -> Result<Item, DynamoError> {
        item_from_json(self.object(name)?.unwrap_or(&Map::new()))
    }
}

/// `TableName`: the model takes 1 to 1024 characters, a table's name or its ARN; then
/// DynamoDB's own naming rule applies to the name, "at least 3 characters long, but no
/// greater than 255" of `[a-zA-Z0-9_.-]`, refused in the model's wording (as DynamoDB
/// does: `2 validation errors detected: Value 'x!' at 'tableName' failed to satisfy
/// constraint: Member must have length greater than or equal to 3; ...`).
fn table_name(input: &Input) -> Result<String, DynamoError> {
    let given = input.string("TableName")?.unwrap_or_default();
    let name = match given.strip_prefix("arn:").and_then(|_| given.rsplit_once(":table/")) {
        Some((_, n)) => n,
        None => given,
    };
    let n = name.chars().count();
    let mut problems = Vec::new();
    if n < 3 {
        problems.push(Constraint::MinLength(3));
    }
    if n > 255 {
        problems.push(Constraint::MaxLength(255));
    }
    if !validate::matches(DYNAMODB_NAME_PATTERN, name) {
        problems.push(Constraint::Pattern(DYNAMODB_NAME_PATTERN));
    }
    violations(given, "TableName", problems)?;
    Ok(name.to_owned())
}

fn not_found() -> DynamoError {
    DynamoError::resource_not_found("Requested resource not found")
}

fn table_not_found(name: &str) -> DynamoError {
    DynamoError::resource_not_found(format!("Requested resource not found: Table: {name} not found"))
}

impl Tables {
    fn data_table(&self, name: &str) -> Result<&Table, DynamoError> {
        self.tables.get(name).ok_or_else(not_found)
    }

    fn data_table_mut(&mut self, name: &str) -> Result<&mut Table, DynamoError> {
        self.tables.get_mut(name).ok_or_else(not_found)
    }
}

/// The request's placeholder maps, checked as DynamoDB checks them.
struct ExpressionValues {
    names: BTreeMap<String, String>,
    values: BTreeMap<String, AttributeValue>,
}

/// Reads `ExpressionAttributeNames` and `ExpressionAttributeValues`. `expressions` says
/// whether the request has any expression that could use them (`missing` names the one
/// DynamoDB says is null when not).
fn expression_values(input: &Input, expressions: bool, missing: &str) -> Result<ExpressionValues, DynamoError> {
    let names_in = input.object("ExpressionAttributeNames")?;
    let values_in = input.object("ExpressionAttributeValues")?;
    if !expressions {
        if names_in.is_some() {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if values_in.is_some() {
            return Err(DynamoError::validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions: {missing} is null"
            )));
        }
    }
    let mut names = BTreeMap::new();
    if let Some(map) = names_in {
        if map.is_empty() {
            return Err(DynamoError::validation("ExpressionAttributeNames must not be empty"));
        }
        for (k, v) in map {
            if !NAME_PLACEHOLDER.is_match(k) {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            let name = v.as_str().ok_or_else(|| value::wrong_json_type(v, "String"))?;
            if name.is_empty() {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeNames contains invalid value: Empty attribute name for key {k}"
                )));
            }
            names.insert(k.clone(), name.to_owned());
        }
    }
    let mut values = BTreeMap::new();
    if let Some(map) = values_in {
        if map.is_empty() {
            return Err(DynamoError::validation("ExpressionAttributeValues must not be empty"));
        }
        for (k, v) in map {
            if !VALUE_PLACEHOLDER.is_match(k) {
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            let parsed = AttributeValue::from_json(v).map_err(|e| match e.error_type {
                "ValidationException" => DynamoError::validation(format!(
                    "ExpressionAttributeValues contains invalid value: {} for key {k}",
                    e.message
                )),
                _ => e,
            })?;
            values.insert(k.clone(), parsed);
        }
    }
    Ok(ExpressionValues { names, values })
}

fn parse_optional(input: &Input, member: &str, kind: ExprKind) -> Result<Option<Condition>, DynamoError> {
    input.string(member)?.map(|src| expression::parse_condition(src, kind)).transpose()
}

/// `ReturnValues`: of the model's enum, PutItem and DeleteItem accept two.
fn return_values(input: &Input) -> Result<bool, DynamoError> {
    match input.string("ReturnValues")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(_) => Err(DynamoError::validation("Return values set to invalid value")),
    }
}

fn return_old_on_failure(input: &Input) -> Result<bool, DynamoError> {
    Ok(input.string("ReturnValuesOnConditionCheckFailure")? == Some("ALL_OLD"))
}

/// `ReturnConsumedCapacity`: `Some(indexes)` when capacity is to be reported.
fn consumed_capacity_wanted(input: &Input) -> Result<Option<bool>, DynamoError> {
    Ok(match input.string("ReturnConsumedCapacity")? {
        Some("TOTAL") => Some(false),
        Some("INDEXES") => Some(true),
        _ => None,
    })
}

/// Capacity units as DynamoDB meters them: writes per started KB, reads per started
/// 4 KB (half for eventually consistent reads), at least one unit.
fn capacity(bytes: usize, unit: usize, factor: f64) -> f64 {
    bytes.div_ceil(unit).max(1) as f64 * factor
}

fn add_capacity(answer: &mut Value, wanted: Option<bool>, table: &str, units: f64) {
    match wanted {
        Some(false) => answer["ConsumedCapacity"] = json!({"TableName": table, "CapacityUnits": units}),
        Some(true) => {
            answer["ConsumedCapacity"] =
                json!({"TableName": table, "CapacityUnits": units, "Table": {"CapacityUnits": units}})
        }
        None => {}
    }
}

fn checked_condition(c: Option<&Condition>, ph: &mut Placeholders, kind: ExprKind) -> Result<(), DynamoError> {
    match c {
        Some(c) => ph.check(c, kind),
        None => Ok(()),
    }
}

/// What to project: a ProjectionExpression's paths, or the legacy AttributesToGet.
fn projection(input: &Input) -> Result<Option<Vec<Path>>, DynamoError> {
    let expr = input.string("ProjectionExpression")?;
    let legacy = input.array("AttributesToGet")?;
    match (expr, legacy) {
        (Some(_), Some(_)) => Err(DynamoError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        )),
        (Some(src), None) => expression::parse_projection(src).map(Some),
        (None, Some(names)) => {
            let paths = names
                .iter()
                .map(|n| {
                    let n = n.as_str().ok_or_else(|| value::wrong_json_type(n, "String"))?;
                    Ok(Path(vec![expression::Element::Placeholder(format!("\u{0}{n}"))]))
                })
                .collect::<Result<Vec<_>, DynamoError>>()?;
            Ok(Some(paths))
        }
        (None, None) => Ok(None),
    }
}

/// AttributesToGet names are literal attribute names, reserved words included; they
/// travel as placeholders no request can spell (a NUL prefix), resolved here.
fn legacy_names(paths: &Option<Vec<Path>>, names: &mut BTreeMap<String, String>) -> Vec<String> {
    let mut added = Vec::new();
    for p in paths.iter().flatten() {
        if let Some(expression::Element::Placeholder(k)) = p.0.first() {
            if let Some(n) = k.strip_prefix('\u{0}') {
                names.insert(k.clone(), n.to_owned());
                added.push(k.clone());
            }
        }
    }
    added
}

/// CreateTable: after the model's constraints, DynamoDB's own rules, in this order: the
/// table's name, the features not simulated, the key schema and its attribute
/// definitions, the billing mode.
pub fn create_table(tables: &mut Tables, input: &Map<String, Value>, now_secs: i64) -> Result<Value, DynamoError> {
    let input = Input(input);
    let name = table_name(&input)?;
    for (member, what) in [
        ("GlobalTableSourceArn", "GlobalTableSourceArn (a replica of a global table) is"),
        ("LocalSecondaryIndexes", "LocalSecondaryIndexes are"),
        ("GlobalSecondaryIndexes", "GlobalSecondaryIndexes are"),
        ("VectorIndexes", "VectorIndexes are"),
    ] {
        if input.get(member).is_some() {
            return Err(DynamoError::validation(format!("{what} not supported by this simulator")));
        }
    }
    // The model requires only TableName (a replica takes its schema from GlobalTableSourceArn).
    let Some(key_schema) = input.array("KeySchema")? else {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: KeySchema must be specified unless GlobalTableSourceArn is",
        ));
    };
    let member = |v: &Value, m: &str| v.get(m).and_then(Value::as_str).unwrap_or_default().to_owned();
    let keys: Vec<(String, String)> =
        key_schema.iter().map(|k| (member(k, "AttributeName"), member(k, "KeyType"))).collect();
    if keys.len() > 2 {
        let shown: Vec<String> =
            keys.iter().map(|(a, t)| format!("KeySchemaElement(attributeName={a}, keyType={t})")).collect();
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '[{}]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
            shown.join(", ")
        )));
    }
    // A missing AttributeDefinitions defines nothing.
    let definitions = input.array("AttributeDefinitions")?.map(Vec::as_slice).unwrap_or_default();
    let defined: Vec<(String, &'static str)> = definitions
        .iter()
        .map(|d| {
            let kind = member(d, "AttributeType");
            (member(d, "AttributeName"), value::TYPE_NAMES.iter().copied().find(|t| *t == kind).unwrap_or("S"))
        })
        .collect();
    let schema = key_schema_of(&keys, &defined)?;
    let (billing_mode, read, write) = billing(&input)?;
    let deletion_protection = input.boolean("DeletionProtectionEnabled")?.unwrap_or(false);
    if tables.tables.contains_key(&name) {
        return Err(DynamoError::resource_in_use(format!("Table already exists: {name}")));
    }
    let mut table = tables.new_table(&name, schema, now_secs as f64);
    table.billing_mode = billing_mode.to_owned();
    table.read_capacity = read;
    table.write_capacity = write;
    table.deletion_protection = deletion_protection;
    let description = table.describe("ACTIVE");
    tables.tables.insert(name, table);
    Ok(json!({"TableDescription": description}))
}

/// One HASH key then at most one RANGE key, each defined exactly once, and no other
/// definitions.
fn key_schema_of(keys: &[(String, String)], defined: &[(String, &'static str)]) -> Result<KeySchema, DynamoError> {
    match keys {
        [(_, t), ..] if t != "HASH" => {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ));
        }
        [_, (_, t)] if t != "RANGE" => {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        [(a, _), (b, _)] if a == b => {
            return Err(DynamoError::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
        _ => {}
    }
    let key_names: Vec<&String> = keys.iter().map(|(n, _)| n).collect();
    let defined_names: Vec<&String> = defined.iter().map(|(d, _)| d).collect();
    let shown = |v: &[&String]| format!("[{}]", v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
    let undefined: Vec<&String> = key_names.iter().copied().filter(|k| !defined_names.contains(k)).collect();
    if !undefined.is_empty() {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: {}, AttributeDefinitions: {}",
            shown(&undefined),
            shown(&defined_names)
        )));
    }
    if defined_names.iter().any(|d| !key_names.contains(d)) {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: {}, KeySchema: {}",
            shown(&defined_names),
            shown(&key_names)
        )));
    }
    if defined.len() != keys.len() {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let attribute = |name: &String| KeyAttribute {
        name: name.clone(),
        kind: defined.iter().find(|(d, _)| d == name).map_or("S", |(_, k)| *k),
    };
    Ok(KeySchema { hash: attribute(&keys[0].0), range: keys.get(1).map(|(n, _)| attribute(n)) })
}

/// `BillingMode` (default `PROVISIONED`) and the `ProvisionedThroughput` it needs (whose
/// members the model requires, at least 1).
fn billing(input: &Input) -> Result<(&'static str, i64, i64), DynamoError> {
    let throughput = input.object("ProvisionedThroughput")?.map(Input);
    match (input.string("BillingMode")?.unwrap_or("PROVISIONED"), throughput) {
        ("PAY_PER_REQUEST", None) => Ok(("PAY_PER_REQUEST", 0, 0)),
        ("PAY_PER_REQUEST", Some(_)) => Err(DynamoError::validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )),
        (_, Some(t)) => {
            let (read, write) = (t.integer("ReadCapacityUnits")?, t.integer("WriteCapacityUnits")?);
            Ok(("PROVISIONED", read.unwrap_or(1), write.unwrap_or(1)))
        }
        (_, None) => Err(DynamoError::validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
    }
}

pub fn describe_table(tables: &Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let name = table_name(&Input(input))?;
    let table = tables.tables.get(&name).ok_or_else(|| table_not_found(&name))?;
    Ok(json!({"Table": table.describe("ACTIVE")}))
}

pub fn delete_table(tables: &mut Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let name = table_name(&Input(input))?;
    let table = tables.tables.get(&name).ok_or_else(|| table_not_found(&name))?;
    if table.deletion_protection {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Table '{name}' can't be deleted while DeletionProtectionEnabled is set to True"
        )));
    }
    let description = table.describe("DELETING");
    tables.tables.remove(&name);
    Ok(json!({"TableDescription": description}))
}

pub fn list_tables(tables: &Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let input = Input(input);
    let limit = input.integer("Limit")?.unwrap_or(100);
    let start = input.string("ExclusiveStartTableName")?;
    let mut names: Vec<&String> = tables.tables.keys().filter(|n| start.is_none_or(|s| n.as_str() > s)).collect();
    let more = names.len() > limit as usize;
    names.truncate(limit as usize);
    let mut answer = json!({"TableNames": names});
    if let (true, Some(last)) = (more, names.last()) {
        answer["LastEvaluatedTableName"] = json!(last);
    }
    Ok(answer)
}

pub fn update_time_to_live(tables: &mut Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let input = Input(input);
    let name = table_name(&input)?;
    let empty = Map::new();
    let spec = Input(input.object("TimeToLiveSpecification")?.unwrap_or(&empty));
    let enabled = spec.boolean("Enabled")?.unwrap_or(false);
    let attribute = spec.string("AttributeName")?.unwrap_or_default();
    let table = tables.data_table_mut(&name)?;
    match (&table.ttl_attribute, enabled) {
        (Some(_), true) => return Err(DynamoError::validation("TimeToLive is already enabled")),
        (None, false) => return Err(DynamoError::validation("TimeToLive is already disabled")),
        (Some(current), false) if current != attribute => {
            return Err(DynamoError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {current}"
            )));
        }
        _ => {}
    }
    table.ttl_attribute = enabled.then(|| attribute.to_owned());
    Ok(json!({"TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": enabled}}))
}

pub fn describe_time_to_live(tables: &Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let name = table_name(&Input(input))?;
    let table = tables.tables.get(&name).ok_or_else(|| table_not_found(&name))?;
    Ok(match &table.ttl_attribute {
        Some(a) => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": a}}),
        None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
    })
}

pub fn get_item(tables: &Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let input = Input(input);
    let name = table_name(&input)?;
    let key = input.item("Key")?;
    let consistent = input.boolean("ConsistentRead")?.unwrap_or(false);
    let wanted = consumed_capacity_wanted(&input)?;
    let paths = projection(&input)?;
    let has_expression = input.string("ProjectionExpression")?.is_some();
    if !has_expression && input.get("ExpressionAttributeNames").is_some() {
        return Err(DynamoError::validation("ExpressionAttributeNames can only be specified when using expressions"));
    }
    let mut ev = expression_values(&input, has_expression, "ProjectionExpression")?;
    let legacy = legacy_names(&paths, &mut ev.names);
    let mut ph = Placeholders::new(&ev.names, &ev.values);
    if let Some(p) = &paths {
        ph.check_projection(p)?;
    }
    check_used_except(&ph, &ev, &legacy)?;
    let table = tables.data_table(&name)?;
    let pk = table.key_of_request(&key)?;
    let factor = if consistent { 1.0 } else { 0.5 };
    let mut answer = json!({});
    let mut bytes = 0;
    if let Some(item) = table.get(&pk) {
        bytes = item_size(item);
        let shown = match &paths {
            Some(p) => ph.project(item, p),
            None => item.clone(),
        };
        answer["Item"] = item_to_json(&shown);
    }
    add_capacity(&mut answer, wanted, &table.name, capacity(bytes, 4096, factor));
    Ok(answer)
}

/// `check_all_used`, not counting the names made up for AttributesToGet.
fn check_used_except(ph: &Placeholders, ev: &ExpressionValues, legacy: &[String]) -> Result<(), DynamoError> {
    if legacy.is_empty() {
        return ph.check_all_used();
    }
    let mut names = ev.names.clone();
    names.retain(|k, _| !legacy.contains(k));
    let mut probe = Placeholders::new(&names, &ev.values);
    probe.mark_used_from(ph);
    probe.check_all_used()
}

/// The parts every conditional write shares: the condition, its placeholders, and what
/// to answer.
struct Write {
    condition: Option<Condition>,
    values: ExpressionValues,
    return_old: bool,
    return_old_on_failure: bool,
    wanted: Option<bool>,
}

fn write_options(input: &Input) -> Result<Write, DynamoError> {
    let return_old = return_values(input)?;
    let return_old_on_failure = return_old_on_failure(input)?;
    let wanted = consumed_capacity_wanted(input)?;
    if input.get("Expected").is_some() {
        return Err(DynamoError::validation(match input.get("ConditionExpression") {
            Some(_) => {
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
            }
            None => "The legacy Expected parameter is not supported by this simulator; use ConditionExpression",
        }));
    }
    let condition = parse_optional(input, "ConditionExpression", ExprKind::Condition)?;
    let values = expression_values(input, condition.is_some(), "ConditionExpression")?;
    {
        let mut ph = Placeholders::new(&values.names, &values.values);
        checked_condition(condition.as_ref(), &mut ph, ExprKind::Condition)?;
        // PutItem and DeleteItem word this as a constraint violation; Query does not.
        ph.check_all_used()
            .map_err(|e| DynamoError::validation(format!("1 validation error detected: {}", e.message)))?;
    }
    Ok(Write { condition, values, return_old, return_old_on_failure, wanted })
}

impl Write {
    /// Fails the write as DynamoDB does when its condition does not hold for `old`.
    fn check(&self, old: Option<&Item>) -> Result<(), DynamoError> {
        let Some(c) = &self.condition else { return Ok(()) };
        let ph = Placeholders::new(&self.values.names, &self.values.values);
        if ph.evaluate(c, old) {
            return Ok(());
        }
        let item = old.filter(|_| self.return_old_on_failure).map(item_to_json);
        Err(DynamoError::conditional_check_failed(item))
    }

    fn answer(&self, table: &str, old: Option<&Item>, bytes: usize) -> Value {
        let mut answer = json!({});
        if let (true, Some(old)) = (self.return_old, old) {
            answer["Attributes"] = item_to_json(old);
        }
        add_capacity(&mut answer, self.wanted, table, capacity(bytes, 1024, 1.0));
        answer
    }
}

pub fn put_item(tables: &mut Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let input = Input(input);
    let name = table_name(&input)?;
    let item = input.item("Item")?;
    let write = write_options(&input)?;
    let table = tables.data_table_mut(&name)?;
    let key = table.key_of_item(&item)?;
    let size = item_size(&item);
    if size > MAX_ITEM_BYTES {
        return Err(DynamoError::validation("Item size has exceeded the maximum allowed size"));
    }
    let old = table.get(&key);
    write.check(old)?;
    let bytes = size.max(old.map_or(0, item_size));
    let old = table.put(key, item);
    Ok(write.answer(&table.name, old.as_ref(), bytes))
}

pub fn delete_item(tables: &mut Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let input = Input(input);
    let name = table_name(&input)?;
    let key = input.item("Key")?;
    let write = write_options(&input)?;
    let table = tables.data_table_mut(&name)?;
    let key: PrimaryKey = table.key_of_request(&key)?;
    write.check(table.get(&key))?;
    let old = table.remove(&key);
    let bytes = old.as_ref().map_or(0, item_size);
    Ok(write.answer(&table.name, old.as_ref(), bytes))
}

/// `Select`: what a Query answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    Count,
    Specific,
}

fn select(input: &Input, projected: bool) -> Result<Select, DynamoError> {
    let v = input.string("Select")?;
    let refuse = |what: &str| {
        Err(DynamoError::validation(format!(
            "1 validation error detected: Cannot specify the ProjectionExpression when choosing to get {what}"
        )))
    };
    match (v, projected) {
        (None, true) | (Some("SPECIFIC_ATTRIBUTES"), true) => Ok(Select::Specific),
        (None, false) | (Some("ALL_ATTRIBUTES"), false) => Ok(Select::All),
        (Some("SPECIFIC_ATTRIBUTES"), false) => Err(DynamoError::validation(
            "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        (Some("ALL_PROJECTED_ATTRIBUTES"), _) => Err(DynamoError::validation(
            "1 validation error detected: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        (Some("COUNT"), false) => Ok(Select::Count),
        (Some("COUNT"), true) => refuse("only the Count"),
        (Some(other), _) => refuse(other),
    }
}

pub fn query(tables: &Tables, input: &Map<String, Value>) -> Result<Value, DynamoError> {
    let input = Input(input);
    let name = table_name(&input)?;
    let consistent = input.boolean("ConsistentRead")?.unwrap_or(false);
    let forward = input.boolean("ScanIndexForward")?.unwrap_or(true);
    let wanted = consumed_capacity_wanted(&input)?;
    let limit = input.integer("Limit")?;
    let start = input.object("ExclusiveStartKey")?.map(item_from_json).transpose()?;
    let paths = projection(&input)?;
    let selected = select(&input, paths.is_some())?;
    for legacy in ["KeyConditions", "QueryFilter"] {
        if input.get(legacy).is_some() {
            return Err(DynamoError::validation(format!(
                "The legacy {legacy} parameter is not supported by this simulator; use KeyConditionExpression and FilterExpression"
            )));
        }
    }
    let key_src = input.string("KeyConditionExpression")?.ok_or_else(|| {
        DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
    })?;
    let key_expr = expression::parse_condition(key_src, ExprKind::KeyCondition)?;
    let filter = parse_optional(&input, "FilterExpression", ExprKind::Filter)?;
    let mut ev = expression_values(&input, true, "KeyConditionExpression")?;
    let legacy = legacy_names(&paths, &mut ev.names);
    let mut ph = Placeholders::new(&ev.names, &ev.values);
    ph.check(&key_expr, ExprKind::KeyCondition)?;
    checked_condition(filter.as_ref(), &mut ph, ExprKind::Filter)?;
    if let Some(p) = &paths {
        ph.check_projection(p)?;
    }
    check_used_except(&ph, &ev, &legacy)?;
    let table = tables.data_table(&name)?;
    if let Some(index) = input.string("IndexName")? {
        return Err(DynamoError::validation(format!("The table does not have the specified index: {index}")));
    }
    let key = expression::key_condition(&key_expr, &ph, &table.key)?;
    if let Some(f) = &filter {
        let keys = [Some(&table.key.hash), table.key.range.as_ref()];
        if let Some(k) = keys.into_iter().flatten().find(|k| ph.attributes_read(f).contains(&k.name)) {
            return Err(DynamoError::validation(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {}",
                k.name
            )));
        }
    }
    let start = start.map(|s| start_position(table, &s, &key.partition)).transpose()?;
    let page = Page { limit: limit.map(|l| l as usize), forward, start };
    let read = read_partition(table, &key.partition, key.sort.as_ref(), &page);
    let mut items = Vec::new();
    for item in &read.items {
        if filter.as_ref().is_none_or(|f| ph.evaluate(f, Some(item))) {
            items.push(match &paths {
                Some(p) => ph.project(item, p),
                None => (*item).clone(),
            });
        }
    }
    let mut answer = json!({"Count": items.len(), "ScannedCount": read.items.len()});
    if selected != Select::Count {
        answer["Items"] = Value::Array(items.iter().map(item_to_json).collect());
    }
    if let Some(last) = read.last_evaluated {
        answer["LastEvaluatedKey"] = item_to_json(&table.key_item(&last));
    }
    let factor = if consistent { 1.0 } else { 0.5 };
    add_capacity(&mut answer, wanted, &table.name, capacity(read.bytes, 4096, factor));
    Ok(answer)
}

/// An `ExclusiveStartKey`: the full primary key of an item in the queried partition.
fn start_position(table: &Table, start: &Item, partition: &value::KeyValue) -> Result<PrimaryKey, DynamoError> {
    let key = table
        .key_of_request(start)
        .map_err(|e| DynamoError::validation(format!("The provided starting key is invalid: {}", e.message)))?;
    if key.0 != *partition {
        return Err(DynamoError::validation(
            "The provided starting key is outside query boundaries based on provided conditions",
        ));
    }
    Ok(key)
}

/// Where a page starts and stops.
pub struct Page {
    pub limit: Option<usize>,
    pub forward: bool,
    /// The key of the last item of the previous page.
    pub start: Option<PrimaryKey>,
}

pub struct PageRead<'t> {
    pub items: Vec<&'t Item>,
    pub bytes: usize,
    pub last_evaluated: Option<PrimaryKey>,
}

/// Reads one page of a partition in sort key order (reversed when not `forward`): items
/// matching the sort condition after the start key, stopping at `limit` items or once
/// 1 MB of item data has been read. A page stopped by the limit carries
/// `LastEvaluatedKey` even when nothing follows, as DynamoDB's does ("a non-empty
/// LastEvaluatedKey does not necessarily mean there is more data"); one that read the
/// whole partition does not.
pub fn read_partition<'t>(
    table: &'t Table,
    partition: &value::KeyValue,
    sort: Option<&SortCondition>,
    page: &Page,
) -> PageRead<'t> {
    let matching = |sk: &Option<value::KeyValue>| match (sort, sk) {
        (None, _) => true,
        (Some(c), Some(v)) => c.matches(v),
        (Some(_), None) => false,
    };
    let after_start = |sk: &Option<value::KeyValue>| match &page.start {
        None => true,
        Some((_, start)) if page.forward => sk > start,
        Some((_, start)) => sk < start,
    };
    let rows: Box<dyn Iterator<Item = (&Option<value::KeyValue>, &Item)>> =
        if page.forward { Box::new(table.partition(partition)) } else { Box::new(table.partition(partition).rev()) };
    let mut read = PageRead { items: Vec::new(), bytes: 0, last_evaluated: None };
    let mut rows = rows.filter(|(sk, _)| matching(sk) && after_start(sk)).peekable();
    while let Some((sk, item)) = rows.next() {
        read.items.push(item);
        read.bytes += item_size(item);
        let full = page.limit.is_some_and(|l| read.items.len() >= l);
        let big = read.bytes >= MAX_PAGE_BYTES && rows.peek().is_some();
        if full || big {
            read.last_evaluated = Some((partition.clone(), sk.clone()));
            break;
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::call;

    fn tables() -> Tables {
        let mut t = Tables::default();
        let spec = crate::fleet::TableSpec {
            name: "leases".into(),
            partition_key: "pk".into(),
            sort_key: Some("sk".into()),
            ttl_attribute: Some("expires".into()),
        };
        t.create(&spec, 0);
        t
    }

    fn run(t: &mut Tables, op: &str, body: Value) -> Result<Value, DynamoError> {
        call(t, op, body.as_object().unwrap(), 0)
    }

    fn put(t: &mut Tables, pk: &str, sk: &str, extra: Value) {
        let mut item = json!({"pk": {"S": pk}, "sk": {"S": sk}});
        for (k, v) in extra.as_object().unwrap() {
            item[k] = v.clone();
        }
        run(t, "PutItem", json!({"TableName": "leases", "Item": item})).unwrap();
    }

    fn query_sks(answer: &Value) -> Vec<String> {
        answer["Items"].as_array().unwrap().iter().map(|i| i["sk"]["S"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn query_answers_a_partition_in_byte_order_both_ways() {
        let mut t = tables();
        for sk in ["b", "a", "B", "é", "ab"] {
            put(&mut t, "p", sk, json!({}));
        }
        put(&mut t, "other", "a", json!({}));
        let q = |forward: bool| {
            json!({"TableName": "leases", "KeyConditionExpression": "pk = :p", "ScanIndexForward": forward,
                "ExpressionAttributeValues": {":p": {"S": "p"}}})
        };
        assert_eq!(query_sks(&run(&mut t, "Query", q(true)).unwrap()), ["B", "a", "ab", "b", "é"]);
        assert_eq!(query_sks(&run(&mut t, "Query", q(false)).unwrap()), ["é", "b", "ab", "a", "B"]);
    }

    #[test]
    fn numeric_sort_keys_sort_numerically() {
        let mut t = Tables::default();
        run(
            &mut t,
            "CreateTable",
            json!({"TableName": "nums", "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}]}),
        )
        .unwrap();
        for n in ["10", "9", "-1", "1e2", "2.5"] {
            run(&mut t, "PutItem", json!({"TableName": "nums", "Item": {"pk": {"S": "p"}, "n": {"N": n}}})).unwrap();
        }
        let a = run(
            &mut t,
            "Query",
            json!({"TableName": "nums", "KeyConditionExpression": "pk = :p AND n > :z",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":z": {"N": "0"}}}),
        )
        .unwrap();
        let ns: Vec<&str> = a["Items"].as_array().unwrap().iter().map(|i| i["n"]["N"].as_str().unwrap()).collect();
        assert_eq!(ns, ["2.5", "9", "10", "100"]);
    }

    #[test]
    fn limit_pages_carry_last_evaluated_key_and_resume_after_it() {
        let mut t = tables();
        for sk in ["1", "2", "3", "4", "5"] {
            put(&mut t, "p", sk, json!({}));
        }
        let mut seen = Vec::new();
        let mut start: Option<Value> = None;
        let mut pages = 0;
        loop {
            let mut body = json!({"TableName": "leases", "KeyConditionExpression": "pk = :p", "Limit": 2,
                "ExpressionAttributeValues": {":p": {"S": "p"}}});
            if let Some(s) = &start {
                body["ExclusiveStartKey"] = s.clone();
            }
            let a = run(&mut t, "Query", body).unwrap();
            pages += 1;
            seen.extend(query_sks(&a));
            match a.get("LastEvaluatedKey") {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        assert_eq!(seen, ["1", "2", "3", "4", "5"]);
        assert_eq!(pages, 3);
        // A limit that ends exactly at the last item still says where it stopped.
        let a = run(
            &mut t,
            "Query",
            json!({"TableName": "leases", "KeyConditionExpression": "pk = :p", "Limit": 5,
                "ExpressionAttributeValues": {":p": {"S": "p"}}}),
        )
        .unwrap();
        assert_eq!(a["LastEvaluatedKey"], json!({"pk": {"S": "p"}, "sk": {"S": "5"}}));
    }

    #[test]
    fn a_page_stops_after_one_megabyte_of_items() {
        let mut t = tables();
        let blob = "x".repeat(300 * 1024);
        for sk in ["1", "2", "3", "4", "5"] {
            put(&mut t, "p", sk, json!({"data": {"S": blob}}));
        }
        let body = json!({"TableName": "leases", "KeyConditionExpression": "pk = :p", "Select": "COUNT",
            "ExpressionAttributeValues": {":p": {"S": "p"}}});
        let a = run(&mut t, "Query", body).unwrap();
        assert_eq!(a["Count"], 4, "4 × 300 KB passes 1 MB");
        assert_eq!(a["LastEvaluatedKey"]["sk"]["S"], "4");
        assert!(a.get("Items").is_none(), "Select COUNT answers no items");
    }

    #[test]
    fn filters_apply_after_the_limit_and_cannot_name_keys() {
        let mut t = tables();
        for (sk, state) in [("1", "a"), ("2", "b"), ("3", "a")] {
            put(&mut t, "p", sk, json!({"state": {"S": state}}));
        }
        let body = |filter: &str| {
            json!({"TableName": "leases", "KeyConditionExpression": "pk = :p", "FilterExpression": filter, "Limit": 2,
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"S": "a"}}})
        };
        let mut named = body("#st = :s");
        named["ExpressionAttributeNames"] = json!({"#st": "state"});
        let a = run(&mut t, "Query", named).unwrap();
        assert_eq!((a["Count"].as_u64(), a["ScannedCount"].as_u64()), (Some(1), Some(2)));
        let e = run(&mut t, "Query", body("sk = :s")).unwrap_err();
        assert_eq!(
            e.message,
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
        );
    }

    #[test]
    fn conditional_writes_and_their_failures() {
        let mut t = tables();
        let claim = json!({"TableName": "leases", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"});
        run(&mut t, "PutItem", claim.clone()).unwrap();
        let e = run(&mut t, "PutItem", claim).unwrap_err();
        assert_eq!(
            (e.error_type, e.message.as_str()),
            ("ConditionalCheckFailedException", "The conditional request failed")
        );
        assert_eq!(e.body()["Item"]["v"], json!({"N": "1"}));
        let del = json!({"TableName": "leases", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}, "ReturnValues": "ALL_OLD"});
        let e = run(&mut t, "DeleteItem", del.clone()).unwrap_err();
        assert!(e.body().get("Item").is_none(), "no old item unless asked");
        let mut ok = del;
        ok["ExpressionAttributeValues"][":v"] = json!({"N": "1.0"});
        let a = run(&mut t, "DeleteItem", ok).unwrap();
        assert_eq!(a["Attributes"]["v"], json!({"N": "1"}));
        assert_eq!(t.table("leases").unwrap().item_count(), 0);
    }

    #[test]
    fn items_are_validated_against_the_schema() {
        let mut t = tables();
        let put = |t: &mut Tables, item: Value| {
            run(t, "PutItem", json!({"TableName": "leases", "Item": item})).unwrap_err().message
        };
        assert_eq!(
            put(&mut t, json!({"sk": {"S": "1"}})),
            "One or more parameter values were invalid: Missing the key pk in the item"
        );
        assert_eq!(
            put(&mut t, json!({"pk": {"N": "1"}, "sk": {"S": "1"}})),
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
        );
        assert!(
            put(&mut t, json!({"pk": {"S": ""}, "sk": {"S": "1"}}))
                .ends_with("cannot contain an empty string value. Key: pk")
        );
        let big = "x".repeat(MAX_ITEM_BYTES);
        assert_eq!(
            put(&mut t, json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "d": {"S": big}})),
            "Item size has exceeded the maximum allowed size"
        );
        let get = |t: &mut Tables, key: Value| {
            run(t, "GetItem", json!({"TableName": "leases", "Key": key})).unwrap_err().message
        };
        assert_eq!(get(&mut t, json!({"pk": {"S": "a"}})), "The provided key element does not match the schema");
        assert_eq!(
            get(&mut t, json!({"pk": {"S": "a"}, "sk": {"N": "1"}})),
            "The provided key element does not match the schema"
        );
        assert_eq!(
            get(&mut t, json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "x": {"S": "1"}})),
            "The provided key element does not match the schema"
        );
        let e = run(&mut t, "GetItem", json!({"TableName": "nope", "Key": {"pk": {"S": "a"}}})).unwrap_err();
        assert_eq!((e.error_type, e.message.as_str()), ("ResourceNotFoundException", "Requested resource not found"));
        let e = run(&mut t, "GetItem", json!({"Key": {"pk": {"S": "a"}}})).unwrap_err();
        assert!(e.message.contains("Value null at 'tableName' failed to satisfy constraint: Member must not be null"));
    }

    #[test]
    fn expression_members_are_checked() {
        let mut t = tables();
        let base = json!({"TableName": "leases", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}}});
        let with = |extra: Value| {
            let mut b = base.clone();
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let msg = |t: &mut Tables, extra: Value| run(t, "PutItem", with(extra)).unwrap_err().message;
        assert_eq!(
            msg(&mut t, json!({"ExpressionAttributeValues": {":v": {"S": "1"}}})),
            "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"
        );
        assert_eq!(
            msg(&mut t, json!({"ConditionExpression": "a = :v", "ExpressionAttributeValues": {}})),
            "ExpressionAttributeValues must not be empty"
        );
        assert_eq!(
            msg(
                &mut t,
                json!({"ConditionExpression": "#a = :v", "ExpressionAttributeNames": {"a": "a"}, "ExpressionAttributeValues": {":v": {"S": "1"}}})
            ),
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""
        );
        assert_eq!(msg(&mut t, json!({"ReturnValues": "ALL_NEW"})), "Return values set to invalid value");
        assert!(msg(&mut t, json!({"ReturnValues": "SOME"})).contains("Member must satisfy enum value set"));
    }

    #[test]
    fn tables_are_created_described_and_deleted() {
        let mut t = Tables::default();
        let create = json!({"TableName": "tab1", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "SSESpecification": {"Enabled": true}, "Tags": [{"Key": "a", "Value": "b"}]});
        let a = run(&mut t, "CreateTable", create.clone()).unwrap();
        assert_eq!(a["TableDescription"]["TableStatus"], "ACTIVE");
        let e = run(&mut t, "CreateTable", create.clone()).unwrap_err();
        assert_eq!((e.error_type, e.message.as_str()), ("ResourceInUseException", "Table already exists: tab1"));
        let d = run(&mut t, "DescribeTable", json!({"TableName": "tab1"})).unwrap();
        assert_eq!(d["Table"]["KeySchema"], json!([{"AttributeName": "id", "KeyType": "HASH"}]));
        run(&mut t, "PutItem", json!({"TableName": "tab1", "Item": {"id": {"S": "x"}}})).unwrap();
        assert!(
            run(&mut t, "GetItem", json!({"TableName": "tab1", "Key": {"id": {"S": "x"}}}))
                .unwrap()
                .get("Item")
                .is_some()
        );
        run(&mut t, "DeleteTable", json!({"TableName": "tab1"})).unwrap();
        let e = run(&mut t, "DescribeTable", json!({"TableName": "tab1"})).unwrap_err();
        assert_eq!(e.message, "Requested resource not found: Table: tab1 not found");
        let bad = |body: Value| run(&mut Tables::default(), "CreateTable", body).unwrap_err().message;
        let mut no_def = create.clone();
        no_def["AttributeDefinitions"] = json!([{"AttributeName": "other", "AttributeType": "S"}]);
        assert!(bad(no_def).contains("Some index key attributes are not defined"));
        let mut range_first = create.clone();
        range_first["KeySchema"] = json!([{"AttributeName": "id", "KeyType": "RANGE"}]);
        assert!(bad(range_first).contains("first KeySchemaElement is not a HASH"));
        let mut provisioned = create.clone();
        provisioned["BillingMode"] = json!("PROVISIONED");
        assert!(bad(provisioned).contains("must both be specified when BillingMode is PROVISIONED"));
        let mut short = create;
        short["TableName"] = json!("a!");
        assert!(bad(short).starts_with("2 validation errors detected"));
    }

    #[test]
    fn ttl_is_recorded_and_expired_items_stay_readable() {
        let mut t = tables();
        let d = run(&mut t, "DescribeTimeToLive", json!({"TableName": "leases"})).unwrap();
        assert_eq!(d["TimeToLiveDescription"], json!({"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}));
        put(&mut t, "p", "1", json!({"expires": {"N": "1"}}));
        let got = run(&mut t, "GetItem", json!({"TableName": "leases", "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}}}))
            .unwrap();
        assert!(got.get("Item").is_some(), "TTL deletion is lazy: an expired item is still there");
        let e = run(
            &mut t,
            "UpdateTimeToLive",
            json!({"TableName": "leases", "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": true}}),
        );
        assert_eq!(e.unwrap_err().message, "TimeToLive is already enabled");
        run(
            &mut t,
            "UpdateTimeToLive",
            json!({"TableName": "leases", "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": false}}),
        )
        .unwrap();
        let d = run(&mut t, "DescribeTimeToLive", json!({"TableName": "leases"})).unwrap();
        assert_eq!(d["TimeToLiveDescription"]["TimeToLiveStatus"], "DISABLED");
    }

    #[test]
    fn projections_and_legacy_attributes_to_get() {
        let mut t = tables();
        put(&mut t, "p", "1", json!({"status": {"S": "ok"}, "other": {"S": "x"}}));
        let key = json!({"pk": {"S": "p"}, "sk": {"S": "1"}});
        let a = run(
            &mut t,
            "GetItem",
            json!({"TableName": "leases", "Key": key, "ProjectionExpression": "#s, pk",
            "ExpressionAttributeNames": {"#s": "status"}}),
        )
        .unwrap();
        assert_eq!(a["Item"], json!({"pk": {"S": "p"}, "status": {"S": "ok"}}));
        let a =
            run(&mut t, "GetItem", json!({"TableName": "leases", "Key": key, "AttributesToGet": ["status"]})).unwrap();
        assert_eq!(a["Item"], json!({"status": {"S": "ok"}}));
        let e = run(&mut t, "GetItem", json!({"TableName": "leases", "Key": key, "ProjectionExpression": "status"}))
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"
        );
    }

    fn create(extra: Value) -> Value {
        let mut body = json!({"TableName": "tab1", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]});
        for (k, v) in extra.as_object().unwrap() {
            match v {
                Value::Null => body.as_object_mut().unwrap().remove(k),
                v => body.as_object_mut().unwrap().insert(k.clone(), v.clone()),
            };
        }
        body
    }

    #[test]
    fn the_model_is_checked_before_dynamodbs_own_rules() {
        let mut t = tables();
        let e = |t: &mut Tables, op: &str, body: Value| run(t, op, body).unwrap_err();
        // A null enum member is "must not be null", not the enum.
        let keyless = e(&mut t, "CreateTable", create(json!({"KeySchema": [{"AttributeName": "id"}]})));
        assert_eq!(
            keyless.message,
            "1 validation error detected: Value null at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must not be null"
        );
        // The model's length first, then DynamoDB's naming rule, in the same wording.
        let empty = e(&mut t, "DescribeTable", json!({"TableName": ""}));
        assert_eq!(
            empty.message,
            "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        let short = e(&mut t, "DescribeTable", json!({"TableName": "x!"}));
        assert_eq!(
            short.message,
            "2 validation errors detected: Value 'x!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'x!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
        let long = e(&mut t, "DescribeTable", json!({"TableName": "a".repeat(256)}));
        assert!(long.message.ends_with("Member must have length less than or equal to 255"), "{}", long.message);
        let arn =
            run(&mut t, "DescribeTable", json!({"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/leases"}));
        assert_eq!(arn.unwrap()["Table"]["TableName"], "leases");
        // Lengths are worded one bound each, as AWS's validator words them.
        let name = e(&mut t, "CreateTable", create(json!({"KeySchema": [{"AttributeName": "", "KeyType": "HASH"}]})));
        assert!(name.message.contains("Value '' at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{}", name.message);
        // The model requires only TableName: a missing AttributeDefinitions defines nothing.
        let undefined = e(&mut t, "CreateTable", create(json!({"AttributeDefinitions": null})));
        assert_eq!(
            undefined.message,
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: []"
        );
        let unused = e(
            &mut t,
            "CreateTable",
            create(json!({"AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "N"}]})),
        );
        assert!(
            unused
                .message
                .contains("Some AttributeDefinitions are not used. AttributeDefinitions: [id, x], KeySchema: [id]")
        );
        let no_throughput = e(
            &mut t,
            "CreateTable",
            create(json!({"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"WriteCapacityUnits": 1}})),
        );
        assert!(no_throughput.message.contains("Value null at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must not be null"));
        // Query: the index name's constraints before the table is looked at.
        let index = e(
            &mut t,
            "Query",
            json!({"TableName": "leases", "IndexName": "aa", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}}}),
        );
        assert!(index.message.contains(
            "Value 'aa' at 'indexName' failed to satisfy constraint: Member must have length greater than or equal to 3"
        ));
        // A key attribute name past the model's 65535 characters.
        let huge = e(&mut t, "GetItem", json!({"TableName": "leases", "Key": {"a".repeat(65536): {"S": "x"}}}));
        assert!(huge.message.contains("at 'key' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 65535]"));
    }

    #[test]
    fn wrong_types_are_serialization_errors_before_anything_else() {
        let mut t = tables();
        for (op, body, message) in [
            (
                "PutItem",
                json!({"TableName": "leases", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                "ConditionExpression": "attribute_not_exists(pk)", "ExpressionAttributeValues": {":p": "x"}}),
                "Unexpected value type in payload",
            ),
            (
                "PutItem",
                json!({"TableName": "leases", "Item": {"pk": {"S": 5}}}),
                "NUMBER_VALUE cannot be converted to String",
            ),
            ("CreateTable", create(json!({"GlobalSecondaryIndexes": "x"})), "Unexpected field type"),
            (
                "CreateTable",
                create(json!({"SSESpecification": {"Enabled": "yes"}})),
                "Unexpected token received from parser",
            ),
            (
                "Query",
                json!({"TableName": "leases", "KeyConditions": {"pk": {"ComparisonOperator": 5}}}),
                "NUMBER_VALUE cannot be converted to String",
            ),
            (
                "GetItem",
                json!({"TableName": "leases", "Key": {"pk": {"B": "%%%"}}}),
                "Base64 encoded length is expected a multiple of 4 bytes but found: 3",
            ),
        ] {
            let e = run(&mut t, op, body).unwrap_err();
            assert_eq!((e.error_type, e.message.as_str()), ("SerializationException", message), "{op}");
        }
    }

    #[test]
    fn features_not_simulated_are_refused_after_the_model() {
        let mut t = tables();
        let gsi =
            json!([{"IndexName": "by-x", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}], "Projection": {}}]);
        let e = run(&mut t, "CreateTable", create(json!({"GlobalSecondaryIndexes": gsi}))).unwrap_err();
        assert_eq!(e.message, "GlobalSecondaryIndexes are not supported by this simulator");
        let e =
            run(&mut t, "CreateTable", create(json!({"GlobalSecondaryIndexes": [{"IndexName": "by-x"}]}))).unwrap_err();
        assert!(
            e.message
                .starts_with("2 validation errors detected: Value null at 'globalSecondaryIndexes.1.member.keySchema'"),
            "{}",
            e.message
        );
        let e = run(&mut t, "CreateTable", create(json!({"TableClass": "COLD"}))).unwrap_err();
        assert!(e.message.contains("Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]"));
        let e = run(&mut t, "CreateTable", create(json!({"Tags": [{"Key": "", "Value": "v"}]}))).unwrap_err();
        assert!(e.message.contains("Value '' at 'tags.1.member.key' failed to satisfy constraint"));
        let legacy = json!({"TableName": "leases", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "Expected": {"pk": {"Exists": false}}});
        let e = run(&mut t, "PutItem", legacy).unwrap_err();
        assert!(e.message.contains("Expected parameter is not supported"), "{}", e.message);
        let e = run(
            &mut t,
            "PutItem",
            json!({"TableName": "leases", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "Expected": {"pk": {"ComparisonOperator": "ALMOST"}}}),
        )
        .unwrap_err();
        assert!(e.message.contains("at 'expected.pk.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set"));
        let e = run(
            &mut t,
            "GetItem",
            json!({"TableName": "leases", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "AttributesToGet": []}),
        )
        .unwrap_err();
        assert!(e.message.contains("Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1"));
    }
}
