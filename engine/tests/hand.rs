//! Small hand-made series whose every number was worked out by hand (ES: tick 0.25 = $12.50,
//! $50 per point, default commission $2.50 per side, 1 tick of slippage per fill = $12.50).

use settle_data::{spec, BarSize, Bars, SeriesMeta};
use settle_engine::*;

const DAY: i64 = 86_400;
/// 2023-01-02 00:00 UTC.
const T0: i64 = 1_672_617_600;

fn daily(ohlc: &[[f64; 4]]) -> Bars {
    let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Daily, "hand"));
    let c = b.contract_index("ESH23");
    for (k, r) in ohlc.iter().enumerate() {
        b.push(T0 + k as i64 * DAY, r[0], r[1], r[2], r[3], 1.0, c);
    }
    b.validate("hand", None).unwrap();
    b
}

fn cfg() -> BacktestConfig {
    BacktestConfig {
        window: Window::All,
        ..Default::default()
    }
}

fn run(bars: &Bars, sig: &Signals, cfg: &BacktestConfig) -> BacktestResult {
    backtest(bars, spec("ES").unwrap(), sig, cfg).unwrap()
}

#[test]
fn next_open_entry_and_signal_exit() {
    let bars = daily(&[
        [100.0, 101.0, 99.0, 100.0],
        [100.0, 102.0, 99.0, 101.0],  // long entry signal
        [101.0, 103.0, 100.0, 102.0], // filled at the open, 101
        [102.0, 104.0, 101.0, 103.0], // exit signal
        [104.0, 105.0, 103.0, 104.0], // exit at the open, 104
    ]);
    let mut sig = Signals::none(5);
    sig.long_entry[1] = true;
    sig.long_exit[3] = true;
    let r = run(&bars, &sig, &cfg());
    assert_eq!(r.trades.len(), 1);
    let t = &r.trades[0];
    assert_eq!((t.entry_price, t.exit_price), (101.0, 104.0));
    assert_eq!(
        (t.entry_time, t.exit_time),
        (Stamp(T0 + 2 * DAY), Stamp(T0 + 4 * DAY))
    );
    // 3 points x $50 = $150; 2 fills x $2.50 = $5; 2 fills x 1 tick = $25.
    assert_eq!(
        (t.gross_pnl, t.commission, t.slippage, t.net_pnl),
        (150.0, 5.0, 25.0, 120.0)
    );
    assert_eq!(t.exit_reason, ExitReason::Signal);
    assert_eq!(t.bars_held, 2);
    // Worst low while held 100 (1 pt); best 104 (3 pts).
    assert_eq!((t.mae, t.mfe), (50.0, 150.0));
    assert_eq!(&*t.contract, "ESH23");
    let eq: Vec<f64> = r.equity.iter().map(|e| e.equity).collect();
    // Entry costs ($15) are paid at entry; bar 2 marks +1 pt, bar 3 +2 pts.
    assert_eq!(eq, [100_000.0, 100_000.0, 100_035.0, 100_085.0, 100_120.0]);
    assert_eq!(r.metrics.total_pnl, 120.0);
    assert_eq!(r.metrics.max_drawdown, 0.0);
    assert_eq!(r.metrics.win_rate, Some(1.0));
    assert_eq!(r.metrics.profit_factor, None); // no losses: undefined
    assert_eq!(r.metrics.exposure, 2.0 / 5.0);
}

