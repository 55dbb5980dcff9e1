//! `settle rerun FILE`: recompute a result from the manifest it carries and prove it, or name
//! every input that changed and the first result field that differs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use settle_data::store::Store;
use settle_strategies::manifest;

#[derive(Debug, clap::Args)]
pub struct RerunArgs {
    /// A result holding its manifest: what `settle backtest --json`, `settle assess --json`
    /// or `settle sweep --json` printed, or an MCP manifest resource saved to a file.
    file: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

/// Exits with an error (status 1) when the result is not identical, so scripts can rely on it.
pub fn run(home: &Path, a: &RerunArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let raw: Box<serde_json::value::RawValue> =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", a.file.display()))?;
    let document: serde_json::Value = serde_json::from_str(raw.get())?;
    let recorded =
        manifest::manifest_of(&document).with_context(|| a.file.display().to_string())?;
    let rerun =
        manifest::rerun(&raw, &Store::open(home)?).with_context(|| a.file.display().to_string())?;
    if a.json {
        println!("{}", serde_json::to_string(&rerun)?);
    } else {
        println!("{}", rerun.text(&recorded.result_hash));
    }
    if rerun.identical {
        Ok(())
    } else {
        anyhow::bail!("{}: the result does not reproduce", a.file.display())
    }
}
