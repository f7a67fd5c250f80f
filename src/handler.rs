//! The imperative shell: one invocation from payload to output, in DESIGN's order. The
//! decisions are `plan`'s; this module only reads, calls and reports.

use std::time::{Instant, SystemTime};

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::allowlist::Allowlist;
use crate::deadline::{CallLimits, Deadline};
use crate::eks::{Eks, StartOutcome};
use crate::error::{Error, Subject};
use crate::event::{self, RawPayload};
use crate::output::{Outcome, Output};
use crate::plan::{self, Decision, Refusal, Target, UpdateCall};
use crate::request::{UpdateRequest, VersionRequest};
use crate::ssm::Ssm;
use crate::state::{LatestRelease, NodegroupState};
use crate::version::MinorVersion;

/// What the function reads from its environment once, at start.
#[derive(Clone, Debug)]
pub struct Config {
    pub allowlist: Allowlist,
    pub limits: CallLimits,
}

impl Config {
    /// `ALLOWED_CLUSTERS` (unset: any cluster); the AWS SDK reads its own variables.
    pub fn from_env() -> Self {
        Self {
            allowlist: Allowlist::parse(std::env::var("ALLOWED_CLUSTERS").ok().as_deref()),
            limits: CallLimits::default(),
        }
    }
}

/// The function: built once per process, shared by every invocation.
#[derive(Clone, Debug)]
pub struct Updater {
    eks: Eks,
    ssm: Ssm,
    config: Config,
}

impl Updater {
    pub fn new(eks: Eks, ssm: Ssm, config: Config) -> Self {
        if let Allowlist::Broken { reason } = &config.allowlist {
            tracing::error!(%reason, "every invocation will be answered NotAllowed until ALLOWED_CLUSTERS is fixed");
        }
        Self { eks, ssm, config }
    }

    /// The Lambda entry point: runs one invocation and writes its summary log line.
    pub async fn handle(&self, event: LambdaEvent<RawPayload>) -> Result<Output, Error> {
        let started = Instant::now();
        let (RawPayload(payload), context) = event.into_parts();
        let payload = match payload {
            Ok(payload) => payload,
            Err(problem) => {
                let result = Err(Error::InvalidInput {
                    message: format!("the payload is not a usable JSON request: {problem}"),
                });
                log_summary(&Value::Null, &result, started);
                return result;
            }
        };
        let deadline = Deadline::new(context.deadline(), self.config.limits);
        let result = self.run(&payload, &context.request_id, &deadline).await;
        log_summary(&payload, &result, started);
        result
    }

    /// One invocation, without the Lambda context: the payload, the identity to use when
    /// the payload carries none, and the deadline.
    pub async fn run(
        &self,
        payload: &Value,
        request_id: &str,
        deadline: &Deadline,
    ) -> Result<Output, Error> {
        let invocation = event::parse(payload, request_id).map_err(|e| Error::InvalidInput {
            message: e.to_string(),
        })?;
        let request = &invocation.request;
        let subject = Subject {
            cluster: request.cluster().to_string(),
            nodegroup: request.nodegroup().to_string(),
        };

        // Step 1: before any AWS call.
        self.config
            .allowlist
            .check(&subject.cluster)
            .map_err(|message| Error::NotAllowed {
                subject: subject.clone(),
                message,
            })?;

        // Step 2: both reads at once; a missing cluster is reported before the node group
        // that cannot exist without it. Where the target minor does not depend on the
        // cluster, the latest release is read while DescribeCluster is still under way.
        let nodegroup_and_latest = async {
            let nodegroup = self.eks.describe_nodegroup(&subject, deadline).await?;
            let minor = match request.version() {
                VersionRequest::Explicit(minor) => Some(minor),
                VersionRequest::Current => Some(nodegroup.version),
                VersionRequest::Cluster => None,
            };
            let latest = match minor {
                Some(minor) => Some(
                    self.latest_release(request, &nodegroup, minor, &subject, deadline)
                        .await,
                ),
                None => None,
            };
            Ok::<_, Error>((nodegroup, latest))
        };
        let (nodegroup_and_latest, cluster) = tokio::join!(
            nodegroup_and_latest,
            self.eks.describe_cluster(&subject, deadline)
        );
        let cluster = cluster?;
        let (nodegroup, latest) = nodegroup_and_latest?;
        let (latest, ssm_error) = match latest {
            Some(latest) => latest,
            None => {
                let minor = plan::target_minor(request, &nodegroup, &cluster);
                self.latest_release(request, &nodegroup, minor, &subject, deadline)
                    .await
            }
        };

        // Steps 3-7.
        let plan = plan::plan(
            request,
            &invocation.event_id,
            &nodegroup,
            &cluster,
            &latest,
            SystemTime::now(),
        )
        .map_err(|refusal| match refusal {
            Refusal::Precondition(message) => Error::PreconditionFailed {
                subject: subject.clone(),
                message,
            },
            Refusal::Busy(message) => Error::UpdateInProgress {
                subject: subject.clone(),
                message,
                update_id: None,
            },
            // The soak gate cannot see: report why the read failed, under its own name.
            Refusal::SoakGateBlind(reason) => match ssm_error {
                Some(error) => error.with_context(&reason),
                None => Error::ServiceError {
                    subject: subject.clone(),
                    message: format!("{reason}; retry later"),
                    source: None,
                },
            },
        })?;
        let call = UpdateCall::new(request, &plan.target);
        let output = |outcome, update, request| Output {
            cluster_name: subject.cluster.clone(),
            nodegroup_name: subject.nodegroup.clone(),
            outcome,
            target: plan.target.clone(),
            update,
            request,
        };
        let started = match plan.decision {
            Decision::UpToDate => return Ok(output(Outcome::UpToDate, None, None)),
            Decision::Deferred => return Ok(output(Outcome::Deferred, None, None)),
            Decision::DryRun => return Ok(output(Outcome::DryRun, None, Some(call))),
            Decision::FindRunning => None,
            // Step 8.
            Decision::Start => match self
                .eks
                .update_nodegroup_version(&call, &subject, deadline)
                .await?
            {
                StartOutcome::Started(update) => Some(update),
                StartOutcome::InUse => None,
            },
        };
        match started {
            Some(update) => Ok(output(Outcome::Started, Some(update.into()), None)),
            // Step 5: the node group is UPDATING, or EKS said so.
            None => {
                let update = self
                    .running_update(&plan.target, &subject, deadline)
                    .await?;
                Ok(output(
                    Outcome::AlreadyInProgress,
                    Some(update.into()),
                    None,
                ))
            }
        }
    }

