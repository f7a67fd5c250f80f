//! The fleet planner's handler: the steps of the fleet state machine that need code, one
//! invocation each, chosen by the payload's `action`. Each step reads what the previous
//! ones left in the stack's bucket and writes what the next ones read, so every state's
//! input and output stays a few hundred bytes whatever the fleet's size (ARCHITECTURE.md,
//! "The fleet roll").
//!
//! - `start`: validate the input (before any call), list the clusters the selectors may
//!   name, write the roll's settings and its clusters;
//! - `observe` (one per cluster, in a distributed Map): what [`Planner`] sees there, or that
//!   its control plane is still `UPDATING`;
//! - `decide`: every target planned by the core, each SSM parameter read once; the report as
//!   planned and one item file per wave;
//! - `after-wave`: the wave's results joined to the report, the tolerance checked;
//! - `report`: the report in JSON and CSV, the bounded summary and the message for people.

mod checkpoint;
mod notice;
mod results;
mod store;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::checkpoint::{ClusterCheckpoint, ErrorCheckpoint, TargetCheckpoint};
use self::results::{Manifest, read_results};
use self::store::RollObjects;
use super::planner::{AccountFailed, ClusterSeen, FleetClients, Planner};
use super::report::{ReportLocation, Summary, read_report, report_csv, report_json};
use super::wave::WaveItem;
use crate::aws::accounts::Accounts;
use crate::aws::deadline::{CallLimits, Deadline};
use crate::aws::s3::Objects;
use crate::aws::ssm::Ssm;
use crate::core::accounts::{AccountRules, Home};
use crate::core::allowlist::{AccountAllowlist, Allowlist};
use crate::core::error::{About, Error, ErrorKind};
use crate::core::fleet::assign::{Assigned, ClusterRef, assign};
use crate::core::fleet::decide::{ObservedTarget, decide, release_parameters};
use crate::core::fleet::input::FleetInput;
use crate::core::fleet::planning::Observation;
use crate::core::fleet::roll::{ClusterFailure, Execution, Record, next_wave, past_tolerance};
use crate::core::live::{ClusterStatus, PublishedRelease};
use crate::core::plan::{LatestRelease, ReleaseLookup};
use crate::core::request::{AccountId, ClusterName};

/// Clusters' observations read at once by `decide`, and SSM parameters.
const READ_CONCURRENCY: usize = 16;
/// The longest execution name Step Functions allows: the roll's name in every key.
const MAX_FLEET_NAME: usize = 80;

/// The planner's settings, from its environment (the template's parameters).
#[derive(Clone, Debug)]
pub struct FleetConfig {
    /// `FLEET_BUCKET`: the stack's bucket.
    pub bucket: Option<String>,
    /// `ALLOWED_CLUSTERS`.
    pub allowlist: Allowlist,
    /// `ALLOWED_ACCOUNTS` and `TARGET_ROLE_NAME`.
    pub accounts: AccountRules,
    /// `UPDATE_TIMEOUT_SECONDS`: how long a control plane that is `UPDATING` is waited for.
    pub update_timeout: Duration,
    /// `FLEET_MAX_CONCURRENCY`: the default of the input's `maxConcurrency`.
    pub max_concurrency: u16,
    /// `FLEET_TOLERATED_FAILURE_PERCENTAGE`: the default of `toleratedFailurePercentage`.
    pub tolerated_failure_percentage: f64,
    pub limits: CallLimits,
}

