//! Requests in other accounts, on the real SDK clients with mocked HTTP: who is asked for
//! the target role's credentials, how often, and what a refused role is called. (That the
//! calls then sign with those credentials and land in the other account is the end-to-end
//! tier's, against a local endpoint serving several accounts.)

use std::time::Duration;

use aws_smithy_mocks::{Rule, mock};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use eks_nodegroup_updater::core::accounts::AccountRules;
use eks_nodegroup_updater::{Allowlist, Output};
use serde_json::{Value, json};

use crate::common::*;

const OTHER: &str = "222222222222";
const THIRD: &str = "333333333333";
const OTHER_ROLE: &str = "arn:aws:iam::222222222222:role/eks-nodegroup-updater-target";

/// AssumeRole with our session name answering credentials that expire `lifetime` from now.
fn assumed(lifetime: Duration) -> Rule {
    assumed_role(lifetime, |r| {
        r.role_session_name() == Some("eks-nodegroup-updater")
    })
}

/// An STS error answer (the query protocol's XML).
fn sts_error(status: u16, code: &str, message: &str) -> Rule {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    );
    mock!(aws_sdk_sts::Client::assume_role).then_http_response(move || {
        let mut response = aws_sdk_eks::config::http::HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(body.clone()),
        );
        response.headers_mut().insert("content-type", "text/xml");
        response
    })
}

/// An up-to-date node group: two describes, no update, no SSM read that matters.
fn up_to_date() -> (Rule, Rule) {
    (
        describe_nodegroup(al2023("1.31", "1.31.2-20241115", "ACTIVE")),
        describe_cluster("1.31"),
    )
}

fn rules(allowed: Option<&str>) -> AccountRules {
    AccountRules::parse(allowed, None)
}

fn in_account(account: &str, extra: Value) -> Value {
    let mut payload = request(extra);
    payload["accountId"] = json!(account);
    payload
}

fn dry_run_token(output: &Output) -> String {
    output.target.client_request_token.clone()
}

#[tokio::test]
async fn an_account_outside_allowed_accounts_makes_no_call_at_all() {
    let (ng, cluster) = up_to_date();
    let sts = assumed(Duration::from_secs(3600));
    for allowed in [None, Some(THIRD), Some("")] {
        let updater = updater_in_accounts(
            Allowlist::Any,
            rules(allowed),
            &[&ng, &cluster],
            &[],
            &[&sts],
        );
        let error = assert_error(
            run(&updater, in_account(OTHER, json!({}))).await,
            "NotAllowed",
            OTHER,
        );
        assert!(
            error.to_string().contains("ALLOWED_ACCOUNTS"),
            "{allowed:?}: {error}"
        );
    }
    assert_eq!(sts.num_calls() + ng.num_calls() + cluster.num_calls(), 0);
}

#[tokio::test]
async fn allowed_clusters_still_applies_in_another_account() {
    let (ng, cluster) = up_to_date();
    let sts = assumed(Duration::from_secs(3600));
    let updater = updater_in_accounts(
        Allowlist::parse(Some("staging-*")),
        rules(Some(OTHER)),
        &[&ng, &cluster],
        &[],
        &[&sts],
    );
    assert_error(
        run(&updater, in_account(OTHER, json!({}))).await,
        "NotAllowed",
        "ALLOWED_CLUSTERS",
    );
    assert_eq!(sts.num_calls() + ng.num_calls() + cluster.num_calls(), 0);
}

#[tokio::test]
async fn another_account_is_served_through_its_role_assumed_once() {
    let (ng, cluster) = up_to_date();
    let sts = assumed_role(Duration::from_secs(3600), |r| {
        r.role_arn() == Some(OTHER_ROLE)
            && r.role_session_name() == Some("eks-nodegroup-updater")
            && r.policy().is_none()
    });
    let updater = updater_in_accounts(
        Allowlist::Any,
        rules(Some(OTHER)),
        &[&ng, &cluster],
        &[&ssm_parameter_not_found()],
        &[&sts],
    );
    for _ in 0..3 {
        let output = run(&updater, in_account(OTHER, json!({"dryRun": true})))
            .await
            .unwrap();
        assert_eq!(output.account_id.as_deref(), Some(OTHER));
    }
    assert_eq!(sts.num_calls(), 1, "credentials are held between requests");
    assert_eq!(ng.num_calls(), 3);
}

