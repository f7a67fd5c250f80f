//! The floor for `make bench`: the smallest honest `lambda_runtime` function, built with the
//! same profile and toolchain as the real bootstrap
//! (`cargo lambda build --release --example hello_runtime`).
//!
//! It starts the way `src/main.rs` does (current-thread tokio, a tracing subscriber: here the
//! runtime's default one, there the same formatter with a filter, src/logging.rs) and answers
//! every event with the event itself, so whatever the real function costs on top of this is
//! ours: the AWS SDK, its clients, TLS set-up and our own work.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
