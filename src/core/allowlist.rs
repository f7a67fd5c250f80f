//! `ALLOWED_CLUSTERS`: which clusters this function may touch, checked before any AWS call.

use std::collections::BTreeSet;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::core::request::AccountId;

/// The clusters the function may update.
#[derive(Clone, Debug)]
pub enum Allowlist {
    /// `ALLOWED_CLUSTERS` unset: any cluster.
    Any,
    /// Comma-separated glob patterns (`prod-*,staging`).
    Patterns { text: String, set: GlobSet },
    /// The variable is set but unusable (empty, or a bad pattern): nothing is allowed, so a
    /// typo in configuration never widens what the function may touch.
    Broken { reason: String },
}

impl Allowlist {
    /// Reads the variable's value (`None` when unset).
    pub fn parse(value: Option<&str>) -> Self {
        let Some(text) = value else {
            return Self::Any;
        };
        let patterns = entries(text);
        if patterns.is_empty() {
            return Self::Broken {
                reason: "ALLOWED_CLUSTERS is set but names no pattern; unset it to allow any cluster, or list patterns like \"prod-*,staging\"".to_owned(),
            };
        }
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            match Glob::new(pattern) {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(e) => {
                    return Self::Broken {
                        reason: format!("ALLOWED_CLUSTERS has an invalid pattern {pattern:?}: {e}"),
                    };
                }
            }
        }
        match builder.build() {
            Ok(set) => Self::Patterns {
                text: patterns.join(","),
                set,
            },
            Err(e) => Self::Broken {
                reason: format!("ALLOWED_CLUSTERS cannot be used: {e}"),
            },
        }
    }

    /// `Ok` when the cluster may be touched, else why not.
    pub fn check(&self, cluster: &str) -> Result<(), String> {
        match self {
            Self::Any => Ok(()),
            Self::Patterns { text, set } if !set.is_match(cluster) => Err(format!(
                "cluster '{cluster}' is outside ALLOWED_CLUSTERS ({text}); add it to the function's ALLOWED_CLUSTERS to let this function update it"
            )),
            Self::Patterns { .. } => Ok(()),
            Self::Broken { reason } => Err(reason.clone()),
        }
    }
}

/// `ALLOWED_ACCOUNTS`: the accounts besides its own this function may act in. Its own
/// account is always allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountAllowlist {
    /// Unset: its own account only.
    OwnOnly,
    /// Comma-separated account ids.
    Listed(BTreeSet<AccountId>),
    /// Set but unusable (empty, or an entry that is no account id): no other account is
    /// allowed, so a typo never widens where the function may act.
    Broken { reason: String },
}

impl AccountAllowlist {
    /// Reads the variable's value (`None` when unset).
    pub fn parse(value: Option<&str>) -> Self {
        let Some(text) = value else {
            return Self::OwnOnly;
        };
        let entries = entries(text);
        if entries.is_empty() {
            return Self::Broken {
                reason: "ALLOWED_ACCOUNTS is set but names no account; unset it to act in this function's own account only, or list account ids like \"111122223333,444455556666\"".to_owned(),
            };
        }
        let mut accounts = BTreeSet::new();
        for entry in entries {
            match AccountId::parse(entry) {
                Ok(account) => {
                    accounts.insert(account);
                }
                Err(problem) => {
                    return Self::Broken {
                        reason: format!("ALLOWED_ACCOUNTS has an entry that {problem}"),
                    };
                }
            }
        }
        Self::Listed(accounts)
    }

    /// `Ok` when the function may act in `account`, its own being `own`; else why not.
    pub fn check(&self, account: &AccountId, own: &AccountId) -> Result<(), String> {
        if account == own {
            return Ok(());
        }
        match self {
            Self::Listed(accounts) if accounts.contains(account) => Ok(()),
            Self::OwnOnly | Self::Listed(_) => Err(format!(
                "account {account} is not this function's own ({own}) and not in ALLOWED_ACCOUNTS; add it to the stack's TargetAccountIds to let this function act there"
            )),
            Self::Broken { reason } => Err(format!(
                "account {account} is not this function's own ({own}), and no other account is allowed: {reason}"
            )),
        }
    }
}

/// The entries of a comma-separated variable, trimmed, empty ones dropped.
fn entries(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_bound_the_clusters() {
        let cases = [
            (None, "anything", true),
            (Some("prod-*,staging"), "prod-eu", true),
            (Some("prod-*,staging"), "prod-", true),
            (Some("prod-*,staging"), "staging", true),
            (Some("prod-*,staging"), "staging-2", false),
            (Some("prod-*,staging"), "dev", false),
            (Some(" prod-* , staging "), "staging", true),
            (Some("*"), "x", true),
            (Some("team-?"), "team-a", true),
            (Some("team-?"), "team-ab", false),
            (Some("Prod"), "prod", false),
            (Some("prod-[ab]"), "prod-b", true),
            (Some(""), "prod", false),
            (Some(" , "), "prod", false),
            (Some("prod-[a"), "prod-a", false),
        ];
        for (value, cluster, allowed) in cases {
            assert_eq!(
                Allowlist::parse(value).check(cluster).is_ok(),
                allowed,
                "{value:?} / {cluster}"
            );
        }
    }

    #[test]
    fn refusal_names_the_cluster_and_the_list() {
        let err = Allowlist::parse(Some("prod-*")).check("dev").unwrap_err();
        assert!(err.contains("'dev'") && err.contains("prod-*"), "{err}");
    }

    #[test]
    fn broken_configuration_says_what_is_wrong() {
        let err = Allowlist::parse(Some("prod-[a"))
            .check("prod-a")
            .unwrap_err();
        assert!(err.contains("invalid pattern"), "{err}");
        let err = Allowlist::parse(Some("")).check("prod").unwrap_err();
        assert!(err.contains("names no pattern"), "{err}");
    }

    fn account(id: &str) -> AccountId {
        AccountId::parse(id).unwrap()
    }

    #[test]
    fn accounts_other_than_its_own_must_be_listed() {
        let own = account("111111111111");
        let other = account("222222222222");
        let third = account("333333333333");
        let cases = [
            (None, &own, true),
            (None, &other, false),
            (Some("222222222222"), &other, true),
            (Some(" 222222222222 , 444444444444,"), &other, true),
            (Some("222222222222"), &third, false),
            (Some("222222222222"), &own, true),
            (Some(""), &other, false),
            (Some(""), &own, true),
            (Some("222222222222,prod"), &other, false),
        ];
        for (value, account, allowed) in cases {
            let list = AccountAllowlist::parse(value);
            assert_eq!(
                list.check(account, &own).is_ok(),
                allowed,
                "{value:?} {account}"
            );
        }
    }

    #[test]
    fn refusals_say_what_to_change() {
        let own = account("111111111111");
        let refused = AccountAllowlist::parse(None)
            .check(&account("222222222222"), &own)
            .unwrap_err();
        assert!(refused.contains("222222222222") && refused.contains("TargetAccountIds"));
        let broken = AccountAllowlist::parse(Some("12-34"))
            .check(&account("222222222222"), &own)
            .unwrap_err();
        assert!(
            broken.contains("ALLOWED_ACCOUNTS") && broken.contains("12-34"),
            "{broken}"
        );
        assert!(
            AccountAllowlist::parse(Some(" , "))
                .check(&account("222222222222"), &own)
                .unwrap_err()
                .contains("names no account")
        );
    }
}
