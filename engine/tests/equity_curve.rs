//! The equity recorder on real data: `backtest_metrics` and `EquityCurve::Daily` give exactly
//! the metrics and daily curve of a full `backtest`, and those match the definitions applied
//! by hand to the per-bar curve (drawdown from the running peak; one daily point per CME
//! trading date, the equity of its last bar). And the engine's quiet runs (bars with nothing
//! to do, simulated without the per-bar event steps) change no number.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use settle_data::import::{nautilus, pysystemtrade};
use settle_data::{spec, Bars};
use settle_engine::*;

mod common;

use common::zigzag;

/// Metrics as JSON text: equal text means bit-equal numbers (shortest round-trip printing).
fn text(m: &Metrics) -> String {
    serde_json::to_string(m).unwrap()
}

/// Runs `cfg` three ways and checks they agree; returns the per-bar result.
fn three_ways(bars: &Bars, sig: &Signals, cfg: &BacktestConfig) -> BacktestResult {
    let spec = spec(&bars.meta.symbol).unwrap();
    let full = backtest(bars, spec, sig, cfg).unwrap();
    assert_eq!(full.equity.len(), full.bars);
    let lean = backtest_metrics(bars, spec, sig, cfg).unwrap();
    assert_eq!(text(&lean), text(&full.metrics));
    let daily_cfg = BacktestConfig {
        equity_curve: EquityCurve::Daily,
        ..cfg.clone()
    };
    let daily = backtest(bars, spec, sig, &daily_cfg).unwrap();
    assert!(daily.equity.is_empty());
    assert_eq!(text(&daily.metrics), text(&full.metrics));
    assert_eq!(daily.daily_equity, full.daily_equity);
    assert_eq!(daily.trades, full.trades);
    assert!(full.trades.len() > 20, "{} trades", full.trades.len());
    full
}

/// Checks `r`'s drawdown metrics against the definition applied by hand to its per-bar curve
/// (largest fall from the running peak, which starts at the capital, in dollars and percent)
/// and returns the dollars.
fn assert_drawdown_by_hand(capital: f64, r: &BacktestResult) -> f64 {
    let (mut peak, mut dollars, mut pct) = (capital, 0.0_f64, 0.0_f64);
    for p in &r.equity {
        peak = peak.max(p.equity);
        dollars = dollars.max(peak - p.equity);
        pct = pct.max((peak - p.equity) / peak * 100.0);
    }
    assert_eq!(
        (r.metrics.max_drawdown, r.metrics.max_drawdown_pct),
        (dollars, pct)
    );
    dollars
}

#[test]
fn six_e_minutes_with_exits_and_session_flattening() {
    let path = common::data("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz");
    let bars = nautilus::bars(&path, "6E", "6EH4").unwrap();
    let cfg = BacktestConfig {
        window: Window::All,
        stop_loss: Some(ExitLevel::Ticks(20.0)),
        take_profit: Some(ExitLevel::Ticks(30.0)),
        trailing_stop: Some(ExitLevel::Dollars(100.0)),
        flatten_at_session_close: true,
        ..Default::default()
    };
    let r = three_ways(&bars, &zigzag(&bars), &cfg);
    assert!(assert_drawdown_by_hand(cfg.starting_capital, &r) > 0.0);

    // CME FX trades 17:00-16:00 Chicago time: a bar at or after 17:00 belongs to the next date.
    let tz: Tz = "America/Chicago".parse().unwrap();
    let mut want: Vec<DailyEquity> = Vec::new();
    for p in &r.equity {
        let local = chrono::DateTime::from_timestamp(p.time.0, 0)
            .unwrap()
            .with_timezone(&tz)
            .naive_local();
        let date = if local.time() >= chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap() {
            local.date() + Duration::days(1)
        } else {
            local.date()
        };
        match want.last_mut() {
            Some(d) if d.date == date => d.equity = p.equity,
            _ => want.push(DailyEquity {
                date,
                equity: p.equity,
            }),
        }
    }
    assert_eq!(r.daily_equity, want);
    // The data's first bar is on New Year's Day evening, 2024-01-01 17:01 CT: the session
    // of trading date 2024-01-02.
    assert_eq!(
        r.daily_equity.first().unwrap().date,
        NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
    );
}

