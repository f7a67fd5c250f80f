//! The fleet planner's reads (its handler is [`super::fleet`]): the clusters a roll takes
//! (every page of `ListClusters` in each account its selectors name), and for one cluster
//! `DescribeCluster` once, the node groups a selector names (every page of
//! `ListNodegroups`), each candidate described once, a bounded number at a time, and the
//! running update of any that is `UPDATING`. Each account is read with its own clients
//! (another account's through the target role); the core then assigns and plans.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use crate::aws::accounts::Accounts;
use crate::aws::deadline::Deadline;
use crate::aws::discovery::Discovery;
use crate::aws::eks::Eks;
use crate::core::accounts::{AccountRules, Home};
use crate::core::allowlist::Allowlist;
use crate::core::error::{About, Error, ErrorKind, Subject};
use crate::core::fleet::assign::{Assigned, ClusterRef, Discovered, assign, clusters_to_discover};
use crate::core::fleet::input::FleetInput;
use crate::core::fleet::planning::{Observation, Observed};
use crate::core::live::{ClusterState, ClusterStatus, NodegroupState, NodegroupStatus};
use crate::core::request::{AccountId, ClusterName, NodegroupName};

/// Node groups described at once: well inside EKS's read rate, and enough to describe a
/// cluster's thirty node groups in two rounds.
const DESCRIBE_CONCURRENCY: usize = 16;

/// What the planner saw of one cluster.
#[derive(Debug)]
pub enum ClusterSeen {
    /// The control plane is being updated: its node groups wait for it (node groups follow
    /// their control plane), and the cluster is read again later.
    ControlPlaneUpdating,
    /// Each of the cluster's targets, in report order, with its live state or why it could
    /// not be read.
    Observed(Vec<(Assigned, Observation)>),
}

/// What the planner may do in another account: the target role serves the updater too, but
/// the planner only reads (`AssumeRole`'s session policy: the credentials allow what both
/// the role and this allow). Its calls there are exactly these ([`FleetClients`]).
pub const SESSION_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PlannerReadsOnly","Effect":"Allow","Action":["eks:ListClusters","eks:DescribeCluster","eks:ListNodegroups","eks:DescribeNodegroup","eks:ListUpdates","eks:DescribeUpdate"],"Resource":"*"}]}"#;

/// The adapters the planner reads EKS with, in one account.
#[derive(Clone, Debug)]
pub struct FleetClients {
    pub eks: Eks,
    pub discovery: Discovery,
}

/// An account whose clusters could not be listed: refused by `ALLOWED_ACCOUNTS`, its role
/// not assumed, or `ListClusters` refused. One failed record in the report.
#[derive(Debug)]
pub struct AccountFailed {
    pub account: Option<AccountId>,
    pub error: Error,
}

/// The fleet planner's AWS reads.
#[derive(Debug)]
pub struct Planner {
    accounts: Accounts<FleetClients>,
    allowlist: Allowlist,
    rules: AccountRules,
}

impl Planner {
    pub fn new(
        accounts: Accounts<FleetClients>,
        allowlist: Allowlist,
        rules: AccountRules,
    ) -> Self {
        Self {
            accounts,
            allowlist,
            rules,
        }
    }

