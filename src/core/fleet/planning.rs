//! Planning a roll: every target checked by the updater's own plan (steps 1–7, as a dry
//! run), from the live state the planner observed and the latest releases it read once.
//! What planning says of a target decides whether it needs a nested execution at all.

use std::time::SystemTime;

use crate::core::error::{Error, ErrorKind};
use crate::core::live::{ClusterState, CurrentRelease, NodegroupState, UpdateView};
use crate::core::plan::{Decision, LatestRelease, Live, ReleaseLookup, Target, judge_running};
use crate::core::request::UpdateRequest;
use crate::core::version::MinorVersion;

/// What planning found a target to need: the report's `planned` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planned {
    /// An update would start.
    Update,
    /// The update asked for is running already.
    AlreadyInProgress,
    UpToDate,
    Deferred,
    /// The updater would answer this errorType.
    Refused(ErrorKind),
    /// The control plane was still `UPDATING` when the wait for it ran out: the node
    /// groups fail with `UpdateInProgress` without a nested execution.
    GaveUpWaiting,
}

impl Planned {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Update => "Update",
            Self::AlreadyInProgress => "AlreadyInProgress",
            Self::UpToDate => "UpToDate",
            Self::Deferred => "Deferred",
            Self::Refused(kind) => kind.as_str(),
            Self::GaveUpWaiting => ErrorKind::UpdateInProgress.as_str(),
        }
    }

    /// Settled at planning, with no nested execution: up to date, deferred, or refused for
    /// a reason no retry changes. The rest roll, and their executions retry as they do.
    pub fn settles(self) -> bool {
        match self {
            Self::UpToDate | Self::Deferred => true,
            Self::Refused(kind) => !kind.is_retryable(),
            Self::GaveUpWaiting => true,
            Self::Update | Self::AlreadyInProgress => false,
        }
    }

    /// Settled as a failure (status `FAILED`).
    pub fn fails(self) -> bool {
        match self {
            Self::Refused(kind) => !kind.is_retryable(),
            Self::GaveUpWaiting => true,
            _ => false,
        }
    }
}

/// One target's live state, as the planner read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub nodegroup: NodegroupState,
    pub cluster: ClusterState,
    /// The node group's `InProgress` update, read only when it is `UPDATING`.
    pub running: Option<UpdateView>,
}

/// What the planner learnt of one target.
#[derive(Debug)]
pub enum Observation {
    /// Its live state.
    Seen(Box<Observed>),
    /// Why it could not be read (a refusal of the allowlist included).
    Failed(Error),
    /// Its control plane was still `UPDATING` when the wait ran out.
    ControlPlaneStillUpdating(Error),
}

/// What planning says of one target, for the report and the roll.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedTarget {
    pub planned: Planned,
    pub from_version: Option<MinorVersion>,
    pub from_release_version: Option<String>,
    /// The resolved target, where the checks got that far.
    pub target: Option<Target>,
    /// The running update, for `AlreadyInProgress`.
    pub update_id: Option<String>,
    /// Why it was refused, in the updater's words.
    pub cause: Option<String>,
}

impl PlannedTarget {
    fn refused(error: &Error, observed: Option<&Observed>) -> Self {
        Self {
            planned: Planned::Refused(error.kind()),
            from_version: observed.map(|o| o.nodegroup.version),
            from_release_version: observed.and_then(|o| release_text(&o.nodegroup)),
            target: None,
            update_id: error.update_id().map(str::to_owned),
            cause: Some(error.to_string()),
        }
    }
}

fn release_text(nodegroup: &NodegroupState) -> Option<String> {
    nodegroup.release_version.as_ref().map(|r| match r {
        CurrentRelease::Parsed(release) => release.to_string(),
        CurrentRelease::Unreadable(text) => text.clone(),
    })
}

/// Which latest release a target's plan needs (step 6), once its live state is known.
pub fn release_lookup(request: &UpdateRequest, observed: &Observed) -> ReleaseLookup {
    Live::new(request, &observed.nodegroup, &observed.cluster).release_lookup()
}

