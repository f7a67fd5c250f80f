//! The fleet: many node groups in one roll. The input ([`input`]), the selectors' patterns
//! ([`pattern`]), which node groups a roll takes, each once ([`assign`]), and what each needs
//! ([`planning`]): planned by the very `core::plan` the updater uses, as a dry run; then the
//! roll's records, tolerance and bounded summary ([`roll`]), and the whole roll decided at
//! once, each SSM parameter read once ([`decide`]).

pub mod assign;
pub mod decide;
pub mod input;
pub mod pattern;
pub mod planning;
pub mod roll;