    /// The clusters a roll observes: its explicit targets' (each once, in input order;
    /// one outside `ALLOWED_CLUSTERS` or `ALLOWED_ACCOUNTS` is observed without a call, to
    /// refuse its targets), then those its selectors name in each account they list
    /// (`ListClusters`, every page, only when there are selectors and an allowlist that
    /// admits something). An account that cannot be listed for good is an
    /// [`AccountFailed`]; one that may answer later (throttled, a service error) fails the
    /// step, for the state machine to retry.
    pub async fn clusters_of(
        &self,
        input: &FleetInput,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<(Vec<ClusterRef>, Vec<AccountFailed>), Error> {
        let mut clusters: Vec<ClusterRef> = Vec::new();
        let mut failed = Vec::new();
        for target in &input.targets {
            let cluster = ClusterRef::of(&target.request);
            if !clusters.contains(&cluster) {
                clusters.push(cluster);
            }
        }
        if input.selectors.is_empty() || matches!(self.allowlist, Allowlist::Broken { .. }) {
            return Ok((clusters, failed));
        }
        for account in input.selector_accounts() {
            let listed = match self.list_clusters(account.as_ref(), home, deadline).await {
                Ok(listed) => listed,
                Err(error) if error.is_retryable() => return Err(error),
                Err(error) => {
                    failed.push(AccountFailed { account, error });
                    continue;
                }
            };
            for cluster in clusters_to_discover(input, account.as_ref(), &listed, &self.allowlist) {
                let cluster = ClusterRef {
                    account: account.clone(),
                    cluster,
                };
                if !clusters.contains(&cluster) {
                    clusters.push(cluster);
                }
            }
        }
        Ok((clusters, failed))
    }

    /// Every cluster of one account, through its clients.
    async fn list_clusters(
        &self,
        account: Option<&AccountId>,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<Vec<ClusterName>, Error> {
        let place = self
            .rules
            .place(account, home)
            .map_err(|message| Error::about(ErrorKind::NotAllowed, About::Account, message))?;
        let clients = self
            .accounts
            .clients(&place, &About::Account, deadline)
            .await?;
        clients.discovery.list_clusters(deadline).await
    }

    /// Observes one cluster's targets: those `input` names explicitly in it, and those its
    /// selectors find there. A cluster outside `ALLOWED_CLUSTERS` is never called: its
    /// explicit targets are refused as `NotAllowed`, and selectors do not reach it. With
    /// `wait_for_control_plane`, a control plane that is `UPDATING` is reported as such and
    /// nothing else is read; without, its node groups are observed all the same.
    pub async fn observe_cluster(
        &self,
        input: &FleetInput,
        at: &ClusterRef,
        home: Option<&Home>,
        wait_for_control_plane: bool,
        deadline: &Deadline,
    ) -> Result<ClusterSeen, Error> {
        let cluster = &at.cluster;
        let allowed = self
            .rules
            .place(at.account.as_ref(), home)
            .and_then(|place| self.allowlist.check(cluster.as_str()).map(|()| place));
        let place = match allowed {
            Ok(place) => place,
            Err(message) => {
                let refused = explicit_targets(input, at)
                    .into_iter()
                    .map(|assigned| {
                        let subject = assigned.request.subject();
                        let error = Error::new(ErrorKind::NotAllowed, &subject, message.clone());
                        (assigned, Observation::Failed(error))
                    })
                    .collect();
                return Ok(ClusterSeen::Observed(refused));
            }
        };
        let about = About::Cluster(cluster.clone());
        let clients = self.accounts.clients(&place, &about, deadline).await?;
        let state = clients
            .eks
            .describe_cluster_for(cluster, &about, deadline)
            .await?;
        if wait_for_control_plane && state.status == Some(ClusterStatus::Updating) {
            return Ok(ClusterSeen::ControlPlaneUpdating);
        }
        let selected = input
            .selectors
            .iter()
            .any(|s| s.names(at.account.as_ref(), cluster.as_str()));
        let listed = if selected {
            clients.discovery.list_nodegroups(cluster, deadline).await?
        } else {
            Vec::new()
        };
        let candidates = candidates(input, at, listed);
        let described: Vec<(NodegroupName, Result<NodegroupState, Error>)> =
            stream::iter(candidates)
                .map(|nodegroup| async {
                    let subject = Subject {
                        cluster: cluster.clone(),
                        nodegroup: nodegroup.clone(),
                    };
                    let state = clients.eks.describe_nodegroup(&subject, deadline).await;
                    (nodegroup, state)
                })
                .buffered(DESCRIBE_CONCURRENCY)
                .collect()
                .await;
        let discovered = described
            .iter()
            .map(|(nodegroup, state)| Discovered {
                account: at.account.clone(),
                cluster: cluster.clone(),
                nodegroup: nodegroup.clone(),
                tags: state.as_ref().ok().map(|state| state.tags.clone()),
            })
            .collect();
        // Each candidate was described once; each assigned target takes its own result.
        let mut described: HashMap<NodegroupName, Result<NodegroupState, Error>> =
            described.into_iter().collect();
        let mut observed = Vec::new();
        for assigned in assign(input, Some(at), discovered) {
            let result = match described.remove(assigned.request.nodegroup()) {
                Some(Ok(nodegroup)) => {
                    with_running_update(&clients, &assigned, nodegroup, &state, deadline).await
                }
                Some(Err(error)) => Err(error),
                // Unreachable: every assigned node group was a candidate.
                None => Err(Error::new(
                    ErrorKind::ServiceError,
                    &assigned.request.subject(),
                    "the node group was not read; retry",
                )),
            };
            let observation = match result {
                Ok(observed) => Observation::Seen(Box::new(observed)),
                Err(error) => Observation::Failed(error),
            };
            observed.push((assigned, observation));
        }
        Ok(ClusterSeen::Observed(observed))
    }
}

/// The node group's live state, with its running update when it is `UPDATING`.
async fn with_running_update(
    clients: &FleetClients,
    assigned: &Assigned,
    nodegroup: NodegroupState,
    cluster: &ClusterState,
    deadline: &Deadline,
) -> Result<Observed, Error> {
    let running = if nodegroup.status == NodegroupStatus::Updating {
        let subject = assigned.request.subject();
        clients.eks.find_running_update(&subject, deadline).await?
    } else {
        None
    };
    Ok(Observed {
        nodegroup,
        cluster: cluster.clone(),
        running,
    })
}

/// The input's explicit targets in `cluster`, as the roll assigns them.
fn explicit_targets(input: &FleetInput, cluster: &ClusterRef) -> Vec<Assigned> {
    assign(input, Some(cluster), Vec::new())
}

/// The node groups to describe: explicit targets first, then listed ones not yet named.
fn candidates(
    input: &FleetInput,
    cluster: &ClusterRef,
    listed: Vec<NodegroupName>,
) -> Vec<NodegroupName> {
    let mut names: Vec<NodegroupName> = Vec::new();
    let explicit = input
        .targets
        .iter()
        .filter(|t| ClusterRef::of(&t.request) == *cluster)
        .map(|t| t.request.nodegroup().clone());
    for name in explicit.chain(listed) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session policy is a policy document allowing the planner's EKS reads and
    /// nothing else: no update call, no other service.
    #[test]
    fn the_session_policy_allows_the_planners_reads_only() {
        let policy: serde_json::Value = serde_json::from_str(SESSION_POLICY).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        let mut actions: Vec<&str> = statements[0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        actions.sort_unstable();
        assert_eq!(
            actions,
            [
                "eks:DescribeCluster",
                "eks:DescribeNodegroup",
                "eks:DescribeUpdate",
                "eks:ListClusters",
                "eks:ListNodegroups",
                "eks:ListUpdates",
            ]
        );
    }
}
