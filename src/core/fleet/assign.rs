//! Which node groups a roll takes, each once: explicit targets first (in input order), then
//! what the selectors find (by account, cluster, then node group). The first target or
//! selector that names a node group decides its request and wave; later matches are ignored.
//! A node group is its account, cluster and name: `prod` in two accounts is two clusters.

use std::collections::{BTreeMap, HashSet};

use super::input::{FleetInput, Selector};
use crate::core::allowlist::Allowlist;
use crate::core::request::{AccountId, ClusterName, NodegroupName, UpdateRequest};

/// A cluster of the roll: its account (`None` only where the function cannot tell its own)
/// and its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterRef {
    pub account: Option<AccountId>,
    pub cluster: ClusterName,
}

impl ClusterRef {
    /// The cluster a request is about.
    pub fn of(request: &UpdateRequest) -> Self {
        Self {
            account: request.account().cloned(),
            cluster: request.cluster().clone(),
        }
    }
}

/// A node group discovery found, with its tags; `None` when it could not be described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    pub account: Option<AccountId>,
    pub cluster: ClusterName,
    pub nodegroup: NodegroupName,
    pub tags: Option<BTreeMap<String, String>>,
}

/// One node group of the roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assigned {
    pub request: UpdateRequest,
    pub wave: u8,
    /// The index of the selector that found it; `None` for an explicit target.
    pub selector: Option<usize>,
    /// The index of the explicit target that names it; `None` for a discovered one.
    pub target: Option<usize>,
}

/// The clusters of `account` whose node groups discovery lists: those some selector names
/// there and the allowlist admits, in the order given, each once. No call names any other
/// cluster.
pub fn clusters_to_discover(
    input: &FleetInput,
    account: Option<&AccountId>,
    clusters: &[ClusterName],
    allowlist: &Allowlist,
) -> Vec<ClusterName> {
    clusters
        .iter()
        .filter(|cluster| allowlist.check(cluster.as_str()).is_ok())
        .filter(|cluster| {
            input
                .selectors
                .iter()
                .any(|s| s.names(account, cluster.as_str()))
        })
        .cloned()
        .collect()
}

/// The roll's node groups, each once, in report order; with `cluster`, only that cluster's
/// (its explicit targets keep their index in the whole input).
pub fn assign(
    input: &FleetInput,
    cluster: Option<&ClusterRef>,
    mut discovered: Vec<Discovered>,
) -> Vec<Assigned> {
    let mut seen = HashSet::new();
    let mut assigned = Vec::new();
    for (index, target) in input.targets.iter().enumerate() {
        let at = ClusterRef::of(&target.request);
        if cluster.is_some_and(|c| *c != at) {
            continue;
        }
        if seen.insert((at, target.request.nodegroup().clone())) {
            assigned.push(Assigned {
                request: target.request.clone(),
                wave: target.wave,
                selector: None,
                target: Some(index),
            });
        }
    }
    discovered.sort_by(|a, b| {
        (&a.account, &a.cluster, &a.nodegroup).cmp(&(&b.account, &b.cluster, &b.nodegroup))
    });
    for found in discovered {
        let Some((index, selector)) = first_selecting(&input.selectors, &found) else {
            continue;
        };
        let at = ClusterRef {
            account: found.account.clone(),
            cluster: found.cluster.clone(),
        };
        if seen.insert((at, found.nodegroup.clone())) {
            assigned.push(Assigned {
                request: UpdateRequest::new(
                    found.account,
                    found.cluster,
                    found.nodegroup,
                    selector.request.clone(),
                ),
                wave: selector.wave,
                selector: Some(index),
                target: None,
            });
        }
    }
    assigned
}

