//! Generic OHLCV Parquet, read with polars. The time column may be an integer epoch (seconds,
//! milliseconds, microseconds or nanoseconds, told apart by magnitude) or text in any layout
//! the CSV importer accepts; other options are those of [`CsvOptions`].

use std::path::Path;

use polars::prelude::*;

use super::csv_ohlcv::{CsvOptions, Stamp};
use super::text;
use crate::bars::{Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// Reads an OHLCV Parquet file with the column mapping of `opt`.
pub fn read(path: &Path, opt: &CsvOptions) -> Result<Bars> {
    crate::specs::spec(&opt.symbol)?;
    let file = text::display(path);
    let f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let df = ParquetReader::new(f)
        .finish()
        .map_err(|e| DataError::Invalid(format!("{file}: not a readable Parquet file: {e}")))?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let find = |want: &str| -> Result<&Column> {
        let name = names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(want))
            .ok_or_else(|| DataError::MissingColumn {
                file: file.clone(),
                column: want.into(),
                found: names.join(","),
            })?;
        df.column(name)
            .map_err(|e| DataError::Invalid(format!("{file}: {e}")))
    };
    let floats = |want: &str| -> Result<Vec<f64>> {
        let c = find(want)?
            .cast(&DataType::Float64)
            .map_err(|e| DataError::parse(&file, 0, want, format!("expected numbers: {e}")))?;
        let ca = c.f64().map_err(|e| DataError::Invalid(e.to_string()))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| {
                    DataError::parse(&file, i as u64 + 1, want, "null value; expected a number")
                })
            })
            .collect()
    };
    let tz = text::tz(&opt.timezone)?;
    let tcol = find(&opt.time_col)?;
    let mut ts: Vec<i64> = match tcol.dtype() {
        DataType::String => {
            let ca = tcol.str().map_err(|e| DataError::Invalid(e.to_string()))?;
            ca.iter()
                .enumerate()
                .map(|(i, s)| {
                    text::timestamp(s.unwrap_or(""), tz, &file, i as u64 + 1, &opt.time_col)
                })
                .collect::<Result<_>>()?
        }
        d if d.is_integer() => {
            let c = tcol
                .cast(&DataType::Int64)
                .map_err(|e| DataError::Invalid(e.to_string()))?;
            let ca = c.i64().map_err(|e| DataError::Invalid(e.to_string()))?;
            ca.iter()
                .enumerate()
                .map(|(i, v)| {
                    let v = v.ok_or_else(|| {
                        DataError::parse(&file, i as u64 + 1, &opt.time_col, "null time")
                    })?;
                    Ok(match v.unsigned_abs() {
                        x if x >= 100_000_000_000_000_000 => v / 1_000_000_000,
                        x if x >= 100_000_000_000_000 => v / 1_000_000,
                        x if x >= 100_000_000_000 => v / 1_000,
                        _ => v,
                    })
                })
                .collect::<Result<_>>()?
        }
        other => {
            return Err(DataError::parse(
                &file,
                0,
                &opt.time_col,
                format!("column type {other}; expected integer epoch or text times"),
            ))
        }
    };
    if opt.stamp == Stamp::BarClose && opt.bar_size.is_intraday() {
        ts.iter_mut().for_each(|t| *t -= opt.bar_size.seconds());
    }
    let close = floats(&opt.close_col)?;
    let or_close = |c: &Option<String>| match c {
        Some(n) => floats(n),
        None => Ok(close.clone()),
    };
    let (open, high, low) = (
        or_close(&opt.open_col)?,
        or_close(&opt.high_col)?,
        or_close(&opt.low_col)?,
    );
    let volume = match &opt.volume_col {
        Some(n) => floats(n)?,
        None => vec![f64::NAN; close.len()],
    };
    let mut meta = SeriesMeta::new(
        &opt.symbol,
        opt.contract.as_deref(),
        opt.bar_size,
        &format!("parquet:{}", super::csv_ohlcv::file_name(path)),
    );
    meta.close_only = opt.open_col.is_none() || opt.high_col.is_none() || opt.low_col.is_none();
    let mut bars = Bars {
        meta,
        contract: vec![0; ts.len()],
        ts,
        open,
        high,
        low,
        close,
        volume,
    };
    if let Some(c) = &opt.contract {
        bars.contract_index(c);
    }
    bars.validate(&file, None)?;
    Ok(bars)
}
