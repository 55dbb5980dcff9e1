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
        let ms = median_ms(a.runs, || f(close).map_err(|e| anyhow!("{name}: {e}")))?;
        figures.push(figure(name, ms, n));
    }
    // One backtest through the strategy language, as `settle backtest` runs it; a fresh
    // evaluator each run so the indicators are computed every time.
    let compiled = rules::compile(&strategy).map_err(super::backtest::explain)?;
    let ms = median_ms(a.runs, || {
        let ev = Evaluator::new(compiled.clone(), &bars)?;
        Ok(ev.backtest(&[]).map(drop)?)
    })?;
    figures.push(figure("backtest sma_cross (1 thread)", ms, n));
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
    figures.push(figure(
        &format!("sweep sma_cross, {combos} combinations (all cores)"),
        ms,
        n * combos,
    ));

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
