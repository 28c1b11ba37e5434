//! The input shapes of the DynamoDB operations the simulator answers, transcribed from
//! botocore's `dynamodb/2012-08-10/service-2.json` for [`crate::validate`], which reads
//! every request against them before anything else; `tests/conformance.rs` checks them
//! against that file. Enums list their values in the order DynamoDB's messages list them
//! (`[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]`), which is not the model's.
//!
//! `AttributeValue` is recursive (`M` and `L` hold more of them), so these are statics.

use crate::validate::{
    BLOB, BOOLEAN, DYNAMODB_NAME_PATTERN, Member, STRING, Shape, Str, int, long, one_of, opt, patterned, req, sized,
    text,
};

/// `TableArn`: what every operation but ListTables takes as `TableName` (a name or an ARN).
static TABLE_ARN: Shape = sized(1, 1024);
/// `TableName`: ListTables' `ExclusiveStartTableName`.
static TABLE_NAME: Shape = patterned(Some(3), Some(255), DYNAMODB_NAME_PATTERN);
static INDEX_NAME: Shape = patterned(Some(3), Some(255), DYNAMODB_NAME_PATTERN);
/// `AttributeName`: an item's attribute names (map keys) and names in expressions.
const ATTRIBUTE_NAME: Str = text(None, Some(65535), None, &[]);
static ATTRIBUTE_NAME_SHAPE: Shape = Shape::Str(ATTRIBUTE_NAME);
static KEY_SCHEMA_ATTRIBUTE_NAME: Shape = sized(1, 255);
static POSITIVE_LONG: Shape = long(Some(1), None);
static LONG: Shape = long(None, None);

static ATTRIBUTE_VALUE: Shape = Shape::Struct(&[
    opt("S", &STRING),
    opt("N", &STRING),
    opt("B", &BLOB),
    opt("SS", &STRING_LIST),
    opt("NS", &STRING_LIST),
    opt("BS", &BLOB_LIST),
    opt("M", &ATTRIBUTE_MAP).keyed(&ATTRIBUTE_NAME),
    opt("L", &ATTRIBUTE_VALUE_LIST),
    opt("NULL", &BOOLEAN),
    opt("BOOL", &BOOLEAN),
]);
static STRING_LIST: Shape = Shape::List(&STRING);
static BLOB_LIST: Shape = Shape::List(&BLOB);
/// `Key`, `PutItemInputAttributeMap`, `MapAttributeValue`: attribute values by name.
static ATTRIBUTE_MAP: Shape = Shape::Map { value: &ATTRIBUTE_VALUE, key_name: "key", value_name: "value" };
static ATTRIBUTE_VALUE_LIST: Shape = Shape::List(&ATTRIBUTE_VALUE);

static KEY_TYPE: Shape = one_of(&["HASH", "RANGE"]);
static KEY_SCHEMA_ELEMENT: Shape =
    Shape::Struct(&[req("AttributeName", &KEY_SCHEMA_ATTRIBUTE_NAME), req("KeyType", &KEY_TYPE)]);
static KEY_SCHEMA: Shape = Shape::List(&KEY_SCHEMA_ELEMENT);
static ATTRIBUTE_DEFINITION: Shape =
    Shape::Struct(&[req("AttributeName", &KEY_SCHEMA_ATTRIBUTE_NAME), req("AttributeType", &one_of(&["B", "N", "S"]))]);
static PROJECTION: Shape = Shape::Struct(&[
    opt("ProjectionType", &one_of(&["ALL", "INCLUDE", "KEYS_ONLY"])),
    opt("NonKeyAttributes", &Shape::List(&sized(1, 255))).items(Some(1), Some(20)),
]);
static PROVISIONED_THROUGHPUT: Shape =
    Shape::Struct(&[req("ReadCapacityUnits", &POSITIVE_LONG), req("WriteCapacityUnits", &POSITIVE_LONG)]);
static ON_DEMAND_THROUGHPUT: Shape =
    Shape::Struct(&[opt("MaxReadRequestUnits", &LONG), opt("MaxWriteRequestUnits", &LONG)]);