fn first_selecting<'s>(
    selectors: &'s [Selector],
    found: &Discovered,
) -> Option<(usize, &'s Selector)> {
    selectors.iter().enumerate().find(|(_, s)| {
        s.names(found.account.as_ref(), found.cluster.as_str())
            && s.selects(found.nodegroup.as_str(), found.tags.as_ref())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::core::request::VersionRequest;

    fn input(value: Value) -> FleetInput {
        FleetInput::from_json(&value).unwrap()
    }

    fn found(cluster: &str, nodegroup: &str, tags: &[(&str, &str)]) -> Discovered {
        Discovered {
            account: None,
            cluster: ClusterName::parse(cluster).unwrap(),
            nodegroup: NodegroupName::parse(nodegroup).unwrap(),
            tags: Some(
                tags.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        }
    }

    fn names(assigned: &[Assigned]) -> Vec<(String, String, u8, Option<usize>)> {
        assigned
            .iter()
            .map(|a| {
                (
                    a.request.cluster().to_string(),
                    a.request.nodegroup().to_string(),
                    a.wave,
                    a.selector,
                )
            })
            .collect()
    }

    fn cluster_names(list: &[&str]) -> Vec<ClusterName> {
        list.iter()
            .map(|c| ClusterName::parse(c).unwrap())
            .collect()
    }

    #[test]
    fn explicit_targets_first_then_selectors_in_order_each_node_group_once() {
        let fleet = input(json!({
            "targets": [
                {"clusterName": "prod-eu", "nodegroupName": "system", "wave": 0, "version": "1.31"},
                {"clusterName": "prod-eu", "nodegroupName": "system", "wave": 5}
            ],
            "selectors": [
                {"clusters": ["prod-*"], "nodegroups": ["web-*"], "wave": 1, "request": {"version": "cluster"}},
                {"clusters": ["prod-*"], "wave": 2}
            ]
        }));
        let assigned = assign(
            &fleet,
            None,
            vec![
                found("prod-us", "batch", &[]),
                found("prod-eu", "web-1", &[]),
                found("prod-eu", "system", &[]),
                found("dev", "web-1", &[]),
            ],
        );
        assert_eq!(
            names(&assigned),
            vec![
                ("prod-eu".into(), "system".into(), 0, None),
                ("prod-eu".into(), "web-1".into(), 1, Some(0)),
                ("prod-us".into(), "batch".into(), 2, Some(1)),
            ]
        );
        assert_eq!(
            assigned[0].request.version(),
            VersionRequest::Explicit(crate::core::version::MinorVersion::new(1, 31))
        );
        assert_eq!(assigned[1].request.version(), VersionRequest::Cluster);
        assert_eq!(assigned[2].request.version(), VersionRequest::Current);
    }

    #[test]
    fn exclusions_and_tags_narrow_a_selector() {
        let fleet = input(json!({"selectors": [
            {"clusters": ["*"], "excludeNodegroups": ["gpu-*"], "nodegroupTags": {"team": "web", "tier": "1"}}
        ]}));
        let assigned = assign(
            &fleet,
            None,
            vec![
                found(
                    "a",
                    "web",
                    &[("team", "web"), ("tier", "1"), ("other", "x")],
                ),
                found("a", "gpu-1", &[("team", "web"), ("tier", "1")]),
                found("a", "api", &[("team", "web")]),
                found("a", "db", &[("team", "db"), ("tier", "1")]),
            ],
        );
        assert_eq!(
            names(&assigned),
            vec![("a".into(), "web".into(), 0, Some(0))]
        );
    }

    #[test]
    fn a_node_group_whose_tags_could_not_be_read_is_taken_by_its_name() {
        let fleet = input(json!({"selectors": [
            {"clusters": ["*"], "excludeNodegroups": ["gpu-*"], "nodegroupTags": {"team": "web"}, "wave": 4}
        ]}));
        let mut unreadable = found("a", "api", &[]);
        unreadable.tags = None;
        let mut excluded = found("a", "gpu-2", &[]);
        excluded.tags = None;
        let assigned = assign(&fleet, None, vec![unreadable, excluded]);
        assert_eq!(
            names(&assigned),
            vec![("a".into(), "api".into(), 4, Some(0))],
            "it fails in the report rather than vanish; an excluded name stays out"
        );
    }

    #[test]
    fn discovery_lists_only_allowed_clusters_a_selector_names() {
        let fleet = input(json!({"selectors": [{"clusters": ["prod-*", "staging"]}]}));
        let all = cluster_names(&["prod-eu", "prod-us", "staging", "dev"]);
        let allowlist = Allowlist::parse(Some("prod-eu,staging,dev"));
        assert_eq!(
            clusters_to_discover(&fleet, None, &all, &allowlist),
            cluster_names(&["prod-eu", "staging"])
        );
        assert_eq!(
            clusters_to_discover(&fleet, None, &all, &Allowlist::parse(None)),
            cluster_names(&["prod-eu", "prod-us", "staging"])
        );
    }

    fn account(id: &str) -> Option<AccountId> {
        Some(AccountId::parse(id).unwrap())
    }

    fn found_in(account_id: &str, cluster: &str, nodegroup: &str) -> Discovered {
        Discovered {
            account: account(account_id),
            ..found(cluster, nodegroup, &[])
        }
    }

    #[test]
    fn the_same_names_in_two_accounts_are_two_node_groups() {
        let fleet = input(json!({
            "targets": [{"accountId": "222222222222", "clusterName": "prod", "nodegroupName": "web", "wave": 3}],
            "selectors": [{"accounts": ["111111111111", "222222222222"], "clusters": ["prod"], "wave": 1}]
        }))
        .in_account(account("111111111111").as_ref());
        let assigned = assign(
            &fleet,
            None,
            vec![
                found_in("222222222222", "prod", "web"),
                found_in("222222222222", "prod", "api"),
                found_in("111111111111", "prod", "web"),
                found_in("333333333333", "prod", "web"),
            ],
        );
        let got: Vec<(String, String, u8)> = assigned
            .iter()
            .map(|a| {
                (
                    a.request.account().unwrap().to_string(),
                    a.request.nodegroup().to_string(),
                    a.wave,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("222222222222".into(), "web".into(), 3),
                ("111111111111".into(), "web".into(), 1),
                ("222222222222".into(), "api".into(), 1),
            ],
            "explicit first; then by account, cluster, name; the account no selector names is left out"
        );
    }

    #[test]
    fn its_own_account_named_or_not_is_one_account() {
        let own = account("111111111111");
        let fleet = input(json!({
            "targets": [
                {"clusterName": "prod", "nodegroupName": "web", "wave": 2},
                {"accountId": "111111111111", "clusterName": "prod", "nodegroupName": "web", "wave": 5}
            ],
            "selectors": [
                {"clusters": ["prod"]},
                {"accounts": ["111111111111"], "clusters": ["*"]}
            ]
        }))
        .in_account(own.as_ref());
        assert_eq!(fleet.selector_accounts(), vec![own.clone()]);
        let assigned = assign(&fleet, None, vec![found_in("111111111111", "prod", "web")]);
        assert_eq!(assigned.len(), 1, "{assigned:?}");
        assert_eq!(assigned[0].wave, 2);
        assert_eq!(assigned[0].request.account(), own.as_ref());
        let scoped = ClusterRef {
            account: own,
            cluster: ClusterName::parse("prod").unwrap(),
        };
        assert_eq!(assign(&fleet, Some(&scoped), Vec::new()).len(), 1);
    }

    #[test]
    fn discovery_in_an_account_lists_what_its_selectors_name_there() {
        let fleet = input(json!({"selectors": [
            {"accounts": ["222222222222"], "clusters": ["prod-*"]},
            {"clusters": ["staging"]}
        ]}))
        .in_account(account("111111111111").as_ref());
        let all = cluster_names(&["prod-eu", "staging"]);
        let any = Allowlist::parse(None);
        assert_eq!(
            clusters_to_discover(&fleet, account("222222222222").as_ref(), &all, &any),
            cluster_names(&["prod-eu"])
        );
        assert_eq!(
            clusters_to_discover(&fleet, account("111111111111").as_ref(), &all, &any),
            cluster_names(&["staging"])
        );
        assert_eq!(
            fleet.selector_accounts(),
            vec![account("222222222222"), account("111111111111")]
        );
    }
}
