//! `settle data import|list`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use settle_data::continuous::Adjustment;
use settle_data::front_month::{self, FrontMonth};
use settle_data::import::{self, databento, CsvOptions, Stamp};
use settle_data::roll::RollMethod;
use settle_data::store::{Entry, Store};
use settle_data::BarSize;

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Import a file (CSV, Parquet or Databento DBN), or the whole sample data set with --sample.
    Import(Box<ImportArgs>),
    /// List the series in the store.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Build a root's continuous front month from its per-contract series in the store.
    Continuous(ContinuousArgs),
}

#[derive(Debug, clap::Args)]
pub struct ContinuousArgs {
    /// Root symbol (e.g. ES).
    #[arg(long)]
    symbol: String,
    /// Bar size of the contract series to join: 1m, 5m, 1h, 1d.
    #[arg(long)]
    bar: BarSize,
    /// expiry:DAYS (calendar days before the last trade date), volume (the day after the next
    /// contract trades more), oi, or calendar:FILE (`date,contract` rows). Default: the
    /// root's catalog roll (ES: expiry:8), or volume where settle has no expiry calendar.
    #[arg(long)]
    roll: Option<RollMethod>,
    /// Back-adjustment of older contracts: difference, ratio or none.
    #[arg(long, default_value = "difference")]
    adjust: Adjustment,
    /// First trading date to use (YYYY-MM-DD).
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Last trading date to use (YYYY-MM-DD).
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Import everything in this `shared/data` directory (see its SOURCES.md).
    #[arg(long, conflicts_with = "file")]
    sample: Option<PathBuf>,
    /// An OHLCV file: `.csv`, `.csv.gz`, `.parquet`, or Databento `.dbn` / `.dbn.zst` (which
    /// names its own symbols, contracts and bar size: the other options do not apply).
    #[arg(required_unless_present = "sample")]
    file: Option<PathBuf>,
    /// Root symbol from `settle symbols` (e.g. ES); required for CSV and Parquet.
    #[arg(long)]
    symbol: Option<String>,
    /// Contract name (e.g. ESZ13); omit for a continuous series.
    #[arg(long)]
    contract: Option<String>,
    /// Bar size: 1m, 5m, 15m, 1h, 1d.
    #[arg(long, default_value = "1m")]
    bar: BarSize,
    #[arg(long, default_value = "time")]
    time_col: String,
    #[arg(long, default_value = "open")]
    open_col: String,
    #[arg(long, default_value = "high")]
    high_col: String,
    #[arg(long, default_value = "low")]
    low_col: String,
    #[arg(long, default_value = "close")]
    close_col: String,
    /// Volume column; pass an empty string if there is none.
    #[arg(long, default_value = "volume")]
    volume_col: String,
    /// The file has closes only (no open/high/low columns).
    #[arg(long)]
    close_only: bool,
    /// IANA time zone of the file's times.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// The times mark bar closes (shifted back one bar to settle's bar-open convention).
    #[arg(long)]
    bar_close_stamps: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(home: &Path, cmd: DataCommand) -> anyhow::Result<()> {
    let store = Store::open(home)?;
    match cmd {
        DataCommand::List { json } => print_entries(&store.list()?, json),
        DataCommand::Continuous(a) => {
            let spec = settle_data::spec(&a.symbol)?;
            let how = FrontMonth {
                roll: a
                    .roll
                    .clone()
                    .unwrap_or_else(|| RollMethod::default_for(spec)),
                adjustment: a.adjust,
                from: a.from,
                to: a.to,
            };
            let entry = front_month::build_in_store(&store, spec.root, a.bar, &how)?;
            if !a.json {
                for r in entry.recipe.iter().flat_map(|r| &r.rolls) {
                    println!(
                        "roll {}: {} -> {} (offset {})",
                        r.date, r.from, r.to, r.offset
                    );
                }
            }
            print_entries(std::slice::from_ref(&entry), a.json)
        }
        DataCommand::Import(a) => {
            let entries = match &a.sample {
                Some(dir) => settle_data::sample::import(&store, dir)?,
                None => store.import(&read_file(&a)?)?,
            };
            print_entries(&entries, a.json)
        }
    }
}

/// The series in the file `a` names: every series of a DBN file, or the one CSV/Parquet series
/// its column options describe.
fn read_file(a: &ImportArgs) -> anyhow::Result<Vec<settle_data::Bars>> {
    let file = a.file.as_deref().unwrap_or(Path::new(""));
    if databento::is_dbn(file) {
        anyhow::ensure!(
            a.symbol.is_none() && a.contract.is_none(),
            "{}: a DBN file names its own symbols and contracts; drop --symbol/--contract",
            file.display()
        );
        return Ok(import::read_file(file, None)?);
    }
    let symbol = a.symbol.as_deref().ok_or_else(|| {
        anyhow::anyhow!("--symbol is required for CSV and Parquet files (e.g. --symbol ES)")
    })?;
    let mut o = CsvOptions::new(symbol, a.bar);
    o.contract = a.contract.clone();
    o.time_col = a.time_col.clone();
    o.close_col = a.close_col.clone();
    let some = |s: &str| (!a.close_only).then(|| s.to_string());
    (o.open_col, o.high_col, o.low_col) = (some(&a.open_col), some(&a.high_col), some(&a.low_col));
    o.volume_col = (!a.volume_col.is_empty()).then(|| a.volume_col.clone());
    o.timezone = a.tz.clone();
    o.stamp = if a.bar_close_stamps {
        Stamp::BarClose
    } else {
        Stamp::BarOpen
    };
    Ok(import::read_file(file, Some(&o))?)
}

/// Prints store entries as a table or JSON.
pub fn print_entries(entries: &[Entry], json: bool) -> anyhow::Result<()> {
    if json {
        return super::print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.key.clone(),
                e.kind.clone(),
                e.bar_size.to_string(),
                e.first.clone(),
                e.last.clone(),
                e.rows.to_string(),
                e.fingerprint.clone(),
                e.recipe
                    .as_ref()
                    .map(|r| r.summary())
                    .unwrap_or_else(|| e.source.clone()),
            ]
        })
        .collect();
    super::table::print(
        &[
            "series",
            "kind",
            ">bar",
            "first",
            "last",
            ">rows",
            "fingerprint",
            "source (or recipe)",
        ],
        &rows,
    );
    Ok(())
}