#[test]
fn stop_beats_target_in_the_same_bar_and_gaps_fill_at_the_open() {
    let bars = daily(&[
        [100.0, 101.0, 99.0, 100.0], // short entry signal
        [100.0, 100.5, 99.0, 99.5],  // short at 100: stop 102, target 96
        [99.0, 102.5, 95.0, 100.0],  // both inside: the stop, at 102
        [97.0, 97.5, 96.5, 97.0],    // short at 97: stop 99, target 93
        [100.0, 101.0, 99.5, 100.5], // opens above the stop: filled at the open, 100
    ]);
    let mut sig = Signals::none(5);
    sig.short_entry[0] = true;
    sig.short_entry[2] = true;
    let cfg = BacktestConfig {
        stop_loss: Some(ExitLevel::Ticks(8.0)),
        take_profit: Some(ExitLevel::Points(4.0)),
        ..cfg()
    };
    let r = run(&bars, &sig, &cfg);
    let t: Vec<_> = r
        .trades
        .iter()
        .map(|t| {
            (
                t.side,
                t.entry_price,
                t.exit_price,
                t.exit_reason,
                t.net_pnl,
            )
        })
        .collect();
    assert_eq!(
        t,
        [
            (Side::Short, 100.0, 102.0, ExitReason::Stop, -100.0 - 30.0),
            (Side::Short, 97.0, 100.0, ExitReason::Stop, -150.0 - 30.0),
        ]
    );
    // Trade 1: bar 1 fully held (high 100.5, low 99); the stop fill is the adverse extreme.
    assert_eq!((r.trades[0].mae, r.trades[0].mfe), (100.0, 50.0));
    let eq: Vec<f64> = r.equity.iter().map(|e| e.equity).collect();
    assert_eq!(eq, [100_000.0, 100_010.0, 99_870.0, 99_855.0, 99_690.0]);
    let m = &r.metrics;
    assert_eq!(m.max_drawdown, 320.0); // 100,010 -> 99,690
    assert!((m.max_drawdown_pct - 320.0 / 100_010.0 * 100.0).abs() < 1e-12);
    assert_eq!((m.win_rate, m.max_consecutive_losses), (Some(0.0), 2));
    assert_eq!(
        (m.gross_loss, m.avg_loss, m.largest_loss),
        (-310.0, Some(-155.0), Some(-180.0))
    );
    assert_eq!(m.expectancy, Some(-1.0));
    // Daily returns on $100,000: 0, +0.0001, -0.0014, -0.00015, -0.00165.
    let r5 = [0.0, 0.0001, -0.0014, -0.00015, -0.00165];
    let mean = r5.iter().sum::<f64>() / 5.0;
    let sd = (r5.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
    let sharpe = m.sharpe_ratio.unwrap();
    assert!(
        (sharpe - mean / sd * 252f64.sqrt()).abs() < 1e-9,
        "{sharpe}"
    );
    // 2023-01-02 .. 2023-01-06 is 4 calendar days; 99,690 / 100,000 = 0.9969.
    let cagr = 0.9969f64.powf(365.25 / 4.0) - 1.0;
    assert!((m.cagr.unwrap() - cagr).abs() < 1e-12);
    assert!((m.calmar.unwrap() - cagr / (m.max_drawdown_pct / 100.0)).abs() < 1e-12);
    assert_eq!((m.exposure, m.avg_bars_held), (4.0 / 5.0, Some(2.0)));
    let down = (r5.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / 5.0).sqrt();
    assert!((m.sortino_ratio.unwrap() - mean / down * 252f64.sqrt()).abs() < 1e-9);
}

#[test]
fn signal_close_time_exit_roll_costs_and_end_of_data_on_close_only_data() {
    let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Daily, "hand"));
    b.meta.close_only = true;
    b.meta.adjustment = "difference".into();
    let (h, m) = (b.contract_index("ESH23"), b.contract_index("ESM23"));
    for (k, (c, con)) in [
        (100.0, h),
        (101.0, h),
        (102.0, h),
        (103.0, m),
        (105.0, m),
        (104.0, m),
    ]
    .into_iter()
    .enumerate()
    {
        b.push(T0 + k as i64 * DAY, c, c, c, c, 1.0, con);
    }
    let mut sig = Signals::none(6);
    sig.long_entry[1] = true; // filled at bar 1's close, 101
    sig.long_entry[4] = true; // filled at bar 4's close, 105
    sig.long_entry[5] = true; // last bar: nothing to hold, ignored
    let cfg = BacktestConfig {
        fill: FillMode::SignalClose,
        max_bars_held: Some(2),
        ..cfg()
    };
    let r = run(&b, &sig, &cfg);
    assert!(r.close_only && r.notes[0].contains("close-only"));
    let t = &r.trades;
    assert_eq!(t.len(), 2);
    // Held bars 2 and 3, exit at bar 3's close; rolled into ESM23 at bar 3: 4 fills in all.
    assert_eq!(
        (t[0].entry_price, t[0].exit_price, t[0].exit_reason),
        (101.0, 103.0, ExitReason::Time)
    );
    assert_eq!((t[0].bars_held, t[0].rolls), (2, 1));
    assert_eq!((&*t[0].contract, &*t[0].exit_contract), ("ESH23", "ESM23"));
    assert_eq!(
        (t[0].gross_pnl, t[0].commission, t[0].slippage, t[0].net_pnl),
        (100.0, 10.0, 50.0, 40.0)
    );
    assert_eq!(
        (t[1].exit_reason, t[1].bars_held, t[1].net_pnl),
        (ExitReason::EndOfData, 1, -50.0 - 30.0)
    );
    // Without roll costs the first trade pays two fills only.
    let r = run(
        &b,
        &sig,
        &BacktestConfig {
            pay_roll: false,
            ..cfg
        },
    );
    assert_eq!((r.trades[0].rolls, r.trades[0].net_pnl), (1, 70.0));
}