static WARM_THROUGHPUT: Shape = Shape::Struct(&[opt("ReadUnitsPerSecond", &LONG), opt("WriteUnitsPerSecond", &LONG)]);
static LOCAL_SECONDARY_INDEX: Shape = Shape::Struct(&[
    req("IndexName", &INDEX_NAME),
    req("KeySchema", &KEY_SCHEMA).items(Some(1), None),
    req("Projection", &PROJECTION),
]);
static GLOBAL_SECONDARY_INDEX: Shape = Shape::Struct(&[
    req("IndexName", &INDEX_NAME),
    req("KeySchema", &KEY_SCHEMA).items(Some(1), None),
    req("Projection", &PROJECTION),
    opt("ProvisionedThroughput", &PROVISIONED_THROUGHPUT),
    opt("OnDemandThroughput", &ON_DEMAND_THROUGHPUT),
    opt("WarmThroughput", &WARM_THROUGHPUT),
]);
static STREAM_SPECIFICATION: Shape = Shape::Struct(&[
    req("StreamEnabled", &BOOLEAN),
    opt("StreamViewType", &one_of(&["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"])),
]);
static SSE_SPECIFICATION: Shape = Shape::Struct(&[
    opt("Enabled", &BOOLEAN),
    opt("SSEType", &one_of(&["AES256", "KMS"])),
    opt("KMSMasterKeyId", &STRING),
]);
static TAG: Shape = Shape::Struct(&[req("Key", &sized(1, 128)), req("Value", &sized(0, 256))]);
static VECTOR_INDEX: Shape = Shape::Struct(&[
    req("IndexName", &INDEX_NAME),
    req("VectorAttribute", &Shape::Struct(&[req("AttributeName", &sized(1, 255))])),
    opt(
        "SearchSchema",
        &Shape::List(&Shape::Struct(&[
            req("AttributeName", &ATTRIBUTE_NAME_SHAPE),
            req("SearchSchemaElementType", &one_of(&["HASH", "INLINE_FILTER"])),
        ])),
    )
    .items(Some(1), None),
    req("Projection", &PROJECTION),
    req("Dimensions", &POSITIVE_LONG),
    req("DistanceFunction", &one_of(&["COSINE", "DOT_PRODUCT", "EUCLIDEAN"])),
]);

static CREATE_TABLE: &[Member] = &[
    opt("AttributeDefinitions", &Shape::List(&ATTRIBUTE_DEFINITION)),
    req("TableName", &TABLE_ARN),
    opt("KeySchema", &KEY_SCHEMA).items(Some(1), None),
    opt("LocalSecondaryIndexes", &Shape::List(&LOCAL_SECONDARY_INDEX)),
    opt("GlobalSecondaryIndexes", &Shape::List(&GLOBAL_SECONDARY_INDEX)),
    opt("BillingMode", &one_of(&["PROVISIONED", "PAY_PER_REQUEST"])),
    opt("ProvisionedThroughput", &PROVISIONED_THROUGHPUT),
    opt("StreamSpecification", &STREAM_SPECIFICATION),
    opt("SSESpecification", &SSE_SPECIFICATION),
    opt("Tags", &Shape::List(&TAG)),
    opt("TableClass", &one_of(&["STANDARD", "STANDARD_INFREQUENT_ACCESS"])),
    opt("DeletionProtectionEnabled", &BOOLEAN),
    opt("WarmThroughput", &WARM_THROUGHPUT),
    opt("ResourcePolicy", &STRING),
    opt("OnDemandThroughput", &ON_DEMAND_THROUGHPUT),
    opt("GlobalTableSourceArn", &TABLE_ARN),
    opt("GlobalTableSettingsReplicationMode", &one_of(&["ENABLED", "DISABLED", "ENABLED_WITH_OVERRIDES"])),
    opt("VectorIndexes", &Shape::List(&VECTOR_INDEX)),
];
/// DescribeTable, DeleteTable, DescribeTimeToLive.
static TABLE_ONLY: &[Member] = &[req("TableName", &TABLE_ARN)];
static LIST_TABLES: &[Member] = &[opt("ExclusiveStartTableName", &TABLE_NAME), opt("Limit", &int(Some(1), Some(100)))];
static UPDATE_TIME_TO_LIVE: &[Member] = &[
    req("TableName", &TABLE_ARN),
    req(
        "TimeToLiveSpecification",
        &Shape::Struct(&[req("Enabled", &BOOLEAN), req("AttributeName", &KEY_SCHEMA_ATTRIBUTE_NAME)]),
    ),
];

static RETURN_CONSUMED_CAPACITY: Shape = one_of(&["INDEXES", "TOTAL", "NONE"]);
static RETURN_VALUE: Shape = one_of(&["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"]);
static RETURN_ITEM_COLLECTION_METRICS: Shape = one_of(&["SIZE", "NONE"]);
static RETURN_VALUES_ON_CONDITION_CHECK_FAILURE: Shape = one_of(&["ALL_OLD", "NONE"]);
static CONDITIONAL_OPERATOR: Shape = one_of(&["OR", "AND"]);
static COMPARISON_OPERATOR: Shape = one_of(&[
    "IN",
    "NULL",
    "BETWEEN",
    "LT",
    "NOT_CONTAINS",
    "EQ",
    "GT",
    "NOT_NULL",
    "NE",
    "LE",
    "BEGINS_WITH",
    "GE",
    "CONTAINS",
]);
static EXPRESSION_ATTRIBUTE_NAMES: Shape =
    Shape::Map { value: &ATTRIBUTE_NAME_SHAPE, key_name: "key", value_name: "value" };
