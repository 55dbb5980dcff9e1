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

/// The raw front month renamed as the first nearby, `CL1` (Bloomberg's generic name): the
/// unadjusted series, whose P&L across a roll includes the gap between contracts, kept next to
/// the back-adjusted one under key `CL/CL1/1d`.
pub fn first_nearby(mut raw: Bars) -> Bars {
    raw.meta.contract = Some(format!("{}1", raw.meta.symbol));
    raw.meta.source = format!("{} (unadjusted first nearby)", raw.meta.source);
    raw
}

/// The front month back-adjusted by difference: at each roll, every earlier bar moves by the
/// next contract's settlement minus the expiring one's close on the last day before the roll
/// (`next` is the second nearby, `CL02`). Held positions then carry no roll gap as P&L.
pub fn back_adjusted_front(raw: &Bars, next: &Bars) -> Result<Bars> {
    use crate::continuous::{Adjustment, ContinuousOptions, RollRule};
    type Row = (f64, f64, f64, f64, f64);
    // Per contract and time: its bars as the front month, plus its second-nearby settlements
    // on the dates it was not yet the front (where the roll gap is measured).
    let mut per: BTreeMap<String, BTreeMap<i64, Row>> = BTreeMap::new();
    let row = |b: &Bars, i: usize| (b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]);
    for i in 0..raw.len() {
        let c = raw.contract_name(i).to_string();
        per.entry(c).or_default().insert(raw.ts[i], row(raw, i));
    }
    let span = raw.ts.first().copied().unwrap_or(0)..=raw.ts.last().copied().unwrap_or(0);
    for i in (0..next.len()).filter(|&i| span.contains(&next.ts[i])) {
        let c = next.contract_name(i).to_string();
        per.entry(c)
            .or_default()
            .entry(next.ts[i])
            .or_insert(row(next, i));
    }
    let contracts: Vec<Bars> = per
        .into_iter()
        .map(|(c, rows)| {
            let meta = SeriesMeta::new(&raw.meta.symbol, Some(&c), BarSize::Daily, "");
            let mut b = Bars::empty(meta);
            let k = b.contract_index(&c);
            for (t, (o, h, l, cl, v)) in rows {
                b.push(t, o, h, l, cl, v, k);
            }
            b
        })
        .collect();
    let mut schedule: Vec<(i64, String)> = Vec::new();
    for i in 0..raw.len() {
        let c = raw.contract_name(i);
        if schedule.last().is_none_or(|(_, last)| last != c) {
            schedule.push((raw.ts[i], c.to_string()));
        }
    }
    let opt = ContinuousOptions {
        roll: RollRule::Schedule(schedule),
        adjustment: Adjustment::Difference,
        fill_missing: false,
    };
    let mut out = crate::continuous::build(&raw.meta.symbol, &contracts, &opt)?;
    out.meta.source = format!(
        "{} back-adjusted by difference with the CL02 settlement at each roll",
        raw.meta.source
    );
    Ok(out)
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
