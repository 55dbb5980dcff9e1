//! Same inputs, same bytes: repeated runs and runs inside rayon pools of 1 and 2 threads give
//! byte-identical JSON.

use rayon::prelude::*;
use settle_data::{spec, BarSize, Bars, SeriesMeta};
use settle_engine::*;

/// A deterministic zig-zag minute series (two contracts, so rolls happen) and crossing signals.
fn fixture() -> (Bars, Signals) {
    let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Minutes(1), "fixture"));
    b.meta.adjustment = "difference".into();
    let (h, m) = (b.contract_index("ESH24"), b.contract_index("ESM24"));
    let t0 = 1_704_146_400; // 2024-01-01T22:00:00Z
    let n = 20_000;
    for i in 0..n {
        let x = i as f64;
        let c = 4800.0 + ((x / 37.0).sin() * 40.0 + (x / 5.0).cos() * 3.0).round() * 0.25;
        b.push(
            t0 + 60 * i as i64,
            c,
            c + 1.0,
            c - 1.25,
            c + 0.25,
            1.0,
            if i < n / 2 { h } else { m },
        );
    }
    let mut s = Signals::none(n);
    for i in 0..n {
        s.long_entry[i] = i % 97 == 0;
        s.short_entry[i] = i % 131 == 0;
        s.long_exit[i] = i % 53 == 0;
    }
    (b, s)
}

fn run(b: &Bars, s: &Signals, k: usize) -> String {
    let cfg = BacktestConfig {
        window: Window::All,
        stop_loss: Some(ExitLevel::Ticks(12.0 + k as f64)),
        take_profit: Some(ExitLevel::Points(5.0)),
        trailing_stop: Some(ExitLevel::Dollars(150.0)),
        flatten_at_session_close: true,
        risk_free_rate: 0.03,
        ..Default::default()
    };
    backtest(b, spec("ES").unwrap(), s, &cfg).unwrap().to_json()
}

#[test]
fn json_is_byte_identical_across_runs_and_thread_counts() {
    let (b, s) = fixture();
    let serial: Vec<String> = (0..8).map(|k| run(&b, &s, k)).collect();
    assert_eq!(serial[0], run(&b, &s, 0));
    assert!(!serial[0].contains("\"tradeCount\":0,") && !serial[0].contains("NaN"));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let par: Vec<String> =
            pool.install(|| (0..8).into_par_iter().map(|k| run(&b, &s, k)).collect());
        assert_eq!(par, serial, "{threads} threads");
    }
}
