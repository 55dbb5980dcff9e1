//! Built-in strategies, written in the rule language so they double as worked examples.
//!
//! Each template is a complete [`Strategy`] with canonical parameters (defaults and the
//! ranges worth sweeping). [`get`] returns one for any symbol; the bar size stays the
//! template's own (daily, or one-minute for the intraday ones).

use serde_json::{json, Value as Json};

use crate::rules::Strategy;

/// A named built-in strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The name a caller picks the template by, e.g. `sma_cross`.
    pub name: &'static str,
    /// One line, written for an LLM choosing a template.
    pub description: &'static str,
    /// The complete strategy, its parameters at their default values.
    pub strategy: Strategy,
}

/// A parameter declaration: key, label, default, category, min, max, whole number.
fn param(
    key: &str,
    label: &str,
    value: f64,
    category: &str,
    range: (f64, f64),
    integer: bool,
) -> Json {
    json!({"key": key, "label": label, "value": value, "category": category,
           "min": range.0, "max": range.1, "integer": integer})
}

fn p(key: &str) -> Json {
    json!({"param": key})
}

fn ind(name: &str, period: Json) -> Json {
    json!({"indicator": name, "period": period})
}

fn op(name: &str, left: Json, right: Json) -> Json {
    json!({"op": name, "left": left, "right": right})
}

fn all_of(conditions: Vec<Json>) -> Json {
    json!({"op": "and", "conditions": conditions})
}

/// Long on a fast average crossing above a slow one, short on the reverse; always in.
fn ma_cross(kind: &str, fast: f64, slow: f64) -> Json {
    let (f, s) = (ind(kind, p("fast")), ind(kind, p("slow")));
    json!({
        "parameters": [
            param("fast", "fast average period", fast, "entry", (2.0, 100.0), true),
            param("slow", "slow average period", slow, "entry", (5.0, 400.0), true),
        ],
        "long_entry": op("crosses_above", f.clone(), s.clone()),
        "short_entry": op("crosses_below", f, s),
    })
}

