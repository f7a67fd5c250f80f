//! The fleet planner's reads of one cluster on the real SDK clients: the cluster described
//! once, node groups listed and described once each, the running update of an `UPDATING`
//! one, tags for selectors that ask, and no call at all for a cluster the allowlist refuses.

use aws_config::SdkConfig;
use std::time::Duration;

use aws_sdk_eks::Client;
use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupOutput;
use aws_sdk_eks::operation::describe_update::DescribeUpdateOutput;
use aws_sdk_eks::operation::list_clusters::ListClustersOutput;
use aws_sdk_eks::operation::list_nodegroups::ListNodegroupsOutput;
use aws_sdk_eks::operation::list_updates::ListUpdatesOutput;
use aws_sdk_eks::types::{Cluster, ClusterStatus, Nodegroup, NodegroupStatus};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use eks_nodegroup_updater::core::accounts::AccountRules;
use eks_nodegroup_updater::core::fleet::assign::ClusterRef;
use eks_nodegroup_updater::core::fleet::input::FleetInput;
use eks_nodegroup_updater::core::fleet::planning::Observation;
use eks_nodegroup_updater::core::request::ClusterName;
use eks_nodegroup_updater::lambda::planner::SESSION_POLICY;
use eks_nodegroup_updater::{
    Accounts, Allowlist, CallLimits, ClusterSeen, Deadline, Discovery, Eks, ErrorKind,
    FleetClients, Planner, Sts,
};
use serde_json::json;

use crate::common::{assumed_role, fast_retries, home, update};

fn cluster(status: &str) -> Rule {
    let status = status.to_owned();
    mock!(Client::describe_cluster)
        .match_requests(|r| r.name() == Some("prod"))
        .then_output(move || {
            DescribeClusterOutput::builder()
                .cluster(
                    Cluster::builder()
                        .name("prod")
                        .version("1.31")
                        .status(ClusterStatus::from(status.as_str()))
                        .build(),
                )
                .build()
        })
}

fn listed(names: &[&str]) -> Rule {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    mock!(Client::list_nodegroups)
        .match_requests(|r| r.cluster_name() == Some("prod"))
        .then_output(move || {
            ListNodegroupsOutput::builder()
                .set_nodegroups(Some(names.clone()))
                .build()
        })
}

/// `DescribeNodegroup` of any node group of `prod`: a catch-all that counts calls.
fn described() -> Rule {
    mock!(Client::describe_nodegroup)
        .match_requests(|r| r.cluster_name() == Some("prod"))
        .then_output(|| DescribeNodegroupOutput::builder().build())
}

fn nodegroup(name: &str, status: &str, team: &str) -> Rule {
    let (name, status, team) = (name.to_owned(), status.to_owned(), team.to_owned());
    let matched = name.clone();
    mock!(Client::describe_nodegroup)
        .match_requests(move |r| r.nodegroup_name() == Some(matched.as_str()))
        .then_output(move || {
            DescribeNodegroupOutput::builder()
                .nodegroup(
                    Nodegroup::builder()
                        .cluster_name("prod")
                        .nodegroup_name(&name)
                        .version("1.30")
                        .release_version("1.30.4-20241109")
                        .ami_type("AL2023_x86_64_STANDARD".into())
                        .status(NodegroupStatus::from(status.as_str()))
                        .tags("team", &team)
                        .build(),
                )
                .build()
        })
}

fn planner(allowlist: Allowlist, rules: &[&Rule]) -> Planner {
    planner_in_accounts(allowlist, AccountRules::parse(None, None), rules, &[])
}

/// A planner whose every account answers from the same EKS rules, and whose STS answers
/// `sts_rules`.
fn planner_in_accounts(
    allowlist: Allowlist,
    accounts: AccountRules,
    rules: &[&Rule],
    sts_rules: &[&Rule],
) -> Planner {
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, rules, |c| c
        .retry_config(fast_retries()));
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts_rules, |c| c
        .retry_config(fast_retries()));
    let clients = FleetClients {
        eks: Eks::new(client.clone()),
        discovery: Discovery::new(client),
    };
    Planner::new(
        Accounts::new(SdkConfig::builder().build(), move |_: &SdkConfig| {
            clients.clone()
        })
        .with_sts(Sts::new(sts))
        .with_session_policy(SESSION_POLICY),
        allowlist,
        accounts,
    )
}

