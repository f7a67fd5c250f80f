//! Naming SDK failures by what a state machine should do about them, for every adapter.
//!
//! Two halves: [`Failure::of`] reads what an `SdkError` says (its kind, the modeled error,
//! the error code, the HTTP status) into plain data, and [`verdict`] is a pure table from
//! that data to an [`ErrorKind`] and the words of the message, tested row by row.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::core::error::{About, Error, ErrorKind};

/// Which call failed: the service's name for messages and its IAM prefix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    /// `EKS`, `SSM`.
    pub service: &'static str,
    /// `eks`, `ssm`.
    pub iam_prefix: &'static str,
    /// `DescribeNodegroup`, `GetParameter`, ...
    pub op: &'a str,
}

impl<'a> Call<'a> {
    pub(crate) const fn eks(op: &'a str) -> Self {
        Self {
            service: "EKS",
            iam_prefix: "eks",
            op,
        }
    }
}

/// Implements [`ModeledError`] for an operation error enum from a list of its variants.
macro_rules! modeled_errors {
    ($($error:ty { $($variant:ident => $meaning:ident),+ $(,)? })+) => {$(
        impl $crate::aws::classify::ModeledError for $error {
            fn modeled(&self) -> ($crate::aws::classify::Modeled, Option<&str>, Option<&str>) {
                use ::aws_smithy_types::error::metadata::ProvideErrorMetadata;
                match self {
                    $(Self::$variant(e) => (
                        $crate::aws::classify::Modeled::$meaning,
                        Some(stringify!($variant)),
                        e.message(),
                    ),)+
                    _ => (
                        $crate::aws::classify::Modeled::Unmodeled,
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

/// How a call failed before any service answer could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// The operation or an attempt ran out of time.
    Timeout,
    /// Connecting, or waiting for the answer, ran out of time.
    DispatchTimeout,
    /// TLS refused the endpoint's certificate.
    UntrustedCertificate,
    /// The connection failed or was reset.
    Connection,
    /// The request could not be sent for another reason.
    Dispatch,
    /// The answer could not be read.
    Unreadable,
    /// The request could not be built (region, credentials).
    Construction,
}

/// What an SDK failure says, with nothing of the SDK left: the table's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub transport: Option<Transport>,
    pub modeled: Modeled,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub message: Option<String>,
}

impl Failure {
    /// Reads an SDK failure. The kind of `SdkError` decides timeouts, connection failures
    /// and unreadable answers; for service errors the modeled variant, the error code and
    /// the HTTP status are kept for [`verdict`].
    pub fn of<E>(error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ModeledError + std::error::Error + 'static,
    {
        let transport = match error {
            SdkError::ServiceError(context) => {
                let (modeled, code, message) = context.err().modeled();
                return Self {
                    transport: None,
                    modeled,
                    code: code.map(str::to_owned),
                    status: Some(context.raw().status().as_u16()),
                    message: message.map(str::to_owned),
                };
            }
            SdkError::TimeoutError(_) => Some(Transport::Timeout),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                Some(Transport::DispatchTimeout)
            }
            SdkError::DispatchFailure(failure)
                if failure.is_io() && untrusted_certificate(error) =>
            {
                Some(Transport::UntrustedCertificate)
            }
            SdkError::DispatchFailure(failure) if failure.is_io() => Some(Transport::Connection),
            SdkError::DispatchFailure(_) => Some(Transport::Dispatch),
            SdkError::ResponseError(_) => Some(Transport::Unreadable),
            SdkError::ConstructionFailure(_) => Some(Transport::Construction),
            // `SdkError` is non-exhaustive: a new kind is read as an unreadable answer.
            _ => Some(Transport::Unreadable),
        };
        Self {
            transport,
            modeled: Modeled::Unmodeled,
            code: None,
            status: None,
            message: None,
        }
    }
}

/// Whether a failed connection was rustls refusing the endpoint's certificate
/// (src/aws/tls.rs). The rustls error sits several boxes deep (hyper-util, the SDK's
/// connector, io::Error), so it is recognised by rustls's own wording.
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

/// The table's answer: which failure it is, which decides the kind and the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Transport(Transport),
    NotFound,
    InUse,
    Rejected,
    Server,
    Throttled,
    AccessDenied,
    /// A success status whose body did not parse as the operation's answer.
    UnreadableSuccess,
    ServerStatus,
    ClientStatus,
}

impl Verdict {
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::InUse => ErrorKind::UpdateInProgress,
            Self::Rejected | Self::ClientStatus => ErrorKind::Rejected,
            Self::Throttled => ErrorKind::Throttled,
            Self::AccessDenied => ErrorKind::AccessDenied,
            Self::Transport(_) | Self::Server | Self::UnreadableSuccess | Self::ServerStatus => {
                ErrorKind::ServiceError
            }
        }
    }
}

/// The classification table: the modeled error first, then the error code, then the
/// HTTP status.
pub fn verdict(failure: &Failure) -> Verdict {
    if let Some(transport) = failure.transport {
        return Verdict::Transport(transport);
    }
    let code = failure.code.as_deref().unwrap_or("");
    let status = failure.status.unwrap_or(0);
    match failure.modeled {
        Modeled::NotFound => return Verdict::NotFound,
        Modeled::InUse => return Verdict::InUse,
        Modeled::Rejected => return Verdict::Rejected,
        Modeled::Server => return Verdict::Server,
        Modeled::Unmodeled => {}
    }
    match code {
        "ResourceNotFoundException" => Verdict::NotFound,
        "ResourceInUseException" => Verdict::InUse,
        _ if THROTTLING_CODES.contains(&code) || status == 429 => Verdict::Throttled,
        _ if ACCESS_CODES.contains(&code) || status == 403 => Verdict::AccessDenied,
        _ if status < 400 => Verdict::UnreadableSuccess,
        _ if status >= 500 => Verdict::ServerStatus,
        _ => Verdict::ClientStatus,
    }
}

/// The message for a verdict, saying what happened and what to do.
pub fn message(
    verdict: Verdict,
    failure: &Failure,
    call: Call<'_>,
    not_found: impl FnOnce() -> String,
) -> String {
    let Call {
        service,
        iam_prefix,
        op,
    } = call;
    let code = failure.code.as_deref().unwrap_or("UnknownError");
    let said = failure
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let status = failure.status.unwrap_or(0);
    match verdict {
        Verdict::Transport(transport) => {
            format!("{}; retry later", transport_message(transport, call))
        }
        Verdict::NotFound => format!("{}{said}", not_found()),
        Verdict::InUse => format!(
            "{service} {op} answered that the node group is busy{said}; retry when the running update ends"
        ),
        Verdict::Rejected | Verdict::ClientStatus => {
            format!("{service} refused {op} ({code}){said}")
        }
        Verdict::Server => {
            format!("{service} {op} failed on the service side ({code}{said}); retry later")
        }
        Verdict::Throttled => format!(
            "{service} throttled {op} ({code}) beyond the SDK's retries; retry with back-off"
        ),
        Verdict::AccessDenied => format!(
            "access denied to {iam_prefix}:{op} ({code}{said}); grant the function's role {iam_prefix}:{op} on this cluster and node group"
        ),
        Verdict::UnreadableSuccess => format!(
            "{service} {op} answered with a response that could not be read (HTTP {status}); retry later"
        ),
        Verdict::ServerStatus => format!(
            "{service} {op} failed on the service side ({code}, HTTP {status}{said}); retry later"
        ),
    }
}

fn transport_message(transport: Transport, call: Call<'_>) -> String {
    let Call { service, op, .. } = call;
    match transport {
        Transport::Timeout => {
            format!("{service} {op} timed out (no answer within the call's time limit)")
        }
        Transport::DispatchTimeout => {
            format!("{service} {op} timed out (connecting or waiting for the answer)")
        }
        Transport::UntrustedCertificate => format!(
            "could not reach {service} for {op}: TLS refused, the endpoint's certificate is not \
             signed by a trusted CA (the function trusts Amazon Trust Services' roots unless \
             SSL_CERT_FILE or SSL_CERT_DIR name others)"
        ),
        Transport::Connection => {
            format!("could not reach {service} for {op} (connection failed or was reset)")
        }
        Transport::Dispatch => format!("could not send {service} {op}"),
        Transport::Unreadable => {
            format!("{service} {op} answered with a response that could not be read")
        }
        Transport::Construction => format!(
            "could not build the {service} {op} request (are the region and credentials configured?)"
        ),
    }
}

/// Names an SDK failure: [`Failure::of`], then [`verdict`] and its [`message`], unless
/// `own_words` says it better (the adapter knows the fix: which role to deploy, say). The
/// SDK error is kept as the source, for the log. `ResourceInUseException` carries no source:
/// it is an answer, not a fault.
pub(crate) fn classify<E>(
    error: SdkError<E, HttpResponse>,
    call: Call<'_>,
    about: &About,
    not_found: impl FnOnce() -> String,
    own_words: impl FnOnce(Verdict, &Failure) -> Option<String>,
) -> Error
where
    E: ModeledError + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = Failure::of(&error);
    let verdict = verdict(&failure);
    let words =
        own_words(verdict, &failure).unwrap_or_else(|| message(verdict, &failure, call, not_found));
    let classified = Error::about(verdict.kind(), about.clone(), words);
    match verdict {
        Verdict::InUse => classified,
        _ => classified.with_source(error),
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use aws_sdk_eks::operation::describe_cluster::DescribeClusterError;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    use super::*;
    use crate::core::error::Subject;

    const CALL: Call<'static> = Call {
        service: "EKS",
        iam_prefix: "eks",
        op: "DescribeCluster",
    };

    fn service(modeled: Modeled, code: &str, status: u16) -> Failure {
        Failure {
            transport: None,
            modeled,
            code: (!code.is_empty()).then(|| code.to_owned()),
            status: Some(status),
            message: Some("said".into()),
        }
    }

    /// One row per rule: (modeled, code, status) -> verdict and kind.
    #[test]
    fn the_table_row_by_row() {
        use Modeled::*;
        let rows = [
            (
                NotFound,
                "ResourceNotFoundException",
                404,
                Verdict::NotFound,
                ErrorKind::NotFound,
            ),
            (
                InUse,
                "ResourceInUseException",
                409,
                Verdict::InUse,
                ErrorKind::UpdateInProgress,
            ),
            (
                Rejected,
                "InvalidParameterException",
                400,
                Verdict::Rejected,
                ErrorKind::Rejected,
            ),
            (
                Server,
                "ServerException",
                500,
                Verdict::Server,
                ErrorKind::ServiceError,
            ),
            // The modeled variant decides before the code and the status.
            (
                Rejected,
                "ThrottlingException",
                429,
                Verdict::Rejected,
                ErrorKind::Rejected,
            ),
            (
                Unmodeled,
                "ResourceNotFoundException",
                404,
                Verdict::NotFound,
                ErrorKind::NotFound,
            ),
            (
                Unmodeled,
                "ResourceInUseException",
                409,
                Verdict::InUse,
                ErrorKind::UpdateInProgress,
            ),
            (
                Unmodeled,
                "ThrottlingException",
                400,
                Verdict::Throttled,
                ErrorKind::Throttled,
            ),
            (
                Unmodeled,
                "TooManyRequestsException",
                400,
                Verdict::Throttled,
                ErrorKind::Throttled,
            ),
            (Unmodeled, "", 429, Verdict::Throttled, ErrorKind::Throttled),
            (
                Unmodeled,
                "AccessDeniedException",
                400,
                Verdict::AccessDenied,
                ErrorKind::AccessDenied,
            ),
            (
                Unmodeled,
                "ExpiredTokenException",
                400,
                Verdict::AccessDenied,
                ErrorKind::AccessDenied,
            ),
            (
                Unmodeled,
                "",
                403,
                Verdict::AccessDenied,
                ErrorKind::AccessDenied,
            ),
            (
                Unmodeled,
                "",
                200,
                Verdict::UnreadableSuccess,
                ErrorKind::ServiceError,
            ),
            (
                Unmodeled,
                "",
                503,
                Verdict::ServerStatus,
                ErrorKind::ServiceError,
            ),
            (
                Unmodeled,
                "InternalFailure",
                500,
                Verdict::ServerStatus,
                ErrorKind::ServiceError,
            ),
            (
                Unmodeled,
                "SomethingNew",
                400,
                Verdict::ClientStatus,
                ErrorKind::Rejected,
            ),
            (
                Unmodeled,
                "",
                404,
                Verdict::ClientStatus,
                ErrorKind::Rejected,
            ),
        ];
        for (modeled, code, status, expected, kind) in rows {
            let got = verdict(&service(modeled, code, status));
            assert_eq!(got, expected, "{modeled:?} {code} {status}");
            assert_eq!(got.kind(), kind, "{modeled:?} {code} {status}");
        }
    }

    #[test]
    fn transport_failures_are_retryable_service_errors() {
        for transport in [
            Transport::Timeout,
            Transport::DispatchTimeout,
            Transport::UntrustedCertificate,
            Transport::Connection,
            Transport::Dispatch,
            Transport::Unreadable,
            Transport::Construction,
        ] {
            let failure = Failure {
                transport: Some(transport),
                modeled: Modeled::Unmodeled,
                code: None,
                status: None,
                message: None,
            };
            let got = verdict(&failure);
            assert_eq!(got, Verdict::Transport(transport));
            assert_eq!(got.kind(), ErrorKind::ServiceError);
            assert!(got.kind().is_retryable());
            assert!(message(got, &failure, CALL, || unreachable!()).ends_with("; retry later"));
        }
    }

    #[test]
    fn messages_name_the_call_and_what_to_do() {
        let rows = [
            (
                service(Modeled::Unmodeled, "AccessDeniedException", 400),
                "access denied to eks:DescribeCluster (AccessDeniedException: said); grant the function's role eks:DescribeCluster",
            ),
            (
                service(Modeled::Unmodeled, "ThrottlingException", 400),
                "EKS throttled DescribeCluster (ThrottlingException) beyond the SDK's retries; retry with back-off",
            ),
            (
                service(Modeled::Rejected, "ClientException", 400),
                "EKS refused DescribeCluster (ClientException): said",
            ),
            (
                service(Modeled::Server, "ServerException", 500),
                "failed on the service side (ServerException: said); retry later",
            ),
            (
                service(Modeled::Unmodeled, "", 502),
                "failed on the service side (UnknownError, HTTP 502: said); retry later",
            ),
            (
                service(Modeled::NotFound, "ResourceNotFoundException", 404),
                "no such cluster: said",
            ),
        ];
        for (failure, want) in rows {
            let got = message(verdict(&failure), &failure, CALL, || {
                "no such cluster".into()
            });
            assert!(got.contains(want), "{got:?} lacks {want:?}");
        }
    }

    fn dispatch(kind: io::ErrorKind, text: &str) -> SdkError<DescribeClusterError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::io(Box::new(io::Error::new(kind, text))))
    }

    /// Connection failures read from real `SdkError`s: which transport failure it was.
    #[test]
    fn connection_failures_say_what_happened() {
        let cases = [
            (
                dispatch(
                    io::ErrorKind::InvalidData,
                    "TLS handshake failed: invalid peer certificate: UnknownIssuer",
                ),
                Transport::UntrustedCertificate,
                "certificate is not signed by a trusted CA",
            ),
            (
                dispatch(io::ErrorKind::ConnectionReset, "connection reset by peer"),
                Transport::Connection,
                "(connection failed or was reset)",
            ),
            (
                dispatch(io::ErrorKind::ConnectionRefused, "certificate of deposit"),
                Transport::Connection,
                "(connection failed or was reset)",
            ),
        ];
        let subject = Subject {
            cluster: crate::core::request::ClusterName::parse("prod").unwrap(),
            nodegroup: crate::core::request::NodegroupName::parse("workers").unwrap(),
        };
        for (error, transport, want) in cases {
            assert_eq!(Failure::of(&error).transport, Some(transport));
            let got = classify(
                error,
                CALL,
                &About::from(&subject),
                || unreachable!(),
                |_, _| None,
            );
            assert_eq!(got.kind(), ErrorKind::ServiceError);
            assert!(got.to_string().contains(want), "{got} lacks {want:?}");
        }
    }
}
