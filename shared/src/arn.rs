//! Validated ARNs. Every ARN that reaches an AWS call is one of these types, and each is
//! checked the way the Storage Gateway API checks it (length 50 to 500, the model's
//! pattern) before anything is sent: a bad ARN is refused here, with the field named.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The smallest and largest ARN the Storage Gateway API accepts.
pub const MIN_LEN: usize = 50;
pub const MAX_LEN: usize = 500;

/// Why an ARN was refused. `field` names where it came from (`failedGatewayArn`,
/// the tag `recovery:standby-gateway`, env `STANDBY_GATEWAY_ARN`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason} (got `{shown}`)")]
pub struct ArnError {
    pub field: String,
    pub reason: String,
    shown: String,
}

impl ArnError {
    fn new(field: &str, value: &str, reason: impl Into<String>) -> Self {
        // Echo enough of the value to recognise it, never a whole oversized input.
        let shown: String = value.chars().take(80).collect();
        let shown = if value.chars().count() > 80 { format!("{shown}...") } else { shown };
        Self { field: field.to_owned(), reason: reason.into(), shown }
    }
}

fn is_partition(p: &str) -> bool {
    match p {
        "aws" | "aws-cn" | "aws-us-gov" | "aws-eusc" => true,
        _ => p
            .strip_prefix("aws-iso")
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')),
    }
}

/// Checks `arn:<partition>:<service>:<region>:<account>:<resource>` and answers the resource.
fn resource<'a>(field: &str, value: &'a str, service: &str) -> Result<&'a str, ArnError> {
    let len = value.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return Err(ArnError::new(
            field,
            value,
            format!("an ARN must be {MIN_LEN} to {MAX_LEN} characters, this one has {len}"),
        ));
    }
    let mut it = value.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(svc), Some(region), Some(account), Some(resource)) =
        (it.next(), it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err(ArnError::new(field, value, format!("expected arn:aws:{service}:<region>:<account>:<resource>")));
    };
    if !is_partition(partition) {
        return Err(ArnError::new(field, value, format!("`{partition}` is not an AWS partition")));
    }
    if svc != service {
        return Err(ArnError::new(field, value, format!("expected a {service} ARN, this is a {svc} ARN")));
    }
    if region.is_empty() || !region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(ArnError::new(field, value, format!("`{region}` is not a region name")));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(ArnError::new(field, value, "the account must be 12 digits"));
    }
    Ok(resource)
}

/// `sgw-` then 8 to 26 upper-case letters or digits (a `GatewayId` is 12 to 30 characters).
fn is_gateway_id(id: &str) -> bool {
    id.strip_prefix("sgw-").is_some_and(|rest| {
        (8..=26).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

fn is_volume_id(id: &str) -> bool {
    id.strip_prefix("vol-").is_some_and(|rest| {
        (8..=26).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

/// A tape barcode as the model allows it in a `TapeARN`: 5 to 16 of `0-9A-Z`.
pub fn is_barcode(b: &str) -> bool {
    (5..=16).contains(&b.len()) && b.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

macro_rules! arn_type {
    ($name:ident, $what:literal) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.arn
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.arn)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.arn
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.arn)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse($what, &s).map_err(|e| serde::de::Error::custom(e.reason_with_value()))
            }
        }
    };
}

impl ArnError {
    /// The message without the field name (serde adds its own context).
    pub fn reason_with_value(&self) -> String {
        format!("{} (got `{}`)", self.reason, self.shown)
    }

    /// The same error, attributed to another field.
    pub fn in_field(mut self, field: &str) -> Self {
        self.field = field.to_owned();
        self
    }
}

/// `arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GatewayArn {
    arn: String,
}

arn_type!(GatewayArn, "gateway ARN");

impl GatewayArn {
    pub fn parse(field: &str, value: &str) -> Result<Self, ArnError> {
        match resource(field, value, "storagegateway")?.strip_prefix("gateway/") {
            Some(id) if is_gateway_id(id) => Ok(Self { arn: value.to_owned() }),
            Some(_) => Err(ArnError::new(field, value, "the gateway id must look like sgw-12A3456B")),
            None => Err(ArnError::new(field, value, "expected a gateway ARN (...:gateway/sgw-...)")),
        }
    }

    /// The ARN AWS gives a gateway id in a region and account (as an alarm names it).
    pub fn from_id(field: &str, partition: &str, region: &str, account: &str, id: &str) -> Result<Self, ArnError> {
        Self::parse(field, &format!("arn:{partition}:storagegateway:{region}:{account}:gateway/{id}"))
    }

    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }

    fn field(&self, n: usize) -> &str {
        self.arn.split(':').nth(n).unwrap_or_default()
    }

    pub fn partition(&self) -> &str {
        self.field(1)
    }

    pub fn region(&self) -> &str {
        self.field(3)
    }

    pub fn account(&self) -> &str {
        self.field(4)
    }
}

/// `arn:aws:storagegateway:us-east-1:123456789012:tape/TEST04A2A1`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TapeArn {
    arn: String,
}

arn_type!(TapeArn, "tape ARN");

impl TapeArn {
    pub fn parse(field: &str, value: &str) -> Result<Self, ArnError> {
        match resource(field, value, "storagegateway")?.strip_prefix("tape/") {
            Some(b) if is_barcode(b) => Ok(Self { arn: value.to_owned() }),
            Some(_) => Err(ArnError::new(field, value, "the tape barcode must be 5 to 16 of A-Z and 0-9")),
            None => Err(ArnError::new(field, value, "expected a tape ARN (...:tape/BARCODE)")),
        }
    }

    pub fn barcode(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }
}

