//! The one message a roll sends to the notification topic: readable in an e-mail, built
//! from the bounded summary (so it is bounded too, far under SNS's 256 KiB).

use std::fmt::Write as _;

use crate::lambda::report::Summary;

/// SNS refuses subjects past 100 characters.
const SUBJECT_CHARS: usize = 100;

/// The subject line: the roll, how it ended, the counts that matter.
pub fn subject(summary: &Summary, failed: bool) -> String {
    let c = &summary.counts;
    let ended = match (summary.dry_run, failed) {
        (true, _) => "dry run",
        (false, true) => "FAILED",
        (false, false) => "done",
    };
    let text = format!(
        "EKS fleet roll {ended}: {} updated, {} failed of {} ({})",
        c.updated, c.failed, c.targets, summary.fleet
    );
    // ASCII only, one line: SNS's rules for a subject.
    let text: String = text
        .chars()
        .map(|ch| {
            if ch.is_ascii() && !ch.is_ascii_control() {
                ch
            } else {
                '?'
            }
        })
        .collect();
    text.chars().take(SUBJECT_CHARS).collect()
}

/// The message body.
pub fn message(summary: &Summary, failed: bool) -> String {
    let c = &summary.counts;
    let mut m = String::new();
    let how = if summary.dry_run {
        "was a dry run: nothing was changed"
    } else if failed {
        "FAILED: more targets failed than it tolerates, so no later wave started"
    } else {
        "ended within its tolerance"
    };
    let _ = writeln!(m, "The EKS node group roll {} {how}.\n", summary.fleet);
    let _ = writeln!(m, "Targets:      {}", c.targets);
    let _ = writeln!(m, "Updated:      {}", c.updated);
    let _ = writeln!(m, "Up to date:   {}", c.up_to_date);
    let _ = writeln!(m, "Deferred:     {}", c.deferred);
    if summary.dry_run {
        let _ = writeln!(m, "Would update: {}", c.would_update);
    }
    let _ = writeln!(m, "Failed:       {}", c.failed);
    let _ = writeln!(m, "Not started:  {}", c.not_started);
    if !summary.waves.is_empty() {
        let _ = writeln!(m, "\nBy wave:");
        for w in &summary.waves {
            let _ = writeln!(
                m,
                "  wave {}: {} targets, {} updated, {} failed, {} not started",
                w.wave, w.counts.targets, w.counts.updated, w.counts.failed, w.counts.not_started
            );
        }
    }
    if !summary.failures.is_empty() {
        let shown = summary.failures.len();
        let _ = writeln!(m, "\nFailures ({} of {}):", shown, c.failed.max(shown));
        for f in &summary.failures {
            let place = match (&f.cluster_name, &f.nodegroup_name) {
                (Some(cluster), Some(nodegroup)) => format!("{cluster}/{nodegroup}"),
                (Some(cluster), None) => format!("{cluster}/(its node groups could not be listed)"),
                (None, _) => "(its clusters could not be listed)".to_owned(),
            };
            let account = f
                .account_id
                .as_deref()
                .map(|a| format!("{a}: "))
                .unwrap_or_default();
            let _ = writeln!(
                m,
                "  - {account}{place} (wave {}): {}{}",
                f.wave,
                f.error.as_deref().unwrap_or("failed"),
                f.cause
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            );
        }
    }
    let r = &summary.report;
    let _ = writeln!(
        m,
        "\nThe report, one line per node group:\n  s3://{}/{}\n  s3://{}/{}",
        r.bucket, r.json, r.bucket, r.csv
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fleet::roll::{Record, Status};
    use crate::lambda::report::ReportLocation;

    fn record(nodegroup: Option<&str>, status: Status) -> Record {
        Record {
            account_id: Some("111122223333".into()),
            cluster_name: Some("prod".into()),
            nodegroup_name: nodegroup.map(Into::into),
            wave: 0,
            selector: Some(0),
            planned: "Update".into(),
            status,
            outcome: None,
            update_id: None,
            update_status: None,
            from_version: None,
            from_release_version: None,
            to_version: None,
            to_release_version: None,
            error: status.is_failure().then(|| "UpdateFailed".into()),
            cause: status.is_failure().then(|| "PodEvictionFailure".into()),
            execution_arn: None,
        }
    }

    #[test]
    fn the_message_names_counts_failures_and_the_report() {
        let records = [
            record(Some("web"), Status::Succeeded),
            record(Some("batch"), Status::Failed),
            record(None, Status::Failed),
        ];
        let summary = Summary::new(
            "roll-7",
            false,
            &records,
            ReportLocation::new("b", "roll-7"),
        );
        let text = message(&summary, true);
        assert!(text.contains("roll-7 FAILED"), "{text}");
        assert!(text.contains("Failed:       2"), "{text}");
        assert!(
            text.contains("prod/batch (wave 0): UpdateFailed: PodEvictionFailure"),
            "{text}"
        );
        assert!(text.contains("could not be listed"), "{text}");
        assert!(text.contains("s3://b/fleet/roll-7/report.csv"), "{text}");
        let subject = subject(&summary, true);
        assert_eq!(
            subject,
            "EKS fleet roll FAILED: 1 updated, 2 failed of 3 (roll-7)"
        );
    }

    #[test]
    fn the_subject_fits_sns_rules_whatever_the_name() {
        let summary = Summary::new(&"é".repeat(80), true, &[], ReportLocation::new("b", "x"));
        let subject = subject(&summary, false);
        assert!(subject.chars().count() <= SUBJECT_CHARS);
        assert!(subject.is_ascii() && !subject.contains('\n'));
        assert!(subject.starts_with("EKS fleet roll dry run"));
    }
}
