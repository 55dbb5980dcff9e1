//! Peer test: the same real bars and signals through backtesting.py 0.6.6
//! (`tests/peers/backtesting_py_peer.py`). Entry and exit times must match exactly and every
//! trade's net P&L within $0.01. Needs the peer venv: `bash scripts/python-env.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;

use settle_data::import::{nautilus, pysystemtrade};
use settle_data::{spec, Bars};
use settle_engine::*;

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv python, created by the repo's script. Fails (never skips) when it is missing.
fn python() -> String {
    let out = Command::new("bash")
        .arg(repo().join("scripts/python-env.sh"))
        .output()
        .expect("cannot run bash scripts/python-env.sh");
    assert!(
        out.status.success(),
        "the peer venv is missing: run `bash scripts/python-env.sh` ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Simple moving average of closes; NaN until `n` bars exist.
fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut sum = 0.0;
    for i in 0..x.len() {
        sum += x[i];
        if i >= n {
            sum -= x[i - n];
        }
        if i + 1 >= n {
            out[i] = sum / n as f64;
        }
    }
    out
}

/// Long when the fast SMA crosses above the slow one, short when it crosses below.
fn sma_cross(bars: &Bars, fast: usize, slow: usize) -> Signals {
    let (f, s) = (sma(&bars.close, fast), sma(&bars.close, slow));
    let mut sig = Signals::none(bars.len());
    for t in 1..bars.len() {
        let (now, before) = (f[t] - s[t], f[t - 1] - s[t - 1]);
        sig.long_entry[t] = now > 0.0 && before <= 0.0;
        sig.short_entry[t] = now < 0.0 && before >= 0.0;
    }
    sig
}

/// Snaps every price to the tick grid, so both engines see exactly the same prices.
fn on_ticks(mut b: Bars, tick: f64) -> Bars {
    for col in [&mut b.open, &mut b.high, &mut b.low, &mut b.close] {
        for p in col.iter_mut() {
            *p = (*p / tick).round() * tick;
        }
    }
    b
}

#[derive(serde::Deserialize, Debug)]
struct PeerTrade {
    entry_ts: i64,
    exit_ts: Option<i64>,
    size: i64,
    net_pnl: Option<f64>,
    open: bool,
}

/// Runs both engines on `bars` and compares trade by trade; returns settle's result.
fn compare(bars: &Bars, sig: &Signals, cfg: &BacktestConfig) -> BacktestResult {
    let spec = spec(&bars.meta.symbol).unwrap();
    let r = backtest(bars, spec, sig, cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bars.csv");
    let mut w =
        String::from("ts,open,high,low,close,long_entry,long_exit,short_entry,short_exit\n");
    let first = bars.ts.partition_point(|&t| t < r.first_bar.0);
    let b = |x: bool| u8::from(x);
    for i in first..first + r.bars {
        w += &format!(
            "{},{},{},{},{},{},{},{},{}\n",
            bars.ts[i],
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            b(sig.long_entry[i]),
            b(sig.long_exit[i]),
            b(sig.short_entry[i]),
            b(sig.short_exit[i])
        );
    }
    std::fs::write(&csv, w).unwrap();
    let dist = |l: Option<ExitLevel>| match l {
        Some(ExitLevel::Points(p)) => Some(p),
        None => None,
        other => panic!("the peer takes point distances, not {other:?}"),
    };
    let params = serde_json::json!({
        "multiplier": spec.multiplier,
        "tick_value": spec.tick_value,
        "commission_per_side": cfg.commission(spec),
        "slippage_ticks": cfg.slippage_ticks,
        "reverse": cfg.reverse_on_opposite,
        "trade_on_close": cfg.fill == FillMode::SignalClose,
        "sl_points": dist(cfg.stop_loss),
        "tp_points": dist(cfg.take_profit),
    });
    let pj = dir.path().join("params.json");
    std::fs::write(&pj, params.to_string()).unwrap();
    let out = Command::new(python())
        .arg(repo().join("tests/peers/backtesting_py_peer.py"))
        .arg(&csv)
        .arg(&pj)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: Vec<PeerTrade> = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "{} {}: {} trades, net {:.2}",
        bars.meta.symbol,
        r.window,
        r.trades.len(),
        r.metrics.total_pnl
    );

    assert!(
        r.trades.len() > 10,
        "too few trades to be a test: {}",
        r.trades.len()
    );
    assert_eq!(peer.len(), r.trades.len(), "trade counts differ");
    for (p, t) in peer.iter().zip(&r.trades) {
        let ctx = format!("settle {t:?}\npeer {p:?}");
        assert_eq!(p.entry_ts, t.entry_time.0, "entry time\n{ctx}");
        assert_eq!(p.size.abs(), t.contracts, "{ctx}");
        assert_eq!(p.size > 0, t.side == Side::Long, "{ctx}");
        if p.open {
            // backtesting.py leaves it open; settle closes it at the last close with costs.
            assert_eq!(t.exit_reason, ExitReason::EndOfData, "{ctx}");
            assert_eq!(t.exit_time, r.last_bar, "{ctx}");
            continue;
        }
        assert_eq!(p.exit_ts, Some(t.exit_time.0), "exit time\n{ctx}");
        let pnl = p.net_pnl.unwrap();
        assert!((pnl - t.net_pnl).abs() <= 0.01, "net P&L\n{ctx}");
    }
    r
}

#[test]
fn es_daily_sma_cross_with_reversal_matches_backtesting_py() {
    let path = common::data("raw/pysystemtrade/adjusted_prices_csv/SP500.csv");
    let bars = on_ticks(pysystemtrade::adjusted_prices(&path, "ES").unwrap(), 0.25);
    let sig = sma_cross(&bars, 20, 50);
    let cfg = BacktestConfig {
        window: Window::All,
        ..Default::default()
    };
    let r = compare(&bars, &sig, &cfg);
    assert!(r.close_only);
    assert!(r
        .trades
        .iter()
        .all(|t| t.exit_reason == ExitReason::Reverse || t.exit_reason == ExitReason::EndOfData));
}

#[test]
fn cl_daily_ohlc_stops_and_targets_match_backtesting_py() {
    let bars = on_ticks(common::cl_daily(), 0.01);
    let sig = sma_cross(&bars, 10, 30);
    let cfg = BacktestConfig {
        window: "since 2015".parse().unwrap(),
        fill: FillMode::SignalClose,
        reverse_on_opposite: false,
        // backtesting.py has no roll: compare the unrolled series.
        pay_roll: false,
        stop_loss: Some(ExitLevel::Points(3.0)),
        take_profit: Some(ExitLevel::Points(6.0)),
        ..Default::default()
    };
    let r = compare(&bars, &sig, &cfg);
    let n = |why| r.trades.iter().filter(|t| t.exit_reason == why).count();
    assert!(
        n(ExitReason::Stop) > 5 && n(ExitReason::Target) > 5,
        "{:?}",
        r.metrics
    );
}

#[test]
fn six_e_one_minute_sma_cross_matches_backtesting_py() {
    let path = common::data("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz");
    let bars = nautilus::bars(&path, "6E", "6EH4").unwrap();
    let sig = sma_cross(&bars, 30, 120);
    let cfg = BacktestConfig {
        window: Window::All,
        ..Default::default()
    };
    let r = compare(&bars, &sig, &cfg);
    assert_eq!(r.bars, 29_996);
}