/// `arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B/volume/vol-1122AABB`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VolumeArn {
    arn: String,
}

arn_type!(VolumeArn, "volume ARN");

impl VolumeArn {
    pub fn parse(field: &str, value: &str) -> Result<Self, ArnError> {
        let shape = resource(field, value, "storagegateway")?
            .strip_prefix("gateway/")
            .and_then(|rest| rest.split_once("/volume/"))
            .filter(|(gw, vol)| is_gateway_id(gw) && is_volume_id(vol));
        match shape {
            Some(_) => Ok(Self { arn: value.to_owned() }),
            None => Err(ArnError::new(field, value, "expected a volume ARN (...:gateway/sgw-.../volume/vol-...)")),
        }
    }

    pub fn volume_id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or_default()
    }
}

/// An SNS topic ARN: `arn:aws:sns:us-east-1:123456789012:gateway-recovery`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicArn {
    arn: String,
}

arn_type!(TopicArn, "topic ARN");

impl TopicArn {
    pub fn parse(field: &str, value: &str) -> Result<Self, ArnError> {
        let mut it = value.splitn(6, ':');
        let ok = matches!(
            (it.next(), it.next(), it.next(), it.next(), it.next(), it.next()),
            (Some("arn"), Some(p), Some("sns"), Some(r), Some(a), Some(name))
                if is_partition(p) && !r.is_empty() && a.len() == 12 && a.chars().all(|c| c.is_ascii_digit())
                    && (1..=256).contains(&name.len())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        );
        if ok {
            Ok(Self { arn: value.to_owned() })
        } else {
            Err(ArnError::new(field, value, "expected an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"))
        }
    }
}

/// A resource that can carry tags.
#[derive(Debug, Clone, Copy)]
pub enum Taggable<'a> {
    Gateway(&'a GatewayArn),
    Volume(&'a VolumeArn),
}

impl Taggable<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Taggable::Gateway(a) => a.as_str(),
            Taggable::Volume(a) => a.as_str(),
        }
    }
}

impl<'a> From<&'a GatewayArn> for Taggable<'a> {
    fn from(a: &'a GatewayArn) -> Self {
        Taggable::Gateway(a)
    }
}

impl<'a> From<&'a VolumeArn> for Taggable<'a> {
    fn from(a: &'a VolumeArn) -> Self {
        Taggable::Volume(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GW: &str = "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B";

    #[test]
    fn a_gateway_arn_exposes_its_parts() {
        let a = GatewayArn::parse("f", GW).unwrap();
        assert_eq!(
            (a.id(), a.region(), a.account(), a.partition()),
            ("sgw-12A3456B", "us-east-1", "123456789012", "aws")
        );
        assert_eq!(GatewayArn::from_id("f", "aws", "us-east-1", "123456789012", "sgw-12A3456B").unwrap(), a);
    }

    #[test]
    fn bad_gateway_arns_are_refused_with_the_field_and_the_reason() {
        let cases = [
            ("", "50 to 500"),
            (&"a".repeat(501), "50 to 500"),
            ("arn:aws:storagegateway:us:1:gateway/sgw-1", "50 to 500"),
            ("arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-1", "sgw-12A3456B"),
            ("arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12a3456b", "sgw-12A3456B"),
            ("arn:aws:s3:::bucket-name-that-is-long-enough-to-pass-the-length", "storagegateway ARN"),
            ("not an arn at all, but long enough to pass the length check", "expected arn"),
            ("arn:aws:storagegateway:us-east-1:123456789012:tape/TEST04A2A1XYZ", "gateway ARN"),
            ("arn:aws:storagegateway:us-east-1:1234:gateway/sgw-12A3456B12345", "12 digits"),
            ("arn:nope:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B", "partition"),
            ("arn:aws:ec2:us-east-1:123456789012:gateway/sgw-12A3456BAAAAAAA", "storagegateway"),
        ];
        for (value, reason) in cases {
            let e = GatewayArn::parse("failedGatewayArn", value).unwrap_err();
            assert_eq!(e.field, "failedGatewayArn");
            assert!(e.to_string().contains(reason), "{value}: {e}");
            assert!(e.to_string().starts_with("failedGatewayArn: "), "{e}");
        }
    }

    #[test]
    fn tape_and_volume_arns_follow_the_model() {
        let t = TapeArn::parse("t", "arn:aws:storagegateway:us-east-1:123456789012:tape/TEST04A2A1").unwrap();
        assert_eq!(t.barcode(), "TEST04A2A1");
        assert!(TapeArn::parse("t", "arn:aws:storagegateway:us-east-1:123456789012:tape/test04a2a1").is_err());
        assert!(TapeArn::parse("t", "arn:aws:storagegateway:us-east-1:123456789012:tape/AB12").is_err());
        let v = VolumeArn::parse(
            "v",
            "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-34C5678D/volume/vol-1122AABB",
        )
        .unwrap();
        assert_eq!(v.volume_id(), "vol-1122AABB");
        assert!(VolumeArn::parse("v", GW).is_err());
    }

    #[test]
    fn oversized_values_are_not_echoed_whole() {
        let e = GatewayArn::parse("f", &"x".repeat(10_000)).unwrap_err();
        assert!(e.to_string().len() < 300);
    }

    #[test]
    fn topic_arns() {
        assert!(TopicArn::parse("t", "arn:aws:sns:us-east-1:123456789012:gateway-recovery").is_ok());
        assert!(TopicArn::parse("t", "arn:aws:sqs:us-east-1:123456789012:q").is_err());
        assert!(TopicArn::parse("t", "gateway-recovery").is_err());
    }
}
