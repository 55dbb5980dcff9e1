//! Validation and compilation: a [`Strategy`] becomes a [`Compiled`] tree with every parameter
//! resolved and every name checked, or a list of [`ValidationError`]s (all of them, not just
//! the first) each pointing at the offending JSON location.

use std::collections::BTreeMap;

use chrono::{NaiveTime, Weekday};
use serde::Serialize;
use settle_data::{BarSize, Bars, ContractSpec};
use settle_engine::{BacktestConfig, ExitLevel, FillMode, Sizing, Window};

use super::catalog::{self, Field, Inputs, Reads, Spec};
use super::model::{
    Arith, Condition, ExitUnit, Expr, Indicator, Invalid, OrderKind, RiskExit, Strategy, Value,
    DEFAULT_ATR_PERIOD,
};
use crate::indicators::IndicatorError;

/// One problem with a strategy: where (a JSON pointer such as `/long_entry/left/period`; empty
/// for the document as a whole) and what is wrong, including what would be valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    /// JSON pointer to the problem, e.g. `/long_entry/left/period`; empty for the whole document.
    pub path: String,
    /// What is wrong, including what would be valid.
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A number per bar, with every parameter replaced by its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CExpr {
    Const(f64),
    Field(Field),
    Ind(Box<CInd>),
    Arith(ArithOp, Box<CExpr>, Box<CExpr>),
}

/// A binary arithmetic operation; `add` and `mul` with more operands fold from the left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    /// `a op b`; a zero divisor gives NaN (not ±inf), so comparisons with it are false.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div if b == 0.0 => f64::NAN,
            ArithOp::Div => a / b,
        }
    }
}

/// The name that reads "bars held so far", legal only in the exit forms [`BSE_FORMS`] names.
pub(crate) const BARS_SINCE_ENTRY: &str = "bars_since_entry";

/// Where `bars_since_entry` may appear, for error messages. It is not a per-bar series known
/// before the backtest (it depends on the trades), so the engine evaluates it instead.
pub(crate) const BSE_FORMS: &str =
    "`bars_since_entry` is only allowed as {\"op\": \"ge\", \"left\": \
    \"bars_since_entry\", \"right\": N} (or \"gt\") at the top of long_exit/short_exit or as a \
    term of their top-level `and`";

/// A resolved indicator call. Its `Debug` text without `output`/`shift` is the cache key.
/// Equal calls name the same catalog entry (the same `&'static Spec`) with equal operands.
#[derive(Debug, Clone)]
pub(crate) struct CInd {
    pub spec: &'static Spec,
    pub input: CExpr,
    pub args: Vec<f64>,
    pub output: usize,
    pub shift: usize,
}

impl PartialEq for CInd {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.spec, other.spec)
            && self.input == other.input
            && self.args == other.args
            && self.output == other.output
            && self.shift == other.shift
    }
}

impl CInd {
    /// ATR(`period`) as a rule would call it, so risk exits share the rule's cached ATR.
    pub fn atr(period: usize) -> CInd {
        CInd {
            spec: &catalog::ATR,
            input: CExpr::Field(Field::Close),
            args: vec![period as f64],
            output: 0,
            shift: 0,
        }
    }
}

/// A resolved condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CCond {
    Cross {
        above: bool,
        left: CExpr,
        right: CExpr,
    },
    Cmp {
        op: Cmp,
        left: CExpr,
        right: CExpr,
    },
    Between {
        value: CExpr,
        low: CExpr,
        high: CExpr,
    },
    Trend {
        rising: bool,
        value: CExpr,
        bars: usize,
    },
    And(Vec<CCond>),
    Or(Vec<CCond>),
    Not(Box<CCond>),
    Time {
        start: NaiveTime,
        end: NaiveTime,
    },
    Weekdays(Vec<Weekday>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Lt,
    Ge,
    Le,
}

/// A validated strategy, ready for [`signals`](super::signals) and [`to_config`].
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The strategy as written, with the parameters it was compiled with.
    pub strategy: Strategy,
    /// The contract spec of the strategy's symbol.
    pub spec: &'static ContractSpec,
    /// The strategy's bar size, parsed.
    pub bar_size: BarSize,
    pub(crate) long_entry: Option<CCond>,
    pub(crate) short_entry: Option<CCond>,
    pub(crate) long_exit: Option<CCond>,
    pub(crate) short_exit: Option<CCond>,
    /// ATR period for `atr` risk exits, when any exit uses them.
    pub(crate) atr_period: Option<usize>,
    /// Order prices of stop/limit entries, per side.
    pub(crate) long_level: Option<CExpr>,
    pub(crate) short_level: Option<CExpr>,
    pub(crate) config: BacktestConfig,
}

