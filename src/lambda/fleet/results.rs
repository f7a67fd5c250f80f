//! A wave's results as the distributed Map's ResultWriter leaves them in the bucket: a
//! manifest naming result files, each a JSON array of one record per child execution. Each
//! record becomes the [`Execution`] of the target whose record index its input carries.
//!
//! A child's `Input` and `Output` are JSON text in those files. A child that failed because
//! its nested update execution failed says `States.TaskFailed`, with that execution's
//! `DescribeExecution` answer as its cause: the update state machine's own error
//! (`UpdateFailed`, `UpdateCancelled`, or the function's errorType) and cause are read
//! from there, so the report never shows the generic name.

use serde::Deserialize;
use serde_json::Value;

use crate::core::fleet::roll::Execution;

/// The manifest's part this reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Manifest {
    pub result_files: ResultFiles,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct ResultFiles {
    #[serde(default)]
    pub succeeded: Vec<ResultFile>,
    #[serde(default)]
    pub failed: Vec<ResultFile>,
    #[serde(default)]
    pub pending: Vec<ResultFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultFile {
    pub key: String,
}

impl Manifest {
    /// Every result file's key, succeeded first.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let files = &self.result_files;
        files
            .succeeded
            .iter()
            .chain(&files.failed)
            .chain(&files.pending)
            .map(|f| f.key.as_str())
    }
}

/// One child execution's record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChildRecord {
    input: Option<Value>,
    output: Option<Value>,
    status: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

/// The records of one result file: `(record index, execution)`. A record without an index
/// in its input is not one of the roll's and is skipped.
pub fn read_results(bytes: &[u8]) -> Result<Vec<(usize, Execution)>, String> {
    let records: Vec<ChildRecord> =
        serde_json::from_slice(bytes).map_err(|e| format!("not a result file: {e}"))?;
    Ok(records
        .into_iter()
        .filter_map(|record| {
            let index = json_of(record.input.as_ref())?.get("index")?.as_u64()?;
            Some((usize::try_from(index).ok()?, execution(record)))
        })
        .collect())
}

/// A JSON field the files hold as text (or, from other writers, as JSON).
fn json_of(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::String(text) => serde_json::from_str(text).ok(),
        other => Some(other.clone()),
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn execution(record: ChildRecord) -> Execution {
    let status = record.status.clone().unwrap_or_else(|| "FAILED".to_owned());
    if status == "SUCCEEDED" {
        // The item's output: {executionArn, status, output: the update state machine's}.
        let output = json_of(record.output.as_ref()).unwrap_or(Value::Null);
        let update = output.get("output").cloned().unwrap_or(Value::Null);
        return Execution {
            arn: text(&output, "executionArn"),
            status: text(&output, "status").unwrap_or(status),
            outcome: text(&update, "outcome"),
            update_id: text(&update, "updateId"),
            update_status: text(&update, "updateStatus"),
            error: None,
            cause: None,
        };
    }
    // The nested execution's DescribeExecution answer, when that is what failed.
    let nested = record
        .cause
        .as_deref()
        .and_then(|cause| serde_json::from_str::<Value>(cause).ok())
        .filter(|v| v.get("ExecutionArn").is_some() && v.get("Status").is_some());
    match nested {
        Some(nested) => Execution {
            arn: text(&nested, "ExecutionArn"),
            status: text(&nested, "Status").unwrap_or(status),
            outcome: None,
            update_id: None,
            update_status: None,
            error: text(&nested, "Error").or(record.error),
            cause: text(&nested, "Cause").or(record.cause),
        },
        None => Execution {
            arn: None,
            status,
            outcome: None,
            update_id: None,
            update_status: None,
            error: record.error,
            cause: record.cause,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file(records: Value) -> Vec<u8> {
        serde_json::to_vec(&records).unwrap()
    }

    #[test]
    fn a_succeeded_child_gives_the_update_state_machines_outcome() {
        let output = json!({
            "executionArn": "arn:aws:states:us-east-1:1:execution:update:abc",
            "status": "SUCCEEDED",
            "output": {"outcome": "Started", "updateId": "u-1", "updateStatus": "Successful"}
        });
        let records = read_results(&file(json!([{
            "Input": json!({"index": 7, "request": {}}).to_string(),
            "Output": output.to_string(),
            "Status": "SUCCEEDED"
        }])))
        .unwrap();
        assert_eq!(records.len(), 1);
        let (index, execution) = &records[0];
        assert_eq!(*index, 7);
        assert_eq!(execution.status, "SUCCEEDED");
        assert_eq!(execution.outcome.as_deref(), Some("Started"));
        assert_eq!(execution.update_status.as_deref(), Some("Successful"));
        assert!(execution.arn.as_deref().unwrap().ends_with(":abc"));
    }

    #[test]
    fn a_failed_nested_execution_gives_its_own_error_not_task_failed() {
        let described = json!({
            "ExecutionArn": "arn:aws:states:us-east-1:1:execution:update:def",
            "Status": "FAILED",
            "Error": "UpdateFailed",
            "Cause": "EKS update u-2 ... ended Failed: PodEvictionFailure"
        });
        let records = read_results(&file(json!([{
            "Input": json!({"index": 2}).to_string(),
            "Status": "FAILED",
            "Error": "States.TaskFailed",
            "Cause": described.to_string()
        }, {
            "Input": json!({"index": 3}).to_string(),
            "Status": "FAILED",
            "Error": "StepFunctions.ExecutionLimitExceededException",
            "Cause": "too many executions"
        }, {
            "Input": json!({"no": "index"}).to_string(),
            "Status": "FAILED"
        }])))
        .unwrap();
        assert_eq!(records.len(), 2);
        let failed = &records[0].1;
        assert_eq!(failed.error.as_deref(), Some("UpdateFailed"));
        assert!(
            failed
                .cause
                .as_deref()
                .unwrap()
                .contains("PodEvictionFailure")
        );
        assert!(failed.arn.as_deref().unwrap().ends_with(":def"));
        let other = &records[1].1;
        assert_eq!(
            other.error.as_deref(),
            Some("StepFunctions.ExecutionLimitExceededException")
        );
        assert_eq!(other.arn, None);
    }

    #[test]
    fn manifests_and_inputs_given_as_json_are_read() {
        let records = read_results(&file(
            json!([{"Input": {"index": 1}, "Status": "TIMED_OUT"}]),
        ))
        .unwrap();
        assert_eq!(records[0].1.status, "TIMED_OUT");
        let manifest: Manifest = serde_json::from_value(json!({
            "DestinationBucket": "b", "MapRunArn": "arn",
            "ResultFiles": {"FAILED": [{"Key": "p/f.json", "Size": 1}], "PENDING": [],
                            "SUCCEEDED": [{"Key": "p/s.json", "Size": 2}]}
        }))
        .unwrap();
        assert_eq!(
            manifest.keys().collect::<Vec<_>>(),
            ["p/s.json", "p/f.json"]
        );
        assert!(read_results(b"{not json").is_err());
    }
}
