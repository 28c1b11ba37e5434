//! DynamoDB's attribute values: parsed from and written back to DynamoDB JSON
//! (`{"S": "x"}`, `{"N": "1"}`, ...), with DynamoDB's validation, equality and size rules.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::DynamoError;
use super::base64;
use super::number::{Number, NumberError};

/// One attribute value. Sets keep the order they were given in; they compare as sets.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(BTreeMap<String, AttributeValue>),
    L(Vec<AttributeValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

/// An item: its attributes by name.
pub type Item = BTreeMap<String, AttributeValue>;

/// How deeply documents may nest (DynamoDB's limit).
const MAX_DEPTH: usize = 32;
/// DynamoDB's type names, in the order its messages list them.
pub const TYPE_NAMES: &[&str] = &["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

fn same_members<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// DynamoDB equality: same type and same value; numbers numerically, sets as sets.
impl PartialEq for AttributeValue {
    fn eq(&self, other: &Self) -> bool {
        use AttributeValue::*;
        match (self, other) {
            (S(a), S(b)) => a == b,
            (N(a), N(b)) => a == b,
            (B(a), B(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            (M(a), M(b)) => a == b,
            (L(a), L(b)) => a == b,
            (Ss(a), Ss(b)) => same_members(a, b),
            (Ns(a), Ns(b)) => same_members(a, b),
            (Bs(a), Bs(b)) => same_members(a, b),
            _ => false,
        }
    }
}

fn invalid(message: impl Into<String>) -> DynamoError {
    DynamoError::validation(format!("One or more parameter values were invalid: {}", message.into()))
}

/// The SerializationException DynamoDB's JSON reader answers for a value of the wrong
/// JSON type (`{"S": 5}`).
pub(super) fn wrong_json_type(value: &Value, target: &str) -> DynamoError {
    let found = match value {
        Value::Number(_) => "NUMBER_VALUE",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Null => "NULL_VALUE",
        Value::Array(_) => return DynamoError::serialization("Start of list found where not expected"),
        Value::Object(_) => return DynamoError::serialization("Start of structure or map found where not expected."),
    };
    DynamoError::serialization(&format!("{found} cannot be converted to {target}"))
}

fn string(v: &Value) -> Result<&str, DynamoError> {
    v.as_str().ok_or_else(|| wrong_json_type(v, "String"))
}

fn list(v: &Value) -> Result<&Vec<Value>, DynamoError> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(wrong_json_type(other, "List")),
    }
}

/// A number; DynamoDB's message for a malformed one quotes it (`...numeric value: 1x`).
fn number(text: &str) -> Result<Number, DynamoError> {
    Number::parse(text).map_err(|e| match e {
        NumberError::NotANumber => DynamoError::validation(format!("{}: {text}", e.message())),
        other => DynamoError::validation(other.message()),
    })
}

fn binary(text: &str) -> Result<Vec<u8>, DynamoError> {
    base64::decode(text).ok_or_else(|| DynamoError::serialization("Base64 encoded binary value is not valid base64"))
}

/// Refuses empty sets, and sets with a repeated member (`[a, a]` in the message).
fn check_set<T: PartialEq>(members: &[T], kind: &str, shown: impl Fn(&T) -> String) -> Result<(), DynamoError> {
    if members.is_empty() {
        return Err(invalid(format!("An {kind} set  may not be empty")));
    }
    for (i, m) in members.iter().enumerate() {
        if members[..i].contains(m) {
            let all: Vec<String> = members.iter().map(&shown).collect();
            return Err(invalid(format!("Input collection [{}] contains duplicates.", all.join(", "))));
        }
    }
    Ok(())
}

impl AttributeValue {
    /// DynamoDB's name of the value's type (`S`, `BOOL`, `SS`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::S(_) => "S",
            Self::N(_) => "N",
            Self::B(_) => "B",
            Self::Bool(_) => "BOOL",
            Self::Null => "NULL",
            Self::M(_) => "M",
            Self::L(_) => "L",
            Self::Ss(_) => "SS",
            Self::Ns(_) => "NS",
            Self::Bs(_) => "BS",
        }
    }

    /// Parses one value of DynamoDB JSON, checking what DynamoDB checks.
    pub fn from_json(v: &Value) -> Result<Self, DynamoError> {
        Self::parse(v, 0)
    }

    fn parse(v: &Value, depth: usize) -> Result<Self, DynamoError> {
        if depth > MAX_DEPTH {
            return Err(DynamoError::validation("Nesting Levels have exceeded supported limits"));
        }
        let Value::Object(map) = v else { return Err(wrong_json_type(v, "AttributeValue")) };
        // Members set to null count as absent, as in any awsJson structure.
        let set: Vec<(&String, &Value)> =
            map.iter().filter(|(k, v)| TYPE_NAMES.contains(&k.as_str()) && !v.is_null()).collect();
        let (kind, value) = match set.as_slice() {
            [] => {
                return Err(DynamoError::validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ));
            }
            [one] => *one,
            _ => {
                return Err(DynamoError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ));
            }
        };
        Ok(match kind.as_str() {
            "S" => Self::S(string(value)?.to_owned()),
            "N" => Self::N(number(string(value)?)?),
            "B" => Self::B(binary(string(value)?)?),
            "BOOL" => Self::Bool(value.as_bool().ok_or_else(|| wrong_json_type(value, "Boolean"))?),
            "NULL" => match value.as_bool() {
                Some(true) => Self::Null,
                Some(false) => return Err(invalid("Null attribute value types must have the value of true")),
                None => return Err(wrong_json_type(value, "Boolean")),
            },
            "M" => {
                let Value::Object(members) = value else { return Err(wrong_json_type(value, "Map")) };
                let mut out = BTreeMap::new();
                for (k, v) in members {
                    out.insert(k.clone(), Self::parse(v, depth + 1)?);
                }
                Self::M(out)
            }
            "L" => Self::L(list(value)?.iter().map(|v| Self::parse(v, depth + 1)).collect::<Result<_, _>>()?),
            "SS" => {
                let members: Vec<String> =
                    list(value)?.iter().map(|v| string(v).map(str::to_owned)).collect::<Result<_, _>>()?;
                check_set(&members, "string", Clone::clone)?;
                if members.iter().any(String::is_empty) {
                    return Err(invalid("An string set may not have a empty string as a member"));
                }
                Self::Ss(members)
            }
            "NS" => {
                let members: Vec<Number> =
                    list(value)?.iter().map(|v| string(v).and_then(number)).collect::<Result<_, _>>()?;
                check_set(&members, "number", Number::to_string)?;
                Self::Ns(members)
            }
            _ => {
                let members: Vec<Vec<u8>> =
                    list(value)?.iter().map(|v| string(v).and_then(binary)).collect::<Result<_, _>>()?;
                check_set(&members, "binary", |b| base64::encode(b))?;
                if members.iter().any(Vec::is_empty) {
                    return Err(invalid("Binary sets may not contain empty binary values"));
                }
                Self::Bs(members)
            }
        })
    }

    /// DynamoDB JSON, numbers in their canonical form.
    pub fn to_json(&self) -> Value {
        match self {
            Self::S(s) => json!({"S": s}),
            Self::N(n) => json!({"N": n.to_string()}),
            Self::B(b) => json!({"B": base64::encode(b)}),
            Self::Bool(b) => json!({"BOOL": b}),
            Self::Null => json!({"NULL": true}),
            Self::M(m) => json!({"M": item_to_json(m)}),
            Self::L(l) => json!({"L": l.iter().map(Self::to_json).collect::<Vec<_>>()}),
            Self::Ss(s) => json!({"SS": s}),
            Self::Ns(n) => json!({"NS": n.iter().map(Number::to_string).collect::<Vec<_>>()}),
            Self::Bs(b) => json!({"BS": b.iter().map(|b| base64::encode(b)).collect::<Vec<_>>()}),
        }
    }

    /// Plain JSON for people and tests: strings, numbers (as JSON numbers when that is
    /// exact, else as strings), base64 for binary, arrays for lists and sets.
    pub fn to_plain(&self) -> Value {
        match self {
            Self::S(s) => json!(s),
            Self::N(n) => plain_number(n),
            Self::B(b) => json!(base64::encode(b)),
            Self::Bool(b) => json!(b),
            Self::Null => Value::Null,
            Self::M(m) => item_to_plain(m),
            Self::L(l) => Value::Array(l.iter().map(Self::to_plain).collect()),
            Self::Ss(s) => json!(s),
            Self::Ns(n) => Value::Array(n.iter().map(plain_number).collect()),
            Self::Bs(b) => Value::Array(b.iter().map(|b| json!(base64::encode(b))).collect()),
        }
    }

    /// The value's size as DynamoDB counts it toward the 400 KB item limit: UTF-8 bytes of
    /// strings, about one byte per two significant digits plus one for numbers, raw bytes
    /// of binary, one byte for booleans and nulls, 3 bytes plus one per element for lists
    /// and maps (plus the map keys), and the sum of the members for sets.
    pub fn size(&self) -> usize {
        match self {
            Self::S(s) => s.len(),
            Self::N(n) => number_size(n),
            Self::B(b) => b.len(),
            Self::Bool(_) | Self::Null => 1,
            Self::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>(),
            Self::L(l) => 3 + l.iter().map(|v| 1 + v.size()).sum::<usize>(),
            Self::Ss(s) => s.iter().map(String::len).sum(),
            Self::Ns(n) => n.iter().map(number_size).sum(),
            Self::Bs(b) => b.iter().map(Vec::len).sum(),
        }
    }

    /// The key form of a scalar (`S`, `N`, `B`); `None` for any other type.
    pub fn as_key(&self) -> Option<KeyValue> {
        match self {
            Self::S(s) => Some(KeyValue::S(s.clone())),
            Self::N(n) => Some(KeyValue::N(n.clone())),
            Self::B(b) => Some(KeyValue::B(b.clone())),
            _ => None,
        }
    }
}

