//! The one call path of every adapter: the per-call time limits cut to the invocation's
//! deadline, the send, and the classification of a failure.

use std::collections::HashSet;
use std::future::Future;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::timeout::TimeoutConfig;

use super::classify::{Call, Failure, ModeledError, Verdict, classify};
use super::deadline::Deadline;
use crate::core::error::{About, Error, ErrorKind};

/// Sends one AWS call. `send` gets the time limits for this call (to pass to the fluent
/// builder's `config_override`); a failure becomes our [`Error`], with `not_found` saying
/// what is missing when the service answers "not found".
pub(crate) async fn send<T, E, Fut>(
    call: Call<'_>,
    about: &About,
    deadline: &Deadline,
    not_found: impl FnOnce() -> String,
    send: impl FnOnce(TimeoutConfig) -> Fut,
) -> Result<T, Error>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ModeledError + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    send_in_words(call, about, deadline, not_found, |_, _| None, send).await
}

/// [`send`], with the adapter's own words for some failures (see [`classify`]).
pub(crate) async fn send_in_words<T, E, Fut>(
    call: Call<'_>,
    about: &About,
    deadline: &Deadline,
    not_found: impl FnOnce() -> String,
    own_words: impl FnOnce(Verdict, &Failure) -> Option<String>,
    send: impl FnOnce(TimeoutConfig) -> Fut,
) -> Result<T, Error>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ModeledError + ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let limits = deadline.next_call().ok_or_else(|| {
        Error::about(
            ErrorKind::ServiceError,
            about.clone(),
            format!(
                "no time left before the invocation's deadline to call {} {}; retry, or raise the function's timeout",
                call.service, call.op
            ),
        )
    })?;
    send(limits)
        .await
        .map_err(|error| classify(error, call, about, not_found, own_words))
}

/// Pages of a list call read at most: far beyond any real account, but a server that
/// keeps answering a `nextToken` cannot hold an invocation forever.
const MAX_PAGES: usize = 1000;

/// Every page of a list call. `page` sends one request with the given `nextToken` and
/// answers the page's items and the next token; a token that comes back twice, or more
/// than [`MAX_PAGES`] pages, is an unusable answer rather than an endless loop.
pub(crate) async fn every_page<T, Fut>(
    call: Call<'_>,
    about: &About,
    mut page: impl FnMut(Option<String>) -> Fut,
) -> Result<Vec<T>, Error>
where
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Error>>,
{
    let mut items = Vec::new();
    let mut next_token = None;
    let mut seen_tokens = HashSet::new();
    for _ in 0..MAX_PAGES {
        let (mut found, token) = page(next_token.take()).await?;
        items.append(&mut found);
        match token.filter(|token| !token.is_empty()) {
            Some(token) => {
                if !seen_tokens.insert(token.clone()) {
                    return Err(unusable(call, about, "the same nextToken came back twice"));
                }
                next_token = Some(token);
            }
            None => return Ok(items),
        }
    }
    Err(unusable(
        call,
        about,
        &format!("more than {MAX_PAGES} pages"),
    ))
}

/// An answer that arrived but cannot be used (a missing field, an unreadable value).
pub(crate) fn unusable(call: Call<'_>, about: &About, what: &str) -> Error {
    Error::about(
        ErrorKind::ServiceError,
        about.clone(),
        format!(
            "{} {} gave an unusable answer ({what}); retry later",
            call.service, call.op
        ),
    )
}
