//! Requests derived from an operation's input shape: one valid request, and for every
//! constraint of every member at any depth one request that violates exactly it and one at
//! each of its bounds.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value, json};

use super::model::{Member, Model, Shape};
use super::pattern::Pattern;

/// A constraint of the model, as AWS words its violation.
#[derive(Debug, Clone)]
pub enum Constraint {
    Required,
    MinLength(i64),
    MaxLength(i64),
    MinValue(i64),
    MaxValue(i64),
    Pattern(String),
    Enum(Vec<String>),
    /// A JSON value of another type than the shape's (JSON protocols only).
    WrongType,
    /// A map key breaking the key's constraint: AWS names the whole map and lists every
    /// constraint of the key, `Value '{k=v}' at 'item' failed to satisfy constraint: Map
    /// keys must satisfy constraint: [Member must have length less than or equal to 65535]`.
    MapKeys(Box<Constraint>),
    /// A map value (a plain one) breaking the value's constraint: `... Map value must
    /// satisfy constraint: [...]`, naming the whole map.
    MapValue(Box<Constraint>),
}

impl Constraint {
    /// The text after "failed to satisfy constraint: "; `None` for a wrong type, which is
    /// a serialization error rather than a validation error.
    pub fn wording(&self) -> Option<String> {
        Some(match self {
            Self::Required => "Member must not be null".to_owned(),
            Self::MinLength(n) => format!("Member must have length greater than or equal to {n}"),
            Self::MaxLength(n) => format!("Member must have length less than or equal to {n}"),
            Self::MinValue(n) => format!("Member must have value greater than or equal to {n}"),
            Self::MaxValue(n) => format!("Member must have value less than or equal to {n}"),
            Self::Pattern(p) => format!("Member must satisfy regular expression pattern: {p}"),
            Self::Enum(values) => format!("Member must satisfy enum value set: [{}]", values.join(", ")),
            Self::WrongType => return None,
            Self::MapKeys(inner) => format!("Map keys must satisfy constraint: [{}, ...]", inner.wording()?),
            Self::MapValue(inner) => format!("Map value must satisfy constraint: [{}, ...]", inner.wording()?),
        })
    }
}

/// What the simulator must answer.
#[derive(Debug, Clone)]
pub enum Expect {
    /// The operation's base request: it must succeed.
    Valid,
    /// A refusal naming `path` and the violated constraint.
    Violation { path: String, constraint: Constraint },
    /// A value at a bound (or an enum value): it must not be refused for the member at
    /// `path` (whose top-level member is `top`); a refusal for a state reason is fine.
    Accepted { path: String, top: String },
}

pub struct Case {
    pub label: String,
    pub body: Value,
    pub expect: Expect,
}

/// Values the model cannot supply: ARNs of the simulated fleet and other known-good values.
pub trait Fixture {
    /// A known-good value for a member (by its name) of an operation's input.
    fn known(&self, op: &str, member: &str) -> Option<Value>;
    /// Whether an optional member belongs in the valid request (the operation needs it to
    /// succeed, though the model does not require it).
    fn include(&self, _op: &str, _member: &str) -> bool {
        false
    }
    /// Top-level members a request must also carry whenever it carries `member` (rules
    /// between members that the model cannot say).
    fn companions(&self, _op: &str, _member: &str) -> Vec<(&'static str, Value)> {
        Vec::new()
    }
    /// Whether a structure takes exactly one of its members, though the model does not
    /// mark it a union.
    fn one_member_of(&self, _shape: &str) -> bool {
        false
    }
}

/// The member name as AWS writes it in a validation message (`gatewayARN`, `kMSKey`).
pub fn camel(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// Builds the whole request around a new value (or none) of one member.
type Rebuild<'r> = &'r dyn Fn(Option<Value>) -> Value;

/// The deepest member a case is generated for; recursive shapes stop here.
const MAX_DEPTH: usize = 6;
/// Longest string generated at a bound.
const MAX_GENERATED: i64 = 300_000;
/// Most list members or map entries generated at a bound.
const MAX_ITEMS: i64 = 1000;

pub struct Generator<'a> {
    model: &'a Model,
    op: &'a str,
    fixture: &'a dyn Fixture,
    /// Whether the protocol has JSON types (a wrong type is then its own violation).
    json: bool,
    patterns: RefCell<HashMap<String, Option<Rc<Pattern>>>>,
    /// Constraints no case could be generated for (an unparsable pattern, say).
    pub skipped: RefCell<Vec<String>>,
}

