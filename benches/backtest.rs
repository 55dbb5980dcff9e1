//! One SMA-cross backtest over 1,000,000 one-minute ES bars (the synthetic walk of
//! `settle_data::synthetic`), on one thread: the full `backtest` (trades, per-bar and daily
//! equity, metrics); `backtest` with `equityCurve: daily` (everything but the per-bar curve,
//! what the MCP tools run); `backtest_metrics` (the metrics alone, as sweeps run it); and
//! `backtest_metrics` with a 40-tick stop and an 80-tick target, then also a 30-tick trailing
//! stop and flattening at each session's close.
//! Run: `cargo bench --bench backtest`.

use criterion::{criterion_group, criterion_main, Criterion};
use settle_data::{spec, synthetic, Bars};
use settle_engine::{
    backtest, backtest_metrics, BacktestConfig, EquityCurve, ExitLevel, Signals, Window,
};

const N: usize = 1_000_000;

/// Fast/slow SMA cross of closes, long and short.
fn signals(b: &Bars, fast: usize, slow: usize) -> Signals {
    let sma = |n: usize| {
        let mut out = vec![f64::NAN; b.len()];
        let mut sum = 0.0;
        for (i, c) in b.close.iter().enumerate() {
            sum += c;
            if i >= n {
                sum -= b.close[i - n];
            }
            if i + 1 >= n {
                out[i] = sum / n as f64;
            }
        }
        out
    };
    let (f, s) = (sma(fast), sma(slow));
    let mut sig = Signals::none(b.len());
    for t in 1..b.len() {
        sig.long_entry[t] = f[t] > s[t] && f[t - 1] <= s[t - 1];
        sig.short_entry[t] = f[t] < s[t] && f[t - 1] >= s[t - 1];
    }
    sig
}

fn bench(c: &mut Criterion) {
    let es = spec("ES").expect("ES in the catalog");
    let b = synthetic::random_walk(es, 4800.0, N);
    let sig = signals(&b, 20, 100);
    let cfg = BacktestConfig {
        window: Window::All,
        ..Default::default()
    };
    c.bench_function("backtest_sma_cross_1m_bars", |bench| {
        bench.iter(|| backtest(&b, es, &sig, &cfg).expect("valid backtest"))
    });
    let daily = BacktestConfig {
        equity_curve: EquityCurve::Daily,
        ..cfg.clone()
    };
    c.bench_function("backtest_daily_curve_sma_cross_1m_bars", |bench| {
        bench.iter(|| backtest(&b, es, &sig, &daily).expect("valid backtest"))
    });
    c.bench_function("backtest_metrics_sma_cross_1m_bars", |bench| {
        bench.iter(|| backtest_metrics(&b, es, &sig, &cfg).expect("valid backtest"))
    });
    let stops = BacktestConfig {
        stop_loss: Some(ExitLevel::Ticks(40.0)),
        take_profit: Some(ExitLevel::Ticks(80.0)),
        ..cfg.clone()
    };
    c.bench_function("backtest_metrics_stop_target_1m_bars", |bench| {
        bench.iter(|| backtest_metrics(&b, es, &sig, &stops).expect("valid backtest"))
    });
    let every_exit = BacktestConfig {
        trailing_stop: Some(ExitLevel::Ticks(30.0)),
        flatten_at_session_close: true,
        ..stops.clone()
    };
    c.bench_function("backtest_metrics_every_exit_1m_bars", |bench| {
        bench.iter(|| backtest_metrics(&b, es, &sig, &every_exit).expect("valid backtest"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