fn deadline() -> Deadline {
    Deadline::unbounded(CallLimits::default())
}

fn prod() -> ClusterRef {
    ClusterRef {
        account: None,
        cluster: ClusterName::parse("prod").unwrap(),
    }
}

#[tokio::test]
async fn a_cluster_is_read_once_and_each_node_group_once() {
    let input = FleetInput::from_json(&json!({
        "targets": [{"clusterName": "prod", "nodegroupName": "system", "version": "1.31"}],
        "selectors": [{"clusters": ["prod"], "nodegroupTags": {"team": "web"}, "wave": 1}]
    }))
    .unwrap();
    let cp = cluster("ACTIVE");
    let list = listed(&["web-a", "db", "system", "web-b"]);
    let (web_a, db, system, web_b) = (
        nodegroup("web-a", "ACTIVE", "web"),
        nodegroup("db", "ACTIVE", "db"),
        nodegroup("system", "ACTIVE", "platform"),
        nodegroup("web-b", "UPDATING", "web"),
    );
    let updates = mock!(Client::list_updates)
        .match_requests(|r| r.nodegroup_name() == Some("web-b"))
        .then_output(|| ListUpdatesOutput::builder().update_ids("u-1").build());
    let running = mock!(Client::describe_update)
        .match_requests(|r| r.nodegroup_name() == Some("web-b") && r.update_id() == Some("u-1"))
        .then_output(|| {
            DescribeUpdateOutput::builder()
                .update(update(
                    "u-1",
                    "InProgress",
                    "VersionUpdate",
                    &[("Version", "1.30")],
                ))
                .build()
        });
    let rules = [&cp, &list, &web_a, &db, &system, &web_b, &updates, &running];
    let planner = planner(Allowlist::Any, &rules);

    let ClusterSeen::Observed(seen) = planner
        .observe_cluster(&input, &prod(), None, true, &deadline())
        .await
        .unwrap()
    else {
        panic!("the control plane is ACTIVE");
    };
    let names: Vec<(&str, u8, Option<usize>)> = seen
        .iter()
        .map(|(a, _)| (a.request.nodegroup().as_str(), a.wave, a.selector))
        .collect();
    assert_eq!(
        names,
        [
            ("system", 0, None),
            ("web-a", 1, Some(0)),
            ("web-b", 1, Some(0))
        ]
    );
    let Observation::Seen(web_b_state) = &seen[2].1 else {
        panic!("web-b was not seen: {:?}", seen[2].1)
    };
    assert_eq!(
        web_b_state.running.as_ref().map(|u| u.id.as_str()),
        Some("u-1")
    );
    assert_eq!(web_b_state.cluster.version.to_string(), "1.31");
    assert_eq!(cp.num_calls(), 1);
    assert_eq!(list.num_calls(), 1);
    for rule in [&web_a, &db, &system, &web_b] {
        assert_eq!(rule.num_calls(), 1);
    }
    // Only the UPDATING node group's updates are read.
    assert_eq!(updates.num_calls(), 1);
}

#[tokio::test]
async fn node_groups_wait_for_a_control_plane_being_updated() {
    let input = FleetInput::from_json(&json!({"selectors": [{"clusters": ["prod"]}]})).unwrap();
    let cp = cluster("UPDATING");
    let list = listed(&["web"]);
    let planner = planner(Allowlist::Any, &[&cp, &list]);
    let seen = planner
        .observe_cluster(&input, &prod(), None, true, &deadline())
        .await
        .unwrap();
    assert!(matches!(seen, ClusterSeen::ControlPlaneUpdating));
    assert_eq!(list.num_calls(), 0);
}

