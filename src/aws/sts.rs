//! The STS adapter: assumes the target role in another account. The only code that speaks
//! to `aws-sdk-sts`; the SDK's own client signs and sends, through the shared call path
//! (time limits cut to the invocation's deadline, failures classified like every call).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sdk_sts::Client;
use aws_sdk_sts::config::Builder as ConfigOverride;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;

use super::call::{send_in_words, unusable};
use super::classify::{Call, Failure, Verdict, modeled_errors};
use super::deadline::Deadline;
use crate::core::accounts::TargetRole;
use crate::core::error::{About, Error};

/// The session name every assumed role carries: what the target account's CloudTrail
/// shows as the caller.
pub const SESSION_NAME: &str = "eks-nodegroup-updater";

/// Where the credentials came from, as the SDK's `Credentials` names a provider.
const PROVIDER_NAME: &str = "eks-nodegroup-updater AssumeRole";

const CALL: Call<'static> = Call {
    service: "STS",
    iam_prefix: "sts",
    op: "AssumeRole",
};

modeled_errors! {
    AssumeRoleError {
        // We send no session policy; STS being switched off in this Region for the
        // function's account is a setting to change, not a fault to retry.
        MalformedPolicyDocumentException => Rejected,
        PackedPolicyTooLargeException => Rejected,
        RegionDisabledException => Rejected,
    }
}

/// STS, as this function uses it.
#[derive(Clone, Debug)]
pub struct Sts {
    client: Client,
}

impl Sts {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Temporary credentials of `role` (one hour, STS's default), for the calls `about`
    /// needs in the role's account; with `session_policy`, only what both the role and that
    /// policy allow.
    pub async fn assume_role(
        &self,
        role: &TargetRole,
        session_policy: Option<&str>,
        about: &About,
        deadline: &Deadline,
    ) -> Result<Credentials, Error> {
        let not_found = || format!("STS answered that role {role} was not found");
        let own_words = |verdict, failure: &Failure| role_refused(verdict, failure, role);
        let response = send_in_words(CALL, about, deadline, not_found, own_words, |limits| {
            self.client
                .assume_role()
                .role_arn(&role.arn)
                .role_session_name(SESSION_NAME)
                .set_policy(session_policy.map(str::to_owned))
                .customize()
                .config_override(ConfigOverride::default().timeout_config(limits))
                .send()
        })
        .await?;
        let Some(credentials) = response.credentials() else {
            return Err(unusable(CALL, about, "no credentials in the answer"));
        };
        let expiry = SystemTime::try_from(*credentials.expiration())
            .map_err(|_| unusable(CALL, about, "an expiration time out of range"))?;
        Ok(Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            Some(expiry),
            PROVIDER_NAME,
        ))
    }
}

/// Our own words for a role STS would not hand over: which role, and what to deploy,
/// besides STS's own words (which name neither the stack nor the fix).
fn role_refused(verdict: Verdict, failure: &Failure, role: &TargetRole) -> Option<String> {
    if verdict != Verdict::AccessDenied {
        return None;
    }
    let code = failure.code.as_deref().unwrap_or("AccessDenied");
    let said = failure
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let account = &role.account;
    Some(format!(
        "cannot assume role {role} in account {account} (STS {code}{said}). The role must exist in account {account} and trust this function's role: deploy target-account-role.yaml to account {account} (a StackSet instance) with TrustedRoleArns from this stack's TargetRoleTrustedArns output, and the same TargetRoleName as this stack; if it is deployed, check that this stack's TargetAccountIds lists the account (sts:AssumeRole is granted only on those roles)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::request::AccountId;

    fn role() -> TargetRole {
        TargetRole {
            account: AccountId::parse("222233334444").unwrap(),
            arn: "arn:aws:iam::222233334444:role/eks-nodegroup-updater-target".into(),
        }
    }

    fn failure(code: &str) -> Failure {
        Failure {
            transport: None,
            modeled: super::super::classify::Modeled::Unmodeled,
            code: Some(code.into()),
            status: Some(403),
            message: Some("User: x is not authorized to perform: sts:AssumeRole".into()),
        }
    }

    #[test]
    fn a_refused_role_is_named_with_what_to_deploy() {
        let words = role_refused(Verdict::AccessDenied, &failure("AccessDenied"), &role()).unwrap();
        for part in [
            "arn:aws:iam::222233334444:role/eks-nodegroup-updater-target",
            "account 222233334444",
            "target-account-role.yaml",
            "TargetAccountIds",
            "STS AccessDenied: User: x is not authorized",
        ] {
            assert!(words.contains(part), "{part}: {words}");
        }
    }

    #[test]
    fn other_verdicts_keep_the_shared_words() {
        for verdict in [
            Verdict::Throttled,
            Verdict::Server,
            Verdict::Transport(super::super::classify::Transport::Timeout),
        ] {
            assert_eq!(role_refused(verdict, &failure("Throttling"), &role()), None);
        }
    }
}