#[test]
fn cl_daily_ohlc_since_2015() {
    let bars = common::cl_daily();
    let cfg = BacktestConfig {
        window: "since 2015".parse().unwrap(),
        stop_loss: Some(ExitLevel::Points(3.0)),
        max_bars_held: Some(10),
        ..Default::default()
    };
    let r = three_ways(&bars, &zigzag(&bars), &cfg);
    assert_drawdown_by_hand(cfg.starting_capital, &r);
    // Daily bars: one daily point per bar, equal to the per-bar curve.
    assert_eq!(r.daily_equity.len(), r.equity.len());
    assert!(r
        .daily_equity
        .iter()
        .zip(&r.equity)
        .all(|(d, p)| d.equity == p.equity));
}

/// Every result of `cfg` equals, down to the JSON bytes (trades with their MAE and MFE,
/// per-bar and daily equity, metrics), the result of the full per-bar path
/// (`backtest_reference`). Runs that keep no per-bar curve (`backtest_metrics`,
/// `equityCurve: daily`), whose quiet runs are recorded from their extremes, agree too
/// ([`three_ways`]).
fn same_as_full_path(bars: &Bars, sig: &Signals, cfg: &BacktestConfig) {
    let spec = spec(&bars.meta.symbol).unwrap();
    let quiet = three_ways(bars, sig, cfg);
    let full = backtest_reference(bars, spec, sig, cfg).unwrap();
    assert!(quiet.trades.iter().all(|t| t.bars_held < 100_000));
    assert_eq!(quiet.to_json(), full.to_json());
}

/// Every 7th bar enters long, every 11th short (so reversals), every 13th exits a long:
/// runs of quiet bars between them, both sides, signal exits.
fn sparse(n: usize) -> Signals {
    sparse_every(n, 1)
}

/// [`sparse`] with every period `scale` times as long (runs that span trading dates).
fn sparse_every(n: usize, scale: usize) -> Signals {
    let mut sig = Signals::none(n);
    for t in 0..n {
        sig.long_entry[t] = t % (7 * scale) == 0;
        sig.short_entry[t] = t % (11 * scale) == 0;
        sig.long_exit[t] = t % (13 * scale) == 0;
    }
    sig
}

/// Every column true for runs of bars (of 17, 23, 13 and 19 bars, out of phase): entries and
/// exits that hold on many bars in a row, as level conditions do.
fn held(n: usize) -> Signals {
    let mut sig = Signals::none(n);
    for t in 0..n {
        sig.long_entry[t] = (t / 17) % 3 == 0;
        sig.short_entry[t] = (t / 23) % 4 == 1;
        sig.long_exit[t] = (t / 13) % 2 == 1;
        sig.short_exit[t] = (t / 19) % 3 == 2;
    }
    sig
}

/// Signals that peek 30 bars ahead (as only a test may): long before a rise, short before a
/// fall, so equity keeps setting new peaks, the case where a quiet run cannot be recorded
/// from its extremes alone.
fn oracle(bars: &Bars) -> Signals {
    let mut sig = Signals::none(bars.len());
    for t in 0..bars.len().saturating_sub(31) {
        let (now, later) = (bars.close[t + 1], bars.close[t + 31]);
        sig.long_entry[t] = t % 30 == 0 && later > now;
        sig.short_entry[t] = t % 30 == 0 && later < now;
    }
    sig
}

