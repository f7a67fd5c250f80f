//! The function's failures: one type, whose [`ErrorKind`] is the stable `errorType` a state
//! machine retries or catches by (ARCHITECTURE.md, "Errors"). Adding context or an update id
//! to a failure is one call; the Lambda shell turns it into the runtime's `Diagnostic`.

use std::fmt;

use crate::core::request::{ClusterName, NodegroupName};

/// A source error kept for the log (never for the caller's message).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which node group a failure is about, in the request's validated names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub cluster: ClusterName,
    pub nodegroup: NodegroupName,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cluster '{}', node group '{}'",
            self.cluster, self.nodegroup
        )
    }
}

/// What a failure is about: one node group, a whole cluster (listing its node groups), or
/// the account (listing its clusters); `Input` where the request could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum About {
    Input,
    Account,
    Cluster(ClusterName),
    Nodegroup(Subject),
    /// An object of the fleet's bucket, `s3://bucket/key`.
    Object(String),
}

impl From<&Subject> for About {
    fn from(subject: &Subject) -> Self {
        Self::Nodegroup(subject.clone())
    }
}

impl fmt::Display for About {
    /// The message's opening: `cluster 'c', node group 'n': `, or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input | Self::Account => Ok(()),
            Self::Cluster(cluster) => write!(f, "cluster '{cluster}': "),
            Self::Nodegroup(subject) => write!(f, "{subject}: "),
            Self::Object(url) => write!(f, "object {url}: "),
        }
    }
}

/// The `errorType` names of the contract, in its table's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The payload is not an object, or a field is missing, unknown, mistyped or malformed.
    InvalidInput,
    /// The cluster is outside `ALLOWED_CLUSTERS`.
    NotAllowed,
    /// The cluster or node group does not exist.
    NotFound,
    /// The live state forbids the target.
    PreconditionFailed,
    /// Another update is running on the node group (or the control plane is changing).
    UpdateInProgress,
    /// EKS refused the request; its message is kept.
    Rejected,
    /// IAM denied a call.
    AccessDenied,
    /// Still throttled after the SDK's retries.
    Throttled,
    /// A 5xx, a timeout, a connection failure or an unreadable response.
    ServiceError,
}

impl ErrorKind {
    /// Every kind, for tables and tests.
    pub const ALL: [Self; 9] = [
        Self::InvalidInput,
        Self::NotAllowed,
        Self::NotFound,
        Self::PreconditionFailed,
        Self::UpdateInProgress,
        Self::Rejected,
        Self::AccessDenied,
        Self::Throttled,
        Self::ServiceError,
    ];

    /// The `errorType` a state machine sees.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "InvalidInput",
            Self::NotAllowed => "NotAllowed",
            Self::NotFound => "NotFound",
            Self::PreconditionFailed => "PreconditionFailed",
            Self::UpdateInProgress => "UpdateInProgress",
            Self::Rejected => "Rejected",
            Self::AccessDenied => "AccessDenied",
            Self::Throttled => "Throttled",
            Self::ServiceError => "ServiceError",
        }
    }

    /// Whether retrying the same request later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::UpdateInProgress | Self::Throttled | Self::ServiceError
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure the function reports: "cluster 'c', node group 'n': what happened; what to
/// do".
#[derive(Debug, thiserror::Error)]
#[error("{about}{message}")]
pub struct Error {
    kind: ErrorKind,
    about: About,
    message: String,
    #[source]
    source: Option<Source>,
    /// The running update, for an `UpdateInProgress` that knows it.
    update_id: Option<String>,
}

impl Error {
    /// A failure about one node group.
    pub fn new(kind: ErrorKind, subject: &Subject, message: impl Into<String>) -> Self {
        Self::about(kind, About::from(subject), message)
    }

    /// A failure about a cluster, the account, or input that is no request.
    pub fn about(kind: ErrorKind, about: About, message: impl Into<String>) -> Self {
        Self {
            kind,
            about,
            message: message.into(),
            source: None,
            update_id: None,
        }
    }

    /// A payload that is not a usable request: no node group to name.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::about(ErrorKind::InvalidInput, About::Input, message)
    }

    /// Keeps the error that caused this one, for the log.
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Names the running update this failure is about.
    pub fn with_update_id(mut self, update_id: impl Into<String>) -> Self {
        self.update_id = Some(update_id.into());
        self
    }

    /// The same error with `context` before its message (for a failure reported on behalf
    /// of a check that needed the failed call).
    pub fn with_context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The `errorType` a state machine sees.
    pub fn error_type(&self) -> &'static str {
        self.kind.as_str()
    }

    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The node group the failure is about, where it is about one.
    pub fn subject(&self) -> Option<&Subject> {
        match &self.about {
            About::Nodegroup(subject) => Some(subject),
            _ => None,
        }
    }

    pub fn update_id(&self) -> Option<&str> {
        self.update_id.as_deref()
    }

    /// The chain of source errors, outermost first, for the log.
    pub fn cause(&self) -> Option<String> {
        let mut next = std::error::Error::source(self);
        let mut parts = Vec::new();
        while let Some(error) = next {
            parts.push(error.to_string());
            next = error.source();
        }
        (!parts.is_empty()).then(|| parts.join(": "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            cluster: ClusterName::parse("prod").unwrap(),
            nodegroup: NodegroupName::parse("workers").unwrap(),
        }
    }

    #[test]
    fn names_and_retryability_are_the_contract() {
        let table = [
            (ErrorKind::InvalidInput, "InvalidInput", false),
            (ErrorKind::NotAllowed, "NotAllowed", false),
            (ErrorKind::NotFound, "NotFound", false),
            (ErrorKind::PreconditionFailed, "PreconditionFailed", false),
            (ErrorKind::UpdateInProgress, "UpdateInProgress", true),
            (ErrorKind::Rejected, "Rejected", false),
            (ErrorKind::AccessDenied, "AccessDenied", false),
            (ErrorKind::Throttled, "Throttled", true),
            (ErrorKind::ServiceError, "ServiceError", true),
        ];
        assert_eq!(table.len(), ErrorKind::ALL.len());
        for (kind, name, retryable) in table {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.is_retryable(), retryable, "{name}");
            let error = Error::new(kind, &subject(), "m");
            assert_eq!(error.error_type(), name);
            assert_eq!(error.to_string(), "cluster 'prod', node group 'workers': m");
        }
    }

    #[test]
    fn invalid_input_names_no_node_group() {
        let error = Error::invalid_input("bad");
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), "bad");
    }

    #[test]
    fn context_update_id_and_source_are_one_call_each() {
        let io = std::io::Error::other("connection reset");
        let error = Error::new(ErrorKind::ServiceError, &subject(), "failed")
            .with_source(io)
            .with_update_id("u-1")
            .with_context("the soak gate cannot see");
        assert_eq!(
            error.to_string(),
            "cluster 'prod', node group 'workers': the soak gate cannot see: failed"
        );
        assert_eq!(error.update_id(), Some("u-1"));
        assert_eq!(error.cause().as_deref(), Some("connection reset"));
    }
}