impl<'a> Generator<'a> {
    pub fn new(model: &'a Model, op: &'a str, fixture: &'a dyn Fixture, json: bool) -> Self {
        Self { model, op, fixture, json, patterns: RefCell::default(), skipped: RefCell::default() }
    }

    fn pattern(&self, p: &str) -> Option<Rc<Pattern>> {
        let mut cache = self.patterns.borrow_mut();
        let compiled = cache.entry(p.to_owned()).or_insert_with(|| match Pattern::new(p) {
            Ok(c) => Some(Rc::new(c)),
            Err(e) => {
                self.skipped.borrow_mut().push(e);
                None
            }
        });
        compiled.clone()
    }

    fn union(&self, shape: Shape) -> bool {
        shape.is_union() || self.fixture.one_member_of(shape.name)
    }

    /// Every case of the operation: the valid request first.
    pub fn cases(&self) -> Vec<Case> {
        let Some(input) = self.model.input(self.op) else {
            return vec![Case { label: "valid".into(), body: json!({}), expect: Expect::Valid }];
        };
        let base = self.structure(input);
        let mut out = vec![Case { label: "valid".into(), body: base.clone(), expect: Expect::Valid }];
        for m in input.members() {
            let valid = base.get(m.name).cloned().unwrap_or_else(|| self.valid(m.shape, m.name));
            let rebuild = |v: Option<Value>| self.top_level(&base, m.name, v);
            let at = At { path: camel(m.name), top: m.name, rebuild: &rebuild, depth: 0, map: None };
            self.member_cases(m, &at, valid, &mut out);
        }
        out
    }

    /// The request with one top-level member replaced, and its companions with it.
    fn top_level(&self, base: &Value, name: &str, v: Option<Value>) -> Value {
        let mut body = base.as_object().cloned().unwrap_or_default();
        match v {
            Some(v) => {
                for (k, cv) in self.fixture.companions(self.op, name) {
                    body.insert(k.to_owned(), cv);
                }
                body.insert(name.to_owned(), v);
            }
            None => {
                body.remove(name);
            }
        }
        Value::Object(body)
    }

    /// A valid value of a shape, for a member called `name`.
    pub fn valid(&self, shape: Shape, name: &str) -> Value {
        if let Some(v) = self.fixture.known(self.op, name) {
            return v;
        }
        match shape.kind() {
            "structure" => self.structure(shape),
            "list" => {
                let n = shape.min().unwrap_or(1).max(1) as usize;
                let item = shape.list_member().map(|m| self.valid(m.shape, name)).unwrap_or(Value::Null);
                Value::Array(vec![item; n])
            }
            "map" => self.valid_map(shape, name),
            "string" => Value::String(self.valid_string(shape)),
            "integer" | "long" => json!(valid_number(shape)),
            "double" | "float" => json!(valid_number(shape) as f64),
            "boolean" => json!(false),
            "blob" => json!("Y29uZm9ybWFuY2U="),
            "timestamp" => json!(1_764_000_000),
            _ => Value::Null,
        }
    }

    /// Its required members (and those the fixture includes); a union's first member.
    fn structure(&self, shape: Shape) -> Value {
        let mut out = Map::new();
        if self.union(shape) {
            if let Some(m) = shape.members().first() {
                out.insert(m.name.to_owned(), self.valid(m.shape, m.name));
            }
            return Value::Object(out);
        }
        for m in shape.members() {
            if m.required || self.fixture.include(self.op, m.name) {
                out.insert(m.name.to_owned(), self.valid(m.shape, m.name));
            }
        }
        Value::Object(out)
    }

    fn valid_map(&self, shape: Shape, name: &str) -> Value {
        let (Some(k), Some(v)) = (shape.map_key(), shape.map_value()) else { return json!({}) };
        let key = match self.valid(k.shape, &format!("{name}.key")) {
            Value::String(s) => s,
            _ => "key".to_owned(),
        };
        let mut map = Map::new();
        map.insert(key, self.valid(v.shape, &format!("{name}.value")));
        Value::Object(map)
    }

