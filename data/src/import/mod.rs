//! Importers: each turns one source format into validated [`Bars`](crate::Bars).
//!
//! Every importer names the file, line and field of the first bad value it meets, and never
//! accepts out-of-order or duplicate bars (see [`Bars::validate`](crate::Bars::validate)).

pub mod csv_ohlcv;
pub mod databento;
pub mod lean;
pub mod nautilus;
pub mod parquet;
pub mod pysystemtrade;
pub mod rtl;
pub mod schwartz97;
mod text;

pub use csv_ohlcv::{CsvOptions, Stamp};
pub use text::date_ts as date_stamp;
