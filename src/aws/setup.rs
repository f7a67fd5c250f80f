//! The process's one AWS SDK configuration, built once in `main`: which HTTPS client and
//! trust store (see [`super::tls`]), which credentials, which timeouts.
//!
//! Each choice here is measured in BENCHMARKS.md; what the SDK would build by default is
//! kept wherever it costs nothing.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::HttpClientError;

use super::deadline::CallLimits;
use super::tls::Trust;

/// Loads the configuration from the environment, as `aws_config::load_defaults` does,
/// with three differences: the HTTPS client trusts [`Trust::from_env`]; credentials
/// present in the environment are used without building the rest of the default chain;
/// and every call has [`CallLimits`] but no stalled-stream guard.
pub async fn load(limits: &CallLimits) -> Result<SdkConfig, HttpClientError> {
    let trust = Trust::from_env();
    tracing::debug!(?trust, "TLS trust store");
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(trust.http_client()?)
        .timeout_config(limits.timeout_config())
        // Every attempt is already bounded by `CallLimits` (5 s); the stalled-stream guard,
        // made for long streaming bodies, only adds a timer and throughput bookkeeping to
        // each of our small JSON calls (its cost is in BENCHMARKS.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
    if credentials_in_environment(|name| std::env::var(name).ok()) {
        // On Lambda the execution role's credentials are in the environment, which is
        // the default chain's first stop: naming that provider gives the same credentials
        // without building the chain's other providers (its web-identity STS client alone
        // was a large part of init: BENCHMARKS.md).
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    Ok(loader.load().await)
}

/// Whether the environment holds credentials the default chain's first provider
/// (environment variables) would return: an access key id and a secret key, neither blank
/// (it also reads the secret from `SECRET_ACCESS_KEY`). When not, the default chain
/// (profile, web identity, ECS, IMDS) is used unchanged.
pub fn credentials_in_environment(get: impl Fn(&str) -> Option<String>) -> bool {
    let present = |name: &str| get(name).is_some_and(|v| !v.trim().is_empty());
    present("AWS_ACCESS_KEY_ID")
        && (present("AWS_SECRET_ACCESS_KEY") || present("SECRET_ACCESS_KEY"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_environment_table() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (
                &[
                    ("AWS_ACCESS_KEY_ID", "AKID"),
                    ("AWS_SECRET_ACCESS_KEY", "s"),
                ],
                true,
            ),
            (
                &[
                    ("AWS_ACCESS_KEY_ID", "AKID"),
                    ("AWS_SECRET_ACCESS_KEY", "s"),
                    ("AWS_SESSION_TOKEN", "t"),
                ],
                true,
            ),
            (
                &[("AWS_ACCESS_KEY_ID", "AKID"), ("SECRET_ACCESS_KEY", "s")],
                true,
            ),
            (
                &[
                    ("AWS_ACCESS_KEY_ID", "AKID"),
                    ("AWS_SECRET_ACCESS_KEY", " "),
                    ("SECRET_ACCESS_KEY", "s"),
                ],
                true,
            ),
            (&[("AWS_ACCESS_KEY_ID", "AKID")], false),
            (&[("AWS_SECRET_ACCESS_KEY", "s")], false),
            (
                &[("AWS_ACCESS_KEY_ID", "  "), ("AWS_SECRET_ACCESS_KEY", "s")],
                false,
            ),
            (
                &[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "")],
                false,
            ),
            (
                &[
                    ("AWS_PROFILE", "dev"),
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                ],
                false,
            ),
            (&[], false),
        ];
        for (vars, want) in cases {
            let get = |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            assert_eq!(credentials_in_environment(get), *want, "{vars:?}");
        }
    }
}
