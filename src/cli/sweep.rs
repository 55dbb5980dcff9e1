//! `settle sweep`: run a strategy over a parameter grid (whole, or one shard of it) and
//! `settle sweep merge`: join shard files into the result a single machine would produce.
//!
//! Each combination is a backtest of the strategy with those parameter values, on bars loaded
//! once from the store, through the strategies crate's [`Evaluator`] (each distinct indicator
//! is computed once for the whole grid). The JSON (`--json`) and the export (`--export`) depend only on
//! the strategy, the data and the grid, so a merged sharded sweep prints and writes the same
//! bytes as a one-machine run; wall time goes to the human summary and stderr only.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use settle_engine::chart::walk_forward_png;
use settle_engine::report::SweepSection;
use settle_engine::sweep::walkforward::FoldPlan;
use settle_engine::sweep::{
    self, Constraint, Grid, Objective, Param, Progress, Shard, ShardFile, SweepResult, SweepSpec,
    DEFAULT_MAX_COMBINATIONS,
};
use settle_strategies::guards::{
    self as guard, guarded_sweep, GuardPlan, GuardedSweep, GuardedSweepError, Guards,
};
use settle_strategies::manifest::{canonical, Manifest, SweepInputs};
use settle_strategies::rules::{self, Strategy};
use settle_strategies::sweep::Evaluator;
use settle_strategies::sweep_document;

use super::backtest::{explain, load_strategy, series, StrategySource};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    /// Boxed: the run's flags would make every other CLI command as large as this one.
    #[command(flatten)]
    run: Box<RunArgs>,
}

#[derive(Debug, clap::Subcommand)]
enum SweepCommand {
    /// Join the shard files of one sweep; prints and exports what a single run would.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    source: StrategySource,
    /// A swept parameter (repeatable): KEY=MIN:MAX:STEP (range, MAX included when on the
    /// step) or KEY=V1,V2,... (list). The first --param varies slowest.
    #[arg(long = "param", value_parser = Param::parse, required = true)]
    params: Vec<Param>,
    /// The metric to optimise, METRIC[:max|min] (default sharpeRatio:max).
    #[arg(long, default_value = "sharpeRatio:max")]
    objective: String,
    /// A constraint the best result must meet, e.g. "tradeCount>=30" (repeatable).
    #[arg(long = "constraint")]
    constraints: Vec<String>,
    /// Refuse grids of more combinations than this.
    #[arg(long, default_value_t = DEFAULT_MAX_COMBINATIONS)]
    cap: usize,
    #[command(flatten)]
    output: OutputArgs,
    /// Write the full table (every combination, parameters, metrics, failure reasons) to this
    /// file: .csv or .parquet.
    #[arg(long, conflicts_with_all = ["shard", "shards"])]
    export: Option<PathBuf>,
    /// Also write the best combination's backtest (on the judged window) as an HTML report
    /// with the sweep's summary, guards, heatmap and walk-forward picture.
    #[arg(long, value_name = "FILE.html", conflicts_with_all = ["shard", "shards"])]
    report: Option<PathBuf>,
    /// Run only shard INDEX/COUNT of the grid (0-based: 0/4 .. 3/4) and write a shard file.
    #[arg(long, conflicts_with = "shards")]
    shard: Option<String>,
    /// Run one of COUNT shards, its index taken from JOB_COMPLETION_INDEX (Kubernetes Indexed
    /// Job) or SLURM_ARRAY_TASK_ID (Slurm array, ids 0 to COUNT-1).
    #[arg(long)]
    shards: Option<usize>,
    /// Directory for the shard file, named sweep-shard-INDEX-of-COUNT.json; made if missing.
    #[arg(long, default_value = ".")]
    shard_dir: PathBuf,
    /// Hold out the last P% (or fraction) of the trading dates, e.g. 20%: the grid is swept on
    /// the rest only, and its best is then backtested once on the held-out dates.
    #[arg(long, value_parser = guard::parse_holdout, value_name = "P%",
          conflicts_with_all = ["shard", "shards", "walk_forward", "no_guards"])]
    holdout: Option<f64>,
    /// Rolling walk-forward, in trading dates: train=N,test=M[,step=K] (step defaults to M).
    /// Each fold sweeps the grid on N dates and backtests its best on the M after them; the
    /// out-of-sample runs are stitched into one curve.
    #[arg(long, value_parser = guard::parse_walk_forward, value_name = "train=N,test=M[,step=K]",
          conflicts_with_all = ["shard", "shards", "no_guards"])]
    walk_forward: Option<FoldPlan>,
    /// Blocks S of the PBO's combinatorially symmetric cross-validation (even, 2 to 16).
    #[arg(long, default_value_t = 16, value_parser = guard::parse_blocks)]
    pbo_blocks: usize,
    /// Skip the overfitting guards (Deflated Sharpe Ratio and PBO), which keep every
    /// combination's daily returns in memory.
    #[arg(long)]
    no_guards: bool,
}

