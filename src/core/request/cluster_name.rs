//! The cluster's name, validated once.

use std::fmt;

use super::fields::quoted;
use super::valid_eks_name;

/// An EKS cluster name: 1–100 characters, `^[0-9A-Za-z][A-Za-z0-9_-]*$`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterName(String);

impl ClusterName {
    pub fn parse(text: &str) -> Result<Self, String> {
        if valid_eks_name(text, 100) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "must be 1-100 characters, start with a letter or digit and hold only letters, digits, '-' and '_'; got {}",
                quoted(text)
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
