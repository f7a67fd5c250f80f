//! Deciding a whole roll once every cluster was observed: the SSM parameters the plans need
//! (each read once per roll), every target planned, the records in report order, the
//! rolling targets by wave, and whether the refusals already pass the tolerance.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::assign::Assigned;
use super::planning::{Observation, plan_target, release_lookup};
use super::roll::{ClusterFailure, Record, past_tolerance};
use crate::core::error::Subject;
use crate::core::plan::{LatestRelease, ReleaseLookup};
use crate::core::request::UpdateRequest;

/// One target as the observation left it.
pub type ObservedTarget = (Assigned, Observation);

/// The distinct SSM parameters the targets' plans need, each with the first node group that
/// needs it (for the wording of a failed read): each is read once per roll.
pub fn release_parameters(targets: &[ObservedTarget]) -> BTreeMap<String, Subject> {
    let mut parameters = BTreeMap::new();
    for (assigned, observation) in targets {
        if let Observation::Seen(observed) = observation
            && let ReleaseLookup::Read(parameter) = release_lookup(&assigned.request, observed)
        {
            parameters
                .entry(parameter)
                .or_insert_with(|| assigned.request.subject());
        }
    }
    parameters
}

/// What planning decided for the roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    /// One per target: explicit targets in input order, then discovered ones by cluster
    /// and node group (a cluster whose node groups could not be listed is one record, before
    /// its node groups).
    pub records: Vec<Record>,
    /// The targets that roll, by wave, ascending: the index of each one's record, and the
    /// request its nested update execution gets.
    pub waves: BTreeMap<u8, Vec<(usize, UpdateRequest)>>,
    /// The refusals at planning already pass the tolerance: no wave starts.
    pub stop: bool,
}

/// Plans every target. `latest` answers a lookup from the releases read once; `failures`
/// are the clusters whose node groups could not be listed, each a failed record.
pub fn decide(
    targets: Vec<ObservedTarget>,
    failures: Vec<ClusterFailure>,
    latest: impl Fn(&ReleaseLookup) -> LatestRelease,
    tolerated_failure_percentage: f64,
    dry_run: bool,
    now: SystemTime,
) -> Decided {
    let planned = targets.into_iter().map(|(assigned, observation)| {
        let planned = plan_target(&assigned.request, observation, &latest, now);
        let record = Record::planned(&assigned, &planned);
        let place = Place::of(&assigned);
        let rolling = record.rolls().then_some(assigned.request);
        (place, record, rolling)
    });
    let failed = failures.iter().map(|failure| {
        let place = Place::Discovered(failure.account.clone(), failure.cluster.clone(), None);
        (place, Record::cluster_failed(failure), None)
    });
    let mut entries: Vec<(Place, Record, Option<UpdateRequest>)> = planned.chain(failed).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut records = Vec::with_capacity(entries.len());
    let mut waves: BTreeMap<u8, Vec<(usize, UpdateRequest)>> = BTreeMap::new();
    for (index, (_, record, rolling)) in entries.into_iter().enumerate() {
        if let Some(request) = rolling {
            waves.entry(record.wave).or_default().push((index, request));
        }
        records.push(record);
    }
    let stop = past_tolerance(&records, tolerated_failure_percentage, dry_run);
    Decided {
        records,
        waves,
        stop,
    }
}

/// A record's place in the report: explicit targets first, in input order; then the
/// discovered ones by account, cluster and node group, an account or a cluster that could
/// not be listed (no cluster, no node group) before what it holds. The variants' order is
/// the report's.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Explicit(usize),
    Discovered(Option<String>, Option<String>, Option<String>),
}

