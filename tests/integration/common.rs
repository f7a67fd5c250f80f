//! Fixtures shared by the adapter tests: SDK objects, mock rules and an `Updater` on
//! mocked clients.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_eks::Client;
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupOutput;
use aws_sdk_eks::operation::describe_update::DescribeUpdateOutput;
use aws_sdk_eks::operation::list_updates::ListUpdatesOutput;
use aws_sdk_eks::operation::update_nodegroup_version::UpdateNodegroupVersionOutput;
use aws_sdk_eks::types::{
    AmiTypes, Cluster, LaunchTemplateSpecification, Nodegroup, NodegroupStatus, Update,
    UpdateParam, UpdateParamType, UpdateStatus, UpdateType,
};
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::types::Parameter;
use aws_sdk_ssm::types::error::ParameterNotFound;
use aws_sdk_sts::operation::assume_role::{AssumeRoleInput, AssumeRoleOutput};
use aws_sdk_sts::types::Credentials as StsCredentials;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use eks_nodegroup_updater::Eks;
use eks_nodegroup_updater::Output;
use eks_nodegroup_updater::Ssm;
use eks_nodegroup_updater::core::accounts::{AccountRules, Home};
use eks_nodegroup_updater::core::request::AccountId;
use eks_nodegroup_updater::{Accounts, Allowlist, Sts, UpdaterClients};
use eks_nodegroup_updater::{CallLimits, Deadline};
use eks_nodegroup_updater::{Config, Error, Updater};
use serde_json::{Value, json};

// ---------------------------------------------------------------- fixtures

pub fn nodegroup(version: &str, release: &str, ami: &str, status: &str) -> Nodegroup {
    Nodegroup::builder()
        .cluster_name("prod")
        .nodegroup_name("workers")
        .version(version)
        .release_version(release)
        .ami_type(AmiTypes::from(ami))
        .status(NodegroupStatus::from(status))
        .build()
}

pub fn al2023(version: &str, release: &str, status: &str) -> Nodegroup {
    nodegroup(version, release, "AL2023_x86_64_STANDARD", status)
}

pub fn with_template(ng: Nodegroup, version: &str) -> Nodegroup {
    let mut ng = ng;
    ng.launch_template = Some(
        LaunchTemplateSpecification::builder()
            .id("lt-0123456789abcdef0")
            .name("workers-lt")
            .version(version)
            .build(),
    );
    ng
}

pub fn describe_nodegroup(ng: Nodegroup) -> Rule {
    mock!(Client::describe_nodegroup)
        .match_requests(|r| {
            r.cluster_name() == Some("prod") && r.nodegroup_name() == Some("workers")
        })
        .then_output(move || {
            DescribeNodegroupOutput::builder()
                .nodegroup(ng.clone())
                .build()
        })
}

pub fn describe_cluster(version: &str) -> Rule {
    let version = version.to_owned();
    mock!(Client::describe_cluster)
        .match_requests(|r| r.name() == Some("prod"))
        .then_output(move || {
            DescribeClusterOutput::builder()
                .cluster(Cluster::builder().name("prod").version(&version).build())
                .build()
        })
}

pub fn update(id: &str, status: &str, kind: &str, params: &[(&str, &str)]) -> Update {
    Update::builder()
        .id(id)
        .status(UpdateStatus::from(status))
        .r#type(UpdateType::from(kind))
        .set_params(Some(
            params
                .iter()
                .map(|(k, v)| {
                    UpdateParam::builder()
                        .r#type(UpdateParamType::from(*k))
                        .value(*v)
                        .build()
                })
                .collect(),
        ))
        .created_at(DateTime::from_secs(1_795_914_123))
        .build()
}

pub fn update_started(u: Update) -> Rule {
    mock!(Client::update_nodegroup_version).then_output(move || {
        UpdateNodegroupVersionOutput::builder()
            .update(u.clone())
            .build()
    })
}

pub fn update_never_called() -> Rule {
    mock!(Client::update_nodegroup_version)
        .then_output(|| UpdateNodegroupVersionOutput::builder().build())
}

pub fn describe_update(u: Update) -> Rule {
    let id = u.id().unwrap_or_default().to_owned();
    mock!(Client::describe_update)
        .match_requests(move |r| {
            r.update_id() == Some(id.as_str())
                && r.name() == Some("prod")
                && r.nodegroup_name() == Some("workers")
        })
        .then_output(move || DescribeUpdateOutput::builder().update(u.clone()).build())
}

/// `ListUpdates` answering the pages in order, each with the next page's token.
pub fn list_updates(pages: &[&[&str]]) -> Rule {
    let pages: Vec<Vec<String>> = pages
        .iter()
        .map(|p| p.iter().map(|s| s.to_string()).collect())
        .collect();
    let last = pages.len() - 1;
    let mut seq = mock!(Client::list_updates)
        .match_requests(|r| r.name() == Some("prod") && r.nodegroup_name() == Some("workers"))
        .sequence();
    for (i, ids) in pages.into_iter().enumerate() {
        seq = seq.output(move || {
            ListUpdatesOutput::builder()
                .set_update_ids(Some(ids.clone()))
                .set_next_token((i < last).then(|| format!("page-{}", i + 1)))
                .build()
        });
    }
    seq.build()
}