static ATTRIBUTES_TO_GET: Shape = Shape::List(&ATTRIBUTE_NAME_SHAPE);
/// The legacy `Expected` conditions.
static EXPECTED: Shape = Shape::Map {
    value: &Shape::Struct(&[
        opt("Value", &ATTRIBUTE_VALUE),
        opt("Exists", &BOOLEAN),
        opt("ComparisonOperator", &COMPARISON_OPERATOR),
        opt("AttributeValueList", &ATTRIBUTE_VALUE_LIST),
    ]),
    key_name: "key",
    value_name: "value",
};
/// The legacy `KeyConditions` and `QueryFilter`.
static CONDITIONS: Shape = Shape::Map {
    value: &Shape::Struct(&[
        opt("AttributeValueList", &ATTRIBUTE_VALUE_LIST),
        req("ComparisonOperator", &COMPARISON_OPERATOR),
    ]),
    key_name: "key",
    value_name: "value",
};

static GET_ITEM: &[Member] = &[
    req("TableName", &TABLE_ARN),
    req("Key", &ATTRIBUTE_MAP).keyed(&ATTRIBUTE_NAME),
    opt("AttributesToGet", &ATTRIBUTES_TO_GET).items(Some(1), None),
    opt("ConsistentRead", &BOOLEAN),
    opt("ReturnConsumedCapacity", &RETURN_CONSUMED_CAPACITY),
    opt("ProjectionExpression", &STRING),
    opt("ExpressionAttributeNames", &EXPRESSION_ATTRIBUTE_NAMES),
];
static PUT_ITEM: &[Member] = &[
    req("TableName", &TABLE_ARN),
    req("Item", &ATTRIBUTE_MAP).keyed(&ATTRIBUTE_NAME),
    opt("Expected", &EXPECTED).keyed(&ATTRIBUTE_NAME),
    opt("ReturnValues", &RETURN_VALUE),
    opt("ReturnConsumedCapacity", &RETURN_CONSUMED_CAPACITY),
    opt("ReturnItemCollectionMetrics", &RETURN_ITEM_COLLECTION_METRICS),
    opt("ConditionalOperator", &CONDITIONAL_OPERATOR),
    opt("ConditionExpression", &STRING),
    opt("ExpressionAttributeNames", &EXPRESSION_ATTRIBUTE_NAMES),
    opt("ExpressionAttributeValues", &ATTRIBUTE_MAP),
    opt("ReturnValuesOnConditionCheckFailure", &RETURN_VALUES_ON_CONDITION_CHECK_FAILURE),
];
static DELETE_ITEM: &[Member] = &[
    req("TableName", &TABLE_ARN),
    req("Key", &ATTRIBUTE_MAP).keyed(&ATTRIBUTE_NAME),
    opt("Expected", &EXPECTED).keyed(&ATTRIBUTE_NAME),
    opt("ConditionalOperator", &CONDITIONAL_OPERATOR),
    opt("ReturnValues", &RETURN_VALUE),
    opt("ReturnConsumedCapacity", &RETURN_CONSUMED_CAPACITY),
    opt("ReturnItemCollectionMetrics", &RETURN_ITEM_COLLECTION_METRICS),
    opt("ConditionExpression", &STRING),
    opt("ExpressionAttributeNames", &EXPRESSION_ATTRIBUTE_NAMES),
    opt("ExpressionAttributeValues", &ATTRIBUTE_MAP),
    opt("ReturnValuesOnConditionCheckFailure", &RETURN_VALUES_ON_CONDITION_CHECK_FAILURE),
];
static QUERY: &[Member] = &[
    req("TableName", &TABLE_ARN),
    opt("IndexName", &INDEX_NAME),
    opt("Select", &one_of(&["SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"])),
    opt("AttributesToGet", &ATTRIBUTES_TO_GET).items(Some(1), None),
    opt("Limit", &int(Some(1), None)),
    opt("ConsistentRead", &BOOLEAN),
    opt("KeyConditions", &CONDITIONS).keyed(&ATTRIBUTE_NAME),
    opt("QueryFilter", &CONDITIONS).keyed(&ATTRIBUTE_NAME),
    opt("ConditionalOperator", &CONDITIONAL_OPERATOR),
    opt("ScanIndexForward", &BOOLEAN),
    opt("ExclusiveStartKey", &ATTRIBUTE_MAP).keyed(&ATTRIBUTE_NAME),
    opt("ReturnConsumedCapacity", &RETURN_CONSUMED_CAPACITY),
    opt("ProjectionExpression", &STRING),
    opt("FilterExpression", &STRING),
    opt("KeyConditionExpression", &STRING),
    opt("ExpressionAttributeNames", &EXPRESSION_ATTRIBUTE_NAMES),
    opt("ExpressionAttributeValues", &ATTRIBUTE_MAP),
];

/// The input members of every DynamoDB operation the simulator answers; `None` for any
/// other.
pub fn input(op: &str) -> Option<&'static [Member]> {
    Some(match op {
        "CreateTable" => CREATE_TABLE,
        "DescribeTable" | "DeleteTable" | "DescribeTimeToLive" => TABLE_ONLY,
        "ListTables" => LIST_TABLES,
        "UpdateTimeToLive" => UPDATE_TIME_TO_LIVE,
        "GetItem" => GET_ITEM,
        "PutItem" => PUT_ITEM,
        "DeleteItem" => DELETE_ITEM,
        "Query" => QUERY,
        _ => return None,
    })
}
