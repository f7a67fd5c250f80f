//! The EKS adapter and the handler on the real `aws-sdk-eks` client, its HTTP layer
//! replaced by `aws-smithy-mocks` rules: the fields sent, the calls made, the resume path
//! after `ResourceInUseException`, `ListUpdates` paging and every error mapping.

use crate::common::*;
use aws_sdk_eks::Client;
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::operation::describe_cluster::{DescribeClusterError, DescribeClusterOutput};
use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupError;
use aws_sdk_eks::operation::describe_update::DescribeUpdateError;
use aws_sdk_eks::operation::list_updates::{ListUpdatesError, ListUpdatesOutput};
use aws_sdk_eks::operation::update_nodegroup_version::{
    UpdateNodegroupVersionError, UpdateNodegroupVersionOutput,
};
use aws_sdk_eks::types::error::{
    ClientException, InvalidParameterException, InvalidRequestException, ResourceInUseException,
    ResourceNotFoundException, ServerException, ServiceUnavailableException,
};
use aws_sdk_eks::types::{Cluster, ErrorCode, ErrorDetail, Nodegroup, NodegroupStatus, Update};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use eks_nodegroup_updater::Allowlist;
use eks_nodegroup_updater::Outcome;
use serde_json::json;

// ---------------------------------------------------------------- the happy paths

