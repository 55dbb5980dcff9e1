//! The rule language's arithmetic, `bars_since_entry`, stop/limit entries, risk sizing and
//! error paths, checked against hand computations on real CL front-month daily bars (RTL).

mod common;

use common::cl_daily;
use serde_json::json;
use settle_data::{spec, Bars};
use settle_engine::{ExitReason, FillMode, Sizing, Trade};
use settle_strategies::indicators;
use settle_strategies::rules::{self, Strategy};

/// A CL daily strategy from `body` (name, symbol, bar size and an all-history window added).
fn cl(body: serde_json::Value) -> Strategy {
    let mut j = body;
    j["name"] = json!("t");
    j["symbol"] = json!("CL");
    j["bar_size"] = json!("1d");
    j["window"] = json!("all");
    serde_json::from_value(j).unwrap()
}

fn errors(s: &Strategy) -> Vec<(String, String)> {
    match rules::compile(s) {
        Ok(_) => vec![],
        Err(e) => e.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

fn run(s: &Strategy, bars: &Bars) -> Vec<Trade> {
    let c = rules::compile(s).unwrap();
    let sp = spec("CL").unwrap();
    let sig = rules::signals(&c, bars, sp).unwrap();
    settle_engine::backtest(bars, sp, &sig, &rules::to_config(&c))
        .unwrap()
        .trades
}

fn sma(period: usize) -> serde_json::Value {
    json!({"indicator": "sma", "period": period})
}

#[test]
fn arithmetic_matches_hand_computation() {
    let bars = cl_daily();
    // close > sma(20) + 2 * atr(14)
    let s = cl(json!({
        "long_entry": {"op": "gt", "left": "close",
            "right": {"add": [sma(20), {"mul": [2, {"indicator": "atr", "period": 14}]}]}},
        "max_bars_held": 5,
    }));
    let sig = rules::signals(&rules::compile(&s).unwrap(), &bars, spec("CL").unwrap()).unwrap();
    let m = indicators::sma(&bars.close, 20).unwrap();
    let a = indicators::atr(&bars.high, &bars.low, &bars.close, 14).unwrap();
    let want: Vec<bool> = (0..bars.len())
        .map(|t| bars.close[t] > m[t] + 2.0 * a[t])
        .collect();
    assert!(want.iter().filter(|&&b| b).count() > 20);
    assert_eq!(sig.long_entry, want);

    // (close - open) / (high - low) > 0.8: a bar closing near its high. Doji-free days only:
    // where high == low the division is by zero, gives NaN and the condition is false.
    let s = cl(json!({
        "long_entry": {"op": "gt", "right": 0.8,
            "left": {"div": [{"sub": ["close", "open"]}, {"sub": ["high", "low"]}]}},
        "max_bars_held": 5,
    }));
    let sig = rules::signals(&rules::compile(&s).unwrap(), &bars, spec("CL").unwrap()).unwrap();
    let want: Vec<bool> = (0..bars.len())
        .map(|t| {
            let range = bars.high[t] - bars.low[t];
            range != 0.0 && (bars.close[t] - bars.open[t]) / range > 0.8
        })
        .collect();
    assert!(want.iter().filter(|&&b| b).count() > 20);
    assert_eq!(sig.long_entry, want);

    // A constant division by zero: NaN, so neither `gt` nor `le` ever fires.
    for op in ["gt", "le"] {
        let s = cl(json!({
            "long_entry": {"op": op, "left": "close", "right": {"div": [1, 0]}},
            "max_bars_held": 5,
        }));
        let sig = rules::signals(&rules::compile(&s).unwrap(), &bars, spec("CL").unwrap()).unwrap();
        assert!(sig.long_entry.iter().all(|&b| !b), "{op}");
    }
}

#[test]
fn malformed_expressions_are_reported_at_their_json_pointer() {
    let s = cl(json!({
        "parameters": [{"key": "n", "value": 20, "category": "entry", "min": 2, "max": 50}],
        "long_entry": {"op": "and", "conditions": [
            {"op": "gt", "left": "close", "right": 0},
            {"op": "gt", "left": {"indcator": "sma", "period": 20}, "right": [1, 2]},
        ]},
        "short_entry": {"op": "lt", "left": {"indicator": "sma", "period": "20"},
                        "right": {"indicator": "ema", "perod": 20}},
        "long_exit": {"op": "lt", "left": "close", "right": {"sub": ["close", 1, 2]}},
        "short_exit": {"op": "gt", "left": {"add": ["close"]}, "right": {"mul": ["close", {"param": "m"}]}},
    }));
    let e = errors(&s);
    let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/long_entry/conditions/1/left",
            "/long_entry/conditions/1/right",
            "/short_entry/left/period",
            "/short_entry/right",
            "/long_exit/right/sub",
            "/short_exit/left/add",
            "/short_exit/right/mul/1/param",
        ],
        "{e:#?}"
    );
    assert!(
        e[0].1
            .starts_with("expected a number, a price field (open, high,")
            && e[0].1.ends_with(r#"got {"indcator":"sma","period":20}"#),
        "{}",
        e[0].1
    );
    assert!(e[1].1.ends_with("got [1,2]"), "{}", e[1].1);
    assert_eq!(e[2].1, r#"expected a number or {"param": "key"}; got "20""#);
    assert!(e[3].1.contains("unknown field `perod`"), "{}", e[3].1);
    assert_eq!(e[4].1, "sub takes exactly 2 operands, got 3");
    assert_eq!(e[5].1, "add takes at least 2 operands, got 1");
    assert!(
        e[6].1.contains("unknown parameter `m`; known: n"),
        "{}",
        e[6].1
    );
}

#[test]
fn bars_since_entry_maps_to_the_engine_and_is_rejected_elsewhere() {
    let entry = json!({"op": "crosses_above", "left": "close", "right": sma(20)});
    let below = json!({"op": "lt", "left": "close", "right": sma(20)});
    let bse =
        |op: &str, n: serde_json::Value| json!({"op": op, "left": "bars_since_entry", "right": n});
    let config = |exit: serde_json::Value| {
        rules::to_config(
            &rules::compile(&cl(json!({"long_entry": entry, "long_exit": exit}))).unwrap(),
        )
    };
    // A term of the exit's top-level `and`: signal exits wait; `gt 4` is `ge 5`.
    for term in [bse("ge", json!(5)), bse("gt", json!(4))] {
        let cfg = config(json!({"op": "and", "conditions": [below, term]}));
        assert_eq!(cfg.min_bars_before_signal_exit, Some(5));
        assert_eq!(cfg.max_bars_held, None);
    }
    // Alone: a time exit, combined with max_bars_held (the first limit reached wins).
    let cfg = config(bse("ge", json!(7)));
    assert_eq!(
        (cfg.max_bars_held, cfg.min_bars_before_signal_exit),
        (Some(7), None)
    );
    let s = cl(json!({"long_entry": entry, "long_exit": bse("ge", json!(7)), "max_bars_held": 4}));
    assert_eq!(
        rules::to_config(&rules::compile(&s).unwrap()).max_bars_held,
        Some(4)
    );

    // Anywhere else it cannot be computed ahead of the backtest.
    for (body, path) in [
        (
            json!({"long_entry": bse("ge", json!(3)), "max_bars_held": 5}),
            "/long_entry/left",
        ),
        (
            json!({"long_entry": entry, "long_exit": {"op": "or", "conditions": [below, bse("ge", json!(5))]}}),
            "/long_exit/conditions/1/left",
        ),
        (
            json!({"long_entry": entry, "long_exit": bse("lt", json!(5))}),
            "/long_exit/left",
        ),
        (
            json!({"long_entry": entry, "long_exit": bse("ge", json!(0))}),
            "/long_exit/right",
        ),
    ] {
        let e = errors(&cl(body));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, path, "{e:?}");
    }
    let e = errors(&cl(
        json!({"long_entry": bse("ge", json!(3)), "max_bars_held": 5}),
    ));
    assert!(e[0].1.contains("only allowed as") && e[0].1.contains("long_exit/short_exit"));

    // The engine applies both settings to every trade, so the trading sides must agree.
    let e = errors(&cl(json!({
        "long_entry": entry, "long_exit": {"op": "and", "conditions": [below, bse("ge", json!(5))]},
        "short_entry": {"op": "crosses_below", "left": "close", "right": sma(20)},
        "short_exit": {"op": "gt", "left": "close", "right": sma(20)},
    })));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "/short_exit");
    assert!(e[0].1.contains("bars_since_entry >= 5"), "{}", e[0].1);
}

