//! The fleet roll's report and summary in their contract shapes: one row per target, as a
//! JSON array and as CSV with the same columns, and the bounded summary that is the fleet
//! state machine's output (and the cause of `FleetRollFailed`).

use serde::{Deserialize, Serialize};

use crate::core::fleet::roll::{Counts, Record, Status, WaveCounts, first_failures, waves};

/// One row of the report, in the contract's column order. The report is also the roll's
/// own record between its steps: each step reads it back ([`read_report`]) and writes it
/// again, so a roll that stops anywhere leaves its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportRow {
    /// The account the node group is in (the planner's own included).
    pub account_id: Option<String>,
    /// Null for an account whose clusters could not be listed.
    pub cluster_name: Option<String>,
    /// Null for a cluster whose node groups could not be listed.
    pub nodegroup_name: Option<String>,
    pub wave: u8,
    /// The selector's index; null for an explicit target.
    pub selector: Option<usize>,
    pub planned: String,
    pub status: String,
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

impl From<&Record> for ReportRow {
    fn from(r: &Record) -> Self {
        Self {
            account_id: r.account_id.clone(),
            cluster_name: r.cluster_name.clone(),
            nodegroup_name: r.nodegroup_name.clone(),
            wave: r.wave,
            selector: r.selector,
            planned: r.planned.clone(),
            status: r.status.as_str().to_owned(),
            outcome: r.outcome.clone(),
            update_id: r.update_id.clone(),
            update_status: r.update_status.clone(),
            from_version: r.from_version.clone(),
            from_release_version: r.from_release_version.clone(),
            to_version: r.to_version.clone(),
            to_release_version: r.to_release_version.clone(),
            error: r.error.clone(),
            cause: r.cause.clone(),
            execution_arn: r.execution_arn.clone(),
        }
    }
}

impl TryFrom<ReportRow> for Record {
    type Error = String;

    fn try_from(r: ReportRow) -> Result<Self, String> {
        let status = Status::parse(&r.status)
            .ok_or_else(|| format!("a record's status {:?} is not a report status", r.status))?;
        Ok(Self {
            account_id: r.account_id,
            cluster_name: r.cluster_name,
            nodegroup_name: r.nodegroup_name,
            wave: r.wave,
            selector: r.selector,
            planned: r.planned,
            status,
            outcome: r.outcome,
            update_id: r.update_id,
            update_status: r.update_status,
            from_version: r.from_version,
            from_release_version: r.from_release_version,
            to_version: r.to_version,
            to_release_version: r.to_release_version,
            error: r.error,
            cause: r.cause,
            execution_arn: r.execution_arn,
        })
    }
}

/// Reads back a report [`report_json`] wrote.
pub fn read_report(bytes: &[u8]) -> Result<Vec<Record>, String> {
    let rows: Vec<ReportRow> =
        serde_json::from_slice(bytes).map_err(|e| format!("not a report: {e}"))?;
    rows.into_iter().map(Record::try_from).collect()
}

/// The report as a JSON array.
pub fn report_json(records: &[Record]) -> Result<Vec<u8>, serde_json::Error> {
    let rows: Vec<ReportRow> = records.iter().map(ReportRow::from).collect();
    serde_json::to_vec(&rows)
}

