//! Process start: logging, configuration and the EKS client, once; then the runtime loop.

use std::path::Path;

use aws_config::BehaviorVersion;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use eks_nodegroup_updater::eks::Eks;
use eks_nodegroup_updater::event::RawPayload;
use eks_nodegroup_updater::ssm::Ssm;
use eks_nodegroup_updater::{Config, Updater};
use lambda_runtime::{LambdaEvent, service_fn};

fn main() -> Result<(), lambda_runtime::Error> {
    read_ca_bundle_once();
    run()
}

#[tokio::main(flavor = "current_thread")]
async fn run() -> Result<(), lambda_runtime::Error> {
    // JSON lines when the function's LoggingConfig says so; SDK crates held at INFO.
    eks_nodegroup_updater::logging::init();

    let config = Config::from_env();
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
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

/// The SDK's TLS set-up loads the system's root certificates at client construction
/// (rustls-native-certs). Unless told where they are, it reads the CA bundle file *and*
/// every file of the certificate directory, which hold the same CAs on Amazon Linux
/// (Lambda) and Debian: about 40% of this function's init CPU (BENCHMARKS.md). When
/// neither `SSL_CERT_FILE` nor `SSL_CERT_DIR` is set, point `SSL_CERT_FILE` at the
/// distribution's bundle, so it is read once. Set either variable to override.
fn read_ca_bundle_once() {
    // Amazon Linux 2023 and 2 (Lambda's provided.al2023 / al2), RHEL; Debian, Ubuntu, Alpine.
    const BUNDLES: [&str; 2] = [
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/certs/ca-certificates.crt",
    ];
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        return;
    }
    if let Some(bundle) = BUNDLES.into_iter().find(|p| Path::new(p).is_file()) {
        // SAFETY: the first thing the process does, before the runtime or anything else
        // has started a thread that could read the environment concurrently.
        unsafe { std::env::set_var("SSL_CERT_FILE", bundle) };
    }
}
