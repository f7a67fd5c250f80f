//! `ALLOWED_CLUSTERS`: which clusters this function may touch, checked before any AWS call.

use globset::{Glob, GlobSet, GlobSetBuilder};

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
        let patterns: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
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
}
