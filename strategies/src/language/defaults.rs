//! What the language fills in when the rules are silent: listed once for the description and,
//! per strategy, as the values a given strategy actually received, so that a writer can see
//! which numbers they never chose.
//!
//! Both lists read the same constants as the code that applies them (the model's serde
//! defaults, the compiler's ATR period, the engine's slippage, the contract specs'
//! commissions), so neither can state a default the backtest does not use.

use serde::Serialize;
use serde_json::{json, Value};
use settle_engine::BacktestConfig;

use crate::rules::catalog::{self, Reads};
use crate::rules::model::{DEFAULT_ATR_PERIOD, DEFAULT_CONTRACTS, DEFAULT_WINDOW};
use crate::rules::{Condition, ExitUnit, Expr, Indicator, Strategy};

/// A default: which field, its value, and why it is that.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefaultValue {
    /// A top-level field name in [`defaults`]; a JSON pointer in [`filled_defaults`].
    pub path: String,
    /// The value the strategy gets (JSON, as the rules would write it).
    pub value: Value,
    /// Where the value comes from, in words (e.g. the contract's commission).
    pub why: String,
}

impl DefaultValue {
    fn new(path: impl Into<String>, value: Value, why: impl Into<String>) -> DefaultValue {
        DefaultValue {
            path: path.into(),
            value,
            why: why.into(),
        }
    }
}

/// A default that one strategy received: a JSON pointer into its rules.
pub type FilledDefault = DefaultValue;

const WHY_WINDOW: &str = "the latest year of the data is traded";
const WHY_CONTRACTS: &str = "one contract per trade unless risk_sizing is given";
const WHY_ENTRY_ORDER: &str = "entries are market orders at the next bar's open";
const WHY_ATR_PERIOD: &str = "ATR period of risk exits whose unit is atr";
const WHY_SLIPPAGE: &str = "ticks against you on every fill";
const WHY_COMMISSION: &str = "dollars per contract per side, by contract size";
const WHY_INPUT: &str = "single-series indicators read the close";

/// Fills from the engine's own defaults, the ones `compile` leaves in place.
fn slippage() -> u32 {
    BacktestConfig::default().slippage_ticks
}

/// The default commission of full-size and of micro contracts, from the contract specs.
fn commissions() -> Value {
    let of = |micro: bool| {
        settle_data::specs::all()
            .iter()
            .find(|s| s.micro == micro)
            .map(|s| s.default_commission())
    };
    json!({"full_size": of(false), "micro": of(true)})
}

/// Every default of the language's top-level fields, plus the indicators' `input`; the
/// indicators' own argument defaults are listed with each indicator.
pub fn defaults() -> Vec<DefaultValue> {
    vec![
        DefaultValue::new("window", json!(DEFAULT_WINDOW), WHY_WINDOW),
        DefaultValue::new("contracts", json!(DEFAULT_CONTRACTS), WHY_CONTRACTS),
        DefaultValue::new("entry_order", json!({"type": "market"}), WHY_ENTRY_ORDER),
        DefaultValue::new("atr_period", json!(DEFAULT_ATR_PERIOD), WHY_ATR_PERIOD),
        DefaultValue::new("slippage_ticks", json!(slippage()), WHY_SLIPPAGE),
        DefaultValue::new("commission_per_side", commissions(), WHY_COMMISSION),
        DefaultValue::new("input", json!("close"), WHY_INPUT),
    ]
}

/// The defaults strategy `s` received: each value its rules did not state, with its JSON
/// pointer. `rules` is the JSON `s` was read from; it tells a default from a stated value
/// where the parsed strategy cannot (`window` and `contracts` always hold a value there).
pub fn filled_defaults(rules: &Value, s: &Strategy) -> Vec<FilledDefault> {
    let stated = |key: &str| rules.get(key).is_some();
    let mut out = Vec::new();
    if !stated("window") {
        out.push(DefaultValue::new("/window", json!(s.window), WHY_WINDOW));
    }
    if !stated("contracts") && s.risk_sizing.is_none() {
        out.push(DefaultValue::new(
            "/contracts",
            json!(DEFAULT_CONTRACTS),
            WHY_CONTRACTS,
        ));
    }
    if s.entry_order.is_none() {
        let market = json!({"type": "market"});
        out.push(DefaultValue::new("/entry_order", market, WHY_ENTRY_ORDER));
    }
    let atr_exit = [&s.stop_loss, &s.take_profit, &s.trailing_stop]
        .iter()
        .any(|r| r.as_ref().is_some_and(|r| r.unit == ExitUnit::Atr));
    if atr_exit && s.atr_period.is_none() {
        let period = json!(DEFAULT_ATR_PERIOD);
        out.push(DefaultValue::new("/atr_period", period, WHY_ATR_PERIOD));
    }
    if s.slippage_ticks.is_none() {
        out.push(DefaultValue::new(
            "/slippage_ticks",
            json!(slippage()),
            WHY_SLIPPAGE,
        ));
    }
    if let (None, Ok(spec)) = (s.commission_per_side, settle_data::spec(&s.symbol)) {
        let why = format!(
            "{} default ({})",
            spec.root,
            if spec.micro { "micro" } else { "full size" }
        );
        out.push(DefaultValue::new(
            "/commission_per_side",
            json!(spec.default_commission()),
            why,
        ));
    }
    let mut calls = Vec::new();
    for (key, c) in [
        ("long_entry", &s.long_entry),
        ("short_entry", &s.short_entry),
        ("long_exit", &s.long_exit),
        ("short_exit", &s.short_exit),
    ] {
        if let Some(c) = c {
            condition_calls(c, format!("/{key}"), &mut calls);
        }
    }
    if let Some(o) = &s.entry_order {
        for (key, level) in [
            ("long_level", &o.long_level),
            ("short_level", &o.short_level),
        ] {
            if let Some(e) = level {
                expr_calls(e, format!("/entry_order/{key}"), &mut calls);
            }
        }
    }
    for (path, call) in calls {
        out.extend(call_defaults(&path, call));
    }
    out
}