impl Compiled {
    /// The series this strategy trades from `store`: its contract or nearby when it names
    /// one, else the symbol's continuous series, at its bar size.
    pub fn series(&self, store: &settle_data::store::Store) -> settle_data::Result<Bars> {
        store.find(
            &self.strategy.symbol,
            self.strategy.contract.as_deref(),
            self.bar_size,
        )
    }
}

/// Validates `s` and resolves it; every problem found is returned.
pub fn compile(s: &Strategy) -> Result<Compiled, Vec<ValidationError>> {
    let mut cx = Cx::new(s);
    let spec = settle_data::spec(&s.symbol)
        .map_err(|e| cx.err("/symbol", e.to_string()))
        .ok();
    let bar_size = s
        .bar_size
        .parse::<BarSize>()
        .map_err(|e| cx.err("/bar_size", e.to_string()))
        .ok();
    let window = s
        .window
        .parse::<Window>()
        .map_err(|e| cx.err("/window", e.to_string()))
        .ok();
    let cond = |cx: &mut Cx, c: &Option<Condition>, key: &str| {
        c.as_ref().and_then(|c| cx.cond(c, &format!("/{key}")))
    };
    let long_entry = cond(&mut cx, &s.long_entry, "long_entry");
    let short_entry = cond(&mut cx, &s.short_entry, "short_entry");
    let exit = |cx: &mut Cx, c: &Option<Condition>, key: &str| {
        c.as_ref().map(|c| cx.exit_rule(c, &format!("/{key}")))
    };
    let long_exit = exit(&mut cx, &s.long_exit, "long_exit");
    let short_exit = exit(&mut cx, &s.short_exit, "short_exit");
    let held = cx.held_limits(s, &long_exit, &short_exit);
    let (fill, long_level, short_level) = cx.entry_order(s);
    let stop_loss = cx.risk(&s.stop_loss, "/stop_loss");
    let take_profit = cx.risk(&s.take_profit, "/take_profit");
    let trailing_stop = cx.risk(&s.trailing_stop, "/trailing_stop");
    let max_bars_held = s
        .max_bars_held
        .as_ref()
        .and_then(|v| cx.whole(v, "/max_bars_held", 1));
    let sizing = cx.sizing(s);
    let uses_atr = [&s.stop_loss, &s.take_profit, &s.trailing_stop]
        .iter()
        .any(|r| {
            matches!(
                r,
                Some(RiskExit {
                    unit: ExitUnit::Atr,
                    ..
                })
            )
        });
    let atr_period = match &s.atr_period {
        Some(v) => cx.whole(v, "/atr_period", 1),
        None => Some(DEFAULT_ATR_PERIOD),
    };
    if let Some(c) = s.commission_per_side {
        if !(c.is_finite() && c >= 0.0) {
            cx.err(
                "/commission_per_side",
                format!("{c}: expected dollars per contract per side, 0 or more"),
            );
        }
    }
    if s.long_entry.is_none() && s.short_entry.is_none() {
        cx.err(
            "/long_entry",
            "the strategy never enters: give `long_entry` and/or `short_entry`",
        );
    }
    let time_exit = s.max_bars_held.is_some() || s.flatten_at_session_close;
    let risk_exit = s.stop_loss.is_some() || s.take_profit.is_some() || s.trailing_stop.is_some();
    for (entry, exit, side) in [
        (&s.long_entry, &s.long_exit, "long"),
        (&s.short_entry, &s.short_exit, "short"),
    ] {
        // An opposite entry reverses the position, so it also counts as a way out.
        let other_entry = if side == "long" {
            &s.short_entry
        } else {
            &s.long_entry
        };
        if entry.is_some() && exit.is_none() && other_entry.is_none() && !time_exit && !risk_exit {
            cx.err(
                &format!("/{side}_exit"),
                format!(
                    "{side} trades are entered but never left: add `{side}_exit`, a \
                     stop_loss/take_profit/trailing_stop, max_bars_held or \
                     flatten_at_session_close"
                ),
            );
        }
    }
    let (Some(spec), Some(bar_size), Some(window), Some(sizing), true) =
        (spec, bar_size, window, sizing, cx.errors.is_empty())
    else {
        return Err(cx.errors);
    };
    // A time exit written as `bars_since_entry >= N` and `max_bars_held`: the first reached.
    let max_bars_held = match (max_bars_held, held.max_bars_held) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let config = BacktestConfig {
        sizing,
        fill,
        slippage_ticks: s
            .slippage_ticks
            .unwrap_or(BacktestConfig::default().slippage_ticks),
        commission_per_side: s.commission_per_side,
        stop_loss,
        take_profit,
        trailing_stop,
        max_bars_held: max_bars_held.map(|n| n as u32),
        min_bars_before_signal_exit: held.min_bars_before_signal_exit.map(|n| n as u32),
        flatten_at_session_close: s.flatten_at_session_close,
        window,
        ..BacktestConfig::default()
    };
    Ok(Compiled {
        strategy: s.clone(),
        spec,
        bar_size,
        long_entry,
        short_entry,
        long_exit: long_exit.and_then(|e| e?.signal),
        short_exit: short_exit.and_then(|e| e?.signal),
        long_level,
        short_level,
        atr_period: if uses_atr {
            atr_period.map(|p| p as usize)
        } else {
            None
        },
        config,
    })
}

