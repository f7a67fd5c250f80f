//! The validated update request: every field checked once, here, and held in types that
//! cannot carry an invalid value. Past this module nothing re-checks a name or a version.

use std::fmt;

use serde_json::{Map, Value};

use crate::version::{MinorVersion, ReleaseVersion};

/// A request field problem: the field's path and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.problem)
    }
}

/// How many problems one message lists: enough for any honest request, and a bound on
/// the message for a hostile one with thousands of unknown fields.
const MAX_PROBLEMS_SHOWN: usize = 10;

/// Every field problem of one request, so a user fixes them in one go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidRequest {
    /// `clusterName` and `nodegroupName` as given, when they were readable strings,
    /// so the message can say which node group the bad request was for.
    pub cluster: Option<String>,
    pub nodegroup: Option<String>,
    pub problems: Vec<FieldError>,
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request")?;
        match (&self.cluster, &self.nodegroup) {
            (Some(c), Some(n)) => write!(f, " for cluster '{c}', node group '{n}'")?,
            (Some(c), None) => write!(f, " for cluster '{c}'")?,
            (None, Some(n)) => write!(f, " for node group '{n}'")?,
            (None, None) => {}
        }
        f.write_str(": ")?;
        for (i, problem) in self.problems.iter().take(MAX_PROBLEMS_SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if self.problems.len() > MAX_PROBLEMS_SHOWN {
            write!(
                f,
                "; and {} more problems",
                self.problems.len() - MAX_PROBLEMS_SHOWN
            )?;
        }
        Ok(())
    }
}

/// The fields a request may hold. Order matters only for messages.
pub const REQUEST_FIELDS: &[&str] = &[
    "clusterName",
    "nodegroupName",
    "version",
    "releaseVersion",
    "launchTemplate",
    "force",
    "clientRequestToken",
    "dryRun",
    "minReleaseAgeDays",
];

const LAUNCH_TEMPLATE_FIELDS: &[&str] = &["name", "id", "version"];

/// An EKS cluster name: 1–100 characters, `^[0-9A-Za-z][A-Za-z0-9_-]*$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClusterName(String);

/// A managed node group name: 1–63 characters, same pattern as a cluster name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodegroupName(String);

