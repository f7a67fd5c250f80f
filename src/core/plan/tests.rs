//! The plan's rules, a row each. Rows assert the refusal's [`Reason`]; the wording is
//! checked once per reason, in `refusals_say_what_to_do`.

use std::time::Duration;

use super::release::DAY;
use super::*;
use crate::core::ami::AmiType;
use crate::core::error::{Error, ErrorKind, Subject};
use crate::core::live::{
    ClusterStatus, CurrentRelease, LaunchTemplateState, NodegroupStatus, PublishedRelease,
    UpdateKind, UpdateStatus, UpdateView,
};
use serde_json::{Value, json};

fn request(fields: Value) -> UpdateRequest {
    let mut object = json!({"clusterName": "prod", "nodegroupName": "workers"});
    for (k, v) in fields.as_object().unwrap() {
        object[k] = v.clone();
    }
    UpdateRequest::from_json(object.as_object().unwrap()).unwrap()
}

fn v(text: &str) -> MinorVersion {
    MinorVersion::parse(text).unwrap()
}

fn nodegroup(version: &str, release: &str, ami_type: &str, status: &str) -> NodegroupState {
    NodegroupState {
        version: v(version),
        release_version: Some(CurrentRelease::parse(release)),
        ami_type: Some(AmiType::parse(ami_type)),
        status: NodegroupStatus::parse(status),
        launch_template: None,
        tags: Default::default(),
    }
}

fn al2023(version: &str, release: &str) -> NodegroupState {
    nodegroup(version, release, "AL2023_x86_64_STANDARD", "ACTIVE")
}

fn with_template(mut ng: NodegroupState, version: &str) -> NodegroupState {
    ng.launch_template = Some(LaunchTemplateState {
        id: Some("lt-0123456789abcdef0".into()),
        name: Some("workers-lt".into()),
        version: Some(version.into()),
    });
    ng
}

fn cluster_with(version: &str, status: &str) -> ClusterState {
    ClusterState {
        version: v(version),
        status: Some(ClusterStatus::parse(status)),
    }
}

fn cluster(version: &str) -> ClusterState {
    cluster_with(version, "ACTIVE")
}

fn plan_of(
    req: &UpdateRequest,
    event: &str,
    ng: &NodegroupState,
    cp: &ClusterState,
    latest: LatestRelease,
) -> Result<Plan, Refusal> {
    Live::new(req, ng, cp).plan(event, latest, now())
}

fn decide(req: Value, ng: &NodegroupState, cp: &str) -> Result<Plan, Refusal> {
    decide_with(req, ng, cp, LatestRelease::NotNeeded)
}

fn decide_with(
    req: Value,
    ng: &NodegroupState,
    cp: &str,
    latest: LatestRelease,
) -> Result<Plan, Refusal> {
    plan_of(&request(req), "event-1", ng, &cluster(cp), latest)
}

/// A fixed "now" for release ages: 2026-11-24T00:00:00Z.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_478_400)
}

fn days_ago(days: u64) -> SystemTime {
    now() - DAY * u32::try_from(days).unwrap()
}

fn release(text: &str) -> ReleaseVersion {
    ReleaseVersion::parse(text).unwrap()
}

fn known(text: &str, published_days_ago: u64) -> LatestRelease {
    LatestRelease::Known(PublishedRelease {
        release: release(text),
        published: Some(days_ago(published_days_ago)),
    })
}

fn subject() -> Subject {
    let req = request(json!({}));
    Subject {
        cluster: req.cluster().clone(),
        nodegroup: req.nodegroup().clone(),
    }
}

/// A failed SSM read, as the adapter reports it.
fn unreadable() -> LatestRelease {
    LatestRelease::Unreadable {
        parameter: "/aws/service/x".into(),
        error: Error::new(
            ErrorKind::AccessDenied,
            &subject(),
            "access denied to ssm:GetParameter",
        ),
    }
}

/// The reason a plan was refused.
fn reason(result: Result<Plan, Refusal>) -> Reason {
    match result {
        Err(refusal) => refusal.reason(),
        Ok(plan) => panic!("should be refused, got {plan:?}"),
    }
}

/// Asserts the request is refused for `expected`.
fn refused(req: Value, ng: &NodegroupState, cp: &str, expected: Reason) {
    assert_eq!(reason(decide(req.clone(), ng, cp)), expected, "{req}");
}

fn decision(req: Value, ng: &NodegroupState, cp: &str) -> Decision {
    decide(req.clone(), ng, cp)
        .unwrap_or_else(|e| panic!("{req} refused: {e:?}"))
        .decision
}

#[test]
fn resolves_the_target_minor() {
    let ng = al2023("1.30", "1.30.4-20241109");
    let cases = [
        (json!({}), "1.30"),
        (json!({"version": "cluster"}), "1.31"),
        (json!({"version": "1.31"}), "1.31"),
        (json!({"version": "1.30"}), "1.30"),
    ];
    for (req, expected) in cases {
        let plan = decide(req.clone(), &ng, "1.31").unwrap();
        assert_eq!(plan.target.version, Some(v(expected)), "{req}");
    }
}

