//! Process start: logging, configuration and the AWS clients, once; then the runtime loop.

use eks_nodegroup_updater::eks::Eks;
use eks_nodegroup_updater::event::RawPayload;
use eks_nodegroup_updater::ssm::Ssm;
use eks_nodegroup_updater::{Config, Updater};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // JSON lines when the function's LoggingConfig says so; SDK crates held at INFO.
    eks_nodegroup_updater::logging::init();

    let config = Config::from_env();
    let sdk_config = eks_nodegroup_updater::sdk_setup::load(&config.limits).await?;
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