/// The report as CSV: a header of the same column names, an empty field for null.
pub fn report_csv(records: &[Record]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if records.is_empty() {
        // A roll with no target still has a report with its columns.
        writer.write_record(COLUMNS)?;
    }
    for record in records {
        writer.serialize(ReportRow::from(record))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The report's columns, in order.
pub const COLUMNS: [&str; 17] = [
    "accountId",
    "clusterName",
    "nodegroupName",
    "wave",
    "selector",
    "planned",
    "status",
    "outcome",
    "updateId",
    "updateStatus",
    "fromVersion",
    "fromReleaseVersion",
    "toVersion",
    "toReleaseVersion",
    "error",
    "cause",
    "executionArn",
];

/// The fleet state machine's output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub fleet: String,
    pub dry_run: bool,
    pub counts: CountsOutput,
    pub waves: Vec<WaveOutput>,
    pub failures: Vec<FailureOutput>,
    pub report: ReportLocation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountsOutput {
    pub targets: usize,
    pub updated: usize,
    pub up_to_date: usize,
    pub deferred: usize,
    pub would_update: usize,
    pub failed: usize,
    pub not_started: usize,
}

impl From<Counts> for CountsOutput {
    fn from(c: Counts) -> Self {
        Self {
            targets: c.targets,
            updated: c.updated,
            up_to_date: c.up_to_date,
            deferred: c.deferred,
            would_update: c.would_update,
            failed: c.failed,
            not_started: c.not_started,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveOutput {
    pub wave: u8,
    #[serde(flatten)]
    pub counts: CountsOutput,
}

impl From<WaveCounts> for WaveOutput {
    fn from(w: WaveCounts) -> Self {
        Self {
            wave: w.wave,
            counts: w.counts.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureOutput {
    pub account_id: Option<String>,
    pub cluster_name: Option<String>,
    pub nodegroup_name: Option<String>,
    pub wave: u8,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Where the report is: the stack's bucket, `fleet/<execution name>/report.{json,csv}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportLocation {
    pub bucket: String,
    pub json: String,
    pub csv: String,
}

impl ReportLocation {
    pub fn new(bucket: &str, fleet: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            json: format!("fleet/{fleet}/report.json"),
            csv: format!("fleet/{fleet}/report.csv"),
        }
    }
}

impl Summary {
    pub fn new(fleet: &str, dry_run: bool, records: &[Record], report: ReportLocation) -> Self {
        Self {
            fleet: fleet.to_owned(),
            dry_run,
            counts: Counts::of(records, dry_run).into(),
            waves: waves(records, dry_run)
                .into_iter()
                .map(Into::into)
                .collect(),
            failures: first_failures(records)
                .into_iter()
                .map(|r| FailureOutput {
                    account_id: r.account_id,
                    cluster_name: r.cluster_name,
                    nodegroup_name: r.nodegroup_name,
                    wave: r.wave,
                    error: r.error,
                    cause: r.cause,
                })
                .collect(),
            report,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(nodegroup: &str, status: Status, cause: Option<&str>) -> Record {
        Record {
            account_id: Some("111122223333".into()),
            cluster_name: Some("prod".into()),
            nodegroup_name: Some(nodegroup.into()),
            wave: 1,
            selector: None,
            planned: "Update".into(),
            status,
            outcome: None,
            update_id: None,
            update_status: None,
            from_version: Some("1.30".into()),
            from_release_version: None,
            to_version: Some("1.31".into()),
            to_release_version: None,
            error: status.is_failure().then(|| "UpdateFailed".into()),
            cause: cause.map(Into::into),
            execution_arn: None,
        }
    }

    #[test]
    fn json_and_csv_hold_the_same_columns() {
        let records = [
            record("a", Status::Succeeded, None),
            record(
                "b, with \"quotes\"",
                Status::Failed,
                Some("line one\nline two"),
            ),
        ];
        let json: serde_json::Value =
            serde_json::from_slice(&report_json(&records).unwrap()).unwrap();
        let keys: Vec<&str> = json[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted_columns = COLUMNS.to_vec();
        sorted_columns.sort_unstable();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        assert_eq!(sorted_keys, sorted_columns);
        assert_eq!(json[1]["status"], json!("FAILED"));
        assert_eq!(json[0]["selector"], json!(null));

        let csv = String::from_utf8(report_csv(&records).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            COLUMNS
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[1][0], "111122223333");
        assert_eq!(&rows[1][2], "b, with \"quotes\"");
        assert_eq!(&rows[1][15], "line one\nline two");
        assert_eq!(&rows[0][4], "");
    }

    #[test]
    fn a_report_reads_back_as_the_records_it_was_written_from() {
        let mut cluster = record("x", Status::Failed, Some("denied"));
        cluster.nodegroup_name = None;
        let records = vec![
            record("a", Status::Succeeded, None),
            record("b", Status::NotStarted, None),
            cluster,
        ];
        let back = read_report(&report_json(&records).unwrap()).unwrap();
        assert_eq!(back, records);
        assert!(read_report(br#"[{"clusterName": "c"}]"#).is_err());
        let bad_status = String::from_utf8(report_json(&records[..1]).unwrap())
            .unwrap()
            .replace("SUCCEEDED", "DONE");
        assert!(
            read_report(bad_status.as_bytes())
                .unwrap_err()
                .contains("DONE")
        );
    }

    #[test]
    fn an_empty_report_still_has_its_columns() {
        let csv = String::from_utf8(report_csv(&[]).unwrap()).unwrap();
        assert_eq!(csv.trim_end(), COLUMNS.join(","));
        assert_eq!(report_json(&[]).unwrap(), b"[]");
    }

    #[test]
    fn the_summary_is_the_documented_shape() {
        let records = [
            record("a", Status::Succeeded, None),
            record("b", Status::Failed, Some("boom")),
        ];
        let summary = Summary::new(
            "roll-1",
            false,
            &records,
            ReportLocation::new("bucket", "roll-1"),
        );
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            json!({
                "fleet": "roll-1", "dryRun": false,
                "counts": {"targets": 2, "updated": 1, "upToDate": 0, "deferred": 0, "wouldUpdate": 0, "failed": 1, "notStarted": 0},
                "waves": [{"wave": 1, "targets": 2, "updated": 1, "upToDate": 0, "deferred": 0, "wouldUpdate": 0, "failed": 1, "notStarted": 0}],
                "failures": [{"accountId": "111122223333", "clusterName": "prod", "nodegroupName": "b", "wave": 1, "error": "UpdateFailed", "cause": "boom"}],
                "report": {"bucket": "bucket", "json": "fleet/roll-1/report.json", "csv": "fleet/roll-1/report.csv"}
            })
        );
    }
}