#[test]
fn rejects_target_above_the_control_plane() {
    refused(
        json!({"version": "1.32"}),
        &al2023("1.30", "1.30.4-20241109"),
        "1.31",
        Reason::AboveControlPlane,
    );
}

#[test]
fn rejects_rollback_below_current_minor() {
    refused(
        json!({"version": "1.29"}),
        &al2023("1.30", "1.30.4-20241109"),
        "1.31",
        Reason::Rollback,
    );
    // "cluster" can point below the node group only if the cluster is behind it.
    refused(
        json!({"version": "cluster"}),
        &al2023("1.31", "1.31.2-20241115"),
        "1.30",
        Reason::Rollback,
    );
}

#[test]
fn versions_compare_numerically_not_as_text() {
    let ng = al2023("1.9", "1.9.0-20200101");
    assert_eq!(
        decision(json!({"version": "1.10"}), &ng, "1.10"),
        Decision::Start
    );
    refused(
        json!({"version": "1.9"}),
        &al2023("1.10", "1.10.0-20200101"),
        "1.10",
        Reason::Rollback,
    );
}

#[test]
fn rejects_release_older_than_the_node_groups() {
    let cases = [
        (al2023("1.31", "1.31.2-20241115"), "1.31.2-20241101"),
        (al2023("1.31", "1.31.3-20241101"), "1.31.2-20241201"),
        (
            nodegroup(
                "1.31",
                "1.31-2024.11.12",
                "WINDOWS_CORE_2022_x86_64",
                "ACTIVE",
            ),
            "1.31-2024.10.8",
        ),
        (
            nodegroup("1.31", "1.26.1-943d9a41", "BOTTLEROCKET_x86_64", "ACTIVE"),
            "1.25.0-aaaaaaaa",
        ),
    ];
    for (ng, release) in cases {
        refused(
            json!({"releaseVersion": release}),
            &ng,
            "1.31",
            Reason::ReleaseRollback,
        );
    }
}

#[test]
fn release_of_another_format_or_minor_is_not_a_rollback() {
    // Moving to the next minor: the new minor's releases are not compared to the old one's.
    let ng = al2023("1.30", "1.30.9-20250101");
    assert_eq!(
        decision(
            json!({"version": "1.31", "releaseVersion": "1.31.1-20241001"}),
            &ng,
            "1.31"
        ),
        Decision::Start
    );
    // Bottlerocket commits with equal numbers cannot be ordered: let EKS judge.
    let br = nodegroup("1.31", "1.26.1-943d9a41", "BOTTLEROCKET_x86_64", "ACTIVE");
    assert_eq!(
        decision(json!({"releaseVersion": "1.26.1-00000000"}), &br, "1.31"),
        Decision::Start
    );
}

#[test]
fn rejects_release_whose_minor_differs_from_the_target() {
    let cases = [
        (
            "AL2023_x86_64_STANDARD",
            "1.30.4-20241109",
            json!({"version": "1.31", "releaseVersion": "1.30.9-20250101"}),
        ),
        (
            "AL2_x86_64",
            "1.30.4-20241109",
            json!({"releaseVersion": "1.31.2-20241115"}),
        ),
        (
            "WINDOWS_FULL_2022_x86_64",
            "1.30-2024.11.12",
            json!({"releaseVersion": "1.31-2024.11.12"}),
        ),
    ];
    for (ami, release, req) in cases {
        let ng = nodegroup("1.30", release, ami, "ACTIVE");
        refused(req, &ng, "1.31", Reason::ReleaseMinorMismatch);
    }
}

#[test]
fn bottlerocket_release_numbers_are_not_a_kubernetes_minor() {
    let ng = nodegroup("1.30", "1.26.1-943d9a41", "BOTTLEROCKET_ARM_64", "ACTIVE");
    assert_eq!(
        decision(
            json!({"version": "1.31", "releaseVersion": "1.27.0-abcdef12"}),
            &ng,
            "1.31"
        ),
        Decision::Start
    );
}

#[test]
fn rejects_version_or_release_for_custom_ami() {
    let ng = with_template(nodegroup("1.30", "", "CUSTOM", "ACTIVE"), "3");
    for req in [
        json!({"version": "1.30"}),
        json!({"version": "cluster"}),
        json!({"releaseVersion": "1.30.4-20241109"}),
    ] {
        refused(req, &ng, "1.30", Reason::CustomAmiVersion);
    }
}

