//! Deciding a whole roll once every cluster was observed: the SSM parameters the plans need
//! (each read once per roll), every target planned, the records in report order, the
//! rolling targets by wave, and whether the refusals already pass the tolerance.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use super::assign::Assigned;
use super::planning::{Observed, plan_target, release_lookup};
use super::roll::{Counts, Record};
use crate::core::error::Error;
use crate::core::plan::{LatestRelease, ReleaseLookup};
use crate::core::request::UpdateRequest;

/// One target as the observation left it.
pub type ObservedTarget = (Assigned, Result<Observed, Error>);

/// The distinct SSM parameters the targets' plans need: each is read once per roll.
pub fn release_parameters(targets: &[ObservedTarget]) -> BTreeSet<String> {
    targets
        .iter()
        .filter_map(|(assigned, observed)| match observed {
            Ok(observed) => match release_lookup(&assigned.request, observed) {
                ReleaseLookup::Read(parameter) => Some(parameter),
                _ => None,
            },
            Err(_) => None,
        })
        .collect()
}

/// What planning decided for the roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    /// One per target: explicit targets in input order, then discovered ones by cluster
    /// and node group.
    pub records: Vec<Record>,
    /// The targets that roll, by wave, ascending: the index of each one's record, and the
    /// request its nested update execution gets.
    pub waves: BTreeMap<u8, Vec<(usize, UpdateRequest)>>,
    /// The refusals at planning already pass the tolerance: no wave starts.
    pub stop: bool,
}

/// Plans every target. `latest` answers a lookup from the releases read once.
pub fn decide(
    mut targets: Vec<ObservedTarget>,
    latest: impl Fn(&ReleaseLookup) -> LatestRelease,
    tolerated_failure_percentage: f64,
    dry_run: bool,
    now: SystemTime,
) -> Decided {
    targets.sort_by(|(a, _), (b, _)| report_order(a, b));
    let mut records = Vec::with_capacity(targets.len());
    let mut waves: BTreeMap<u8, Vec<(usize, UpdateRequest)>> = BTreeMap::new();
    for (index, (assigned, observed)) in targets.into_iter().enumerate() {
        let planned = plan_target(&assigned.request, observed, &latest, now);
        let record = Record::planned(&assigned, &planned);
        if record.rolls() {
            waves
                .entry(record.wave)
                .or_default()
                .push((index, assigned.request));
        }
        records.push(record);
    }
    let stop =
        !dry_run && Counts::of(&records, dry_run).beyond_tolerance(tolerated_failure_percentage);
    Decided {
        records,
        waves,
        stop,
    }
}

/// Explicit targets first, in input order; then discovered ones by cluster, node group.
fn report_order(a: &Assigned, b: &Assigned) -> Ordering {
    match (a.target, b.target) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => (a.request.cluster(), a.request.nodegroup())
            .cmp(&(b.request.cluster(), b.request.nodegroup())),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::core::ami::AmiType;
    use crate::core::error::{About, ErrorKind};
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

    fn latest(lookup: &ReleaseLookup) -> LatestRelease {
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

    fn gone(cluster: &str, nodegroup: &str) -> Result<Observed, Error> {
        Err(Error::about(
            ErrorKind::NotFound,
            About::Input,
            format!("{cluster}/{nodegroup} does not exist"),
        ))
    }

    fn targets() -> Vec<ObservedTarget> {
        vec![
            (
                assigned("b", "web", 2, None),
                Ok(observed("1.31.2-20241115")),
            ),
            (
                assigned("a", "db", 1, None),
                Ok(observed("1.31.7-20251120")),
            ),
            (
                assigned("z", "system", 0, Some(1)),
                Ok(observed("1.31.2-20241115")),
            ),
            (assigned("y", "gone", 0, Some(0)), gone("y", "gone")),
            (
                assigned("a", "api", 2, None),
                Ok(observed("1.31.2-20241115")),
            ),
        ]
    }

    #[test]
    fn each_parameter_is_read_once() {
        assert_eq!(
            release_parameters(&targets()),
            BTreeSet::from([PARAMETER.to_owned()])
        );
    }

    #[test]
    fn records_in_report_order_and_waves_of_what_rolls() {
        let decided = decide(
            targets(),
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
                    r.cluster_name.as_str(),
                    r.nodegroup_name.as_str(),
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
        let decided = decide(targets(), latest, 10.0, false, SystemTime::UNIX_EPOCH);
        assert!(decided.stop, "1 failure of 5 is past 10%");
        let dry = decide(targets(), latest, 10.0, true, SystemTime::UNIX_EPOCH);
        assert!(!dry.stop, "a dry run starts nothing to stop");
    }
}