#[test]
fn quiet_runs_change_no_number() {
    let six_e = nautilus::bars(
        &common::data("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .unwrap();
    let all = BacktestConfig {
        window: Window::All,
        ..Default::default()
    };
    for fill in [FillMode::NextOpen, FillMode::SignalClose] {
        let cfg = BacktestConfig {
            fill,
            ..all.clone()
        };
        same_as_full_path(&six_e, &sparse(six_e.len()), &cfg);
        same_as_full_path(&six_e, &zigzag(&six_e), &cfg);
    }
    // Stop entries one tick beyond the signal bar's close: fills inside the next bar, whose
    // range the trade did not see from the start.
    let mut stops = sparse(six_e.len());
    stops.entry_level = Some(six_e.close.iter().map(|c| c + 0.00005).collect());
    let cfg = BacktestConfig {
        fill: FillMode::Stop,
        ..all.clone()
    };
    same_as_full_path(&six_e, &stops, &cfg);
    same_as_full_path(&six_e, &oracle(&six_e), &all);
    // Holds of hundreds to thousands of minutes, across trading dates.
    same_as_full_path(&six_e, &sparse_every(six_e.len(), 97), &all);
    // Stops, targets and time exits end quiet runs where they may fire: a few ticks away
    // (many exits, on both sides, some at the open of a gap) and farther (fewer).
    for (stop, target, bars) in [
        (4.0, 6.0, None),
        (12.0, 30.0, Some(40)),
        (60.0, 25.0, Some(7)),
    ] {
        let cfg = BacktestConfig {
            stop_loss: Some(ExitLevel::Ticks(stop)),
            take_profit: Some(ExitLevel::Ticks(target)),
            max_bars_held: bars,
            ..all.clone()
        };
        same_as_full_path(&six_e, &sparse_every(six_e.len(), 9), &cfg);
        same_as_full_path(&six_e, &zigzag(&six_e), &cfg);
    }
    // Flattening at each session's close ends quiet runs at the session's last bar.
    let flat = BacktestConfig {
        flatten_at_session_close: true,
        ..all.clone()
    };
    same_as_full_path(&six_e, &sparse_every(six_e.len(), 97), &flat);
    same_as_full_path(&six_e, &zigzag(&six_e), &flat);
    let flat_levels = BacktestConfig {
        stop_loss: Some(ExitLevel::Ticks(12.0)),
        take_profit: Some(ExitLevel::Ticks(30.0)),
        fill: FillMode::SignalClose,
        ..flat.clone()
    };
    same_as_full_path(&six_e, &sparse_every(six_e.len(), 9), &flat_levels);
    // Trailing stops, alone and under a fixed stop and target.
    for (trail, levels) in [
        (6.0, None),
        (15.0, Some((25.0, 40.0))),
        (3.0, Some((8.0, 5.0))),
    ] {
        let cfg = BacktestConfig {
            trailing_stop: Some(ExitLevel::Ticks(trail)),
            stop_loss: levels.map(|l| ExitLevel::Ticks(l.0)),
            take_profit: levels.map(|l| ExitLevel::Ticks(l.1)),
            ..all.clone()
        };
        same_as_full_path(&six_e, &sparse_every(six_e.len(), 9), &cfg);
        same_as_full_path(&six_e, &zigzag(&six_e), &cfg);
    }
    let time_only = BacktestConfig {
        max_bars_held: Some(25),
        ..all.clone()
    };
    same_as_full_path(&six_e, &sparse_every(six_e.len(), 9), &time_only);
    // Conditions that hold for runs of bars (`rsi < 30`, not a cross): only the signals that
    // can act in the position end a quiet run, with or without reversing, with a minimum
    // hold before a signal exit, and under a stop and a target.
    for reverse in [true, false] {
        for (min_hold, levels) in [(None, None), (Some(5), None), (None, Some((8.0, 6.0)))] {
            let cfg = BacktestConfig {
                reverse_on_opposite: reverse,
                min_bars_before_signal_exit: min_hold,
                stop_loss: levels.map(|l: (f64, f64)| ExitLevel::Ticks(l.0)),
                take_profit: levels.map(|l| ExitLevel::Ticks(l.1)),
                ..all.clone()
            };
            same_as_full_path(&six_e, &held(six_e.len()), &cfg);
        }
    }

    // CL daily OHLC changes contract at each roll, paid or not.
    let cl = common::cl_daily();
    for pay_roll in [true, false] {
        let cfg = BacktestConfig {
            pay_roll,
            ..all.clone()
        };
        same_as_full_path(&cl, &sparse(cl.len()), &cfg);
        // CL's daily ranges against a dollar stop and target, April 2020 included.
        let levels = BacktestConfig {
            stop_loss: Some(ExitLevel::Dollars(1500.0)),
            take_profit: Some(ExitLevel::Dollars(2500.0)),
            ..cfg
        };
        same_as_full_path(&cl, &sparse_every(cl.len(), 3), &levels);
        let flat = BacktestConfig {
            flatten_at_session_close: true,
            ..levels.clone()
        };
        same_as_full_path(&cl, &sparse_every(cl.len(), 3), &flat);
        let trailing = BacktestConfig {
            trailing_stop: Some(ExitLevel::Dollars(2000.0)),
            ..levels
        };
        same_as_full_path(&cl, &sparse_every(cl.len(), 3), &trailing);
    }

    // ES daily closes only (pysystemtrade): excursions come from closes.
    let es = pysystemtrade::adjusted_prices(
        &common::data("raw/pysystemtrade/adjusted_prices_csv/SP500.csv"),
        "ES",
    )
    .unwrap();
    assert!(es.meta.close_only);
    same_as_full_path(&es, &sparse(es.len()), &all);
    let levels = BacktestConfig {
        stop_loss: Some(ExitLevel::Points(40.0)),
        take_profit: Some(ExitLevel::Points(60.0)),
        ..all.clone()
    };
    same_as_full_path(&es, &sparse_every(es.len(), 5), &levels);
    let trailing = BacktestConfig {
        trailing_stop: Some(ExitLevel::Points(30.0)),
        ..all.clone()
    };
    same_as_full_path(&es, &sparse_every(es.len(), 5), &trailing);
}