#[test]
fn custom_ami_moves_by_launch_template_version_only_and_sends_no_version() {
    let ng = with_template(nodegroup("1.30", "", "CUSTOM", "ACTIVE"), "3");
    let plan = decide(
        json!({"launchTemplate": {"name": "workers-lt", "version": "4"}}),
        &ng,
        "1.31",
    )
    .unwrap();
    assert_eq!(plan.decision, Decision::Start);
    assert_eq!(plan.target.version, None);
    let call = UpdateCall::new(&request(json!({})), &plan.target);
    assert_eq!(call.version, None);
    assert_eq!(
        decision(
            json!({"launchTemplate": {"name": "workers-lt", "version": "3"}}),
            &ng,
            "1.31"
        ),
        Decision::UpToDate
    );
    assert_eq!(decision(json!({}), &ng, "1.31"), Decision::UpToDate);
}

#[test]
fn rejects_launch_template_the_node_group_was_not_created_with() {
    let plain = al2023("1.31", "1.31.2-20241115");
    refused(
        json!({"launchTemplate": {"id": "lt-0123456789abcdef0"}}),
        &plain,
        "1.31",
        Reason::NoLaunchTemplate,
    );
    let ng = with_template(al2023("1.31", "1.31.2-20241115"), "1");
    refused(
        json!({"launchTemplate": {"id": "lt-0fffffffffffffff0", "version": "2"}}),
        &ng,
        "1.31",
        Reason::OtherLaunchTemplate,
    );
    refused(
        json!({"launchTemplate": {"name": "other", "version": "2"}}),
        &ng,
        "1.31",
        Reason::OtherLaunchTemplate,
    );
    for lt in [
        json!({"id": "lt-0123456789abcdef0", "version": "2"}),
        json!({"name": "workers-lt", "version": "2"}),
    ] {
        assert_eq!(
            decision(json!({"launchTemplate": lt}), &ng, "1.31"),
            Decision::Start
        );
    }
}

#[test]
fn rejects_al2_at_or_above_1_33() {
    let ng = nodegroup("1.32", "1.32.1-20250101", "AL2_x86_64", "ACTIVE");
    refused(json!({"version": "1.33"}), &ng, "1.33", Reason::Al2Ended);
    refused(
        json!({"version": "1.34"}),
        &nodegroup("1.33", "", "AL2_ARM_64", "ACTIVE"),
        "1.34",
        Reason::Al2Ended,
    );
    assert_eq!(
        decision(json!({"version": "1.32"}), &ng, "1.33"),
        Decision::Start
    );
    // AL2023 is fine there.
    assert_eq!(
        decision(
            json!({"version": "1.33"}),
            &al2023("1.32", "1.32.1-20250101"),
            "1.33"
        ),
        Decision::Start
    );
}

#[test]
fn rejects_node_groups_that_are_not_active_degraded_or_updating() {
    for status in ["CREATING", "DELETING", "CREATE_FAILED", "DELETE_FAILED"] {
        let ng = nodegroup("1.30", "1.30.4-20241109", "AL2023_x86_64_STANDARD", status);
        refused(
            json!({"version": "1.31"}),
            &ng,
            "1.31",
            Reason::NodegroupNotUpdatable,
        );
    }
    let degraded = nodegroup(
        "1.30",
        "1.30.4-20241109",
        "AL2023_x86_64_STANDARD",
        "DEGRADED",
    );
    assert_eq!(
        decision(json!({"version": "1.31"}), &degraded, "1.31"),
        Decision::Start
    );
}

#[test]
fn updating_node_group_goes_to_find_the_running_update() {
    let ng = nodegroup(
        "1.30",
        "1.30.4-20241109",
        "AL2023_x86_64_STANDARD",
        "UPDATING",
    );
    assert_eq!(
        decision(json!({"version": "1.31"}), &ng, "1.31"),
        Decision::FindRunning
    );
    assert_eq!(
        decision(json!({"version": "1.31", "dryRun": true}), &ng, "1.31"),
        Decision::FindRunning
    );
    // The checks still come first.
    refused(
        json!({"version": "1.32"}),
        &ng,
        "1.31",
        Reason::AboveControlPlane,
    );
}

#[test]
fn up_to_date_makes_no_update_call() {
    let ng = with_template(al2023("1.31", "1.31.2-20241115"), "5");
    let cases = [
        json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"}),
        json!({"version": "cluster", "releaseVersion": "1.31.2-20241115"}),
        json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "5"}}),
        json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt"}}),
        json!({"releaseVersion": "1.31.2-20241115", "dryRun": true}),
    ];
    for req in cases {
        assert_eq!(
            decision(req.clone(), &ng, "1.31"),
            Decision::UpToDate,
            "{req}"
        );
    }
}

