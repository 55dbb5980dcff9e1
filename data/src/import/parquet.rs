//! Generic OHLCV Parquet, read with polars. The time column may be
//! - a native Arrow timestamp, as pandas, polars and Databento's `to_parquet` write them
//!   (`timestamp[ns]`, `[us]` or `[ms]`): with a time zone it is an instant and `timezone` is
//!   not consulted; without one it is wall-clock time in `timezone`;
//! - an Arrow date (daily bars);
//! - an integer epoch (seconds, milliseconds, microseconds or nanoseconds, told apart by
//!   magnitude);
//! - text in any layout the CSV importer accepts.
//!
//! Other options are those of [`CsvOptions`]; errors name the row (1 = the first).

use std::io::{Read, Seek};
use std::path::Path;

use polars::io::mmap::MmapBytesReader;
use polars::prelude::*;

use super::csv_ohlcv::{CsvOptions, Stamp};
use super::{parquet_guard, text};
use crate::bars::{Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// Reads an OHLCV Parquet file with the column mapping of `opt`.
pub fn read(path: &Path, opt: &CsvOptions) -> Result<Bars> {
    crate::specs::spec(&opt.symbol)?;
    let open = || std::fs::File::open(path).map_err(|e| DataError::io(path, e));
    read_with(open()?, open()?, &text::display(path), opt)
}

/// [`read`] over the bytes of a Parquet file; `file` names them in errors and, by its last
/// component, in the series' source.
pub fn read_bytes(bytes: &[u8], file: &str, opt: &CsvOptions) -> Result<Bars> {
    crate::specs::spec(&opt.symbol)?;
    let input = || std::io::Cursor::new(bytes);
    read_with(input(), input(), file, opt)
}

/// The reading itself, over a file (memory-mapped by polars) or bytes in memory; `check` is a
/// second handle on the same bytes, for [`parquet_guard`] to walk before polars decodes.
fn read_with(
    input: impl MmapBytesReader,
    mut check: impl Read + Seek,
    file: &str,
    opt: &CsvOptions,
) -> Result<Bars> {
    let file = file.to_string();
    parquet_guard::footer(&mut check).map_err(|e| unreadable(&file, e))?;
    let mut reader = ParquetReader::new(input);
    let meta = decode(&file, || reader.get_metadata().cloned())?;
    parquet_guard::pages(&mut check, &meta).map_err(|e| unreadable(&file, e))?;
    let names: Vec<String> = decode(&file, || reader.schema())?
        .iter_names()
        .map(|s| s.to_string())
        .collect();
    // Only the mapped columns are decoded: a file's other columns (Databento's `rtype` is
    // a uint8) may be of types settle never reads.
    let wanted: Vec<String> = [
        Some(&opt.time_col),
        opt.open_col.as_ref(),
        opt.high_col.as_ref(),
        opt.low_col.as_ref(),
        Some(&opt.close_col),
        opt.volume_col.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|want| names.iter().find(|n| n.eq_ignore_ascii_case(want)).cloned())
    .collect();
    let df = decode(&file, || reader.with_columns(Some(wanted)).finish())?;
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
        DataType::Datetime(unit, zone) => {
            let per_second: i64 = match unit {
                TimeUnit::Nanoseconds => 1_000_000_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Milliseconds => 1_000,
            };
            // A zoned timestamp is already an instant; a naive one is wall-clock time.
            let wall_clock = zone.is_none() && tz != chrono_tz::UTC;
            epochs(tcol, &file, &opt.time_col)?
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let row = i as u64 + 1;
                    let v = v.ok_or_else(|| DataError::parse(&file, row, &opt.time_col, "null time"))?;
                    if v % per_second != 0 {
                        return Err(DataError::parse(
                            &file,
                            row,
                            &opt.time_col,
                            format!("time {v} ({unit}) is not a whole second; bars open on whole seconds"),
                        ));
                    }
                    let secs = v.div_euclid(per_second);
                    match chrono::DateTime::from_timestamp(secs, 0) {
                        Some(utc) if wall_clock => {
                            text::local_to_utc(utc.naive_utc(), tz, &file, row, &opt.time_col)
                        }
                        Some(_) => Ok(secs),
                        None => Err(DataError::parse(&file, row, &opt.time_col, "time out of range")),
                    }
                })
                .collect::<Result<_>>()?
        }
        DataType::Date => epochs(tcol, &file, &opt.time_col)?
            .into_iter()
            .enumerate()
            .map(|(i, days)| {
                days.map(|d| d * 86_400).ok_or_else(|| {
                    DataError::parse(&file, i as u64 + 1, &opt.time_col, "null date")
                })
            })
            .collect::<Result<_>>()?,
        other => {
            return Err(DataError::parse(
                &file,
                0,
                &opt.time_col,
                format!(
                    "column type {other}; expected a timestamp, a date, an integer epoch or \
                     text times"
                ),
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
        &format!("parquet:{}", super::csv_ohlcv::file_name(Path::new(&file))),
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

/// Runs one step of polars' Parquet decoding, turning its error, or its panic, into "not a
/// readable Parquet file". polars' reader panics on some corrupt files instead of failing (a
/// malformed footer: polars-parquet 0.55 `expect`s a boolean field's type), and a trader's bad
/// file must get an error, not take the server down.
fn decode<T>(file: &str, step: impl FnOnce() -> PolarsResult<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(done) => done.map_err(|e| unreadable(file, e)),
        Err(panic) => {
            let said = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(unreadable(
                file,
                format!("the Parquet reader gave up on it ({said}); the file is corrupt"),
            ))
        }
    }
}

/// "not a readable Parquet file", and why.
fn unreadable(file: &str, problem: impl std::fmt::Display) -> DataError {
    DataError::Invalid(format!("{file}: not a readable Parquet file: {problem}"))
}

/// The physical integers of a timestamp or date column (units since 1970-01-01).
fn epochs(col: &Column, file: &str, name: &str) -> Result<Vec<Option<i64>>> {
    let ints = col
        .to_physical_repr()
        .cast(&DataType::Int64)
        .map_err(|e| DataError::parse(file, 0, name, format!("unreadable times: {e}")))?;
    let ca = ints.i64().map_err(|e| DataError::Invalid(e.to_string()))?;
    Ok(ca.iter().collect())
}