    fn valid_string(&self, shape: Shape) -> String {
        if let Some(first) = shape.enum_values().first() {
            return (*first).to_owned();
        }
        let lo = shape.min().unwrap_or(1).max(1) as usize;
        let hi = shape.max().map_or(lo + 64, |m| m as usize).max(lo);
        match shape.pattern().and_then(|p| self.pattern(p)) {
            Some(p) => p.shortest(lo, hi).unwrap_or_else(|| "a".repeat(lo)),
            None => "a".repeat(lo),
        }
    }

    /// A string of exactly `n` characters that satisfies the shape's pattern (if it can).
    fn string_of(&self, shape: Shape, n: i64) -> Option<String> {
        let n = usize::try_from(n).ok()?;
        match shape.pattern() {
            Some(p) => self.pattern(p)?.generate(n),
            None => Some("a".repeat(n)),
        }
    }

    fn member_cases(&self, m: Member, at: &At, valid: Value, out: &mut Vec<Case>) {
        if m.required {
            out.push(violation(&at.path, Constraint::Required, (at.rebuild)(None)));
            if self.json {
                // JSON's null is no value: AWS reads it as a missing member.
                let mut null = violation(&at.path, Constraint::Required, (at.rebuild)(Some(Value::Null)));
                null.label = format!("null at {}", at.path);
                out.push(null);
            }
        }
        self.shape_cases(m.shape, at, valid, out);
    }

    fn shape_cases(&self, shape: Shape, at: &At, valid: Value, out: &mut Vec<Case>) {
        if at.depth > MAX_DEPTH {
            return;
        }
        if self.json {
            if let Some(wrong) = wrong_type(shape) {
                out.push(violation(&at.path, Constraint::WrongType, (at.rebuild)(Some(wrong))));
            }
        }
        match shape.kind() {
            "string" => self.string_cases(shape, at, &valid, out),
            "integer" | "long" => number_cases(shape, at, out),
            "list" => self.list_cases(shape, at, &valid, out),
            "map" => self.map_cases(shape, at, &valid, out),
            "structure" => self.structure_cases(shape, at, &valid, out),
            _ => {}
        }
    }

    fn string_cases(&self, shape: Shape, at: &At, valid: &Value, out: &mut Vec<Case>) {
        let enums = shape.enum_values();
        if !enums.is_empty() {
            let values = enums.iter().map(|s| (*s).to_owned()).collect();
            out.push(at.violation(Constraint::Enum(values), (at.rebuild)(Some(json!("NOT_A_MODEL_VALUE")))));
            for e in enums {
                out.push(at.accepted(&format!("enum value {e}"), json!(e)));
            }
            return;
        }
        if let Some(min) = shape.min().filter(|m| *m > 0 && *m <= MAX_GENERATED) {
            let short = self.string_of(shape, min - 1).unwrap_or_else(|| "a".repeat(min as usize - 1));
            out.push(at.violation(Constraint::MinLength(min), (at.rebuild)(Some(json!(short)))));
            self.bound(shape, at, min, "min length", out);
        }
        if let Some(max) = shape.max().filter(|m| *m < MAX_GENERATED) {
            let long = self.string_of(shape, max + 1).unwrap_or_else(|| "a".repeat(max as usize + 1));
            out.push(at.violation(Constraint::MaxLength(max), (at.rebuild)(Some(json!(long)))));
            self.bound(shape, at, max, "max length", out);
        }
        if let Some(p) = shape.pattern() {
            let text = valid.as_str().map(str::to_owned).unwrap_or_else(|| self.valid_string(shape));
            match self.pattern(p).and_then(|c| c.break_match(&text)) {
                Some(bad) => out.push(at.violation(Constraint::Pattern(p.to_owned()), (at.rebuild)(Some(json!(bad))))),
                None => self.skip(format!("no value breaking {p} at {}", at.path)),
            }
        }
    }

    fn skip(&self, why: String) {
        self.skipped.borrow_mut().push(format!("{}: {why}", self.op));
    }

