//! Which credentials a request is served with: the function's own, or those of the target
//! role in another account. Decided here, before any AWS call; the adapters only carry it
//! out (src/aws/accounts.rs).

use std::fmt;

use crate::core::allowlist::AccountAllowlist;
use crate::core::request::AccountId;

/// Where the function itself runs: its account and partition, read from the invoked
/// function's ARN the Lambda context carries (no call needed to tell).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    pub account: AccountId,
    pub partition: String,
}

impl Home {
    /// `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`; `None`
    /// when the ARN does not say.
    pub fn of_function_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition)) = (parts.next(), parts.next()) else {
            return None;
        };
        let partition_ok = !partition.is_empty()
            && partition
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        Some(Self {
            account: AccountId::of_arn(arn)?,
            partition: partition_ok.then(|| partition.to_owned())?,
        })
    }
}

/// The role's name when `TARGET_ROLE_NAME` is unset (and the default of the template's
/// `TargetRoleName`).
pub const DEFAULT_TARGET_ROLE_NAME: &str = "eks-nodegroup-updater-target";

/// `TARGET_ROLE_NAME`: the role the function assumes in each other account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRoleName {
    Valid(String),
    /// Set but not a role name: no other account can be reached (the value is never
    /// guessed at).
    Broken {
        reason: String,
    },
}

impl TargetRoleName {
    /// Reads the variable's value (`None` or blank when unset). IAM role names are 1–64
    /// characters of letters, digits and `+=,.@_-`.
    pub fn parse(value: Option<&str>) -> Self {
        let name = match value.map(str::trim) {
            None | Some("") => return Self::Valid(DEFAULT_TARGET_ROLE_NAME.to_owned()),
            Some(name) => name,
        };
        let valid = name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if valid {
            Self::Valid(name.to_owned())
        } else {
            Self::Broken {
                reason: format!(
                    "TARGET_ROLE_NAME {name:?} is not an IAM role name (1 to 64 letters, digits and +=,.@_-, no path); fix the stack's TargetRoleName"
                ),
            }
        }
    }
}

/// Which accounts the function may act in, and through which role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRules {
    /// `ALLOWED_ACCOUNTS`.
    pub allowlist: AccountAllowlist,
    /// `TARGET_ROLE_NAME`.
    pub role: TargetRoleName,
}

impl AccountRules {
    pub fn from_env() -> Self {
        Self::parse(
            std::env::var("ALLOWED_ACCOUNTS").ok().as_deref(),
            std::env::var("TARGET_ROLE_NAME").ok().as_deref(),
        )
    }

    /// From the values of `ALLOWED_ACCOUNTS` and `TARGET_ROLE_NAME` (`None` when unset).
    pub fn parse(allowed_accounts: Option<&str>, target_role_name: Option<&str>) -> Self {
        Self {
            allowlist: AccountAllowlist::parse(allowed_accounts),
            role: TargetRoleName::parse(target_role_name),
        }
    }

    /// Where a request naming `requested` (or no account) is served, the function running
    /// at `home` (unknown when the invoked ARN did not say); else why it may not be.
    pub fn place(
        &self,
        requested: Option<&AccountId>,
        home: Option<&Home>,
    ) -> Result<Place, String> {
        let Some(account) = requested else {
            return Ok(Place::Own {
                account: home.map(|h| h.account.clone()),
            });
        };
        let Some(home) = home else {
            return Err(format!(
                "the request names account {account}, but this function cannot tell its own account (the invoked function's ARN names none), so it acts in no other; leave accountId out"
            ));
        };
        if *account == home.account {
            return Ok(Place::Own {
                account: Some(account.clone()),
            });
        }
        self.allowlist.check(account, &home.account)?;
        match &self.role {
            TargetRoleName::Valid(name) => Ok(Place::Other(TargetRole {
                account: account.clone(),
                arn: format!("arn:{}:iam::{account}:role/{name}", home.partition),
            })),
            TargetRoleName::Broken { reason } => Err(reason.clone()),
        }
    }
}

/// The role a request in another account is served through.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TargetRole {
    pub account: AccountId,
    /// `arn:<partition>:iam::<account>:role/<TARGET_ROLE_NAME>`.
    pub arn: String,
}

impl fmt::Display for TargetRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// Where a request is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// With the function's own credentials; `account` is its own (unknown only when the
    /// invoked function's ARN did not say).
    Own { account: Option<AccountId> },
    /// With the credentials of the target role in another account.
    Other(TargetRole),
}

