//! The AWS adapters: the only code that touches an AWS SDK. Each returns the core's types
//! and the core's [`Error`](crate::core::error::Error).
//!
//! - [`eks`], [`ssm`]: the calls the updater makes; [`sts`]: assuming the target role in
//!   another account; [`accounts`]: each account's clients, the role's credentials held; [`discovery`]: the fleet's listing calls;
//!   [`s3`]: the fleet's objects in the stack's bucket;
//! - [`call`]: the one call path (time limits, send, classify) every adapter uses;
//! - [`classify`]: SDK failures to error kinds, as a table;
//! - [`deadline`]: per-call time limits inside the invocation's deadline;
//! - [`setup`]: the process's one SDK configuration (credentials, timeouts);
//! - [`tls`]: the HTTPS client and its trust store.

pub mod accounts;
pub(crate) mod call;
pub(crate) mod classify;
pub(crate) mod deadline;
pub(crate) mod discovery;
pub(crate) mod eks;
pub(crate) mod s3;
pub mod setup;
pub(crate) mod ssm;
pub mod sts;
pub(crate) mod tls;