#[test]
fn not_up_to_date_when_anything_requested_differs() {
    let ng = with_template(al2023("1.31", "1.31.2-20241115"), "5");
    let cases = [
        // No release given: which is the latest is EKS's call.
        json!({}),
        json!({"version": "1.31"}),
        json!({"releaseVersion": "1.31.3-20241201"}),
        json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "6"}}),
        json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "$Latest"}}),
        json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "$Default"}}),
    ];
    for req in cases {
        assert_eq!(decision(req.clone(), &ng, "1.32"), Decision::Start, "{req}");
    }
    assert_eq!(
        decision(json!({"version": "1.32"}), &ng, "1.32"),
        Decision::Start
    );
}

#[test]
fn dry_run_decides_but_changes_nothing() {
    let ng = al2023("1.30", "1.30.4-20241109");
    assert_eq!(
        decision(json!({"version": "1.31", "dryRun": true}), &ng, "1.31"),
        Decision::DryRun
    );
}

#[test]
fn target_carries_request_fields_and_a_token() {
    let ng = with_template(al2023("1.30", "1.30.4-20241109"), "1");
    let plan = decide(
        json!({"version": "cluster", "releaseVersion": "1.31.2-20241115", "force": true,
               "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "2"}}),
        &ng,
        "1.31",
    )
    .unwrap();
    let call = UpdateCall::new(&request(json!({})), &plan.target);
    assert_eq!(call.version.as_deref(), Some("1.31"));
    assert_eq!(call.release_version.as_deref(), Some("1.31.2-20241115"));
    assert!(call.force);
    assert_eq!(
        call.launch_template,
        Some(LaunchTemplateCall {
            id: Some("lt-0123456789abcdef0".into()),
            name: None,
            version: Some("2".into())
        })
    );
    assert_eq!(call.client_request_token.len(), 64);
}

#[test]
fn given_token_is_used_verbatim() {
    let plan = decide(
        json!({"clientRequestToken": "exec-42"}),
        &al2023("1.30", "1.30.4-20241109"),
        "1.31",
    )
    .unwrap();
    assert_eq!(plan.target.client_request_token, "exec-42");
}

#[test]
fn derived_token_follows_the_event_and_the_resolved_target() {
    let ng = al2023("1.30", "1.30.4-20241109");
    let token = |req: Value, event: &str, cp: &str| {
        plan_of(
            &request(req),
            event,
            &ng,
            &cluster(cp),
            LatestRelease::NotNeeded,
        )
        .unwrap()
        .target
        .client_request_token
    };
    let a = token(json!({"version": "cluster"}), "e1", "1.31");
    assert_eq!(a, token(json!({"version": "cluster"}), "e1", "1.31"));
    // "cluster" resolves to 1.31 here: the same target as asking for 1.31.
    assert_eq!(a, token(json!({"version": "1.31"}), "e1", "1.31"));
    assert_ne!(a, token(json!({"version": "cluster"}), "e2", "1.31"));
    assert_ne!(a, token(json!({"version": "cluster"}), "e1", "1.30"));
    assert_ne!(
        a,
        token(json!({"version": "1.31", "force": true}), "e1", "1.31")
    );
}

fn update(kind: &str, params: &[(&str, &str)]) -> UpdateView {
    UpdateView {
        id: "u-1".into(),
        status: UpdateStatus::InProgress,
        kind: UpdateKind::parse(kind),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        created_at: None,
        errors: vec![],
    }
}

fn target_of(req: Value, ng: &NodegroupState) -> Target {
    decide(req, ng, "1.31").unwrap().target
}

#[test]
fn running_update_matches_the_target() {
    let ng = with_template(
        nodegroup(
            "1.30",
            "1.30.4-20241109",
            "AL2023_x86_64_STANDARD",
            "UPDATING",
        ),
        "1",
    );
    let cases = [
        (
            json!({"version": "1.31"}),
            vec![("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
        ),
        (
            json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"}),
            vec![("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
        ),
        (
            json!({"launchTemplate": {"name": "workers-lt", "version": "2"}}),
            vec![
                ("Version", "1.30"),
                ("LaunchTemplateName", "workers-lt"),
                ("LaunchTemplateVersion", "2"),
            ],
        ),
    ];
    for (req, params) in cases {
        let running = update("VersionUpdate", &params);
        let judged = judge_running(&target_of(req.clone(), &ng), Some(running.clone()));
        assert_eq!(judged.ok(), Some(running), "{req}");
    }
}

#[test]
fn running_update_that_differs_is_named() {
    let ng = with_template(
        nodegroup(
            "1.30",
            "1.30.4-20241109",
            "AL2023_x86_64_STANDARD",
            "UPDATING",
        ),
        "1",
    );
    let cases = [
        (
            json!({"version": "1.31"}),
            "ConfigUpdate",
            vec![],
            "a ConfigUpdate (u-1) is running",
        ),
        (
            json!({"version": "1.31"}),
            "VersionUpdate",
            vec![("Version", "1.30")],
            "version 1.30 instead of 1.31",
        ),
        (
            json!({"version": "1.31"}),
            "VersionUpdate",
            vec![],
            "version unknown instead of 1.31",
        ),
        (
            json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"}),
            "VersionUpdate",
            vec![("Version", "1.31"), ("ReleaseVersion", "1.31.1-20241001")],
            "releaseVersion 1.31.1-20241001 instead of 1.31.2-20241115",
        ),
        (
            json!({"launchTemplate": {"name": "workers-lt", "version": "3"}}),
            "VersionUpdate",
            vec![("Version", "1.30"), ("LaunchTemplateVersion", "2")],
            "launch template version 2 instead of 3",
        ),
    ];
    for (req, kind, params, needle) in cases {
        let refusal =
            judge_running(&target_of(req.clone(), &ng), Some(update(kind, &params))).unwrap_err();
        assert_eq!(refusal.reason(), Reason::OtherUpdateRunning);
        let error = refusal.into_error(&subject());
        assert_eq!(error.update_id(), Some("u-1"));
        assert!(error.to_string().contains(needle), "{req}: {error}");
    }
}

#[test]
fn dry_run_call_is_the_exact_request() {
    let ng = al2023("1.30", "1.30.4-20241109");
    let req = request(json!({"version": "1.31", "clientRequestToken": "t-1", "dryRun": true}));
    let plan = plan_of(&req, "e", &ng, &cluster("1.31"), LatestRelease::NotNeeded).unwrap();
    assert_eq!(
        UpdateCall::new(&req, &plan.target),
        UpdateCall {
            cluster_name: "prod".into(),
            nodegroup_name: "workers".into(),
            version: Some("1.31".into()),
            release_version: None,
            launch_template: None,
            force: false,
            client_request_token: "t-1".into(),
        }
    );
}

// ---------------------------------------------------------------- release awareness

#[test]
fn at_the_latest_release_is_up_to_date() {
    let ng = al2023("1.31", "1.31.7-20251120");
    let plan = decide_with(json!({}), &ng, "1.31", known("1.31.7-20251120", 10)).unwrap();
    assert_eq!(plan.decision, Decision::UpToDate);
    assert_eq!(
        plan.target.latest,
        Some(LatestKnown {
            release: release("1.31.7-20251120"),
            published: Some(days_ago(10)),
            age_days: Some(10),
        })
    );
}

#[test]
fn past_the_latest_release_is_up_to_date_never_backwards() {
    // SSM can move backwards (a release pulled); the node group must not follow it.
    let ng = al2023("1.31", "1.31.8-20251201");
    let plan = decide_with(
        json!({"minReleaseAgeDays": 3}),
        &ng,
        "1.31",
        known("1.31.7-20251120", 10),
    )
    .unwrap();
    assert_eq!(plan.decision, Decision::UpToDate);
}

#[test]
fn behind_the_latest_release_starts_and_lets_eks_choose_without_a_gate() {
    let ng = al2023("1.31", "1.31.2-20241115");
    let plan = decide_with(json!({}), &ng, "1.31", known("1.31.7-20251120", 1)).unwrap();
    assert_eq!(plan.decision, Decision::Start);
    assert_eq!(plan.target.release_version, None);
    assert_eq!(
        plan.target.latest.map(|l| l.release),
        Some(release("1.31.7-20251120"))
    );
}

#[test]
fn a_new_minor_is_never_up_to_date() {
    let ng = al2023("1.30", "1.30.9-20251120");
    let plan = decide_with(
        json!({"version": "1.31"}),
        &ng,
        "1.31",
        known("1.31.7-20251120", 30),
    )
    .unwrap();
    assert_eq!(plan.decision, Decision::Start);
}

#[test]
fn bottlerocket_at_the_latest_is_up_to_date_and_another_commit_is_not() {
    let ng = nodegroup("1.31", "1.26.1-943d9a41", "BOTTLEROCKET_x86_64", "ACTIVE");
    assert_eq!(
        decide_with(json!({}), &ng, "1.31", known("1.26.1-943d9a41", 5))
            .unwrap()
            .decision,
        Decision::UpToDate
    );
    assert_eq!(
        decide_with(json!({}), &ng, "1.31", known("1.26.1-0000abcd", 5))
            .unwrap()
            .decision,
        Decision::Start
    );
    assert_eq!(
        decide_with(json!({}), &ng, "1.31", known("1.25.0-0000abcd", 5))
            .unwrap()
            .decision,
        Decision::UpToDate
    );
}

#[test]
fn unknown_latest_without_a_gate_goes_on() {
    let ng = al2023("1.31", "1.31.2-20241115");
    for latest in [
        LatestRelease::Unpublished { parameter: None },
        LatestRelease::Unpublished {
            parameter: Some("/aws/service/x".into()),
        },
        unreadable(),
    ] {
        let shown = format!("{latest:?}");
        let plan = decide_with(json!({}), &ng, "1.31", latest).unwrap();
        assert_eq!(plan.decision, Decision::Start, "{shown}");
        assert_eq!(plan.target.latest, None);
    }
}

#[test]
fn soak_gate_defers_a_release_younger_than_the_minimum() {
    let ng = al2023("1.31", "1.31.2-20241115");
    let plan = decide_with(
        json!({"minReleaseAgeDays": 7}),
        &ng,
        "1.31",
        known("1.31.7-20251120", 6),
    )
    .unwrap();
    assert_eq!(plan.decision, Decision::Deferred);
    assert_eq!(plan.target.latest.and_then(|l| l.age_days), Some(6));
    assert_eq!(plan.target.release_version, None);
    // Just under the minimum is still too young.
    let almost = LatestRelease::Known(PublishedRelease {
        release: release("1.31.7-20251120"),
        published: Some(now() - DAY * 7 + Duration::from_secs(1)),
    });
    assert_eq!(
        decide_with(json!({"minReleaseAgeDays": 7}), &ng, "1.31", almost)
            .unwrap()
            .decision,
        Decision::Deferred
    );
}

#[test]
fn soak_gate_sends_a_soaked_release_explicitly() {
    let ng = al2023("1.31", "1.31.2-20241115");
    for days in [7, 30] {
        let plan = decide_with(
            json!({"minReleaseAgeDays": 7}),
            &ng,
            "1.31",
            known("1.31.7-20251120", days),
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::Start);
        assert_eq!(
            plan.target
                .release_version
                .as_ref()
                .map(ReleaseVersion::as_str),
            Some("1.31.7-20251120")
        );
    }
    let zero = decide_with(
        json!({"minReleaseAgeDays": 0}),
        &ng,
        "1.31",
        known("1.31.7-20251120", 0),
    )
    .unwrap();
    assert_eq!(zero.decision, Decision::Start);
}

#[test]
fn soak_gate_dry_run_shows_the_release_it_would_send() {
    let ng = al2023("1.31", "1.31.2-20241115");
    let req = request(json!({"minReleaseAgeDays": 7, "dryRun": true}));
    let plan = plan_of(
        &req,
        "e",
        &ng,
        &cluster("1.31"),
        known("1.31.7-20251120", 9),
    )
    .unwrap();
    assert_eq!(plan.decision, Decision::DryRun);
    assert_eq!(
        UpdateCall::new(&req, &plan.target)
            .release_version
            .as_deref(),
        Some("1.31.7-20251120")
    );
}

#[test]
fn soak_gate_token_is_bound_to_the_release_it_sends() {
    let ng = al2023("1.31", "1.31.2-20241115");
    let a = decide_with(
        json!({"minReleaseAgeDays": 7}),
        &ng,
        "1.31",
        known("1.31.7-20251120", 9),
    )
    .unwrap();
    let b = decide_with(
        json!({"minReleaseAgeDays": 7}),
        &ng,
        "1.31",
        known("1.31.8-20251201", 9),
    )
    .unwrap();
    assert_ne!(a.target.client_request_token, b.target.client_request_token);
}

#[test]
fn soak_gate_that_cannot_see_lets_nothing_through() {
    let ng = al2023("1.31", "1.31.2-20241115");
    let gate = json!({"minReleaseAgeDays": 7});
    let undated = LatestRelease::Known(PublishedRelease {
        release: release("1.31.7-20251120"),
        published: None,
    });
    assert_eq!(
        reason(decide_with(gate.clone(), &ng, "1.31", undated)),
        Reason::SoakGateBlind
    );
    let blind = decide_with(gate.clone(), &ng, "1.31", unreadable()).unwrap_err();
    assert_eq!(blind.reason(), Reason::SoakGateBlind);
    // The failed read is reported under its own name, with why the gate needed it.
    let error = blind.into_error(&subject());
    assert_eq!(error.kind(), ErrorKind::AccessDenied);
    assert!(
        error.to_string().contains("minReleaseAgeDays is set"),
        "{error}"
    );
    assert!(error.to_string().contains("ssm:GetParameter"), "{error}");

    let unpublished = LatestRelease::Unpublished {
        parameter: Some("/aws/service/eks/optimized-ami/1.31/x".into()),
    };
    assert_eq!(
        reason(decide_with(gate.clone(), &ng, "1.31", unpublished)),
        Reason::SoakGateNothingPublished
    );
    let windows = nodegroup(
        "1.31",
        "1.31-2024.11.12",
        "WINDOWS_CORE_2022_x86_64",
        "ACTIVE",
    );
    let none = || LatestRelease::Unpublished { parameter: None };
    assert_eq!(
        reason(decide_with(gate.clone(), &windows, "1.31", none())),
        Reason::SoakGateNothingPublished
    );
    let custom = with_template(nodegroup("1.31", "", "CUSTOM", "ACTIVE"), "3");
    let req = json!({"minReleaseAgeDays": 7, "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "4"}});
    assert_eq!(
        reason(decide_with(req, &custom, "1.31", none())),
        Reason::SoakGateCustomAmi
    );
}

#[test]
fn soak_gate_leaves_an_explicit_release_alone() {
    let ng = al2023("1.31", "1.31.2-20241115");
    let plan = decide_with(
        json!({"minReleaseAgeDays": 7, "releaseVersion": "1.31.3-20241201"}),
        &ng,
        "1.31",
        LatestRelease::NotNeeded,
    )
    .unwrap();
    assert_eq!(plan.decision, Decision::Start);
}

#[test]
fn latest_release_is_looked_up_only_when_step_6_needs_it() {
    let cp = cluster("1.31");
    let lookup =
        |req: Value, ng: &NodegroupState| Live::new(&request(req), ng, &cp).release_lookup();
    let active = al2023("1.31", "1.31.2-20241115");
    assert_eq!(
        lookup(json!({}), &active),
        ReleaseLookup::Read("/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version".into())
    );
    // At the target minor, not the node group's.
    assert_eq!(
        lookup(json!({"version": "cluster"}), &al2023("1.30", "1.30.4-20241109")),
        ReleaseLookup::Read("/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version".into())
    );
    assert_eq!(
        lookup(json!({"releaseVersion": "1.31.3-20241201"}), &active),
        ReleaseLookup::NotNeeded
    );
    let updating = nodegroup(
        "1.31",
        "1.31.2-20241115",
        "AL2023_x86_64_STANDARD",
        "UPDATING",
    );
    assert_eq!(lookup(json!({}), &updating), ReleaseLookup::NotNeeded);
    let windows = nodegroup(
        "1.31",
        "1.31-2024.11.12",
        "WINDOWS_FULL_2022_x86_64",
        "DEGRADED",
    );
    assert_eq!(lookup(json!({}), &windows), ReleaseLookup::NothingPublished);
}

#[test]
fn a_cluster_being_updated_is_busy_and_one_not_active_refuses() {
    let ng = al2023("1.30", "1.30.4-20241109");
    let req = request(json!({"version": "1.31"}));
    let decide = |status: &str| {
        reason(plan_of(
            &req,
            "e",
            &ng,
            &cluster_with("1.31", status),
            LatestRelease::NotNeeded,
        ))
    };
    assert_eq!(decide("UPDATING"), Reason::ClusterUpdating);
    for status in ["CREATING", "DELETING", "FAILED", "PENDING", "SOMETHING_NEW"] {
        assert_eq!(decide(status), Reason::ClusterNotActive, "{status}");
    }
    // A cluster that reports no status is not held against the node group.
    let silent = ClusterState {
        version: v("1.31"),
        status: None,
    };
    assert!(plan_of(&req, "e", &ng, &silent, LatestRelease::NotNeeded).is_ok());
}

#[test]
fn a_running_update_matches_a_symbolic_launch_template_version() {
    let ng = with_template(nodegroup("1.30", "", "CUSTOM", "UPDATING"), "3");
    for symbolic in ["$Latest", "$Default"] {
        let target = target_of(
            json!({"launchTemplate": {"name": "workers-lt", "version": symbolic}}),
            &ng,
        );
        let running = update(
            "VersionUpdate",
            &[
                ("LaunchTemplateName", "workers-lt"),
                ("LaunchTemplateVersion", "4"),
            ],
        );
        let judged = judge_running(&target, Some(running.clone()));
        assert_eq!(judged.ok(), Some(running), "{symbolic}");
    }
}

#[test]
fn a_running_update_that_has_just_ended_is_retried() {
    let ng = al2023("1.30", "1.30.4-20241109");
    let refusal = judge_running(&target_of(json!({"version": "1.31"}), &ng), None).unwrap_err();
    assert_eq!(refusal.reason(), Reason::UpdateJustEnded);
    let error = refusal.into_error(&subject());
    assert_eq!(error.kind(), ErrorKind::UpdateInProgress);
    assert_eq!(error.update_id(), None);
}

/// The wording, once per reason: each refusal names what was wrong and what to do, and
/// maps to the errorType of the contract.
#[test]
fn refusals_say_what_to_do() {
    let ng = al2023("1.30", "1.30.4-20241109");
    let custom = with_template(nodegroup("1.30", "", "CUSTOM", "ACTIVE"), "3");
    let plain_custom = nodegroup("1.30", "", "CUSTOM", "ACTIVE");
    let lt = json!({"launchTemplate": {"id": "lt-0fffffffffffffff0", "version": "2"}});
    let al2 = nodegroup("1.32", "1.32.1-20250101", "AL2_x86_64", "ACTIVE");
    let gate = json!({"minReleaseAgeDays": 7});
    let cases: Vec<(Result<Plan, Refusal>, Reason, ErrorKind, &str)> = vec![
        (
            decide(json!({"version": "1.32"}), &ng, "1.31"),
            Reason::AboveControlPlane,
            ErrorKind::PreconditionFailed,
            "upgrade the cluster first, or ask for 1.31 or \"cluster\"",
        ),
        (
            decide(json!({"version": "1.29"}), &ng, "1.31"),
            Reason::Rollback,
            ErrorKind::PreconditionFailed,
            "node groups cannot be rolled back; ask for 1.30 or later",
        ),
        (
            decide(json!({"releaseVersion": "1.30.4-20241001"}), &ng, "1.31"),
            Reason::ReleaseRollback,
            ErrorKind::PreconditionFailed,
            "older than the node group's 1.30.4-20241109: AMI releases cannot be rolled back",
        ),
        (
            decide(json!({"releaseVersion": "1.31.2-20241115"}), &ng, "1.31"),
            Reason::ReleaseMinorMismatch,
            ErrorKind::PreconditionFailed,
            "is built for Kubernetes 1.31 but the target version is 1.30",
        ),
        (
            decide(json!({"version": "1.30"}), &custom, "1.30"),
            Reason::CustomAmiVersion,
            ErrorKind::PreconditionFailed,
            "only a new launch template version moves it",
        ),
        (
            decide(
                json!({"launchTemplate": {"name": "x-lt"}}),
                &plain_custom,
                "1.30",
            ),
            Reason::NoLaunchTemplate,
            ErrorKind::PreconditionFailed,
            "created without a launch template",
        ),
        (
            decide(lt, &custom, "1.30"),
            Reason::OtherLaunchTemplate,
            ErrorKind::PreconditionFailed,
            "not the node group's launch template workers-lt (lt-0123456789abcdef0)",
        ),
        (
            decide(json!({"version": "1.33"}), &al2, "1.33"),
            Reason::Al2Ended,
            ErrorKind::PreconditionFailed,
            "amiType AL2_x86_64 is Amazon Linux 2, which has no AMIs for Kubernetes 1.33",
        ),
        (
            decide(
                json!({}),
                &nodegroup("1.30", "", "AL2023_x86_64_STANDARD", "CREATE_FAILED"),
                "1.30",
            ),
            Reason::NodegroupNotUpdatable,
            ErrorKind::PreconditionFailed,
            "status is CREATE_FAILED; it can be updated only when ACTIVE or DEGRADED",
        ),
        (
            plan_of(
                &request(json!({})),
                "e",
                &ng,
                &cluster_with("1.30", "UPDATING"),
                LatestRelease::NotNeeded,
            ),
            Reason::ClusterUpdating,
            ErrorKind::UpdateInProgress,
            "control plane is being updated",
        ),
        (
            plan_of(
                &request(json!({})),
                "e",
                &ng,
                &cluster_with("1.30", "FAILED"),
                LatestRelease::NotNeeded,
            ),
            Reason::ClusterNotActive,
            ErrorKind::PreconditionFailed,
            "status is FAILED; node groups can be updated only while it is ACTIVE",
        ),
        (
            decide_with(
                json!({"minReleaseAgeDays": 7, "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "4"}}),
                &custom,
                "1.30",
                LatestRelease::NotNeeded,
            ),
            Reason::SoakGateCustomAmi,
            ErrorKind::PreconditionFailed,
            "a custom-AMI node group has none: drop minReleaseAgeDays",
        ),
        (
            decide_with(
                gate.clone(),
                &ng,
                "1.30",
                LatestRelease::Unpublished {
                    parameter: Some("/p".into()),
                },
            ),
            Reason::SoakGateNothingPublished,
            ErrorKind::PreconditionFailed,
            "nothing is published at /p: give releaseVersion",
        ),
        (
            decide_with(
                gate.clone(),
                &windows_ng(),
                "1.30",
                LatestRelease::Unpublished { parameter: None },
            ),
            Reason::SoakGateNothingPublished,
            ErrorKind::PreconditionFailed,
            "publishes no release parameter (Windows)",
        ),
        (
            decide_with(gate, &ng, "1.30", LatestRelease::NotNeeded),
            Reason::SoakGateBlind,
            ErrorKind::ServiceError,
            "was not looked up; retry later",
        ),
    ];
    for (result, expected, kind, needle) in cases {
        let refusal = result.expect_err(needle);
        assert_eq!(refusal.reason(), expected, "{needle}");
        assert_eq!(
            expected.kind(),
            if expected == Reason::SoakGateBlind {
                ErrorKind::ServiceError
            } else {
                kind
            }
        );
        let error = refusal.into_error(&subject());
        assert_eq!(error.kind(), kind, "{needle}");
        let text = error.to_string();
        assert!(
            text.starts_with("cluster 'prod', node group 'workers': "),
            "{text}"
        );
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}

fn windows_ng() -> NodegroupState {
    nodegroup(
        "1.30",
        "1.30-2024.11.12",
        "WINDOWS_CORE_2022_x86_64",
        "ACTIVE",
    )
}
