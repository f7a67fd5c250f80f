//! The updater function's process: logging, configuration and the AWS clients, once; then
//! the runtime loop.

use eks_nodegroup_updater::lambda::logging;
use eks_nodegroup_updater::{Config, Eks, RawPayload, Ssm, Updater, aws};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();

    let config = Config::from_env();
    let sdk_config = aws::setup::load(&config.limits).await?;
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
