//! The Rust integration tests, one test binary (one link of the SDK-heavy library):
//!
//! - `accounts`: requests in other accounts (STS, held credentials, refused roles);
//! - `eks_adapter`, `ssm_adapter`: the adapters and the handler on the real SDK clients,
//!   their HTTP layer replaced by `aws-smithy-mocks` rules;
//! - `objects`: the S3 adapter (the fleet's bucket);
//! - `planner`: the fleet planner's reads of one cluster;
//! - `transport`: the real HTTP stack against a local socket (timeouts, resets);
//! - `discovery`: listing clusters and node groups, every page;
//! - `events`: every `events/*.json` parses as documented;
//! - `fuzz_parse`: property tests over parsing (`make fuzz` runs many more cases).

// Test helpers outside #[test] functions may unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod common;
mod discovery;
mod eks_adapter;
mod events;
mod fuzz_parse;
mod objects;
mod planner;
mod ssm_adapter;
mod transport;
