//! The validated update request: every field checked once, here, and held in types that
//! cannot carry an invalid value. Past this module nothing re-checks a name or a version.

mod account_id;
mod client_request_token;
mod cluster_name;
mod fields;
mod launch_template;
mod nodegroup_name;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::core::accounts::Place;
use crate::core::error::Subject;
use crate::core::version::{MinorVersion, ReleaseVersion};

pub use account_id::AccountId;
pub use client_request_token::ClientRequestToken;
pub use cluster_name::ClusterName;
pub(crate) use fields::Fields;
pub use fields::{FieldError, InvalidRequest, closest, kind, quoted};
use launch_template::parse_launch_template;
pub use launch_template::{LaunchTemplateRequest, TemplateSelector, TemplateVersion};
pub use nodegroup_name::NodegroupName;

/// Where the node group is: its names, which every request holds, and the account, which
/// a request may name (absent: the function's own).
pub const NAME_FIELDS: &[&str] = &["accountId", "clusterName", "nodegroupName"];

fn valid_eks_name(text: &str, max: usize) -> bool {
    let mut bytes = text.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    text.len() <= max && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Which Kubernetes minor the node group should end on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VersionRequest {
    /// `version` absent: stay on the node group's current minor (newest AMI for it).
    #[default]
    Current,
    /// `"cluster"`: the control plane's current minor.
    Cluster,
    /// An explicit `MAJOR.MINOR`.
    Explicit(MinorVersion),
}

impl VersionRequest {
    /// A given `version`: `"cluster"` or `MAJOR.MINOR`.
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "cluster" => Ok(Self::Cluster),
            _ => MinorVersion::parse(text)
                .map(Self::Explicit)
                .ok_or_else(|| {
                    format!(
                        "must be MAJOR.MINOR (like \"1.31\") or \"cluster\"; got {}",
                        quoted(text)
                    )
                }),
        }
    }
}

fn parse_release_version(text: &str) -> Result<ReleaseVersion, String> {
    ReleaseVersion::parse(text).ok_or_else(|| {
        format!(
            "must look like \"1.31.2-20241115\" (Amazon Linux), \"1.31-2024.11.12\" (Windows) or \"1.26.1-943d9a41\" (Bottlerocket), at most 64 characters; got {}",
            quoted(text)
        )
    })
}

fn release_age_days(days: u64) -> Result<u16, String> {
    u16::try_from(days)
        .ok()
        .filter(|_| days <= MAX_RELEASE_AGE_DAYS)
        .ok_or_else(|| format!("must be a whole number of days from 0 to 365; got {days}"))
}

/// Upper bound of `minReleaseAgeDays`.
pub const MAX_RELEASE_AGE_DAYS: u64 = 365;

/// The fields a request may hold besides the node group's names: what a fleet selector's
/// `request` holds. Order matters only for messages.
pub const SETTINGS_FIELDS: &[&str] = &[
    "version",
    "releaseVersion",
    "launchTemplate",
    "force",
    "clientRequestToken",
    "dryRun",
    "minReleaseAgeDays",
];

/// What a request asks for, apart from which node group: validated once, shared by every
/// node group a fleet selector finds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestSettings {
    version: VersionRequest,
    release_version: Option<ReleaseVersion>,
    launch_template: Option<LaunchTemplateRequest>,
    force: bool,
    client_request_token: Option<ClientRequestToken>,
    dry_run: bool,
    min_release_age_days: Option<u16>,
}