#[tokio::test]
async fn its_own_account_named_or_not_is_the_same_request() {
    let (ng, cluster) = up_to_date();
    let sts = assumed(Duration::from_secs(3600));
    let updater = updater_in_accounts(
        Allowlist::Any,
        rules(None),
        &[&ng, &cluster],
        &[&ssm_parameter_not_found()],
        &[&sts],
    );
    let named = run(&updater, in_account(OWN_ACCOUNT, json!({"dryRun": true})))
        .await
        .unwrap();
    let unnamed = run(&updater, request(json!({"dryRun": true})))
        .await
        .unwrap();
    assert_eq!(named.account_id.as_deref(), Some(OWN_ACCOUNT));
    assert_eq!(unnamed.account_id.as_deref(), Some(OWN_ACCOUNT));
    assert_eq!(dry_run_token(&named), dry_run_token(&unnamed));
    assert_eq!(sts.num_calls(), 0);
}

#[tokio::test]
async fn one_event_aimed_at_two_accounts_gives_two_tokens() {
    let (ng, cluster) = up_to_date();
    let sts = assumed(Duration::from_secs(3600));
    let updater = updater_in_accounts(
        Allowlist::Any,
        rules(Some(&format!("{OTHER},{THIRD}"))),
        &[&ng, &cluster],
        &[&ssm_parameter_not_found()],
        &[&sts],
    );
    let mut tokens = Vec::new();
    for account in [OWN_ACCOUNT, OTHER, THIRD] {
        let output = run(&updater, in_account(account, json!({"dryRun": true})))
            .await
            .unwrap();
        assert_eq!(output.account_id.as_deref(), Some(account));
        tokens.push(dry_run_token(&output));
    }
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 3, "{tokens:?}");
    assert_eq!(sts.num_calls(), 2, "one role per other account");
}

#[tokio::test]
async fn credentials_near_their_expiry_are_assumed_again() {
    let (ng, cluster) = up_to_date();
    // Four minutes left: inside the five-minute margin, so every request assumes again.
    let sts = assumed(Duration::from_secs(240));
    let updater = updater_in_accounts(
        Allowlist::Any,
        rules(Some(OTHER)),
        &[&ng, &cluster],
        &[&ssm_parameter_not_found()],
        &[&sts],
    );
    for _ in 0..2 {
        run(&updater, in_account(OTHER, json!({"dryRun": true})))
            .await
            .unwrap();
    }
    assert_eq!(sts.num_calls(), 2);
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_is_access_denied_naming_it_and_the_fix() {
    let (ng, cluster) = up_to_date();
    let sts = sts_error(
        403,
        "AccessDenied",
        "User: arn:aws:sts::111111111111:assumed-role/ngu/f is not authorized to perform: sts:AssumeRole",
    );
    let updater = updater_in_accounts(
        Allowlist::Any,
        rules(Some(OTHER)),
        &[&ng, &cluster],
        &[],
        &[&sts],
    );
    let error = assert_error(
        run(&updater, in_account(OTHER, json!({}))).await,
        "AccessDenied",
        OTHER_ROLE,
    );
    let message = error.to_string();
    for part in [
        "target-account-role.yaml",
        "is not authorized to perform: sts:AssumeRole",
        "cluster 'prod'",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert!(!error.is_retryable());
    assert_eq!(ng.num_calls() + cluster.num_calls(), 0);
}

#[tokio::test]
async fn sts_throttling_and_failures_have_their_names() {
    let cases = [
        (400, "Throttling", "Throttled"),
        (500, "InternalFailure", "ServiceError"),
        (400, "RegionDisabledException", "Rejected"),
    ];
    for (status, code, error_type) in cases {
        let (ng, cluster) = up_to_date();
        let sts = sts_error(status, code, "no");
        let updater = updater_in_accounts(
            Allowlist::Any,
            rules(Some(OTHER)),
            &[&ng, &cluster],
            &[],
            &[&sts],
        );
        let error = assert_error(
            run(&updater, in_account(OTHER, json!({}))).await,
            error_type,
            "AssumeRole",
        );
        assert!(!error.to_string().contains("secret"), "{error}");
        assert_eq!(ng.num_calls(), 0, "{code}");
    }
}

#[tokio::test]
async fn a_bad_account_id_is_invalid_input() {
    let updater = updater_in_accounts(Allowlist::Any, rules(None), &[], &[], &[]);
    for bad in [
        json!("12345"),
        json!(123456789012_u64),
        json!("12345678901x"),
    ] {
        let mut payload = request(json!({}));
        payload["accountId"] = bad.clone();
        assert_error(run(&updater, payload).await, "InvalidInput", "accountId");
    }
}