#[tokio::test]
async fn a_cluster_outside_the_allowlist_is_never_called() {
    let input = FleetInput::from_json(&json!({
        "targets": [{"clusterName": "prod", "nodegroupName": "system"}],
        "selectors": [{"clusters": ["*"]}]
    }))
    .unwrap();
    let any = described();
    let cp = cluster("ACTIVE");
    let list = listed(&["web"]);
    let planner = planner(Allowlist::parse(Some("staging")), &[&cp, &list, &any]);
    let ClusterSeen::Observed(seen) = planner
        .observe_cluster(&input, &prod(), None, true, &deadline())
        .await
        .unwrap()
    else {
        panic!("refused, not waiting");
    };
    assert_eq!(seen.len(), 1);
    let Observation::Failed(error) = &seen[0].1 else {
        panic!("not failed: {:?}", seen[0].1)
    };
    assert_eq!(error.kind(), ErrorKind::NotAllowed);
    assert_eq!(cp.num_calls() + list.num_calls() + any.num_calls(), 0);
}

#[tokio::test]
async fn a_node_group_that_cannot_be_read_is_its_own_failure() {
    let input = FleetInput::from_json(&json!({
        "targets": [{"clusterName": "prod", "nodegroupName": "gone"}, {"clusterName": "prod", "nodegroupName": "web"}]
    }))
    .unwrap();
    let cp = cluster("ACTIVE");
    let web = nodegroup("web", "ACTIVE", "web");
    let gone = mock!(Client::describe_nodegroup)
        .match_requests(|r| r.nodegroup_name() == Some("gone"))
        .then_error(|| {
            aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupError::ResourceNotFoundException(
                aws_sdk_eks::types::error::ResourceNotFoundException::builder().build(),
            )
        });
    let planner = planner(Allowlist::Any, &[&cp, &web, &gone]);
    let ClusterSeen::Observed(seen) = planner
        .observe_cluster(&input, &prod(), None, true, &deadline())
        .await
        .unwrap()
    else {
        panic!("ACTIVE");
    };
    assert!(matches!(&seen[0].1, Observation::Failed(e) if e.kind() == ErrorKind::NotFound));
    assert!(matches!(&seen[1].1, Observation::Seen(_)));
}

fn assumed_once() -> Rule {
    assumed_role(Duration::from_secs(3600), |r| {
        r.role_arn() == Some("arn:aws:iam::222222222222:role/eks-nodegroup-updater-target")
            && r.policy() == Some(SESSION_POLICY)
    })
}

#[tokio::test]
async fn each_account_a_selector_names_is_listed_through_its_own_clients() {
    let input = FleetInput::from_json(&json!({
        "targets": [{"accountId": "333333333333", "clusterName": "prod", "nodegroupName": "web"}],
        "selectors": [
            {"clusters": ["prod"]},
            {"accounts": ["222222222222", "333333333333"], "clusters": ["*"]}
        ]
    }))
    .unwrap()
    .in_account(Some(&home().account));
    let list = mock!(Client::list_clusters)
        .then_output(|| ListClustersOutput::builder().clusters("prod").build());
    let sts = assumed_once();
    let planner = planner_in_accounts(
        Allowlist::Any,
        AccountRules::parse(Some("222222222222"), None),
        &[&list],
        &[&sts],
    );
    let (clusters, failed) = planner
        .clusters_of(&input, Some(&home()), &deadline())
        .await
        .unwrap();
    let named: Vec<String> = clusters
        .iter()
        .map(|c| format!("{}/{}", c.account.as_ref().unwrap(), c.cluster))
        .collect();
    assert_eq!(
        named,
        [
            "333333333333/prod",
            "111111111111/prod",
            "222222222222/prod"
        ],
        "explicit targets first, then each account's in the order named"
    );
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].account.as_ref().unwrap().as_str(), "333333333333");
    assert_eq!(failed[0].error.kind(), ErrorKind::NotAllowed);
    assert_eq!(
        list.num_calls(),
        2,
        "own and 222222222222; never 333333333333"
    );
    assert_eq!(
        sts.num_calls(),
        1,
        "assumed once, with the planner's session policy"
    );

    // Its explicit target in the refused account is refused without a call.
    let seen = planner
        .observe_cluster(&input, &clusters[0], Some(&home()), true, &deadline())
        .await
        .unwrap();
    let ClusterSeen::Observed(seen) = seen else {
        panic!("{seen:?}")
    };
    assert_eq!(seen.len(), 1);
    assert!(
        matches!(&seen[0].1, Observation::Failed(e) if e.kind() == ErrorKind::NotAllowed),
        "{seen:?}"
    );
    assert_eq!(list.num_calls(), 2);
}
