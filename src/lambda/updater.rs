//! The updater's handler, the imperative shell of one invocation: it reads, calls and
//! reports in the contract's order (ARCHITECTURE.md, "One invocation"); every decision is
//! the core's.

use std::time::{Instant, SystemTime};

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use super::config::Config;
use super::output::{Outcome, Output};
use super::payload::{self, RawPayload};
use crate::aws::deadline::Deadline;
use crate::aws::eks::{Eks, StartOutcome};
use crate::aws::ssm::Ssm;
use crate::core::allowlist::Allowlist;
use crate::core::error::{Error, ErrorKind, Subject};
use crate::core::live::{ClusterState, NodegroupState, UpdateView};
use crate::core::plan::{self, Decision, LatestRelease, Live, Plan, ReleaseLookup, UpdateCall};
use crate::core::request::UpdateRequest;

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
                let result = Err(Error::invalid_input(format!(
                    "the payload is not a usable JSON request: {problem}"
                )));
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
        let invocation = payload::parse(payload, request_id)
            .map_err(|problem| Error::invalid_input(problem.to_string()))?;
        let request = &invocation.request;
        let subject = request.subject();
        self.check_allowed(&subject)?;
        let (nodegroup, cluster) = self.read_live_state(&subject, deadline).await?;
        let live = Live::new(request, &nodegroup, &cluster);
        let latest = self
            .latest_release(request, live.release_lookup(), &subject, deadline)
            .await;
        let plan = live
            .plan(&invocation.event_id, latest, SystemTime::now())
            .map_err(|refusal| refusal.into_error(&subject))?;
        self.act(request, plan, &subject, deadline).await
    }

    /// Step 1: before any AWS call.
    fn check_allowed(&self, subject: &Subject) -> Result<(), Error> {
        self.config
            .allowlist
            .check(subject.cluster.as_str())
            .map_err(|message| Error::new(ErrorKind::NotAllowed, subject, message))
    }

    /// Step 2: both reads at once; a missing cluster is reported before the node group
    /// that cannot exist without it.
    async fn read_live_state(
        &self,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<(NodegroupState, ClusterState), Error> {
        let (nodegroup, cluster) = tokio::join!(
            self.eks.describe_nodegroup(subject, deadline),
            self.eks.describe_cluster(subject, deadline)
        );
        let cluster = cluster?;
        Ok((nodegroup?, cluster))
    }

    /// Step 6's read: the newest release for the node group's AMI type at the target
    /// minor, when the plan needs it. A failed read is data for the plan (the soak gate
    /// reports it), not a failure of the invocation.
    async fn latest_release(
        &self,
        request: &UpdateRequest,
        lookup: ReleaseLookup,
        subject: &Subject,
        deadline: &Deadline,
    ) -> LatestRelease {
        let parameter = match lookup {
            ReleaseLookup::NotNeeded => return LatestRelease::NotNeeded,
            ReleaseLookup::NothingPublished => {
                return LatestRelease::Unpublished { parameter: None };
            }
            ReleaseLookup::Read(parameter) => parameter,
        };
        match self.ssm.latest_release(&parameter, subject, deadline).await {
            Ok(found) => LatestRelease::found(parameter, found),
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
                LatestRelease::Unreadable { parameter, error }
            }
        }
    }

    /// Steps 5 and 8: what the plan decided, done.
    async fn act(
        &self,
        request: &UpdateRequest,
        plan: Plan,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<Output, Error> {
        let call = UpdateCall::new(request, &plan.target);
        let answer = |outcome, update: Option<UpdateView>, request: Option<UpdateCall>| Output {
            cluster_name: subject.cluster.to_string(),
            nodegroup_name: subject.nodegroup.to_string(),
            outcome,
            target: plan.target.clone().into(),
            update: update.map(Into::into),
            request: request.map(Into::into),
        };
        match plan.decision {
            Decision::UpToDate => Ok(answer(Outcome::UpToDate, None, None)),
            Decision::Deferred => Ok(answer(Outcome::Deferred, None, None)),
            Decision::DryRun => Ok(answer(Outcome::DryRun, None, Some(call))),
            Decision::Start => match self
                .eks
                .update_nodegroup_version(&call, subject, deadline)
                .await?
            {
                StartOutcome::Started(update) => Ok(answer(Outcome::Started, Some(update), None)),
                StartOutcome::InUse => {
                    let update = self.running_update(&plan, subject, deadline).await?;
                    Ok(answer(Outcome::AlreadyInProgress, Some(update), None))
                }
            },
            Decision::FindRunning => {
                let update = self.running_update(&plan, subject, deadline).await?;
                Ok(answer(Outcome::AlreadyInProgress, Some(update), None))
            }
        }
    }

    /// Step 5: the running update if it is the one asked for, else `UpdateInProgress`.
    async fn running_update(
        &self,
        plan: &Plan,
        subject: &Subject,
        deadline: &Deadline,
    ) -> Result<UpdateView, Error> {
        let running = self.eks.find_running_update(subject, deadline).await?;
        plan::judge_running(&plan.target, running).map_err(|refusal| refusal.into_error(subject))
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
            // A request that did not parse has no subject; name what can be read of it,
            // shortened.
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
            let (cluster, nodegroup) = match error.subject() {
                Some(subject) => (
                    Some(subject.cluster.to_string()),
                    Some(subject.nodegroup.to_string()),
                ),
                None => (field("clusterName"), field("nodegroupName")),
            };
            tracing::warn!(
                cluster,
                nodegroup,
                error_type = error.error_type(),
                retryable = error.is_retryable(),
                update_id = error.update_id(),
                duration_ms,
                error = %error,
                cause = error.cause(),
                "node group request failed"
            );
        }
    }
}