/// Plans one target as the updater would, changing nothing. `latest` answers the release
/// lookup from the releases read once per roll.
pub fn plan_target(
    request: &UpdateRequest,
    observation: Observation,
    latest: impl FnOnce(&ReleaseLookup) -> LatestRelease,
    now: SystemTime,
) -> PlannedTarget {
    let observed = match observation {
        Observation::Seen(observed) => *observed,
        Observation::Failed(error) => return PlannedTarget::refused(&error, None),
        Observation::ControlPlaneStillUpdating(error) => {
            return PlannedTarget {
                planned: Planned::GaveUpWaiting,
                ..PlannedTarget::refused(&error, None)
            };
        }
    };
    let subject = request.subject();
    let live = Live::new(request, &observed.nodegroup, &observed.cluster);
    let latest = latest(&live.release_lookup());
    // The token is the update execution's to derive; planning's identity is a placeholder.
    let plan = match live.plan("fleet-planning", latest, now) {
        Ok(plan) => plan,
        Err(refusal) => {
            return PlannedTarget::refused(&refusal.into_error(&subject), Some(&observed));
        }
    };
    let (planned, update_id) = match plan.decision {
        Decision::UpToDate => (Planned::UpToDate, None),
        Decision::Deferred => (Planned::Deferred, None),
        Decision::Start | Decision::DryRun => (Planned::Update, None),
        Decision::FindRunning => match judge_running(&plan.target, observed.running.clone()) {
            Ok(update) => (Planned::AlreadyInProgress, Some(update.id)),
            Err(refusal) => {
                return PlannedTarget::refused(&refusal.into_error(&subject), Some(&observed));
            }
        },
    };
    PlannedTarget {
        planned,
        from_version: Some(observed.nodegroup.version),
        from_release_version: release_text(&observed.nodegroup),
        target: Some(plan.target),
        update_id,
        cause: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::core::ami::AmiType;
    use crate::core::error::About;
    use crate::core::live::{
        ClusterStatus, NodegroupStatus, PublishedRelease, UpdateKind, UpdateStatus,
    };
    use crate::core::version::ReleaseVersion;

    fn request(fields: Value) -> UpdateRequest {
        let mut object = json!({"clusterName": "prod", "nodegroupName": "workers"});
        for (k, v) in fields.as_object().unwrap() {
            object[k] = v.clone();
        }
        UpdateRequest::from_json(object.as_object().unwrap()).unwrap()
    }

    fn observed(version: &str, release: &str, status: &str, cluster: &str) -> Observed {
        Observed {
            nodegroup: NodegroupState {
                version: MinorVersion::parse(version).unwrap(),
                release_version: Some(CurrentRelease::parse(release)),
                ami_type: Some(AmiType::parse("AL2023_x86_64_STANDARD")),
                status: NodegroupStatus::parse(status),
                launch_template: None,
                tags: Default::default(),
            },
            cluster: ClusterState {
                version: MinorVersion::parse(cluster).unwrap(),
                status: Some(ClusterStatus::Active),
            },
            running: None,
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_478_400)
    }

    fn known(release: &str, days: u64) -> LatestRelease {
        LatestRelease::Known(PublishedRelease {
            release: ReleaseVersion::parse(release).unwrap(),
            published: Some(now() - Duration::from_secs(days * 86_400)),
        })
    }

    fn planned(req: Value, state: Observed, latest: LatestRelease) -> PlannedTarget {
        plan_target(
            &request(req),
            Observation::Seen(Box::new(state)),
            |_| latest,
            now(),
        )
    }

    #[test]
    fn each_outcome_of_the_updater_is_a_planning_outcome() {
        let behind = observed("1.30", "1.30.4-20241109", "ACTIVE", "1.31");
        let at_latest = observed("1.31", "1.31.7-20251120", "ACTIVE", "1.31");
        let rows = [
            (
                json!({"version": "cluster"}),
                behind.clone(),
                LatestRelease::NotNeeded,
                Planned::Update,
            ),
            (
                json!({"version": "cluster", "dryRun": true}),
                behind.clone(),
                LatestRelease::NotNeeded,
                Planned::Update,
            ),
            (
                json!({}),
                at_latest.clone(),
                known("1.31.7-20251120", 30),
                Planned::UpToDate,
            ),
            (
                json!({"minReleaseAgeDays": 7}),
                observed("1.31", "1.31.2-20241115", "ACTIVE", "1.31"),
                known("1.31.7-20251120", 2),
                Planned::Deferred,
            ),
            (
                json!({"version": "1.32"}),
                behind.clone(),
                LatestRelease::NotNeeded,
                Planned::Refused(ErrorKind::PreconditionFailed),
            ),
            (
                json!({}),
                observed("1.30", "1.30.4-20241109", "ACTIVE", "1.30")
                    .with_cluster_status("UPDATING"),
                LatestRelease::NotNeeded,
                Planned::Refused(ErrorKind::UpdateInProgress),
            ),
        ];
        for (req, state, latest, want) in rows {
            let got = planned(req.clone(), state, latest);
            assert_eq!(got.planned, want, "{req}");
        }
    }

    #[test]
    fn only_what_a_retry_cannot_change_settles_as_a_failure() {
        assert!(Planned::UpToDate.settles() && !Planned::UpToDate.fails());
        assert!(Planned::Deferred.settles());
        assert!(!Planned::Update.settles() && !Planned::AlreadyInProgress.settles());
        for kind in ErrorKind::ALL {
            let refused = Planned::Refused(kind);
            assert_eq!(refused.settles(), !kind.is_retryable(), "{kind}");
            assert_eq!(refused.fails(), !kind.is_retryable(), "{kind}");
            assert_eq!(refused.as_str(), kind.as_str());
        }
    }

    #[test]
    fn an_unreadable_target_is_planned_as_its_error() {
        let error = Error::about(
            ErrorKind::NotFound,
            About::Input,
            "node group 'x' does not exist",
        );
        let got = plan_target(
            &request(json!({})),
            Observation::Failed(error),
            |_| LatestRelease::NotNeeded,
            now(),
        );
        assert_eq!(got.planned, Planned::Refused(ErrorKind::NotFound));
        assert_eq!(got.cause.as_deref(), Some("node group 'x' does not exist"));
        assert!(got.target.is_none() && got.from_version.is_none());
    }

    #[test]
    fn a_running_update_of_the_same_target_is_already_in_progress() {
        let mut state = observed("1.30", "1.30.4-20241109", "UPDATING", "1.31");
        state.running = Some(UpdateView {
            id: "u-7".into(),
            status: UpdateStatus::InProgress,
            kind: UpdateKind::VersionUpdate,
            params: vec![("Version".into(), "1.31".into())],
            created_at: None,
            errors: vec![],
        });
        let got = planned(
            json!({"version": "1.31"}),
            state.clone(),
            LatestRelease::NotNeeded,
        );
        assert_eq!(got.planned, Planned::AlreadyInProgress);
        assert_eq!(got.update_id.as_deref(), Some("u-7"));
        let other = planned(json!({"version": "1.30"}), state, LatestRelease::NotNeeded);
        assert_eq!(other.planned, Planned::Refused(ErrorKind::UpdateInProgress));
        assert_eq!(other.update_id.as_deref(), Some("u-7"));
    }

    #[test]
    fn the_report_columns_come_from_the_live_state_and_the_target() {
        let got = planned(
            json!({"version": "cluster"}),
            observed("1.30", "1.30.4-20241109", "ACTIVE", "1.31"),
            known("1.31.7-20251120", 9),
        );
        assert_eq!(got.from_version, MinorVersion::parse("1.30"));
        assert_eq!(got.from_release_version.as_deref(), Some("1.30.4-20241109"));
        let target = got.target.unwrap();
        assert_eq!(target.version, MinorVersion::parse("1.31"));
    }

    impl Observed {
        fn with_cluster_status(mut self, status: &str) -> Self {
            self.cluster.status = Some(ClusterStatus::parse(status));
            self
        }
    }
}