#[tokio::test]
async fn active_node_group_costs_exactly_three_calls_and_sends_the_plan() {
    let ng = describe_nodegroup(with_template(
        al2023("1.30", "1.30.4-20241109", "ACTIVE"),
        "1",
    ));
    let cluster = describe_cluster("1.31");
    let start = mock!(Client::update_nodegroup_version)
        .match_requests(|r| {
            r.cluster_name() == Some("prod")
                && r.nodegroup_name() == Some("workers")
                && r.version() == Some("1.31")
                && r.release_version() == Some("1.31.2-20241115")
                && r.force() == Some(true)
                && r.client_request_token() == Some("exec-1")
                && r.launch_template().is_some_and(|lt| {
                    lt.id() == Some("lt-0123456789abcdef0")
                        && lt.name().is_none()
                        && lt.version() == Some("2")
                })
        })
        .then_output(|| {
            UpdateNodegroupVersionOutput::builder()
                .update(update(
                    "u-1",
                    "InProgress",
                    "VersionUpdate",
                    &[("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
                ))
                .build()
        });
    let list = list_updates(&[&[]]);
    let updater = mocked(&[&ng, &cluster, &start, &list]);

    let output = run(
        &updater,
        request(json!({
            "version": "cluster", "releaseVersion": "1.31.2-20241115", "force": true,
            "clientRequestToken": "exec-1",
            "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "2"}
        })),
    )
    .await
    .expect("started");

    assert_eq!(output.outcome, Outcome::Started);
    let update = output.update.as_ref().expect("update");
    assert_eq!(update.id, "u-1");
    assert_eq!(update.created_at.as_deref(), Some("2026-11-29T01:02:03Z"));
    assert_eq!(
        (
            ng.num_calls(),
            cluster.num_calls(),
            start.num_calls(),
            list.num_calls()
        ),
        (1, 1, 1, 0)
    );
    let value = serde_json::to_value(&output).unwrap();
    assert_eq!(value["target"]["version"], "1.31");
    assert_eq!(
        value["update"]["params"][0],
        json!({"type": "Version", "value": "1.31"})
    );
}

#[tokio::test]
async fn absent_version_sends_the_node_groups_minor_explicitly_with_a_derived_token() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let start = mock!(Client::update_nodegroup_version)
        .match_requests(|r| {
            r.version() == Some("1.30")
                && r.release_version().is_none()
                && r.launch_template().is_none()
                && r.force() == Some(false)
                && r.client_request_token().is_some_and(|t| t.len() == 64)
        })
        .then_output(|| {
            UpdateNodegroupVersionOutput::builder()
                .update(update(
                    "u-2",
                    "InProgress",
                    "VersionUpdate",
                    &[("Version", "1.30")],
                ))
                .build()
        });
    let updater = mocked(&[&ng, &cluster, &start]);
    let output = run(&updater, request(json!({}))).await.expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn launch_template_by_name_is_sent_without_an_id() {
    let ng = describe_nodegroup(with_template(
        al2023("1.31", "1.31.2-20241115", "ACTIVE"),
        "4",
    ));
    let cluster = describe_cluster("1.31");
    let start = mock!(Client::update_nodegroup_version)
        .match_requests(|r| {
            r.launch_template().is_some_and(|lt| {
                lt.name() == Some("workers-lt")
                    && lt.id().is_none()
                    && lt.version() == Some("$Latest")
            })
        })
        .then_output(|| {
            UpdateNodegroupVersionOutput::builder()
                .update(update("u-3", "InProgress", "VersionUpdate", &[]))
                .build()
        });
    let updater = mocked(&[&ng, &cluster, &start]);
    let output = run(
        &updater,
        request(json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "$Latest"}})),
    )
    .await
    .expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn custom_ami_update_sends_no_version() {
    let ng = describe_nodegroup(with_template(
        nodegroup("1.30", "", "CUSTOM", "ACTIVE"),
        "3",
    ));
    let cluster = describe_cluster("1.31");
    let start = mock!(Client::update_nodegroup_version)
        .match_requests(|r| r.version().is_none() && r.release_version().is_none())
        .then_output(|| {
            UpdateNodegroupVersionOutput::builder()
                .update(update(
                    "u-4",
                    "InProgress",
                    "VersionUpdate",
                    &[("LaunchTemplateVersion", "4")],
                ))
                .build()
        });
    let updater = mocked(&[&ng, &cluster, &start]);
    let output = run(
        &updater,
        request(json!({"launchTemplate": {"id": "lt-0123456789abcdef0", "version": "4"}})),
    )
    .await
    .expect("started");
    assert_eq!(output.outcome, Outcome::Started);
    assert_eq!(output.target.version, None);
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn up_to_date_and_dry_run_make_no_update_call() {
    let ng = describe_nodegroup(al2023("1.31", "1.31.2-20241115", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let start = update_never_called();
    let updater = mocked(&[&ng, &cluster, &start]);

    let up_to_date = run(
        &updater,
        request(json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"})),
    )
    .await
    .expect("up to date");
    assert_eq!(up_to_date.outcome, Outcome::UpToDate);
    assert!(up_to_date.update.is_none());

    let dry = run(
        &updater,
        request(
            json!({"releaseVersion": "1.31.3-20241201", "dryRun": true, "clientRequestToken": "t"}),
        ),
    )
    .await
    .expect("dry run");
    assert_eq!(dry.outcome, Outcome::DryRun);
    assert_eq!(
        serde_json::to_value(&dry.request).unwrap(),
        json!({"clusterName": "prod", "nodegroupName": "workers", "version": "1.31",
               "releaseVersion": "1.31.3-20241201", "force": false, "clientRequestToken": "t"})
    );
    assert_eq!(start.num_calls(), 0);
    assert_eq!(ng.num_calls(), 2);
}

#[tokio::test]
async fn outside_the_allowlist_no_aws_call_is_made() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let updater = updater_with(Allowlist::parse(Some("staging-*")), &[&ng, &cluster], &[]);
    assert_error(
        run(&updater, request(json!({}))).await,
        "NotAllowed",
        "outside ALLOWED_CLUSTERS",
    );
    assert_eq!(ng.num_calls() + cluster.num_calls(), 0);
}

#[tokio::test]
async fn invalid_input_makes_no_aws_call() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let updater = mocked(&[&ng]);
    assert_error(
        run(&updater, json!({"clusterName": "prod"})).await,
        "InvalidInput",
        "nodegroupName",
    );
    assert_error(
        run(&updater, json!("prod")).await,
        "InvalidInput",
        "JSON object",
    );
    assert_eq!(ng.num_calls(), 0);
}

#[tokio::test]
async fn precondition_failure_makes_no_update_call() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let cluster = describe_cluster("1.30");
    let start = update_never_called();
    let updater = mocked(&[&ng, &cluster, &start]);
    assert_error(
        run(&updater, request(json!({"version": "1.31"}))).await,
        "PreconditionFailed",
        "upgrade the cluster first",
    );
    assert_eq!(start.num_calls(), 0);
}

// ---------------------------------------------------------------- running updates

#[tokio::test]
async fn resource_in_use_resumes_the_matching_running_update() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let start = mock!(Client::update_nodegroup_version).then_error(|| {
        UpdateNodegroupVersionError::ResourceInUseException(
            ResourceInUseException::builder()
                .message("Nodegroup workers is busy")
                .build(),
        )
    });
    let list = list_updates(&[&["u-old-1", "u-old-2"], &["u-run"]]);
    let running = describe_update(update(
        "u-run",
        "InProgress",
        "VersionUpdate",
        &[("Version", "1.31")],
    ));
    let updater = mocked(&[&ng, &cluster, &start, &list, &running]);

    let output = run(&updater, request(json!({"version": "1.31"})))
        .await
        .expect("resumed");
    assert_eq!(output.outcome, Outcome::AlreadyInProgress);
    assert_eq!(output.update.as_ref().map(|u| u.id.as_str()), Some("u-run"));
    assert_eq!(
        start.num_calls(),
        1,
        "the SDK must not retry ResourceInUseException"
    );
    assert_eq!(list.num_calls(), 2, "every page is read");
    assert_eq!(
        running.num_calls(),
        1,
        "the newest update is described first"
    );
}

