//! The rule language and the templates on real data: CL front-month daily OHLC (RTL) and 6E
//! one-minute bars of January 2024 (Nautilus Trader sample).

mod common;

use common::{cl_daily, six_e_minutes};
use settle_data::{spec, Bars};
use settle_strategies::indicators;
use settle_strategies::rules::{self, Strategy};
use settle_strategies::templates;

/// The real series a template runs on in these tests, with the template set up for it.
fn setup(t: &templates::Template, cl: &Bars, six_e: &Bars) -> (Strategy, Bars) {
    if t.strategy.bar_size == "1d" {
        (templates::get(t.name, "CL").unwrap(), cl.clone())
    } else {
        (templates::get(t.name, "6E").unwrap(), six_e.clone())
    }
}

#[test]
fn every_template_compiles_and_trades_on_real_data() {
    let (cl, six_e) = (cl_daily(), six_e_minutes());
    let names = templates::names();
    for want in [
        "sma_cross",
        "ema_cross",
        "donchian_breakout",
        "rsi_reversion",
        "bollinger_reversion",
        "macd_trend",
        "opening_range_breakout",
        "keltner_breakout",
        "adx_trend",
        "vwap_reversion",
    ] {
        assert!(names.contains(&want), "missing template {want}");
    }
    for t in templates::all() {
        let (s, bars) = setup(&t, &cl, &six_e);
        let c = rules::compile(&s).unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
        let sp = spec(&s.symbol).unwrap();
        let sig = rules::signals(&c, &bars, sp).unwrap();
        // Daily templates trade the whole CL history (2007 on), not just the last year.
        let mut cfg = rules::to_config(&c);
        if !bars.meta.bar_size.is_intraday() {
            cfg.window = settle_engine::Window::All;
        }
        let r = settle_engine::backtest(&bars, sp, &sig, &cfg).unwrap();
        assert!(
            r.trades.len() >= 5,
            "{} made {} trades on {}",
            t.name,
            r.trades.len(),
            s.symbol
        );
    }
}

#[test]
fn sma_cross_matches_a_hand_written_cross() {
    let cl = cl_daily();
    let s = rules::compile_with(
        &templates::get("sma_cross", "CL").unwrap(),
        &[("fast", 7.0), ("slow", 23.0)],
    )
    .map(|c| c.strategy)
    .unwrap();
    let sig = rules::signals(&rules::compile(&s).unwrap(), &cl, spec("CL").unwrap()).unwrap();
    let fast = indicators::sma(&cl.close, 7).unwrap();
    let slow = indicators::sma(&cl.close, 23).unwrap();
    let n = cl.len();
    let (mut up, mut down) = (vec![false; n], vec![false; n]);
    for t in 1..n {
        up[t] = fast[t - 1] <= slow[t - 1] && fast[t] > slow[t];
        down[t] = fast[t - 1] >= slow[t - 1] && fast[t] < slow[t];
    }
    assert!(up.iter().filter(|&&b| b).count() > 10);
    assert_eq!(sig.long_entry, up);
    assert_eq!(sig.short_entry, down);
    assert!(sig.long_exit.iter().all(|&b| !b));
}

#[test]
fn no_template_looks_ahead() {
    let (cl, six_e) = (cl_daily(), six_e_minutes());
    for t in templates::all() {
        let (s, bars) = setup(&t, &cl, &six_e);
        let c = rules::compile(&s).unwrap();
        let sp = spec(&s.symbol).unwrap();
        let full = rules::signals(&c, &bars, sp).unwrap();
        let n = bars.len();
        for cut in [n / 7, n / 3, n / 2, n * 4 / 5, n - 1] {
            let part = rules::signals(&c, &bars.slice(0..cut), sp).unwrap();
            assert_eq!(
                part.long_entry,
                full.long_entry[..cut],
                "{} at {cut}",
                t.name
            );
            assert_eq!(
                part.short_entry,
                full.short_entry[..cut],
                "{} at {cut}",
                t.name
            );
            assert_eq!(part.long_exit, full.long_exit[..cut], "{} at {cut}", t.name);
            assert_eq!(
                part.short_exit,
                full.short_exit[..cut],
                "{} at {cut}",
                t.name
            );
        }
    }
}