impl FleetConfig {
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Unset or unreadable numbers take the template's defaults.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let number = |name: &str| var(name).and_then(|v| v.trim().parse::<f64>().ok());
        Self {
            bucket: var("FLEET_BUCKET").filter(|b| !b.trim().is_empty()),
            allowlist: Allowlist::parse(var("ALLOWED_CLUSTERS").as_deref()),
            accounts: AccountRules::parse(
                var("ALLOWED_ACCOUNTS").as_deref(),
                var("TARGET_ROLE_NAME").as_deref(),
            ),
            update_timeout: Duration::from_secs(
                number("UPDATE_TIMEOUT_SECONDS")
                    .filter(|n| *n >= 0.0)
                    .map_or(10_800, |n| n as u64),
            ),
            max_concurrency: number("FLEET_MAX_CONCURRENCY")
                .filter(|n| (1.0..=1000.0).contains(n))
                .map_or(1, |n| n as u16),
            tolerated_failure_percentage: number("FLEET_TOLERATED_FAILURE_PERCENTAGE")
                .filter(|n| (0.0..=100.0).contains(n))
                .unwrap_or(0.0),
            limits: CallLimits::default(),
        }
    }
}

/// The fleet planner: built once per process.
#[derive(Debug)]
pub struct FleetPlanner {
    planner: Planner,
    ssm: Ssm,
    objects: Objects,
    config: FleetConfig,
}

/// One step's payload.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
enum Step {
    Start {
        fleet: String,
        input: Value,
    },
    Observe {
        cluster: ClusterItem,
    },
    Decide {
        fleet: String,
    },
    AfterWave {
        fleet: String,
        wave: u8,
        state: Value,
    },
    Report {
        fleet: String,
    },
}

/// An item of the observe Map, and the answer that loops back into it while the control
/// plane is `UPDATING`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClusterItem {
    fleet: String,
    /// Absent only where the planner cannot tell its own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    cluster: String,
    index: usize,
    /// When the first observation found the control plane `UPDATING` (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    waiting_since: Option<String>,
    #[serde(default)]
    control_plane_updating: bool,
}

/// What the roll decided at its start, kept in the bucket.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RollFile {
    input: Value,
    /// The accounts whose clusters could not be listed at the start.
    #[serde(default)]
    account_failures: Vec<AccountFailureEntry>,
    max_concurrency: u16,
    tolerated_failure_percentage: f64,
    wave_soak_minutes: u16,
    dry_run: bool,
}

/// An account whose clusters could not be listed, and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountFailureEntry {
    account: Option<String>,
    error: ErrorCheckpoint,
}

/// An item of `clusters.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClusterEntry {
    fleet: String,
    /// Always written (null where the planner cannot tell its own account): the observe
    /// Map's `ItemSelector` names it, and a path to nothing would fail the Map.
    #[serde(default)]
    account: Option<String>,
    cluster: String,
    index: usize,
}

impl ClusterEntry {
    /// The cluster it names, read back as the core's types.
    fn cluster_ref(&self) -> Result<ClusterRef, String> {
        cluster_ref(self.account.as_deref(), &self.cluster)
    }
}

fn cluster_ref(account: Option<&str>, cluster: &str) -> Result<ClusterRef, String> {
    Ok(ClusterRef {
        account: account.map(AccountId::parse).transpose()?,
        cluster: ClusterName::parse(cluster)?,
    })
}

/// The roll's state in the state machine (`$.roll`): small whatever the fleet's size.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollState {
    fleet: String,
    dry_run: bool,
    max_concurrency: u16,
    wave_soak_seconds: u32,
    /// The observe Map's items.
    clusters: String,
    /// Where the observe Map writes its results.
    observe_results: String,
    /// The wave to roll next; absent: none (the roll reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<NextWave>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextWave {
    wave: u8,
    /// The wave Map's items.
    items: String,
    /// Where the wave Map writes its results.
    results: String,
}

/// The `report` step's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Reported {
    summary: Summary,
    /// The roll failed: its failures passed the tolerance.
    failed: bool,
    subject: String,
    message: String,
}

impl FleetPlanner {
    pub fn new(
        accounts: Accounts<FleetClients>,
        ssm: Ssm,
        objects: Objects,
        config: FleetConfig,
    ) -> Self {
        if let Allowlist::Broken { reason } = &config.allowlist {
            tracing::error!(%reason, "explicit targets will be refused NotAllowed and selectors find nothing until ALLOWED_CLUSTERS is fixed");
        }
        if let AccountAllowlist::Broken { reason } = &config.accounts.allowlist {
            tracing::error!(%reason, "other accounts will be refused NotAllowed until ALLOWED_ACCOUNTS is fixed");
        }
        Self {
            planner: Planner::new(accounts, config.allowlist.clone(), config.accounts.clone()),
            ssm,
            objects,
            config,
        }
    }