    /// A value of exactly `n` characters, which must be accepted.
    fn bound(&self, shape: Shape, at: &At, n: i64, what: &str, out: &mut Vec<Case>) {
        match self.string_of(shape, n) {
            Some(s) => out.push(at.accepted(&format!("{what} {n}"), json!(s))),
            None => self.skip(format!("no {what} {n} value matching the pattern at {}", at.path)),
        }
    }

    fn list_cases(&self, shape: Shape, at: &At, valid: &Value, out: &mut Vec<Case>) {
        let Some(item) = shape.list_member() else { return };
        let items = valid.as_array().cloned().unwrap_or_default();
        let one = items.first().cloned().unwrap_or_else(|| self.valid(item.shape, item.name));
        let of = |n: i64| Value::Array(vec![one.clone(); usize::try_from(n).unwrap_or(0)]);
        if let Some(min) = shape.min().filter(|m| *m > 0) {
            out.push(at.violation(Constraint::MinLength(min), (at.rebuild)(Some(of(min - 1)))));
            out.push(at.accepted(&format!("min items {min}"), of(min)));
        }
        if let Some(max) = shape.max().filter(|m| *m <= MAX_ITEMS) {
            out.push(at.violation(Constraint::MaxLength(max), (at.rebuild)(Some(of(max + 1)))));
            out.push(at.accepted(&format!("max items {max}"), of(max)));
        }
        let rebuild_item = |v: Option<Value>| {
            let mut list = items.clone();
            match v {
                Some(v) if list.is_empty() => list.push(v),
                Some(v) => list[0] = v,
                None => list.clear(),
            }
            (at.rebuild)(Some(Value::Array(list)))
        };
        self.shape_cases(item.shape, &at.child(format!("{}.1.member", at.path), &rebuild_item), one, out);
    }

    fn map_cases(&self, shape: Shape, at: &At, valid: &Value, out: &mut Vec<Case>) {
        let (Some(key), Some(value)) = (shape.map_key(), shape.map_value()) else { return };
        let entries = valid.as_object().cloned().unwrap_or_default();
        let Some((k, v)) = entries.iter().next().map(|(k, v)| (k.clone(), v.clone())) else { return };
        let of = |n: i64| {
            let map: Map<String, Value> = (0..n).map(|i| (format!("{k}{i}"), v.clone())).collect();
            Value::Object(map)
        };
        if let Some(min) = shape.min().filter(|m| *m > 0) {
            out.push(at.violation(Constraint::MinLength(min), (at.rebuild)(Some(of(min - 1)))));
            out.push(at.accepted(&format!("min entries {min}"), of(min)));
        }
        if let Some(max) = shape.max().filter(|m| *m <= MAX_ITEMS) {
            out.push(at.violation(Constraint::MaxLength(max), (at.rebuild)(Some(of(max + 1)))));
            out.push(at.accepted(&format!("max entries {max}"), of(max)));
        }
        let with = |key: &str, value: Value| {
            let mut map = entries.clone();
            map.remove(&k);
            map.insert(key.to_owned(), value);
            (at.rebuild)(Some(Value::Object(map)))
        };
        let rebuild_key = |nk: Option<Value>| match nk {
            Some(Value::String(nk)) => with(&nk, v.clone()),
            _ => (at.rebuild)(Some(Value::Object(entries.clone()))),
        };
        // A key's violations (and a plain value's) are named at the map, in AWS's map form;
        // a structured value's members below it, `item.KEY.member.m`.
        if key.shape.kind() == "string" {
            let keys = at.part(at.path.clone(), &rebuild_key, MapPart::Keys);
            self.string_cases(key.shape, &keys, &json!(k), out);
        }
        let rebuild_value = |nv: Option<Value>| with(&k, nv.unwrap_or(Value::Null));
        let values = at.part(format!("{}.{k}.member", at.path), &rebuild_value, MapPart::Values);
        self.shape_cases(value.shape, &values, v.clone(), out);
    }