fn valid_eks_name(text: &str, max: usize) -> bool {
    let mut bytes = text.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    text.len() <= max && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

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

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for NodegroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which Kubernetes minor the node group should end on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionRequest {
    /// `version` absent: stay on the node group's current minor (newest AMI for it).
    Current,
    /// `"cluster"`: the control plane's current minor.
    Cluster,
    /// An explicit `MAJOR.MINOR`.
    Explicit(MinorVersion),
}

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

/// A caller's idempotency token: 1–128 printable ASCII characters, used verbatim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequestToken(String);

impl ClientRequestToken {
    pub fn parse(text: &str) -> Option<Self> {
        let printable = text.bytes().all(|b| (0x20..=0x7e).contains(&b));
        (!text.is_empty() && text.len() <= 128 && printable).then(|| Self(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Upper bound of `minReleaseAgeDays`.
pub const MAX_RELEASE_AGE_DAYS: u64 = 365;

/// A validated request to move one node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRequest {
    cluster: ClusterName,
    nodegroup: NodegroupName,
    version: VersionRequest,
    release_version: Option<ReleaseVersion>,
    launch_template: Option<LaunchTemplateRequest>,
    force: bool,
    client_request_token: Option<ClientRequestToken>,
    dry_run: bool,
    min_release_age_days: Option<u16>,
}

impl UpdateRequest {
    /// The only way to make a request: validates every field of a JSON object and
    /// rejects unknown ones, naming the closest known field.
    pub fn from_json(object: &Map<String, Value>) -> Result<Self, InvalidRequest> {
        let mut fields = Fields::new(object);
        fields.reject_unknown("", REQUEST_FIELDS);

        let cluster = fields.required_str("clusterName").and_then(|text| {
            ClusterName::parse(text)
                .map_err(|problem| fields.problem("clusterName", problem))
                .ok()
        });
        let nodegroup = fields.required_str("nodegroupName").and_then(|text| {
            NodegroupName::parse(text)
                .map_err(|problem| fields.problem("nodegroupName", problem))
                .ok()
        });
        let version = match fields.optional_str("version") {
            None => VersionRequest::Current,
            Some("cluster") => VersionRequest::Cluster,
            Some(text) => match MinorVersion::parse(text) {
                Some(minor) => VersionRequest::Explicit(minor),
                None => {
                    fields.problem(
                        "version",
                        format!(
                            "must be MAJOR.MINOR (like \"1.31\") or \"cluster\"; got {}",
                            quoted(text)
                        ),
                    );
                    VersionRequest::Current
                }
            },
        };
        let release_version = fields.optional_str("releaseVersion").and_then(|text| {
            let parsed = ReleaseVersion::parse(text);
            if parsed.is_none() {
                fields.problem(
                    "releaseVersion",
                    format!(
                        "must look like \"1.31.2-20241115\" (Amazon Linux), \"1.31-2024.11.12\" (Windows) or \"1.26.1-943d9a41\" (Bottlerocket), at most 64 characters; got {}",
                        quoted(text)
                    ),
                );
            }
            parsed
        });
        let launch_template = fields
            .optional_object("launchTemplate")
            .and_then(|object| parse_launch_template(object, &mut fields));
        let force = fields.optional_bool("force").unwrap_or(false);
        let client_request_token = fields.optional_str("clientRequestToken").and_then(|text| {
            let parsed = ClientRequestToken::parse(text);
            if parsed.is_none() {
                fields.problem(
                    "clientRequestToken",
                    "must be 1-128 printable ASCII characters".to_owned(),
                );
            }
            parsed
        });
        let dry_run = fields.optional_bool("dryRun").unwrap_or(false);
        let min_release_age_days = fields.optional_u64("minReleaseAgeDays").and_then(|days| {
            if days > MAX_RELEASE_AGE_DAYS {
                fields.problem(
                    "minReleaseAgeDays",
                    format!("must be a whole number of days from 0 to 365; got {days}"),
                );
                None
            } else {
                u16::try_from(days).ok()
            }
        });

        match (cluster, nodegroup) {
            (Some(cluster), Some(nodegroup)) if fields.problems.is_empty() => Ok(Self {
                cluster,
                nodegroup,
                version,
                release_version,
                launch_template,
                force,
                client_request_token,
                dry_run,
                min_release_age_days,
            }),
            _ => Err(fields.into_error()),
        }
    }

    pub fn cluster(&self) -> &ClusterName {
        &self.cluster
    }
    pub fn nodegroup(&self) -> &NodegroupName {
        &self.nodegroup
    }
    pub fn version(&self) -> VersionRequest {
        self.version
    }
    pub fn release_version(&self) -> Option<&ReleaseVersion> {
        self.release_version.as_ref()
    }
    pub fn launch_template(&self) -> Option<&LaunchTemplateRequest> {
        self.launch_template.as_ref()
    }
    pub fn force(&self) -> bool {
        self.force
    }
    pub fn client_request_token(&self) -> Option<&ClientRequestToken> {
        self.client_request_token.as_ref()
    }
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
    pub fn min_release_age_days(&self) -> Option<u16> {
        self.min_release_age_days
    }
}

fn parse_launch_template(
    object: &Map<String, Value>,
    outer: &mut Fields<'_>,
) -> Option<LaunchTemplateRequest> {
    let mut fields = Fields::new(object);
    fields.prefix = "launchTemplate.";
    fields.reject_unknown("launchTemplate.", LAUNCH_TEMPLATE_FIELDS);
    let name = fields.optional_str("name");
    let id = fields.optional_str("id");
    let selector = match (id, name) {
        (Some(_), Some(_)) => {
            fields.problem(
                "",
                "must name the template by `id` or by `name`, not both".to_owned(),
            );
            None
        }
        (None, None) => {
            fields.problem(
                "",
                "must name the node group's launch template by `id` or `name`".to_owned(),
            );
            None
        }
        (Some(id), None) => {
            if valid_template_id(id) {
                Some(TemplateSelector::Id(id.to_owned()))
            } else {
                fields.problem(
                    "id",
                    format!(
                        "must be \"lt-\" followed by 8 or 17 lowercase hex digits; got {}",
                        quoted(id)
                    ),
                );
                None
            }
        }
        (None, Some(name)) => {
            if valid_template_name(name) {
                Some(TemplateSelector::Name(name.to_owned()))
            } else {
                fields.problem(
                    "name",
                    format!(
                        "must be 3-128 characters of letters, digits and ( ) . - / _; got {}",
                        quoted(name)
                    ),
                );
                None
            }
        }
    };
    let version = fields.optional_str("version").and_then(|text| {
        let parsed = TemplateVersion::parse(text);
        if parsed.is_none() {
            fields.problem(
                "version",
                format!(
                    "must be a positive whole number as a string (like \"3\"), \"$Latest\" or \"$Default\"; got {}",
                    quoted(text)
                ),
            );
        }
        parsed
    });
    outer.problems.append(&mut fields.problems);
    selector.map(|selector| LaunchTemplateRequest { selector, version })
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

/// Reads fields of one JSON object and collects what is wrong with them.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: &'static str,
    problems: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            prefix: "",
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, field: &str, problem: String) {
        let path = if field.is_empty() {
            self.prefix.trim_end_matches('.').to_owned()
        } else {
            format!("{}{field}", self.prefix)
        };
        self.problems.push(FieldError {
            field: path,
            problem,
        });
    }

    fn reject_unknown(&mut self, prefix: &str, known: &[&str]) {
        for key in self.object.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let hint = match closest(key, known) {
                Some(suggestion) => {
                    format!("is not a known field (did you mean `{prefix}{suggestion}`?)")
                }
                None => format!("is not a known field (known: {})", known.join(", ")),
            };
            self.problems.push(FieldError {
                field: format!("{prefix}{}", printable(key)),
                problem: hint,
            });
        }
    }

    /// The value of a field, with JSON `null` read as absent: Step Functions and
    /// templating tools often write `null` for "not set".
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field).filter(|value| !value.is_null())
    }

    fn required_str(&mut self, field: &str) -> Option<&'a str> {
        if self.get(field).is_none() {
            self.problem(field, "is required".to_owned());
            return None;
        }
        self.optional_str(field)
    }

    fn optional_str(&mut self, field: &str) -> Option<&'a str> {
        match self.get(field)? {
            Value::String(text) => Some(text),
            // A number where a string is expected is the most common slip; show the fix.
            Value::Number(n) => {
                self.problem(field, format!("must be a string: write \"{n}\", not {n}"));
                None
            }
            other => {
                self.problem(field, format!("must be a string, not {}", kind(other)));
                None
            }
        }
    }

    fn optional_bool(&mut self, field: &str) -> Option<bool> {
        match self.get(field)? {
            Value::Bool(flag) => Some(*flag),
            other => {
                self.problem(
                    field,
                    format!(
                        "must be true or false (a JSON boolean), not {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn optional_u64(&mut self, field: &str) -> Option<u64> {
        match self.get(field)? {
            Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
            other => {
                self.problem(
                    field,
                    format!("must be a whole number from 0 to 365, not {}", kind(other)),
                );
                None
            }
        }
    }

    fn optional_object(&mut self, field: &str) -> Option<&'a Map<String, Value>> {
        match self.get(field)? {
            Value::Object(object) => Some(object),
            other => {
                self.problem(field, format!("must be an object, not {}", kind(other)));
                None
            }
        }
    }

    fn into_error(self) -> InvalidRequest {
        let readable = |field: &str| match self.object.get(field) {
            Some(Value::String(text)) if text.len() <= 100 => Some(printable(text)),
            _ => None,
        };
        InvalidRequest {
            cluster: readable("clusterName"),
            nodegroup: readable("nodegroupName"),
            problems: self.problems,
        }
    }
}

/// The known field closest to an unknown one, when it is close enough to be a slip:
/// same letters in another case (`nodeGroupName`), or a small edit away (`clustername`,
/// `relaseVersion`).
pub fn closest<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|candidate| {
            let score =
                strsim::normalized_damerau_levenshtein(&lower, &candidate.to_ascii_lowercase());
            (candidate, score)
        })
        .filter(|(_, score)| *score >= 0.6)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| *candidate)
}

