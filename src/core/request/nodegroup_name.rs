//! The node group's name, validated once.

use std::fmt;

use super::fields::quoted;
use super::valid_eks_name;

/// A managed node group name: 1–63 characters, same pattern as a cluster name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodegroupName(String);

impl NodegroupName {
    pub fn parse(text: &str) -> Result<Self, String> {
        if valid_eks_name(text, 63) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "must be 1-63 characters, start with a letter or digit and hold only letters, digits, '-' and '_'; got {}",
                quoted(text)
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodegroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
