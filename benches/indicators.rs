//! Indicator throughput over 1,000,000 bars, one criterion group per indicator family.
//!
//! The bars are a deterministic random walk (xorshift64, fixed seed) around 100 with a positive
//! high-low range and integer volumes, so every run measures the same input.
//!
//! `cargo bench --bench indicators -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use settle_strategies::indicators as ind;
use settle_strategies::indicators::{MaType, StochParams};
use std::hint::black_box;

/// The settle binary's allocator (see `src/main.rs`), so an indicator's output vectors are
/// allocated the way they are when `settle backtest` computes them: freed memory is reused. With
/// the system allocator every call of a multi-output indicator would fault its 8 MB outputs in
/// afresh, timing the kernel's page clearing more than the indicator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BARS: usize = 1_000_000;

struct Bars {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    sessions: Vec<bool>,
}

fn random_walk() -> Bars {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut unit = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 100.0;
    let mut bars = Bars {
        high: Vec::with_capacity(BARS),
        low: Vec::with_capacity(BARS),
        close: Vec::with_capacity(BARS),
        volume: Vec::with_capacity(BARS),
        sessions: Vec::with_capacity(BARS),
    };
    for i in 0..BARS {
        let open = price;
        price += (unit() - 0.5) * 0.2;
        bars.high.push(open.max(price) + unit() * 0.05);
        bars.low.push(open.min(price) - unit() * 0.05);
        bars.close.push(price);
        bars.volume.push((unit() * 1000.0).floor() + 1.0);
        // A new session every 1,380 one-minute bars (23 hours).
        bars.sessions.push(i % 1380 == 0);
    }
    bars
}

fn families(c: &mut Criterion) {
    let b = random_walk();
    let (h, l, x, v) = (&b.high[..], &b.low[..], &b.close[..], &b.volume[..]);

    let mut g = c.benchmark_group("ma");
    g.sample_size(10);
    for (name, kind) in [
        ("sma", MaType::Sma),
        ("ema", MaType::Ema),
        ("wma", MaType::Wma),
        ("dema", MaType::Dema),
        ("tema", MaType::Tema),
        ("kama", MaType::Kama),
    ] {
        g.bench_function(BenchmarkId::new(name, 20), |bench| {
            bench.iter(|| ind::ma(black_box(x), 20, kind))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("momentum");
    g.sample_size(10);
    g.bench_function("rsi_14", |bench| bench.iter(|| ind::rsi(black_box(x), 14)));
    g.bench_function("macd_12_26_9", |bench| {
        bench.iter(|| ind::macd(black_box(x), 12, 26, 9))
    });
    g.bench_function("stoch_5_3_3", |bench| {
        bench.iter(|| ind::stoch(black_box(h), l, x, StochParams::default()))
    });
    g.bench_function("stochrsi_14_5_3", |bench| {
        bench.iter(|| ind::stochrsi(black_box(x), 14, 5, 3, MaType::Sma))
    });
    g.bench_function("cci_20", |bench| {
        bench.iter(|| ind::cci(black_box(h), l, x, 20))
    });
    g.bench_function("roc_10", |bench| bench.iter(|| ind::roc(black_box(x), 10)));
    g.bench_function("mom_10", |bench| bench.iter(|| ind::mom(black_box(x), 10)));
    g.bench_function("willr_14", |bench| {
        bench.iter(|| ind::willr(black_box(h), l, x, 14))
    });
    g.finish();

    let mut g = c.benchmark_group("volatility");
    g.sample_size(10);
    g.bench_function("trange", |bench| {
        bench.iter(|| ind::trange(black_box(h), l, x))
    });
    g.bench_function("atr_14", |bench| {
        bench.iter(|| ind::atr(black_box(h), l, x, 14))
    });
    g.bench_function("natr_14", |bench| {
        bench.iter(|| ind::natr(black_box(h), l, x, 14))
    });
    g.bench_function("bbands_20_2", |bench| {
        bench.iter(|| ind::bbands(black_box(x), 20, 2.0, 2.0, MaType::Sma))
    });
    g.bench_function("keltner_20_10_2", |bench| {
        bench.iter(|| ind::keltner(black_box(h), l, x, 20, 10, 2.0))
    });
    g.finish();

    let mut g = c.benchmark_group("trend");
    g.sample_size(10);
    g.bench_function("adx_14", |bench| {
        bench.iter(|| ind::adx(black_box(h), l, x, 14))
    });
    g.bench_function("plus_di_14", |bench| {
        bench.iter(|| ind::plus_di(black_box(h), l, x, 14))
    });
    g.bench_function("minus_di_14", |bench| {
        bench.iter(|| ind::minus_di(black_box(h), l, x, 14))
    });
    g.finish();

    let mut g = c.benchmark_group("volume");
    g.sample_size(10);
    g.bench_function("obv", |bench| bench.iter(|| ind::obv(black_box(x), v)));
    g.bench_function("mfi_14", |bench| {
        bench.iter(|| ind::mfi(black_box(h), l, x, v, 14))
    });
    g.bench_function("vwap_session", |bench| {
        bench.iter(|| ind::vwap(black_box(h), l, x, v, &b.sessions))
    });
    g.finish();

    let mut g = c.benchmark_group("stats");
    g.sample_size(10);
    g.bench_function("max_20", |bench| bench.iter(|| ind::max(black_box(x), 20)));
    g.bench_function("min_20", |bench| bench.iter(|| ind::min(black_box(x), 20)));
    g.bench_function("stddev_20", |bench| {
        bench.iter(|| ind::stddev(black_box(x), 20, 1.0))
    });
    g.bench_function("linearreg_slope_14", |bench| {
        bench.iter(|| ind::linearreg_slope(black_box(x), 14))
    });
    g.finish();
}

criterion_group!(benches, families);
criterion_main!(benches);
