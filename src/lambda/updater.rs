//! The updater's handler, the imperative shell of one invocation: it reads, calls and
//! reports in the contract's order (ARCHITECTURE.md, "One invocation"); every decision is
//! the core's.

use std::time::{Instant, SystemTime};

use lambda_runtime::LambdaEvent;
use serde_json::Value;

use super::config::Config;
use super::output::{Outcome, Output};
use super::payload::{self, RawPayload};
use crate::aws::accounts::Accounts;
use crate::aws::deadline::Deadline;
use crate::aws::eks::{Eks, StartOutcome};
use crate::aws::ssm::Ssm;
use crate::core::accounts::{Home, Place};
use crate::core::allowlist::{AccountAllowlist, Allowlist};
use crate::core::error::{About, Error, ErrorKind, Subject};
use crate::core::live::{ClusterState, NodegroupState, UpdateView};
use crate::core::plan::{self, Decision, LatestRelease, Live, Plan, ReleaseLookup, UpdateCall};
use crate::core::request::{AccountId, UpdateRequest};

/// The adapters the updater calls, in one account.
#[derive(Clone, Debug)]
pub struct UpdaterClients {
    pub eks: Eks,
    pub ssm: Ssm,
}

/// The function: built once per process, shared by every invocation.
#[derive(Debug)]
pub struct Updater {
    accounts: Accounts<UpdaterClients>,
    config: Config,
}

impl Updater {
    pub fn new(accounts: Accounts<UpdaterClients>, config: Config) -> Self {
        if let Allowlist::Broken { reason } = &config.allowlist {
            tracing::error!(%reason, "every invocation will be answered NotAllowed until ALLOWED_CLUSTERS is fixed");
        }
        if let AccountAllowlist::Broken { reason } = &config.accounts.allowlist {
            tracing::error!(%reason, "requests for other accounts will be answered NotAllowed until ALLOWED_ACCOUNTS is fixed");
        }
        Self { accounts, config }
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
                log_summary(&Value::Null, None, &result, started);
                return result;
            }
        };
        let deadline = Deadline::new(context.deadline(), self.config.limits);
        // Its own account and partition, without a call (DESIGN: "Other accounts").
        let home = Home::of_function_arn(&context.invoked_function_arn);
        let result = self
            .run(&payload, &context.request_id, home.as_ref(), &deadline)
            .await;
        log_summary(&payload, home.as_ref(), &result, started);
        result
    }

    /// One invocation, without the Lambda context: the payload, the identity to use when
    /// the payload carries none, where the function runs, and the deadline.
    pub async fn run(
        &self,
        payload: &Value,
        request_id: &str,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<Output, Error> {
        let invocation = payload::parse(payload, request_id)
            .map_err(|problem| Error::invalid_input(problem.to_string()))?;
        let subject = invocation.request.subject();
        let place = self.check_allowed(invocation.request.account(), home, &subject)?;
        let request = &invocation.request.served_at(&place);
        let clients = self
            .accounts
            .clients(&place, &About::from(&subject), deadline)
            .await?;
        let (nodegroup, cluster) = read_live_state(&clients, &subject, deadline).await?;
        let live = Live::new(request, &nodegroup, &cluster);
        let latest =
            latest_release(&clients, request, live.release_lookup(), &subject, deadline).await;
        let plan = live
            .plan(&invocation.event_id, latest, SystemTime::now())
            .map_err(|refusal| refusal.into_error(&subject))?;
        act(&clients, request, &place, plan, &subject, deadline).await
    }

    /// Step 1: the account and the cluster, before any AWS call.
    fn check_allowed(
        &self,
        account: Option<&AccountId>,
        home: Option<&Home>,
        subject: &Subject,
    ) -> Result<Place, Error> {
        let not_allowed = |message| Error::new(ErrorKind::NotAllowed, subject, message);
        let place = self
            .config
            .accounts
            .place(account, home)
            .map_err(not_allowed)?;
        self.config
            .allowlist
            .check(subject.cluster.as_str())
            .map_err(not_allowed)?;
        Ok(place)
    }
}

/// Step 2: both reads at once; a missing cluster is reported before the node group
/// that cannot exist without it.
async fn read_live_state(
    clients: &UpdaterClients,
    subject: &Subject,
    deadline: &Deadline,
) -> Result<(NodegroupState, ClusterState), Error> {
    let (nodegroup, cluster) = tokio::join!(
        clients.eks.describe_nodegroup(subject, deadline),
        clients.eks.describe_cluster(subject, deadline)
    );
    let cluster = cluster?;
    Ok((nodegroup?, cluster))
}

/// Step 6's read: the newest release for the node group's AMI type at the target
/// minor, when the plan needs it. A failed read is data for the plan (the soak gate
/// reports it), not a failure of the invocation.
async fn latest_release(
    clients: &UpdaterClients,
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
    match clients
        .ssm
        .latest_release(&parameter, subject, deadline)
        .await
    {
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
    clients: &UpdaterClients,
    request: &UpdateRequest,
    place: &Place,
    plan: Plan,
    subject: &Subject,
    deadline: &Deadline,
) -> Result<Output, Error> {
    let call = UpdateCall::new(request, &plan.target);
    let answer = |outcome, update: Option<UpdateView>, request: Option<UpdateCall>| Output {
        account_id: place.account().map(ToString::to_string),
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
        Decision::Start => match clients
            .eks
            .update_nodegroup_version(&call, subject, deadline)
            .await?
        {
            StartOutcome::Started(update) => Ok(answer(Outcome::Started, Some(update), None)),
            StartOutcome::InUse => {
                let update = running_update(clients, &plan, subject, deadline).await?;
                Ok(answer(Outcome::AlreadyInProgress, Some(update), None))
            }
        },
        Decision::FindRunning => {
            let update = running_update(clients, &plan, subject, deadline).await?;
            Ok(answer(Outcome::AlreadyInProgress, Some(update), None))
        }
    }
}

/// Step 5: the running update if it is the one asked for, else `UpdateInProgress`.
async fn running_update(
    clients: &UpdaterClients,
    plan: &Plan,
    subject: &Subject,
    deadline: &Deadline,
) -> Result<UpdateView, Error> {
    let running = clients.eks.find_running_update(subject, deadline).await?;
    plan::judge_running(&plan.target, running).map_err(|refusal| refusal.into_error(subject))
}

/// One line per invocation: account, cluster, node group, outcome or errorType, update
/// id, duration.
fn log_summary(
    payload: &Value,
    home: Option<&Home>,
    result: &Result<Output, Error>,
    started: Instant,
) {
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(output) => tracing::info!(
            account = output.account_id.as_deref(),
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
            // The account asked for, else its own: a refused account is named as given.
            let account = field("accountId").or_else(|| home.map(|h| h.account.to_string()));
            tracing::warn!(
                account,
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
