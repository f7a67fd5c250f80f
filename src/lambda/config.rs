//! What a function reads from its environment once, at start. The AWS SDK reads its own
//! variables (region, credentials, endpoints) in `aws::setup`.

use crate::aws::deadline::CallLimits;
use crate::core::allowlist::Allowlist;

#[derive(Clone, Debug)]
pub struct Config {
    /// `ALLOWED_CLUSTERS` (unset: any cluster).
    pub allowlist: Allowlist,
    pub limits: CallLimits,
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            allowlist: Allowlist::parse(std::env::var("ALLOWED_CLUSTERS").ok().as_deref()),
            limits: CallLimits::default(),
        }
    }
}