impl Place {
    fn of(assigned: &Assigned) -> Self {
        match assigned.target {
            Some(index) => Self::Explicit(index),
            None => Self::Discovered(
                assigned.request.account().map(ToString::to_string),
                Some(assigned.request.cluster().to_string()),
                Some(assigned.request.nodegroup().to_string()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::core::ami::AmiType;
    use crate::core::error::{About, Error, ErrorKind};
    use crate::core::fleet::planning::Observed;
    use crate::core::live::{
        ClusterState, ClusterStatus, CurrentRelease, NodegroupState, NodegroupStatus,
        PublishedRelease,
    };
    use crate::core::version::{MinorVersion, ReleaseVersion};

    fn assigned(cluster: &str, nodegroup: &str, wave: u8, target: Option<usize>) -> Assigned {
        Assigned {
            request: UpdateRequest::from_json(
                json!({"clusterName": cluster, "nodegroupName": nodegroup})
                    .as_object()
                    .unwrap(),
            )
            .unwrap(),
            wave,
            selector: target.is_none().then_some(0),
            target,
        }
    }

    fn observed(release: &str) -> Observed {
        Observed {
            nodegroup: NodegroupState {
                version: MinorVersion::new(1, 31),
                release_version: Some(CurrentRelease::parse(release)),
                ami_type: Some(AmiType::parse("AL2023_x86_64_STANDARD")),
                status: NodegroupStatus::Active,
                launch_template: None,
                tags: Default::default(),
            },
            cluster: ClusterState {
                version: MinorVersion::new(1, 31),
                status: Some(ClusterStatus::Active),
            },
            running: None,
        }
    }

    const PARAMETER: &str = "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version";

    pub(super) fn latest(lookup: &ReleaseLookup) -> LatestRelease {
        match lookup {
            ReleaseLookup::Read(parameter) if parameter == PARAMETER => {
                LatestRelease::Known(PublishedRelease {
                    release: ReleaseVersion::parse("1.31.7-20251120").unwrap(),
                    published: None,
                })
            }
            _ => LatestRelease::NotNeeded,
        }
    }

    fn gone(cluster: &str, nodegroup: &str) -> Observation {
        Observation::Failed(Error::about(
            ErrorKind::NotFound,
            About::Input,
            format!("{cluster}/{nodegroup} does not exist"),
        ))
    }

    pub(super) fn targets_for_failures() -> Vec<ObservedTarget> {
        vec![
            (
                assigned("b", "web", 2, None),
                Observation::Seen(Box::new(observed("1.31.2-20241115"))),
            ),
            (
                assigned("z", "system", 0, Some(0)),
                Observation::Seen(Box::new(observed("1.31.2-20241115"))),
            ),
            (
                assigned("a", "api", 2, None),
                Observation::Seen(Box::new(observed("1.31.2-20241115"))),
            ),
        ]
    }

    fn targets() -> Vec<ObservedTarget> {
        vec![
            (
                assigned("b", "web", 2, None),
                Observation::Seen(Box::new(observed("1.31.2-20241115"))),
            ),
            (
                assigned("a", "db", 1, None),
                Observation::Seen(Box::new(observed("1.31.7-20251120"))),
            ),
            (
                assigned("z", "system", 0, Some(1)),
                Observation::Seen(Box::new(observed("1.31.2-20241115"))),
            ),
            (assigned("y", "gone", 0, Some(0)), gone("y", "gone")),
            (
                assigned("a", "api", 2, None),
                Observation::Seen(Box::new(observed("1.31.2-20241115"))),
            ),
        ]
    }

    #[test]
    fn each_parameter_is_read_once() {
        let parameters = release_parameters(&targets());
        assert_eq!(parameters.keys().collect::<Vec<_>>(), [PARAMETER]);
        assert_eq!(parameters[PARAMETER].nodegroup.as_str(), "web");
    }

    #[test]
    fn records_in_report_order_and_waves_of_what_rolls() {
        let decided = decide(
            targets(),
            Vec::new(),
            latest,
            50.0,
            false,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        );
        let order: Vec<(&str, &str, &str)> = decided
            .records
            .iter()
            .map(|r| {
                (
                    r.cluster_name.as_deref().unwrap_or("-"),
                    r.nodegroup_name.as_deref().unwrap_or("-"),
                    r.planned.as_str(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("y", "gone", "NotFound"),
                ("z", "system", "Update"),
                ("a", "api", "Update"),
                ("a", "db", "UpToDate"),
                ("b", "web", "Update"),
            ]
        );
        let waves: Vec<(u8, Vec<usize>)> = decided
            .waves
            .iter()
            .map(|(wave, items)| (*wave, items.iter().map(|(i, _)| *i).collect()))
            .collect();
        assert_eq!(waves, [(0, vec![1]), (2, vec![2, 4])]);
        assert_eq!(decided.waves[&0][0].1.nodegroup().as_str(), "system");
        assert!(!decided.stop);
    }

    #[test]
    fn refusals_past_the_tolerance_stop_the_roll_before_any_wave() {
        let decided = decide(
            targets(),
            Vec::new(),
            latest,
            10.0,
            false,
            SystemTime::UNIX_EPOCH,
        );
        assert!(decided.stop, "1 failure of 5 is past 10%");
        let dry = decide(
            targets(),
            Vec::new(),
            latest,
            10.0,
            true,
            SystemTime::UNIX_EPOCH,
        );
        assert!(!dry.stop, "a dry run starts nothing to stop");
    }
}

#[cfg(test)]
mod cluster_failures {
    use std::time::SystemTime;

    use super::*;
    use crate::core::fleet::roll::Status;

    #[test]
    fn an_unlisted_cluster_is_one_failed_record_before_its_node_groups() {
        let t = tests::targets_for_failures();
        let failure = ClusterFailure {
            account: None,
            cluster: Some("a".to_owned()),
            wave: 3,
            selector: Some(0),
            error: "AccessDenied".to_owned(),
            cause: "cluster 'a': not authorized".to_owned(),
        };
        let decided = decide(
            t,
            vec![failure],
            tests::latest,
            100.0,
            false,
            SystemTime::UNIX_EPOCH,
        );
        let order: Vec<(&str, Option<&str>, Status)> = decided
            .records
            .iter()
            .map(|r| {
                (
                    r.cluster_name.as_deref().unwrap_or("-"),
                    r.nodegroup_name.as_deref(),
                    r.status,
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("z", Some("system"), Status::NotStarted),
                ("a", None, Status::Failed),
                ("a", Some("api"), Status::NotStarted),
                ("b", Some("web"), Status::NotStarted),
            ]
        );
        let rolling: Vec<usize> = decided.waves.values().flatten().map(|(i, _)| *i).collect();
        assert_eq!(
            rolling,
            [0, 2, 3],
            "each rolling target keeps its own record"
        );
        assert_eq!(decided.records[1].wave, 3);
        assert_eq!(decided.records[1].error.as_deref(), Some("AccessDenied"));
    }
}
