//! `settle demo`: the README's main job on the sample data: import it on first run, then a
//! backtest and a small sweep on real CL history, with their pictures and an HTML report, and
//! what to do next.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use settle_data::files::write_bytes;
use settle_data::store::Store;
use settle_engine::chart;
use settle_engine::report::SweepSection;
use settle_engine::sweep::{self, Grid, Param, SweepSpec};
use settle_strategies::rules;
use settle_strategies::sweep::Evaluator;
use settle_strategies::templates;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The shared data directory (default: ../shared/data, or $SETTLE_SHARED_DATA).
    #[arg(long, env = "SETTLE_SHARED_DATA", default_value = "../shared/data")]
    data: PathBuf,
}

/// The demo's strategy: the SMA crossover template on CL's back-adjusted front month, all
/// of its daily history.
const SYMBOL: &str = "CL";
const TEMPLATE: &str = "sma_cross";

pub fn run(home: &Path, a: &DemoArgs) -> anyhow::Result<()> {
    let store = Store::open(home)?;
    if store.list()?.is_empty() {
        eprintln!(
            "first run: importing the sample data from {} ...",
            a.data.display()
        );
        let t = std::time::Instant::now();
        let n = settle_data::sample::import(&store, &a.data)?.len();
        eprintln!("imported {n} series in {:.1} s", t.elapsed().as_secs_f64());
    }
    println!("store: {}", home.display());
    super::data::print_entries(&store.list()?, false)?;

    let mut strategy = templates::get(TEMPLATE, SYMBOL).context("the sma_cross template")?;
    strategy.window = "all".into();
    let compiled = rules::compile(&strategy).map_err(super::backtest::explain)?;
    let bars = compiled.series(&store)?;
    let ran = settle_strategies::run::backtest(compiled.clone(), bars, None, &|| false)?;
    let r = &ran.result;
    println!(
        "\nbacktest: {TEMPLATE} on {} ({} bars, {} .. {})",
        r.series,
        r.bars,
        r.first_bar.utc_date(),
        r.last_bar.utc_date()
    );
    println!("  {}", settle_engine::words::metrics_text(&r.metrics));
    for note in &r.notes {
        println!("  note: {note}");
    }
    let out = home.join("demo");
    std::fs::create_dir_all(&out)?;
    let equity = out.join("cl_sma_cross.png");
    let title = format!("{TEMPLATE} on {}", r.series);
    write_bytes(
        &equity,
        &chart::backtest_chart(r, &title, ran.cfg.starting_capital, false)?,
    )?;

    // A small sweep through the same evaluator as `settle sweep`.
    let grid = Grid::new(&[
        Param::range("fast", 5.0, 30.0, 5.0),
        Param::range("slow", 40.0, 120.0, 40.0),
    ])?;
    let evaluator = Evaluator::new(compiled, &ran.bars)?;
    let spec = SweepSpec::default();
    let result = sweep::run(
        &grid,
        &spec,
        |p| evaluator.metrics(p).map_err(|e| e.reason()),
        &AtomicBool::new(false),
        &|_| {},
    );
    println!(
        "\nsweep: fast 5..30 step 5 x slow 40, 80, 120 = {} backtests, ranked by {}",
        result.total_combinations, spec.objective.metric
    );
    let mut sweep_lines = vec![format!(
        "fast 5..30 step 5 x slow 40, 80, 120: {} backtests, ranked by {}",
        result.total_combinations, spec.objective.metric
    )];
    if let Some(line) = super::report::best_line(&result) {
        println!("  {line}");
        sweep_lines.push(line);
        sweep_lines.push(format!(
            "the backtest above runs the template's defaults ({}); the best of a sweep is \
             chosen in sample and flatters itself",
            ran.strategy
                .parameters
                .iter()
                .map(|p| format!("{}={}", p.key, p.value))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let heatmap = out.join("cl_sma_cross_sweep.png");
    let heat_title = format!(
        "{} by fast and slow, {TEMPLATE} on {}",
        spec.objective.metric, r.series
    );
    let heat_png = super::report::sweep_heatmap(&result, &heat_title)?;
    write_bytes(&heatmap, &heat_png)?;
    let report = out.join("cl_sma_cross_report.html");
    let section = SweepSection {
        lines: sweep_lines,
        heatmap: Some(heat_png),
        walk_forward: None,
    };
    super::report::write(&ran, Some(&section), &report)?;
    println!(
        "\npictures: {}\n          {}",
        equity.display(),
        heatmap.display()
    );
    println!("report:   {} (open it in a browser)", report.display());
    let exe = std::env::current_exe()?;
    println!(
        "\nnext: talk to it from an LLM client, e.g. Claude Code:\n  claude mcp add settle -e SETTLE_HOME={} -- {} serve",
        home.display(),
        exe.display()
    );
    Ok(())
}
