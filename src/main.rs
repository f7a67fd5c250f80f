//! Process start: logging, configuration and the EKS client, once; then the runtime loop.

use aws_config::BehaviorVersion;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use eks_nodegroup_updater::eks::Eks;
use eks_nodegroup_updater::event::RawPayload;
use eks_nodegroup_updater::ssm::Ssm;
use eks_nodegroup_updater::tls::Trust;
use eks_nodegroup_updater::{Config, Updater};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // JSON lines when the function's LoggingConfig says so; SDK crates held at INFO.
    eks_nodegroup_updater::logging::init();

    let config = Config::from_env();
    // Amazon Trust Services' roots unless SSL_CERT_FILE / SSL_CERT_DIR say otherwise
    // (src/tls.rs): the system bundle was 64% of init (BENCHMARKS.md).
    let trust = Trust::from_env();
    tracing::debug!(?trust, "TLS trust store");
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(trust.http_client()?)
        .timeout_config(config.limits.timeout_config())
        // Every attempt is already bounded by `CallLimits` (5 s); the stalled-stream guard,
        // made for long streaming bodies, only adds a timer and throughput bookkeeping to
        // each of our small JSON calls (3-4% of a warm invocation's CPU, BENCHMARKS.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .load()
        .await;
    let updater = Updater::new(
        Eks::new(aws_sdk_eks::Client::new(&sdk_config)),
        Ssm::new(aws_sdk_ssm::Client::new(&sdk_config)),
        config,
    );

    let updater = &updater;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<RawPayload>| async move { updater.handle(event).await },
    ))
    .await
}
