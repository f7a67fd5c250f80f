//! Why a request cannot go on, and the one place a refusal becomes an [`Error`].

use crate::core::error::{Error, ErrorKind, Subject};

/// Which rule refused: what the tables assert. The words for the user are in
/// [`Refusal::message`], checked once per reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Step 4: the target minor is above the control plane's.
    AboveControlPlane,
    /// Step 4: the target minor is below the node group's.
    Rollback,
    /// Step 4: the release is older than the node group's, within one format and minor.
    ReleaseRollback,
    /// Step 4: the release is built for another Kubernetes minor than the target.
    ReleaseMinorMismatch,
    /// Step 4: a custom-AMI node group asked for a version or a release.
    CustomAmiVersion,
    /// Step 4: a launch template for a node group created without one.
    NoLaunchTemplate,
    /// Step 4: another launch template than the node group's.
    OtherLaunchTemplate,
    /// Step 4: Amazon Linux 2 at a minor that has no AL2 AMIs.
    Al2Ended,
    /// Step 4: the node group is neither `ACTIVE`, `DEGRADED` nor `UPDATING`.
    NodegroupNotUpdatable,
    /// The control plane is being updated: EKS updates no node group meanwhile.
    ClusterUpdating,
    /// The cluster is in no state to update a node group in.
    ClusterNotActive,
    /// Step 6: `minReleaseAgeDays` on a node group whose AMI has no published releases.
    SoakGateCustomAmi,
    /// Step 6: `minReleaseAgeDays`, and no release is published to measure.
    SoakGateNothingPublished,
    /// Step 6: `minReleaseAgeDays`, and the release's age could not be seen.
    SoakGateBlind,
    /// Step 5: another update (or a version update to another target) is running.
    OtherUpdateRunning,
    /// Step 5: the node group was busy, but its update has just ended.
    UpdateJustEnded,
}

impl Reason {
    /// The `errorType` of the refusal. `SoakGateBlind` reports the failed read's own kind
    /// when there was one (see [`Refusal::into_error`]).
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::ClusterUpdating | Self::OtherUpdateRunning | Self::UpdateJustEnded => {
                ErrorKind::UpdateInProgress
            }
            Self::SoakGateBlind => ErrorKind::ServiceError,
            Self::AboveControlPlane
            | Self::Rollback
            | Self::ReleaseRollback
            | Self::ReleaseMinorMismatch
            | Self::CustomAmiVersion
            | Self::NoLaunchTemplate
            | Self::OtherLaunchTemplate
            | Self::Al2Ended
            | Self::NodegroupNotUpdatable
            | Self::ClusterNotActive
            | Self::SoakGateCustomAmi
            | Self::SoakGateNothingPublished => ErrorKind::PreconditionFailed,
        }
    }
}

/// A refusal: the rule, the message that says what to do, and what the error needs besides.
#[derive(Debug)]
pub struct Refusal {
    reason: Reason,
    message: String,
    update_id: Option<String>,
    /// For `SoakGateBlind`: why the latest release could not be read.
    read_error: Option<Box<Error>>,
}

impl Refusal {
    pub(crate) fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            update_id: None,
            read_error: None,
        }
    }

    pub(crate) fn with_update_id(mut self, update_id: &str) -> Self {
        self.update_id = Some(update_id.to_owned());
        self
    }

    pub(crate) fn with_read_error(mut self, error: Option<Error>) -> Self {
        self.read_error = error.map(Box::new);
        self
    }

    /// Which rule refused: what the plan's tables assert.
    #[cfg(test)]
    pub(crate) fn reason(&self) -> Reason {
        self.reason
    }

    /// The error the function answers with. A soak gate that could not see reports the
    /// failed read under its own name (`AccessDenied`, `Throttled`, ...), with why the gate
    /// needed it.
    pub fn into_error(self, subject: &Subject) -> Error {
        if let Some(read_error) = self.read_error {
            return read_error.with_context(&self.message);
        }
        let message = match self.reason {
            Reason::SoakGateBlind => format!("{}; retry later", self.message),
            _ => self.message,
        };
        let error = Error::new(self.reason.kind(), subject, message);
        match self.update_id {
            Some(id) => error.with_update_id(id),
            None => error,
        }
    }
}
