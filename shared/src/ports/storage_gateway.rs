use std::future::Future;

use futures::stream::BoxStream;

use super::AwsError;
use crate::arn::{GatewayArn, Taggable, TapeArn, VolumeArn};
use crate::model::{
    CachedVolume, CloneRequest, CreatedVolume, Disks, GatewayDescription, GatewaySummary, Page, Tags, Tape, TapeInfo,
    TapeRecoveryPoint, VolumeInfo, VolumeRecoveryPoint,
};

/// Pages of a listing, from the SDK's paginator. Each page carries the marker of the next,
/// so a listing that fails part way can start again from where it was.
pub type PageStream<'a, T> = BoxStream<'a, Result<Page<T>, AwsError>>;

/// The Storage Gateway calls this project makes, and no others. Paged listings start at
/// `from` (a marker an earlier page gave; `None`: the start). Nothing here writes a tag.
pub trait StorageGateway: Send + Sync {
    /// `ListGateways`.
    fn list_gateways(&self, from: Option<String>) -> PageStream<'_, GatewaySummary>;

    /// `DescribeGatewayInformation`; answers `NotConnected` for an offline gateway.
    fn describe_gateway(
        &self,
        gateway: &GatewayArn,
    ) -> impl Future<Output = Result<GatewayDescription, AwsError>> + Send;

    /// `ListTagsForResource`, every page.
    fn list_tags(&self, resource: Taggable<'_>) -> impl Future<Output = Result<Tags, AwsError>> + Send;

    /// `DisableGateway`: irreversible.
    fn disable_gateway(&self, gateway: &GatewayArn) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// `DescribeTapeRecoveryPoints`.
    fn tape_recovery_points(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, TapeRecoveryPoint>;

    /// `RetrieveTapeRecoveryPoint` of `tape` onto the gateway `to`.
    fn retrieve_tape(&self, tape: &TapeArn, to: &GatewayArn) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// `DescribeTapes` of a gateway: every tape on it.
    fn gateway_tapes(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, Tape>;

    /// `DescribeTapes` of a gateway, only the given tapes (those not on it are left out).
    fn find_tapes(
        &self,
        gateway: &GatewayArn,
        tapes: &[TapeArn],
    ) -> impl Future<Output = Result<Vec<Tape>, AwsError>> + Send;

    /// `ListTapes`: every tape of the region, with the gateway each is on.
    fn list_tapes(&self, from: Option<String>) -> PageStream<'_, TapeInfo>;

    /// `ListVolumes` of a volume gateway.
    fn list_volumes(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, VolumeInfo>;

    /// `ListVolumeRecoveryPoints` (cached volume gateways).
    fn volume_recovery_points(
        &self,
        gateway: &GatewayArn,
    ) -> impl Future<Output = Result<Vec<VolumeRecoveryPoint>, AwsError>> + Send;

    /// `DescribeCachediSCSIVolumes`.
    fn describe_cached_volumes(
        &self,
        volumes: &[VolumeArn],
    ) -> impl Future<Output = Result<Vec<CachedVolume>, AwsError>> + Send;

    /// `CreateCachediSCSIVolume` with a `SourceVolumeARN`: a clone of the source's latest
    /// recovery point.
    fn clone_volume(&self, request: &CloneRequest) -> impl Future<Output = Result<CreatedVolume, AwsError>> + Send;

    /// `DescribeCache`.
    fn describe_cache(&self, gateway: &GatewayArn) -> impl Future<Output = Result<Disks, AwsError>> + Send;

    /// `DescribeUploadBuffer`.
    fn describe_upload_buffer(&self, gateway: &GatewayArn) -> impl Future<Output = Result<Disks, AwsError>> + Send;

    /// `CreateSnapshotFromVolumeRecoveryPoint`; answers the snapshot id.
    fn snapshot_volume(
        &self,
        volume: &VolumeArn,
        description: &str,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}