#[tokio::test]
async fn http_409_resource_in_use_also_resumes() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let start = mock!(Client::update_nodegroup_version)
        .then_http_response(|| http_error(409, Some("ResourceInUseException"), "busy"));
    let list = list_updates(&[&["u-run"]]);
    let running = describe_update(update(
        "u-run",
        "InProgress",
        "VersionUpdate",
        &[("Version", "1.31")],
    ));
    let updater = mocked(&[&ng, &cluster, &start, &list, &running]);
    let output = run(&updater, request(json!({"version": "1.31"})))
        .await
        .expect("resumed");
    assert_eq!(output.outcome, Outcome::AlreadyInProgress);
}

#[tokio::test]
async fn updating_node_group_pages_every_list_and_finds_the_running_update() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let start = update_never_called();
    // The running one is listed first: every later one is described before it is found.
    let list = list_updates(&[&["u-1", "u-2"], &["u-3", "u-4"], &["u-5"]]);
    let running = describe_update(update(
        "u-1",
        "InProgress",
        "VersionUpdate",
        &[("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
    ));
    let done: Vec<Rule> = ["u-2", "u-3", "u-4", "u-5"]
        .iter()
        .map(|id| {
            describe_update(update(
                id,
                "Successful",
                "VersionUpdate",
                &[("Version", "1.30")],
            ))
        })
        .collect();
    let mut rules: Vec<&Rule> = vec![&ng, &cluster, &start, &list, &running];
    rules.extend(done.iter());
    let updater = mocked(&rules);

    let output = run(
        &updater,
        request(json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"})),
    )
    .await
    .expect("found");
    assert_eq!(output.outcome, Outcome::AlreadyInProgress);
    assert_eq!(output.update.as_ref().map(|u| u.id.as_str()), Some("u-1"));
    assert_eq!(list.num_calls(), 3);
    assert_eq!(running.num_calls(), 1);
    assert!(done.iter().all(|r| r.num_calls() == 1));
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn a_different_running_update_is_update_in_progress_naming_it() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = list_updates(&[&["u-cfg"]]);
    let running = describe_update(update(
        "u-cfg",
        "InProgress",
        "ConfigUpdate",
        &[("DesiredSize", "3")],
    ));
    let updater = mocked(&[&ng, &cluster, &list, &running]);
    let error = assert_error(
        run(&updater, request(json!({"version": "1.31"}))).await,
        "UpdateInProgress",
        "u-cfg",
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_running_version_update_to_another_release_is_update_in_progress() {
    let ng = describe_nodegroup(al2023("1.31", "1.31.1-20241001", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = list_updates(&[&["u-9"]]);
    let running = describe_update(update(
        "u-9",
        "InProgress",
        "VersionUpdate",
        &[("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
    ));
    let updater = mocked(&[&ng, &cluster, &list, &running]);
    assert_error(
        run(
            &updater,
            request(json!({"releaseVersion": "1.31.3-20241201"})),
        )
        .await,
        "UpdateInProgress",
        "releaseVersion 1.31.2-20241115 instead of 1.31.3-20241201",
    );
}

#[tokio::test]
async fn updating_with_no_running_update_left_is_retryable() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = list_updates(&[&["u-1"]]);
    let finished = describe_update(update(
        "u-1",
        "Successful",
        "VersionUpdate",
        &[("Version", "1.31")],
    ));
    let updater = mocked(&[&ng, &cluster, &list, &finished]);
    assert_error(
        run(&updater, request(json!({"version": "1.31"}))).await,
        "UpdateInProgress",
        "just ended",
    );
}

#[tokio::test]
async fn failed_update_errors_are_carried_over() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
    let cluster = describe_cluster("1.31");
    let mut u = update("u-f", "InProgress", "VersionUpdate", &[("Version", "1.31")]);
    u.errors = Some(vec![
        ErrorDetail::builder()
            .error_code(ErrorCode::PodEvictionFailure)
            .error_message("Reached max retries while trying to evict pods")
            .resource_ids("ip-10-0-0-1.ec2.internal")
            .build(),
    ]);
    let start = update_started(u);
    let updater = mocked(&[&ng, &cluster, &start]);
    let output = run(&updater, request(json!({"version": "1.31"})))
        .await
        .expect("started");
    let value = serde_json::to_value(&output).unwrap();
    assert_eq!(
        value["update"]["errors"],
        json!([{"errorCode": "PodEvictionFailure", "errorMessage": "Reached max retries while trying to evict pods",
                "resourceIds": ["ip-10-0-0-1.ec2.internal"]}])
    );
}

// ---------------------------------------------------------------- error mapping

#[tokio::test]
async fn missing_cluster_is_not_found_naming_the_cluster() {
    let ng = mock!(Client::describe_nodegroup).then_error(|| {
        DescribeNodegroupError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("No cluster found for name: prod.")
                .build(),
        )
    });
    let cluster = mock!(Client::describe_cluster).then_error(|| {
        DescribeClusterError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("No cluster found for name: prod.")
                .build(),
        )
    });
    let updater = mocked(&[&ng, &cluster]);
    assert_error(
        run(&updater, request(json!({}))).await,
        "NotFound",
        "cluster 'prod' does not exist",
    );
}

#[tokio::test]
async fn missing_node_group_is_not_found_naming_the_node_group() {
    let ng = mock!(Client::describe_nodegroup).then_error(|| {
        DescribeNodegroupError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("No node group found for name: workers.")
                .build(),
        )
    });
    let cluster = describe_cluster("1.31");
    let updater = mocked(&[&ng, &cluster]);
    assert_error(
        run(&updater, request(json!({}))).await,
        "NotFound",
        "node group 'workers' does not exist in cluster 'prod'",
    );
}

/// One row per failure of `UpdateNodegroupVersion`: the answer and what it must become.
#[tokio::test]
async fn update_errors_map_to_their_error_types() {
    type Answer = fn() -> Rule;
    let cases: &[(&str, Answer, &str, &str, usize)] = &[
        (
            "invalid parameter",
            || {
                mock!(Client::update_nodegroup_version).then_error(|| {
                    UpdateNodegroupVersionError::InvalidParameterException(
                        InvalidParameterException::builder()
                            .message(
                                "Requested Nodegroup release version 1.31.9-20990101 is invalid.",
                            )
                            .build(),
                    )
                })
            },
            "Rejected",
            "Requested Nodegroup release version 1.31.9-20990101 is invalid.",
            1,
        ),
        (
            "invalid request",
            || {
                mock!(Client::update_nodegroup_version).then_error(|| {
                    UpdateNodegroupVersionError::InvalidRequestException(
                        InvalidRequestException::builder()
                            .message("token reused")
                            .build(),
                    )
                })
            },
            "Rejected",
            "token reused",
            1,
        ),
        (
            "client exception",
            || {
                mock!(Client::update_nodegroup_version).then_error(|| {
                    UpdateNodegroupVersionError::ClientException(
                        ClientException::builder().message("bad client").build(),
                    )
                })
            },
            "Rejected",
            "bad client",
            1,
        ),
        (
            "server exception",
            || {
                mock!(Client::update_nodegroup_version).then_error(|| {
                    UpdateNodegroupVersionError::ServerException(
                        ServerException::builder().message("internal").build(),
                    )
                })
            },
            "ServiceError",
            "internal",
            1,
        ),
        (
            "not found",
            || {
                mock!(Client::update_nodegroup_version).then_error(|| {
                    UpdateNodegroupVersionError::ResourceNotFoundException(
                        ResourceNotFoundException::builder().message("gone").build(),
                    )
                })
            },
            "NotFound",
            "no longer exists",
            1,
        ),
        (
            "throttled beyond retries",
            || {
                mock!(Client::update_nodegroup_version)
                    .sequence()
                    .http_response(|| http_error(429, Some("ThrottlingException"), "Rate exceeded"))
                    .times(3)
                    .build()
            },
            "Throttled",
            "beyond the SDK's retries",
            3,
        ),
        (
            "throttled by code on 400",
            || {
                mock!(Client::update_nodegroup_version)
                    .sequence()
                    .http_response(|| http_error(400, Some("ThrottlingException"), "Rate exceeded"))
                    .times(3)
                    .build()
            },
            "Throttled",
            "ThrottlingException",
            3,
        ),
        (
            "access denied",
            || {
                mock!(Client::update_nodegroup_version)
            .then_http_response(|| http_error(403, Some("AccessDeniedException"), "User: arn:aws:sts::123456789012:assumed-role/updater is not authorized to perform: eks:UpdateNodegroupVersion"))
            },
            "AccessDenied",
            "grant the function's role eks:UpdateNodegroupVersion",
            1,
        ),
        (
            "forbidden without a code",
            || {
                mock!(Client::update_nodegroup_version)
                    .then_http_response(|| http_error(403, None, "Forbidden"))
            },
            "AccessDenied",
            "access denied",
            1,
        ),
        (
            "bad gateway",
            || {
                mock!(Client::update_nodegroup_version)
                    .sequence()
                    .http_response(|| http_error(502, None, "Bad Gateway"))
                    .times(3)
                    .build()
            },
            "ServiceError",
            "HTTP 502",
            3,
        ),
        (
            "unknown 400",
            || {
                mock!(Client::update_nodegroup_version).then_http_response(|| {
                    http_error(400, Some("SomethingNewException"), "new rule")
                })
            },
            "Rejected",
            "SomethingNewException",
            1,
        ),
        (
            "unreadable success body",
            || {
                mock!(Client::update_nodegroup_version).then_http_response(|| {
                    HttpResponse::new(
                        StatusCode::try_from(200).unwrap(),
                        SdkBody::from("<html>not json"),
                    )
                })
            },
            "ServiceError",
            "could not be read",
            1,
        ),
        (
            "update without id",
            || {
                mock!(Client::update_nodegroup_version).then_output(|| {
                    UpdateNodegroupVersionOutput::builder()
                        .update(Update::builder().build())
                        .build()
                })
            },
            "ServiceError",
            "unusable answer",
            1,
        ),
        (
            "no update at all",
            || {
                mock!(Client::update_nodegroup_version)
                    .then_output(|| UpdateNodegroupVersionOutput::builder().build())
            },
            "ServiceError",
            "unusable answer",
            1,
        ),
    ];
    for (name, answer, error_type, needle, calls) in cases {
        let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
        let cluster = describe_cluster("1.31");
        let start = answer();
        let updater = mocked(&[&ng, &cluster, &start]);
        let result = run(&updater, request(json!({"version": "1.31"}))).await;
        let message = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            matches!(&result, Err(e) if e.error_type() == *error_type && message.contains(needle)),
            "{name}: expected {error_type} with {needle:?}, got {result:?}"
        );
        assert!(
            message.starts_with("cluster 'prod', node group 'workers': "),
            "{name}: {message}"
        );
        assert_eq!(start.num_calls(), *calls, "{name}: attempts");
    }
}

#[tokio::test]
async fn describe_errors_map_to_their_error_types() {
    type Answer = fn() -> Rule;
    let cases: &[(&str, Answer, &str, &str)] = &[
        (
            "throttled",
            || {
                mock!(Client::describe_cluster)
                    .sequence()
                    .http_response(|| {
                        http_error(429, Some("TooManyRequestsException"), "slow down")
                    })
                    .times(3)
                    .build()
            },
            "Throttled",
            "TooManyRequestsException",
        ),
        (
            "unavailable",
            || {
                mock!(Client::describe_cluster).then_error(|| {
                    DescribeClusterError::ServiceUnavailableException(
                        ServiceUnavailableException::builder()
                            .message("try later")
                            .build(),
                    )
                })
            },
            "ServiceError",
            "try later",
        ),
        (
            "expired credentials",
            || {
                mock!(Client::describe_cluster).then_http_response(|| {
                    http_error(
                        403,
                        Some("ExpiredTokenException"),
                        "The security token included in the request is expired",
                    )
                })
            },
            "AccessDenied",
            "ExpiredTokenException",
        ),
        (
            "cluster without a version",
            || {
                mock!(Client::describe_cluster).then_output(|| {
                    DescribeClusterOutput::builder()
                        .cluster(Cluster::builder().name("prod").build())
                        .build()
                })
            },
            "ServiceError",
            "no readable cluster version",
        ),
        (
            "not found over http",
            || {
                mock!(Client::describe_cluster).then_http_response(|| {
                    http_error(
                        404,
                        Some("ResourceNotFoundException"),
                        "No cluster found for name: prod.",
                    )
                })
            },
            "NotFound",
            "No cluster found for name: prod.",
        ),
    ];
    for (name, answer, error_type, needle) in cases {
        let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "ACTIVE"));
        let cluster = answer();
        let updater = mocked(&[&ng, &cluster]);
        let result = run(&updater, request(json!({}))).await;
        let message = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            matches!(&result, Err(e) if e.error_type() == *error_type && message.contains(needle)),
            "{name}: expected {error_type} with {needle:?}, got {result:?}"
        );
    }

    let ng = mock!(Client::describe_nodegroup).then_error(|| {
        DescribeNodegroupError::InvalidParameterException(
            InvalidParameterException::builder()
                .message("bad name")
                .build(),
        )
    });
    let cluster = describe_cluster("1.31");
    let updater = mocked(&[&ng, &cluster]);
    assert_error(
        run(&updater, request(json!({}))).await,
        "Rejected",
        "bad name",
    );

    let ng = describe_nodegroup(
        Nodegroup::builder()
            .nodegroup_name("workers")
            .status(NodegroupStatus::Active)
            .build(),
    );
    let cluster = describe_cluster("1.31");
    let updater = mocked(&[&ng, &cluster]);
    assert_error(
        run(&updater, request(json!({}))).await,
        "ServiceError",
        "no readable node group version",
    );
}

