//! Discovery on the real `aws-sdk-eks` client: every page of `ListClusters` and
//! `ListNodegroups`, the request fields sent, and the errors named like every other call.

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::list_clusters::ListClustersOutput;
use aws_sdk_eks::operation::list_nodegroups::{ListNodegroupsError, ListNodegroupsOutput};
use aws_sdk_eks::types::error::ResourceNotFoundException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use eks_nodegroup_updater::core::request::ClusterName;
use eks_nodegroup_updater::{CallLimits, Deadline, Discovery, ErrorKind};

use crate::common::{fast_retries, http_error};

fn pages<T>(
    names: &[&[&str]],
    output: impl Fn(Vec<String>, Option<String>) -> T + Clone + Send + Sync + 'static,
) -> Vec<Box<dyn Fn() -> T + Send + Sync>> {
    let last = names.len() - 1;
    names
        .iter()
        .enumerate()
        .map(|(i, page)| {
            let page: Vec<String> = page.iter().map(|s| (*s).to_owned()).collect();
            let output = output.clone();
            Box::new(move || output(page.clone(), (i < last).then(|| format!("t{}", i + 1))))
                as Box<dyn Fn() -> T + Send + Sync>
        })
        .collect()
}

fn deadline() -> Deadline {
    Deadline::unbounded(CallLimits::default())
}

#[tokio::test]
async fn every_page_of_clusters_is_read() {
    let mut seq = mock!(Client::list_clusters).sequence();
    for page in pages(&[&["a", "b"], &[], &["c"]], |names, token| {
        ListClustersOutput::builder()
            .set_clusters(Some(names))
            .set_next_token(token)
            .build()
    }) {
        seq = seq.output(page);
    }
    let rule = seq.build();
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &[&rule], |c| c
        .retry_config(fast_retries()));
    let clusters = Discovery::new(client)
        .list_clusters(&deadline())
        .await
        .unwrap();
    let names: Vec<&str> = clusters.iter().map(ClusterName::as_str).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn every_page_of_node_groups_is_read_for_the_named_cluster() {
    let mut seq = mock!(Client::list_nodegroups)
        .match_requests(|r| r.cluster_name() == Some("prod-eu"))
        .sequence();
    for page in pages(&[&["web", "batch"], &["system"]], |names, token| {
        ListNodegroupsOutput::builder()
            .set_nodegroups(Some(names))
            .set_next_token(token)
            .build()
    }) {
        seq = seq.output(page);
    }
    let rule = seq.build();
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &[&rule], |c| c
        .retry_config(fast_retries()));
    let cluster = ClusterName::parse("prod-eu").unwrap();
    let nodegroups = Discovery::new(client)
        .list_nodegroups(&cluster, &deadline())
        .await
        .unwrap();
    let names: Vec<&str> = nodegroups.iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["web", "batch", "system"]);
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn a_token_that_comes_back_is_an_unusable_answer_not_a_loop() {
    let rule = mock!(Client::list_clusters).then_output(|| {
        ListClustersOutput::builder()
            .clusters("a")
            .next_token("again")
            .build()
    });
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &[&rule], |c| c
        .retry_config(fast_retries()));
    let error = Discovery::new(client)
        .list_clusters(&deadline())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ServiceError);
    assert!(
        error
            .to_string()
            .contains("the same nextToken came back twice"),
        "{error}"
    );
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn discovery_errors_have_the_contracts_names() {
    let cluster = ClusterName::parse("gone").unwrap();
    let cases = [
        (
            mock!(Client::list_nodegroups).then_error(|| {
                ListNodegroupsError::ResourceNotFoundException(
                    ResourceNotFoundException::builder()
                        .message("no cluster")
                        .build(),
                )
            }),
            ErrorKind::NotFound,
            "cluster 'gone': cluster 'gone' no longer exists",
        ),
        (
            mock!(Client::list_nodegroups)
                .then_http_response(|| http_error(403, Some("AccessDeniedException"), "denied")),
            ErrorKind::AccessDenied,
            "access denied to eks:ListNodegroups",
        ),
        (
            mock!(Client::list_nodegroups)
                .then_http_response(|| http_error(429, Some("ThrottlingException"), "slow down")),
            ErrorKind::Throttled,
            "EKS throttled ListNodegroups",
        ),
    ];
    for (rule, kind, needle) in cases {
        let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, &[&rule], |c| c
            .retry_config(fast_retries()));
        let error = Discovery::new(client)
            .list_nodegroups(&cluster, &deadline())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        assert!(
            error.to_string().contains(needle),
            "{error} lacks {needle:?}"
        );
    }
}
