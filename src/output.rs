//! The success payload (DESIGN, "Output"). `aws_sdk_eks::types::Update` has no
//! `Serialize`, so the update is carried in our own camelCase shape.

use serde::Serialize;

use crate::plan::{Target, UpdateCall};
use crate::state::{UpdateErrorView, UpdateView};

/// What happened, for a state machine's `Choice`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Outcome {
    Started,
    AlreadyInProgress,
    UpToDate,
    Deferred,
    DryRun,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "Started",
            Self::AlreadyInProgress => "AlreadyInProgress",
            Self::UpToDate => "UpToDate",
            Self::Deferred => "Deferred",
            Self::DryRun => "DryRun",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub cluster_name: String,
    pub nodegroup_name: String,
    pub outcome: Outcome,
    pub target: Target,
    /// The update to poll with `DescribeUpdate`; null for `UpToDate`, `Deferred`, `DryRun`.
    pub update: Option<UpdateOutput>,
    /// For `DryRun`: the exact `UpdateNodegroupVersion` request that would be sent.
    pub request: Option<UpdateCall>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOutput {
    pub id: String,
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub params: Vec<UpdateParamOutput>,
    /// RFC 3339, UTC.
    pub created_at: Option<String>,
    pub errors: Vec<UpdateErrorOutput>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateParamOutput {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateErrorOutput {
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub resource_ids: Vec<String>,
}

impl From<UpdateView> for UpdateOutput {
    fn from(update: UpdateView) -> Self {
        Self {
            id: update.id,
            status: update.status,
            kind: update.kind,
            params: update
                .params
                .into_iter()
                .map(|(kind, value)| UpdateParamOutput { kind, value })
                .collect(),
            created_at: update.created_at,
            errors: update
                .errors
                .into_iter()
                .map(UpdateErrorOutput::from)
                .collect(),
        }
    }
}

impl From<UpdateErrorView> for UpdateErrorOutput {
    fn from(error: UpdateErrorView) -> Self {
        Self {
            error_code: error.error_code,
            error_message: error.error_message,
            resource_ids: error.resource_ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::MinorVersion;
    use serde_json::json;

    #[test]
    fn serialises_in_the_documented_shape() {
        let output = Output {
            cluster_name: "prod".into(),
            nodegroup_name: "workers".into(),
            outcome: Outcome::Started,
            target: Target {
                version: MinorVersion::parse("1.31"),
                release_version: None,
                launch_template: None,
                force: false,
                client_request_token: "t".into(),
                latest_release_version: None,
                latest_release_published_at: None,
                latest_release_age_days: None,
            },
            update: Some(
                UpdateView {
                    id: "u-1".into(),
                    status: "Failed".into(),
                    kind: "VersionUpdate".into(),
                    params: vec![("Version".into(), "1.31".into())],
                    created_at: Some("2026-11-24T01:02:03Z".into()),
                    errors: vec![UpdateErrorView {
                        error_code: Some("PodEvictionFailure".into()),
                        error_message: Some("pdb".into()),
                        resource_ids: vec!["i-1".into()],
                    }],
                }
                .into(),
            ),
            request: None,
        };
        assert_eq!(
            serde_json::to_value(&output).unwrap(),
            json!({
                "clusterName": "prod",
                "nodegroupName": "workers",
                "outcome": "Started",
                "target": {"version": "1.31", "releaseVersion": null, "launchTemplate": null,
                           "force": false, "clientRequestToken": "t", "latestReleaseVersion": null,
                           "latestReleasePublishedAt": null, "latestReleaseAgeDays": null},
                "update": {"id": "u-1", "status": "Failed", "type": "VersionUpdate",
                           "params": [{"type": "Version", "value": "1.31"}],
                           "createdAt": "2026-11-24T01:02:03Z",
                           "errors": [{"errorCode": "PodEvictionFailure", "errorMessage": "pdb", "resourceIds": ["i-1"]}]},
                "request": null
            })
        );
    }

    #[test]
    fn outcome_names_are_the_contract() {
        for (outcome, name) in [
            (Outcome::Started, "Started"),
            (Outcome::AlreadyInProgress, "AlreadyInProgress"),
            (Outcome::UpToDate, "UpToDate"),
            (Outcome::Deferred, "Deferred"),
            (Outcome::DryRun, "DryRun"),
        ] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), json!(name));
            assert_eq!(outcome.as_str(), name);
        }
    }
}