/// The JSON type of a value, as a user would name it in an error message.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "a number",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A user's text quoted for a message, shortened and with control characters escaped so a
/// hostile value cannot forge log lines or flood a message.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", printable(text))
}

fn printable(text: &str) -> String {
    const LIMIT: usize = 80;
    let mut out: String = text
        .chars()
        .take(LIMIT)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().count() > LIMIT {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<UpdateRequest, InvalidRequest> {
        match value {
            Value::Object(object) => UpdateRequest::from_json(&object),
            _ => panic!("test input must be an object"),
        }
    }

    fn base() -> Value {
        json!({"clusterName": "prod", "nodegroupName": "workers"})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = base();
        v[field] = value;
        v
    }

    /// Asserts the request is refused and the message names `field` and says `needle`.
    fn assert_rejects(value: Value, field: &str, needle: &str) {
        let err = parse(value.clone()).expect_err(&format!("should reject {value}"));
        let message = err.to_string();
        assert!(
            err.problems.iter().any(|p| p.field == field),
            "no problem on `{field}` in: {message}"
        );
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }

    #[test]
    fn minimal_request_defaults() {
        let r = parse(base()).unwrap();
        assert_eq!(r.cluster().as_str(), "prod");
        assert_eq!(r.nodegroup().as_str(), "workers");
        assert_eq!(r.version(), VersionRequest::Current);
        assert_eq!(r.release_version(), None);
        assert_eq!(r.launch_template(), None);
        assert!(!r.force());
        assert!(!r.dry_run());
        assert_eq!(r.client_request_token(), None);
        assert_eq!(r.min_release_age_days(), None);
    }

    #[test]
    fn full_request_is_read() {
        let r = parse(json!({
            "clusterName": "prod-eu_1",
            "nodegroupName": "ng-1",
            "version": "1.31",
            "releaseVersion": "1.31.2-20241115",
            "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "7"},
            "force": true,
            "clientRequestToken": "abc-123",
            "dryRun": true,
            "minReleaseAgeDays": 7
        }))
        .unwrap();
        assert_eq!(
            r.version(),
            VersionRequest::Explicit(MinorVersion::new(1, 31))
        );
        assert_eq!(r.release_version().unwrap().as_str(), "1.31.2-20241115");
        let lt = r.launch_template().unwrap();
        assert_eq!(
            lt.selector(),
            &TemplateSelector::Id("lt-0123456789abcdef0".into())
        );
        assert_eq!(lt.version(), Some(&TemplateVersion::Number(7)));
        assert!(r.force());
        assert!(r.dry_run());
        assert_eq!(r.client_request_token().unwrap().as_str(), "abc-123");
        assert_eq!(r.min_release_age_days(), Some(7));
    }

    #[test]
    fn version_cluster_follows_the_control_plane() {
        let r = parse(with("version", json!("cluster"))).unwrap();
        assert_eq!(r.version(), VersionRequest::Cluster);
    }

    #[test]
    fn null_optional_fields_read_as_absent() {
        let mut v = base();
        for field in [
            "version",
            "releaseVersion",
            "launchTemplate",
            "force",
            "dryRun",
        ] {
            v[field] = Value::Null;
        }
        let r = parse(v).unwrap();
        assert_eq!(r.version(), VersionRequest::Current);
        assert!(!r.force());
    }

    #[test]
    fn rejects_missing_required_fields() {
        assert_rejects(json!({"nodegroupName": "w"}), "clusterName", "is required");
        assert_rejects(json!({"clusterName": "c"}), "nodegroupName", "is required");
        assert_rejects(
            json!({"clusterName": null, "nodegroupName": "w"}),
            "clusterName",
            "is required",
        );
    }

    #[test]
    fn rejects_bad_names() {
        let long_cluster = "c".repeat(101);
        let long_ng = "n".repeat(64);
        let cases = [
            ("clusterName", json!("")),
            ("clusterName", json!("-prod")),
            ("clusterName", json!("_prod")),
            ("clusterName", json!("prod cluster")),
            ("clusterName", json!("prod.eu")),
            ("clusterName", json!("prød")),
            ("clusterName", json!(long_cluster)),
            ("nodegroupName", json!("")),
            ("nodegroupName", json!("ng/1")),
            ("nodegroupName", json!(long_ng)),
        ];
        for (field, value) in cases {
            assert_rejects(with(field, value), field, "1-");
        }
        assert!(parse(with("clusterName", json!("c".repeat(100)))).is_ok());
        assert!(parse(with("nodegroupName", json!("n".repeat(63)))).is_ok());
        assert!(parse(with("clusterName", json!("9lives"))).is_ok());
    }

    #[test]
    fn rejects_versions_that_are_not_major_minor() {
        for bad in ["1.31.2", "1", "v1.31", "latest", "", "Cluster", "1.31 "] {
            assert_rejects(with("version", json!(bad)), "version", "MAJOR.MINOR");
        }
    }

    #[test]
    fn rejects_malformed_release_versions() {
        for bad in ["1.31", "1.31.2", "20241115", "1.31.2_20241115", "1.31.2-"] {
            assert_rejects(
                with("releaseVersion", json!(bad)),
                "releaseVersion",
                "1.31.2-20241115",
            );
        }
        let long = format!("1.31.2-{}", "2".repeat(58));
        assert_rejects(with("releaseVersion", json!(long)), "releaseVersion", "64");
    }

    #[test]
    fn rejects_wrong_json_types_without_guessing() {
        let cases = [
            ("force", json!("true"), "boolean"),
            ("dryRun", json!(1), "boolean"),
            ("version", json!(1.31), "must be a string"),
            ("clusterName", json!(["prod"]), "must be a string"),
            ("releaseVersion", json!({"v": 1}), "must be a string"),
            ("clientRequestToken", json!(42), "must be a string"),
            (
                "launchTemplate",
                json!("lt-0123456789abcdef0"),
                "must be an object",
            ),
            ("minReleaseAgeDays", json!("7"), "whole number"),
            ("minReleaseAgeDays", json!(7.5), "whole number"),
            ("minReleaseAgeDays", json!(-1), "whole number"),
        ];
        for (field, value, needle) in cases {
            assert_rejects(with(field, value), field, needle);
        }
    }

    #[test]
    fn release_age_is_bounded() {
        assert_eq!(
            parse(with("minReleaseAgeDays", json!(0)))
                .unwrap()
                .min_release_age_days(),
            Some(0)
        );
        assert_eq!(
            parse(with("minReleaseAgeDays", json!(365)))
                .unwrap()
                .min_release_age_days(),
            Some(365)
        );
        assert_rejects(
            with("minReleaseAgeDays", json!(366)),
            "minReleaseAgeDays",
            "0 to 365",
        );
    }

    #[test]
    fn rejects_unknown_fields_naming_the_closest() {
        let cases = [
            ("nodeGroupName", "nodegroupName"),
            ("clustername", "clusterName"),
            ("relaseVersion", "releaseVersion"),
            ("dry_run", "dryRun"),
            ("Force", "force"),
            ("launch_template", "launchTemplate"),
        ];
        for (typo, suggestion) in cases {
            let mut v = base();
            v[typo] = json!("x");
            let message = parse(v).unwrap_err().to_string();
            assert!(
                message.contains(&format!(
                    "`{typo}` is not a known field (did you mean `{suggestion}`?)"
                )),
                "{message}"
            );
        }
    }

    #[test]
    fn unknown_field_far_from_any_lists_the_known_ones() {
        let message = parse(with("colour", json!("blue")))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`colour` is not a known field (known: clusterName"),
            "{message}"
        );
    }

    #[test]
    fn launch_template_needs_exactly_one_of_id_and_name() {
        assert_rejects(
            with(
                "launchTemplate",
                json!({"id": "lt-0123456789abcdef0", "name": "workers"}),
            ),
            "launchTemplate",
            "not both",
        );
        assert_rejects(
            with("launchTemplate", json!({"version": "3"})),
            "launchTemplate",
            "by `id` or `name`",
        );
    }

    #[test]
    fn launch_template_fields_are_checked() {
        let cases = [
            (json!({"id": "lt-123"}), "launchTemplate.id", "8 or 17"),
            (
                json!({"id": "lt-0123456789ABCDEF0"}),
                "launchTemplate.id",
                "lowercase hex",
            ),
            (
                json!({"id": "0123456789abcdef0"}),
                "launchTemplate.id",
                "lt-",
            ),
            (json!({"name": "ab"}), "launchTemplate.name", "3-128"),
            (json!({"name": "a b c"}), "launchTemplate.name", "3-128"),
            (
                json!({"name": "x".repeat(129)}),
                "launchTemplate.name",
                "3-128",
            ),
            (
                json!({"name": "lt", "version": "0"}),
                "launchTemplate.name",
                "3-128",
            ),
            (
                json!({"name": "tmpl", "version": "0"}),
                "launchTemplate.version",
                "positive",
            ),
            (
                json!({"name": "tmpl", "version": "-1"}),
                "launchTemplate.version",
                "positive",
            ),
            (
                json!({"name": "tmpl", "version": "03"}),
                "launchTemplate.version",
                "positive",
            ),
            (
                json!({"name": "tmpl", "version": "$latest"}),
                "launchTemplate.version",
                "$Latest",
            ),
            (
                json!({"name": "tmpl", "version": 3}),
                "launchTemplate.version",
                "write \"3\"",
            ),
            (
                json!({"name": "tmpl", "Version": "3"}),
                "launchTemplate.Version",
                "did you mean `launchTemplate.version`",
            ),
        ];
        for (lt, field, needle) in cases {
            assert_rejects(with("launchTemplate", lt), field, needle);
        }
    }

    #[test]
    fn launch_template_accepts_the_documented_forms() {
        let cases = [
            (json!({"id": "lt-01234567"}), None),
            (
                json!({"id": "lt-0123456789abcdef0", "version": "12"}),
                Some(TemplateVersion::Number(12)),
            ),
            (json!({"name": "my-template_(v2)/x.y"}), None),
            (
                json!({"name": "tmpl", "version": "$Latest"}),
                Some(TemplateVersion::Latest),
            ),
            (
                json!({"name": "tmpl", "version": "$Default"}),
                Some(TemplateVersion::Default),
            ),
        ];
        for (lt, version) in cases {
            let r =
                parse(with("launchTemplate", lt.clone())).unwrap_or_else(|e| panic!("{lt}: {e}"));
            assert_eq!(
                r.launch_template().unwrap().version(),
                version.as_ref(),
                "{lt}"
            );
        }
    }

    #[test]
    fn client_request_token_is_printable_ascii_up_to_128() {
        assert!(parse(with("clientRequestToken", json!("a".repeat(128)))).is_ok());
        assert!(parse(with("clientRequestToken", json!("exec:arn/1 ~!"))).is_ok());
        for bad in [
            String::new(),
            "a".repeat(129),
            "tab\there".into(),
            "naïve".into(),
        ] {
            assert_rejects(
                with("clientRequestToken", json!(bad)),
                "clientRequestToken",
                "printable ASCII",
            );
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = parse(json!({
            "clusterName": "prod",
            "nodegroupName": "workers",
            "version": "one",
            "force": "yes",
            "extra": 1
        }))
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(
            err.to_string()
                .starts_with("invalid request for cluster 'prod', node group 'workers': ")
        );
    }

    #[test]
    fn a_flood_of_unknown_fields_gives_a_bounded_message() {
        let mut v = base();
        for i in 0..5000 {
            v[format!("field{i}")] = json!(i);
        }
        let message = parse(v).unwrap_err().to_string();
        assert!(message.ends_with("; and 4990 more problems"), "{message}");
        assert!(message.len() < 2000, "{}", message.len());
    }

    #[test]
    fn hostile_text_is_escaped_and_shortened_in_messages() {
        let message = parse(with("version", json!(format!("1\n{}", "x".repeat(500)))))
            .unwrap_err()
            .to_string();
        assert!(!message.contains('\n'));
        assert!(message.len() < 400, "{}", message.len());
    }
}
