//! The JSON shape of a strategy: plain serde types, nothing evaluated here.
//!
//! Names are `snake_case` and unknown fields are rejected, so a typo in a hand- or LLM-written
//! file is an error instead of a silently ignored rule. Strings that name things (price fields,
//! indicators, outputs, parameter keys) are kept as strings here and checked by
//! [`compile`](super::compile), which can then say which names *would* be valid and where.
//!
//! A doc comment here is also the JSON Schema description of its field or variant, which
//! [`crate::language::describe`] hands to rule writers (and a documented unit variant turns
//! its enum's schema from a list of names into one entry per name). Adding one changes that
//! answer and its size, so the fields and variants without one are left so on purpose, and
//! missing docs are allowed in this module only.
#![allow(missing_docs)]

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
    /// Trade this one contract (`ESZ13`) or unadjusted nearby (`CL1`) instead of the
    /// continuous front month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
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
    /// Contracts per trade (default 1). Use either this or `risk_sizing`.
    #[serde(default = "one")]
    pub contracts: Value,
    /// Size each trade by the dollars it risks to its `stop_loss` instead of a fixed count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_sizing: Option<RiskSizing>,
    /// How entries are placed: at the next bar's open (default) or as stop/limit orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_order: Option<EntryOrder>,
    /// Ticks of slippage per fill; default: the engine's (1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage_ticks: Option<u32>,
    /// Dollars per contract per side; default: the contract's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission_per_side: Option<f64>,
}

/// The traded window when the rules give none.
pub const DEFAULT_WINDOW: &str = "last 1 year";

/// Contracts per trade when the rules give neither `contracts` nor `risk_sizing`.
pub const DEFAULT_CONTRACTS: f64 = 1.0;

/// ATR period of `atr` risk exits when the rules give no `atr_period`: Wilder's own.
pub const DEFAULT_ATR_PERIOD: u64 = 14;

fn default_window() -> String {
    DEFAULT_WINDOW.to_string()
}

fn one() -> Value {
    Value::Number(DEFAULT_CONTRACTS)
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
///
/// Deserializing never fails: anything else becomes [`Value::Invalid`], which
/// [`compile`](super::compile) reports with its JSON pointer (serde alone could only say "data
/// did not match any variant", without saying where).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Param(ParamRef),
    /// JSON that is neither a number nor `{"param": key}`; reported by `compile` with its path.
    #[schemars(skip)]
    Invalid(Invalid),
}

/// JSON that is not a valid [`Value`] or [`Expr`], kept as given so that
/// [`compile`](super::compile) can say where it is and what would be valid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Invalid(pub serde_json::Value);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = serde_json::Value::deserialize(d)?;
        Ok(match &json {
            serde_json::Value::Number(n) => n
                .as_f64()
                .map_or(Value::Invalid(Invalid(json.clone())), Value::Number),
            serde_json::Value::Object(_) => {
                match serde_json::from_value::<ParamRef>(json.clone()) {
                    Ok(r) => Value::Param(r),
                    Err(_) => Value::Invalid(Invalid(json)),
                }
            }
            _ => Value::Invalid(Invalid(json)),
        })
    }
}

/// Risk-based sizing: `floor(dollars / stop distance in dollars per contract)` contracts, at
/// most `max_contracts`; a trade that would get zero contracts is skipped. Needs `stop_loss`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskSizing {
    /// Dollars risked per trade.
    pub dollars: Value,
    pub max_contracts: Value,
}

/// Entries as stop or limit orders at a price computed per bar. An order decided on bar `t`'s
/// close (its entry rule is true) is live during bar `t + 1` only, at the side's level of
/// bar `t`; e.g. a long stop at `{"indicator": "max", "input": "high", "period": 20}` buys a
/// break of the 20-bar high.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryOrder {
    #[serde(rename = "type")]
    pub kind: OrderKind,
    /// Order price for long entries (needed for stop/limit when there is a `long_entry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_level: Option<Expr>,
    /// Order price for short entries (needed for stop/limit when there is a `short_entry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_level: Option<Expr>,
}

/// The kind of entry order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// At the next bar's open (the default).
    Market,
    /// Buy stop above / sell stop below the market: fills when price reaches the level.
    Stop,
    /// Buy limit below / sell limit above the market: fills when price comes back to the level.
    Limit,
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

/// A number per bar: a constant, a price field (`"close"`), a parameter, an indicator or
/// arithmetic on these.
///
/// Like [`Value`], deserializing never fails: malformed JSON becomes [`Expr::Invalid`] and
/// [`compile`](super::compile) reports it with its JSON pointer and the accepted forms.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Expr {
    Number(f64),
    /// `open`, `high`, `low`, `close`, `volume`, `typical` (H+L+C)/3 or `hl2` (H+L)/2.
    ///
    /// Also `bars_since_entry` (bars the trade has been held, counting its entry bar), which is
    /// allowed only as `{"op": "ge", "left": "bars_since_entry", "right": N}` (or `gt`) at the
    /// top of `long_exit`/`short_exit` or as a term of its top-level `and`: the exit is then
    /// ignored until the trade has been held N bars; alone it is a time exit after N bars.
    Field(String),
    Param(ParamRef),
    Indicator(Box<Indicator>),
    Arith(Box<Arith>),
    /// JSON that is no expression form; reported by `compile` with its path and the forms accepted.
    #[schemars(skip)]
    Invalid(Invalid),
}

