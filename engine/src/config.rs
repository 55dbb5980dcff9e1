//! What to simulate: the strategy's signals and the trading rules around them.
//!
//! Every config type (de)serializes as camelCase JSON and every field has a default, so
//! `{}` is a valid config: one contract, next-open fills, one tick of slippage per fill, the
//! spec's default commission, the last year of data.

use serde::{Deserialize, Serialize};
use settle_data::{Bars, ContractSpec};

use crate::error::EngineError;
use crate::window::Window;

/// Strategy decisions, one value per bar of the **full** series (not just the window).
///
/// A `true` at bar `t` is decided on bar `t`'s close and acts on bar `t + 1` (at its open, or
/// inside it for stop/limit entries); only [`FillMode::SignalClose`] fills at bar `t`'s close.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Go long; while short, reverses the position when `reverse_on_opposite` is set.
    pub long_entry: Vec<bool>,
    /// Close a long position (ignored when flat or short).
    pub long_exit: Vec<bool>,
    /// Go short; while long, reverses the position when `reverse_on_opposite` is set.
    pub short_entry: Vec<bool>,
    /// Close a short position (ignored when flat or long).
    pub short_exit: Vec<bool>,
    /// Average true range per bar, computed by the caller; needed by [`ExitLevel::Atr`].
    /// The value at the signal bar sizes the exit, so no future bar is used.
    pub atr: Option<Vec<f64>>,
    /// Order price per bar for [`FillMode::Stop`] and [`FillMode::Limit`] entries
    /// (`NaN` = no order that bar).
    pub entry_level: Option<Vec<f64>>,
}

impl Signals {
    /// Signals that never fire, for a series of `n` bars; set the ones you need.
    pub fn none(n: usize) -> Self {
        Signals {
            long_entry: vec![false; n],
            long_exit: vec![false; n],
            short_entry: vec![false; n],
            short_exit: vec![false; n],
            atr: None,
            entry_level: None,
        }
    }
}

/// How many contracts each trade takes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Sizing {
    /// Always this many contracts: `{"fixed": 2}`.
    Fixed(i64),
    /// `floor(dollars / stop distance in dollars per contract)`, at most `max_contracts`:
    /// `{"risk": {"dollars": 1000, "maxContracts": 10}}`. Needs a `stopLoss`. A result of
    /// zero contracts skips the trade (counted in `skippedEntries`).
    #[serde(rename_all = "camelCase")]
    Risk {
        /// Dollars at risk per trade: the stop distance is priced per contract from ticks and tick
        /// value, costs not included.
        dollars: f64,
        /// Most contracts a trade may take, at least 1.
        max_contracts: i64,
    },
}

impl Default for Sizing {
    fn default() -> Self {
        Sizing::Fixed(1)
    }
}

/// Where entry orders fill. Exit orders from signals and time limits are market orders:
/// at the signal bar's close under `SignalClose`, at the next bar's open otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FillMode {
    /// Market order at bar `t + 1`'s open.
    #[default]
    NextOpen,
    /// Market order at bar `t`'s own close (like backtesting.py `trade_on_close=True`).
    SignalClose,
    /// Stop order at `entry_level[t]`, live during bar `t + 1` only: a long fills when the high
    /// reaches the level (at the open if it gaps above), a short when the low does.
    Stop,
    /// Limit order at `entry_level[t]`, live during bar `t + 1` only: a long fills when the low
    /// reaches the level (at the open if it gaps below), a short when the high does.
    Limit,
}

/// Which equity curve a backtest returns besides the daily one (which it always returns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EquityCurve {
    /// One point per bar (`equity`) and one per trading date (`dailyEquity`).
    #[default]
    PerBar,
    /// One point per trading date only; `equity` is empty. The metrics are the same: they
    /// are computed while the bars are marked, not from the stored curve.
    Daily,
}

/// The farthest a stop, target or trailing stop may sit from the entry, in ticks (a trillion
/// ticks is far beyond any price): keeps `entry ± distance` inside `i64` whatever the input.
const MAX_DISTANCE_TICKS: i64 = 1_000_000_000_000;

/// A distance from the entry price for stops, targets and trailing stops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum ExitLevel {
    /// Whole ticks: `{"ticks": 8}`.
    Ticks(f64),
    /// Price points: `{"points": 10.0}` (10 ES points = 40 ticks).
    Points(f64),
    /// Dollars per contract: `{"dollars": 500}` (on ES, 40 ticks).
    Dollars(f64),
    /// Multiple of `Signals::atr` at the signal bar: `{"atr": 2.0}`.
    Atr(f64),
}

