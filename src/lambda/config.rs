//! What a function reads from its environment once, at start. The AWS SDK reads its own
//! variables (region, credentials, endpoints) in `aws::setup`.

use crate::aws::deadline::CallLimits;
use crate::core::accounts::AccountRules;
use crate::core::allowlist::Allowlist;

#[derive(Clone, Debug)]
pub struct Config {
    /// `ALLOWED_CLUSTERS` (unset: any cluster).
    pub allowlist: Allowlist,
    /// `ALLOWED_ACCOUNTS` (unset: its own account only) and `TARGET_ROLE_NAME`.
    pub accounts: AccountRules,
    pub limits: CallLimits,
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            allowlist: Allowlist::parse(std::env::var("ALLOWED_CLUSTERS").ok().as_deref()),
            accounts: AccountRules::from_env(),
            limits: CallLimits::default(),
        }
    }
}
