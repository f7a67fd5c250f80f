//! The roll's bookkeeping: one record per target from planning to its wave's end, the
//! tolerance that stops later waves, and the bounded summary (counts, waves, the first
//! failures) whatever the fleet's size.

use super::assign::Assigned;
use super::planning::PlannedTarget;

/// How many failures the summary names; the report has them all.
pub const FAILURES_SHOWN: usize = 20;
/// How much of a failure's cause the summary keeps, in characters.
pub const CAUSE_SHOWN: usize = 500;

/// A target's status in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its nested execution succeeded.
    Succeeded,
    /// Its nested execution failed, or planning refused it for good.
    Failed,
    TimedOut,
    Aborted,
    /// Its wave did not start (a stopped roll, or a dry run).
    NotStarted,
    /// Settled at planning: up to date or deferred, no nested execution.
    Settled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
            Self::NotStarted => "NOT_STARTED",
            Self::Settled => "SETTLED",
        }
    }

    /// A report's status text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "NOT_STARTED" => Some(Self::NotStarted),
            "SETTLED" => Some(Self::Settled),
            other => Self::of_execution(other),
        }
    }

    /// A nested execution's status (`SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`).
    pub fn of_execution(text: &str) -> Option<Self> {
        match text {
            "SUCCEEDED" => Some(Self::Succeeded),
            "FAILED" => Some(Self::Failed),
            "TIMED_OUT" => Some(Self::TimedOut),
            "ABORTED" => Some(Self::Aborted),
            _ => None,
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::Aborted)
    }
}

/// A cluster whose node groups could not be listed (or observed at all): one failed record
/// stands for them, so the failure counts and shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterFailure {
    /// The account (`None` only where the function cannot tell its own).
    pub account: Option<String>,
    /// `None` when the account's clusters could not be listed at all.
    pub cluster: Option<String>,
    /// The wave of the first selector that names the cluster.
    pub wave: u8,
    pub selector: Option<usize>,
    /// The errorType.
    pub error: String,
    pub cause: String,
}

/// One target's line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub account_id: Option<String>,
    /// `None` for an account whose clusters could not be listed.
    pub cluster_name: Option<String>,
    /// `None` for a cluster whose node groups could not be listed.
    pub nodegroup_name: Option<String>,
    pub wave: u8,
    /// The selector that found it; `None` for an explicit target.
    pub selector: Option<usize>,
    /// The planning outcome, or the errorType planning met.
    pub planned: String,
    pub status: Status,
    /// The function's outcome; for a settled target its planned one.
    pub outcome: Option<String>,
    pub update_id: Option<String>,
    pub update_status: Option<String>,
    pub from_version: Option<String>,
    pub from_release_version: Option<String>,
    pub to_version: Option<String>,
    pub to_release_version: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub execution_arn: Option<String>,
}