/// The engine configuration of a compiled strategy (window, sizing, costs and exits).
pub fn to_config(c: &Compiled) -> BacktestConfig {
    c.config.clone()
}

/// [`compile`] of `s` with some parameter values replaced (for sweeps). Unknown keys and
/// values outside a parameter's bounds are errors, as is anything [`compile`] rejects.
pub fn compile_with(
    s: &Strategy,
    values: &[(&str, f64)],
) -> Result<Compiled, Vec<ValidationError>> {
    let mut out = s.clone();
    let mut errors = Vec::new();
    for &(key, value) in values {
        match parameter_position(key, s.parameters.iter().map(|p| p.key.as_str())) {
            Ok(i) => out.parameters[i].value = value,
            Err(e) => errors.push(ValidationError {
                path: "/parameters".into(),
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    compile(&out)
}

/// A parameter key that a strategy does not declare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no parameter `{key}`; known: {}", self.known_text())]
pub struct UnknownParameter {
    /// The key as given.
    pub key: String,
    /// The keys the strategy declares, in order.
    pub known: Vec<String>,
}

impl UnknownParameter {
    /// The declared keys as a list for a message.
    pub fn known_text(&self) -> String {
        known_text(&self.known)
    }
}

/// Where `key` is among `declared`, a strategy's parameter keys in order: the one check of a
/// parameter key, made by [`compile_with`], `settle sweep` and the MCP sweeps before anything
/// runs.
pub fn parameter_position<'a>(
    key: &str,
    declared: impl IntoIterator<Item = &'a str>,
) -> Result<usize, UnknownParameter> {
    let declared: Vec<&str> = declared.into_iter().collect();
    declared
        .iter()
        .position(|k| *k == key)
        .ok_or_else(|| UnknownParameter {
            key: key.to_string(),
            known: declared.iter().map(|k| k.to_string()).collect(),
        })
}

fn keys(s: &Strategy) -> String {
    let k: Vec<&str> = s.parameters.iter().map(|p| p.key.as_str()).collect();
    known_text(&k)
}

fn known_text<K: AsRef<str>>(keys: &[K]) -> String {
    if keys.is_empty() {
        "(none declared in `parameters`)".into()
    } else {
        keys.iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The validation context: parameter values and the errors found so far.
struct Cx {
    params: BTreeMap<String, f64>,
    keys: String,
    errors: Vec<ValidationError>,
}

impl Cx {
    fn new(s: &Strategy) -> Cx {
        let mut cx = Cx {
            params: BTreeMap::new(),
            keys: keys(s),
            errors: Vec::new(),
        };
        for (i, p) in s.parameters.iter().enumerate() {
            let path = format!("/parameters/{i}");
            if cx.params.insert(p.key.clone(), p.value).is_some() {
                cx.err(&format!("{path}/key"), format!("duplicate key `{}`", p.key));
            }
            if p.min > p.max || p.min.is_nan() || p.max.is_nan() {
                cx.err(
                    &format!("{path}/max"),
                    format!("max {} is below min {}", p.max, p.min),
                );
            }
            if !(p.min..=p.max).contains(&p.value) {
                cx.err(
                    &format!("{path}/value"),
                    format!(
                        "`{}` = {} is outside its bounds; expected {} to {}",
                        p.key, p.value, p.min, p.max
                    ),
                );
            } else if p.integer && p.value.fract() != 0.0 {
                cx.err(
                    &format!("{path}/value"),
                    format!("`{}` = {} must be a whole number", p.key, p.value),
                );
            }
        }
        cx
    }

    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(ValidationError {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn value(&mut self, v: &Value, path: &str) -> Option<f64> {
        match v {
            Value::Number(x) if x.is_finite() => Some(*x),
            Value::Number(x) => {
                self.err(path, format!("{x} is not a finite number"));
                None
            }
            Value::Param(r) => match self.params.get(&r.param) {
                Some(&x) => Some(x),
                None => {
                    let msg = format!("unknown parameter `{}`; known: {}", r.param, self.keys);
                    self.err(&format!("{path}/param"), msg);
                    None
                }
            },
            Value::Invalid(Invalid(json)) => {
                let msg = format!("expected a number or {{\"param\": \"key\"}}; got {json}");
                self.err(path, msg);
                None
            }
        }
    }

    /// A whole number of at least `min` (periods, bar counts, contracts).
    fn whole(&mut self, v: &Value, path: &str, min: u64) -> Option<u64> {
        let x = self.value(v, path)?;
        if x.fract() != 0.0 || x < min as f64 || x > 1e9 {
            self.err(
                path,
                format!("{x}: expected a whole number of at least {min}"),
            );
            return None;
        }
        Some(x as u64)
    }

    fn risk(&mut self, r: &Option<RiskExit>, path: &str) -> Option<ExitLevel> {
        let r = r.as_ref()?;
        let v = self.value(&r.value, &format!("{path}/value"))?;
        if v <= 0.0 {
            self.err(
                &format!("{path}/value"),
                format!("{v}: expected a distance above 0"),
            );
            return None;
        }
        Some(match r.unit {
            ExitUnit::Ticks => ExitLevel::Ticks(v),
            ExitUnit::Points => ExitLevel::Points(v),
            ExitUnit::Dollars => ExitLevel::Dollars(v),
            ExitUnit::Atr => ExitLevel::Atr(v),
        })
    }

    fn expr(&mut self, e: &Expr, path: &str) -> Option<CExpr> {
        match e {
            Expr::Number(x) => self.value(&Value::Number(*x), path).map(CExpr::Const),
            Expr::Param(r) => self.value(&Value::Param(r.clone()), path).map(CExpr::Const),
            Expr::Field(name) if name == BARS_SINCE_ENTRY => {
                self.err(path, BSE_FORMS);
                None
            }
            Expr::Field(name) => match Field::parse(name) {
                Some(f) => Some(CExpr::Field(f)),
                None => {
                    let msg = format!("unknown price field `{name}`; valid: {}", catalog::FIELDS);
                    self.err(path, msg);
                    None
                }
            },
            Expr::Indicator(ind) => self.indicator(ind, path),
            Expr::Arith(a) => self.arith(a, path),
            Expr::Invalid(Invalid(json)) => {
                let why = match json {
                    // Say what is wrong inside an indicator call (unknown or mistyped argument).
                    serde_json::Value::Object(m) if m.contains_key("indicator") => {
                        serde_json::from_value::<Indicator>(json.clone())
                            .err()
                            .map(|e| format!(" ({e})"))
                    }
                    _ => None,
                };
                let msg = format!(
                    "expected a number, a price field ({}), {{\"param\": \"key\"}}, \
                     {{\"indicator\": ...}} or {{\"add\"|\"sub\"|\"mul\"|\"div\": [a, b]}}; got {json}{}",
                    catalog::FIELDS,
                    why.unwrap_or_default()
                );
                self.err(path, msg);
                None
            }
        }
    }

    /// Arithmetic: `sub` and `div` take exactly two operands, `add` and `mul` two or more.
    fn arith(&mut self, a: &Arith, path: &str) -> Option<CExpr> {
        let (name, operands) = a.operands();
        let op = match a {
            Arith::Add(_) => ArithOp::Add,
            Arith::Sub(_) => ArithOp::Sub,
            Arith::Mul(_) => ArithOp::Mul,
            Arith::Div(_) => ArithOp::Div,
        };
        let path = format!("{path}/{name}");
        let exactly_two = matches!(op, ArithOp::Sub | ArithOp::Div);
        if operands.len() < 2 || (exactly_two && operands.len() > 2) {
            let want = if exactly_two { "exactly" } else { "at least" };
            let msg = format!("{name} takes {want} 2 operands, got {}", operands.len());
            self.err(&path, msg);
            return None;
        }
        let parts: Vec<Option<CExpr>> = operands
            .iter()
            .enumerate()
            .map(|(i, e)| self.expr(e, &format!("{path}/{i}")))
            .collect();
        let mut parts = parts.into_iter().collect::<Option<Vec<_>>>()?.into_iter();
        let first = parts.next()?;
        Some(parts.fold(first, |acc, e| match (&acc, &e) {
            (CExpr::Const(a), CExpr::Const(b)) => CExpr::Const(op.apply(*a, *b)),
            _ => CExpr::Arith(op, Box::new(acc), Box::new(e)),
        }))
    }

    fn indicator(&mut self, ind: &Indicator, path: &str) -> Option<CExpr> {
        let Some(spec) = catalog::find(&ind.indicator) else {
            let msg = format!(
                "unknown indicator `{}`; valid: {}",
                ind.indicator,
                catalog::names()
            );
            self.err(&format!("{path}/indicator"), msg);
            return None;
        };
        let takes: Vec<&str> = spec.args.iter().map(|a| a.0).collect();
        let mut ok = true;
        for name in Indicator::ARGS {
            if ind.arg(name).is_some() && !takes.contains(&name) {
                let msg = format!(
                    "{} takes no `{name}`; its arguments: {}",
                    spec.name,
                    if takes.is_empty() {
                        "none".to_string()
                    } else {
                        takes.join(", ")
                    }
                );
                self.err(&format!("{path}/{name}"), msg);
                ok = false;
            }
        }
        let mut args = Vec::new();
        for &(name, default) in spec.args {
            let arg_path = format!("{path}/{name}");
            let v = match (ind.arg(name), default) {
                (Some(v), _) => self.value(v, &arg_path),
                (None, Some(d)) => Some(d),
                (None, None) => {
                    let msg = format!("{} needs `{name}`", spec.name);
                    self.err(&arg_path, msg);
                    None
                }
            };
            match v {
                // Periods are whole; real arguments are nbdev and mult.
                Some(x) if !matches!(name, "nbdev" | "mult") && (x.fract() != 0.0 || x < 0.0) => {
                    self.err(&arg_path, format!("{x}: expected a whole number of bars"));
                    ok = false;
                }
                Some(x) => args.push(x),
                None => ok = false,
            }
        }
        let input = match (&ind.input, spec.reads) {
            (None, _) => Some(CExpr::Field(Field::Close)),
            (Some(e), Reads::Series) => self.expr(e, &format!("{path}/input")),
            (Some(_), _) => {
                let msg = format!(
                    "{} reads high, low and close itself and takes no `input`",
                    spec.name
                );
                self.err(&format!("{path}/input"), msg);
                None
            }
        };
        let output = match &ind.output {
            None if spec.output_required => {
                let msg = format!(
                    "{} has several outputs; choose one of: {}",
                    spec.name,
                    spec.outputs.join(", ")
                );
                self.err(&format!("{path}/output"), msg);
                None
            }
            None => Some(0),
            Some(o) => match spec.outputs.iter().position(|x| x == o) {
                Some(i) if spec.outputs.len() > 1 => Some(i),
                _ => {
                    let msg = if spec.outputs.len() > 1 {
                        format!("no output `{o}`; valid: {}", spec.outputs.join(", "))
                    } else {
                        format!("{} has a single output; remove `output`", spec.name)
                    };
                    self.err(&format!("{path}/output"), msg);
                    None
                }
            },
        };
        if !ok {
            return None;
        }
        // Run on empty data: this checks the argument ranges with the indicator's own rules.
        let empty = Inputs {
            series: &[],
            high: &[],
            low: &[],
            close: &[],
            volume: &[],
            new_session: &[],
        };
        if let Err(e) = catalog::compute(spec, &args, &empty) {
            let (arg, msg) = match &e {
                IndicatorError::PeriodOutOfRange { name, .. }
                | IndicatorError::InvalidReal { name, .. } => (json_arg(name), e.to_string()),
                IndicatorError::LengthMismatch { .. } => ("indicator", e.to_string()),
            };
            let msg = msg.replacen(json_arg_src(&e), arg, 1);
            self.err(&format!("{path}/{arg}"), format!("{}: {msg}", spec.name));
            return None;
        }
        Some(CExpr::Ind(Box::new(CInd {
            spec,
            input: input?,
            args,
            output: output?,
            shift: ind.shift.unwrap_or(0) as usize,
        })))
    }

    fn pair(&mut self, l: &Expr, r: &Expr, path: &str) -> Option<(CExpr, CExpr)> {
        let l = self.expr(l, &format!("{path}/left"));
        let r = self.expr(r, &format!("{path}/right"));
        Some((l?, r?))
    }

    fn cond(&mut self, c: &Condition, path: &str) -> Option<CCond> {
        let cmp = |op| move |(left, right)| CCond::Cmp { op, left, right };
        let cross = |above| move |(left, right)| CCond::Cross { above, left, right };
        match c {
            Condition::CrossesAbove { left, right } => {
                self.pair(left, right, path).map(cross(true))
            }
            Condition::CrossesBelow { left, right } => {
                self.pair(left, right, path).map(cross(false))
            }
            Condition::Gt { left, right } => self.pair(left, right, path).map(cmp(Cmp::Gt)),
            Condition::Lt { left, right } => self.pair(left, right, path).map(cmp(Cmp::Lt)),
            Condition::Ge { left, right } => self.pair(left, right, path).map(cmp(Cmp::Ge)),
            Condition::Le { left, right } => self.pair(left, right, path).map(cmp(Cmp::Le)),
            Condition::Between { value, low, high } => {
                let v = self.expr(value, &format!("{path}/value"));
                let lo = self.expr(low, &format!("{path}/low"));
                let hi = self.expr(high, &format!("{path}/high"));
                Some(CCond::Between {
                    value: v?,
                    low: lo?,
                    high: hi?,
                })
            }
            Condition::Rising { value, bars } | Condition::Falling { value, bars } => {
                let v = self.expr(value, &format!("{path}/value"));
                let n = self.whole(bars, &format!("{path}/bars"), 1);
                Some(CCond::Trend {
                    rising: matches!(c, Condition::Rising { .. }),
                    value: v?,
                    bars: n? as usize,
                })
            }
            Condition::And { conditions } | Condition::Or { conditions } => {
                if conditions.is_empty() {
                    self.err(
                        &format!("{path}/conditions"),
                        "expected at least one condition",
                    );
                }
                let parts: Vec<Option<CCond>> = conditions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.cond(c, &format!("{path}/conditions/{i}")))
                    .collect();
                let parts: Option<Vec<CCond>> = parts.into_iter().collect();
                match c {
                    Condition::And { .. } => parts.map(CCond::And),
                    _ => parts.map(CCond::Or),
                }
            }
            Condition::Not { condition } => self
                .cond(condition, &format!("{path}/condition"))
                .map(|c| CCond::Not(Box::new(c))),
            Condition::TimeWindow { start, end } => {
                let s = self.time(start, &format!("{path}/start"));
                let e = self.time(end, &format!("{path}/end"));
                Some(CCond::Time { start: s?, end: e? })
            }
            Condition::Weekdays { days } => {
                let parsed: Vec<Option<Weekday>> = days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let w = d.parse::<Weekday>().ok();
                        if w.is_none() {
                            self.err(
                                &format!("{path}/days/{i}"),
                                format!(
                                    "unknown day `{d}`; valid: mon, tue, wed, thu, fri, sat, sun"
                                ),
                            );
                        }
                        w
                    })
                    .collect();
                parsed
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(CCond::Weekdays)
            }
        }
    }

    /// An exit rule: `bars_since_entry >= N` terms at its top level (alone or inside its
    /// top-level `and`) become a minimum holding period; the other terms, the signal. `None`
    /// when anything in it is invalid.
    fn exit_rule(&mut self, c: &Condition, path: &str) -> Option<ExitRule> {
        if let Some((right, gt)) = bars_since_entry(c) {
            let held = self.bars_held(right, gt, path)?;
            return Some(ExitRule {
                signal: None,
                held: Some(held),
            });
        }
        let Condition::And { conditions } = c else {
            return Some(ExitRule {
                signal: Some(self.cond(c, path)?),
                held: None,
            });
        };
        let (mut held, mut signal, mut ok) = (None::<u64>, Vec::new(), true);
        for (i, term) in conditions.iter().enumerate() {
            let term_path = format!("{path}/conditions/{i}");
            match bars_since_entry(term) {
                Some((right, gt)) => match self.bars_held(right, gt, &term_path) {
                    // Several minimums: all must hold, so the largest counts.
                    Some(n) => held = Some(held.map_or(n, |h| h.max(n))),
                    None => ok = false,
                },
                None => match self.cond(term, &term_path) {
                    Some(t) => signal.push(t),
                    None => ok = false,
                },
            }
        }
        if conditions.is_empty() {
            self.err(
                &format!("{path}/conditions"),
                "expected at least one condition",
            );
            return None;
        }
        ok.then(|| ExitRule {
            signal: (!signal.is_empty()).then_some(CCond::And(signal)),
            held,
        })
    }

    /// N of `bars_since_entry >= N` (or `> N - 1`): whole, at least 1 bar.
    fn bars_held(&mut self, right: &Expr, gt: bool, path: &str) -> Option<u64> {
        let right_path = format!("{path}/right");
        let v = match right {
            Expr::Number(x) => Value::Number(*x),
            Expr::Param(r) => Value::Param(r.clone()),
            _ => {
                let msg = "expected a whole number of bars or {\"param\": \"key\"}";
                self.err(&right_path, msg);
                return None;
            }
        };
        let n = self.whole(&v, &right_path, if gt { 0 } else { 1 })?;
        Some(if gt { n + 1 } else { n })
    }

    /// The engine's holding-period settings implied by the exit rules. Both apply to every
    /// trade, long or short, so the sides that trade must agree on them.
    fn held_limits(
        &mut self,
        s: &Strategy,
        long: &Option<Option<ExitRule>>,
        short: &Option<Option<ExitRule>>,
    ) -> HeldLimits {
        let mut out = HeldLimits::default();
        // (side, trades at all, its exit rule if valid)
        let sides = [
            (
                "long",
                s.long_entry.is_some(),
                long.as_ref().map(Option::as_ref),
            ),
            (
                "short",
                s.short_entry.is_some(),
                short.as_ref().map(Option::as_ref),
            ),
        ];
        if sides.iter().any(|(_, _, rule)| matches!(rule, Some(None))) {
            return out; // an invalid exit rule is already reported
        }
        let rules: Vec<(&str, Option<&ExitRule>)> = sides
            .iter()
            .filter(|(_, trades, _)| *trades)
            .map(|(side, _, rule)| (*side, rule.flatten()))
            .collect();
        let time = |r: Option<&ExitRule>| r.filter(|r| r.signal.is_none()).and_then(|r| r.held);
        let gate = |r: Option<&ExitRule>| r.filter(|r| r.signal.is_some()).map(|r| r.held);
        // A time exit (bars_since_entry alone): every trading side must have the same one.
        if let Some((first, n)) = rules.iter().find_map(|(s, r)| Some((*s, time(*r)?))) {
            for (side, r) in &rules {
                if time(*r) != Some(n) {
                    self.err(
                        &format!("/{side}_exit"),
                        format!(
                            "{first}_exit is a time exit after {n} bars (bars_since_entry \
                             alone), which the engine applies to every trade; give {side}_exit \
                             the same rule, or use `max_bars_held` instead"
                        ),
                    );
                }
            }
            out.max_bars_held = Some(n);
        }
        // A minimum holding period before signal exits: the same for every signal exit.
        let gates: Vec<(&str, Option<u64>)> = rules
            .iter()
            .filter_map(|(s, r)| Some((*s, gate(*r)?)))
            .collect();
        if let Some(&(first, Some(n))) = gates.iter().find(|(_, g)| g.is_some()) {
            for (side, g) in &gates {
                if *g != Some(n) {
                    self.err(
                        &format!("/{side}_exit"),
                        format!(
                            "{first}_exit waits for bars_since_entry >= {n}, and the engine \
                             applies that wait to every signal exit; add the same term to \
                             {side}_exit's top-level `and`"
                        ),
                    );
                }
            }
            out.min_bars_before_signal_exit = Some(n);
        }
        out
    }

    /// Fill mode and the per-side order prices of `entry_order`.
    fn entry_order(&mut self, s: &Strategy) -> (FillMode, Option<CExpr>, Option<CExpr>) {
        let Some(o) = &s.entry_order else {
            return (FillMode::NextOpen, None, None);
        };
        let fill = match o.kind {
            OrderKind::Market => FillMode::NextOpen,
            OrderKind::Stop => FillMode::Stop,
            OrderKind::Limit => FillMode::Limit,
        };
        let mut level = |side: &str, entry: &Option<Condition>, level: &Option<Expr>| {
            let path = format!("/entry_order/{side}_level");
            match (fill, entry, level) {
                (FillMode::NextOpen, _, Some(_)) => {
                    self.err(
                        &path,
                        "market orders fill at the next open and take no level",
                    );
                    None
                }
                (_, None, Some(_)) => {
                    self.err(
                        &path,
                        format!("there is no `{side}_entry` to place this order"),
                    );
                    None
                }
                (FillMode::NextOpen, _, None) | (_, None, None) => None,
                (_, Some(_), None) => {
                    let msg = format!(
                        "a {:?} order needs its price per bar: give `{side}_level`, e.g. \
                         {{\"indicator\": \"max\", \"input\": \"high\", \"period\": 20}}",
                        o.kind
                    )
                    .to_lowercase();
                    self.err(&path, msg);
                    None
                }
                (_, Some(_), Some(e)) => self.expr(e, &path),
            }
        };
        let long = level("long", &s.long_entry, &o.long_level);
        let short = level("short", &s.short_entry, &o.short_level);
        (fill, long, short)
    }

    /// Fixed `contracts`, or `risk_sizing` (which needs a stop loss to measure the risk).
    fn sizing(&mut self, s: &Strategy) -> Option<Sizing> {
        let Some(r) = &s.risk_sizing else {
            return Some(Sizing::Fixed(
                self.whole(&s.contracts, "/contracts", 1)? as i64
            ));
        };
        if s.contracts != Value::Number(1.0) {
            self.err(
                "/contracts",
                "give either `contracts` or `risk_sizing`, not both",
            );
        }
        if s.stop_loss.is_none() {
            self.err(
                "/risk_sizing",
                "risk sizing divides the dollars at risk by the stop distance: add a `stop_loss`",
            );
        }
        let dollars = self.value(&r.dollars, "/risk_sizing/dollars");
        if let Some(d) = dollars.filter(|d| *d <= 0.0) {
            self.err(
                "/risk_sizing/dollars",
                format!("{d}: expected dollars above 0"),
            );
        }
        let max = self.whole(&r.max_contracts, "/risk_sizing/max_contracts", 1);
        Some(Sizing::Risk {
            dollars: dollars.filter(|d| *d > 0.0)?,
            max_contracts: max? as i64,
        })
    }

    fn time(&mut self, s: &str, path: &str) -> Option<NaiveTime> {
        let t = NaiveTime::parse_from_str(s, "%H:%M").ok();
        if t.is_none() {
            self.err(
                path,
                format!("`{s}`: expected a time of day as HH:MM, e.g. 09:30"),
            );
        }
        t
    }
}

/// An exit rule split into its signal and its `bars_since_entry` minimum.
struct ExitRule {
    /// The other terms; `None` when the rule is only `bars_since_entry` (a time exit).
    signal: Option<CCond>,
    held: Option<u64>,
}

/// Engine settings that come from `bars_since_entry` terms.
#[derive(Default)]
struct HeldLimits {
    max_bars_held: Option<u64>,
    min_bars_before_signal_exit: Option<u64>,
}

/// `(right, is_gt)` when `c` is `bars_since_entry >= right` or `bars_since_entry > right`.
fn bars_since_entry(c: &Condition) -> Option<(&Expr, bool)> {
    let (left, right, gt) = match c {
        Condition::Ge { left, right } => (left, right, false),
        Condition::Gt { left, right } => (left, right, true),
        _ => return None,
    };
    matches!(left, Expr::Field(f) if f == BARS_SINCE_ENTRY).then_some((right, gt))
}

/// The JSON argument name for an indicator function's parameter name.
fn json_arg(name: &str) -> &'static str {
    match name {
        "fast" => "fast",
        "slow" => "slow",
        "signal" => "signal",
        "nbdevup" | "nbdevdn" | "nbdev" => "nbdev",
        "atr_period" => "atr_period",
        "mult" => "mult",
        _ => "period",
    }
}

/// The parameter name as the indicator error spells it.
fn json_arg_src(e: &IndicatorError) -> &'static str {
    match e {
        IndicatorError::PeriodOutOfRange { name, .. }
        | IndicatorError::InvalidReal { name, .. } => name,
        IndicatorError::LengthMismatch { name, .. } => name,
    }
}