#[test]
fn minimum_holding_period_delays_signal_exits_on_real_bars() {
    let bars = cl_daily();
    let entry = json!({"op": "crosses_above", "left": "close", "right": sma(10)});
    let below = json!({"op": "lt", "left": "close", "right": sma(10)});
    let plain = run(&cl(json!({"long_entry": entry, "long_exit": below})), &bars);
    let held = run(
        &cl(
            json!({"long_entry": entry, "long_exit": {"op": "and", "conditions": [
            below, {"op": "ge", "left": "bars_since_entry", "right": 6}]}}),
        ),
        &bars,
    );
    let quick = |t: &&Trade| t.exit_reason == ExitReason::Signal && t.bars_held < 6;
    // Without the wait many trades leave within 6 bars; with it none do.
    assert!(plain.iter().filter(quick).count() > 20);
    assert!(held.len() > 20);
    assert_eq!(held.iter().filter(quick).count(), 0, "{held:#?}");
}

/// Index of the bar stamped `ts`.
fn bar_at(bars: &Bars, ts: i64) -> usize {
    bars.ts.iter().position(|&t| t == ts).unwrap()
}

#[test]
fn stop_entries_fill_at_the_channel_high_on_real_bars() {
    let bars = cl_daily();
    // Every bar, a buy stop at the 20-bar high; leave after 10 bars (a time exit).
    let s = cl(json!({
        "long_entry": {"op": "gt", "left": "close", "right": 0},
        "long_exit": {"op": "ge", "left": "bars_since_entry", "right": 10},
        "entry_order": {"type": "stop",
                        "long_level": {"indicator": "max", "input": "high", "period": 20}},
    }));
    let cfg = rules::to_config(&rules::compile(&s).unwrap());
    assert_eq!((cfg.fill, cfg.max_bars_held), (FillMode::Stop, Some(10)));
    let channel = indicators::max(&bars.high, 20).unwrap();
    let trades = run(&s, &bars);
    assert!(trades.len() > 30, "{}", trades.len());
    for tr in &trades {
        let i = bar_at(&bars, tr.entry_time.0);
        let level = channel[i - 1];
        // Bought at the open when it gapped above the level, else at the level itself.
        let want = if bars.open[i] >= level {
            bars.open[i]
        } else {
            level
        };
        assert!((tr.entry_price - want).abs() < 1e-9, "{tr:?} want {want}");
        assert!(bars.high[i] >= level, "{tr:?}");
        // Held 10 bars, except a last trade still open when the data ends.
        let last = tr.id as usize == trades.len() && tr.exit_reason == ExitReason::EndOfData;
        assert!(tr.exit_reason == ExitReason::Time || last, "{tr:?}");
    }

    // Stop/limit orders need a price per side that enters; market orders take none.
    let e = errors(&cl(json!({
        "long_entry": {"op": "gt", "left": "close", "right": 0},
        "short_entry": {"op": "lt", "left": "close", "right": 0},
        "max_bars_held": 3,
        "entry_order": {"type": "limit", "long_level": "low"},
    })));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "/entry_order/short_level");
    let e = errors(&cl(json!({
        "long_entry": {"op": "gt", "left": "close", "right": 0}, "max_bars_held": 3,
        "entry_order": {"type": "market", "long_level": "low"},
    })));
    assert_eq!(e[0].0, "/entry_order/long_level");
}