/// Every template as (name, description, bar size, JSON body without name/symbol/bar_size).
fn table() -> Vec<(&'static str, &'static str, &'static str, Json)> {
    let rsi = ind("rsi", p("period"));
    let band = |name: &str, out: &str| {
        let mut b = match name {
            "bbands" => json!({"indicator": "bbands", "period": p("period"), "nbdev": p("nbdev")}),
            _ => json!({"indicator": "keltner", "period": p("period"),
                        "atr_period": p("atr_period"), "mult": p("mult")}),
        };
        b["output"] = json!(out);
        b
    };
    let channel = |name: &str, key: &str, field: &str| json!({"indicator": name, "input": field, "period": p(key), "shift": 1});
    let orb =
        |out: &str| json!({"indicator": "opening_range", "period": p("range_bars"), "output": out});
    let adx_on = op("gt", ind("adx", p("adx_period")), p("threshold"));
    let trend_ma = ind("sma", p("ma_period"));
    let vwap = json!({"indicator": "vwap"});
    vec![
        ("sma_cross", "Trend: long when SMA(fast) crosses above SMA(slow), short on the reverse cross; always in the market.", "1d", ma_cross("sma", 10.0, 30.0)),
        ("ema_cross", "Trend: long when EMA(fast) crosses above EMA(slow), short on the reverse cross; always in the market.", "1d", ma_cross("ema", 12.0, 26.0)),
        ("donchian_breakout", "Breakout: long above the prior N-bar high, short below the prior N-bar low; exit on the opposite exit-channel break.", "1d", json!({
            "parameters": [
                param("entry_period", "entry channel bars", 20.0, "entry", (5.0, 200.0), true),
                param("exit_period", "exit channel bars", 10.0, "exit", (2.0, 100.0), true),
            ],
            "long_entry": op("gt", json!("close"), channel("max", "entry_period", "high")),
            "long_exit": op("lt", json!("close"), channel("min", "exit_period", "low")),
            "short_entry": op("lt", json!("close"), channel("min", "entry_period", "low")),
            "short_exit": op("gt", json!("close"), channel("max", "exit_period", "high")),
        })),
        ("rsi_reversion", "Mean reversion: long when RSI is below the oversold level, short above overbought; exit when RSI crosses back through the midline.", "1d", json!({
            "parameters": [
                param("period", "RSI period", 14.0, "entry", (2.0, 50.0), true),
                param("oversold", "oversold level", 30.0, "entry", (5.0, 45.0), false),
                param("overbought", "overbought level", 70.0, "entry", (55.0, 95.0), false),
                param("midline", "exit level", 50.0, "exit", (30.0, 70.0), false),
            ],
            "long_entry": op("lt", rsi.clone(), p("oversold")),
            "long_exit": op("gt", rsi.clone(), p("midline")),
            "short_entry": op("gt", rsi.clone(), p("overbought")),
            "short_exit": op("lt", rsi, p("midline")),
        })),
        ("bollinger_reversion", "Mean reversion: long on a close below the lower Bollinger band, short above the upper; exit at the middle band.", "1d", json!({
            "parameters": [
                param("period", "band period", 20.0, "entry", (5.0, 100.0), true),
                param("nbdev", "band width in standard deviations", 2.0, "entry", (0.5, 4.0), false),
            ],
            "long_entry": op("lt", json!("close"), band("bbands", "lower")),
            "long_exit": op("gt", json!("close"), band("bbands", "middle")),
            "short_entry": op("gt", json!("close"), band("bbands", "upper")),
            "short_exit": op("lt", json!("close"), band("bbands", "middle")),
        })),
        ("macd_trend", "Trend: long when the MACD line crosses above its signal line, short on the reverse cross; always in the market.", "1d", {
            let m = |out: &str| json!({"indicator": "macd", "fast": p("fast"), "slow": p("slow"), "signal": p("signal"), "output": out});
            json!({
                "parameters": [
                    param("fast", "fast EMA period", 12.0, "entry", (2.0, 50.0), true),
                    param("slow", "slow EMA period", 26.0, "entry", (5.0, 200.0), true),
                    param("signal", "signal EMA period", 9.0, "entry", (2.0, 50.0), true),
                ],
                "long_entry": op("crosses_above", m("macd"), m("signal")),
                "short_entry": op("crosses_below", m("macd"), m("signal")),
            })
        }),
        ("opening_range_breakout", "Intraday breakout: long when price crosses above the high of the session's first N bars, short below its low; stop in ticks, flat at the session close.", "1m", json!({
            "parameters": [
                param("range_bars", "opening range length in bars", 30.0, "entry", (5.0, 240.0), true),
                param("stop_ticks", "stop loss in ticks", 20.0, "risk", (4.0, 200.0), true),
            ],
            "long_entry": op("crosses_above", json!("close"), orb("high")),
            "short_entry": op("crosses_below", json!("close"), orb("low")),
            "stop_loss": {"unit": "ticks", "value": p("stop_ticks")},
            "flatten_at_session_close": true,
        })),
        ("keltner_breakout", "Volatility breakout: long on a close above the upper Keltner channel, short below the lower; exit on a close back through the middle line.", "1d", json!({
            "parameters": [
                param("period", "EMA period", 20.0, "entry", (5.0, 100.0), true),
                param("atr_period", "ATR period", 10.0, "entry", (5.0, 100.0), true),
                param("mult", "ATR multiple", 2.0, "entry", (0.5, 5.0), false),
            ],
            "long_entry": op("crosses_above", json!("close"), band("keltner", "upper")),
            "long_exit": op("lt", json!("close"), band("keltner", "middle")),
            "short_entry": op("crosses_below", json!("close"), band("keltner", "lower")),
            "short_exit": op("gt", json!("close"), band("keltner", "middle")),
        })),
        ("adx_trend", "Trend filter: long when the close crosses above SMA while ADX shows a trend, short on the reverse; exit on the opposite cross.", "1d", json!({
            "parameters": [
                param("adx_period", "ADX period", 14.0, "filter", (5.0, 50.0), true),
                param("threshold", "minimum ADX", 20.0, "filter", (10.0, 50.0), false),
                param("ma_period", "trend SMA period", 50.0, "entry", (10.0, 200.0), true),
            ],
            "long_entry": all_of(vec![adx_on.clone(), op("crosses_above", json!("close"), trend_ma.clone())]),
            "long_exit": op("crosses_below", json!("close"), trend_ma.clone()),
            "short_entry": all_of(vec![adx_on, op("crosses_below", json!("close"), trend_ma.clone())]),
            "short_exit": op("crosses_above", json!("close"), trend_ma),
        })),
        ("vwap_reversion", "Intraday mean reversion: long below session VWAP when RSI is oversold, short above VWAP when overbought; exit at VWAP, flat at the session close.", "1m", json!({
            "parameters": [
                param("period", "RSI period", 14.0, "entry", (2.0, 50.0), true),
                param("oversold", "oversold level", 25.0, "entry", (5.0, 45.0), false),
                param("overbought", "overbought level", 75.0, "entry", (55.0, 95.0), false),
            ],
            "long_entry": all_of(vec![op("lt", json!("close"), vwap.clone()), op("lt", ind("rsi", p("period")), p("oversold"))]),
            "long_exit": op("gt", json!("close"), vwap.clone()),
            "short_entry": all_of(vec![op("gt", json!("close"), vwap.clone()), op("gt", ind("rsi", p("period")), p("overbought"))]),
            "short_exit": op("lt", json!("close"), vwap),
            "flatten_at_session_close": true,
        })),
    ]
}

fn build(name: &str, description: &str, bar_size: &str, body: Json, symbol: &str) -> Strategy {
    let mut j = body;
    j["name"] = json!(name);
    j["description"] = json!(description);
    j["symbol"] = json!(symbol);
    j["bar_size"] = json!(bar_size);
    // The bodies above are fixed, well-formed strategies; `templates_compile` tests each one.
    serde_json::from_value(j).expect("built-in template is a valid Strategy")
}

/// Every template, on its default symbol (ES daily, 6E for the intraday ones).
pub fn all() -> Vec<Template> {
    table()
        .into_iter()
        .map(|(name, description, bar_size, body)| {
            let symbol = if bar_size == "1d" { "ES" } else { "6E" };
            Template {
                name,
                description,
                strategy: build(name, description, bar_size, body, symbol),
            }
        })
        .collect()
}

/// Template `name` set up for `symbol`; `None` if there is no such template.
pub fn get(name: &str, symbol: &str) -> Option<Strategy> {
    table()
        .into_iter()
        .find(|t| t.0 == name)
        .map(|(name, description, bar_size, body)| build(name, description, bar_size, body, symbol))
}

/// Names of every template.
pub fn names() -> Vec<&'static str> {
    table().into_iter().map(|t| t.0).collect()
}