fn number_size(n: &Number) -> usize {
    n.significant_digits().div_ceil(2) + 1
}

fn plain_number(n: &Number) -> Value {
    let text = n.to_string();
    if let Some(i) = n.to_i64() {
        return json!(i);
    }
    match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(f) if Number::parse(&f.to_string()).as_ref() == Ok(n) => Value::Number(f),
        _ => Value::String(text),
    }
}

/// An item's size: each attribute's name (UTF-8 bytes) plus its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

pub fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

pub fn item_to_plain(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_plain())).collect())
}

/// Parses a map of attribute values (`Item`, `Key`, `ExpressionAttributeValues`).
pub fn item_from_json(map: &Map<String, Value>) -> Result<Item, DynamoError> {
    map.iter().map(|(k, v)| Ok((k.clone(), AttributeValue::from_json(v)?))).collect()
}

/// A key attribute's value: ordered as DynamoDB orders sort keys (strings and binary by
/// bytes, numbers numerically).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyValue {
    S(String),
    N(Number),
    B(Vec<u8>),
}

impl KeyValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::S(_) => "S",
            Self::N(_) => "N",
            Self::B(_) => "B",
        }
    }

    pub fn to_value(&self) -> AttributeValue {
        match self {
            Self::S(s) => AttributeValue::S(s.clone()),
            Self::N(n) => AttributeValue::N(n.clone()),
            Self::B(b) => AttributeValue::B(b.clone()),
        }
    }

    /// As the call log shows it: the string, the canonical number, base64 for binary.
    pub fn display(&self) -> String {
        match self {
            Self::S(s) => s.clone(),
            Self::N(n) => n.to_string(),
            Self::B(b) => base64::encode(b),
        }
    }

    /// Whether the value is empty (`""` or zero bytes), which no key may be.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::S(s) => s.is_empty(),
            Self::B(b) => b.is_empty(),
            Self::N(_) => false,
        }
    }

    pub fn size(&self) -> usize {
        self.to_value().size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<AttributeValue, DynamoError> {
        AttributeValue::from_json(&v)
    }

    fn message(v: Value) -> String {
        parse(v).unwrap_err().message
    }

    #[test]
    fn every_type_round_trips() {
        let v = json!({"M": {"s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AAE="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "l": {"L": [{"S": "a"}, {"N": "2"}]}, "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AA=="]}}});
        let parsed = parse(v.clone()).unwrap();
        let mut expected = v;
        expected["M"]["n"]["N"] = json!("1.5");
        assert_eq!(parsed.to_json(), expected);
        assert_eq!(parsed.to_plain()["n"], json!(1.5));
        assert_eq!(parsed.to_plain()["l"], json!(["a", 2]));
    }

    #[test]
    fn malformed_values_get_dynamodb_errors() {
        assert_eq!(
            message(json!({})),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert!(message(json!({"S": "a", "N": "1"})).contains("more than one datatypes"));
        let e = parse(json!({"S": 5})).unwrap_err();
        assert_eq!(
            (e.error_type, e.message.as_str()),
            ("SerializationException", "NUMBER_VALUE cannot be converted to String")
        );
        assert_eq!(parse(json!("x")).unwrap_err().error_type, "SerializationException");
        assert_eq!(message(json!({"N": "1x"})), "The parameter cannot be converted to a numeric value: 1x");
        assert!(message(json!({"NULL": false})).contains("Null attribute value types must have the value of true"));
        assert_eq!(
            message(json!({"SS": []})),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert!(message(json!({"SS": ["a", "a"]})).ends_with("Input collection [a, a] contains duplicates."));
        assert!(message(json!({"NS": ["1", "1.0"]})).contains("contains duplicates"), "numerically equal");
        assert_eq!(parse(json!({"B": "!!"})).unwrap_err().error_type, "SerializationException");
        assert!(parse(json!({"S": "a", "X": 1})).is_ok(), "unknown members are ignored");
        assert!(parse(json!({"S": "a", "N": null})).is_ok(), "null members are absent");
    }

    #[test]
    fn nesting_is_limited_to_32_levels() {
        let mut v = json!({"S": "leaf"});
        for _ in 0..32 {
            v = json!({"L": [v]});
        }
        assert!(parse(v.clone()).is_ok());
        assert!(message(json!({"L": [v]})).contains("Nesting Levels"));
    }

    #[test]
    fn sets_compare_as_sets_and_numbers_numerically() {
        assert_eq!(parse(json!({"SS": ["a", "b"]})).unwrap(), parse(json!({"SS": ["b", "a"]})).unwrap());
        assert_eq!(parse(json!({"N": "1"})).unwrap(), parse(json!({"N": "1.0"})).unwrap());
        assert_ne!(parse(json!({"N": "1"})).unwrap(), parse(json!({"S": "1"})).unwrap());
        assert_ne!(
            parse(json!({"L": [{"S": "a"}, {"S": "b"}]})).unwrap(),
            parse(json!({"L": [{"S": "b"}, {"S": "a"}]})).unwrap()
        );
    }

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        let item = item_from_json(
            json!({"pk": {"S": "abc"}, "n": {"N": "12345"}, "m": {"M": {"k": {"BOOL": true}}}, "l": {"L": [{"NULL": true}]}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        // pk: 2+3; n: 1 + (3+1); m: 1 + 3 + (1+1+1); l: 1 + 3 + (1+1)
        assert_eq!(item_size(&item), 5 + 5 + 7 + 6);
        assert_eq!(parse(json!({"S": "é"})).unwrap().size(), 2, "UTF-8 bytes");
    }

    #[test]
    fn plain_numbers_stay_exact() {
        assert_eq!(
            parse(json!({"N": "12345678901234567890123"})).unwrap().to_plain(),
            json!("12345678901234567890123")
        );
        assert_eq!(parse(json!({"N": "-7"})).unwrap().to_plain(), json!(-7));
    }
}
