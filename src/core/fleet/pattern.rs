//! Glob patterns of cluster and node group names: `*` for any run of characters, `?` for
//! one, everything else literal. Matched with `globset`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::core::request::{Fields, quoted};

/// The longest pattern: the longest EKS name (a cluster's, 100 characters).
const MAX_PATTERN_LEN: usize = 100;

/// A list of patterns; a name matches when any of them matches it whole.
#[derive(Clone, Debug)]
pub struct Patterns {
    texts: Vec<String>,
    set: GlobSet,
}

impl Patterns {
    /// Compiles the patterns of `field`, reporting each bad one under its index.
    pub(crate) fn parse(fields: &mut Fields<'_>, field: &str, patterns: &[&str]) -> Option<Self> {
        let mut builder = GlobSetBuilder::new();
        let mut ok = true;
        for (i, pattern) in patterns.iter().enumerate() {
            match glob(pattern) {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(problem) => {
                    fields.problem(&format!("{field}[{i}]"), problem);
                    ok = false;
                }
            }
        }
        let set = builder.build().ok()?;
        ok.then(|| Self {
            texts: patterns.iter().map(|p| (*p).to_owned()).collect(),
            set,
        })
    }

    pub fn matches(&self, name: &str) -> bool {
        self.set.is_match(name)
    }

    /// The patterns as given.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }
}

fn glob(pattern: &str) -> Result<globset::Glob, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*' | '?');
    if pattern.is_empty() || pattern.len() > MAX_PATTERN_LEN || !pattern.chars().all(allowed) {
        return Err(format!(
            "must be 1-{MAX_PATTERN_LEN} characters of letters, digits, '-', '_' and the wildcards '*' and '?'; got {}",
            quoted(pattern)
        ));
    }
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map_err(|e| format!("is not a usable pattern ({e}); got {}", quoted(pattern)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patterns(list: &[&str]) -> Result<Patterns, Vec<String>> {
        let object = json!({}).as_object().cloned().unwrap_or_default();
        let mut fields = Fields::new(&object);
        Patterns::parse(&mut fields, "clusters", list)
            .ok_or_else(|| fields.problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn wildcards_match_whole_names() {
        let p = patterns(&["prod-*", "stag?ng"]).unwrap();
        for (name, matches) in [
            ("prod-eu", true),
            ("prod-", true),
            ("preprod-eu", false),
            ("staging", true),
            ("stageng", true),
            ("staging-2", false),
            ("dev", false),
        ] {
            assert_eq!(p.matches(name), matches, "{name}");
        }
        assert!(patterns(&["*"]).unwrap().matches("anything_at-all"));
    }

    #[test]
    fn only_name_characters_and_two_wildcards() {
        for bad in ["", "prod/*", "[ab]*", "{a,b}", "prod eu", &"x".repeat(101)] {
            let problems = patterns(&["ok", bad]).unwrap_err();
            assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
            assert!(problems[0].starts_with("`clusters[1]`"), "{problems:?}");
        }
    }
}