impl RequestSettings {
    /// Reads the settings of an object whose unknown fields the caller has rejected.
    pub(crate) fn read(fields: &mut Fields<'_>) -> Self {
        let version = fields
            .optional_parsed("version", VersionRequest::parse)
            .unwrap_or(VersionRequest::Current);
        let release_version = fields.optional_parsed("releaseVersion", parse_release_version);
        let launch_template = fields
            .optional_object("launchTemplate")
            .and_then(|object| parse_launch_template(object, fields));
        let force = fields.optional_bool("force").unwrap_or(false);
        let client_request_token =
            fields.optional_parsed("clientRequestToken", ClientRequestToken::parse);
        let dry_run = fields.optional_bool("dryRun").unwrap_or(false);
        let min_release_age_days = fields.optional_u64("minReleaseAgeDays").and_then(|days| {
            release_age_days(days)
                .map_err(|problem| fields.problem("minReleaseAgeDays", problem))
                .ok()
        });
        Self {
            version,
            release_version,
            launch_template,
            force,
            client_request_token,
            dry_run,
            min_release_age_days,
        }
    }
}

/// A validated request to move one node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The account the request named; after [`UpdateRequest::served_at`], only another
    /// account than the function's own (its own is the default, and keeps the token).
    account: Option<AccountId>,
    cluster: ClusterName,
    nodegroup: NodegroupName,
    settings: RequestSettings,
}

impl UpdateRequest {
    /// The only way to make a request from JSON: validates every field of an object and
    /// rejects unknown ones, naming the closest known field.
    pub fn from_json(object: &Map<String, Value>) -> Result<Self, InvalidRequest> {
        let mut fields = Fields::new(object);
        fields.reject_unknown(&[NAME_FIELDS, SETTINGS_FIELDS].concat());
        match Self::read(&mut fields) {
            Some(request) if fields.problems.is_empty() => Ok(request),
            _ => Err(fields.into_error()),
        }
    }

    /// Reads a request from an object whose unknown fields the caller has rejected (a
    /// fleet target holds `wave` besides); `None` when the names are unusable.
    pub(crate) fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let account = fields.optional_parsed("accountId", AccountId::parse);
        let cluster = fields.required_parsed("clusterName", ClusterName::parse);
        let nodegroup = fields.required_parsed("nodegroupName", NodegroupName::parse);
        let settings = RequestSettings::read(fields);
        Some(Self::new(account, cluster?, nodegroup?, settings))
    }

    /// The request of a node group a fleet selector found.
    pub fn new(
        account: Option<AccountId>,
        cluster: ClusterName,
        nodegroup: NodegroupName,
        settings: RequestSettings,
    ) -> Self {
        Self {
            account,
            cluster,
            nodegroup,
            settings,
        }
    }

    /// The request as served at `place`: its account is kept only when it is another than
    /// the function's own (naming its own is the same request as naming none, with the same
    /// token).
    #[must_use]
    pub fn served_at(mut self, place: &Place) -> Self {
        self.account = place.other().cloned();
        self
    }

    /// The node group this request is about, for errors and logs.
    pub fn subject(&self) -> Subject {
        Subject {
            cluster: self.cluster.clone(),
            nodegroup: self.nodegroup.clone(),
        }
    }

    /// The request with `account` where it named none (a fleet names every target's
    /// account, its own included, so the report can say where each node group is).
    #[must_use]
    pub fn or_account(mut self, account: Option<&AccountId>) -> Self {
        if self.account.is_none() {
            self.account = account.cloned();
        }
        self
    }

    /// The account the request named (see [`UpdateRequest::served_at`]).
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }
    pub fn cluster(&self) -> &ClusterName {
        &self.cluster
    }
    pub fn nodegroup(&self) -> &NodegroupName {
        &self.nodegroup
    }
    pub fn version(&self) -> VersionRequest {
        self.settings.version
    }
    pub fn release_version(&self) -> Option<&ReleaseVersion> {
        self.settings.release_version.as_ref()
    }
    pub fn launch_template(&self) -> Option<&LaunchTemplateRequest> {
        self.settings.launch_template.as_ref()
    }
    pub fn force(&self) -> bool {
        self.settings.force
    }
    pub fn client_request_token(&self) -> Option<&ClientRequestToken> {
        self.settings.client_request_token.as_ref()
    }
    pub fn dry_run(&self) -> bool {
        self.settings.dry_run
    }
    pub fn min_release_age_days(&self) -> Option<u16> {
        self.settings.min_release_age_days
    }
}
