//! The nautilus_trader 6E one-minute file: `timestamp_utc,open,high,low,close,volume`, gzip.
//! Its stamps are bar **close** times (each session's first bar is stamped 23:01), so they are
//! shifted back one minute to settle's bar-open convention.

use std::path::Path;

use super::csv_ohlcv::{self, CsvOptions, Stamp};
use crate::bars::{BarSize, Bars};
use crate::error::Result;

/// Reads one nautilus bar file for `root` (e.g. `6E`), contract `contract` (e.g. `6EH4`).
pub fn bars(path: &Path, root: &str, contract: &str) -> Result<Bars> {
    let mut opt = CsvOptions::new(root, BarSize::Minutes(1));
    opt.time_col = "timestamp_utc".into();
    opt.stamp = Stamp::BarClose;
    opt.contract = Some(contract.to_string());
    let mut b = csv_ohlcv::read(path, &opt)?;
    b.meta.source = format!("nautilus:{}", csv_ohlcv::file_name(path));
    Ok(b)
}