#[test]
fn trailing_stop_ratchets_on_completed_bars() {
    let bars = daily(&[
        [100.0, 100.0, 100.0, 100.0], // long signal
        [100.0, 103.0, 99.5, 102.5],  // long at 100; trail 98 not hit; best becomes 103
        [102.0, 102.5, 100.5, 101.0], // trail 101: low 100.5 hits it
        [101.0, 101.0, 101.0, 101.0],
    ]);
    let mut sig = Signals::none(4);
    sig.long_entry[0] = true;
    let cfg = BacktestConfig {
        stop_loss: Some(ExitLevel::Ticks(16.0)), // 96: looser than the trail
        trailing_stop: Some(ExitLevel::Dollars(100.0)), // 2 points
        slippage_ticks: 0,
        commission_per_side: Some(0.0),
        ..cfg()
    };
    let t = &run(&bars, &sig, &cfg).trades[0];
    assert_eq!(
        (t.exit_price, t.exit_reason, t.net_pnl),
        (101.0, ExitReason::TrailingStop, 50.0)
    );
    assert_eq!((t.mae, t.mfe), (25.0, 150.0));
}

#[test]
fn stop_entries_fill_at_the_level_or_at_a_gap_open() {
    let bars = daily(&[
        [100.0, 100.0, 100.0, 100.0], // buy stop at 101
        [100.0, 101.5, 99.0, 101.0],  // touched: filled at 101
        [101.0, 101.0, 101.0, 101.0], // exit signal
        [101.0, 101.0, 101.0, 101.0], // exit at 101; buy stop at 102
        [103.0, 104.0, 102.5, 103.0], // gap above 102: filled at the open, 103
        [103.0, 103.0, 103.0, 103.0],
    ]);
    let mut sig = Signals::none(6);
    sig.long_entry[0] = true;
    sig.long_exit[2] = true;
    sig.long_entry[3] = true;
    let mut level = vec![f64::NAN; 6];
    level[0] = 101.0;
    level[3] = 102.0;
    sig.entry_level = Some(level);
    let r = run(
        &bars,
        &sig,
        &BacktestConfig {
            fill: FillMode::Stop,
            ..cfg()
        },
    );
    let t: Vec<_> = r
        .trades
        .iter()
        .map(|t| (t.entry_price, t.entry_time, t.exit_reason))
        .collect();
    assert_eq!(
        t,
        [
            (101.0, Stamp(T0 + DAY), ExitReason::Signal),
            (103.0, Stamp(T0 + 4 * DAY), ExitReason::EndOfData)
        ]
    );
    // Trade 1 entered inside bar 1, so only bar 2 was seen whole: no excursion at all.
    assert_eq!(
        (r.trades[0].mae, r.trades[0].mfe, r.trades[0].bars_held),
        (0.0, 0.0, 2)
    );
}

