//! Naming SDK failures by what a state machine should do about them: the part of error
//! handling that every AWS adapter (EKS, SSM) shares.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{Error, Subject};

/// Which call failed: the service's name for messages and its IAM prefix.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// `EKS`, `SSM`.
    pub service: &'static str,
    /// `eks`, `ssm`.
    pub iam_prefix: &'static str,
    /// `DescribeNodegroup`, `GetParameter`, ...
    pub op: &'a str,
}

/// Implements [`ModeledError`] for an operation error enum from a list of its variants.
macro_rules! modeled_errors {
    ($($error:ty { $($variant:ident => $meaning:ident),+ $(,)? })+) => {$(
        impl $crate::sdk_error::ModeledError for $error {
            fn modeled(&self) -> ($crate::sdk_error::Modeled, Option<&str>, Option<&str>) {
                use ::aws_smithy_types::error::metadata::ProvideErrorMetadata;
                match self {
                    $(Self::$variant(e) => (
                        $crate::sdk_error::Modeled::$meaning,
                        Some(stringify!($variant)),
                        e.message(),
                    ),)+
                    _ => (
                        $crate::sdk_error::Modeled::Unmodeled,
                        ProvideErrorMetadata::code(self),
                        ProvideErrorMetadata::message(self),
                    ),
                }
            }
        }
    )+};
}
pub(crate) use modeled_errors;

/// Error codes that mean "slow down", whichever AWS front end sent them.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
];

/// Error codes that mean the caller's identity or permissions were refused.
const ACCESS_CODES: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "MissingAuthenticationTokenException",
    "NotAuthorizedException",
];

/// What a modeled service error means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modeled {
    NotFound,
    InUse,
    /// The service refused the request as given (EKS `InvalidParameterException`,
    /// `InvalidRequestException`, `ClientException`).
    Rejected,
    /// The service failed on its side (EKS `ServerException`, SSM `InternalServerError`).
    Server,
    /// Not one of the operation's modeled errors (throttling, access denied, ...): the
    /// error code and HTTP status decide.
    Unmodeled,
}

/// The modeled errors of one operation, matched by variant (the SDK's error enums are
/// `#[non_exhaustive]`, hence the `_` arm).
pub trait ModeledError {
    /// The meaning of the error, its code (the variant's name for modeled errors, which
    /// holds even where the metadata lacks it) and the service's own message.
    fn modeled(&self) -> (Modeled, Option<&str>, Option<&str>);
}

/// Whether a failed connection was rustls refusing the endpoint's certificate (src/tls.rs).
/// The rustls error sits several boxes deep (hyper-util, the SDK's connector, io::Error),
/// so it is recognised by rustls's own wording, "invalid peer certificate".
fn untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.to_string().contains("invalid peer certificate") {
            return true;
        }
        next = e.source();
    }
    false
}

