//! The one call path of every adapter: the per-call time limits cut to the invocation's
//! deadline, the send, and the classification of a failure.

use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::timeout::TimeoutConfig;

use super::classify::{Call, ModeledError, classify};
use super::deadline::Deadline;
use crate::core::error::{Error, ErrorKind, Subject};

/// Sends one AWS call. `send` gets the time limits for this call (to pass to the fluent
/// builder's `config_override`); a failure becomes our [`Error`], with `not_found` saying
/// what is missing when the service answers "not found".
pub(crate) async fn send<T, E, Fut>(
    call: Call<'_>,
    subject: &Subject,
    deadline: &Deadline,
    not_found: impl FnOnce() -> String,
    send: impl FnOnce(TimeoutConfig) -> Fut,
) -> Result<T, Error>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ModeledError + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let limits = deadline.next_call().ok_or_else(|| {
        Error::new(
            ErrorKind::ServiceError,
            subject,
            format!(
                "no time left before the invocation's deadline to call {} {}; retry, or raise the function's timeout",
                call.service, call.op
            ),
        )
    })?;
    send(limits)
        .await
        .map_err(|error| classify(error, call, subject, not_found))
}

/// An answer that arrived but cannot be used (a missing field, an unreadable value).
pub(crate) fn unusable(call: Call<'_>, subject: &Subject, what: &str) -> Error {
    Error::new(
        ErrorKind::ServiceError,
        subject,
        format!(
            "{} {} gave an unusable answer ({what}); retry later",
            call.service, call.op
        ),
    )
}