#[test]
fn reverse_on_opposite_and_risk_sizing() {
    let bars = daily(&[
        [100.0, 100.0, 100.0, 100.0], // long signal
        [100.0, 101.0, 99.0, 101.0],  // long 3 at 100
        [101.0, 101.0, 101.0, 101.0], // short signal
        [102.0, 102.0, 102.0, 102.0], // reverse at 102
        [102.0, 102.0, 102.0, 102.0],
    ]);
    let mut sig = Signals::none(5);
    sig.long_entry[0] = true;
    sig.short_entry[2] = true;
    // $250 per contract at risk (5 points): $1,000 buys 4, capped at 3.
    let cfg = BacktestConfig {
        sizing: Sizing::Risk {
            dollars: 1000.0,
            max_contracts: 3,
        },
        stop_loss: Some(ExitLevel::Dollars(250.0)),
        ..cfg()
    };
    let r = run(&bars, &sig, &cfg);
    let t: Vec<_> = r
        .trades
        .iter()
        .map(|t| (t.side, t.contracts, t.exit_reason, t.gross_pnl))
        .collect();
    assert_eq!(
        t,
        [
            (Side::Long, 3, ExitReason::Reverse, 300.0),
            (Side::Short, 3, ExitReason::EndOfData, 0.0)
        ]
    );
    // $200 at risk buys no contract: both entries skipped and reported.
    let cfg = BacktestConfig {
        sizing: Sizing::Risk {
            dollars: 200.0,
            max_contracts: 3,
        },
        ..cfg
    };
    let r = run(&bars, &sig, &cfg);
    assert_eq!((r.trades.len(), r.skipped_entries), (0, 2));
    assert_eq!(r.metrics.win_rate, None);
    assert_eq!(r.metrics.sharpe_ratio, None);
}

#[test]
fn flattens_at_the_session_close_on_minute_bars() {
    let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Minutes(1), "hand"));
    let c = b.contract_index("ESH24");
    // 2024-01-16 21:57..21:59 UTC = 15:57..15:59 CT; 23:00 UTC = 17:00 CT, the next session.
    let t = 1_705_442_220; // 2024-01-16T21:57:00Z
    for (k, ts) in [t, t + 60, t + 120, t + 3780].into_iter().enumerate() {
        let p = 4800.0 + k as f64;
        b.push(ts, p, p, p, p, 1.0, c);
    }
    let mut sig = Signals::none(4);
    sig.long_entry[0] = true;
    let cfg = BacktestConfig {
        flatten_at_session_close: true,
        ..cfg()
    };
    let r = run(&b, &sig, &cfg);
    let t = &r.trades[0];
    // In at 21:58's open (4801), out at the close of the 21:59 bar, which ends at 16:00 CT.
    assert_eq!(
        (t.entry_price, t.exit_price, t.exit_reason),
        (4801.0, 4802.0, ExitReason::SessionClose)
    );
    assert_eq!(t.exit_time, Stamp(t.entry_time.0 + 60));
    assert_eq!(r.daily_equity.len(), 2); // 2024-01-16 and 2024-01-17
}

#[test]
fn flattens_on_the_last_bar_before_a_later_session_when_data_stops_early() {
    // 15:27..15:31 CT, then nothing until the next session's 17:00 CT bar: the 15:31 bar
    // ends half an hour before the close, but it is the session's last.
    let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Minutes(1), "hand"));
    let c = b.contract_index("ESH24");
    let t = 1_705_440_420; // 2024-01-16T21:27:00Z
    let stamps = [t, t + 60, t + 120, t + 180, t + 240, t + 5580, t + 5640];
    for (k, ts) in stamps.into_iter().enumerate() {
        let p = 4800.0 + k as f64;
        b.push(ts, p, p, p, p, 1.0, c);
    }
    let mut sig = Signals::none(stamps.len());
    sig.long_entry[0] = true;
    let cfg = BacktestConfig {
        flatten_at_session_close: true,
        ..cfg()
    };
    let r = run(&b, &sig, &cfg);
    assert_eq!(r.trades.len(), 1);
    let t = &r.trades[0];
    // In at 15:28's open (4801), out at the close of the 15:31 bar (4804).
    assert_eq!(
        (t.entry_price, t.exit_price, t.exit_reason),
        (4801.0, 4804.0, ExitReason::SessionClose)
    );
    assert_eq!((t.exit_time, t.bars_held), (Stamp(stamps[4]), 4));
}

