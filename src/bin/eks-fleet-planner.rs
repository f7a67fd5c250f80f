//! The fleet planner function's process: logging, configuration and the AWS clients, once;
//! then the runtime loop. Each invocation is one step of the fleet state machine.

use aws_config::SdkConfig;
use eks_nodegroup_updater::lambda::{logging, planner};
use eks_nodegroup_updater::{
    Accounts, Discovery, Eks, FleetClients, FleetConfig, FleetPlanner, Objects, Ssm, aws,
};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    logging::init();

    let config = FleetConfig::from_env();
    let sdk_config = aws::setup::load(&config.limits).await?;
    // EKS in each account the roll reads (another account's through the target role, built
    // when first named); SSM's public parameters and the bucket in its own.
    let ssm = Ssm::new(aws_sdk_ssm::Client::new(&sdk_config));
    let objects = Objects::new(aws_sdk_s3::Client::new(&sdk_config));
    let accounts = Accounts::new(sdk_config, |sdk: &SdkConfig| {
        let eks = aws_sdk_eks::Client::new(sdk);
        FleetClients {
            eks: Eks::new(eks.clone()),
            discovery: Discovery::new(eks),
        }
    })
    .with_session_policy(planner::SESSION_POLICY);
    let planner = FleetPlanner::new(accounts, ssm, objects, config);

    let planner = &planner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        planner.handle(event).await
    }))
    .await
}
