//! The request's `launchTemplate`: exactly one of `id` and `name`, and an optional version.

use std::fmt;

use serde_json::{Map, Value};

use super::fields::{Fields, quoted};

const LAUNCH_TEMPLATE_FIELDS: &[&str] = &["name", "id", "version"];

/// How the node group's launch template is named in the request: exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateSelector {
    Id(String),
    Name(String),
}

/// A launch template version: a positive number, `$Latest` or `$Default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateVersion {
    Number(u64),
    Latest,
    Default,
}

impl TemplateVersion {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "$Latest" => Some(Self::Latest),
            "$Default" => Some(Self::Default),
            _ => {
                let canonical = text.len() <= 18
                    && !text.starts_with('0')
                    && !text.is_empty()
                    && text.bytes().all(|b| b.is_ascii_digit());
                canonical
                    .then(|| text.parse().ok())
                    .flatten()
                    .map(Self::Number)
            }
        }
    }
}

impl fmt::Display for TemplateVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Latest => f.write_str("$Latest"),
            Self::Default => f.write_str("$Default"),
        }
    }
}

/// The `launchTemplate` of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchTemplateRequest {
    selector: TemplateSelector,
    version: Option<TemplateVersion>,
}

impl LaunchTemplateRequest {
    pub fn selector(&self) -> &TemplateSelector {
        &self.selector
    }
    pub fn version(&self) -> Option<&TemplateVersion> {
        self.version.as_ref()
    }
}

pub(super) fn parse_launch_template(
    object: &Map<String, Value>,
    outer: &mut Fields<'_>,
) -> Option<LaunchTemplateRequest> {
    let mut fields = outer.nested(object, "launchTemplate");
    fields.reject_unknown(LAUNCH_TEMPLATE_FIELDS);
    let selector = read_selector(&mut fields);
    let version = fields.optional_parsed("version", |text| {
        TemplateVersion::parse(text).ok_or_else(|| {
            format!(
                "must be a positive whole number as a string (like \"3\"), \"$Latest\" or \"$Default\"; got {}",
                quoted(text)
            )
        })
    });
    outer.absorb(fields);
    selector.map(|selector| LaunchTemplateRequest { selector, version })
}

/// Exactly one of `id` and `name`, well formed.
fn read_selector(fields: &mut Fields<'_>) -> Option<TemplateSelector> {
    let name = fields.optional_str("name");
    let id = fields.optional_str("id");
    let (field, parsed) = match (id, name) {
        (Some(_), Some(_)) => (
            "",
            Err("must name the template by `id` or by `name`, not both".to_owned()),
        ),
        (None, None) => (
            "",
            Err("must name the node group's launch template by `id` or `name`".to_owned()),
        ),
        (Some(id), None) => ("id", parse_id(id)),
        (None, Some(name)) => ("name", parse_name(name)),
    };
    parsed
        .map_err(|problem| fields.problem(field, problem))
        .ok()
}

fn parse_id(id: &str) -> Result<TemplateSelector, String> {
    if valid_template_id(id) {
        Ok(TemplateSelector::Id(id.to_owned()))
    } else {
        Err(format!(
            "must be \"lt-\" followed by 8 or 17 lowercase hex digits; got {}",
            quoted(id)
        ))
    }
}

fn parse_name(name: &str) -> Result<TemplateSelector, String> {
    if valid_template_name(name) {
        Ok(TemplateSelector::Name(name.to_owned()))
    } else {
        Err(format!(
            "must be 3-128 characters of letters, digits and ( ) . - / _; got {}",
            quoted(name)
        ))
    }
}

fn valid_template_id(id: &str) -> bool {
    id.strip_prefix("lt-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn valid_template_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"().-/_".contains(&b))
}