/// `resolve` gives the bars the backtest trades, whatever the window.
#[test]
fn resolve_is_the_window_the_backtest_trades() {
    let bars = daily(&[[100.0, 101.0, 99.0, 100.0]; 5]);
    let sig = Signals::none(5);
    for window in [
        "all",
        "since 2023-01-04",
        "2023-01-03..2023-01-05",
        "last 2 days",
    ] {
        let cfg = BacktestConfig {
            window: window.parse().unwrap(),
            ..cfg()
        };
        let r = run(&bars, &sig, &cfg);
        let range = resolve(&bars, spec("ES").unwrap(), &sig, &cfg).unwrap();
        assert_eq!(
            (
                Stamp(bars.ts[range.start]),
                Stamp(bars.ts[range.end - 1]),
                range.len()
            ),
            (r.first_bar, r.last_bar, r.bars),
            "{window}"
        );
        assert!(
            r.bars < 5 || window == "all",
            "{window} selects part of the series"
        );
    }
}

#[test]
fn bad_input_is_an_error_naming_the_field() {
    let bars = daily(&[[100.0, 100.0, 100.0, 100.0], [100.0, 100.0, 100.0, 100.0]]);
    let sig = Signals::none(2);
    let es = spec("ES").unwrap();
    let err = |cfg: BacktestConfig, sig: &Signals| {
        let e = backtest(&bars, es, sig, &cfg).unwrap_err().to_string();
        // `resolve` makes the backtest's checks, in the same words.
        assert_eq!(resolve(&bars, es, sig, &cfg).unwrap_err().to_string(), e);
        e
    };
    assert!(err(
        BacktestConfig {
            sizing: Sizing::Fixed(0),
            ..cfg()
        },
        &sig
    )
    .contains("sizing.fixed"));
    assert!(err(
        BacktestConfig {
            stop_loss: Some(ExitLevel::Ticks(0.0)),
            ..cfg()
        },
        &sig
    )
    .contains("stopLoss"));
    assert!(err(
        BacktestConfig {
            stop_loss: Some(ExitLevel::Points(0.1)),
            ..cfg()
        },
        &sig
    )
    .contains("zero ticks"));
    assert!(err(
        BacktestConfig {
            starting_capital: 0.0,
            ..cfg()
        },
        &sig
    )
    .contains("startingCapital"));
    let short = Signals {
        long_exit: vec![false],
        ..Signals::none(2)
    };
    assert!(err(cfg(), &short).contains("signals.long_exit` has 1 values"));
    let w = BacktestConfig {
        window: "2020-01-01..2020-12-31".parse().unwrap(),
        ..cfg()
    };
    assert!(err(w, &sig).contains("selects no bars"));
    assert!(err(
        BacktestConfig {
            fill: FillMode::Limit,
            ..cfg()
        },
        &sig
    )
    .contains("signals.entry_level"));
}

