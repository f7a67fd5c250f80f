//! The updater function's process: logging, configuration and the AWS clients, once; then
//! the runtime loop.

use aws_config::SdkConfig;
use eks_nodegroup_updater::lambda::logging;
use eks_nodegroup_updater::{Accounts, Config, Eks, RawPayload, Ssm, Updater, UpdaterClients, aws};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();

    let config = Config::from_env();
    let sdk_config = aws::setup::load(&config.limits).await?;
    // Its own account's clients now; another account's, with the target role's
    // credentials, when a request first names it.
    let accounts = Accounts::new(sdk_config, |sdk: &SdkConfig| UpdaterClients {
        eks: Eks::new(aws_sdk_eks::Client::new(sdk)),
        ssm: Ssm::new(aws_sdk_ssm::Client::new(sdk)),
    });
    let updater = Updater::new(accounts, config);

    let updater = &updater;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<RawPayload>| async move { updater.handle(event).await },
    ))
    .await
}
