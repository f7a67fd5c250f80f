//! The fleet: many node groups in one roll. The input ([`input`]), the selectors' patterns
//! ([`pattern`]), and which node groups a roll takes, each once ([`assign`]). Each node group
//! is then planned by the very `core::plan` the updater uses.

pub mod assign;
pub mod input;
pub mod pattern;
