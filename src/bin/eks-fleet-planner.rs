//! The fleet planner function's process: logging, configuration and the AWS clients, once;
//! then the runtime loop. Each invocation is one step of the fleet state machine.

use eks_nodegroup_updater::lambda::logging;
use eks_nodegroup_updater::{Discovery, Eks, FleetConfig, FleetPlanner, Objects, Ssm, aws};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();

    let config = FleetConfig::from_env();
    let sdk_config = aws::setup::load(&config.limits).await?;
    let eks_client = aws_sdk_eks::Client::new(&sdk_config);
    let planner = FleetPlanner::new(
        Eks::new(eks_client.clone()),
        Discovery::new(eks_client),
        Ssm::new(aws_sdk_ssm::Client::new(&sdk_config)),
        Objects::new(aws_sdk_s3::Client::new(&sdk_config)),
        config,
    );

    let planner = &planner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        planner.handle(event).await
    }))
    .await
}
