//! settle-strategies: what a strategy is built from.
//!
//! [`indicators`] holds TA-Lib-exact technical indicators over plain slices; the rule language
//! and the built-in templates are built on top of them.

pub mod indicators;