/// Zero, negative, NaN and infinite numbers in every numeric field: each is an error that
/// names the field, never a panic or a silent run.
#[test]
fn bad_numbers_are_errors_naming_the_field() {
    let bars = daily(&[[100.0, 101.0, 99.0, 100.0], [100.0, 101.0, 99.0, 100.0]]);
    let mut sig = Signals::none(2);
    sig.long_entry[0] = true;
    let es = spec("ES").unwrap();
    let check = |cfg: BacktestConfig, field: &str| {
        let e = backtest(&bars, es, &sig, &cfg).unwrap_err().to_string();
        assert!(e.starts_with(&format!("`{field}`")), "{field}: {e}");
        assert_eq!(
            backtest_metrics(&bars, es, &sig, &cfg)
                .unwrap_err()
                .to_string(),
            e
        );
    };
    for c in [-3, 0] {
        check(
            BacktestConfig {
                sizing: Sizing::Fixed(c),
                ..cfg()
            },
            "sizing.fixed",
        );
    }
    for x in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        check(
            BacktestConfig {
                starting_capital: x,
                ..cfg()
            },
            "startingCapital",
        );
    }
    for x in [f64::NAN, f64::NEG_INFINITY] {
        check(
            BacktestConfig {
                risk_free_rate: x,
                ..cfg()
            },
            "riskFreeRate",
        );
    }
    for x in [-0.5, f64::NAN, f64::INFINITY] {
        check(
            BacktestConfig {
                commission_per_side: Some(x),
                ..cfg()
            },
            "commissionPerSide",
        );
    }
    for level in [
        ExitLevel::Ticks(0.0),
        ExitLevel::Ticks(0.4), // rounds to zero ticks
        ExitLevel::Ticks(f64::NAN),
        ExitLevel::Points(f64::INFINITY),
        ExitLevel::Dollars(-5.0),
        ExitLevel::Atr(0.0),
    ] {
        check(
            BacktestConfig {
                stop_loss: Some(level),
                ..cfg()
            },
            "stopLoss",
        );
    }
    // 1e300 ticks would overflow `entry + distance`.
    check(
        BacktestConfig {
            take_profit: Some(ExitLevel::Ticks(1e300)),
            ..cfg()
        },
        "takeProfit",
    );
    check(
        BacktestConfig {
            trailing_stop: Some(ExitLevel::Points(0.0)),
            ..cfg()
        },
        "trailingStop",
    );
    for (dollars, max, field) in [
        (f64::NAN, 5, "sizing.risk.dollars"),
        (-100.0, 5, "sizing.risk.dollars"),
        (500.0, 0, "sizing.risk.maxContracts"),
        (500.0, -2, "sizing.risk.maxContracts"),
    ] {
        check(
            BacktestConfig {
                sizing: Sizing::Risk {
                    dollars,
                    max_contracts: max,
                },
                stop_loss: Some(ExitLevel::Ticks(8.0)),
                ..cfg()
            },
            field,
        );
    }
    check(
        BacktestConfig {
            max_bars_held: Some(0),
            ..cfg()
        },
        "maxBarsHeld",
    );
    // A series with no bars at all: the window is empty.
    let none = Bars::empty(SeriesMeta::new("ES", None, BarSize::Daily, "hand"));
    let e = backtest(&none, es, &Signals::none(0), &cfg()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "window `all` selects no bars: the data runs from (no bars) to (no bars)"
    );
}

