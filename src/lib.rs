//! # eks-nodegroup-updater
//!
//! An AWS Lambda function that moves one Amazon EKS managed node group to a requested
//! Kubernetes version and/or AMI release, refusing what EKS would reject late or what would
//! do harm, and never starting two updates for one request.
//!
//! The modules follow the path of an invocation:
//! [`event`] (payload shapes) → [`request`] (validated fields) → [`allowlist`] →
//! [`eks`] (live state) → [`plan`] (the pure decision) → [`eks`] (the update) →
//! [`output`] or [`error`]. [`handler`] wires them together; `main.rs` only starts it.

pub mod allowlist;
pub mod ami;
pub mod deadline;
pub mod eks;
pub mod error;
pub mod event;
pub mod handler;
pub mod idempotency;
pub mod logging;
pub mod output;
pub mod plan;
pub mod request;
pub mod sdk_error;
pub mod sdk_setup;
pub mod ssm;
pub mod state;
pub mod tls;
pub mod version;

pub use error::Error;
pub use handler::{Config, Updater};
