//! Release awareness on the real `aws-sdk-ssm` and `aws-sdk-eks` clients with
//! `aws-smithy-mocks`: the parameter read, no update when the node group is at (or past) the
//! latest release, the soak gate, and what an unreadable SSM does with and without it.

use crate::common::*;
use aws_sdk_eks::Client;
use aws_sdk_eks::operation::update_nodegroup_version::UpdateNodegroupVersionOutput;
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::types::Parameter;
use aws_sdk_ssm::types::error::InternalServerError;
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::body::SdkBody;
use eks_nodegroup_updater::Allowlist;
use eks_nodegroup_updater::Outcome;
use serde_json::json;

const AL2023_1_31: &str = "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version";

/// `UpdateNodegroupVersion` accepting only a request with this release (or none).
fn start_expecting(release: Option<&'static str>) -> Rule {
    mock!(Client::update_nodegroup_version)
        .match_requests(move |r| r.release_version() == release)
        .then_output(|| {
            UpdateNodegroupVersionOutput::builder()
                .update(update(
                    "u-1",
                    "InProgress",
                    "VersionUpdate",
                    &[("Version", "1.31")],
                ))
                .build()
        })
}

fn world(ng_release: &str) -> (Rule, Rule) {
    (
        describe_nodegroup(al2023("1.31", ng_release, "ACTIVE")),
        describe_cluster("1.31"),
    )
}

#[tokio::test]
async fn at_the_latest_release_no_update_call_is_made() {
    let (ng, cluster) = world("1.31.7-20251120");
    let latest = ssm_release(AL2023_1_31, "1.31.7-20251120", 20);
    let start = update_never_called();
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(&updater, request(json!({}))).await.expect("up to date");
    assert_eq!(output.outcome, Outcome::UpToDate);
    assert_eq!(
        output.target.latest_release_version.as_deref(),
        Some("1.31.7-20251120")
    );
    assert!(matches!(
        output.target.latest_release_age_days,
        Some(19..=20)
    ));
    assert_eq!((latest.num_calls(), start.num_calls()), (1, 0));
}

#[tokio::test]
async fn past_the_latest_release_is_up_to_date() {
    let (ng, cluster) = world("1.31.8-20251201");
    let latest = ssm_release(AL2023_1_31, "1.31.7-20251120", 20);
    let start = update_never_called();
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(&updater, request(json!({"minReleaseAgeDays": 7})))
        .await
        .expect("up to date");
    assert_eq!(output.outcome, Outcome::UpToDate);
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn behind_the_latest_release_starts_and_lets_eks_choose() {
    let (ng, cluster) = world("1.31.2-20241115");
    let latest = ssm_release(AL2023_1_31, "1.31.7-20251120", 1);
    let start = start_expecting(None);
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(&updater, request(json!({}))).await.expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(
        output.target.latest_release_version.as_deref(),
        Some("1.31.7-20251120")
    );
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn too_young_a_release_is_deferred_with_its_age() {
    let (ng, cluster) = world("1.31.2-20241115");
    let latest = ssm_release(AL2023_1_31, "1.31.7-20251120", 2);
    let start = update_never_called();
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(&updater, request(json!({"minReleaseAgeDays": 7})))
        .await
        .expect("deferred");
    assert_eq!(output.outcome, Outcome::Deferred);
    assert!(output.update.is_none());
    let value = serde_json::to_value(&output).unwrap();
    assert_eq!(value["target"]["latestReleaseVersion"], "1.31.7-20251120");
    assert!(
        matches!(
            value["target"]["latestReleaseAgeDays"].as_u64(),
            Some(1..=2)
        ),
        "{value}"
    );
    assert!(
        value["target"]["latestReleasePublishedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn a_soaked_release_is_sent_explicitly() {
    let (ng, cluster) = world("1.31.2-20241115");
    let latest = ssm_release(AL2023_1_31, "1.31.7-20251120", 30);
    let start = start_expecting(Some("1.31.7-20251120"));
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(&updater, request(json!({"minReleaseAgeDays": 7})))
        .await
        .expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(
        output.target.release_version.as_deref(),
        Some("1.31.7-20251120")
    );
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn version_cluster_reads_the_release_of_the_clusters_minor() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.9-20251120", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let latest = ssm_release(AL2023_1_31, "1.31.7-20251120", 30);
    let start = start_expecting(Some("1.31.7-20251120"));
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(
        &updater,
        request(json!({"version": "cluster", "minReleaseAgeDays": 3})),
    )
    .await
    .expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(latest.num_calls(), 1);
}

#[tokio::test]
async fn bottlerocket_reads_its_image_version() {
    let ng = describe_nodegroup(nodegroup(
        "1.31",
        "1.26.1-943d9a41",
        "BOTTLEROCKET_ARM_64_NVIDIA",
        "ACTIVE",
    ));
    let cluster = describe_cluster("1.31");
    let latest = ssm_release(
        "/aws/service/bottlerocket/aws-k8s-1.31-nvidia/arm64/latest/image_version",
        "1.26.1-943d9a41",
        40,
    );
    let start = update_never_called();
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&latest]);
    let output = run(&updater, request(json!({}))).await.expect("up to date");
    assert_eq!(output.outcome, Outcome::UpToDate);
}

#[tokio::test]
async fn windows_and_explicit_releases_make_no_ssm_call() {
    let ng = describe_nodegroup(nodegroup(
        "1.31",
        "1.31-2024.11.12",
        "WINDOWS_CORE_2022_x86_64",
        "ACTIVE",
    ));
    let cluster = describe_cluster("1.31");
    let start = start_expecting(None);
    let ssm = ssm_parameter_not_found();
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&ssm]);
    let output = run(&updater, request(json!({}))).await.expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(ssm.num_calls(), 0);

    let (ng, cluster) = world("1.31.2-20241115");
    let start = start_expecting(Some("1.31.3-20241201"));
    let ssm = ssm_parameter_not_found();
    let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&ssm]);
    run(
        &updater,
        request(json!({"releaseVersion": "1.31.3-20241201"})),
    )
    .await
    .expect("started");
    assert_eq!(ssm.num_calls(), 0);
}

