//! The success payload (ARCHITECTURE.md, "Output"): the core's target, update and request
//! in the contract's camelCase JSON shape. `aws_sdk_eks::types::Update` has no
//! `Serialize`, and the core knows no JSON, so the shapes are here.

use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::Serialize;

use crate::core::live::{UpdateErrorView, UpdateView};
use crate::core::plan::{LatestKnown, LaunchTemplateCall, Target, UpdateCall};

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
    /// The account the node group is in: the request's, else the function's own (null only
    /// where the invoked function's ARN did not say).
    pub account_id: Option<String>,
    pub cluster_name: String,
    pub nodegroup_name: String,
    pub outcome: Outcome,
    pub target: TargetOutput,
    /// The update to poll with `DescribeUpdate`; null for `UpToDate`, `Deferred`, `DryRun`.
    pub update: Option<UpdateOutput>,
    /// For `DryRun`: the exact `UpdateNodegroupVersion` request that would be sent.
    pub request: Option<RequestOutput>,
}

/// The output's `target`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetOutput {
    /// Null for a custom-AMI node group, whose version is never sent.
    pub version: Option<String>,
    pub release_version: Option<String>,
    /// In the shape of the API request: `{"id"|"name", "version"}`.
    pub launch_template: Option<LaunchTemplateOutput>,
    pub force: bool,
    pub client_request_token: String,
    /// The newest release SSM names for the AMI type and target (null where unknown).
    pub latest_release_version: Option<String>,
    /// When that release was published, RFC 3339 (null where unknown).
    pub latest_release_published_at: Option<String>,
    /// Its age in whole days (null where unknown): with `Deferred`, why.
    pub latest_release_age_days: Option<u64>,
}

impl From<Target> for TargetOutput {
    fn from(target: Target) -> Self {
        let latest = target.latest;
        Self {
            version: target.version.map(|v| v.to_string()),
            release_version: target.release_version.map(|r| r.to_string()),
            launch_template: target
                .launch_template
                .as_ref()
                .map(|lt| LaunchTemplateCall::from_request(lt).into()),
            force: target.force,
            client_request_token: target.client_request_token,
            latest_release_version: latest.as_ref().map(|l| l.release.to_string()),
            latest_release_published_at: latest
                .as_ref()
                .and_then(|l: &LatestKnown| l.published)
                .map(rfc3339),
            latest_release_age_days: latest.and_then(|l| l.age_days),
        }
    }
}

/// RFC 3339 in UTC, in the same form as the update's `createdAt` (the SDK's own
/// formatting: fractional seconds only when there are any).
fn rfc3339(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// A launch template as the API takes it: id or name, never both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchTemplateOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl From<LaunchTemplateCall> for LaunchTemplateOutput {
    fn from(lt: LaunchTemplateCall) -> Self {
        Self {
            id: lt.id,
            name: lt.name,
            version: lt.version,
        }
    }
}

/// The `UpdateNodegroupVersion` request, in the API's own field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOutput {
    pub cluster_name: String,
    pub nodegroup_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<LaunchTemplateOutput>,
    pub force: bool,
    pub client_request_token: String,
}

impl From<UpdateCall> for RequestOutput {
    fn from(call: UpdateCall) -> Self {
        Self {
            cluster_name: call.cluster_name,
            nodegroup_name: call.nodegroup_name,
            version: call.version,
            release_version: call.release_version,
            launch_template: call.launch_template.map(Into::into),
            force: call.force,
            client_request_token: call.client_request_token,
        }
    }
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
            status: update.status.to_string(),
            kind: update.kind.to_string(),
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
    use std::time::Duration;

    use super::*;
    use crate::core::live::{UpdateKind, UpdateStatus};
    use crate::core::request::{LaunchTemplateRequest, UpdateRequest};
    use crate::core::version::{MinorVersion, ReleaseVersion};
    use serde_json::json;

    fn target() -> Target {
        Target {
            version: MinorVersion::parse("1.31"),
            release_version: None,
            launch_template: None,
            force: false,
            client_request_token: "t".into(),
            latest: None,
        }
    }

    #[test]
    fn serialises_in_the_documented_shape() {
        let output = Output {
            account_id: Some("111122223333".into()),
            cluster_name: "prod".into(),
            nodegroup_name: "workers".into(),
            outcome: Outcome::Started,
            target: target().into(),
            update: Some(
                UpdateView {
                    id: "u-1".into(),
                    status: UpdateStatus::Failed,
                    kind: UpdateKind::VersionUpdate,
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
                "accountId": "111122223333",
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
    fn target_shows_the_latest_release_and_the_template_as_sent() {
        let request = UpdateRequest::from_json(
            json!({"clusterName": "prod", "nodegroupName": "workers",
                   "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "2"}})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        let launch_template: Option<LaunchTemplateRequest> = request.launch_template().cloned();
        let published = SystemTime::UNIX_EPOCH + Duration::from_secs(1_794_614_400);
        let target = Target {
            launch_template,
            latest: Some(LatestKnown {
                release: ReleaseVersion::parse("1.31.7-20251120").unwrap(),
                published: Some(published),
                age_days: Some(10),
            }),
            ..target()
        };
        let shown = serde_json::to_value(TargetOutput::from(target)).unwrap();
        assert_eq!(
            shown["launchTemplate"],
            json!({"id": "lt-0123456789abcdef0", "version": "2"})
        );
        assert_eq!(shown["latestReleaseVersion"], json!("1.31.7-20251120"));
        assert_eq!(
            shown["latestReleasePublishedAt"],
            json!("2026-11-14T00:00:00Z")
        );
        assert_eq!(shown["latestReleaseAgeDays"], json!(10));
        assert_eq!(
            rfc3339(published + Duration::from_millis(250)),
            "2026-11-14T00:00:00.25Z"
        );
    }

    #[test]
    fn dry_run_request_is_the_api_call() {
        let call = UpdateCall {
            cluster_name: "prod".into(),
            nodegroup_name: "workers".into(),
            version: Some("1.31".into()),
            release_version: None,
            launch_template: None,
            force: false,
            client_request_token: "t-1".into(),
        };
        assert_eq!(
            serde_json::to_value(RequestOutput::from(call)).unwrap(),
            json!({"clusterName": "prod", "nodegroupName": "workers", "version": "1.31", "force": false, "clientRequestToken": "t-1"})
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