#[test]
fn risk_sizing_takes_dollars_over_stop_distance() {
    let bars = cl_daily();
    let body = |max: f64| {
        json!({
            "parameters": [
                {"key": "risk", "value": 1000, "category": "sizing", "min": 100, "max": 10000},
                {"key": "max", "value": max, "category": "sizing", "min": 1, "max": 50, "integer": true},
            ],
            "long_entry": {"op": "crosses_above", "left": "close", "right": sma(20)},
            "short_entry": {"op": "crosses_below", "left": "close", "right": sma(20)},
            "stop_loss": {"unit": "ticks", "value": 20},
            "risk_sizing": {"dollars": {"param": "risk"}, "max_contracts": {"param": "max"}},
        })
    };
    // CL: $10 a tick, so a 20-tick stop risks $200 a contract: $1,000 buys 5 contracts.
    for (max, want) in [(10.0, 5), (3.0, 3)] {
        let s = cl(body(max));
        let cfg = rules::to_config(&rules::compile(&s).unwrap());
        assert_eq!(
            cfg.sizing,
            Sizing::Risk {
                dollars: 1000.0,
                max_contracts: max as i64
            }
        );
        let trades = run(&s, &bars);
        assert!(trades.len() > 50);
        assert!(trades.iter().all(|t| t.contracts == want), "max {max}");
    }
    let mut no_stop = body(10.0);
    no_stop.as_object_mut().unwrap().remove("stop_loss");
    no_stop["contracts"] = json!(2);
    let e = errors(&cl(no_stop));
    let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/contracts", "/risk_sizing"], "{e:?}");
}