/// Arithmetic, bar by bar: `{"add": [a, b, ...]}`, `{"sub": [a, b]}`, `{"mul": [a, b, ...]}`,
/// `{"div": [a, b]}`. A division by zero gives NaN, and any comparison with NaN is false, so
/// a condition on it does not fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Arith {
    /// The sum of two or more operands.
    Add(Vec<Expr>),
    /// The first operand minus the second (exactly two).
    Sub(Vec<Expr>),
    /// The product of two or more operands.
    Mul(Vec<Expr>),
    /// The first operand divided by the second (exactly two); by zero gives NaN.
    Div(Vec<Expr>),
}

impl Arith {
    /// The operator's JSON name and its operands.
    pub fn operands(&self) -> (&'static str, &[Expr]) {
        match self {
            Arith::Add(v) => ("add", v),
            Arith::Sub(v) => ("sub", v),
            Arith::Mul(v) => ("mul", v),
            Arith::Div(v) => ("div", v),
        }
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value as J;
        let json = J::deserialize(d)?;
        let invalid = |json: J| Expr::Invalid(Invalid(json));
        Ok(match &json {
            J::Number(n) => n.as_f64().map_or(invalid(json.clone()), Expr::Number),
            J::String(s) => Expr::Field(s.clone()),
            J::Object(map) if map.contains_key("indicator") => {
                match serde_json::from_value::<Indicator>(json.clone()) {
                    Ok(i) => Expr::Indicator(Box::new(i)),
                    Err(_) => invalid(json),
                }
            }
            J::Object(map) if map.contains_key("param") => {
                match serde_json::from_value::<ParamRef>(json.clone()) {
                    Ok(r) => Expr::Param(r),
                    Err(_) => invalid(json),
                }
            }
            J::Object(_) => match serde_json::from_value::<Arith>(json.clone()) {
                Ok(a) => Expr::Arith(Box::new(a)),
                Err(_) => invalid(json),
            },
            _ => invalid(json),
        })
    }
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

impl Indicator {
    /// The numeric arguments a call may give, by their JSON name; which of them an indicator
    /// takes is [`Spec::args`](super::catalog::Spec::args).
    pub const ARGS: [&'static str; 7] = [
        "period",
        "fast",
        "slow",
        "signal",
        "nbdev",
        "atr_period",
        "mult",
    ];

    /// The argument called `name` as given in the rules (`None` when omitted or not an
    /// argument name), so validation and the list of filled defaults read the same fields.
    pub fn arg(&self, name: &str) -> Option<&Value> {
        match name {
            "period" => self.period.as_ref(),
            "fast" => self.fast.as_ref(),
            "slow" => self.slow.as_ref(),
            "signal" => self.signal.as_ref(),
            "nbdev" => self.nbdev.as_ref(),
            "atr_period" => self.atr_period.as_ref(),
            "mult" => self.mult.as_ref(),
            _ => None,
        }
    }
}

/// A true/false per bar, decided on the bar's close from data up to that bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// `left` was at or below `right` on the previous bar and is above it now.
    CrossesAbove { left: Expr, right: Expr },
    /// `left` was at or above `right` on the previous bar and is below it now.
    CrossesBelow { left: Expr, right: Expr },
    /// `left` is above `right` on this bar.
    Gt { left: Expr, right: Expr },
    /// `left` is below `right` on this bar.
    Lt { left: Expr, right: Expr },
    /// `left` is at or above `right` on this bar.
    Ge { left: Expr, right: Expr },
    /// `left` is at or below `right` on this bar.
    Le { left: Expr, right: Expr },
    /// `low <= value <= high`.
    Between { value: Expr, low: Expr, high: Expr },
    /// `value` is above its value `bars` bars ago.
    Rising { value: Expr, bars: Value },
    /// `value` is below its value `bars` bars ago.
    Falling { value: Expr, bars: Value },
    /// Every one of `conditions` holds.
    And { conditions: Vec<Condition> },
    /// At least one of `conditions` holds.
    Or { conditions: Vec<Condition> },
    /// `condition` does not hold.
    Not { condition: Box<Condition> },
    /// The bar's open time, in the exchange's time zone, is in `[start, end)` (`"HH:MM"`);
    /// a window with `start > end` wraps past midnight.
    TimeWindow { start: String, end: String },
    /// The bar falls on one of these days (`mon` .. `sun`), exchange time zone.
    Weekdays { days: Vec<String> },
}