impl Place {
    /// The account the request is served in, for the output and the log.
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Self::Own { account } => account.as_ref(),
            Self::Other(role) => Some(&role.account),
        }
    }

    /// The account when it is not the function's own: what the token and the target role
    /// depend on.
    pub fn other(&self) -> Option<&AccountId> {
        match self {
            Self::Own { .. } => None,
            Self::Other(role) => Some(&role.account),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> AccountId {
        AccountId::parse(id).unwrap()
    }

    fn home() -> Home {
        Home {
            account: account("111111111111"),
            partition: "aws".into(),
        }
    }

    #[test]
    fn home_from_the_invoked_function_arn() {
        let cases = [
            (
                "arn:aws:lambda:eu-west-1:111111111111:function:ngu-updater",
                Some(("111111111111", "aws")),
            ),
            (
                "arn:aws-cn:lambda:cn-north-1:222222222222:function:f:live",
                Some(("222222222222", "aws-cn")),
            ),
            (
                "arn:aws-us-gov:lambda:us-gov-west-1:333333333333:function:f",
                Some(("333333333333", "aws-us-gov")),
            ),
            ("arn:aws:lambda:eu-west-1:1111:function:f", None),
            ("arn::lambda:eu-west-1:111111111111:function:f", None),
            ("arn:AWS:lambda:eu-west-1:111111111111:function:f", None),
            ("", None),
            ("not an arn", None),
        ];
        for (arn, want) in cases {
            let got = Home::of_function_arn(arn);
            let got = got
                .as_ref()
                .map(|h| (h.account.as_str(), h.partition.as_str()));
            assert_eq!(got, want, "{arn}");
        }
    }

    #[test]
    fn role_name_from_the_environment() {
        let cases = [
            (None, Some(DEFAULT_TARGET_ROLE_NAME)),
            (Some(""), Some(DEFAULT_TARGET_ROLE_NAME)),
            (Some(" ngu-target "), Some("ngu-target")),
            (Some("a+b=c,d.e@f_g-h"), Some("a+b=c,d.e@f_g-h")),
            (Some(&*"r".repeat(64)), Some(&*"r".repeat(64))),
            (Some(&*"r".repeat(65)), None),
            (Some("team/ngu-target"), None),
            (Some("ngu target"), None),
            (Some("rôle"), None),
        ];
        for (value, want) in cases {
            let got = TargetRoleName::parse(value);
            match (want, &got) {
                (Some(name), TargetRoleName::Valid(got)) => assert_eq!(got, name),
                (None, TargetRoleName::Broken { reason }) => {
                    assert!(reason.contains("TARGET_ROLE_NAME"), "{reason}")
                }
                _ => panic!("{value:?}: {got:?}"),
            }
        }
    }

    /// (ALLOWED_ACCOUNTS, TARGET_ROLE_NAME, requested, home known) -> role ARN, own, or refused.
    #[test]
    fn where_a_request_is_served() {
        enum Want {
            Own(Option<&'static str>),
            Role(&'static str),
            Refused(&'static str),
        }
        use Want::*;
        type Case = (
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            bool,
            Want,
        );
        let cases: &[Case] = &[
            (None, None, None, true, Own(Some("111111111111"))),
            (None, None, None, false, Own(None)),
            (
                None,
                None,
                Some("111111111111"),
                true,
                Own(Some("111111111111")),
            ),
            (
                None,
                None,
                Some("222222222222"),
                true,
                Refused("not in ALLOWED_ACCOUNTS"),
            ),
            (
                Some("222222222222"),
                None,
                Some("222222222222"),
                true,
                Role("arn:aws:iam::222222222222:role/eks-nodegroup-updater-target"),
            ),
            (
                Some("222222222222"),
                Some("ngu-target"),
                Some("222222222222"),
                true,
                Role("arn:aws:iam::222222222222:role/ngu-target"),
            ),
            (
                Some("222222222222"),
                None,
                Some("333333333333"),
                true,
                Refused("not in ALLOWED_ACCOUNTS"),
            ),
            (
                Some("222222222222"),
                None,
                Some("222222222222"),
                false,
                Refused("cannot tell its own account"),
            ),
            (
                Some("2222"),
                None,
                Some("222222222222"),
                true,
                Refused("ALLOWED_ACCOUNTS has an entry"),
            ),
            (
                Some(""),
                None,
                Some("111111111111"),
                true,
                Own(Some("111111111111")),
            ),
            (
                Some("222222222222"),
                Some("bad/name"),
                Some("222222222222"),
                true,
                Refused("TARGET_ROLE_NAME"),
            ),
            (
                None,
                Some("bad/name"),
                None,
                true,
                Own(Some("111111111111")),
            ),
        ];
        for (allowed, role, requested, known, want) in cases {
            let rules = AccountRules {
                allowlist: AccountAllowlist::parse(*allowed),
                role: TargetRoleName::parse(*role),
            };
            let requested = requested.map(account);
            let home = known.then(home);
            let got = rules.place(requested.as_ref(), home.as_ref());
            let case = format!("{allowed:?} {role:?} {requested:?} {known}");
            match (want, got) {
                (Own(want), Ok(place @ Place::Own { .. })) => {
                    assert_eq!(place.account().map(AccountId::as_str), *want, "{case}");
                    assert_eq!(place.other(), None, "{case}");
                }
                (Role(arn), Ok(Place::Other(role))) => {
                    assert_eq!(role.arn, *arn, "{case}");
                    assert_eq!(Some(&role.account), requested.as_ref(), "{case}");
                }
                (Refused(words), Err(reason)) => {
                    assert!(reason.contains(words), "{case}: {reason}")
                }
                (_, got) => panic!("{case}: {got:?}"),
            }
        }
    }

    #[test]
    fn the_partition_comes_from_home() {
        let rules = AccountRules {
            allowlist: AccountAllowlist::parse(Some("222222222222")),
            role: TargetRoleName::parse(None),
        };
        let home = Home {
            account: account("111111111111"),
            partition: "aws-cn".into(),
        };
        let place = rules
            .place(Some(&account("222222222222")), Some(&home))
            .unwrap();
        let Place::Other(role) = place else {
            panic!("{place:?}")
        };
        assert_eq!(
            role.arn,
            "arn:aws-cn:iam::222222222222:role/eks-nodegroup-updater-target"
        );
    }
}
