//! `settle assess`: is the edge real? The robustness verdict of one strategy with its reasons
//! (costs, stability, time, luck, path risk), the same as the MCP tool `assess_strategy` gives.

use std::path::Path;

use settle_strategies::manifest;

use super::backtest::{parse_kv, run_strategy, StrategySource};

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    #[command(flatten)]
    source: StrategySource,
    /// Parameter override, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = parse_kv)]
    params: Vec<(String, f64)>,
    /// How many strategies were tried to find this one (variants, sweep combinations): the
    /// Deflated Sharpe deflates for them. Default 1.
    #[arg(long, default_value_t = 1)]
    trials: usize,
    /// Print the verdict, its reasons and all the evidence as JSON, with its `manifest` (the
    /// inputs and the result's hash, for `settle rerun`).
    #[arg(long)]
    json: bool,
}

pub fn run(home: &Path, a: &AssessArgs) -> anyhow::Result<()> {
    if a.trials == 0 {
        anyhow::bail!("--trials: at least 1 (this strategy itself)");
    }
    let ran = run_strategy(home, &a.source, &a.params, None)?;
    let assessment = settle_strategies::assess::assess(&ran, a.trials, None, &|| false)?;
    if a.json {
        let inputs = manifest::AssessmentInputs {
            trials: a.trials,
            pbo: None,
        };
        println!("{}", manifest::assessment_json(&ran, &assessment, inputs));
        return Ok(());
    }
    println!(
        "{} on {}: {}",
        assessment.strategy,
        assessment.series,
        assessment.verdict.as_str().replace('_', " ")
    );
    for r in &assessment.reasons {
        let mark = if r.passed { "pass" } else { "FAIL" };
        println!("  {mark} {:<9} {}", r.check, r.text);
    }
    Ok(())
}
