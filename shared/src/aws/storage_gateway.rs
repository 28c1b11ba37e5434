use aws_sdk_storagegateway as sgw;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::StreamExt;
use futures::stream;

use super::{from_sdk, parsed};
use crate::arn::{GatewayArn, Taggable, TapeArn, VolumeArn};
use crate::model::{
    CachedVolume, CloneRequest, CreatedVolume, Disks, GatewayDescription, GatewayKind, GatewaySummary, KmsSettings,
    Page, Tags, Tape, TapeInfo, TapeRecoveryPoint, TapeStatus, VolumeInfo, VolumeKind, VolumeRecoveryPoint,
};
use crate::ports::{AwsError, PageStream, StorageGateway};

/// Storage Gateway through `aws-sdk-storagegateway`.
#[derive(Clone, Debug)]
pub struct SdkStorageGateway(pub sgw::Client);

type Response = aws_smithy_runtime_api::http::Response;

/// The `error.errorCode` inside Storage Gateway's modeled exceptions, when there is one.
/// Every operation's error wraps the same exception structs, which `source()` gives.
fn error_code<E: std::error::Error + 'static>(e: &E) -> Option<String> {
    use sgw::types::error::{InternalServerError, InvalidGatewayRequestException, ServiceUnavailableError};
    let inner = e.source()?;
    let detail = if let Some(x) = inner.downcast_ref::<InvalidGatewayRequestException>() {
        x.error()
    } else if let Some(x) = inner.downcast_ref::<InternalServerError>() {
        x.error()
    } else if let Some(x) = inner.downcast_ref::<ServiceUnavailableError>() {
        x.error()
    } else {
        None
    };
    detail.and_then(|d| d.error_code()).map(|c| c.as_str().trim().to_owned())
}

fn classify<E>(operation: &'static str, err: SdkError<E, Response>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    from_sdk(operation, err, error_code)
}

/// An SDK paginator as pages of domain items, each with the marker of the next page.
fn pages<'a, O, T, E>(
    operation: &'static str,
    paginator: PaginationStream<Result<O, SdkError<E, Response>>>,
    page: impl Fn(O) -> Page<T> + Send + 'a,
) -> PageStream<'a, T>
where
    O: Send + 'a,
    T: Send + 'a,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    stream::unfold(paginator, |mut p| async move { p.next().await.map(|item| (item, p)) })
        .map(move |r| r.map(&page).map_err(|e| classify(operation, e)))
        .boxed()
}

fn next(marker: Option<&str>) -> Option<String> {
    marker.filter(|m| !m.is_empty()).map(str::to_owned)
}

fn sdk_tags(operation: &'static str, tags: &[(String, String)]) -> Result<Vec<sgw::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            sgw::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::malformed(operation, e.to_string()))
        })
        .collect()
}

fn tape_of(t: &sgw::types::Tape) -> Option<Tape> {
    Some(Tape {
        tape: parsed("tape", t.tape_arn(), |s| TapeArn::parse("TapeARN", s))?,
        status: TapeStatus::from_api(t.tape_status().unwrap_or_default()),
        size_bytes: t.tape_size_in_bytes(),
        used_bytes: t.tape_used_in_bytes(),
    })
}

fn cached_volume_of(v: &sgw::types::CachediScsiVolume) -> Option<CachedVolume> {
    let iscsi = v.volumei_scsi_attributes();
    Some(CachedVolume {
        volume: parsed("volume", v.volume_arn(), |s| VolumeArn::parse("VolumeARN", s))?,
        status: v.volume_status().unwrap_or("UNKNOWN").to_owned(),
        size_bytes: Some(v.volume_size_in_bytes()),
        target_arn: iscsi.and_then(|a| a.target_arn()).map(str::to_owned),
        target_name: v.target_name().map(str::to_owned),
        network_interface: iscsi.and_then(|a| a.network_interface_id()).map(str::to_owned),
        port: iscsi.map(|a| a.network_interface_port()),
        kms: KmsSettings { encrypted: v.kms_key().is_some(), key: v.kms_key().map(str::to_owned) },
    })
}

