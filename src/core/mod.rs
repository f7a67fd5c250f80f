//! The functional core: every decision of an invocation, with no SDK type and no I/O.
//!
//! - [`request`]: the validated request, one file per field type;
//! - [`version`]: Kubernetes minors and AMI releases, compared by their numbers;
//! - [`ami`]: the AMI type table (format, family, where releases are published);
//! - [`live`]: the live state as typed values (statuses, kinds, the update object);
//! - [`plan`]: steps 3–8 as named checks, and the one mapping of a refusal to an error;
//! - [`token`]: the idempotency token;
//! - [`fleet`]: the fleet input, its selectors, and which node groups a roll takes;
//! - [`accounts`]: which account a request is served in, and through which role;
//! - [`allowlist`]: the `ALLOWED_CLUSTERS` patterns and `ALLOWED_ACCOUNTS`;
//! - [`error`]: the error type and its stable kinds.

pub mod accounts;
pub(crate) mod allowlist;
pub(crate) mod ami;
pub(crate) mod error;
pub mod fleet;
pub(crate) mod live;
pub(crate) mod plan;
pub mod request;
pub(crate) mod token;
pub(crate) mod version;
