//! `settle bench`: a quick speed check of this machine, in one command, on the same synthetic
//! series the criterion benches measure (`settle_data::synthetic`). It times the three costs a
//! trader waits for: indicators, one backtest, and a parameter sweep over every core.
//!
//! The criterion benches (`cargo bench`, figures in `docs/BENCHMARKS.md`) are the careful
//! measurement; this command is the one-minute answer to "how fast is settle here?", with no
//! Rust toolchain needed beyond the binary.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{anyhow, bail};
use serde::Serialize;
use settle_data::{spec, synthetic, Bars};
use settle_engine::sweep::{self, Grid, Param, SweepSpec};
use settle_engine::EquityCurve;
use settle_strategies::indicators as ind;
use settle_strategies::rules;
use settle_strategies::sweep::Evaluator;
use settle_strategies::templates;

use super::table;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// One-minute bars in the synthetic ES series.
    #[arg(long, default_value_t = 1_000_000)]
    bars: usize,
    /// Timed runs of each step; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Time only the steps whose name contains this text (e.g. `backtest`, `sweep`, `RSI`).
    #[arg(long)]
    only: Option<String>,
}

/// One timed step.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Figure {
    step: String,
    /// Median wall time of one run, milliseconds.
    median_ms: f64,
    /// Bars processed per run (bars × combinations for the sweep).
    bar_evaluations: u64,
    /// `bar_evaluations` / median seconds.
    per_second: f64,
}

/// The sweep grid: `sma_cross` fast 5..=50 step 5 × slow 60..=240 step 20, as in
/// `benches/sweep.rs`.
fn grid() -> anyhow::Result<Grid> {
    Grid::new(&[
        Param::range("fast", 5.0, 50.0, 5.0),
        Param::range("slow", 60.0, 240.0, 20.0),
    ])
    .map_err(|e| anyhow!(e))
}

/// Median wall time of `runs` calls of `f`, in milliseconds; `f`'s first error stops it.
fn median_ms(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms[ms.len() / 2])
}

fn figure(step: &str, median_ms: f64, bar_evaluations: u64) -> Figure {
    Figure {
        step: step.into(),
        median_ms,
        bar_evaluations,
        per_second: bar_evaluations as f64 / (median_ms / 1e3),
    }
}

pub fn run(a: &BenchArgs) -> anyhow::Result<()> {
    if a.bars < 1_000 || a.runs == 0 {
        bail!("--bars must be at least 1000 and --runs at least 1");
    }
    let es = spec("ES").map_err(|e| anyhow!(e))?;
    let bars: Bars = synthetic::random_walk(es, 4800.0, a.bars);
    let n = bars.len() as u64;
    let mut strategy = templates::get("sma_cross", "ES").ok_or_else(|| anyhow!("sma_cross"))?;
    strategy.bar_size = "1m".into();
    strategy.window = "all".into();
    let compiled = rules::compile(&strategy).map_err(super::backtest::explain)?;
    let grid = grid()?;
    let combos = grid.total_combinations() as u64;
    if !a.json {
        eprintln!(
            "settle bench: {} synthetic ES 1-minute bars, median of {} runs, {} cores",
            a.bars,
            a.runs,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }

    let wanted = |step: &str| a.only.as_deref().is_none_or(|o| step.contains(o));
    let mut figures = Vec::new();
    let close = &bars.close[..];
    for (name, f) in [
        (
            "indicator SMA(20)",
            (|x| ind::sma(x, 20).map(drop)) as fn(&[f64]) -> _,
        ),
        ("indicator EMA(20)", |x| ind::ema(x, 20).map(drop)),
        ("indicator RSI(14)", |x| ind::rsi(x, 14).map(drop)),
    ] {
        if !wanted(name) {
            continue;
        }
        let ms = median_ms(a.runs, || f(close).map_err(|e| anyhow!("{name}: {e}")))?;
        figures.push(figure(name, ms, n));
    }
    // One backtest through the strategy language, as `settle backtest` and the MCP tools run
    // it (compile, signals, the engine with the daily equity curve, the metrics as JSON), on
    // the criterion bench's SMA(20)/SMA(100) cross; a fresh evaluator each run so the
    // indicators are computed every time. Then the engine alone on the same signals, to show
    // what the language adds.
    let cross = [("fast", 20.0), ("slow", 100.0)];
    let step = "backtest sma_cross 20/100, whole (1 thread)";
    if wanted(step) {
        let ms = median_ms(a.runs, || {
            let compiled =
                rules::compile_with(&strategy, &cross).map_err(super::backtest::explain)?;
            let ev = Evaluator::new(compiled, &bars)?;
            let r = ev.backtest_in(&[], None, EquityCurve::Daily)?;
            serde_json::to_vec(&r.metrics)?;
            Ok(())
        })?;
        figures.push(figure(step, ms, n));
    }
    let step = "backtest sma_cross 20/100, engine only (1 thread)";
    if wanted(step) {
        let compiled = rules::compile_with(&strategy, &cross).map_err(super::backtest::explain)?;
        let signals = rules::signals(&compiled, &bars, es)?;
        let mut cfg = rules::to_config(&compiled);
        cfg.equity_curve = EquityCurve::Daily;
        let ms = median_ms(a.runs, || {
            settle_engine::backtest(&bars, es, &signals, &cfg)?;
            Ok(())
        })?;
        figures.push(figure(step, ms, n));
    }
    let step = format!("sweep sma_cross, {combos} combinations (all cores)");
    if !wanted(&step) {
        return print(a, &figures);
    }
    let ms = median_ms(a.runs, || {
        let ev = Evaluator::new(compiled.clone(), &bars)?;
        let r = sweep::run(
            &grid,
            &SweepSpec::default(),
            |p| ev.metrics(p).map_err(|e| e.reason()),
            &AtomicBool::new(false),
            &|_| {},
        );
        match r.failures.first() {
            Some(f) => Err(anyhow!("sweep combination failed: {}", f.reason)),
            None => Ok(()),
        }
    })?;
    figures.push(figure(&step, ms, n * combos));
    print(a, &figures)
}

/// The figures as a table, or as JSON with `--json`.
fn print(a: &BenchArgs, figures: &[Figure]) -> anyhow::Result<()> {
    if a.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = figures
        .iter()
        .map(|f| {
            vec![
                f.step.clone(),
                format!("{:.2}", f.median_ms),
                format!("{:.3e}", f.per_second),
            ]
        })
        .collect();
    table::print(&["step", ">median ms", ">bars/s"], &rows);
    Ok(())
}