/// How the summary is printed (shared by a run and a merge).
#[derive(Debug, clap::Args)]
struct OutputArgs {
    /// How many of the best results to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print the summary (counts, best, top N) as JSON; also hides the progress bar.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// Shard files written by `settle sweep --shard` (all COUNT of them).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the merged table here: .csv or .parquet.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(home: &Path, a: &SweepArgs) -> anyhow::Result<()> {
    match &a.merge {
        Some(SweepCommand::Merge(m)) => merge(m),
        None => sweep(home, &a.run),
    }
}

fn sweep(home: &Path, a: &RunArgs) -> anyhow::Result<()> {
    let compiled = load_strategy(&a.source, &[])?;
    let grid = Grid::with_cap(&a.params, a.cap)?;
    check_keys(&compiled.strategy, grid.keys())?;
    let spec = SweepSpec {
        objective: Objective::parse(&a.objective)?,
        constraints: a
            .constraints
            .iter()
            .map(|c| Constraint::parse(c))
            .collect::<Result<_, _>>()?,
    };
    let shard = match (&a.shard, a.shards) {
        (Some(text), _) => Some(Shard::parse(text)?),
        (None, Some(n)) => Some(Shard::from_env(n, |k| std::env::var(k).ok())?),
        (None, None) => None,
    };
    // Every task of a fresh array job finds the shard directory missing; making it here, before
    // the share is run, also refuses an unwritable one before any work is spent.
    if shard.is_some() {
        std::fs::create_dir_all(&a.shard_dir)
            .with_context(|| format!("--shard-dir {}", a.shard_dir.display()))?;
    }

    let bars = series(home, &compiled)?;
    let (strategy, bar_size, cfg) = (
        compiled.strategy.clone(),
        compiled.bar_size,
        rules::to_config(&compiled),
    );
    // The timing covers everything after loading: per-series preparation, indicators, runs.
    let start = Instant::now();
    let evaluator = Evaluator::new(compiled, &bars)?;
    let plan = (!a.no_guards).then_some(GuardPlan {
        holdout: a.holdout,
        walk_forward: a.walk_forward,
        pbo_blocks: a.pbo_blocks,
    });
    // A shard runs no guards (merge cannot: they need the whole grid), so neither does the
    // sweep its manifest records.
    let guards_run = if shard.is_some() { None } else { plan };
    let inputs = SweepInputs {
        grid: a.params.iter().map(ToString::to_string).collect(),
        objective: spec.objective.to_string(),
        constraints: spec.constraints.iter().map(ToString::to_string).collect(),
        guards: guards_run,
        top: a.output.top,
    };
    let manifest = sweep_document::manifest(&evaluator, &bars, &cfg, inputs)?;
    let cancel = cancel_on_ctrl_c()?;
    let share = shard.map_or(grid.total_combinations(), |s| {
        s.indices(grid.total_combinations()).len()
    });
    let bar = progress_bar(share as u64, a.output.json);
    let tick = |_: Progress| bar.inc(1);

    if let Some(shard) = shard {
        // The manifest is the shard's job: merge refuses shards of different sweeps, and
        // prints the manifest a single run would.
        let job = canonical(&manifest).to_string();
        let eval = |p: &[(String, f64)]| evaluator.metrics(p).map_err(|e| e.reason());
        let file = sweep::run_shard(&grid, &spec, shard, &job, eval, &cancel, &tick);
        bar.finish_and_clear();
        let path = a.shard_dir.join(format!(
            "sweep-shard-{}-of-{}.json",
            shard.index, shard.count
        ));
        settle_data::files::write_bytes(&path, serde_json::to_string(&file)?.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        let done = file.rows.len() + file.failures.len();
        println!(
            "shard {}/{}: {done} of {share} combinations ({} failed) in {:.2} s -> {}",
            shard.index,
            shard.count,
            file.failures.len(),
            start.elapsed().as_secs_f64(),
            path.display()
        );
        if !file.complete {
            bail!("cancelled: the shard file is partial and merge will refuse it; run the shard again");
        }
        return Ok(());
    }

    // The walk-forward's length (folds × grid) is known once its folds are planned.
    let wf_bar = progress_bar(0, a.output.json);
    let GuardedSweep {
        result,
        window,
        dates,
        mut guards,
        walk_forward,
    } = guarded_sweep(
        &evaluator,
        &cfg,
        &grid,
        &spec,
        plan.as_ref(),
        &cancel,
        &tick,
        &|_, _| {},
        &|p: Progress| {
            wf_bar.set_length(p.total as u64);
            wf_bar.set_position(p.done as u64)
        },
    )
    .map_err(|e| match e {
        // The library names the plan's fields; the command line names its flags.
        GuardedSweepError::WalkForward(e) => anyhow!("--walk-forward: {e}"),
        GuardedSweepError::Holdout(e) => anyhow!("--holdout: {e}"),
        e => anyhow!(e),
    })?;
    bar.finish_and_clear();
    wf_bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    if result.cancelled {
        eprintln!(
            "cancelled: {} of {} combinations finished; the results below are partial",
            result.completed, result.total_combinations
        );
    }
    if let Some(path) = &a.export {
        result.export(path)?;
    }
    if !a.output.json {
        println!(
            "{} {} {}: {} combinations in {secs:.4} s ({:.0} backtests/s, {:.3e} bar-evaluations/s)",
            strategy.name,
            strategy.symbol,
            bar_size,
            result.completed,
            result.completed as f64 / secs,
            (result.completed * bars.len()) as f64 / secs,
        );
    }
    let mut walk_forward_picture = None;
    if let (Some(w), Some(g), true) = (&walk_forward, guards.as_mut(), a.report.is_some()) {
        let title = format!("walk-forward of {}, {} folds", strategy.name, w.folds.len());
        let (width, height) = settle_engine::chart::SIZE;
        match walk_forward_png(w, &dates, &title, width, height) {
            Ok(d) => walk_forward_picture = Some(d.image),
            Err(e) => g.unavailable.push(format!("walk-forward picture: {e}")),
        }
    }
    print_summary(&result, &a.output, guards.as_ref(), &manifest)?;
    if let Some(path) = &a.report {
        let best = result.best_result.as_ref().ok_or_else(|| {
            anyhow!("--report: no combination meets the constraints, so there is no best to report")
        })?;
        let mut chosen = strategy.clone();
        chosen.window = window.to_string();
        let kv: Vec<(&str, f64)> = best.params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let chosen = rules::compile_with(&chosen, &kv).map_err(explain)?;
        let ran = settle_strategies::run::backtest(chosen, bars, None, &|| false)?;
        let mut lines = vec![format!(
            "{} of {} combinations over {}, ranked by {}; the page's backtest is the best",
            result.completed,
            result.total_combinations,
            result.keys.join(" x "),
            result.spec.objective.metric
        )];
        lines.extend(super::report::best_line(&result));
        if let Some(g) = &guards {
            lines.extend(g.lines(&result.spec.objective.metric));
        }
        let heatmap = (result.keys.len() == 2)
            .then(|| {
                let title = format!(
                    "{} by {}, {} on {}",
                    result.spec.objective.metric,
                    result.keys.join(" and "),
                    ran.strategy.name,
                    ran.result.series
                );
                super::report::sweep_heatmap(&result, &title)
            })
            .transpose()?;
        let section = SweepSection {
            lines,
            heatmap,
            walk_forward: walk_forward_picture,
        };
        super::report::write(&ran, Some(&section), path)?;
        if !a.output.json {
            println!("report: {}", path.display());
        }
    }
    Ok(())
}

/// Every swept key must be a declared parameter, or every combination would fail alike.
fn check_keys(strategy: &Strategy, keys: &[String]) -> anyhow::Result<()> {
    for key in keys {
        if let Err(e) =
            rules::parameter_position(key, strategy.parameters.iter().map(|p| p.key.as_str()))
        {
            bail!(
                "--param {key}: the strategy `{}` has no parameter `{key}`; its parameters: {}",
                strategy.name,
                e.known_text()
            );
        }
    }
    Ok(())
}

/// A flag set by the first Ctrl-C (the sweep then stops between combinations and keeps its
/// results); a second Ctrl-C exits at once with status 130.
fn cancel_on_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::SIGINT;
    let flag = Arc::new(AtomicBool::new(false));
    // Order matters: the exit is armed only by a flag an earlier Ctrl-C set.
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&flag))?;
    signal_hook::flag::register(SIGINT, Arc::clone(&flag))?;
    Ok(flag)
}

