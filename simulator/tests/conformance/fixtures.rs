//! The world the requests are sent to, and the known-good values the model cannot give:
//! ARNs of resources that exist, so each operation's valid request succeeds.

use serde_json::{Value, json};
use simulator::fleet::{Fleet, QueueSpec, TableSpec};
use simulator::generate::{FleetShape, PRIMARY, STANDBY, VOLUME_STANDBY, VOLUMES, generate};

use super::cases::Fixture;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
/// The generated fleet's first extra watched gateway: an online tape gateway to disable.
pub const EXTRA: &str = "sgw-10000100";
pub const TABLE: &str = "conformance";
pub const QUEUE: &str = "conformance";
/// Stands for a receipt handle; replaced by a real one before the request is sent.
pub const RECEIPT_HANDLE: &str = "conformance-receipt-handle";

pub fn queue_url() -> String {
    format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{QUEUE}")
}

/// A generated fleet in which every operation has something to act on: `tape-primary`
/// (offline, already disabled, so its tapes can be retrieved), `tape-standby` with tapes
/// of its own, the failed cached gateway and its standby, one more tape gateway to disable,
/// a table and a queue.
pub fn fleet() -> Fleet {
    let shape = FleetShape { tapes: 2, standby_tapes: 2, volumes: 2, gateways: 1, ..FleetShape::default() };
    let mut fleet = generate(&shape);
    for g in fleet.gateways.iter_mut().filter(|g| g.id == PRIMARY) {
        g.disabled = true;
    }
    fleet.tables.push(TableSpec {
        name: TABLE.into(),
        partition_key: "pk".into(),
        sort_key: Some("sk".into()),
        ttl_attribute: None,
    });
    fleet.queues.push(QueueSpec { name: QUEUE.into(), deliver_to: None });
    fleet
}

