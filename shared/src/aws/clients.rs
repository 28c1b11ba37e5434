use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use super::retry::ByErrorCode;
use super::{SdkNotifier, SdkStorageGateway};

/// The roots AWS endpoints chain to: Amazon Root CA 1 to 4 and Starfield Services Root
/// CA G2 (Amazon Trust Services' cross-signing root).
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("amazon-trust-services.pem");

/// The HTTPS client: TLS verified against the Amazon Trust Services roots compiled in,
/// instead of the SDK's default of reading every file under `/etc/ssl/certs` at start-up
/// (a cold-start cost). `TRUST_STORE=native` keeps the system's roots (for a proxy with a
/// private CA); `None` then, and on the (impossible) failure to build the bundled store.
fn http_client() -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    if std::env::var("TRUST_STORE").is_ok_and(|v| v.trim().eq_ignore_ascii_case("native")) {
        return None;
    }
    let trust = TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES);
    let context = match TlsContext::builder().with_trust_store(trust).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "the bundled trust store could not be built; using the system's roots");
            return None;
        }
    };
    Some(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .tls_context(context)
            .build_https(),
    )
}

/// The SDK clients, built once per process.
#[derive(Clone, Debug)]
pub struct Clients {
    pub gateway: SdkStorageGateway,
    pub notifier: SdkNotifier,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    /// Clients from the standard environment, as in Lambda, verifying TLS against the
    /// Amazon Trust Services roots every AWS endpoint chains to (see [`http_client`]).
    pub async fn from_env() -> Self {
        let loader = aws_config::defaults(BehaviorVersion::latest());
        let loader = match http_client() {
            Some(client) => loader.http_client(client),
            None => loader,
        };
        Self::new(&loader.load().await)
    }

    /// Clients from a configuration, with this project's retry and timeout settings
    /// (unless `AWS_RETRY_MODE` or `AWS_MAX_ATTEMPTS` say otherwise):
    ///
    /// - the SDK's standard retries, 3 attempts, backoff from 50 ms to 2 s, for what the
    ///   SDK can absorb quickly; a throttle that outlasts them is the run's to wait out
    ///   (`crate::pacing`), so the run can slow down for everyone sharing the account's rate;
    /// - no client-side retry quota: the run bounds its own calls, and a quota that runs
    ///   dry during a long recovery would turn retryable errors into failures;
    /// - timeouts (20 s an attempt, 30 s a call), so a hung call cannot eat the deadline.
    ///
    /// Each `Clients` has its own retry partition, so its retry state is its own.
    pub fn new(config: &SdkConfig) -> Self {
        let retry = if std::env::var_os("AWS_RETRY_MODE").is_some() || std::env::var_os("AWS_MAX_ATTEMPTS").is_some() {
            config.retry_config().cloned().unwrap_or_else(RetryConfig::standard)
        } else {
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_secs(2))
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
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(20))
            .operation_timeout(Duration::from_secs(30))
            .build();
        let gateway = aws_sdk_storagegateway::config::Builder::from(config)
            .retry_config(retry.clone())
            .retry_partition(partition("storagegateway"))
            .timeout_config(timeouts.clone())
            .retry_classifier(ByErrorCode { service: "Storage Gateway InternalServerError at any status" })
            .build();
        let notifier = aws_sdk_sns::config::Builder::from(config)
            .retry_config(retry.clone())
            .retry_partition(partition("sns"))
            .timeout_config(timeouts.clone())
            .retry_classifier(ByErrorCode { service: "SNS Throttled and KMSThrottling" })
            .build();
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(config)
            .retry_config(retry.clone())
            .retry_partition(partition("dynamodb"))
            .timeout_config(timeouts.clone())
            .build();
        let sqs = aws_sdk_sqs::config::Builder::from(config)
            .retry_config(retry)
            .retry_partition(partition("sqs"))
            .timeout_config(timeouts)
            .build();
        Self {
            gateway: SdkStorageGateway(aws_sdk_storagegateway::Client::from_conf(gateway)),
            notifier: SdkNotifier(aws_sdk_sns::Client::from_conf(notifier)),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
        }
    }
}