impl StorageGateway for SdkStorageGateway {
    fn list_gateways(&self, from: Option<String>) -> PageStream<'_, GatewaySummary> {
        let paginator = self.0.list_gateways().set_marker(from).into_paginator().send();
        pages("ListGateways", paginator, |o| Page {
            items: o
                .gateways()
                .iter()
                .filter_map(|g| {
                    let arn = parsed("gateway", g.gateway_arn(), |s| GatewayArn::parse("GatewayARN", s))?;
                    Some(GatewaySummary {
                        name: g.gateway_name().unwrap_or(arn.id()).to_owned(),
                        kind: GatewayKind::from_api(g.gateway_type().unwrap_or_default()),
                        disabled: g.gateway_operational_state() == Some("DISABLED"),
                        arn,
                    })
                })
                .collect(),
            next: next(o.marker()),
        })
    }

    async fn describe_gateway(&self, gateway: &GatewayArn) -> Result<GatewayDescription, AwsError> {
        let o = self
            .0
            .describe_gateway_information()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("DescribeGatewayInformation", e))?;
        let tags: Tags = o.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        Ok(GatewayDescription {
            arn: gateway.clone(),
            name: o.gateway_name().unwrap_or(gateway.id()).to_owned(),
            kind: GatewayKind::from_api(o.gateway_type().unwrap_or_default()),
            state: o.gateway_state().unwrap_or("UNKNOWN").to_owned(),
            network_interfaces: o
                .gateway_network_interfaces()
                .iter()
                .filter_map(|n| n.ipv4_address().map(str::to_owned))
                .collect(),
            // AWS sends "up to 10" tags here: fewer than that means all.
            tags_complete: tags.len() < 10,
            tags,
        })
    }

    async fn list_tags(&self, resource: Taggable<'_>) -> Result<Tags, AwsError> {
        let mut pages = self.0.list_tags_for_resource().resource_arn(resource.as_str()).into_paginator().send();
        let mut tags = Tags::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ListTagsForResource", e))?;
            tags.extend(page.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
        }
        Ok(tags)
    }

    async fn disable_gateway(&self, gateway: &GatewayArn) -> Result<(), AwsError> {
        self.0
            .disable_gateway()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("DisableGateway", e))?;
        Ok(())
    }

    fn tape_recovery_points(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, TapeRecoveryPoint> {
        let paginator = self
            .0
            .describe_tape_recovery_points()
            .gateway_arn(gateway.as_str())
            .set_marker(from)
            .into_paginator()
            .send();
        pages("DescribeTapeRecoveryPoints", paginator, |o| Page {
            items: o
                .tape_recovery_point_infos()
                .iter()
                .filter_map(|rp| {
                    Some(TapeRecoveryPoint {
                        tape: parsed("tape", rp.tape_arn(), |s| TapeArn::parse("TapeARN", s))?,
                        time: rp.tape_recovery_point_time().map(|t| t.secs()),
                        size_bytes: rp.tape_size_in_bytes(),
                    })
                })
                .collect(),
            next: next(o.marker()),
        })
    }

    async fn retrieve_tape(&self, tape: &TapeArn, to: &GatewayArn) -> Result<(), AwsError> {
        self.0
            .retrieve_tape_recovery_point()
            .tape_arn(tape.as_str())
            .gateway_arn(to.as_str())
            .send()
            .await
            .map_err(|e| classify("RetrieveTapeRecoveryPoint", e))?;
        Ok(())
    }

    fn gateway_tapes(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, Tape> {
        let paginator = self.0.describe_tapes().gateway_arn(gateway.as_str()).set_marker(from).into_paginator().send();
        pages("DescribeTapes", paginator, |o| Page {
            items: o.tapes().iter().filter_map(tape_of).collect(),
            next: next(o.marker()),
        })
    }

    async fn find_tapes(&self, gateway: &GatewayArn, tapes: &[TapeArn]) -> Result<Vec<Tape>, AwsError> {
        let mut found = Vec::new();
        // A request names at most 100 tapes, so the answers stay small.
        for chunk in tapes.chunks(100) {
            let mut pages = self
                .0
                .describe_tapes()
                .gateway_arn(gateway.as_str())
                .set_tape_arns(Some(chunk.iter().map(|t| t.as_str().to_owned()).collect()))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                found.extend(page.map_err(|e| classify("DescribeTapes", e))?.tapes().iter().filter_map(tape_of));
            }
        }
        Ok(found)
    }

    fn list_tapes(&self, from: Option<String>) -> PageStream<'_, TapeInfo> {
        let paginator = self.0.list_tapes().set_marker(from).into_paginator().send();
        pages("ListTapes", paginator, |o| Page {
            items: o
                .tape_infos()
                .iter()
                .filter_map(|t| {
                    Some(TapeInfo {
                        tape: parsed("tape", t.tape_arn(), |s| TapeArn::parse("TapeARN", s))?,
                        gateway: t.gateway_arn().and_then(|g| GatewayArn::parse("GatewayARN", g).ok()),
                        status: TapeStatus::from_api(t.tape_status().unwrap_or_default()),
                        size_bytes: t.tape_size_in_bytes(),
                    })
                })
                .collect(),
            next: next(o.marker()),
        })
    }

    fn list_volumes(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, VolumeInfo> {
        let paginator = self.0.list_volumes().gateway_arn(gateway.as_str()).set_marker(from).into_paginator().send();
        pages("ListVolumes", paginator, |o| Page {
            items: o
                .volume_infos()
                .iter()
                .filter_map(|v| {
                    Some(VolumeInfo {
                        volume: parsed("volume", v.volume_arn(), |s| VolumeArn::parse("VolumeARN", s))?,
                        kind: VolumeKind::from_api(v.volume_type().unwrap_or_default()),
                        size_bytes: Some(v.volume_size_in_bytes()),
                    })
                })
                .collect(),
            next: next(o.marker()),
        })
    }

    async fn volume_recovery_points(&self, gateway: &GatewayArn) -> Result<Vec<VolumeRecoveryPoint>, AwsError> {
        let o = self
            .0
            .list_volume_recovery_points()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("ListVolumeRecoveryPoints", e))?;
        Ok(o.volume_recovery_point_infos()
            .iter()
            .filter_map(|rp| {
                Some(VolumeRecoveryPoint {
                    volume: parsed("volume", rp.volume_arn(), |s| VolumeArn::parse("VolumeARN", s))?,
                    time: rp.volume_recovery_point_time()?.to_owned(),
                    size_bytes: Some(rp.volume_size_in_bytes()),
                })
            })
            .collect())
    }

    async fn describe_cached_volumes(&self, volumes: &[VolumeArn]) -> Result<Vec<CachedVolume>, AwsError> {
        let mut found = Vec::new();
        for chunk in volumes.chunks(32) {
            let o = self
                .0
                .describe_cachedi_scsi_volumes()
                .set_volume_arns(Some(chunk.iter().map(|v| v.as_str().to_owned()).collect()))
                .send()
                .await
                .map_err(|e| classify("DescribeCachediSCSIVolumes", e))?;
            found.extend(o.cachedi_scsi_volumes().iter().filter_map(cached_volume_of));
        }
        Ok(found)
    }

    async fn clone_volume(&self, r: &CloneRequest) -> Result<CreatedVolume, AwsError> {
        const OP: &str = "CreateCachediSCSIVolume";
        let o = self
            .0
            .create_cachedi_scsi_volume()
            .gateway_arn(r.gateway.as_str())
            .source_volume_arn(r.source.as_str())
            .volume_size_in_bytes(r.size_bytes)
            .target_name(&r.target_name)
            .network_interface_id(&r.network_interface)
            .client_token(&r.client_token)
            .set_kms_encrypted(r.kms.encrypted.then_some(true))
            .set_kms_key(r.kms.key.clone())
            .set_tags((!r.tags.is_empty()).then(|| sdk_tags(OP, &r.tags)).transpose()?)
            .send()
            .await
            .map_err(|e| classify(OP, e))?;
        let volume = o
            .volume_arn()
            .and_then(|v| VolumeArn::parse("VolumeARN", v).ok())
            .ok_or_else(|| AwsError::malformed(OP, "the answer has no valid VolumeARN"))?;
        Ok(CreatedVolume { volume, target_arn: o.target_arn().map(str::to_owned) })
    }

    async fn describe_cache(&self, gateway: &GatewayArn) -> Result<Disks, AwsError> {
        let o = self
            .0
            .describe_cache()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("DescribeCache", e))?;
        Ok(Disks { disk_ids: o.disk_ids().to_vec(), allocated_bytes: o.cache_allocated_in_bytes() })
    }

    async fn describe_upload_buffer(&self, gateway: &GatewayArn) -> Result<Disks, AwsError> {
        let o = self
            .0
            .describe_upload_buffer()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("DescribeUploadBuffer", e))?;
        Ok(Disks { disk_ids: o.disk_ids().to_vec(), allocated_bytes: o.upload_buffer_allocated_in_bytes() })
    }

    async fn snapshot_volume(
        &self,
        volume: &VolumeArn,
        description: &str,
        tags: &[(String, String)],
    ) -> Result<String, AwsError> {
        const OP: &str = "CreateSnapshotFromVolumeRecoveryPoint";
        let o = self
            .0
            .create_snapshot_from_volume_recovery_point()
            .volume_arn(volume.as_str())
            .snapshot_description(description)
            .set_tags(Some(sdk_tags(OP, tags)?))
            .send()
            .await
            .map_err(|e| classify(OP, e))?;
        o.snapshot_id().map(str::to_owned).ok_or_else(|| AwsError::malformed(OP, "the answer has no SnapshotId"))
    }
}