fn errors(json: serde_json::Value) -> Vec<(String, String)> {
    let s: Strategy = serde_json::from_value(json).unwrap();
    match rules::compile(&s) {
        Ok(_) => vec![],
        Err(e) => e.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

#[test]
fn validation_errors_point_at_the_json() {
    let e = errors(serde_json::json!({
        "name": "bad", "symbol": "CL", "bar_size": "1d",
        "parameters": [{"key": "fast", "value": 500, "category": "entry", "min": 2, "max": 100}],
        "long_entry": {"op": "crosses_above",
            "left": {"indicator": "sma", "period": 0},
            "right": {"indicator": "smaa", "period": {"param": "slow"}}},
        "short_entry": {"op": "gt", "left": "closee", "right": {"indicator": "rsi", "period": {"param": "nope"}}},
        "long_exit": {"op": "lt", "left": "close", "right": {"indicator": "bbands"}},
        "short_exit": {"op": "lt", "left": "close", "right": {"indicator": "rsi", "period": 1}},
    }));
    let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/parameters/0/value",
            "/long_entry/left/period",
            "/long_entry/right/indicator",
            "/short_entry/left",
            "/short_entry/right/period/param",
            "/long_exit/right/output",
            "/short_exit/right/period",
        ],
        "{e:#?}"
    );
    assert!(e[0].1.contains("expected 2 to 100"), "{}", e[0].1);
    assert!(e[1].1.contains("between 1 and 100000"), "{}", e[1].1);
    assert!(e[2].1.contains("valid: sma, ema"), "{}", e[2].1);
    assert!(e[3].1.contains("valid: open, high"), "{}", e[3].1);
    assert!(e[4].1.contains("known: fast"), "{}", e[4].1);
    assert!(e[5].1.contains("upper, middle, lower"), "{}", e[5].1);
    assert!(e[6].1.contains("between 2 and 100000"), "{}", e[6].1);

    let no_exit = errors(serde_json::json!({
        "name": "x", "symbol": "CL", "bar_size": "1d",
        "long_entry": {"op": "gt", "left": "close", "right": 50}}));
    assert_eq!(no_exit.len(), 1);
    assert_eq!(no_exit[0].0, "/long_exit");
    let with_stop = errors(serde_json::json!({
        "name": "x", "symbol": "CL", "bar_size": "1d",
        "long_entry": {"op": "gt", "left": "close", "right": 50},
        "stop_loss": {"unit": "ticks", "value": 20}}));
    assert!(with_stop.is_empty(), "{with_stop:?}");
    let no_entry = errors(serde_json::json!({"name": "x", "symbol": "CL", "bar_size": "1d"}));
    assert_eq!(no_entry[0].0, "/long_entry");
}

#[test]
fn json_file_gives_the_same_trades_as_the_template() {
    let cl = cl_daily();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("donchian.json");
    // Written by hand, not serialized from the template.
    std::fs::write(
        &path,
        r#"{
  "name": "my donchian", "symbol": "CL", "bar_size": "1d", "window": "last 1 year",
  "parameters": [
    {"key": "entry_period", "value": 20, "category": "entry", "min": 5, "max": 200, "integer": true},
    {"key": "exit_period", "value": 10, "category": "exit", "min": 2, "max": 100, "integer": true}
  ],
  "long_entry": {"op": "gt", "left": "close",
                 "right": {"indicator": "max", "input": "high", "period": {"param": "entry_period"}, "shift": 1}},
  "long_exit": {"op": "lt", "left": "close",
                "right": {"indicator": "min", "input": "low", "period": {"param": "exit_period"}, "shift": 1}},
  "short_entry": {"op": "lt", "left": "close",
                  "right": {"indicator": "min", "input": "low", "period": 20, "shift": 1}},
  "short_exit": {"op": "gt", "left": "close",
                 "right": {"indicator": "max", "input": "high", "period": 10, "shift": 1}}
}"#,
    )
    .unwrap();
    let summary = settle_strategies::check_file(&path).unwrap();
    assert!(summary.contains("my donchian"), "{summary}");
    let file: Strategy = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let run = |s: &Strategy| {
        let c = rules::compile(s).unwrap();
        let sp = spec("CL").unwrap();
        let sig = rules::signals(&c, &cl, sp).unwrap();
        settle_engine::backtest(&cl, sp, &sig, &rules::to_config(&c)).unwrap()
    };
    let (a, b) = (
        run(&file),
        run(&templates::get("donchian_breakout", "CL").unwrap()),
    );
    assert!(!a.trades.is_empty());
    assert_eq!(a.trades, b.trades);
}

