//! Generic OHLCV CSV: any column names, any time zone, bar-open or bar-close stamps.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::text;
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// Whether a file's timestamps mark the start or the end of each bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stamp {
    /// The time is when the bar opened (settle's own convention).
    #[default]
    BarOpen,
    /// The time is when the bar closed; settle subtracts one bar length.
    BarClose,
}

/// How to read a generic CSV. Column names are matched case-insensitively.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Root symbol; it must be in the contract-spec catalog.
    pub symbol: String,
    /// `Some("ESZ13")` for one contract, `None` for a continuous series.
    pub contract: Option<String>,
    /// Bar length of the file's rows; used to shift bar-close stamps back to bar opens.
    pub bar_size: BarSize,
    /// Column holding each bar's date or date-time.
    pub time_col: String,
    /// Column of opening prices; `None` (or no high or low column) makes a close-only series.
    pub open_col: Option<String>,
    /// Column of high prices; `None` makes a close-only series.
    pub high_col: Option<String>,
    /// Column of low prices; `None` makes a close-only series.
    pub low_col: Option<String>,
    /// Column of closing prices; required, an empty value is an error.
    pub close_col: String,
    /// Column of traded volume; `None` leaves volume `NaN`.
    pub volume_col: Option<String>,
    /// IANA zone the times are written in (ignored for date-only values).
    pub timezone: String,
    /// Whether a time marks the start or the end of its bar.
    pub stamp: Stamp,
}

impl CsvOptions {
    /// Defaults for a file with columns `time,open,high,low,close,volume` in UTC, bar-open stamps.
    pub fn new(symbol: &str, bar_size: BarSize) -> Self {
        CsvOptions {
            symbol: symbol.to_ascii_uppercase(),
            contract: None,
            bar_size,
            time_col: "time".into(),
            open_col: Some("open".into()),
            high_col: Some("high".into()),
            low_col: Some("low".into()),
            close_col: "close".into(),
            volume_col: Some("volume".into()),
            timezone: "UTC".into(),
            stamp: Stamp::BarOpen,
        }
    }
}

/// Reads an OHLCV CSV (`.gz` is decompressed). Without open/high/low columns the series is
/// marked close-only.
pub fn read(path: &Path, opt: &CsvOptions) -> Result<Bars> {
    read_from(text::open(path)?, &text::display(path), opt)
}

/// [`read`] over any reader; `file` names the input in errors and, by its last component, in
/// the series' source.
pub fn read_from(input: impl Read, file: &str, opt: &CsvOptions) -> Result<Bars> {
    crate::specs::spec(&opt.symbol)?;
    let tz = text::tz(&opt.timezone)?;
    let mut rdr = text::csv_reader(input);
    let headers = rdr.headers().map_err(|e| text::csv_error(file, e))?.clone();
    let col = |n: &str| text::column(&headers, n, file);
    let opt_col = |n: &Option<String>| n.as_deref().map(col).transpose();
    let t_i = col(&opt.time_col)?;
    let c_i = col(&opt.close_col)?;
    let (o_i, h_i, l_i) = (
        opt_col(&opt.open_col)?,
        opt_col(&opt.high_col)?,
        opt_col(&opt.low_col)?,
    );
    let v_i = opt_col(&opt.volume_col)?;
    let close_only = o_i.is_none() || h_i.is_none() || l_i.is_none();

    let mut meta = SeriesMeta::new(
        &opt.symbol,
        opt.contract.as_deref(),
        opt.bar_size,
        &format!("csv:{}", file_name(Path::new(file))),
    );
    meta.close_only = close_only;
    let mut bars = Bars::empty(meta);
    let cidx = match &opt.contract {
        Some(c) => bars.contract_index(c),
        None => 0,
    };
    let shift = match opt.stamp {
        Stamp::BarOpen => 0,
        Stamp::BarClose if opt.bar_size.is_intraday() => opt.bar_size.seconds(),
        Stamp::BarClose => 0,
    };
    let mut lines = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| text::csv_error(file, e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: usize| rec.get(i).unwrap_or("");
        let ts = text::timestamp(get(t_i), tz, file, line, &opt.time_col)? - shift;
        let c = text::req_price(get(c_i), file, line, &opt.close_col)?;
        let field = |i: Option<usize>, name: &Option<String>| -> Result<f64> {
            match i {
                Some(i) => text::req_price(get(i), file, line, name.as_deref().unwrap_or("")),
                None => Ok(c),
            }
        };
        let (o, h, l) = (
            field(o_i, &opt.open_col)?,
            field(h_i, &opt.high_col)?,
            field(l_i, &opt.low_col)?,
        );
        let v = match v_i {
            Some(i) => text::price(get(i), file, line, "volume")?.unwrap_or(f64::NAN),
            None => f64::NAN,
        };
        bars.push(ts, o, h, l, c, v, cidx);
        lines.push(line);
    }
    if bars.is_empty() {
        return Err(DataError::Invalid(format!("{file}: no data rows")));
    }
    bars.validate(file, Some(&lines))?;
    Ok(bars)
}

/// The last path component, for source labels.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}