impl ExitLevel {
    /// The distance in whole ticks (rounded to the nearest tick), given the ATR at the signal
    /// bar. `None` when an ATR exit meets a missing or non-positive ATR value.
    pub(crate) fn ticks(self, spec: &ContractSpec, atr: Option<f64>) -> Option<i64> {
        let to_ticks = |points: f64| (points / spec.tick_size).round() as i64;
        match self {
            ExitLevel::Ticks(n) => Some(n.round() as i64),
            ExitLevel::Points(p) => Some(to_ticks(p)),
            ExitLevel::Dollars(d) => Some(to_ticks(d / spec.multiplier)),
            // An ATR distance under half a tick still means "one tick away", never "at entry";
            // fixed distances that round to zero are rejected by `validate` instead.
            ExitLevel::Atr(k) => match atr {
                Some(a) if a.is_finite() && a > 0.0 => {
                    Some(to_ticks(k * a).clamp(1, MAX_DISTANCE_TICKS))
                }
                _ => None,
            },
        }
    }
}

/// Everything about a backtest except the data and the signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct BacktestConfig {
    /// How many contracts each trade takes. Default one contract.
    pub sizing: Sizing,
    /// Where entry orders fill. Default: the next bar's open.
    pub fill: FillMode,
    /// Ticks of slippage against you on **every** fill (entries, exits, rolls). Default 1.
    pub slippage_ticks: u32,
    /// Dollars per contract per side; `None` = the spec default ($2.50, micros $1.00).
    pub commission_per_side: Option<f64>,
    /// Distance of the stop loss from the entry price; none = no stop.
    pub stop_loss: Option<ExitLevel>,
    /// Distance of the take-profit from the entry price; none = no target.
    pub take_profit: Option<ExitLevel>,
    /// Distance of the trailing stop from the best high (long) or low (short) of the bars the trade
    /// has seen in full; none = no trailing stop.
    pub trailing_stop: Option<ExitLevel>,
    /// Exit (as a market order) once the trade has been held this many bars.
    pub max_bars_held: Option<u32>,
    /// Ignore the side's exit signal until the trade has been held at least this many bars
    /// (counted like `maxBarsHeld`: at the close of its entry bar a next-open trade has been
    /// held 1 bar). Lets a strategy say "exit on X, but not before N bars" (`bars_since_entry`).
    /// Only `signal` exits wait; stops, targets, trailing stops, time, session and reverse
    /// exits do not. `None` or 0 = no wait.
    pub min_bars_before_signal_exit: Option<u32>,
    /// Close any position at the close of the last bar of each trading session.
    pub flatten_at_session_close: bool,
    /// An opposite entry signal closes the position and opens the other side. When false, an
    /// opposite entry is ignored while a position is open. Default true.
    pub reverse_on_opposite: bool,
    /// Charge two extra fills (commission and slippage) when a held position rolls to the
    /// next contract of a continuous series. Default true.
    pub pay_roll: bool,
    /// The trading dates simulated. Default `last 1 year`, counted back from the data's latest
    /// trading date.
    pub window: Window,
    /// `perBar` (default) or `daily`: whether the result carries the per-bar equity curve.
    pub equity_curve: EquityCurve,
    /// Dollars; the base of returns, drawdown percent and CAGR. Default 100,000.
    pub starting_capital: f64,
    /// Annual risk-free rate as a fraction (0.04 = 4 %), used by Sharpe and Sortino. Default 0.
    pub risk_free_rate: f64,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            sizing: Sizing::default(),
            fill: FillMode::default(),
            slippage_ticks: 1,
            commission_per_side: None,
            stop_loss: None,
            take_profit: None,
            trailing_stop: None,
            max_bars_held: None,
            min_bars_before_signal_exit: None,
            flatten_at_session_close: false,
            reverse_on_opposite: true,
            pay_roll: true,
            window: Window::default(),
            equity_curve: EquityCurve::default(),
            starting_capital: 100_000.0,
            risk_free_rate: 0.0,
        }
    }
}