#[tokio::test]
async fn list_and_describe_update_errors_are_mapped() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = mock!(Client::list_updates).then_error(|| {
        ListUpdatesError::ServerException(ServerException::builder().message("boom").build())
    });
    let updater = mocked(&[&ng, &cluster, &list]);
    assert_error(
        run(&updater, request(json!({"version": "1.31"}))).await,
        "ServiceError",
        "boom",
    );

    // A listed update that cannot be described yet is passed over, not NotFound: EKS is
    // eventually consistent right after an update starts.
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = list_updates(&[&["u-1", "u-2"]]);
    let missing = mock!(Client::describe_update)
        .match_requests(|r| r.update_id() == Some("u-2"))
        .then_error(|| {
            DescribeUpdateError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("No update found")
                    .build(),
            )
        });
    let running = describe_update(update(
        "u-1",
        "InProgress",
        "VersionUpdate",
        &[("Version", "1.31")],
    ));
    let updater = mocked(&[&ng, &cluster, &list, &missing, &running]);
    let output = run(&updater, request(json!({"version": "1.31"})))
        .await
        .expect("the describable running update is found");
    assert_eq!(output.outcome, Outcome::AlreadyInProgress);
    assert_eq!((missing.num_calls(), running.num_calls()), (1, 1));

    // Only an undescribable update: retryable, not NotFound.
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = list_updates(&[&["u-2"]]);
    let missing = mock!(Client::describe_update).then_error(|| {
        DescribeUpdateError::ResourceNotFoundException(ResourceNotFoundException::builder().build())
    });
    let updater = mocked(&[&ng, &cluster, &list, &missing]);
    assert_error(
        run(&updater, request(json!({"version": "1.31"}))).await,
        "UpdateInProgress",
        "retry",
    );
}

#[tokio::test]
async fn a_list_that_never_ends_is_a_service_error() {
    let ng = describe_nodegroup(al2023("1.30", "1.30.4-20241109", "UPDATING"));
    let cluster = describe_cluster("1.31");
    let list = mock!(Client::list_updates).then_output(|| {
        ListUpdatesOutput::builder()
            .update_ids("u-1")
            .next_token("same")
            .build()
    });
    let updater = mocked(&[&ng, &cluster, &list]);
    assert_error(
        run(&updater, request(json!({"version": "1.31"}))).await,
        "ServiceError",
        "same nextToken",
    );
    assert_eq!(list.num_calls(), 2);
}
