//! The RTL package's tables (converted to CSV): CL front-month daily OHLC ("cushing"),
//! settlement curves `CL01..CL36`, and the contract expiry table used to name the contracts.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::{csv_ohlcv, text};
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// Last trade date of every contract of one root, keyed by contract name (`CLK20`).
pub type Expiries = BTreeMap<String, NaiveDate>;

/// Reads `expiry_table.csv` for one `tick.prefix` (e.g. `CL`); contracts are named
/// `<root><month letter><yy>` with `root` the settle ticker (e.g. `CL`).
pub fn expiry_table(path: &Path, prefix: &str, root: &str) -> Result<Expiries> {
    let columns = ["tick.prefix", "Last.Trade", "Year", "Month.Letter"];
    let mut out = Expiries::new();
    text::rows(path, &columns, |row| {
        if row.text(0) == prefix {
            let year = row.text(2);
            let yy = year.get(year.len().saturating_sub(2)..).unwrap_or("");
            out.insert(format!("{root}{}{yy}", row.text(3)), row.date(1)?);
        }
        Ok(())
    })?;
    if out.is_empty() {
        return Err(DataError::Invalid(format!(
            "{}: no rows for tick.prefix `{prefix}`",
            text::display(path)
        )));
    }
    Ok(out)
}

/// The `n`-th nearby contract (1 = front) trading on `date`: contracts still trading on their
/// last trade date count, as RTL's `CL01` does (CLK20 is CL01 through 2020-04-21).
pub fn nearby(exp: &Expiries, date: NaiveDate, n: usize) -> Option<&str> {
    let mut live: Vec<(&NaiveDate, &String)> = exp
        .iter()
        .filter(|(_, d)| **d >= date)
        .map(|(c, d)| (d, c))
        .collect();
    live.sort();
    live.get(n.checked_sub(1)?).map(|(_, c)| c.as_str())
}

/// CL front-month daily OHLC (`date,open,high,low,close`), contracts named from `expiries`.
pub fn cushing_ohlc(path: &Path, expiries: &Expiries) -> Result<Bars> {
    let mut opt = csv_ohlcv::CsvOptions::new("CL", BarSize::Daily);
    opt.time_col = "date".into();
    opt.volume_col = None;
    let mut raw = csv_ohlcv::read(path, &opt)?;
    raw.meta.source = format!("rtl:{}", csv_ohlcv::file_name(path));
    name_contracts(raw, expiries, 1)
}

/// The `CLnn` column of a settlement-curve file as close-only daily bars; blank cells
/// (holidays) are skipped. Negative settlements (CL01 on 2020-04-20) are kept.
pub fn settlement_curve(path: &Path, root: &str, n: usize, expiries: &Expiries) -> Result<Bars> {
    let file = text::display(path);
    let column = format!("{root}{n:02}");
    let mut meta = SeriesMeta::new(
        root,
        None,
        BarSize::Daily,
        &format!("rtl:{}", csv_ohlcv::file_name(path)),
    );
    meta.close_only = true;
    let mut bars = Bars::empty(meta);
    let mut lines = Vec::new();
    text::rows(path, &["date", &column], |row| {
        let ts = row.utc_time(0)?;
        if let Some(v) = row.price(1)? {
            bars.push(ts, v, v, v, v, f64::NAN, 0);
            lines.push(row.line);
        }
        Ok(())
    })?;
    bars.validate(&file, Some(&lines))?;
    name_contracts(bars, expiries, n)
}

/// Sets each bar's contract to the `n`-th nearby on its date.
fn name_contracts(mut bars: Bars, expiries: &Expiries, n: usize) -> Result<Bars> {
    for i in 0..bars.len() {
        let date = bars.date(i);
        let c = nearby(expiries, date, n)
            .ok_or_else(|| {
                DataError::Invalid(format!("no contract in the expiry table trades on {date}"))
            })?
            .to_string();
        bars.contract[i] = bars.contract_index(&c);
    }
    Ok(bars)
}
