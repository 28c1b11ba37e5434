//! The ports, implemented with the AWS SDK for Rust. Clients are built once (cold start
//! matters) from `aws_config::load_defaults`, so the standard environment (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`, ...) works unchanged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_storagegateway as sgw;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryReason};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use futures::StreamExt;
use futures::stream::{self, BoxStream};

use super::error::{AwsError, classify, is_throttling_code, metadata};
use super::{Notifier, Pages, Publication, RecoveryPointPage, StorageGateway};
use crate::arn::{GatewayArn, Taggable, TapeArn, VolumeArn};
use crate::model::{
    GatewayDescription, GatewayKind, GatewaySummary, Tags, Tape, TapeRecoveryPoint, VolumeRecoveryPoint,
};

/// Both clients, built once per process.
#[derive(Clone, Debug)]
pub struct Clients {
    pub gateway: SdkStorageGateway,
    pub notifier: SdkNotifier,
}

impl Clients {
    /// Clients from the standard environment, as in Lambda.
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::new(&config)
    }

    /// Clients from a given configuration, with this project's retry and timeout settings
    /// (unless `AWS_RETRY_MODE` or `AWS_MAX_ATTEMPTS` say otherwise):
    ///
    /// - standard retries, 8 attempts, backoff from 100 ms to 5 s: throttling and 5xx are
    ///   retried by the SDK, and what still fails is retried by the run in rounds;
    /// - no client-side retry quota: the run already bounds how many calls are in flight,
    ///   and a quota that runs dry during a 1,500-tape recovery under throttling would turn
    ///   retryable errors into failures;
    /// - timeouts (20 s an attempt, 30 s a call), so a hung call cannot eat the deadline.
    ///
    /// Each `Clients` has its own retry partition, so its retry state is its own.
    pub fn new(config: &SdkConfig) -> Self {
        let retry = if std::env::var_os("AWS_RETRY_MODE").is_some() || std::env::var_os("AWS_MAX_ATTEMPTS").is_some() {
            config.retry_config().cloned().unwrap_or_else(RetryConfig::standard)
        } else {
            RetryConfig::standard()
                .with_max_attempts(8)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(5))
        };
        Self::with_retry(config, retry)
    }

    /// Clients with the given retry settings (and everything else as [`Clients::new`]).
    pub fn with_retry(config: &SdkConfig, retry: RetryConfig) -> Self {
        static PARTITION: AtomicU64 = AtomicU64::new(0);
        let partition = |service: &str| {
            let n = PARTITION.fetch_add(1, Ordering::Relaxed);
            RetryPartition::custom(format!("gateway-recovery-{service}-{n}"))
                .token_bucket(TokenBucket::unlimited())
                .build()
        };
        // An attempt gets 20 s, a call with all its retries 30 s: a run always finishes its
        // calls in flight well inside DEADLINE_MARGIN_SECONDS.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(20))
            .operation_timeout(Duration::from_secs(30))
            .build();
        let gateway = sgw::config::Builder::from(config)
            .retry_config(retry.clone())
            .retry_partition(partition("storagegateway"))
            .timeout_config(timeouts.clone())
            .build();
        let notifier = aws_sdk_sns::config::Builder::from(config)
            .retry_config(retry)
            .retry_partition(partition("sns"))
            .timeout_config(timeouts)
            // SNS answers `Throttled` (429), which the SDK does not retry on its own.
            .retry_classifier(SnsThrottled)
            .build();
        Self {
            gateway: SdkStorageGateway(sgw::Client::from_conf(gateway)),
            notifier: SdkNotifier(aws_sdk_sns::Client::from_conf(notifier)),
        }
    }
}

/// Classifies SNS's `Throttled` (429) and `KMSThrottling` (KMS throttling a publish to an
/// encrypted topic) answers as throttling, so the SDK retries them like any other: it does
/// not know these codes.
#[derive(Debug)]
struct SnsThrottled;

impl ClassifyRetry for SnsThrottled {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let throttled = RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: aws_smithy_types::retry::ErrorKind::ThrottlingError,
            retry_after: None,
        });
        if ctx.response().is_some_and(|r| r.status().as_u16() == 429) {
            return throttled;
        }
        let code = match ctx.output_or_error() {
            Some(Err(e)) => OrchestratorError::as_operation_error(e)
                .and_then(|e| e.downcast_ref::<aws_sdk_sns::operation::publish::PublishError>())
                .and_then(|e| aws_smithy_types::error::metadata::ProvideErrorMetadata::code(e)),
            _ => None,
        };
        match code {
            Some(c) if is_throttling_code(c) => throttled,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "SNS Throttled and KMSThrottling"
    }
}

