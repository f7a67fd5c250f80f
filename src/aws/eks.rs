//! The EKS adapter: the only code that speaks to `aws-sdk-eks`. It sends what the plan
//! says, through the shared call path, and reads EKS's answers into the core's types.

use aws_sdk_eks::Client;
use aws_sdk_eks::config::Builder as ConfigOverride;
use aws_sdk_eks::types::{LaunchTemplateSpecification, Update};
use aws_smithy_types::date_time::Format;

use super::call::{every_page, send, unusable};
use super::classify::{Call, modeled_errors};
use super::deadline::Deadline;
use crate::core::ami::AmiType;
use crate::core::error::{About, Error, ErrorKind, Subject};
use crate::core::live::{
    ClusterState, ClusterStatus, CurrentRelease, LaunchTemplateState, NodegroupState,
    NodegroupStatus, UpdateErrorView, UpdateKind, UpdateStatus, UpdateView,
};
use crate::core::plan::UpdateCall;
use crate::core::request::ClusterName;
use crate::core::version::MinorVersion;

/// What `UpdateNodegroupVersion` answered.
#[derive(Debug)]
pub enum StartOutcome {
    Started(UpdateView),
    /// `ResourceInUseException`: an update is already running on the node group.
    InUse,
}

/// EKS, as this function uses it.
#[derive(Clone, Debug)]
pub struct Eks {
    client: Client,
}

