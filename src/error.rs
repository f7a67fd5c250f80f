//! The function's failures, with the stable `errorType` names a state machine retries or
//! catches by (DESIGN, "Errors").

use std::fmt;

use lambda_runtime::Diagnostic;

/// A source error kept for the log (never for the caller's message).
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which node group a failure is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub cluster: String,
    pub nodegroup: String,
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

/// Every failure the function reports. The variant is the `errorType`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The payload is not an object, or a field is missing, unknown, mistyped or malformed.
    #[error("{message}")]
    InvalidInput { message: String },

    /// The cluster is outside `ALLOWED_CLUSTERS`.
    #[error("{subject}: {message}")]
    NotAllowed { subject: Subject, message: String },

    /// The cluster or node group does not exist.
    #[error("{subject}: {message}")]
    NotFound {
        subject: Subject,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// The live state forbids the target.
    #[error("{subject}: {message}")]
    PreconditionFailed { subject: Subject, message: String },

    /// Another update is running on the node group.
    #[error("{subject}: {message}")]
    UpdateInProgress {
        subject: Subject,
        message: String,
        update_id: Option<String>,
    },

    /// EKS refused the request; its message is kept.
    #[error("{subject}: {message}")]
    Rejected {
        subject: Subject,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// IAM denied a call.
    #[error("{subject}: {message}")]
    AccessDenied {
        subject: Subject,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// Still throttled after the SDK's retries.
    #[error("{subject}: {message}")]
    Throttled {
        subject: Subject,
        message: String,
        #[source]
        source: Option<Source>,
    },

    /// EKS 5xx, a timeout, a connection failure or an unreadable response.
    #[error("{subject}: {message}")]
    ServiceError {
        subject: Subject,
        message: String,
        #[source]
        source: Option<Source>,
    },
}

impl Error {
    /// The `errorType` a state machine sees.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "InvalidInput",
            Self::NotAllowed { .. } => "NotAllowed",
            Self::NotFound { .. } => "NotFound",
            Self::PreconditionFailed { .. } => "PreconditionFailed",
            Self::UpdateInProgress { .. } => "UpdateInProgress",
            Self::Rejected { .. } => "Rejected",
            Self::AccessDenied { .. } => "AccessDenied",
            Self::Throttled { .. } => "Throttled",
            Self::ServiceError { .. } => "ServiceError",
        }
    }

    /// The same error with `context` before its message (for a failure reported on behalf
    /// of a check that needed the failed call).
    pub fn with_context(self, context: &str) -> Self {
        let prefix = |message: String| format!("{context}: {message}");
        match self {
            Self::InvalidInput { message } => Self::InvalidInput {
                message: prefix(message),
            },
            Self::NotAllowed { subject, message } => Self::NotAllowed {
                subject,
                message: prefix(message),
            },
            Self::NotFound {
                subject,
                message,
                source,
            } => Self::NotFound {
                subject,
                message: prefix(message),
                source,
            },
            Self::PreconditionFailed { subject, message } => Self::PreconditionFailed {
                subject,
                message: prefix(message),
            },
            Self::UpdateInProgress {
                subject,
                message,
                update_id,
            } => Self::UpdateInProgress {
                subject,
                message: prefix(message),
                update_id,
            },
            Self::Rejected {
                subject,
                message,
                source,
            } => Self::Rejected {
                subject,
                message: prefix(message),
                source,
            },
            Self::AccessDenied {
                subject,
                message,
                source,
            } => Self::AccessDenied {
                subject,
                message: prefix(message),
                source,
            },
            Self::Throttled {
                subject,
                message,
                source,
            } => Self::Throttled {
                subject,
                message: prefix(message),
                source,
            },
            Self::ServiceError {
                subject,
                message,
                source,
            } => Self::ServiceError {
                subject,
                message: prefix(message),
                source,
            },
        }
    }

    /// Whether retrying the same request later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::UpdateInProgress { .. } | Self::Throttled { .. } | Self::ServiceError { .. }
        )
    }
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            cluster: "prod".into(),
            nodegroup: "workers".into(),
        }
    }

    #[test]
    fn diagnostic_carries_the_stable_name_and_the_subject() {
        let cases: Vec<(Error, &str, bool)> = vec![
            (
                Error::InvalidInput {
                    message: "bad".into(),
                },
                "InvalidInput",
                false,
            ),
            (
                Error::NotAllowed {
                    subject: subject(),
                    message: "m".into(),
                },
                "NotAllowed",
                false,
            ),
            (
                Error::NotFound {
                    subject: subject(),
                    message: "m".into(),
                    source: None,
                },
                "NotFound",
                false,
            ),
            (
                Error::PreconditionFailed {
                    subject: subject(),
                    message: "m".into(),
                },
                "PreconditionFailed",
                false,
            ),
            (
                Error::UpdateInProgress {
                    subject: subject(),
                    message: "m".into(),
                    update_id: None,
                },
                "UpdateInProgress",
                true,
            ),
            (
                Error::Rejected {
                    subject: subject(),
                    message: "m".into(),
                    source: None,
                },
                "Rejected",
                false,
            ),
            (
                Error::AccessDenied {
                    subject: subject(),
                    message: "m".into(),
                    source: None,
                },
                "AccessDenied",
                false,
            ),
            (
                Error::Throttled {
                    subject: subject(),
                    message: "m".into(),
                    source: None,
                },
                "Throttled",
                true,
            ),
            (
                Error::ServiceError {
                    subject: subject(),
                    message: "m".into(),
                    source: None,
                },
                "ServiceError",
                true,
            ),
        ];
        for (error, name, retryable) in cases {
            assert_eq!(error.is_retryable(), retryable, "{name}");
            let diagnostic = Diagnostic::from(error);
            assert_eq!(diagnostic.error_type, name);
            if name != "InvalidInput" {
                assert_eq!(
                    diagnostic.error_message,
                    "cluster 'prod', node group 'workers': m"
                );
            }
        }
    }
}