/// An HTTP answer as EKS sends errors: status, `x-amzn-ErrorType`, JSON `message`.
pub fn http_error(status: u16, code: Option<&str>, message: &str) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).expect("valid status"),
        SdkBody::from(json!({ "message": message }).to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/json");
    if let Some(code) = code {
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", code.to_owned());
    }
    response
}

/// An updater on mocked EKS rules; SSM answers that no release parameter exists.
pub fn mocked(rules: &[&Rule]) -> Updater {
    updater_with(Allowlist::Any, rules, &[&ssm_parameter_not_found()])
}

/// Retry in standard mode with the SDK's three attempts, minus the waiting.
pub fn fast_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

pub fn updater_with(allowlist: Allowlist, eks_rules: &[&Rule], ssm_rules: &[&Rule]) -> Updater {
    updater_in_accounts(
        allowlist,
        AccountRules::parse(None, None),
        eks_rules,
        ssm_rules,
        &[],
    )
}

/// The function's own account in these tests (the one `run` gives as home).
pub const OWN_ACCOUNT: &str = "111111111111";

/// An `Updater` whose every account answers from the same mocked EKS and SSM rules, and
/// whose STS answers `sts_rules`.
pub fn updater_in_accounts(
    allowlist: Allowlist,
    accounts: AccountRules,
    eks_rules: &[&Rule],
    ssm_rules: &[&Rule],
    sts_rules: &[&Rule],
) -> Updater {
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, eks_rules, |c| c
        .retry_config(fast_retries()));
    let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, ssm_rules, |c| c
        .retry_config(fast_retries()));
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts_rules, |c| c
        .retry_config(fast_retries()));
    let clients = UpdaterClients {
        eks: Eks::new(eks),
        ssm: Ssm::new(ssm),
    };
    let accounts_clients = Accounts::new(SdkConfig::builder().build(), move |_: &SdkConfig| {
        clients.clone()
    })
    .with_sts(Sts::new(sts));
    Updater::new(
        accounts_clients,
        Config {
            allowlist,
            accounts,
            limits: CallLimits::default(),
        },
    )
}

/// Where the tests' function runs.
pub fn home() -> Home {
    Home {
        account: AccountId::parse(OWN_ACCOUNT).expect("account"),
        partition: "aws".into(),
    }
}

/// `AssumeRole` answering credentials that expire `lifetime` from now, for requests
/// `matches` accepts.
pub fn assumed_role(
    lifetime: Duration,
    matches: impl Fn(&AssumeRoleInput) -> bool + Send + Sync + 'static,
) -> Rule {
    mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(matches)
        .then_output(move || {
            AssumeRoleOutput::builder()
                .credentials(
                    StsCredentials::builder()
                        .access_key_id("ASIAEXAMPLE")
                        .secret_access_key("secret")
                        .session_token("token")
                        .expiration(DateTime::from(SystemTime::now() + lifetime))
                        .build()
                        .expect("credentials"),
                )
                .build()
        })
}

pub fn ssm_parameter_not_found() -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameter)
        .then_error(|| GetParameterError::ParameterNotFound(ParameterNotFound::builder().build()))
}

/// `GetParameter` answering `value` at `name`, last modified `age_days` ago.
pub fn ssm_release(name: &str, value: &str, age_days: u64) -> Rule {
    let name = name.to_owned();
    let value = value.to_owned();
    let modified = SystemTime::now() - Duration::from_secs(age_days * 86_400);
    mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(move |r| r.name() == Some(name.as_str()))
        .then_output(move || {
            GetParameterOutput::builder()
                .parameter(
                    Parameter::builder()
                        .name("p")
                        .value(&value)
                        .last_modified_date(DateTime::from(modified))
                        .build(),
                )
                .build()
        })
}

pub fn request(extra: Value) -> Value {
    let mut payload = json!({"clusterName": "prod", "nodegroupName": "workers"});
    for (k, v) in extra.as_object().expect("object") {
        payload[k] = v.clone();
    }
    payload
}

pub async fn run(updater: &Updater, payload: Value) -> Result<Output, Error> {
    updater
        .run(
            &payload,
            "request-1",
            Some(&home()),
            &Deadline::unbounded(CallLimits::default()),
        )
        .await
}

pub fn assert_error(result: Result<Output, Error>, error_type: &str, needle: &str) -> Error {
    let error = match result {
        Ok(output) => panic!("expected {error_type}, got {output:?}"),
        Err(e) => e,
    };
    let message = error.to_string();
    assert_eq!(error.error_type(), error_type, "{message}");
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    if error_type != "InvalidInput" {
        assert!(
            message.starts_with("cluster 'prod', node group 'workers': "),
            "{message}"
        );
    }
    error
}