    /// Each member's cases; a union's members one at a time, as the only member set.
    fn structure_cases(&self, shape: Shape, at: &At, valid: &Value, out: &mut Vec<Case>) {
        for m in shape.members() {
            let object = if self.union(shape) { Map::new() } else { valid.as_object().cloned().unwrap_or_default() };
            let mv = valid.get(m.name).cloned().unwrap_or_else(|| self.valid(m.shape, m.name));
            let rebuild_member = |v: Option<Value>| {
                let mut o = object.clone();
                match v {
                    Some(v) => o.insert(m.name.to_owned(), v),
                    None => o.remove(m.name),
                };
                (at.rebuild)(Some(Value::Object(o)))
            };
            self.member_cases(m, &at.child(format!("{}.{}", at.path, camel(m.name)), &rebuild_member), mv, out);
        }
    }
}

/// Which part of a map a value is.
#[derive(Clone, Copy)]
enum MapPart {
    Keys,
    Values,
}

/// Where a case's value goes: the member's path as AWS writes it, its top-level member,
/// how to build the whole request around a new value, how deep it is, and, for a map's
/// key or value, the map's path (where AWS names their violations) and which it is.
pub struct At<'r> {
    path: String,
    top: &'r str,
    rebuild: Rebuild<'r>,
    depth: usize,
    map: Option<(String, MapPart)>,
}

impl<'r> At<'r> {
    fn child<'c>(&'c self, path: String, rebuild: Rebuild<'c>) -> At<'c>
    where
        'r: 'c,
    {
        At { path, top: self.top, rebuild, depth: self.depth + 1, map: None }
    }

    /// A key or value of the map at this place.
    fn part<'c>(&'c self, path: String, rebuild: Rebuild<'c>, part: MapPart) -> At<'c>
    where
        'r: 'c,
    {
        At { path, top: self.top, rebuild, depth: self.depth + 1, map: Some((self.path.clone(), part)) }
    }

    /// Where AWS names a violation of the value here: the map, for a map's key or value.
    fn named_at(&self) -> &str {
        self.map.as_ref().map_or(&self.path, |(p, _)| p)
    }

    /// A request violating `constraint` with the value here.
    fn violation(&self, constraint: Constraint, body: Value) -> Case {
        let constraint = match &self.map {
            Some((_, MapPart::Keys)) => Constraint::MapKeys(Box::new(constraint)),
            Some((_, MapPart::Values)) => Constraint::MapValue(Box::new(constraint)),
            None => constraint,
        };
        violation(self.named_at(), constraint, body)
    }

    fn accepted(&self, what: &str, value: Value) -> Case {
        let path = self.named_at().to_owned();
        Case {
            label: format!("{what} at {}", self.path),
            body: (self.rebuild)(Some(value)),
            expect: Expect::Accepted { path, top: self.top.to_owned() },
        }
    }
}

fn violation(path: &str, constraint: Constraint, body: Value) -> Case {
    let label = format!("{constraint:?} at {path}");
    Case { label, body, expect: Expect::Violation { path: path.to_owned(), constraint } }
}

fn valid_number(shape: Shape) -> i64 {
    let v = shape.min().unwrap_or(1);
    shape.max().map_or(v, |max| v.min(max))
}

/// Values at and just past a numeric shape's bounds.
fn number_cases(shape: Shape, at: &At, out: &mut Vec<Case>) {
    let limit = if shape.kind() == "integer" { i64::from(i32::MIN)..=i64::from(i32::MAX) } else { i64::MIN..=i64::MAX };
    if let Some(min) = shape.min() {
        if let Some(below) = min.checked_sub(1).filter(|b| limit.contains(b)) {
            out.push(at.violation(Constraint::MinValue(min), (at.rebuild)(Some(json!(below)))));
        }
        out.push(at.accepted(&format!("min value {min}"), json!(min)));
    }
    if let Some(max) = shape.max() {
        if let Some(above) = max.checked_add(1).filter(|a| limit.contains(a)) {
            out.push(at.violation(Constraint::MaxValue(max), (at.rebuild)(Some(json!(above)))));
        }
        out.push(at.accepted(&format!("max value {max}"), json!(max)));
    }
}

/// A JSON value of another type than the shape's.
fn wrong_type(shape: Shape) -> Option<Value> {
    Some(match shape.kind() {
        "string" | "blob" => json!(5),
        "integer" | "long" | "double" | "float" | "timestamp" => json!("x"),
        "boolean" => json!("x"),
        "list" | "map" | "structure" => json!("x"),
        _ => return None,
    })
}
