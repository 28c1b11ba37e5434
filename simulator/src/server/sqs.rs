//! SQS over awsJson1_0: `X-Amz-Target: AmazonSQS.<Operation>`; and delivery of due
//! messages to a queue's Lambda invoke URL (an event source mapping). The queues
//! themselves are in [`crate::sqs`].

use super::{Answer, Call, Simulator};

pub(super) const TARGET_PREFIX: &str = "AmazonSQS.";

pub(super) async fn call(_sim: &Simulator, _call: Call) -> Answer {
    Err(super::Dropped)
}

/// Starts delivering due messages to the queues' invoke URLs in the background.
pub(super) fn start_deliveries(_sim: Simulator) {}

/// This service's part of the `/_sim/` control API (`segments` follow `/_sim/`); `None`
/// when the request is not for it.
pub(super) fn control(
    _sim: &Simulator,
    _method: &hyper::Method,
    _segments: &[&str],
    _body: &[u8],
) -> Option<hyper::Response<http_body_util::Full<bytes::Bytes>>> {
    None
}