impl BacktestConfig {
    /// Checks every field against the spec and the signals, naming the first bad one.
    pub fn validate(
        &self,
        bars: &Bars,
        spec: &ContractSpec,
        signals: &Signals,
    ) -> Result<(), EngineError> {
        let n = bars.len();
        let check_len = |field: &str, got: usize| {
            if got == n {
                Ok(())
            } else {
                Err(EngineError::Length {
                    field: field.to_string(),
                    got,
                    want: n,
                })
            }
        };
        check_len("signals.long_entry", signals.long_entry.len())?;
        check_len("signals.long_exit", signals.long_exit.len())?;
        check_len("signals.short_entry", signals.short_entry.len())?;
        check_len("signals.short_exit", signals.short_exit.len())?;
        if let Some(a) = &signals.atr {
            check_len("signals.atr", a.len())?;
        }
        if let Some(l) = &signals.entry_level {
            check_len("signals.entry_level", l.len())?;
        }
        match self.sizing {
            Sizing::Fixed(c) if c <= 0 => {
                return Err(EngineError::invalid(
                    "sizing.fixed",
                    format!("{c} contracts; expected a whole number of at least 1"),
                ))
            }
            Sizing::Risk {
                dollars,
                max_contracts,
            } => {
                if !(dollars.is_finite() && dollars > 0.0) {
                    return Err(EngineError::invalid(
                        "sizing.risk.dollars",
                        format!("{dollars}; expected dollars at risk above 0"),
                    ));
                }
                if max_contracts <= 0 {
                    return Err(EngineError::invalid(
                        "sizing.risk.maxContracts",
                        format!("{max_contracts}; expected at least 1"),
                    ));
                }
                if self.stop_loss.is_none() {
                    return Err(EngineError::invalid(
                        "stopLoss",
                        "risk sizing divides by the stop distance, so a stopLoss is required",
                    ));
                }
            }
            Sizing::Fixed(_) => {}
        }
        if let Some(c) = self.commission_per_side {
            if !(c.is_finite() && c >= 0.0) {
                return Err(EngineError::invalid(
                    "commissionPerSide",
                    format!("{c}; expected dollars per contract per side, 0 or more"),
                ));
            }
        }
        for (field, level) in [
            ("stopLoss", self.stop_loss),
            ("takeProfit", self.take_profit),
            ("trailingStop", self.trailing_stop),
        ] {
            let Some(level) = level else { continue };
            let value = match level {
                ExitLevel::Ticks(v)
                | ExitLevel::Points(v)
                | ExitLevel::Dollars(v)
                | ExitLevel::Atr(v) => v,
            };
            if !(value.is_finite() && value > 0.0) {
                return Err(EngineError::invalid(
                    field,
                    format!("{level:?}; expected a distance above 0"),
                ));
            }
            if matches!(level, ExitLevel::Atr(_)) {
                if signals.atr.is_none() {
                    return Err(EngineError::invalid(
                        "signals.atr",
                        format!("`{field}` is an ATR multiple but no ATR series was given"),
                    ));
                }
            } else {
                let ticks = level.ticks(spec, None).unwrap_or(0);
                if ticks == 0 {
                    return Err(EngineError::invalid(
                        field,
                        format!(
                            "{level:?} is zero ticks (tick size {}); expected at least one tick",
                            spec.tick_size
                        ),
                    ));
                }
                if ticks > MAX_DISTANCE_TICKS {
                    return Err(EngineError::invalid(
                        field,
                        format!(
                            "{level:?} is {ticks} ticks; expected at most {MAX_DISTANCE_TICKS}"
                        ),
                    ));
                }
            }
        }
        if let Some(0) = self.max_bars_held {
            return Err(EngineError::invalid(
                "maxBarsHeld",
                "0; expected at least 1 bar",
            ));
        }
        if matches!(self.fill, FillMode::Stop | FillMode::Limit) && signals.entry_level.is_none() {
            return Err(EngineError::invalid(
                "signals.entry_level",
                "stop and limit fills need an entry price per bar",
            ));
        }
        if !(self.starting_capital.is_finite() && self.starting_capital > 0.0) {
            return Err(EngineError::invalid(
                "startingCapital",
                format!("{}; expected dollars above 0", self.starting_capital),
            ));
        }
        if !self.risk_free_rate.is_finite() {
            return Err(EngineError::invalid(
                "riskFreeRate",
                "expected an annual rate as a fraction, e.g. 0.04",
            ));
        }
        Ok(())
    }

    /// Commission per contract per side actually charged.
    pub fn commission(&self, spec: &ContractSpec) -> f64 {
        self.commission_per_side
            .unwrap_or_else(|| spec.default_commission())
    }
}