    /// The Lambda entry point: one step, and its log line.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let started = Instant::now();
        let (payload, context) = event.into_parts();
        let deadline = Deadline::new(context.deadline(), self.config.limits);
        let action = payload
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("(none)")
            .to_owned();
        // Its own account and partition, without a call (DESIGN: "Other accounts").
        let home = Home::of_function_arn(&context.invoked_function_arn);
        let result = self.run(payload, home.as_ref(), &deadline).await;
        match &result {
            Ok(_) => tracing::info!(
                action,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "step done"
            ),
            Err(error) => tracing::warn!(
                action,
                error_type = error.error_type(),
                error = %error,
                cause = error.cause().unwrap_or_default(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "step failed"
            ),
        }
        result
    }

    /// One step, without the Lambda context: `home` is where the planner runs.
    pub async fn run(
        &self,
        payload: Value,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<Value, Error> {
        let step: Step = serde_json::from_value(payload).map_err(|e| {
            Error::invalid_input(format!(
                "not a step of the fleet state machine ({e}); the planner is called by it only"
            ))
        })?;
        match step {
            Step::Start { fleet, input } => {
                to_value(self.start(&fleet, input, home, deadline).await?)
            }
            Step::Observe { cluster } => to_value(self.observe(cluster, home, deadline).await?),
            Step::Decide { fleet } => to_value(self.decide(&fleet, home, deadline).await?),
            Step::AfterWave { fleet, wave, state } => to_value(
                self.after_wave(&fleet, wave, &state, home, deadline)
                    .await?,
            ),
            Step::Report { fleet } => to_value(self.report(&fleet, home, deadline).await?),
        }
    }

    fn roll<'a>(&'a self, fleet: &'a str) -> Result<RollObjects<'a>, Error> {
        if fleet.is_empty()
            || fleet.chars().count() > MAX_FLEET_NAME
            || fleet
                .chars()
                .any(|c| c == '/' || c.is_control() || c.is_whitespace())
        {
            return Err(Error::invalid_input(format!(
                "{fleet:?} is not an execution name the roll's keys can hold"
            )));
        }
        let bucket = self.config.bucket.as_deref().ok_or_else(|| {
            Error::about(
                ErrorKind::PreconditionFailed,
                About::Input,
                "FLEET_BUCKET is not set: deploy the planner with the stack's template",
            )
        })?;
        Ok(RollObjects::new(&self.objects, bucket, fleet))
    }

    async fn start(
        &self,
        fleet: &str,
        input: Value,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<RollState, Error> {
        let parsed = FleetInput::from_json(&input)
            .map_err(|e| Error::invalid_input(e.to_string()))?
            .in_account(home.map(|h| &h.account));
        let objects = self.roll(fleet)?;
        let (clusters, failed) = self.planner.clusters_of(&parsed, home, deadline).await?;
        let roll = RollFile {
            account_failures: failed
                .iter()
                .map(|AccountFailed { account, error }| AccountFailureEntry {
                    account: account.as_ref().map(ToString::to_string),
                    error: ErrorCheckpoint::of(error),
                })
                .collect(),
            max_concurrency: parsed
                .max_concurrency
                .unwrap_or(self.config.max_concurrency),
            tolerated_failure_percentage: parsed
                .tolerated_failure_percentage
                .unwrap_or(self.config.tolerated_failure_percentage),
            wave_soak_minutes: parsed.wave_soak_minutes,
            dry_run: parsed.dry_run,
            input,
        };
        let entries: Vec<ClusterEntry> = clusters
            .iter()
            .enumerate()
            .map(|(index, at)| ClusterEntry {
                fleet: fleet.to_owned(),
                account: at.account.as_ref().map(ToString::to_string),
                cluster: at.cluster.to_string(),
                index,
            })
            .collect();
        objects.put_json(&objects.roll(), &roll, deadline).await?;
        objects
            .put_json(&objects.clusters(), &entries, deadline)
            .await?;
        tracing::info!(
            fleet,
            clusters = entries.len(),
            accounts_failed = roll.account_failures.len(),
            "roll started"
        );
        Ok(state(&objects, &roll, None))
    }

    async fn read_roll(
        &self,
        objects: &RollObjects<'_>,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<(RollFile, FleetInput), Error> {
        let key = objects.roll();
        let roll: RollFile = objects.get_json(&key, deadline).await?;
        let input = FleetInput::from_json(&roll.input)
            .map_err(|e| objects.unusable(&key, &e.to_string()))?
            .in_account(home.map(|h| &h.account));
        Ok((roll, input))
    }

    async fn observe(
        &self,
        item: ClusterItem,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<ClusterItem, Error> {
        let objects = self.roll(&item.fleet)?;
        let (_, input) = self.read_roll(&objects, home, deadline).await?;
        let at = cluster_ref(item.account.as_deref(), &item.cluster)
            .map_err(|e| objects.unusable(&objects.clusters(), &e))?;
        let cluster = &at.cluster;
        let now = SystemTime::now();
        let since = item
            .waiting_since
            .as_deref()
            .and_then(|t| DateTime::from_str(t, Format::DateTime).ok())
            .and_then(|t| SystemTime::try_from(t).ok())
            .unwrap_or(now);
        let waited = now.duration_since(since).unwrap_or_default();
        let keep_waiting = waited < self.config.update_timeout;
        let seen = self
            .planner
            .observe_cluster(&input, &at, home, keep_waiting, deadline)
            .await;
        let checkpoint = match seen {
            Ok(ClusterSeen::ControlPlaneUpdating) => {
                return Ok(ClusterItem {
                    waiting_since: Some(rfc3339(since)),
                    control_plane_updating: true,
                    ..item
                });
            }
            Ok(ClusterSeen::Observed(targets)) => {
                let targets = if keep_waiting {
                    targets
                } else {
                    gave_up_waiting(targets, cluster, waited)
                };
                ClusterCheckpoint {
                    account: item.account.clone(),
                    cluster: item.cluster.clone(),
                    targets: targets
                        .iter()
                        .map(|(a, o)| TargetCheckpoint::new(a, o))
                        .collect(),
                    failure: None,
                }
            }
            // Retried by the state machine; past its attempts the cluster is unobserved.
            Err(error) if error.is_retryable() => return Err(error),
            Err(error) => cluster_failed(&input, &at, &error),
        };
        objects
            .put_json(&objects.observed(item.index), &checkpoint, deadline)
            .await?;
        Ok(ClusterItem {
            control_plane_updating: false,
            ..item
        })
    }

    async fn decide(
        &self,
        fleet: &str,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<RollState, Error> {
        let objects = self.roll(fleet)?;
        let (roll, input) = self.read_roll(&objects, home, deadline).await?;
        let clusters: Vec<ClusterEntry> = objects.get_json(&objects.clusters(), deadline).await?;
        let (targets, mut failures) = self
            .observations(&objects, &input, &clusters, deadline)
            .await?;
        for failed in &roll.account_failures {
            let account = failed
                .account
                .as_deref()
                .map(AccountId::parse)
                .transpose()
                .map_err(|e| objects.unusable(&objects.roll(), &e))?;
            if let Some((selector, wave)) = first_selector_of_account(&input, account.as_ref()) {
                failures.push(ClusterFailure {
                    account: failed.account.clone(),
                    cluster: None,
                    wave,
                    selector: Some(selector),
                    error: failed.error.error_type.clone(),
                    cause: failed.error.message.clone(),
                });
            }
        }
        let latest = self.latest_releases(&targets, deadline).await;
        let decided = decide(
            targets,
            failures,
            |lookup| latest_of(&latest, lookup),
            roll.tolerated_failure_percentage,
            roll.dry_run,
            SystemTime::now(),
        );
        for (wave, items) in &decided.waves {
            let items: Vec<WaveItem> = items
                .iter()
                .map(|(index, request)| WaveItem::new(*index, request))
                .collect();
            objects
                .put_json(&objects.wave_items(*wave), &items, deadline)
                .await?;
        }
        self.write_report(&objects, &decided.records, deadline)
            .await?;
        let next = next_wave(
            &decided.records,
            None,
            roll.tolerated_failure_percentage,
            roll.dry_run,
        );
        tracing::info!(
            fleet,
            targets = decided.records.len(),
            rolling = decided.waves.values().map(Vec::len).sum::<usize>(),
            stop = decided.stop,
            "roll planned"
        );
        Ok(state(&objects, &roll, next))
    }

    /// Every cluster's observation; a cluster with none (its observation failed past the
    /// state machine's retries) fails its explicit targets and, if a selector names it,
    /// counts as one failed record.
    async fn observations(
        &self,
        objects: &RollObjects<'_>,
        input: &FleetInput,
        clusters: &[ClusterEntry],
        deadline: &Deadline,
    ) -> Result<(Vec<ObservedTarget>, Vec<ClusterFailure>), Error> {
        let read: Vec<(&ClusterEntry, ClusterRef, Option<ClusterCheckpoint>)> =
            stream::iter(clusters)
                .map(|entry| async move {
                    let cluster = entry
                        .cluster_ref()
                        .map_err(|e| objects.unusable(&objects.clusters(), &e))?;
                    match objects
                        .get_json(&objects.observed(entry.index), deadline)
                        .await
                    {
                        Ok(checkpoint) => Ok((entry, cluster, Some(checkpoint))),
                        Err(error) if error.kind() == ErrorKind::NotFound => {
                            Ok((entry, cluster, None))
                        }
                        Err(error) => Err(error),
                    }
                })
                .buffered(READ_CONCURRENCY)
                .try_collect()
                .await?;
        let mut targets = Vec::new();
        let mut failures = Vec::new();
        for (entry, cluster, checkpoint) in read {
            let checkpoint = checkpoint.unwrap_or_else(|| {
                let error = Error::about(
                    ErrorKind::ServiceError,
                    About::Cluster(cluster.cluster.clone()),
                    format!(
                        "its observation failed past the state machine's retries (see the failed items under s3://{}/{}/); roll it again",
                        objects.bucket,
                        objects.observe_results()
                    ),
                );
                cluster_failed(input, &cluster, &error)
            });
            if let (Some(error), Some((selector, wave))) =
                (&checkpoint.failure, first_selector(input, &cluster))
            {
                failures.push(ClusterFailure {
                    account: cluster.account.as_ref().map(ToString::to_string),
                    cluster: Some(cluster.cluster.to_string()),
                    wave,
                    selector: Some(selector),
                    error: error.error_type.clone(),
                    cause: error.message.clone(),
                });
            }
            for target in &checkpoint.targets {
                let restored = target.restore().map_err(|problem| {
                    objects.unusable(&objects.observed(entry.index), &problem)
                })?;
                targets.push(restored);
            }
        }
        Ok((targets, failures))
    }

    /// Each parameter the plans need, read once, a few at a time.
    async fn latest_releases(
        &self,
        targets: &[ObservedTarget],
        deadline: &Deadline,
    ) -> BTreeMap<String, Result<Option<PublishedRelease>, (ErrorKind, String)>> {
        let subjects = release_parameters(targets);
        stream::iter(subjects)
            .map(|(parameter, subject)| async move {
                let found = self
                    .ssm
                    .latest_release(&parameter, &subject, deadline)
                    .await
                    .map_err(|e| (e.kind(), e.to_string()));
                (parameter, found)
            })
            .buffer_unordered(READ_CONCURRENCY)
            .collect()
            .await
    }

    async fn after_wave(
        &self,
        fleet: &str,
        wave: u8,
        state_value: &Value,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<RollState, Error> {
        let objects = self.roll(fleet)?;
        let (roll, _) = self.read_roll(&objects, home, deadline).await?;
        let mut records = self.read_records(&objects, deadline).await?;
        let items: Vec<WaveItemIndex> = objects
            .get_json(&objects.wave_items(wave), deadline)
            .await?;
        let mut executions: BTreeMap<usize, Execution> = BTreeMap::new();
        if let Some(manifest_key) = state_value
            .pointer("/wave/ResultWriterDetails/Key")
            .and_then(Value::as_str)
        {
            let manifest: Manifest = objects.get_json(manifest_key, deadline).await?;
            for key in manifest.keys() {
                let bytes = objects.get(key, deadline).await?;
                let rows = read_results(&bytes).map_err(|p| objects.unusable(key, &p))?;
                executions.extend(rows);
            }
        }
        let map_error = state_value.get("waveError");
        for item in items {
            let Some(record) = records.get_mut(item.index) else {
                return Err(objects.unusable(&objects.wave_items(wave), "an item names no record"));
            };
            let execution = executions.remove(&item.index).unwrap_or_else(|| Execution {
                arn: None,
                status: "FAILED".to_owned(),
                error: Some(
                    map_error
                        .and_then(|e| e.get("Error"))
                        .and_then(Value::as_str)
                        .unwrap_or("States.Runtime")
                        .to_owned(),
                ),
                cause: Some(
                    map_error
                        .and_then(|e| e.get("Cause"))
                        .and_then(Value::as_str)
                        .map_or_else(
                            || "the wave's Map kept no result for this target".to_owned(),
                            |c| format!("the wave's Map failed: {c}"),
                        ),
                ),
                ..Execution::default()
            });
            *record = record.clone().rolled(execution);
        }
        self.write_report(&objects, &records, deadline).await?;
        let stop = past_tolerance(&records, roll.tolerated_failure_percentage, roll.dry_run);
        let next = next_wave(
            &records,
            Some(wave),
            roll.tolerated_failure_percentage,
            roll.dry_run,
        );
        tracing::info!(fleet, wave, stop, "wave ended");
        Ok(state(&objects, &roll, next))
    }

    async fn report(
        &self,
        fleet: &str,
        home: Option<&Home>,
        deadline: &Deadline,
    ) -> Result<Reported, Error> {
        let objects = self.roll(fleet)?;
        let (roll, _) = self.read_roll(&objects, home, deadline).await?;
        let records = self.read_records(&objects, deadline).await?;
        let csv =
            report_csv(&records).map_err(|e| objects.unusable("report.csv", &e.to_string()))?;
        let location = ReportLocation::new(objects.bucket, fleet);
        objects
            .put(&location.csv, csv, "text/csv", deadline)
            .await?;
        let summary = Summary::new(fleet, roll.dry_run, &records, location);
        let failed = past_tolerance(&records, roll.tolerated_failure_percentage, roll.dry_run);
        Ok(Reported {
            subject: notice::subject(&summary, failed),
            message: notice::message(&summary, failed),
            summary,
            failed,
        })
    }

    async fn read_records(
        &self,
        objects: &RollObjects<'_>,
        deadline: &Deadline,
    ) -> Result<Vec<Record>, Error> {
        let key = ReportLocation::new(objects.bucket, objects.fleet).json;
        let bytes = objects.get(&key, deadline).await?;
        read_report(&bytes).map_err(|problem| objects.unusable(&key, &problem))
    }

    async fn write_report(
        &self,
        objects: &RollObjects<'_>,
        records: &[Record],
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let location = ReportLocation::new(objects.bucket, objects.fleet);
        let json =
            report_json(records).map_err(|e| objects.unusable(&location.json, &e.to_string()))?;
        objects
            .put(&location.json, json, "application/json", deadline)
            .await
    }
}

/// The part of a wave item `after-wave` needs.
#[derive(Debug, Deserialize)]
struct WaveItemIndex {
    index: usize,
}

fn to_value(value: impl Serialize) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| {
        Error::about(
            ErrorKind::ServiceError,
            About::Input,
            format!("the answer could not be written: {e}"),
        )
    })
}

fn state(objects: &RollObjects<'_>, roll: &RollFile, next: Option<u8>) -> RollState {
    RollState {
        fleet: objects.fleet.to_owned(),
        dry_run: roll.dry_run,
        max_concurrency: roll.max_concurrency,
        wave_soak_seconds: u32::from(roll.wave_soak_minutes) * 60,
        clusters: objects.clusters(),
        observe_results: objects.observe_results(),
        next: next.map(|wave| NextWave {
            wave,
            items: objects.wave_items(wave),
            results: objects.wave_results(wave),
        }),
    }
}

fn rfc3339(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The first selector that names the cluster, and its wave.
fn first_selector(input: &FleetInput, cluster: &ClusterRef) -> Option<(usize, u8)> {
    input
        .selectors
        .iter()
        .enumerate()
        .find(|(_, s)| s.names(cluster.account.as_ref(), cluster.cluster.as_str()))
        .map(|(index, s)| (index, s.wave))
}

/// The first selector that lists the account's clusters, and its wave.
fn first_selector_of_account(
    input: &FleetInput,
    account: Option<&AccountId>,
) -> Option<(usize, u8)> {
    input
        .selectors
        .iter()
        .enumerate()
        .find(|(_, s)| s.accounts.iter().any(|a| a.as_ref() == account))
        .map(|(index, s)| (index, s.wave))
}

/// A cluster that could not be read: its explicit targets fail with the cluster's error.
fn cluster_failed(input: &FleetInput, cluster: &ClusterRef, error: &Error) -> ClusterCheckpoint {
    let failure = ErrorCheckpoint::of(error);
    let explicit: Vec<Assigned> = assign(input, Some(cluster), Vec::new());
    ClusterCheckpoint {
        account: cluster.account.as_ref().map(ToString::to_string),
        cluster: cluster.cluster.to_string(),
        targets: explicit
            .iter()
            .map(|assigned| {
                let error = Error::about(error.kind(), About::Input, error.to_string());
                TargetCheckpoint::new(assigned, &Observation::Failed(error))
            })
            .collect(),
        failure: Some(failure),
    }
}

/// The wait for the control plane ran out: its node groups fail, without a nested execution.
fn gave_up_waiting(
    targets: Vec<(Assigned, Observation)>,
    cluster: &ClusterName,
    waited: Duration,
) -> Vec<(Assigned, Observation)> {
    targets
        .into_iter()
        .map(|(assigned, observation)| match observation {
            Observation::Seen(observed)
                if observed.cluster.status == Some(ClusterStatus::Updating) =>
            {
                let error = Error::new(
                    ErrorKind::UpdateInProgress,
                    &assigned.request.subject(),
                    format!(
                        "the control plane of cluster '{cluster}' was still UPDATING after {} s; node groups follow their control plane: roll them again once it is ACTIVE",
                        waited.as_secs()
                    ),
                );
                (assigned, Observation::ControlPlaneStillUpdating(error))
            }
            other => (assigned, other),
        })
        .collect()
}

fn latest_of(
    latest: &BTreeMap<String, Result<Option<PublishedRelease>, (ErrorKind, String)>>,
    lookup: &ReleaseLookup,
) -> LatestRelease {
    match lookup {
        ReleaseLookup::NotNeeded => LatestRelease::NotNeeded,
        ReleaseLookup::NothingPublished => LatestRelease::Unpublished { parameter: None },
        ReleaseLookup::Read(parameter) => match latest.get(parameter) {
            Some(Ok(found)) => LatestRelease::found(parameter.clone(), found.clone()),
            Some(Err((kind, message))) => LatestRelease::Unreadable {
                parameter: parameter.clone(),
                error: Error::about(*kind, About::Input, message.clone()),
            },
            // Not read: every needed parameter is; kept safe rather than assumed.
            None => LatestRelease::Unreadable {
                parameter: parameter.clone(),
                error: Error::about(
                    ErrorKind::ServiceError,
                    About::Input,
                    format!("SSM parameter {parameter} was not read"),
                ),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_gives_the_templates_defaults_when_unset_or_wrong() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = FleetConfig::from_vars(vars(&[
            ("FLEET_BUCKET", "b"),
            ("UPDATE_TIMEOUT_SECONDS", "600"),
            ("FLEET_MAX_CONCURRENCY", "25"),
            ("FLEET_TOLERATED_FAILURE_PERCENTAGE", "12.5"),
        ]));
        assert_eq!(config.bucket.as_deref(), Some("b"));
        assert_eq!(config.update_timeout, Duration::from_secs(600));
        assert_eq!(config.max_concurrency, 25);
        assert!((config.tolerated_failure_percentage - 12.5).abs() < f64::EPSILON);
        let config = FleetConfig::from_vars(vars(&[
            ("FLEET_BUCKET", " "),
            ("FLEET_MAX_CONCURRENCY", "0"),
            ("FLEET_TOLERATED_FAILURE_PERCENTAGE", "101"),
        ]));
        assert_eq!(config.bucket, None);
        assert_eq!(config.max_concurrency, 1);
        assert_eq!(config.tolerated_failure_percentage, 0.0);
        assert!(matches!(config.allowlist, Allowlist::Any));
    }

    /// The observe Map hands each child what `clusters.json` holds of its cluster: every
    /// field of an entry, its account included, named by the definition's `ItemSelector`.
    #[test]
    fn the_observe_map_hands_the_planner_every_field_of_a_cluster_entry() {
        let definition = include_str!("../../../statemachine/roll-fleet.asl.json");
        let start = definition.find("\"ObserveClusters\"").unwrap();
        let end = start + definition[start..].find("\"ItemProcessor\"").unwrap();
        let prefix = "$$.Map.Item.Value.";
        let mut selected: Vec<&str> = definition[start..end]
            .match_indices(prefix)
            .map(|(i, _)| {
                let rest = &definition[start + i + prefix.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        selected.sort_unstable();
        let entry = ClusterEntry {
            fleet: "roll-1".into(),
            account: None,
            cluster: "prod".into(),
            index: 0,
        };
        let written = serde_json::to_value(&entry).unwrap();
        let mut fields: Vec<&str> = written
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(selected, fields);
        let item: ClusterItem = serde_json::from_value(written).unwrap();
        assert_eq!(item.account, None);
    }

    #[test]
    fn the_roll_state_is_small_and_names_the_next_maps_objects() {
        let objects = Objects::new(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .build(),
        ));
        let roll = RollObjects::new(&objects, "bucket", "roll-1");
        let file = RollFile {
            input: Value::Null,
            account_failures: Vec::new(),
            max_concurrency: 7,
            tolerated_failure_percentage: 0.0,
            wave_soak_minutes: 2,
            dry_run: false,
        };
        let value = serde_json::to_value(state(&roll, &file, Some(3))).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "fleet": "roll-1", "dryRun": false, "maxConcurrency": 7, "waveSoakSeconds": 120,
                "clusters": "fleet/roll-1/clusters.json", "observeResults": "fleet/roll-1/observe",
                "next": {"wave": 3, "items": "fleet/roll-1/waves/3.json", "results": "fleet/roll-1/waves/3"}
            })
        );
        let last = serde_json::to_value(state(&roll, &file, None)).unwrap();
        assert!(last.get("next").is_none(), "the Choice tests IsPresent");
    }

    #[test]
    fn a_step_that_is_not_one_is_invalid_input() {
        for payload in [
            serde_json::json!({"action": "launch", "fleet": "x"}),
            serde_json::json!({"action": "decide"}),
            serde_json::json!({"action": "decide", "fleet": "x", "extra": 1}),
            serde_json::json!([1, 2]),
        ] {
            let error = serde_json::from_value::<Step>(payload.clone());
            assert!(error.is_err(), "{payload}");
        }
    }
}
