//! The narrow ports the domain talks through, and their one SDK-backed implementation
//! (`sdk`). The domain never sees an SDK type: only validated ARNs, the plain data of
//! `model`, and classified [`AwsError`]s.

pub mod error;
pub mod sdk;

use std::future::Future;

use futures::stream::BoxStream;

pub use error::{AwsError, ErrorKind};

use crate::arn::{GatewayArn, Taggable, TapeArn, TopicArn, VolumeArn};
use crate::model::{GatewayDescription, GatewaySummary, Tags, Tape, TapeRecoveryPoint, VolumeRecoveryPoint};

/// A stream of pages, as the SDK's paginators give them.
pub type Pages<'a, T> = BoxStream<'a, Result<Vec<T>, AwsError>>;

/// The Storage Gateway calls this project makes, and no others.
pub trait StorageGateway: Send + Sync {
    /// `ListGateways`, every page.
    fn list_gateways(&self) -> Pages<'_, GatewaySummary>;

    /// `DescribeGatewayInformation`; answers `NotConnected` for an offline gateway.
    fn describe_gateway(
        &self,
        gateway: &GatewayArn,
    ) -> impl Future<Output = Result<GatewayDescription, AwsError>> + Send;

    /// `ListTagsForResource`, every page.
    fn list_tags(&self, resource: Taggable<'_>) -> impl Future<Output = Result<Tags, AwsError>> + Send;

    /// `AddTagsToResource`.
    fn add_tags(
        &self,
        resource: Taggable<'_>,
        tags: &[(&str, String)],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// `RemoveTagsFromResource`.
    fn remove_tags(&self, resource: Taggable<'_>, keys: &[&str]) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// `DisableGateway`: irreversible.
    fn disable_gateway(&self, gateway: &GatewayArn) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// `DescribeTapeRecoveryPoints`, every page from `from` (a marker a page gave; `None`:
    /// the start), each page with the marker of the one after it.
    fn tape_recovery_points(
        &self,
        gateway: &GatewayArn,
        from: Option<String>,
    ) -> BoxStream<'_, Result<RecoveryPointPage, AwsError>>;

    /// `RetrieveTapeRecoveryPoint` of `tape` onto the gateway `to`.
    fn retrieve_tape(&self, tape: &TapeArn, to: &GatewayArn) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// `DescribeTapes` of a gateway, every page.
    fn gateway_tapes(&self, gateway: &GatewayArn) -> Pages<'_, Tape>;

    /// `DescribeTapes` of a gateway, only the given tapes (those not on it are left out).
    fn find_tapes(
        &self,
        gateway: &GatewayArn,
        tapes: &[TapeArn],
    ) -> impl Future<Output = Result<Vec<Tape>, AwsError>> + Send;

    /// `ListVolumeRecoveryPoints` (cached volume gateways).
    fn volume_recovery_points(
        &self,
        gateway: &GatewayArn,
    ) -> impl Future<Output = Result<Vec<VolumeRecoveryPoint>, AwsError>> + Send;

    /// `CreateSnapshotFromVolumeRecoveryPoint`; answers the snapshot id.
    fn snapshot_volume(
        &self,
        volume: &VolumeArn,
        description: &str,
        tags: &[(&str, String)],
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// One page of tape recovery points, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPointPage {
    pub points: Vec<TapeRecoveryPoint>,
    pub next: Option<String>,
}

/// One SNS message.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub topic: TopicArn,
    /// Under 100 characters, one line.
    pub subject: Option<String>,
    pub body: String,
    /// String message attributes (for subscription filter policies).
    pub attributes: Vec<(String, String)>,
}

/// Publishing to SNS.
pub trait Notifier: Send + Sync {
    /// `Publish`; answers the message id.
    fn publish(&self, message: &Publication) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// The time, so tests can move it.
pub trait Clock: Send + Sync {
    /// Epoch seconds.
    fn now(&self) -> i64;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or_default()
    }
}
