//! The EKS adapter: the only code that speaks to `aws-sdk-eks`. It sends what the plan
//! says, bounds every call in time, and turns SDK answers and errors into our own types.

use std::collections::HashSet;

use aws_sdk_eks::Client;
use aws_sdk_eks::error::DisplayErrorContext;
use aws_sdk_eks::types::{LaunchTemplateSpecification, Update};
use aws_smithy_types::date_time::Format;

use crate::deadline::Deadline;
use crate::error::{Error, Subject};
use crate::plan::UpdateCall;
use crate::sdk_error::{Call, classify, modeled_errors};
use crate::state::{
    ClusterState, LaunchTemplateState, NodegroupState, UpdateErrorView, UpdateView,
};
use crate::version::MinorVersion;

/// Pages of `ListUpdates` read at most: far beyond any real node group's history, but a
/// server that keeps answering a `nextToken` cannot hold the invocation forever.
const MAX_LIST_PAGES: usize = 1000;

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
        const OP: &str = "DescribeNodegroup";
        let response = self
            .client
            .describe_nodegroup()
            .cluster_name(&subject.cluster)
            .nodegroup_name(&subject.nodegroup)
            .customize()
            .config_override(timeouts(OP, subject, deadline)?)
            .send()
            .await
            .map_err(|e| {
                classify(e, eks_call(OP), subject, || {
                    format!(
                        "node group '{}' does not exist in cluster '{}' (in this account and region); check the names",
                        subject.nodegroup, subject.cluster
                    )
                })
            })?;
        let nodegroup = response
            .nodegroup()
            .ok_or_else(|| unreadable(OP, subject, "no nodegroup in the response"))?;
        let version = nodegroup
            .version()
            .and_then(MinorVersion::parse_reported)
            .ok_or_else(|| unreadable(OP, subject, "no readable node group version"))?;
        Ok(NodegroupState {
            version,
            release_version: nodegroup.release_version().map(str::to_owned),
            ami_type: nodegroup.ami_type().map(|t| t.as_str().to_owned()),
            status: nodegroup
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            launch_template: nodegroup.launch_template().map(|lt| LaunchTemplateState {
                id: lt.id().map(str::to_owned),
                name: lt.name().map(str::to_owned),
                version: lt.version().map(str::to_owned),
            }),
        })
    }

    pub async fn describe_cluster(
        &self,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<ClusterState, Error> {
        const OP: &str = "DescribeCluster";
        let response = self
            .client
            .describe_cluster()
            .name(&subject.cluster)
            .customize()
            .config_override(timeouts(OP, subject, deadline)?)
            .send()
            .await
            .map_err(|e| {
                classify(e, eks_call(OP), subject, || {
                    format!(
                        "cluster '{}' does not exist in this account and region; check the name and the function's region",
                        subject.cluster
                    )
                })
            })?;
        let cluster = response.cluster();
        let version = cluster
            .and_then(|c| c.version())
            .and_then(MinorVersion::parse_reported)
            .ok_or_else(|| unreadable(OP, subject, "no readable cluster version"))?;
        let status = cluster
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        Ok(ClusterState { version, status })
    }

    /// Starts the update the plan decided on.
    pub async fn update_nodegroup_version(
        &self,
        call: &UpdateCall,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<StartOutcome, Error> {
        const OP: &str = "UpdateNodegroupVersion";
        let launch_template = call.launch_template.as_ref().map(|lt| {
            LaunchTemplateSpecification::builder()
                .set_id(lt.id.clone())
                .set_name(lt.name.clone())
                .set_version(lt.version.clone())
                .build()
        });
        let result = self
            .client
            .update_nodegroup_version()
            .cluster_name(&call.cluster_name)
            .nodegroup_name(&call.nodegroup_name)
            .set_version(call.version.clone())
            .set_release_version(call.release_version.clone())
            .set_launch_template(launch_template)
            .force(call.force)
            .client_request_token(&call.client_request_token)
            .customize()
            .config_override(timeouts(OP, subject, deadline)?)
            .send()
            .await;
        match result {
            Ok(response) => {
                let update = response
                    .update()
                    .ok_or_else(|| unreadable(OP, subject, "no update in the response"))?;
                Ok(StartOutcome::Started(update_view(update, OP, subject)?))
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                tracing::info!(
                    error = %DisplayErrorContext(&e),
                    "UpdateNodegroupVersion answered ResourceInUseException; looking for the running update"
                );
                Ok(StartOutcome::InUse)
            }
            Err(e) => Err(classify(e, eks_call(OP), subject, || {
                format!(
                    "node group '{}' or cluster '{}' no longer exists",
                    subject.nodegroup, subject.cluster
                )
            })),
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
                Err(Error::NotFound { .. }) => {
                    tracing::info!(update_id = %id, "a listed update could not be described yet");
                    continue;
                }
                Err(other) => return Err(other),
            };
            if update.status == "InProgress" {
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
        const OP: &str = "ListUpdates";
        let mut ids = Vec::new();
        let mut next_token: Option<String> = None;
        let mut seen_tokens = HashSet::new();
        for _ in 0..MAX_LIST_PAGES {
            let page = self
                .client
                .list_updates()
                .name(&subject.cluster)
                .nodegroup_name(&subject.nodegroup)
                .set_next_token(next_token.take())
                .customize()
                .config_override(timeouts(OP, subject, deadline)?)
                .send()
                .await
                .map_err(|e| {
                    classify(e, eks_call(OP), subject, || {
                        format!(
                            "node group '{}' or cluster '{}' no longer exists",
                            subject.nodegroup, subject.cluster
                        )
                    })
                })?;
            ids.extend(page.update_ids().iter().cloned());
            match page.next_token() {
                Some(token) if !token.is_empty() => {
                    if !seen_tokens.insert(token.to_owned()) {
                        return Err(unreadable(
                            OP,
                            subject,
                            "the same nextToken came back twice",
                        ));
                    }
                    next_token = Some(token.to_owned());
                }
                _ => return Ok(ids),
            }
        }
        Err(unreadable(
            OP,
            subject,
            &format!("more than {MAX_LIST_PAGES} pages of updates"),
        ))
    }

    async fn describe_update(
        &self,
        update_id: &str,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<UpdateView, Error> {
        const OP: &str = "DescribeUpdate";
        let response = self
            .client
            .describe_update()
            .name(&subject.cluster)
            .nodegroup_name(&subject.nodegroup)
            .update_id(update_id)
            .customize()
            .config_override(timeouts(OP, subject, deadline)?)
            .send()
            .await
            .map_err(|e| {
                classify(e, eks_call(OP), subject, || {
                    format!("update {update_id} of the node group was not found")
                })
            })?;
        let update = response
            .update()
            .ok_or_else(|| unreadable(OP, subject, "no update in the response"))?;
        update_view(update, OP, subject)
    }
}

/// The per-call timeout override, or `ServiceError` when the deadline leaves no time.
fn timeouts(
    op: &str,
    subject: &Subject,
    deadline: &Deadline,
) -> Result<aws_sdk_eks::config::Builder, Error> {
    let config = deadline.next_call().ok_or_else(|| Error::ServiceError {
        subject: subject.clone(),
        message: format!(
            "no time left before the invocation's deadline to call EKS {op}; retry, or raise the function's timeout"
        ),
        source: None,
    })?;
    Ok(aws_sdk_eks::config::Builder::default().timeout_config(config))
}

fn update_view(update: &Update, op: &str, subject: &Subject) -> Result<UpdateView, Error> {
    let id = update
        .id()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| unreadable(op, subject, "an update without an id"))?;
    Ok(UpdateView {
        id: id.to_owned(),
        status: update
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        kind: update
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
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

fn eks_call(op: &str) -> Call<'_> {
    Call {
        service: "EKS",
        iam_prefix: "eks",
        op,
    }
}

fn unreadable(op: &str, subject: &Subject, what: &str) -> Error {
    Error::ServiceError {
        subject: subject.clone(),
        message: format!("EKS {op} gave an unusable answer ({what}); retry later"),
        source: None,
    }
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
