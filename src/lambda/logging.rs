//! Log setup: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_FORMAT`,
//! `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`), with the AWS SDK and HTTP crates held at INFO
//! whatever the level asked for.
//!
//! At DEBUG the SDK logs its endpoint-resolution parameters, whose identity prints the access
//! key id, and TRACE adds signing details; credentials must never reach a log, so those
//! crates never go below INFO. The function's own logs follow the level asked for.
//!
//! Release builds go further: `tracing`'s `release_max_level_info` (Cargo.toml) compiles
//! DEBUG and TRACE out of every crate, so this filter only matters in debug builds.

use lambda_runtime::tracing::subscriber::EnvFilter;
use lambda_runtime::tracing::subscriber::filter::{Directive, LevelFilter};

/// Crates whose DEBUG and TRACE output can carry credentials, request signatures or
/// headers.
const HELD_AT_INFO: &[&str] = &[
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sdk_eks",
    "aws_sdk_s3",
    "aws_sdk_ssm",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
    "aws_sdk_sts",
    "aws_sigv4",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_types",
    "h2",
    "hyper",
    "hyper_util",
    "rustls",
];

/// The filter for a level (`AWS_LAMBDA_LOG_LEVEL`) and `RUST_LOG` directives.
pub fn filter(level: Option<&str>, rust_log: Option<&str>) -> EnvFilter {
    let default = level
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let mut filter = EnvFilter::builder()
        .with_default_directive(default.into())
        .parse_lossy(rust_log.unwrap_or_default());
    for target in HELD_AT_INFO {
        // Added last, so it replaces any directive for the same target from RUST_LOG.
        if let Ok(directive) = format!("{target}=info").parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber: JSON lines when the function's `LoggingConfig` says
/// `JSON`, text otherwise; no timestamps (Lambda adds them) and no targets, as
/// `lambda_runtime`'s default subscriber does.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    // AWS_LAMBDA_LOG_LEVEL wins over RUST_LOG, as in Lambda's own runtimes.
    let rust_log = if level.is_some() { None } else { rust_log };
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter(level.as_deref(), rust_log.as_deref()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(filter: &EnvFilter) -> String {
        filter.to_string()
    }

    #[test]
    fn sdk_crates_stay_at_info_at_debug_and_trace() {
        for level in ["DEBUG", "TRACE", "debug"] {
            let text = shown(&filter(Some(level), None));
            assert!(text.contains("aws_smithy_runtime=info"), "{text}");
            assert!(text.contains("aws_sigv4=info"), "{text}");
            assert!(text.contains(&level.to_lowercase()), "{text}");
        }
    }

    #[test]
    fn rust_log_cannot_lower_the_sdk_crates() {
        let text = shown(&filter(
            None,
            Some("aws_smithy_runtime=trace,eks_nodegroup_updater=debug"),
        ));
        assert!(text.contains("aws_smithy_runtime=info"), "{text}");
        assert!(!text.contains("aws_smithy_runtime=trace"), "{text}");
        assert!(text.contains("eks_nodegroup_updater=debug"), "{text}");
    }

    #[test]
    fn unknown_level_falls_back_to_info() {
        let text = shown(&filter(Some("LOUD"), None));
        assert!(text.contains("info"), "{text}");
    }
}