/// How a target's nested execution ended, as its wave's results say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Execution {
    pub arn: Option<String>,
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`.
    pub status: String,
    /// From the update state machine's output.
    pub outcome: Option<String>,
    pub update_id: Option<String>,
    pub update_status: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Record {
    /// A target as planning left it: settled, failed for good, or waiting for its wave.
    pub fn planned(assigned: &Assigned, planned: &PlannedTarget) -> Self {
        let p = planned.planned;
        let (status, outcome, error) = if p.fails() {
            (Status::Failed, None, Some(p.as_str().to_owned()))
        } else if p.settles() {
            (Status::Settled, Some(p.as_str().to_owned()), None)
        } else {
            (Status::NotStarted, None, None)
        };
        let target = planned.target.as_ref();
        let to_release_version = target.and_then(|t| {
            t.release_version
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| t.latest.as_ref().map(|l| l.release.to_string()))
        });
        Self {
            account_id: assigned.request.account().map(ToString::to_string),
            cluster_name: Some(assigned.request.cluster().to_string()),
            nodegroup_name: Some(assigned.request.nodegroup().to_string()),
            wave: assigned.wave,
            selector: assigned.selector,
            planned: planned.planned.as_str().to_owned(),
            status,
            outcome,
            update_id: planned.update_id.clone(),
            update_status: None,
            from_version: planned.from_version.map(|v| v.to_string()),
            from_release_version: planned.from_release_version.clone(),
            to_version: target.and_then(|t| t.version).map(|v| v.to_string()),
            to_release_version,
            error,
            cause: planned.cause.clone(),
            execution_arn: None,
        }
    }

    /// A cluster that could not be listed, as one failed record.
    pub fn cluster_failed(failure: &ClusterFailure) -> Self {
        Self {
            account_id: failure.account.clone(),
            cluster_name: failure.cluster.clone(),
            nodegroup_name: None,
            wave: failure.wave,
            selector: failure.selector,
            planned: failure.error.clone(),
            status: Status::Failed,
            outcome: None,
            update_id: None,
            update_status: None,
            from_version: None,
            from_release_version: None,
            to_version: None,
            to_release_version: None,
            error: Some(failure.error.clone()),
            cause: Some(failure.cause.clone()),
            execution_arn: None,
        }
    }

    /// Whether it rolls: it waits for its wave's nested execution.
    pub fn rolls(&self) -> bool {
        self.status == Status::NotStarted && self.execution_arn.is_none()
    }

    /// The target after its nested execution ended.
    pub fn rolled(mut self, execution: Execution) -> Self {
        self.status = Status::of_execution(&execution.status).unwrap_or(Status::Failed);
        self.execution_arn = execution.arn;
        self.outcome = execution.outcome.or(self.outcome);
        self.update_id = execution.update_id.or(self.update_id);
        self.update_status = execution.update_status;
        self.error = execution.error;
        self.cause = execution.cause;
        self
    }

    fn count(&self, dry_run: bool) -> Count {
        match self.status {
            Status::Settled if self.planned == "Deferred" => Count::Deferred,
            Status::Settled => Count::UpToDate,
            Status::NotStarted if dry_run => Count::WouldUpdate,
            Status::NotStarted => Count::NotStarted,
            status if status.is_failure() => Count::Failed,
            _ => match self.outcome.as_deref() {
                Some("UpToDate") => Count::UpToDate,
                Some("Deferred") => Count::Deferred,
                Some("DryRun") => Count::WouldUpdate,
                _ => Count::Updated,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Count {
    Updated,
    UpToDate,
    Deferred,
    WouldUpdate,
    Failed,
    NotStarted,
}

/// Every target counted once; they add up to `targets`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub targets: usize,
    pub updated: usize,
    pub up_to_date: usize,
    pub deferred: usize,
    pub would_update: usize,
    pub failed: usize,
    pub not_started: usize,
}

impl Counts {
    pub fn of<'r>(records: impl IntoIterator<Item = &'r Record>, dry_run: bool) -> Self {
        let mut counts = Self::default();
        for record in records {
            counts.targets += 1;
            match record.count(dry_run) {
                Count::Updated => counts.updated += 1,
                Count::UpToDate => counts.up_to_date += 1,
                Count::Deferred => counts.deferred += 1,
                Count::WouldUpdate => counts.would_update += 1,
                Count::Failed => counts.failed += 1,
                Count::NotStarted => counts.not_started += 1,
            }
        }
        counts
    }

    /// Whether the failures exceed the tolerance: then no later wave starts.
    pub fn beyond_tolerance(&self, tolerated_failure_percentage: f64) -> bool {
        self.targets > 0
            && (self.failed as f64) * 100.0 > tolerated_failure_percentage * (self.targets as f64)
    }
}

/// Whether the roll has failed: its failures past the tolerance. A dry run reports and
/// never fails.
pub fn past_tolerance(
    records: &[Record],
    tolerated_failure_percentage: f64,
    dry_run: bool,
) -> bool {
    !dry_run && Counts::of(records, dry_run).beyond_tolerance(tolerated_failure_percentage)
}

/// The wave to roll after `after` (`None`: the first), if any: none in a dry run, none once
/// the roll is past its tolerance, else the lowest wave with a target still to roll.
pub fn next_wave(
    records: &[Record],
    after: Option<u8>,
    tolerated_failure_percentage: f64,
    dry_run: bool,
) -> Option<u8> {
    if dry_run || past_tolerance(records, tolerated_failure_percentage, dry_run) {
        return None;
    }
    records
        .iter()
        .filter(|r| r.rolls() && after.is_none_or(|w| r.wave > w))
        .map(|r| r.wave)
        .min()
}

/// One wave's line of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveCounts {
    pub wave: u8,
    pub counts: Counts,
}

/// The summary's failures: the first [`FAILURES_SHOWN`], in report order, causes cut to
/// [`CAUSE_SHOWN`] characters.
pub fn first_failures(records: &[Record]) -> Vec<Record> {
    records
        .iter()
        .filter(|r| r.status.is_failure())
        .take(FAILURES_SHOWN)
        .map(|r| {
            let mut shown = r.clone();
            shown.cause = r.cause.as_ref().map(|c| cut(c, CAUSE_SHOWN));
            shown
        })
        .collect()
}

fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Counts per wave, ascending.
pub fn waves(records: &[Record], dry_run: bool) -> Vec<WaveCounts> {
    let mut numbers: Vec<u8> = records.iter().map(|r| r.wave).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .into_iter()
        .map(|wave| WaveCounts {
            wave,
            counts: Counts::of(records.iter().filter(|r| r.wave == wave), dry_run),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::error::ErrorKind;
    use crate::core::fleet::planning::Planned;
    use crate::core::request::UpdateRequest;

    fn assigned(nodegroup: &str, wave: u8) -> Assigned {
        Assigned {
            request: UpdateRequest::from_json(
                json!({"clusterName": "prod", "nodegroupName": nodegroup})
                    .as_object()
                    .unwrap(),
            )
            .unwrap(),
            wave,
            selector: Some(0),
            target: None,
        }
    }

    fn planned(p: Planned) -> PlannedTarget {
        PlannedTarget {
            planned: p,
            from_version: None,
            from_release_version: None,
            target: None,
            update_id: None,
            cause: p.fails().then(|| "refused".to_owned()),
        }
    }

    fn record(nodegroup: &str, wave: u8, p: Planned) -> Record {
        Record::planned(&assigned(nodegroup, wave), &planned(p))
    }

    fn execution(status: &str, outcome: Option<&str>) -> Execution {
        Execution {
            arn: Some(format!("arn:exec:{status}")),
            status: status.to_owned(),
            outcome: outcome.map(str::to_owned),
            ..Execution::default()
        }
    }

    #[test]
    fn planning_settles_what_needs_no_execution() {
        let rows = [
            (Planned::UpToDate, Status::Settled, Some("UpToDate"), None),
            (Planned::Deferred, Status::Settled, Some("Deferred"), None),
            (
                Planned::Refused(ErrorKind::NotFound),
                Status::Failed,
                None,
                Some("NotFound"),
            ),
            (Planned::Update, Status::NotStarted, None, None),
            (Planned::AlreadyInProgress, Status::NotStarted, None, None),
            (
                Planned::Refused(ErrorKind::Throttled),
                Status::NotStarted,
                None,
                None,
            ),
        ];
        for (p, status, outcome, error) in rows {
            let r = record("ng", 0, p);
            assert_eq!(r.status, status, "{p:?}");
            assert_eq!(r.outcome.as_deref(), outcome, "{p:?}");
            assert_eq!(r.error.as_deref(), error, "{p:?}");
            assert_eq!(r.rolls(), status == Status::NotStarted, "{p:?}");
        }
    }

    #[test]
    fn every_target_counts_once() {
        let records = vec![
            record("a", 0, Planned::Update).rolled(execution("SUCCEEDED", Some("Started"))),
            record("b", 0, Planned::AlreadyInProgress)
                .rolled(execution("SUCCEEDED", Some("AlreadyInProgress"))),
            record("c", 1, Planned::Update).rolled(execution("SUCCEEDED", Some("UpToDate"))),
            record("d", 1, Planned::UpToDate),
            record("e", 1, Planned::Deferred),
            record("f", 1, Planned::Update).rolled(execution("FAILED", None)),
            record("g", 1, Planned::Update).rolled(execution("TIMED_OUT", None)),
            record("h", 2, Planned::Refused(ErrorKind::PreconditionFailed)),
            record("i", 2, Planned::Update),
        ];
        let counts = Counts::of(&records, false);
        assert_eq!(
            counts,
            Counts {
                targets: 9,
                updated: 2,
                up_to_date: 2,
                deferred: 1,
                would_update: 0,
                failed: 3,
                not_started: 1
            }
        );
        let dry = Counts::of(
            &[
                record("x", 0, Planned::Update),
                record("y", 0, Planned::UpToDate),
            ],
            true,
        );
        assert_eq!(
            (dry.would_update, dry.up_to_date, dry.not_started),
            (1, 1, 0)
        );
        let per_wave = waves(&records, false);
        assert_eq!(
            per_wave
                .iter()
                .map(|w| (w.wave, w.counts.targets))
                .collect::<Vec<_>>(),
            [(0, 2), (1, 5), (2, 2)]
        );
    }

    #[test]
    fn the_tolerance_is_exceeded_only_past_its_percentage() {
        let counts = |failed, targets| Counts {
            targets,
            failed,
            ..Counts::default()
        };
        assert!(!counts(1, 10).beyond_tolerance(10.0));
        assert!(counts(2, 10).beyond_tolerance(10.0));
        assert!(counts(1, 10).beyond_tolerance(0.0));
        assert!(!counts(0, 10).beyond_tolerance(0.0));
        assert!(!counts(10, 10).beyond_tolerance(100.0));
        assert!(counts(1, 3).beyond_tolerance(33.3));
    }

    #[test]
    fn the_next_wave_is_the_lowest_left_unless_the_roll_stops() {
        let records = vec![
            record("a", 0, Planned::Update).rolled(execution("SUCCEEDED", Some("Started"))),
            record("b", 2, Planned::Update),
            record("c", 5, Planned::Update),
            record("d", 1, Planned::UpToDate),
        ];
        assert_eq!(next_wave(&records, None, 0.0, false), Some(2));
        assert_eq!(next_wave(&records, Some(2), 0.0, false), Some(5));
        assert_eq!(next_wave(&records, Some(5), 0.0, false), None);
        assert_eq!(
            next_wave(&records, None, 0.0, true),
            None,
            "a dry run rolls nothing"
        );
        let mut failed = records.clone();
        failed[0] = record("a", 0, Planned::Update).rolled(execution("FAILED", None));
        assert!(past_tolerance(&failed, 0.0, false));
        assert!(!past_tolerance(&failed, 25.0, false));
        assert!(!past_tolerance(&failed, 0.0, true), "a dry run never fails");
        assert_eq!(next_wave(&failed, Some(0), 0.0, false), None);
        assert_eq!(next_wave(&failed, Some(0), 25.0, false), Some(2));
    }

    #[test]
    fn the_summary_names_twenty_failures_with_short_causes() {
        let mut records: Vec<Record> = (0..30)
            .map(|i| {
                let mut r = record(&format!("ng-{i}"), 0, Planned::Update)
                    .rolled(execution("FAILED", None));
                r.cause = Some("é".repeat(600));
                r
            })
            .collect();
        records.insert(0, record("ok", 0, Planned::UpToDate));
        let shown = first_failures(&records);
        assert_eq!(shown.len(), FAILURES_SHOWN);
        assert_eq!(shown[0].nodegroup_name.as_deref(), Some("ng-0"));
        let cause = shown[0].cause.as_deref().unwrap();
        assert_eq!(cause.chars().count(), CAUSE_SHOWN + 1);
        assert!(cause.ends_with('…'));
    }
}