#[test]
fn config_json_round_trips_with_defaults() {
    let c: BacktestConfig = serde_json::from_str(
        r#"{"sizing":{"risk":{"dollars":500,"maxContracts":4}},"stopLoss":{"atr":2.0},"window":"since 2020","fill":"signalClose"}"#,
    )
    .unwrap();
    assert_eq!(
        c.sizing,
        Sizing::Risk {
            dollars: 500.0,
            max_contracts: 4
        }
    );
    assert_eq!(
        (c.slippage_ticks, c.starting_capital, c.pay_roll),
        (1, 100_000.0, true)
    );
    let back: BacktestConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    let d: BacktestConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(d.window.to_string(), "last 1 year");
    assert!(serde_json::from_str::<BacktestConfig>(r#"{"stopLos":{"ticks":4}}"#).is_err());
}

#[test]
fn atr_stops_use_the_signal_bar_atr_and_skip_without_one() {
    let bars = daily(&[
        [100.0, 100.0, 100.0, 100.0], // long signal, ATR 0.5: stop 2 x 0.5 = 1 point below
        [100.0, 100.5, 98.5, 99.0],   // long at 100, stop 99 hit
        [99.0, 99.0, 99.0, 99.0],     // long signal, no ATR: skipped
        [99.0, 99.0, 99.0, 99.0],
    ]);
    let mut sig = Signals::none(4);
    sig.long_entry[0] = true;
    sig.long_entry[2] = true;
    sig.atr = Some(vec![0.5, 0.5, f64::NAN, 0.5]);
    let cfg = BacktestConfig {
        stop_loss: Some(ExitLevel::Atr(2.0)),
        ..cfg()
    };
    let r = run(&bars, &sig, &cfg);
    let t = &r.trades[0];
    assert_eq!((r.trades.len(), r.skipped_entries), (1, 1));
    assert_eq!(
        (t.exit_price, t.exit_reason, t.net_pnl),
        (99.0, ExitReason::Stop, -80.0)
    );
}

#[test]
fn limit_entries_fill_inside_the_next_bar() {
    let bars = daily(&[
        [100.0, 100.0, 100.0, 100.0], // sell limit at 102
        [101.0, 102.5, 100.5, 101.0], // high reaches 102: short at 102
        [101.0, 101.0, 101.0, 101.0],
        [101.0, 101.0, 101.0, 101.0], // end of data at 101
    ]);
    let mut sig = Signals::none(4);
    sig.short_entry[0] = true;
    sig.entry_level = Some(vec![102.0, f64::NAN, f64::NAN, f64::NAN]);
    let r = run(
        &bars,
        &sig,
        &BacktestConfig {
            fill: FillMode::Limit,
            ..cfg()
        },
    );
    let t = &r.trades[0];
    assert_eq!((t.entry_price, t.entry_time), (102.0, Stamp(T0 + DAY)));
    assert_eq!(
        (t.exit_reason, t.bars_held, t.net_pnl),
        (ExitReason::EndOfData, 3, 20.0)
    );
    assert_eq!((t.mae, t.mfe), (0.0, 50.0));
}

#[test]
fn signal_exits_wait_for_min_bars_but_other_exits_do_not() {
    let bars = daily(&[
        [100.0, 100.0, 100.0, 100.0], // long signal
        [100.0, 101.0, 99.5, 100.5],  // long at 100; exit signal, held 1 bar: ignored
        [101.0, 102.0, 100.5, 101.5], // exit signal, held 2: ignored
        [102.0, 103.0, 101.5, 102.5], // exit signal, held 3: taken
        [103.0, 103.5, 102.5, 103.0], // out at the open, 103
        [103.0, 103.0, 103.0, 103.0],
    ]);
    let mut sig = Signals::none(6);
    sig.long_entry[0] = true;
    sig.long_exit[1..4].fill(true);
    let wait3 = BacktestConfig {
        min_bars_before_signal_exit: Some(3),
        ..cfg()
    };
    let first = |cfg: &BacktestConfig, sig: &Signals| {
        let t = run(&bars, sig, cfg).trades[0].clone();
        (t.exit_price, t.exit_reason, t.bars_held, t.net_pnl)
    };
    // 3 points x $50 - $5 commission - $25 slippage.
    assert_eq!(first(&wait3, &sig), (103.0, ExitReason::Signal, 3, 120.0));
    // Without the wait the first exit signal (bar 1) is taken at bar 2's open, 101.
    assert_eq!(first(&cfg(), &sig), (101.0, ExitReason::Signal, 1, 20.0));
    // 0 means no wait.
    let wait0 = BacktestConfig {
        min_bars_before_signal_exit: Some(0),
        ..cfg()
    };
    assert_eq!(first(&wait0, &sig), (101.0, ExitReason::Signal, 1, 20.0));
    // A stop does not wait: 0.5 points below 100 is touched by bar 1's low.
    let stop = BacktestConfig {
        stop_loss: Some(ExitLevel::Points(0.5)),
        ..wait3.clone()
    };
    assert_eq!(first(&stop, &sig), (99.5, ExitReason::Stop, 1, -55.0));
    // Neither does a time exit: held 2 bars at bar 2's close, out at bar 3's open.
    let time = BacktestConfig {
        max_bars_held: Some(2),
        ..wait3.clone()
    };
    assert_eq!(first(&time, &sig), (102.0, ExitReason::Time, 2, 70.0));
    // Nor a reverse: a short signal at bar 1 reverses at bar 2's open.
    let mut rev = Signals::none(6);
    rev.long_entry[0] = true;
    rev.short_entry[1] = true;
    assert_eq!(first(&wait3, &rev), (101.0, ExitReason::Reverse, 1, 20.0));
    let c: BacktestConfig = serde_json::from_str(r#"{"minBarsBeforeSignalExit":3}"#).unwrap();
    assert_eq!(c.min_bars_before_signal_exit, Some(3));
}
