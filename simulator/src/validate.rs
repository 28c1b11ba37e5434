//! Request validation per the Storage Gateway model: required members, lengths, patterns
//! and ranges. Failures answer `InvalidGatewayRequestException` / `InvalidParameters` with
//! the wording AWS uses for constraint violations.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::fleet::re;

/// `TapeARN` in the model: 50 to 500 characters and this pattern.
static TAPE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):storagegateway:[a-z\-0-9]+:[0-9]+:tape/[0-9A-Z]{5,16}$")
});
/// `VolumeARN` in the model: 50 to 500 characters and this pattern.
static VOLUME_ARN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^arn:(aws(|-cn|-us-gov|-iso[A-Za-z0-9_-]*|-eusc)):storagegateway:[a-z\-0-9]+:[0-9]+:gateway/(.+)/volume/vol-(\S+)",
    )
});
/// `TagKey` in the model (`TagValue` has no pattern).
static TAG_KEY: LazyLock<Regex> = LazyLock::new(|| re(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"));

/// The member name as AWS writes it in validation messages (`gatewayARN`).
fn member(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn violation(name: &str, value: Option<&str>, constraint: &str) -> ApiError {
    let shown = match value {
        Some(v) => format!("'{v}'"),
        None => "null".to_owned(),
    };
    ApiError::invalid_parameters(
        format!(
            "1 validation error detected: Value {shown} at '{}' failed to satisfy constraint: {constraint}",
            member(name)
        ),
        name,
    )
}

/// The request body as a JSON object; anything else is a serialization error.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text = if body.is_empty() { b"{}".as_slice() } else { body };
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::serialization("request body must be a JSON object")),
        Err(e) => Err(ApiError::serialization(&format!("request body is not valid JSON: {e}"))),
    }
}

pub struct Input<'a>(pub &'a Map<String, Value>);

impl<'a> Input<'a> {
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::serialization(&format!("{name} must be a string"))),
        }
    }

    pub fn str(&self, name: &str) -> Result<&'a str, ApiError> {
        self.opt_str(name)?.ok_or_else(|| violation(name, None, "Member must not be null"))
    }

    fn length(&self, name: &str, value: &'a str, min: usize, max: usize) -> Result<&'a str, ApiError> {
        let n = value.chars().count();
        if n < min {
            return Err(violation(
                name,
                Some(value),
                &format!("Member must have length greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(violation(name, Some(value), &format!("Member must have length less than or equal to {max}")));
        }
        Ok(value)
    }

    /// A required ARN member with the model's 50-500 length constraint.
    pub fn arn(&self, name: &str) -> Result<&'a str, ApiError> {
        let v = self.str(name)?;
        self.length(name, v, 50, 500)
    }

    pub fn opt_arn(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.opt_str(name)? {
            Some(v) => self.length(name, v, 50, 500).map(Some),
            None => Ok(None),
        }
    }

    pub fn tape_arn(&self, name: &str) -> Result<&'a str, ApiError> {
        let v = self.arn(name)?;
        check_tape_arn(name, v)
    }

    pub fn volume_arn(&self, name: &str) -> Result<&'a str, ApiError> {
        let v = self.arn(name)?;
        if VOLUME_ARN.is_match(v) {
            Ok(v)
        } else {
            Err(violation(
                name,
                Some(v),
                &format!("Member must satisfy regular expression pattern: {}", VOLUME_ARN.as_str()),
            ))
        }
    }

    pub fn tape_arns(&self, name: &str) -> Result<Option<Vec<&'a str>>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => {
                        self.length(name, s, 50, 500)?;
                        check_tape_arn(name, s)
                    }
                    _ => Err(ApiError::serialization(&format!("{name} must hold strings"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(ApiError::serialization(&format!("{name} must be a list"))),
        }
    }

    /// `Marker`: 1 to 2,000 characters.
    pub fn marker(&self) -> Result<Option<&'a str>, ApiError> {
        match self.opt_str("Marker")? {
            Some(v) => self.length("Marker", v, 1, 2000).map(Some),
            None => Ok(None),
        }
    }

    /// `Limit` (`PositiveIntObject`): at least 1.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.0.get("Limit") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) if v >= 1 => Ok(usize::try_from(v).ok()),
                _ => Err(violation("Limit", Some(&n.to_string()), "Member must have value greater than or equal to 1")),
            },
            Some(_) => Err(ApiError::serialization("Limit must be a number")),
        }
    }

    pub fn bounded_str(&self, name: &str, min: usize, max: usize) -> Result<&'a str, ApiError> {
        let v = self.str(name)?;
        self.length(name, v, min, max)
    }

    /// A `Tags` list: `[{"Key": .., "Value": ..}]`, each checked against the model.
    pub fn tags(&self, name: &str, required: bool) -> Result<Vec<(String, String)>, ApiError> {
        let items = match self.0.get(name) {
            None | Some(Value::Null) if required => {
                return Err(violation(name, None, "Member must not be null"));
            }
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ApiError::serialization(&format!("{name} must be a list"))),
        };
        items
            .iter()
            .map(|item| {
                let key = item.get("Key").and_then(Value::as_str);
                let value = item.get("Value").and_then(Value::as_str);
                match (key, value) {
                    (Some(k), Some(v)) => {
                        tag(k, v).map_err(|e| ApiError::invalid_parameters(e, name))?;
                        Ok((k.to_owned(), v.to_owned()))
                    }
                    (None, _) => Err(violation("Key", None, "Member must not be null")),
                    (_, None) => Err(violation("Value", None, "Member must not be null")),
                }
            })
            .collect()
    }

    pub fn tag_keys(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(violation(name, None, "Member must not be null")),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item.as_str() {
                    Some(k) if tag(k, "").is_ok() => Ok(k.to_owned()),
                    Some(k) => Err(violation(
                        name,
                        Some(k),
                        "Member must have length between 1 and 128 and match the TagKey pattern",
                    )),
                    None => Err(ApiError::serialization(&format!("{name} must hold strings"))),
                })
                .collect(),
            Some(_) => Err(ApiError::serialization(&format!("{name} must be a list"))),
        }
    }
}

