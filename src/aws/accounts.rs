//! The SDK clients of each account a function acts in: its own, built in `main`, and for
//! each other account the same clients signing with the target role's credentials, built
//! the first time that account is asked for (a function that stays home pays nothing).
//!
//! The role's credentials are assumed through [`Sts`] (the shared call path: the
//! invocation's deadline, classified failures, our words for a refused role), held per role
//! for the life of the process, and assumed again about five minutes before they expire,
//! so a warm function does not call STS for every event.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};

use super::deadline::Deadline;
use super::sts::Sts;
use crate::core::accounts::{Place, TargetRole};
use crate::core::error::{About, Error};

/// How long before they expire held credentials are assumed again: more than any one
/// invocation lasts (the planner's longest timeout is 15 minutes, its steps take seconds).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// Builds one account's clients from an SDK configuration: `main` says which adapters a
/// function has, once, for every account.
type Build<C> = dyn Fn(&SdkConfig) -> C + Send + Sync;

/// The clients of every account a function acts in.
pub struct Accounts<C> {
    own: C,
    base: SdkConfig,
    build: Box<Build<C>>,
    sts: OnceLock<Sts>,
    session_policy: Option<&'static str>,
    others: Mutex<HashMap<TargetRole, Arc<Other<C>>>>,
}

impl<C: Clone> Accounts<C> {
    /// The function's own clients, built now from `base` by `build`; other accounts' later.
    pub fn new(base: SdkConfig, build: impl Fn(&SdkConfig) -> C + Send + Sync + 'static) -> Self {
        Self {
            own: build(&base),
            base,
            build: Box::new(build),
            sts: OnceLock::new(),
            session_policy: None,
            others: Mutex::new(HashMap::new()),
        }
    }

    /// Another account's credentials allow only what `policy` (an IAM policy document)
    /// allows too: the target role serves several principals, each of which needs less.
    #[must_use]
    pub fn with_session_policy(mut self, policy: &'static str) -> Self {
        self.session_policy = Some(policy);
        self
    }

    /// The STS adapter to assume roles with, instead of one built from the base
    /// configuration (tests give a mocked client).
    #[must_use]
    pub fn with_sts(self, sts: Sts) -> Self {
        // A fresh OnceLock: setting it cannot fail.
        let _ = self.sts.set(sts);
        self
    }

    /// The clients for a request served at `place`: its own, or those of the target role,
    /// its credentials assumed first when none are held or they expire soon.
    pub async fn clients(
        &self,
        place: &Place,
        about: &About,
        deadline: &Deadline,
    ) -> Result<C, Error> {
        let role = match place {
            Place::Own { .. } => return Ok(self.own.clone()),
            Place::Other(role) => role,
        };
        let other = self.other(role);
        if other.held.fresh(SystemTime::now()) {
            return Ok(other.clients.clone());
        }
        // One assumption at a time per role: requests that wait here find the fresh
        // credentials the first one got.
        let _assuming = other.assuming.lock().await;
        if !other.held.fresh(SystemTime::now()) {
            let credentials = self
                .sts()
                .assume_role(role, self.session_policy, about, deadline)
                .await?;
            tracing::info!(
                account = %role.account,
                role = %role.arn,
                expires = ?credentials.expiry(),
                "assumed the target role"
            );
            other.held.set(credentials);
        }
        Ok(other.clients.clone())
    }

    fn sts(&self) -> &Sts {
        self.sts
            .get_or_init(|| Sts::new(aws_sdk_sts::Client::new(&self.base)))
    }

    /// The role's clients, built on first use: they sign with the held credentials.
    fn other(&self, role: &TargetRole) -> Arc<Other<C>> {
        let mut others = self.others.lock().unwrap_or_else(PoisonError::into_inner);
        others
            .entry(role.clone())
            .or_insert_with(|| {
                let held = Held::default();
                let config = self
                    .base
                    .to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(held.clone()))
                    // The held credentials are the cache: the SDK asks for them per call
                    // and gets them without a wait.
                    .identity_cache(IdentityCache::no_cache())
                    .build();
                Arc::new(Other {
                    clients: (self.build)(&config),
                    held,
                    assuming: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }
}

impl<C> fmt::Debug for Accounts<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let others = self.others.lock().map(|o| o.len()).unwrap_or_default();
        f.debug_struct("Accounts")
            .field("other_accounts", &others)
            .finish_non_exhaustive()
    }
}

/// Another account's clients and the credentials they sign with.
struct Other<C> {
    clients: C,
    held: Held,
    assuming: tokio::sync::Mutex<()>,
}

/// The target role's current credentials, shared by that account's clients. Its `Debug`
/// shows only when they expire: not even the access key id reaches a log.
#[derive(Clone, Default)]
struct Held(Arc<RwLock<Option<Credentials>>>);

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expiry = self.current().map(|c| c.expiry());
        f.debug_struct("Held").field("expiry", &expiry).finish()
    }
}

impl Held {
    fn current(&self) -> Option<Credentials> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, credentials: Credentials) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some(credentials);
    }

    /// Held, and not within [`REFRESH_BEFORE_EXPIRY`] of expiring at `now`.
    fn fresh(&self, now: SystemTime) -> bool {
        self.current()
            .is_some_and(|c| c.expiry().is_none_or(|e| e > now + REFRESH_BEFORE_EXPIRY))
    }
}

impl ProvideCredentials for Held {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(self.current().ok_or_else(|| {
            CredentialsError::not_loaded("the target role has not been assumed yet")
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(expiry: Option<SystemTime>) -> Credentials {
        Credentials::new("ASIAKEYID", "s3cr3t", Some("t0ken".into()), expiry, "test")
    }

    #[test]
    fn fresh_until_five_minutes_before_expiry() {
        let now = SystemTime::now();
        let held = Held::default();
        assert!(!held.fresh(now), "nothing held");
        let cases = [
            (Some(now + Duration::from_secs(3600)), true),
            (Some(now + Duration::from_secs(301)), true),
            (Some(now + Duration::from_secs(300)), false),
            (Some(now + Duration::from_secs(10)), false),
            (Some(now - Duration::from_secs(10)), false),
            (None, true),
        ];
        for (expiry, fresh) in cases {
            held.set(credentials(expiry));
            assert_eq!(held.fresh(now), fresh, "{expiry:?}");
        }
    }

    #[test]
    fn held_credentials_are_never_printed() {
        let held = Held::default();
        held.set(credentials(None));
        let printed = format!("{held:?}");
        for secret in ["ASIAKEYID", "s3cr3t", "t0ken"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