impl Eks {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub async fn describe_nodegroup(
        &self,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<NodegroupState, Error> {
        let call = Call::eks("DescribeNodegroup");
        let about = About::from(subject);
        let not_found = || {
            format!(
                "node group '{}' does not exist in cluster '{}' (in this account and region); check the names",
                subject.nodegroup, subject.cluster
            )
        };
        let response = send(call, &about, deadline, not_found, |limits| {
            self.client
                .describe_nodegroup()
                .cluster_name(subject.cluster.as_str())
                .nodegroup_name(subject.nodegroup.as_str())
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await?;
        let nodegroup = response
            .nodegroup()
            .ok_or_else(|| unusable(call, &about, "no nodegroup in the response"))?;
        let version = nodegroup
            .version()
            .and_then(MinorVersion::parse_reported)
            .ok_or_else(|| unusable(call, &about, "no readable node group version"))?;
        Ok(NodegroupState {
            version,
            release_version: nodegroup.release_version().map(CurrentRelease::parse),
            ami_type: nodegroup.ami_type().map(|t| AmiType::parse(t.as_str())),
            status: NodegroupStatus::parse(nodegroup.status().map_or("", |s| s.as_str())),
            launch_template: nodegroup.launch_template().map(|lt| LaunchTemplateState {
                id: lt.id().map(str::to_owned),
                name: lt.name().map(str::to_owned),
                version: lt.version().map(str::to_owned),
            }),
            tags: nodegroup
                .tags()
                .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        })
    }

    pub async fn describe_cluster(
        &self,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<ClusterState, Error> {
        self.describe_cluster_for(&subject.cluster, &About::from(subject), deadline)
            .await
    }

    /// `DescribeCluster`, with failures about `about` (a node group, or the whole cluster
    /// when the fleet planner reads it once for all its node groups).
    pub async fn describe_cluster_for(
        &self,
        cluster: &ClusterName,
        about: &About,
        deadline: &Deadline,
    ) -> Result<ClusterState, Error> {
        let call = Call::eks("DescribeCluster");
        let not_found = || {
            format!(
                "cluster '{cluster}' does not exist in this account and region; check the name and the function's region"
            )
        };
        let response = send(call, about, deadline, not_found, |limits| {
            self.client
                .describe_cluster()
                .name(cluster.as_str())
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await?;
        let cluster = response.cluster();
        let version = cluster
            .and_then(|c| c.version())
            .and_then(MinorVersion::parse_reported)
            .ok_or_else(|| unusable(call, about, "no readable cluster version"))?;
        let status = cluster
            .and_then(|c| c.status())
            .map(|s| ClusterStatus::parse(s.as_str()));
        Ok(ClusterState { version, status })
    }

    /// Starts the update the plan decided on.
    pub async fn update_nodegroup_version(
        &self,
        request: &UpdateCall,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<StartOutcome, Error> {
        let call = Call::eks("UpdateNodegroupVersion");
        let about = About::from(subject);
        let not_found = || {
            format!(
                "node group '{}' or cluster '{}' no longer exists",
                subject.nodegroup, subject.cluster
            )
        };
        let launch_template = request.launch_template.as_ref().map(|lt| {
            LaunchTemplateSpecification::builder()
                .set_id(lt.id.clone())
                .set_name(lt.name.clone())
                .set_version(lt.version.clone())
                .build()
        });
        let result = send(call, &about, deadline, not_found, |limits| {
            self.client
                .update_nodegroup_version()
                .cluster_name(&request.cluster_name)
                .nodegroup_name(&request.nodegroup_name)
                .set_version(request.version.clone())
                .set_release_version(request.release_version.clone())
                .set_launch_template(launch_template)
                .force(request.force)
                .client_request_token(&request.client_request_token)
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await;
        match result {
            Ok(response) => {
                let update = response
                    .update()
                    .ok_or_else(|| unusable(call, &about, "no update in the response"))?;
                Ok(StartOutcome::Started(update_view(update, call, &about)?))
            }
            // `ResourceInUseException` is the one failure classified as UpdateInProgress:
            // an update runs already, and step 5 looks for it.
            Err(error) if error.kind() == ErrorKind::UpdateInProgress => {
                tracing::info!(%error, "UpdateNodegroupVersion answered ResourceInUseException; looking for the running update");
                Ok(StartOutcome::InUse)
            }
            Err(error) => Err(error),
        }
    }

    /// The node group's `InProgress` update, if any: every page of `ListUpdates`, then
    /// `DescribeUpdate` from the last listed backwards until one is running.
    pub async fn find_running_update(
        &self,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<Option<UpdateView>, Error> {
        let ids = self.list_update_ids(subject, deadline).await?;
        // Only one update runs on a node group at a time, and it is one of the newest;
        // starting from the end of the list usually finds it with one call.
        for id in ids.iter().rev() {
            let update = match self.describe_update(id, subject, deadline).await {
                Ok(update) => update,
                // Listed but not yet (or no longer) describable: EKS is eventually
                // consistent right after an update starts. It is not the node group that is
                // missing; look at the others, and let a retry see it settled.
                Err(error) if error.kind() == ErrorKind::NotFound => {
                    tracing::info!(update_id = %id, "a listed update could not be described yet");
                    continue;
                }
                Err(other) => return Err(other),
            };
            if update.status == UpdateStatus::InProgress {
                return Ok(Some(update));
            }
        }
        Ok(None)
    }

    async fn list_update_ids(
        &self,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<Vec<String>, Error> {
        let call = Call::eks("ListUpdates");
        let about = About::from(subject);
        let not_found = || {
            format!(
                "node group '{}' or cluster '{}' no longer exists",
                subject.nodegroup, subject.cluster
            )
        };
        every_page(call, &about, |next_token| async {
            let page = send(call, &about, deadline, not_found, |limits| {
                self.client
                    .list_updates()
                    .name(subject.cluster.as_str())
                    .nodegroup_name(subject.nodegroup.as_str())
                    .set_next_token(next_token)
                    .customize()
                    .config_override(ConfigOverride::default().timeout_config(limits))
                    .send()
            })
            .await?;
            Ok((
                page.update_ids().to_vec(),
                page.next_token().map(str::to_owned),
            ))
        })
        .await
    }

    async fn describe_update(
        &self,
        update_id: &str,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<UpdateView, Error> {
        let call = Call::eks("DescribeUpdate");
        let about = About::from(subject);
        let not_found = || format!("update {update_id} of the node group was not found");
        let response = send(call, &about, deadline, not_found, |limits| {
            self.client
                .describe_update()
                .name(subject.cluster.as_str())
                .nodegroup_name(subject.nodegroup.as_str())
                .update_id(update_id)
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await?;
        let update = response
            .update()
            .ok_or_else(|| unusable(call, &about, "no update in the response"))?;
        update_view(update, call, &about)
    }
}

fn update_view(update: &Update, call: Call<'_>, about: &About) -> Result<UpdateView, Error> {
    let id = update
        .id()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| unusable(call, about, "an update without an id"))?;
    Ok(UpdateView {
        id: id.to_owned(),
        status: UpdateStatus::parse(update.status().map_or("", |s| s.as_str())),
        kind: UpdateKind::parse(update.r#type().map_or("", |t| t.as_str())),
        params: update
            .params()
            .iter()
            .filter_map(|p| Some((p.r#type()?.as_str().to_owned(), p.value()?.to_owned())))
            .collect(),
        created_at: update
            .created_at()
            .and_then(|t| t.fmt(Format::DateTime).ok()),
        errors: update
            .errors()
            .iter()
            .map(|e| UpdateErrorView {
                error_code: e.error_code().map(|c| c.as_str().to_owned()),
                error_message: e.error_message().map(str::to_owned),
                resource_ids: e.resource_ids().to_vec(),
            })
            .collect(),
    })
}

modeled_errors! {
    aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupError {
        ResourceNotFoundException => NotFound,
        InvalidParameterException => Rejected,
        ClientException => Rejected,
        ServerException => Server,
        ServiceUnavailableException => Server,
    }
    aws_sdk_eks::operation::describe_cluster::DescribeClusterError {
        ResourceNotFoundException => NotFound,
        ClientException => Rejected,
        ServerException => Server,
        ServiceUnavailableException => Server,
    }
    aws_sdk_eks::operation::update_nodegroup_version::UpdateNodegroupVersionError {
        ResourceNotFoundException => NotFound,
        ResourceInUseException => InUse,
        InvalidParameterException => Rejected,
        InvalidRequestException => Rejected,
        ClientException => Rejected,
        ServerException => Server,
    }
    aws_sdk_eks::operation::list_updates::ListUpdatesError {
        ResourceNotFoundException => NotFound,
        InvalidParameterException => Rejected,
        ClientException => Rejected,
        ServerException => Server,
    }
    aws_sdk_eks::operation::describe_update::DescribeUpdateError {
        ResourceNotFoundException => NotFound,
        InvalidParameterException => Rejected,
        ClientException => Rejected,
        ServerException => Server,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_eks::types::{AmiTypes, ClusterStatus as SdkClusterStatus};
    use aws_sdk_eks::types::{
        NodegroupStatus as SdkNodegroupStatus, UpdateStatus as SdkUpdateStatus, UpdateType,
    };

    use super::*;
    use crate::core::ami::AmiFamily;

    /// The core's tables follow the SDK: a value the SDK gained fails here, naming where
    /// to add it.
    #[test]
    fn every_sdk_ami_type_is_in_the_core_table() {
        for value in AmiTypes::values() {
            let ami = AmiType::parse(value);
            assert!(
                matches!(ami, AmiType::Known(_)),
                "{value} is missing from core::ami::RELEASE_SOURCES: add where its releases are published (or ReleaseSource::None)"
            );
            assert_ne!(
                ami.family(),
                AmiFamily::Unknown,
                "{value} has no AMI family"
            );
        }
    }

    #[test]
    fn every_sdk_status_and_kind_has_a_variant() {
        for value in SdkNodegroupStatus::values() {
            assert!(
                !matches!(NodegroupStatus::parse(value), NodegroupStatus::Other(_)),
                "NodegroupStatus lacks {value}"
            );
        }
        for value in SdkClusterStatus::values() {
            assert!(
                !matches!(ClusterStatus::parse(value), ClusterStatus::Other(_)),
                "ClusterStatus lacks {value}"
            );
        }
        for value in SdkUpdateStatus::values() {
            assert!(
                !matches!(UpdateStatus::parse(value), UpdateStatus::Other(_)),
                "UpdateStatus lacks {value}"
            );
        }
        for value in UpdateType::values() {
            assert!(
                !matches!(UpdateKind::parse(value), UpdateKind::Other(_)),
                "UpdateKind lacks {value}"
            );
        }
    }
}