/// A bar on stderr: hidden with --json or when stderr is not a terminal.
fn progress_bar(total: u64, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} combinations  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn merge(m: &MergeArgs) -> anyhow::Result<()> {
    let shards = m
        .files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ShardFile::from_json(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let result = sweep::merge(&shards)?;
    // Every shard carries the same job (merge checked): the sweep's manifest.
    let manifest: Manifest = shards
        .first()
        .and_then(|s| serde_json::from_str(&s.job).ok())
        .ok_or_else(|| {
            anyhow!("the shard files carry no sweep manifest: write them again with this settle")
        })?;
    if let Some(path) = &m.out {
        result.export(path)?;
    }
    print_summary(&result, &m.output, None, &manifest)
}

fn print_summary(
    result: &SweepResult,
    out: &OutputArgs,
    guards: Option<&Guards>,
    manifest: &Manifest,
) -> anyhow::Result<()> {
    let summary = result.summary(out.top);
    if out.json {
        // The manifest records the top count printed (a merge may ask for another).
        let mut manifest = manifest.clone();
        if let Some(inputs) = manifest.sweep.as_mut() {
            inputs.top = out.top;
        }
        println!("{}", sweep_document::document(result, guards, &manifest));
        return Ok(());
    }
    println!(
        "{} of {} combinations finished, {} failed{}; objective {}{}",
        summary.completed,
        summary.total_combinations,
        summary.failed_count,
        if summary.cancelled {
            " (cancelled)"
        } else {
            ""
        },
        summary.objective,
        if summary.constraints.is_empty() {
            String::new()
        } else {
            format!(", constraints {}", summary.constraints.join(", "))
        }
    );
    if summary.top.is_empty() {
        println!("no result meets the constraints with a defined objective");
    }
    for (rank, r) in summary.top.iter().enumerate() {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  {:>3}. {:<30} {} {:<12.4} trades {:<6} pnl {:.2}",
            rank + 1,
            params.join(" "),
            result.spec.objective.metric,
            r.objective,
            r.metrics.trade_count,
            r.metrics.total_pnl
        );
    }
    if let Some(f) = &summary.first_failure {
        println!("  first failure (combination {}): {}", f.index, f.reason);
    }
    if let Some(g) = guards {
        for line in g.lines(&result.spec.objective.metric) {
            println!("{line}");
        }
    }
    Ok(())
}
