//! How long a large QuantConnect answer takes to become a tool result under the 20 KB budget
//! (measure, cut, hash and save the whole, serialize). Target: under a second for an
//! optimization of 1,500 backtests; the cutting is linear in the answer's size.
//!
//! The answers are built in the shape QuantConnect's models give them (`tools.json`): an
//! optimization's `backtests` map of id → backtest with its 21 positional `statistics` and an
//! equity series; a ten-year backtest with a 480-entry `rollingWindow` map, 300 closed trades
//! and a daily equity chart.
//!
//! Run: `cargo bench -p settle-mcp --bench quantconnect_answers`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Map, Value};
use settle_mcp::quantconnect::answer::{Answers, DEFAULT_BUDGET};
use settle_mcp::quantconnect::catalog::find;

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

fn bench(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("a temporary directory");
    let answers = Answers {
        budget: DEFAULT_BUDGET,
        dir: Some(home.path().to_path_buf()),
    };
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
        let shaped = answers.success(tool, answer.clone(), Vec::new());
        let size = shaped
            .structured_content
            .as_ref()
            .map_or(0, |v| v.to_string().len());
        assert!(size <= DEFAULT_BUDGET, "{label}: {size} bytes");
        eprintln!(
            "{label}: {} bytes in, {size} bytes out",
            answer.to_string().len()
        );
        group.bench_function(label, |b| {
            b.iter_batched(
                || answer.clone(),
                |a| answers.success(tool, a, Vec::new()),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
