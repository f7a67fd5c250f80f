//! The Lambda shell: what a Lambda function needs around the core and the adapters.
//!
//! - [`payload`]: the payload's shapes (an EventBridge envelope, a bare request);
//! - [`updater`]: the updater function's handler, one invocation in the contract's order;
//! - [`planner`]: the fleet planner's reads of one cluster (its handler comes with the fleet);
//! - [`report`]: the fleet report (JSON, CSV) and the roll's bounded summary;
//! - [`wave`]: a wave's items, each the request its nested update execution gets;
//! - [`output`]: the success payload's JSON shapes;
//! - [`error`]: an error as the runtime's `Diagnostic` (`errorType`, `errorMessage`);
//! - [`config`]: what a function reads from its environment at start;
//! - [`logging`]: the log subscriber and its level rules.
//!
//! A further function (the fleet planner) gets a handler module of its own here, beside
//! `updater`, and a binary in `src/bin/`.

pub(crate) mod config;
mod error;
pub mod fleet;
pub mod logging;
pub(crate) mod output;
pub mod payload;
pub mod planner;
pub mod report;
pub(crate) mod updater;
pub mod wave;