/// Names an SDK failure by what a state machine should do about it. The kind of
/// `SdkError` decides timeouts, connection failures and unreadable answers; for service
/// errors the modeled variant decides, then the error code and HTTP status for the rest.
pub fn classify<E>(
    error: SdkError<E, HttpResponse>,
    call: Call<'_>,
    subject: &Subject,
    not_found: impl FnOnce() -> String,
) -> Error
where
    E: ModeledError + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Call {
        service,
        iam_prefix,
        op,
    } = call;
    let subject = subject.clone();
    let (status, code, meaning, aws_message) = match &error {
        SdkError::ServiceError(context) => {
            let (meaning, code, message) = context.err().modeled();
            (
                Some(context.raw().status().as_u16()),
                code.map(str::to_owned),
                meaning,
                message.map(str::to_owned),
            )
        }
        _ => (None, None, Modeled::Unmodeled, None),
    };
    let transport = match &error {
        SdkError::TimeoutError(_) => Some(format!(
            "{service} {op} timed out (no answer within the call's time limit)"
        )),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Some(format!(
            "{service} {op} timed out (connecting or waiting for the answer)"
        )),
        SdkError::DispatchFailure(failure) if failure.is_io() && untrusted_certificate(&error) => {
            Some(format!(
                "could not reach {service} for {op}: TLS refused, the endpoint's certificate is not \
                 signed by a trusted CA (the function trusts Amazon Trust Services' roots unless \
                 SSL_CERT_FILE or SSL_CERT_DIR name others)"
            ))
        }
        SdkError::DispatchFailure(failure) if failure.is_io() => Some(format!(
            "could not reach {service} for {op} (connection failed or was reset)"
        )),
        SdkError::DispatchFailure(_) => Some(format!("could not send {service} {op}")),
        SdkError::ResponseError(_) => Some(format!(
            "{service} {op} answered with a response that could not be read"
        )),
        SdkError::ConstructionFailure(_) => Some(format!(
            "could not build the {service} {op} request (are the region and credentials configured?)"
        )),
        _ => None,
    };
    let source: Option<crate::error::Source> = Some(Box::new(error));
    if let Some(message) = transport {
        return Error::ServiceError {
            subject,
            message: format!("{message}; retry later"),
            source,
        };
    }

    let code_text = code.clone().unwrap_or_else(|| "UnknownError".to_owned());
    let said = aws_message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let code = code.as_deref().unwrap_or("");
    let status = status.unwrap_or(0);
    let meaning = match meaning {
        Modeled::Unmodeled if code == "ResourceNotFoundException" => Modeled::NotFound,
        Modeled::Unmodeled if code == "ResourceInUseException" => Modeled::InUse,
        other => other,
    };
    if meaning == Modeled::NotFound {
        Error::NotFound {
            subject,
            message: format!("{}{said}", not_found()),
            source,
        }
    } else if meaning == Modeled::InUse {
        Error::UpdateInProgress {
            subject,
            message: format!(
                "{service} {op} answered that the node group is busy{said}; retry when the running update ends"
            ),
            update_id: None,
        }
    } else if meaning == Modeled::Rejected {
        Error::Rejected {
            subject,
            message: format!("{service} refused {op} ({code_text}){said}"),
            source,
        }
    } else if meaning == Modeled::Server {
        Error::ServiceError {
            subject,
            message: format!(
                "{service} {op} failed on the service side ({code_text}{said}); retry later"
            ),
            source,
        }
    } else if THROTTLING_CODES.contains(&code) || status == 429 {
        Error::Throttled {
            subject,
            message: format!(
                "{service} throttled {op} ({code_text}) beyond the SDK's retries; retry with back-off"
            ),
            source,
        }
    } else if ACCESS_CODES.contains(&code) || status == 403 {
        Error::AccessDenied {
            subject,
            message: format!(
                "access denied to {iam_prefix}:{op} ({code_text}{said}); grant the function's role {iam_prefix}:{op} on this cluster and node group"
            ),
            source,
        }
    } else if status < 400 {
        // A success status whose body did not parse as the operation's answer.
        Error::ServiceError {
            subject,
            message: format!(
                "{service} {op} answered with a response that could not be read (HTTP {status}); retry later"
            ),
            source,
        }
    } else if status >= 500 {
        Error::ServiceError {
            subject,
            message: format!(
                "{service} {op} failed on the service side ({code_text}, HTTP {status}{said}); retry later"
            ),
            source,
        }
    } else if (400..500).contains(&status) {
        Error::Rejected {
            subject,
            message: format!("{service} refused {op} ({code_text}){said}"),
            source,
        }
    } else {
        Error::ServiceError {
            subject,
            message: format!(
                "{service} {op} failed ({code_text}, HTTP {status}{said}); retry later"
            ),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use aws_sdk_eks::operation::describe_cluster::DescribeClusterError;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    use super::*;

    fn dispatch(kind: io::ErrorKind, text: &str) -> SdkError<DescribeClusterError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::io(Box::new(io::Error::new(kind, text))))
    }

    /// Connection failures: which message, and always a retryable ServiceError.
    #[test]
    fn connection_failures_say_what_happened() {
        let subject = Subject {
            cluster: "prod".into(),
            nodegroup: "workers".into(),
        };
        let call = Call {
            service: "EKS",
            iam_prefix: "eks",
            op: "DescribeCluster",
        };
        let cases = [
            (
                dispatch(
                    io::ErrorKind::InvalidData,
                    "TLS handshake failed: invalid peer certificate: UnknownIssuer",
                ),
                "certificate is not signed by a trusted CA",
            ),
            (
                dispatch(io::ErrorKind::ConnectionReset, "connection reset by peer"),
                "(connection failed or was reset)",
            ),
            (
                dispatch(io::ErrorKind::ConnectionRefused, "certificate of deposit"),
                "(connection failed or was reset)",
            ),
        ];
        for (error, want) in cases {
            let got = classify(error, call, &subject, || unreachable!());
            assert_eq!(got.error_type(), "ServiceError");
            assert!(got.is_retryable());
            assert!(got.to_string().contains(want), "{got} lacks {want:?}");
        }
    }
}
