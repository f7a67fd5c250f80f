//! What the planner saw of one cluster, as it keeps it in the bucket between the `observe`
//! step (one invocation per cluster) and the `decide` step (one for the roll). Live state
//! is kept in the API's own words and read back through the same parsers the EKS adapter
//! uses, so `decide` plans exactly what `observe` saw.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::wave::request_json;
use crate::core::ami::AmiType;
use crate::core::error::{About, Error, ErrorKind};
use crate::core::fleet::assign::Assigned;
use crate::core::fleet::planning::{Observation, Observed};
use crate::core::live::{
    ClusterState, ClusterStatus, CurrentRelease, LaunchTemplateState, NodegroupState,
    NodegroupStatus, UpdateErrorView, UpdateKind, UpdateStatus, UpdateView,
};
use crate::core::request::UpdateRequest;
use crate::core::version::MinorVersion;

/// One cluster's observation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterCheckpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub cluster: String,
    /// Its targets, in report order.
    pub targets: Vec<TargetCheckpoint>,
    /// Set when the cluster itself could not be read (`DescribeCluster`, `ListNodegroups`)
    /// and a selector names it: its discovered node groups are unknown.
    pub failure: Option<ErrorCheckpoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetCheckpoint {
    /// The request, as the updater takes it.
    pub request: Value,
    pub wave: u8,
    pub selector: Option<usize>,
    pub target: Option<usize>,
    #[serde(flatten)]
    pub observation: ObservationCheckpoint,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ObservationCheckpoint {
    Seen(Box<SeenCheckpoint>),
    Failed(ErrorCheckpoint),
    ControlPlaneStillUpdating(ErrorCheckpoint),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorCheckpoint {
    pub error_type: String,
    pub message: String,
    pub update_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeenCheckpoint {
    pub version: String,
    pub release_version: Option<String>,
    pub ami_type: Option<String>,
    pub status: String,
    pub launch_template: Option<LaunchTemplateCheckpoint>,
    pub tags: BTreeMap<String, String>,
    pub cluster_version: String,
    pub cluster_status: Option<String>,
    pub running: Option<UpdateCheckpoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchTemplateCheckpoint {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCheckpoint {
    pub id: String,
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub params: Vec<(String, String)>,
    pub created_at: Option<String>,
    pub errors: Vec<UpdateErrorCheckpoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateErrorCheckpoint {
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub resource_ids: Vec<String>,
}

impl ErrorCheckpoint {
    pub fn of(error: &Error) -> Self {
        Self {
            error_type: error.error_type().to_owned(),
            message: error.to_string(),
            update_id: error.update_id().map(str::to_owned),
        }
    }

    /// The error again, with the same type, text and update.
    pub fn error(&self) -> Result<Error, String> {
        let kind = ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == self.error_type)
            .ok_or_else(|| format!("{:?} is not an errorType", self.error_type))?;
        let error = Error::about(kind, About::Input, self.message.clone());
        Ok(match &self.update_id {
            Some(id) => error.with_update_id(id.clone()),
            None => error,
        })
    }
}

impl TargetCheckpoint {
    pub fn new(assigned: &Assigned, observation: &Observation) -> Self {
        Self {
            request: request_json(&assigned.request),
            wave: assigned.wave,
            selector: assigned.selector,
            target: assigned.target,
            observation: match observation {
                Observation::Seen(observed) => {
                    ObservationCheckpoint::Seen(Box::new(seen(observed)))
                }
                Observation::Failed(error) => {
                    ObservationCheckpoint::Failed(ErrorCheckpoint::of(error))
                }
                Observation::ControlPlaneStillUpdating(error) => {
                    ObservationCheckpoint::ControlPlaneStillUpdating(ErrorCheckpoint::of(error))
                }
            },
        }
    }

    /// The target as the core plans it.
    pub fn restore(&self) -> Result<(Assigned, Observation), String> {
        let Value::Object(object) = &self.request else {
            return Err("a target's request is not an object".to_owned());
        };
        let request = UpdateRequest::from_json(object).map_err(|e| e.to_string())?;
        let assigned = Assigned {
            request,
            wave: self.wave,
            selector: self.selector,
            target: self.target,
        };
        let observation = match &self.observation {
            ObservationCheckpoint::Seen(seen) => Observation::Seen(Box::new(seen.restore()?)),
            ObservationCheckpoint::Failed(error) => Observation::Failed(error.error()?),
            ObservationCheckpoint::ControlPlaneStillUpdating(error) => {
                Observation::ControlPlaneStillUpdating(error.error()?)
            }
        };
        Ok((assigned, observation))
    }
}

fn seen(observed: &Observed) -> SeenCheckpoint {
    let nodegroup = &observed.nodegroup;
    SeenCheckpoint {
        version: nodegroup.version.to_string(),
        release_version: nodegroup.release_version.as_ref().map(|r| match r {
            CurrentRelease::Parsed(release) => release.to_string(),
            CurrentRelease::Unreadable(text) => text.clone(),
        }),
        ami_type: nodegroup.ami_type.as_ref().map(|a| a.as_str().to_owned()),
        status: nodegroup.status.as_str().to_owned(),
        launch_template: nodegroup
            .launch_template
            .as_ref()
            .map(|lt| LaunchTemplateCheckpoint {
                id: lt.id.clone(),
                name: lt.name.clone(),
                version: lt.version.clone(),
            }),
        tags: nodegroup.tags.clone(),
        cluster_version: observed.cluster.version.to_string(),
        cluster_status: observed
            .cluster
            .status
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        running: observed.running.as_ref().map(|u| UpdateCheckpoint {
            id: u.id.clone(),
            status: u.status.as_str().to_owned(),
            kind: u.kind.as_str().to_owned(),
            params: u.params.clone(),
            created_at: u.created_at.clone(),
            errors: u
                .errors
                .iter()
                .map(|e| UpdateErrorCheckpoint {
                    error_code: e.error_code.clone(),
                    error_message: e.error_message.clone(),
                    resource_ids: e.resource_ids.clone(),
                })
                .collect(),
        }),
    }
}

impl SeenCheckpoint {
    fn restore(&self) -> Result<Observed, String> {
        let minor = |text: &str| {
            MinorVersion::parse_reported(text)
                .ok_or_else(|| format!("{text:?} is not a Kubernetes version"))
        };
        Ok(Observed {
            nodegroup: NodegroupState {
                version: minor(&self.version)?,
                release_version: self.release_version.as_deref().map(CurrentRelease::parse),
                ami_type: self.ami_type.as_deref().map(AmiType::parse),
                status: NodegroupStatus::parse(&self.status),
                launch_template: self.launch_template.as_ref().map(|lt| LaunchTemplateState {
                    id: lt.id.clone(),
                    name: lt.name.clone(),
                    version: lt.version.clone(),
                }),
                tags: self.tags.clone(),
            },
            cluster: ClusterState {
                version: minor(&self.cluster_version)?,
                status: self.cluster_status.as_deref().map(ClusterStatus::parse),
            },
            running: self.running.as_ref().map(|u| UpdateView {
                id: u.id.clone(),
                status: UpdateStatus::parse(&u.status),
                kind: UpdateKind::parse(&u.kind),
                params: u.params.clone(),
                created_at: u.created_at.clone(),
                errors: u
                    .errors
                    .iter()
                    .map(|e| UpdateErrorView {
                        error_code: e.error_code.clone(),
                        error_message: e.error_message.clone(),
                        resource_ids: e.resource_ids.clone(),
                    })
                    .collect(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::error::Subject;

    fn assigned() -> Assigned {
        let request = UpdateRequest::from_json(
            json!({"clusterName": "prod", "nodegroupName": "web", "version": "cluster",
                   "minReleaseAgeDays": 7, "launchTemplate": {"name": "web-lt", "version": "$Latest"}})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        Assigned {
            request,
            wave: 3,
            selector: Some(1),
            target: None,
        }
    }

    fn observed() -> Observed {
        Observed {
            nodegroup: NodegroupState {
                version: MinorVersion::new(1, 30),
                release_version: Some(CurrentRelease::parse("not-a-release")),
                ami_type: Some(AmiType::parse("SOMETHING_NEW")),
                status: NodegroupStatus::parse("UPDATING"),
                launch_template: Some(LaunchTemplateState {
                    id: Some("lt-1".into()),
                    name: Some("lt".into()),
                    version: Some("4".into()),
                }),
                tags: [("team".to_owned(), "web".to_owned())].into(),
            },
            cluster: ClusterState {
                version: MinorVersion::new(1, 31),
                status: Some(ClusterStatus::parse("PENDING_SOMETHING")),
            },
            running: Some(UpdateView {
                id: "u-1".into(),
                status: UpdateStatus::InProgress,
                kind: UpdateKind::VersionUpdate,
                params: vec![("Version".into(), "1.31".into())],
                created_at: Some("2026-11-30T01:02:03Z".into()),
                errors: vec![UpdateErrorView {
                    error_code: Some("PodEvictionFailure".into()),
                    error_message: Some("m".into()),
                    resource_ids: vec!["i-1".into()],
                }],
            }),
        }
    }

    fn round_trip(observation: Observation) -> (Assigned, Observation) {
        let checkpoint = TargetCheckpoint::new(&assigned(), &observation);
        let text = serde_json::to_string(&checkpoint).unwrap();
        let back: TargetCheckpoint = serde_json::from_str(&text).unwrap();
        back.restore().unwrap()
    }

    #[test]
    fn what_observe_saw_is_what_decide_plans() {
        let (assigned_back, observation) = round_trip(Observation::Seen(Box::new(observed())));
        assert_eq!(assigned_back, assigned());
        let Observation::Seen(seen) = observation else {
            panic!("not seen")
        };
        assert_eq!(*seen, observed());
    }

    #[test]
    fn an_error_keeps_its_type_text_and_update() {
        let subject = Subject {
            cluster: crate::core::request::ClusterName::parse("prod").unwrap(),
            nodegroup: crate::core::request::NodegroupName::parse("web").unwrap(),
        };
        let error = Error::new(ErrorKind::UpdateInProgress, &subject, "busy").with_update_id("u-9");
        let text = error.to_string();
        let (_, observation) = round_trip(Observation::ControlPlaneStillUpdating(error));
        let Observation::ControlPlaneStillUpdating(back) = observation else {
            panic!("kind of observation lost")
        };
        assert_eq!(back.kind(), ErrorKind::UpdateInProgress);
        assert_eq!(back.to_string(), text);
        assert_eq!(back.update_id(), Some("u-9"));
        let bad = ErrorCheckpoint {
            error_type: "Nope".into(),
            message: String::new(),
            update_id: None,
        };
        assert!(bad.error().unwrap_err().contains("Nope"));
    }
}
