//! The input shapes of the SQS operations the simulator answers, transcribed from
//! botocore's `sqs/2012-11-05/service-2.json` for [`crate::validate`], which reads every
//! request against them before anything else; `tests/conformance.rs` checks them against
//! that file.
//!
//! One departure, on purpose: ReceiveMessage's `AttributeNames` is a list of
//! `QueueAttributeName` in the model, yet the API reference lists the message system
//! attributes for it (`ApproximateReceiveCount`, `SenderId`, ...), and SQS answers them:
//! it takes a name of either enum.

use crate::validate::{BLOB, Member, STRING, Shape, Str, int, one_of, opt, req, text};

/// `QueueAttributeName`, in the model's order.
pub const QUEUE_ATTRIBUTE_NAMES: &[&str] = &[
    "All",
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
];
/// `MessageSystemAttributeName`, in the model's order.
pub const MESSAGE_SYSTEM_ATTRIBUTE_NAMES: &[&str] = &[
    "All",
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
];
/// What ReceiveMessage's `AttributeNames` takes: a name of either enum ("All" once).
const RECEIVE_ATTRIBUTE_NAMES: &[&str] = &concat::<
    { QUEUE_ATTRIBUTE_NAMES.len() + MESSAGE_SYSTEM_ATTRIBUTE_NAMES.len() - 1 },
>(QUEUE_ATTRIBUTE_NAMES, MESSAGE_SYSTEM_ATTRIBUTE_NAMES.split_at(1).1);

/// Two name lists as one, at compile time.
const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[a.len() + j] = b[j];
        j += 1;
    }
    out
}

const QUEUE_ATTRIBUTE_NAME: Str = text(None, None, None, QUEUE_ATTRIBUTE_NAMES);
/// `MessageSystemAttributeNameForSends`.
const SYSTEM_ATTRIBUTE_NAME_FOR_SENDS: Str = text(None, None, None, &["AWSTraceHeader"]);
const INTEGER: Shape = int(None, None);
const STRINGS: Shape = Shape::List(&STRING);
const STRING_MAP: Shape = Shape::Map { value: &STRING, key_name: "Name", value_name: "Value" };
/// `MessageAttributeValue` and `MessageSystemAttributeValue`.
const ATTRIBUTE_VALUE: Shape = Shape::Struct(&[
    opt("StringValue", &STRING),
    opt("BinaryValue", &BLOB),
    opt("StringListValues", &STRINGS),
    opt("BinaryListValues", &Shape::List(&BLOB)),
    req("DataType", &STRING),
]);
const ATTRIBUTE_MAP: Shape = Shape::Map { value: &ATTRIBUTE_VALUE, key_name: "Name", value_name: "Value" };

const CREATE_QUEUE: &[Member] =
    &[req("QueueName", &STRING), opt("Attributes", &STRING_MAP).keyed(&QUEUE_ATTRIBUTE_NAME), opt("tags", &STRING_MAP)];
const GET_QUEUE_URL: &[Member] = &[req("QueueName", &STRING), opt("QueueOwnerAWSAccountId", &STRING)];
const LIST_QUEUES: &[Member] =
    &[opt("QueueNamePrefix", &STRING), opt("NextToken", &STRING), opt("MaxResults", &INTEGER)];
/// DeleteQueue, PurgeQueue.
const QUEUE_ONLY: &[Member] = &[req("QueueUrl", &STRING)];
const GET_QUEUE_ATTRIBUTES: &[Member] =
    &[req("QueueUrl", &STRING), opt("AttributeNames", &Shape::List(&one_of(QUEUE_ATTRIBUTE_NAMES)))];
const SET_QUEUE_ATTRIBUTES: &[Member] =
    &[req("QueueUrl", &STRING), req("Attributes", &STRING_MAP).keyed(&QUEUE_ATTRIBUTE_NAME)];
const SEND_MESSAGE: &[Member] = &[
    req("QueueUrl", &STRING),
    req("MessageBody", &STRING),
    opt("DelaySeconds", &INTEGER),
    opt("MessageAttributes", &ATTRIBUTE_MAP),
    opt("MessageSystemAttributes", &ATTRIBUTE_MAP).keyed(&SYSTEM_ATTRIBUTE_NAME_FOR_SENDS),
    opt("MessageDeduplicationId", &STRING),
    opt("MessageGroupId", &STRING),
];
const RECEIVE_MESSAGE: &[Member] = &[
    req("QueueUrl", &STRING),
    opt("AttributeNames", &Shape::List(&one_of(RECEIVE_ATTRIBUTE_NAMES))),
    opt("MessageSystemAttributeNames", &Shape::List(&one_of(MESSAGE_SYSTEM_ATTRIBUTE_NAMES))),
    opt("MessageAttributeNames", &STRINGS),
    opt("MaxNumberOfMessages", &INTEGER),
    opt("VisibilityTimeout", &INTEGER),
    opt("WaitTimeSeconds", &INTEGER),
    opt("ReceiveRequestAttemptId", &STRING),
];
const DELETE_MESSAGE: &[Member] = &[req("QueueUrl", &STRING), req("ReceiptHandle", &STRING)];
const CHANGE_MESSAGE_VISIBILITY: &[Member] =
    &[req("QueueUrl", &STRING), req("ReceiptHandle", &STRING), req("VisibilityTimeout", &INTEGER)];

/// The input members of every SQS operation the simulator answers; `None` for any other.
pub fn input(op: &str) -> Option<&'static [Member]> {
    Some(match op {
        "CreateQueue" => CREATE_QUEUE,
        "GetQueueUrl" => GET_QUEUE_URL,
        "ListQueues" => LIST_QUEUES,
        "DeleteQueue" | "PurgeQueue" => QUEUE_ONLY,
        "GetQueueAttributes" => GET_QUEUE_ATTRIBUTES,
        "SetQueueAttributes" => SET_QUEUE_ATTRIBUTES,
        "SendMessage" => SEND_MESSAGE,
        "ReceiveMessage" => RECEIVE_MESSAGE,
        "DeleteMessage" => DELETE_MESSAGE,
        "ChangeMessageVisibility" => CHANGE_MESSAGE_VISIBILITY,
        _ => return None,
    })
}