fn check_tape_arn<'a>(name: &str, v: &'a str) -> Result<&'a str, ApiError> {
    if TAPE_ARN.is_match(v) {
        Ok(v)
    } else {
        Err(violation(name, Some(v), &format!("Member must satisfy regular expression pattern: {}", TAPE_ARN.as_str())))
    }
}

/// One tag, checked against the model's `TagKey` (1-128, pattern, not `aws:`) and
/// `TagValue` (at most 256) constraints.
pub fn tag(key: &str, value: &str) -> Result<(), String> {
    let klen = key.chars().count();
    if !(1..=128).contains(&klen) || !TAG_KEY.is_match(key) {
        return Err(format!("tag key `{key}` must be 1 to 128 letters, digits, spaces or _.:/=+-@"));
    }
    if key.starts_with("aws:") {
        return Err(format!("tag key `{key}` must not start with aws:, which AWS reserves"));
    }
    if value.chars().count() > 256 {
        return Err(format!("tag value of `{key}` must be at most 256 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn arn_length_is_enforced_at_both_ends() {
        let short = input(json!({"GatewayARN": "arn:aws:storagegateway:us-east-1:1:gateway/sgw-1"}));
        let e = Input(&short).arn("GatewayARN").unwrap_err();
        assert_eq!(e.error_code, Some("InvalidParameters"));
        assert!(e.message.contains("at 'gatewayARN'"), "{}", e.message);
        assert!(e.message.contains("greater than or equal to 50"), "{}", e.message);
        let long = input(json!({"GatewayARN": "a".repeat(501)}));
        assert!(Input(&long).arn("GatewayARN").unwrap_err().message.contains("less than or equal to 500"));
        let missing = input(json!({}));
        assert!(Input(&missing).arn("GatewayARN").unwrap_err().message.contains("must not be null"));
    }

    #[test]
    fn tape_arns_must_match_the_model_pattern() {
        let ok = input(json!({"TapeARN": "arn:aws:storagegateway:us-east-1:123456789012:tape/TEST04A2A1"}));
        assert!(Input(&ok).tape_arn("TapeARN").is_ok());
        let lower = input(json!({"TapeARN": "arn:aws:storagegateway:us-east-1:123456789012:tape/test04a2a1"}));
        assert!(Input(&lower).tape_arn("TapeARN").unwrap_err().message.contains("pattern"));
    }

    #[test]
    fn limit_must_be_positive() {
        let zero = input(json!({"Limit": 0}));
        assert!(Input(&zero).limit().is_err());
        let ten = input(json!({"Limit": 10}));
        assert_eq!(Input(&ten).limit().unwrap(), Some(10));
    }

    #[test]
    fn tags_follow_the_model_pattern_and_lengths() {
        assert!(tag("recovery:offline-since", "2026-11-20T10:00:00Z").is_ok());
        assert!(tag("", "x").is_err());
        assert!(tag("k", &"v".repeat(257)).is_err());
        assert!(tag("bad;key", "v").is_err());
        assert!(tag("aws:reserved", "v").is_err());
    }
}