fn gw(id: &str) -> Value {
    json!(format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:gateway/{id}"))
}

fn tape(barcode: &str) -> Value {
    json!(format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:tape/{barcode}"))
}

fn source_volume() -> Value {
    json!(format!("arn:aws:storagegateway:{REGION}:{ACCOUNT}:gateway/{VOLUMES}/volume/vol-20000000"))
}

pub struct StorageGateway {
    /// `volume-standby`'s network interface, which a new volume must name.
    pub network_interface: String,
}

impl Fixture for StorageGateway {
    fn known(&self, op: &str, member: &str) -> Option<Value> {
        Some(match (op, member) {
            ("DisableGateway", "GatewayARN") => gw(EXTRA),
            ("DescribeTapeRecoveryPoints", "GatewayARN") => gw(PRIMARY),
            ("ListVolumes" | "ListVolumeRecoveryPoints", "GatewayARN") => gw(VOLUMES),
            ("CreateCachediSCSIVolume" | "DescribeCache" | "DescribeUploadBuffer", "GatewayARN") => gw(VOLUME_STANDBY),
            (_, "GatewayARN" | "ResourceARN") => gw(STANDBY),
            ("DescribeTapes", "TapeARNs") => json!([tape("STB000000")]),
            (_, "TapeARNs") => json!([tape("PRI000000")]),
            (_, "TapeARN") => tape("PRI000000"),
            (_, "VolumeARN" | "SourceVolumeARN") => source_volume(),
            (_, "VolumeARNs") => json!([source_volume()]),
            (_, "SnapshotDescription") => json!("conformance"),
            (_, "VolumeSizeInBytes") => json!(536_870_912_000_i64),
            (_, "TargetName") => json!("conformance-target"),
            (_, "NetworkInterfaceId") => json!(self.network_interface),
            (_, "ClientToken") => json!("conformance-token"),
            (_, "KMSKey") => json!("alias/conformance"),
            (_, "Key") => json!("conformance"),
            (_, "Value") => json!("yes"),
            (_, "TagKeys") => json!(["conformance"]),
            _ => return None,
        })
    }

    /// "This value can only be set when KMSEncrypted is true."
    fn companions(&self, op: &str, member: &str) -> Vec<(&'static str, Value)> {
        match (op, member) {
            ("CreateCachediSCSIVolume", "KMSKey") => vec![("KMSEncrypted", json!(true))],
            _ => Vec::new(),
        }
    }
}

/// Refusals a value within the model's bounds may still get, as from AWS: a marker the
/// simulator never handed out is no position in any listing, and a resource ARN must name
/// a gateway, volume or tape (the shortest real one is longer than the model's minimum).
pub const STORAGE_GATEWAY_BEYOND_MODEL: &[(&str, &str)] =
    &[("Marker", "The specified marker is not valid."), ("ResourceARN", "The specified resource ARN is not valid.")];

/// DynamoDB's own naming rule, which it applies after the model's constraints (the model
/// takes 1 to 1024 characters, for a name or an ARN): a table's name is 3 to 255 of
/// `[a-zA-Z0-9_.-]` (the developer guide's naming rules), refused in the model's wording,
/// as AWS does (`Value 'x!' at 'tableName' failed to satisfy constraint: Member must have
/// length greater than or equal to 3; ...`). A value at the model's bounds may get it.
pub const DYNAMODB_BEYOND_MODEL: &[(&str, &str)] = &[
    ("TableName", "at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"),
    ("TableName", "at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255"),
    (
        "TableName",
        "at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ),
];

pub struct Sns;

impl Fixture for Sns {
    fn known(&self, op: &str, member: &str) -> Option<Value> {
        Some(match (op, member) {
            (_, "TopicArn") => json!(format!("arn:aws:sns:{REGION}:{ACCOUNT}:gateway-recovery")),
            (_, "Message") => json!("conformance"),
            (_, "Name") => json!("conformance-topic"),
            (_, "MessageAttributes.key") => json!("conformance"),
            (_, "DataType") => json!("String"),
            (_, "StringValue") => json!("yes"),
            (_, "Key") => json!("conformance"),
            (_, "Value") => json!("yes"),
            _ => return None,
        })
    }

    /// A message needs somewhere to go, and an attribute a value.
    fn include(&self, op: &str, member: &str) -> bool {
        matches!((op, member), ("Publish", "TopicArn") | (_, "StringValue"))
    }
}

pub struct DynamoDb;

impl Fixture for DynamoDb {
    fn known(&self, op: &str, member: &str) -> Option<Value> {
        Some(match member {
            "TableName" if op == "CreateTable" => json!("conformance-new"),
            "TableName" => json!(TABLE),
            "TimeToLiveSpecification" => json!({"Enabled": true, "AttributeName": "expires_at"}),
            // An item's key (a tag's `Key` is a string).
            "Key" if op != "CreateTable" => json!({"pk": {"S": "p"}, "sk": {"S": "s"}}),
            "ExclusiveStartKey" => json!({"pk": {"S": "p"}, "sk": {"S": "s"}}),
            "Item" => json!({"pk": {"S": "p"}, "sk": {"S": "s"}}),
            "KeyConditionExpression" => json!("pk = :p"),
            "ExpressionAttributeValues" => json!({":p": {"S": "p"}}),
            "AttributeName" => json!("expires_at"),
            "KeySchema" => json!([{"AttributeName": "id", "KeyType": "HASH"}]),
            "AttributeDefinitions" => json!([{"AttributeName": "id", "AttributeType": "S"}]),
            "BillingMode" => json!("PAY_PER_REQUEST"),
            _ => return None,
        })
    }

    /// "Each attribute value is described as a name-value pair": one type per value.
    fn one_member_of(&self, shape: &str) -> bool {
        shape == "AttributeValue"
    }

    /// A query's key condition names its placeholder values.
    fn include(&self, op: &str, member: &str) -> bool {
        matches!(
            (op, member),
            ("Query", "KeyConditionExpression" | "ExpressionAttributeValues")
                | ("CreateTable", "BillingMode" | "KeySchema" | "AttributeDefinitions")
        )
    }
}

pub struct Sqs;

impl Fixture for Sqs {
    fn known(&self, _op: &str, member: &str) -> Option<Value> {
        Some(match member {
            "QueueUrl" => json!(queue_url()),
            "QueueName" => json!(QUEUE),
            "MessageBody" => json!("conformance"),
            "ReceiptHandle" => json!(RECEIPT_HANDLE),
            "Attributes" => json!({"DelaySeconds": "0"}),
            "DataType" => json!("String"),
            "StringValue" => json!("yes"),
            _ => return None,
        })
    }

    /// A message attribute needs a value.
    fn include(&self, _op: &str, member: &str) -> bool {
        member == "StringValue"
    }
}