    /// The newest release for the node group's AMI type at `minor`, when step 6 needs it,
    /// with the read's failure kept for a soak gate that must report it.
    async fn latest_release(
        &self,
        request: &UpdateRequest,
        nodegroup: &NodegroupState,
        minor: MinorVersion,
        subject: &Subject,
        deadline: &Deadline,
    ) -> (LatestRelease, Option<Error>) {
        let parameter = match plan::latest_release_lookup(request, nodegroup, minor) {
            None => return (LatestRelease::NotNeeded, None),
            Some(None) => return (LatestRelease::Unpublished { parameter: None }, None),
            Some(Some(parameter)) => parameter,
        };
        match self.ssm.latest_release(&parameter, subject, deadline).await {
            Ok(Some(found)) => (
                LatestRelease::Known {
                    release: found.release,
                    published: found.published,
                },
                None,
            ),
            Ok(None) => (
                LatestRelease::Unpublished {
                    parameter: Some(parameter),
                },
                None,
            ),
            Err(error) => {
                let consequence = if request.min_release_age_days().is_some() {
                    "the soak gate cannot check the release's age: nothing will be started"
                } else {
                    "the latest release is unknown: letting EKS choose the release"
                };
                tracing::warn!(
                    cluster = %subject.cluster,
                    nodegroup = %subject.nodegroup,
                    parameter,
                    error_type = error.error_type(),
                    error = %error,
                    consequence,
                    "reading the latest release from SSM failed"
                );
                (LatestRelease::Unreadable { parameter }, Some(error))
            }
        }
    }

    /// Step 5: the running update if it is the one asked for, else `UpdateInProgress`.
    async fn running_update(
        &self,
        target: &Target,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<crate::state::UpdateView, Error> {
        let Some(update) = self.eks.find_running_update(subject, deadline).await? else {
            // The update ended between the two reads: the next attempt sees the new state.
            return Err(Error::UpdateInProgress {
                subject: subject.clone(),
                message: "the node group is busy but no update is InProgress any more (it has just ended); retry to see its new state".to_owned(),
                update_id: None,
            });
        };
        match plan::match_running(target, &update) {
            Ok(()) => Ok(update),
            Err(difference) => Err(Error::UpdateInProgress {
                subject: subject.clone(),
                message: format!(
                    "{difference}; retry with back-off once update {} has ended",
                    update.id
                ),
                update_id: Some(update.id),
            }),
        }
    }
}

/// One line per invocation: cluster, node group, outcome or errorType, update id, duration.
fn log_summary(payload: &Value, result: &Result<Output, Error>, started: Instant) {
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(output) => tracing::info!(
            cluster = %output.cluster_name,
            nodegroup = %output.nodegroup_name,
            outcome = output.outcome.as_str(),
            update_id = output.update.as_ref().map(|u| u.id.as_str()),
            duration_ms,
            "node group request done"
        ),
        Err(error) => {
            // The request may not have parsed; name what can be read, shortened.
            let field = |name: &str| -> Option<String> {
                let object = match payload.get("detail") {
                    Some(detail @ Value::Object(_)) => detail,
                    _ => payload,
                };
                object
                    .get(name)
                    .and_then(Value::as_str)
                    .map(|s| s.chars().take(100).collect())
            };
            let cause = std::error::Error::source(error)
                .map(|s| aws_smithy_types::error::display::DisplayErrorContext(s).to_string());
            let update_id = match error {
                Error::UpdateInProgress { update_id, .. } => update_id.as_deref(),
                _ => None,
            };
            tracing::warn!(
                cluster = field("clusterName"),
                nodegroup = field("nodegroupName"),
                error_type = error.error_type(),
                retryable = error.is_retryable(),
                update_id,
                duration_ms,
                error = %error,
                cause,
                "node group request failed"
            );
        }
    }
}
