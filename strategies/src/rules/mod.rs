//! The declarative strategy language: a strategy is JSON (see [`Strategy`]), checked by
//! [`compile`] into a [`Compiled`] form that yields engine [`Signals`](settle_engine::Signals)
//! for any series of bars ([`signals`]) and the engine configuration ([`to_config`]).
//!
//! * [`model`]: the serde types, i.e. the JSON format.
//! * [`catalog`]: the price fields and indicators a rule may name.
//! * `compile`: validation with JSON-pointer errors, parameter resolution.
//! * `eval`: signals, with each distinct indicator computed once.
//! * `exact`: crosses of SMAs of prices decided on whole ticks.

pub mod catalog;
mod compile;
mod eval;
mod exact;
pub mod model;

pub use compile::{
    compile, compile_with, parameter_position, to_config, Compiled, UnknownParameter,
    ValidationError,
};
pub(crate) use compile::{CCond, CExpr, BARS_SINCE_ENTRY, BSE_FORMS};
pub use eval::{signals, SignalError};
pub(crate) use eval::{Cache, Context};
pub use model::{
    Arith, Category, Condition, EntryOrder, ExitUnit, Expr, Indicator, Invalid, OrderKind,
    ParamRef, Parameter, RiskExit, RiskSizing, Strategy, Value,
};

/// The JSON Schema of a [`Strategy`], e.g. for an MCP tool's input.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Strategy)).unwrap_or_default()
}