/// Storage Gateway through `aws-sdk-storagegateway`.
#[derive(Clone, Debug)]
pub struct SdkStorageGateway(pub sgw::Client);

/// The code and message of a Storage Gateway error: the `errorCode` inside the modeled
/// exceptions when there is one, else the exception's own code.
fn sgw_error<E>(e: E) -> (Option<String>, String)
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
    sgw::Error: From<E>,
{
    let (code, message) = metadata(&e);
    let detail = match sgw::Error::from(e) {
        sgw::Error::InvalidGatewayRequestException(x) => {
            x.error().and_then(|d| d.error_code()).map(|c| c.as_str().trim().to_owned())
        }
        sgw::Error::InternalServerError(x) => {
            x.error().and_then(|d| d.error_code()).map(|c| c.as_str().trim().to_owned())
        }
        sgw::Error::ServiceUnavailableError(x) => {
            x.error().and_then(|d| d.error_code()).map(|c| c.as_str().trim().to_owned())
        }
        _ => None,
    };
    (detail.or(code), message)
}

/// Turns an SDK paginator into pages of domain items (or whole domain pages). Items AWS describes without a
/// parseable ARN are left out (and logged): nothing is ever called with such an ARN.
fn pages<'a, O, P, E>(
    operation: &'static str,
    paginator: aws_smithy_async::future::pagination_stream::PaginationStream<
        Result<O, aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    >,
    items: impl Fn(O) -> P + Send + 'a,
) -> BoxStream<'a, Result<P, AwsError>>
where
    O: Send + 'a,
    P: Send + 'a,
    E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + Send + Sync + 'static,
    sgw::Error: From<E>,
{
    stream::unfold(paginator, |mut p| async move { p.next().await.map(|item| (item, p)) })
        .map(move |r| r.map(&items).map_err(|e| classify(operation, e, sgw_error)))
        .boxed()
}

fn parsed<T>(
    what: &'static str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, crate::arn::ArnError>,
) -> Option<T> {
    match value.map(parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            tracing::warn!(what, error = %e, "AWS described an item with an ARN this project refuses; it is left out");
            None
        }
        None => None,
    }
}

fn sdk_tags(tags: &[(&str, String)]) -> Result<Vec<sgw::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            sgw::types::Tag::builder()
                .key(*k)
                .value(v.clone())
                .build()
                .map_err(|e| AwsError::malformed("AddTagsToResource", e.to_string()))
        })
        .collect()
}

