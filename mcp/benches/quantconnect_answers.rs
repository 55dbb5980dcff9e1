//! How long a large QuantConnect answer takes to become a tool result under the 20 KB budget:
//! measure, cut, hash, save the whole answer, serialize. Every iteration saves into a fresh
//! directory (made before the clock starts, removed after it stops), so the write of the whole
//! answer is measured each time rather than skipped as already saved.
//!
//! Target: an optimization of 1,500 backtests under a second. Before criterion's runs the bench
//! times [`TARGET_RUNS`] answers of each case itself, prints the median next to the target and
//! fails when the 1,500-backtest median is over it.
//!
//! The answers are built in the shape QuantConnect's models give them (`tools.json`): an
//! optimization's `backtests` map of id → backtest with its 21 positional `statistics` and an
//! equity series; a ten-year backtest with a 480-entry `rollingWindow` map, 300 closed trades
//! and a daily equity chart.
//!
//! Run: `cargo bench -p settle-mcp --bench quantconnect_answers`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Map, Value};
use settle_mcp::quantconnect::answer::{Answers, DEFAULT_BUDGET};
use settle_mcp::quantconnect::catalog::{find, CloudTool};

/// The longest a 1,500-backtest optimization answer may take.
const TARGET: Duration = Duration::from_secs(1);
/// Answers timed for the median checked against [`TARGET`].
const TARGET_RUNS: usize = 9;

/// `read_optimization` with `backtests` backtests of `points` equity points each.
fn optimization(backtests: usize, points: usize) -> Value {
    let runs: Map<String, Value> = (0..backtests)
        .map(|i| {
            let id = format!("{i:032x}");
            let statistics: Vec<f64> = (0..21).map(|s| s as f64 * 0.37 + i as f64 * 1e-3).collect();
            let equity: Vec<Value> = (0..points)
                .map(|p| json!([1_600_000_000 + p * 86_400, 100_000.0 + p as f64 * 12.5]))
                .collect();
            let run = json!({"name": format!("fast={} slow={}", i % 50, i / 50), "id": id,
                             "progress": 1.0, "exitCode": 0, "statistics": statistics,
                             "parameterSet": {"fast": (i % 50).to_string(), "slow": (i / 50).to_string()},
                             "equity": equity});
            (id, run)
        })
        .collect();
    json!({"success": true, "errors": [], "optimization": {
        "optimizationId": "O-1", "projectId": 1, "status": "completed", "name": "grid",
        "runtimeStatistics": {"Completed": backtests.to_string(), "Failed": "0"},
        "backtests": runs}})
}

/// `read_backtest` of ten years: rolling windows, closed trades and a daily equity chart.
fn ten_year_backtest() -> Value {
    let stats = |i: usize| -> Map<String, Value> {
        (0..30)
            .map(|k| (format!("statistic{k:02}"), json!(k as f64 * 0.5 + i as f64)))
            .collect()
    };
    let window: Map<String, Value> = (0..480)
        .map(|i| {
            (format!("M{}_{}", 1 + i % 12, 2015 + i / 48),
             json!({"tradeStatistics": stats(i), "portfolioStatistics": stats(i + 1), "closedTrades": []}))
        })
        .collect();
    let trades: Vec<Value> = (0..300)
        .map(|i| {
            json!({"symbol": {"value": "ES", "id": "ES XZ"}, "entryTime": "2016-01-04T14:31:00Z",
                        "entryPrice": 2000.25 + i as f64, "direction": 0, "quantity": 1,
                        "exitTime": "2016-01-05T14:31:00Z", "exitPrice": 2001.5 + i as f64,
                        "profitLoss": 62.5, "totalFees": 5.0, "mae": -25.0, "mfe": 75.0})
        })
        .collect();
    let values: Vec<Value> = (0..2520)
        .map(|d| {
            json!([
                1_420_000_000 + d * 86_400,
                100_000.0 + d as f64,
                100_010.0,
                99_990.0,
                100_005.0
            ])
        })
        .collect();
    json!({"success": true, "errors": [], "backtest": {
        "backtestId": "b", "name": "ten years", "completed": true, "progress": 1.0,
        "statistics": stats(0), "rollingWindow": window,
        "totalPerformance": {"closedTrades": trades, "tradeStatistics": stats(2)},
        "charts": {"Strategy Equity": {"name": "Strategy Equity",
                                       "series": {"Equity": {"name": "Equity", "values": values}}}}}})
}

/// One answer shaped and saved into a fresh directory, which is returned so that removing it
/// happens outside any timing.
fn shape(tool: &CloudTool, answer: Value, home: tempfile::TempDir) -> (usize, tempfile::TempDir) {
    let answers = Answers {
        budget: DEFAULT_BUDGET,
        dir: Some(home.path().to_path_buf()),
    };
    let shaped = answers.success(tool, answer, Vec::new());
    let size = shaped.content[0].as_text().map_or(0, |t| t.text.len());
    (size, home)
}

fn fresh_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// The median of [`TARGET_RUNS`] timed answers.
fn median_time(tool: &CloudTool, answer: &Value) -> Duration {
    let mut times: Vec<Duration> = (0..TARGET_RUNS)
        .map(|_| {
            let (input, home) = (answer.clone(), fresh_dir());
            let started = Instant::now();
            let kept = shape(tool, input, home);
            let took = started.elapsed();
            drop(kept);
            took
        })
        .collect();
    times.sort_unstable();
    times[TARGET_RUNS / 2]
}

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "read_optimization_1500_backtests",
            "read_optimization",
            optimization(1500, 20),
        ),
        (
            "read_optimization_200_backtests_250_points",
            "read_optimization",
            optimization(200, 250),
        ),
        (
            "read_backtest_ten_years",
            "read_backtest",
            ten_year_backtest(),
        ),
    ];
    let mut group = c.benchmark_group("quantconnect_answer");
    group.sample_size(20);
    for (label, tool, answer) in cases {
        let tool = find(tool).expect("a QuantConnect tool");
        let (size, _) = shape(tool, answer.clone(), fresh_dir());
        assert!(size <= DEFAULT_BUDGET, "{label}: {size} bytes");
        let median = median_time(tool, &answer);
        eprintln!(
            "{label}: {} bytes in, {size} bytes out; median of {TARGET_RUNS}: {:.1} ms \
             (target for 1,500 backtests: under {} ms)",
            answer.to_string().len(),
            median.as_secs_f64() * 1e3,
            TARGET.as_millis()
        );
        if label == "read_optimization_1500_backtests" {
            assert!(
                median < TARGET,
                "{label}: {median:?}, over the target of {TARGET:?}"
            );
        }
        group.bench_function(label, |b| {
            b.iter_batched(
                || (answer.clone(), fresh_dir()),
                |(a, home)| shape(tool, a, home),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