#[test]
fn schema_describes_the_strategy() {
    let s = rules::schema().to_string();
    for word in ["long_entry", "crosses_above", "indicator", "param"] {
        assert!(s.contains(word), "schema lacks {word}");
    }
}

fn strategy(entry: serde_json::Value, symbol: &str, bar_size: &str) -> Strategy {
    serde_json::from_value(serde_json::json!({
        "name": "t", "symbol": symbol, "bar_size": bar_size,
        "long_entry": entry, "max_bars_held": 5}))
    .unwrap()
}

fn long_entries(entry: serde_json::Value, bars: &Bars, symbol: &str, bar_size: &str) -> Vec<bool> {
    let c = rules::compile(&strategy(entry, symbol, bar_size)).unwrap();
    rules::signals(&c, bars, spec(symbol).unwrap())
        .unwrap()
        .long_entry
}

#[test]
fn every_indicator_in_the_catalog_computes_on_real_bars() {
    // 6E minutes rather than CL daily: VWAP needs volume, the opening range needs sessions.
    let six_e = six_e_minutes();
    for ind in rules::catalog::INDICATORS {
        let mut e = serde_json::json!({"indicator": ind.name});
        if ind.args.iter().any(|a| a.0 == "period") {
            e["period"] = serde_json::json!(5);
        }
        if ind.output_required {
            e["output"] = serde_json::json!(ind.outputs[0]);
        }
        let v = long_entries(
            serde_json::json!({"op": "gt", "left": e, "right": -1e300}),
            &six_e,
            "6E",
            "1m",
        );
        // Past the warm-up every value is a number, so `> -1e300` holds on the last bar.
        assert!(v[v.len() - 1], "{} gave no value on the last bar", ind.name);
    }
}

#[test]
fn logic_operators_match_hand_computation() {
    let cl = cl_daily();
    let got = long_entries(
        serde_json::json!({"op": "or", "conditions": [
            {"op": "and", "conditions": [
                {"op": "rising", "value": "close", "bars": 3},
                {"op": "not", "condition": {"op": "between", "value": "close", "low": 40, "high": 80}}]},
            {"op": "falling", "value": "high", "bars": 1}]}),
        &cl,
        "CL",
        "1d",
    );
    let c = &cl.close;
    let want: Vec<bool> = (0..cl.len())
        .map(|t| {
            (t >= 3 && c[t] > c[t - 3] && !(40.0..=80.0).contains(&c[t]))
                || (t >= 1 && cl.high[t] < cl.high[t - 1])
        })
        .collect();
    assert!(want.iter().any(|&b| b) && !want.iter().all(|&b| b));
    assert_eq!(got, want);
}

#[test]
fn time_window_and_weekdays_use_exchange_time() {
    use chrono::{Datelike, Timelike};
    let six_e = six_e_minutes();
    let got = long_entries(
        serde_json::json!({"op": "and", "conditions": [
            {"op": "time_window", "start": "08:30", "end": "09:00"},
            {"op": "weekdays", "days": ["wed", "fri"]}]}),
        &six_e,
        "6E",
        "1m",
    );
    let want: Vec<bool> = (0..six_e.len())
        .map(|i| {
            let t = six_e.time(i).with_timezone(&chrono_tz::America::Chicago);
            let minute = t.hour() * 60 + t.minute();
            (510..540).contains(&minute)
                && matches!(t.weekday(), chrono::Weekday::Wed | chrono::Weekday::Fri)
        })
        .collect();
    // Five Wednesdays and four Fridays in January 2024, 30 one-minute bars each.
    assert_eq!(want.iter().filter(|&&b| b).count(), 270);
    assert_eq!(got, want);
}
