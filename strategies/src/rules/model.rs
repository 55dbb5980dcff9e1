//! The JSON shape of a strategy: plain serde types, nothing evaluated here.
//!
//! Names are `snake_case` and unknown fields are rejected, so a typo in a hand- or LLM-written
//! file is an error instead of a silently ignored rule. Strings that name things (price fields,
//! indicators, outputs, parameter keys) are kept as strings here and checked by
//! [`compile`](super::compile), which can then say which names *would* be valid and where.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A complete strategy: what to trade, on which bars, when to enter and leave, and how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Contract root, e.g. `ES`, `CL`, `6E`.
    pub symbol: String,
    /// Bar size: `1m`, `5m`, `15m`, `1h`, `1d`.
    pub bar_size: String,
    /// Traded window: `last 1 year`, `last 6 months`, `since 2020`, `ytd`, `all`,
    /// `2022-01-01..2023-06-30`.
    #[serde(default = "default_window")]
    pub window: String,
    /// Tunable numbers, referenced elsewhere as `{"param": "key"}`.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_entry: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_entry: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_exit: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_exit: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<RiskExit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<RiskExit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing_stop: Option<RiskExit>,
    /// ATR period used by risk exits whose unit is `atr` (default 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr_period: Option<Value>,
    /// Leave a trade (market order) after this many bars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bars_held: Option<Value>,
    /// Close any position at the last bar of each session.
    #[serde(default)]
    pub flatten_at_session_close: bool,
    /// Contracts per trade (default 1).
    #[serde(default = "one")]
    pub contracts: Value,
    /// Ticks of slippage per fill; default: the engine's (1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage_ticks: Option<u32>,
    /// Dollars per contract per side; default: the contract's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_per_side: Option<f64>,
}

fn default_window() -> String {
    "last 1 year".to_string()
}

fn one() -> Value {
    Value::Number(1.0)
}

/// A tunable number with the range a sweep or an optimizer may explore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub key: String,
    #[serde(default)]
    pub label: String,
    pub value: f64,
    pub category: Category,
    pub min: f64,
    pub max: f64,
    /// True when only whole numbers make sense (periods, bar counts).
    #[serde(default)]
    pub integer: bool,
}

/// What part of the strategy a parameter tunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Entry,
    Exit,
    Risk,
    Filter,
    Sizing,
}

/// A number given literally or by parameter: `20` or `{"param": "fast"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Param(ParamRef),
}

/// A reference to a [`Parameter`] by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamRef {
    pub param: String,
}

/// A stop, target or trailing stop: a distance from the entry price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskExit {
    pub unit: ExitUnit,
    pub value: Value,
}

/// Unit of a [`RiskExit`] distance; `atr` is a multiple of ATR(`atr_period`) at the signal bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitUnit {
    Ticks,
    Points,
    Dollars,
    Atr,
}

/// A number per bar: a constant, a price field (`"close"`), a parameter or an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Expr {
    Number(f64),
    /// `open`, `high`, `low`, `close`, `volume`, `typical` (H+L+C)/3 or `hl2` (H+L)/2.
    Field(String),
    Param(ParamRef),
    Indicator(Box<Indicator>),
}

/// An indicator call. Which arguments apply depends on the indicator; see
/// [`INDICATORS`](super::catalog::INDICATORS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// `sma`, `ema`, `rsi`, `macd`, `bbands`, `keltner`, `vwap`, ...
    pub indicator: String,
    /// Input series for single-input indicators (default `close`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Expr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<Value>,
    /// Standard deviations (bbands, stddev).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbdev: Option<Value>,
    /// ATR period (keltner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr_period: Option<Value>,
    /// ATR multiple (keltner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mult: Option<Value>,
    /// Which output of a multi-output indicator: macd `macd|signal|hist`, bands
    /// `upper|middle|lower`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Use the value from this many bars back (e.g. 1 = the previous bar's channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<u32>,
}

/// A true/false per bar, decided on the bar's close from data up to that bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// `left` was at or below `right` on the previous bar and is above it now.
    CrossesAbove {
        left: Expr,
        right: Expr,
    },
    /// `left` was at or above `right` on the previous bar and is below it now.
    CrossesBelow {
        left: Expr,
        right: Expr,
    },
    Gt {
        left: Expr,
        right: Expr,
    },
    Lt {
        left: Expr,
        right: Expr,
    },
    Ge {
        left: Expr,
        right: Expr,
    },
    Le {
        left: Expr,
        right: Expr,
    },
    /// `low <= value <= high`.
    Between {
        value: Expr,
        low: Expr,
        high: Expr,
    },
    /// `value` is above its value `bars` bars ago.
    Rising {
        value: Expr,
        bars: Value,
    },
    /// `value` is below its value `bars` bars ago.
    Falling {
        value: Expr,
        bars: Value,
    },
    And {
        conditions: Vec<Condition>,
    },
    Or {
        conditions: Vec<Condition>,
    },
    Not {
        condition: Box<Condition>,
    },
    /// The bar's open time, in the exchange's time zone, is in `[start, end)` (`"HH:MM"`);
    /// a window with `start > end` wraps past midnight.
    TimeWindow {
        start: String,
        end: String,
    },
    /// The bar falls on one of these days (`mon` .. `sun`), exchange time zone.
    Weekdays {
        days: Vec<String>,
    },
}