impl StorageGateway for SdkStorageGateway {
    fn list_gateways(&self) -> Pages<'_, GatewaySummary> {
        pages("ListGateways", self.0.list_gateways().into_paginator().send(), |o| {
            o.gateways()
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
                .collect()
        })
    }

    async fn describe_gateway(&self, gateway: &GatewayArn) -> Result<GatewayDescription, AwsError> {
        let o = self
            .0
            .describe_gateway_information()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("DescribeGatewayInformation", e, sgw_error))?;
        let tags: Tags = o.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        Ok(GatewayDescription {
            arn: gateway.clone(),
            name: o.gateway_name().unwrap_or(gateway.id()).to_owned(),
            kind: GatewayKind::from_api(o.gateway_type().unwrap_or_default()),
            state: o.gateway_state().unwrap_or("UNKNOWN").to_owned(),
            // AWS may send only some tags here ("up to 10"): fewer than that means all.
            tags_complete: tags.len() < 10,
            tags,
        })
    }

    async fn list_tags(&self, resource: Taggable<'_>) -> Result<Tags, AwsError> {
        let mut pages = self.0.list_tags_for_resource().resource_arn(resource.as_str()).into_paginator().send();
        let mut tags = Tags::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ListTagsForResource", e, sgw_error))?;
            tags.extend(page.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
        }
        Ok(tags)
    }

    async fn add_tags(&self, resource: Taggable<'_>, tags: &[(&str, String)]) -> Result<(), AwsError> {
        self.0
            .add_tags_to_resource()
            .resource_arn(resource.as_str())
            .set_tags(Some(sdk_tags(tags)?))
            .send()
            .await
            .map_err(|e| classify("AddTagsToResource", e, sgw_error))?;
        Ok(())
    }

    async fn remove_tags(&self, resource: Taggable<'_>, keys: &[&str]) -> Result<(), AwsError> {
        self.0
            .remove_tags_from_resource()
            .resource_arn(resource.as_str())
            .set_tag_keys(Some(keys.iter().map(|k| (*k).to_owned()).collect()))
            .send()
            .await
            .map_err(|e| classify("RemoveTagsFromResource", e, sgw_error))?;
        Ok(())
    }

    async fn disable_gateway(&self, gateway: &GatewayArn) -> Result<(), AwsError> {
        self.0
            .disable_gateway()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("DisableGateway", e, sgw_error))?;
        Ok(())
    }

    fn tape_recovery_points(
        &self,
        gateway: &GatewayArn,
        from: Option<String>,
    ) -> BoxStream<'_, Result<RecoveryPointPage, AwsError>> {
        let paginator = self
            .0
            .describe_tape_recovery_points()
            .gateway_arn(gateway.as_str())
            .set_marker(from)
            .into_paginator()
            .send();
        pages("DescribeTapeRecoveryPoints", paginator, |o| {
            let points = o
                .tape_recovery_point_infos()
                .iter()
                .filter_map(|rp| {
                    Some(TapeRecoveryPoint {
                        tape: parsed("tape", rp.tape_arn(), |s| TapeArn::parse("TapeARN", s))?,
                        time: rp.tape_recovery_point_time().map(|t| t.secs()),
                        size_bytes: rp.tape_size_in_bytes(),
                    })
                })
                .collect();
            RecoveryPointPage { points, next: o.marker().filter(|m| !m.is_empty()).map(str::to_owned) }
        })
    }

    async fn retrieve_tape(&self, tape: &TapeArn, to: &GatewayArn) -> Result<(), AwsError> {
        self.0
            .retrieve_tape_recovery_point()
            .tape_arn(tape.as_str())
            .gateway_arn(to.as_str())
            .send()
            .await
            .map_err(|e| classify("RetrieveTapeRecoveryPoint", e, sgw_error))?;
        Ok(())
    }

    fn gateway_tapes(&self, gateway: &GatewayArn) -> Pages<'_, Tape> {
        let paginator = self.0.describe_tapes().gateway_arn(gateway.as_str()).into_paginator().send();
        pages("DescribeTapes", paginator, tapes_of)
    }

    async fn find_tapes(&self, gateway: &GatewayArn, tapes: &[TapeArn]) -> Result<Vec<Tape>, AwsError> {
        let mut found = Vec::new();
        let mut pages = self
            .0
            .describe_tapes()
            .gateway_arn(gateway.as_str())
            .set_tape_arns(Some(tapes.iter().map(|t| t.as_str().to_owned()).collect()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            found.extend(tapes_of(page.map_err(|e| classify("DescribeTapes", e, sgw_error))?));
        }
        Ok(found)
    }

    async fn volume_recovery_points(&self, gateway: &GatewayArn) -> Result<Vec<VolumeRecoveryPoint>, AwsError> {
        let o = self
            .0
            .list_volume_recovery_points()
            .gateway_arn(gateway.as_str())
            .send()
            .await
            .map_err(|e| classify("ListVolumeRecoveryPoints", e, sgw_error))?;
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

    async fn snapshot_volume(
        &self,
        volume: &VolumeArn,
        description: &str,
        tags: &[(&str, String)],
    ) -> Result<String, AwsError> {
        let o = self
            .0
            .create_snapshot_from_volume_recovery_point()
            .volume_arn(volume.as_str())
            .snapshot_description(description)
            .set_tags(Some(sdk_tags(tags)?))
            .send()
            .await
            .map_err(|e| classify("CreateSnapshotFromVolumeRecoveryPoint", e, sgw_error))?;
        o.snapshot_id()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::malformed("CreateSnapshotFromVolumeRecoveryPoint", "the answer has no SnapshotId"))
    }
}

fn tapes_of(o: sgw::operation::describe_tapes::DescribeTapesOutput) -> Vec<Tape> {
    o.tapes()
        .iter()
        .filter_map(|t| {
            Some(Tape {
                tape: parsed("tape", t.tape_arn(), |s| TapeArn::parse("TapeARN", s))?,
                status: t.tape_status().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// SNS through `aws-sdk-sns`.
#[derive(Clone, Debug)]
pub struct SdkNotifier(pub aws_sdk_sns::Client);

impl Notifier for SdkNotifier {
    async fn publish(&self, m: &Publication) -> Result<String, AwsError> {
        let mut attributes = HashMap::new();
        for (k, v) in &m.attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| AwsError::malformed("Publish", e.to_string()))?;
            attributes.insert(k.clone(), value);
        }
        let o = self
            .0
            .publish()
            .topic_arn(m.topic.as_str())
            .message(&m.body)
            .set_subject(m.subject.clone())
            .set_message_attributes((!attributes.is_empty()).then_some(attributes))
            .send()
            .await
            .map_err(|e| classify("Publish", e, |e| metadata(&e)))?;
        Ok(o.message_id().unwrap_or_default().to_owned())
    }
}