/// The arguments, input and output an indicator call left to their defaults.
fn call_defaults(path: &str, call: &Indicator) -> Vec<FilledDefault> {
    let Some(spec) = catalog::find(&call.indicator) else {
        return vec![]; // compile reports the unknown name
    };
    let mut out: Vec<FilledDefault> = spec
        .args
        .iter()
        .filter(|(name, _)| call.arg(name).is_none())
        .filter_map(|&(name, default)| {
            let why = format!("{} default {name}", spec.name);
            Some(DefaultValue::new(
                format!("{path}/{name}"),
                json!(default?),
                why,
            ))
        })
        .collect();
    if call.input.is_none() && spec.reads == Reads::Series {
        out.push(DefaultValue::new(
            format!("{path}/input"),
            json!("close"),
            WHY_INPUT,
        ));
    }
    if call.output.is_none() && spec.outputs.len() > 1 && !spec.output_required {
        let why = format!("the first output of {}", spec.name);
        out.push(DefaultValue::new(
            format!("{path}/output"),
            json!(spec.outputs[0]),
            why,
        ));
    }
    out
}

/// Every indicator call inside condition `c`, with its JSON pointer.
fn condition_calls<'a>(c: &'a Condition, path: String, out: &mut Vec<(String, &'a Indicator)>) {
    match c {
        Condition::CrossesAbove { left, right }
        | Condition::CrossesBelow { left, right }
        | Condition::Gt { left, right }
        | Condition::Lt { left, right }
        | Condition::Ge { left, right }
        | Condition::Le { left, right } => {
            expr_calls(left, format!("{path}/left"), out);
            expr_calls(right, format!("{path}/right"), out);
        }
        Condition::Between { value, low, high } => {
            expr_calls(value, format!("{path}/value"), out);
            expr_calls(low, format!("{path}/low"), out);
            expr_calls(high, format!("{path}/high"), out);
        }
        Condition::Rising { value, .. } | Condition::Falling { value, .. } => {
            expr_calls(value, format!("{path}/value"), out);
        }
        Condition::And { conditions } | Condition::Or { conditions } => {
            for (i, c) in conditions.iter().enumerate() {
                condition_calls(c, format!("{path}/conditions/{i}"), out);
            }
        }
        Condition::Not { condition } => {
            condition_calls(condition, format!("{path}/condition"), out)
        }
        Condition::TimeWindow { .. } | Condition::Weekdays { .. } => {}
    }
}

/// Every indicator call inside expression `e` (itself included), with its JSON pointer.
fn expr_calls<'a>(e: &'a Expr, path: String, out: &mut Vec<(String, &'a Indicator)>) {
    match e {
        Expr::Indicator(call) => {
            if let Some(input) = &call.input {
                expr_calls(input, format!("{path}/input"), out);
            }
            out.push((path, call));
        }
        Expr::Arith(a) => {
            let (name, operands) = a.operands();
            for (i, x) in operands.iter().enumerate() {
                expr_calls(x, format!("{path}/{name}/{i}"), out);
            }
        }
        Expr::Number(_) | Expr::Field(_) | Expr::Param(_) | Expr::Invalid(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::{parse_rules, Context};

    fn filled(rules: Value) -> Vec<(String, Value)> {
        let s = parse_rules(&rules, &Context::new("t", "CL", "1d")).unwrap();
        filled_defaults(&rules, &s)
            .into_iter()
            .map(|d| (d.path, d.value))
            .collect()
    }

    #[test]
    fn lists_what_the_rules_left_out() {
        let got = filled(json!({
            "long_entry": {"op": "lt", "left": {"indicator": "rsi", "period": 2}, "right": 10},
            "long_exit": {"op": "gt", "left": "close", "right":
                {"add": [1, {"indicator": "bbands", "output": "upper"}]}},
            "stop_loss": {"unit": "atr", "value": 2},
        }));
        let want = [
            ("/window", json!("last 1 year")),
            ("/contracts", json!(1.0)),
            ("/entry_order", json!({"type": "market"})),
            ("/atr_period", json!(14)),
            ("/slippage_ticks", json!(1)),
            ("/commission_per_side", json!(2.5)),
            ("/long_entry/left/input", json!("close")),
            ("/long_exit/right/add/1/period", json!(20.0)),
            ("/long_exit/right/add/1/nbdev", json!(2.0)),
            ("/long_exit/right/add/1/input", json!("close")),
        ];
        let want: Vec<(String, Value)> = want.into_iter().map(|(p, v)| (p.into(), v)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn stated_values_are_not_listed() {
        let got = filled(json!({
            "window": "all", "contracts": 2, "atr_period": 10, "slippage_ticks": 0,
            "commission_per_side": 1.5, "entry_order": {"type": "stop",
                "long_level": {"indicator": "max", "input": "high", "period": 20}},
            "long_entry": {"op": "gt", "left": {"indicator": "macd"}, "right": 0},
            "stop_loss": {"unit": "atr", "value": 2},
        }));
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/long_entry/left/fast",
                "/long_entry/left/slow",
                "/long_entry/left/signal",
                "/long_entry/left/input",
                "/long_entry/left/output",
            ]
        );
        assert_eq!(got[4].1, json!("macd"));
    }

    #[test]
    fn the_description_states_the_real_commissions() {
        let c = defaults()
            .into_iter()
            .find(|d| d.path == "commission_per_side");
        assert_eq!(c.unwrap().value, json!({"full_size": 2.5, "micro": 1.0}));
    }
}