/// SSM failures: without the gate the update goes on (EKS chooses); with it, the read's
/// own failure is reported.
#[tokio::test]
async fn unreadable_ssm_goes_on_without_the_gate_and_stops_with_it() {
    type Answer = fn() -> Rule;
    let cases: &[(&str, Answer, &str)] = &[
        (
            "access denied",
            || {
                mock!(aws_sdk_ssm::Client::get_parameter).then_http_response(|| {
                    http_error(
                        400,
                        Some("AccessDeniedException"),
                        "not authorized to perform: ssm:GetParameter",
                    )
                })
            },
            "AccessDenied",
        ),
        (
            "throttled",
            || {
                mock!(aws_sdk_ssm::Client::get_parameter)
                    .sequence()
                    .http_response(|| http_error(400, Some("ThrottlingException"), "Rate exceeded"))
                    .times(3)
                    .build()
            },
            "Throttled",
        ),
        (
            "internal error",
            || {
                mock!(aws_sdk_ssm::Client::get_parameter)
                    .sequence()
                    .error(|| {
                        GetParameterError::InternalServerError(
                            InternalServerError::builder().build(),
                        )
                    })
                    .times(3)
                    .build()
            },
            "ServiceError",
        ),
        (
            "unusable value",
            || {
                mock!(aws_sdk_ssm::Client::get_parameter).then_output(|| {
                    GetParameterOutput::builder()
                        .parameter(Parameter::builder().name("p").value("ami-0abc").build())
                        .build()
                })
            },
            "ServiceError",
        ),
        (
            "unreadable body",
            || {
                mock!(aws_sdk_ssm::Client::get_parameter).then_http_response(|| {
                    aws_sdk_ssm::config::http::HttpResponse::new(
                        200.try_into().unwrap(),
                        SdkBody::from("{{{"),
                    )
                })
            },
            "ServiceError",
        ),
    ];
    for (name, answer, error_type) in cases {
        let (ng, cluster) = world("1.31.2-20241115");
        let start = start_expecting(None);
        let ssm = answer();
        let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&ssm]);
        let output = run(&updater, request(json!({})))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(output.outcome, Outcome::Started, "{name}");
        assert_eq!(output.target.latest_release_version, None, "{name}");

        let (ng, cluster) = world("1.31.2-20241115");
        let start = update_never_called();
        let ssm = answer();
        let updater = updater_with(Allowlist::Any, &[&ng, &cluster, &start], &[&ssm]);
        let error = run(&updater, request(json!({"minReleaseAgeDays": 7})))
            .await
            .expect_err(name);
        assert_eq!(error.error_type(), *error_type, "{name}: {error}");
        let message = error.to_string();
        assert!(
            message.starts_with("cluster 'prod', node group 'workers': "),
            "{name}: {message}"
        );
        assert!(message.contains("minReleaseAgeDays"), "{name}: {message}");
        assert_eq!(start.num_calls(), 0, "{name}");
    }
}

#[tokio::test]
async fn gate_without_a_published_release_is_a_precondition_failure() {
    let (ng, cluster) = world("1.31.2-20241115");
    let start = update_never_called();
    let updater = updater_with(
        Allowlist::Any,
        &[&ng, &cluster, &start],
        &[&ssm_parameter_not_found()],
    );
    assert_error(
        run(&updater, request(json!({"minReleaseAgeDays": 7}))).await,
        "PreconditionFailed",
        "nothing is published at /aws/service/eks/optimized-ami/1.31/",
    );
    assert_eq!(start.num_calls(), 0);
}
