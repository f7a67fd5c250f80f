//! # eks-nodegroup-updater
//!
//! AWS Lambda functions that move Amazon EKS managed node groups to a requested Kubernetes
//! version and AMI release, refusing what EKS would reject late or what would do harm, and
//! never starting two updates for one request. ARCHITECTURE.md says where each step lives.
//!
//! The layout is the architecture, a functional core in an imperative shell:
//!
//! - [`core`]: every decision, with no SDK type and no I/O: the validated request,
//!   versions and releases, the AMI table, the live state as typed values, the plan (steps
//!   3–8 as named checks), the idempotency token, the allowlist, the error type.
//! - [`aws`]: the adapters, the only code touching an AWS SDK: EKS, SSM, S3, STS and each
//!   account's clients, the shared call path and its failure classification, SDK setup,
//!   TLS, deadlines.
//! - [`lambda`]: the Lambda shell: payload shapes, each function's handler, output
//!   shapes, the error's `Diagnostic`, configuration and logging.
//!
//! Each binary's `main` (`src/main.rs` for the updater, `src/bin/eks-fleet-planner.rs` for
//! the fleet planner) is wiring only: logging, config, the
//! SDK clients, the runtime loop. The items re-exported below are what the binaries and the
//! integration tests use; everything else stays inside its layer.

pub mod aws;
pub mod core;
pub mod lambda;

pub use crate::aws::accounts::Accounts;
pub use crate::aws::deadline::{CallLimits, Deadline};
pub use crate::aws::discovery::Discovery;
pub use crate::aws::eks::Eks;
pub use crate::aws::s3::Objects;
pub use crate::aws::ssm::Ssm;
pub use crate::aws::sts::Sts;
pub use crate::core::allowlist::{AccountAllowlist, Allowlist};
pub use crate::core::error::{Error, ErrorKind};
pub use crate::lambda::config::Config;
pub use crate::lambda::fleet::{FleetConfig, FleetPlanner};
pub use crate::lambda::output::{Outcome, Output};
pub use crate::lambda::payload::RawPayload;
pub use crate::lambda::planner::{ClusterSeen, FleetClients, Planner};
pub use crate::lambda::updater::{Updater, UpdaterClients};
