//! Step 8's request: the exact `UpdateNodegroupVersion` call, which the EKS adapter sends
//! and a dry run reports.

use super::Target;
use crate::core::request::{LaunchTemplateRequest, TemplateSelector, UpdateRequest};

/// The fields of `UpdateNodegroupVersion`, as they will be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateCall {
    pub cluster_name: String,
    pub nodegroup_name: String,
    /// `None` for a custom-AMI node group, whose version is never sent.
    pub version: Option<String>,
    pub release_version: Option<String>,
    pub launch_template: Option<LaunchTemplateCall>,
    pub force: bool,
    pub client_request_token: String,
}

/// The launch template of an update request: id or name, never both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchTemplateCall {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

impl LaunchTemplateCall {
    pub fn from_request(lt: &LaunchTemplateRequest) -> Self {
        let (id, name) = match lt.selector() {
            TemplateSelector::Id(id) => (Some(id.clone()), None),
            TemplateSelector::Name(name) => (None, Some(name.clone())),
        };
        Self {
            id,
            name,
            version: lt.version().map(ToString::to_string),
        }
    }
}

impl UpdateCall {
    pub fn new(request: &UpdateRequest, target: &Target) -> Self {
        Self {
            cluster_name: request.cluster().to_string(),
            nodegroup_name: request.nodegroup().to_string(),
            version: target.version.map(|v| v.to_string()),
            release_version: target.release_version.as_ref().map(|r| r.to_string()),
            launch_template: target
                .launch_template
                .as_ref()
                .map(LaunchTemplateCall::from_request),
            force: target.force,
            client_request_token: target.client_request_token.clone(),
        }
    }
}
