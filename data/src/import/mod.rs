//! Importers: each turns one source format into validated [`Bars`].
//!
//! Every importer names the file, line and field of the first bad value it meets, and never
//! accepts out-of-order or duplicate bars (see [`Bars::validate`](crate::Bars::validate)).

pub mod csv_ohlcv;
pub mod databento;
pub mod lean;
pub mod nautilus;
pub mod parquet;
mod parquet_guard;
pub mod pysystemtrade;
pub mod rtl;
pub mod schwartz97;
mod text;

pub use csv_ohlcv::{CsvOptions, Stamp};
pub use text::date_ts as date_stamp;

use std::path::Path;

use crate::{Bars, DataError, Result};

/// Every series in a trader's file, by its kind: a Databento DBN file (`.dbn`, `.dbn.zst`)
/// names its own symbols and contracts; a CSV or Parquet file (by extension) is one series
/// described by `columns`. The one reading path of `settle data import` and the MCP
/// `import_data` tool.
pub fn read_file(path: &Path, columns: Option<&CsvOptions>) -> Result<Vec<Bars>> {
    if databento::is_dbn(path) {
        if columns.is_some_and(|c| c.contract.is_some() || !c.symbol.is_empty()) {
            return Err(DataError::Invalid(format!(
                "{}: a DBN file names its own symbols and contracts; give no symbol or contract",
                path.display()
            )));
        }
        return databento::read(path);
    }
    let columns = columns.filter(|c| !c.symbol.is_empty()).ok_or_else(|| {
        DataError::Invalid(format!(
            "{}: a CSV or Parquet file needs its symbol (e.g. ES)",
            path.display()
        ))
    })?;
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    Ok(vec![if is_parquet {
        parquet::read(path, columns)?
    } else {
        csv_ohlcv::read(path, columns)?
    }])
}
