//! QuantConnect Lean futures zips (AlgoSeek data): header-less CSV entries, one per contract.
//!
//! * daily/hour: `<sym>_trade.zip` with entries `<sym>_trade_<YYYYMM>.csv`, rows
//!   `YYYYMMDD HH:MM,open,high,low,close,volume` in the data time zone (UTC for CME futures;
//!   a daily row's date is Lean's UTC day, so Sunday evenings appear as small separate days).
//! * minute: `minute/<sym>/<YYYYMMDD>_trade.zip` with entries `..._<YYYYMM>.csv`, rows
//!   `ms_since_midnight,open,high,low,close,volume`.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use super::text;
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// Reads a daily or hour `<sym>_trade.zip`: one series per contract entry.
pub fn bars_zip(path: &Path, root: &str, bar_size: BarSize) -> Result<Vec<Bars>> {
    let f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    bars_zip_from(f, &text::display(path), root, bar_size)
}

/// [`bars_zip`] over any seekable reader; `file` names the zip in errors and, by its last
/// component, in the series' source.
pub fn bars_zip_from(
    input: impl Read + Seek,
    file: &str,
    root: &str,
    bar_size: BarSize,
) -> Result<Vec<Bars>> {
    let mut per: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for_each_entry(input, file, |entry, content| {
        let contract = contract_of(root, entry)?;
        let origin = format!("{file}!{entry}");
        for (k, line) in content.lines().enumerate() {
            let f: Vec<&str> = line.split(',').collect();
            let ln = k as u64 + 1;
            let t = f.first().copied().unwrap_or("");
            let ts = text::timestamp(t, chrono_tz::UTC, &origin, ln, "time")?;
            let ts = if bar_size == BarSize::Daily {
                ts.div_euclid(86_400) * 86_400
            } else {
                ts
            };
            per.entry(contract.clone())
                .or_default()
                .push(row(ts, &f, &origin, ln)?);
        }
        Ok(())
    })?;
    finish(root, per, bar_size, Path::new(file))
}

/// Reads every `<YYYYMMDD>_trade.zip` in a Lean minute directory.
pub fn minute_dir(dir: &Path, root: &str) -> Result<Vec<Bars>> {
    let mut days: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("_trade.zip"))
        .collect();
    days.sort();
    if days.is_empty() {
        return Err(DataError::Invalid(format!(
            "{}: no *_trade.zip files",
            dir.display()
        )));
    }
    let mut per: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for day in &days {
        let name = day
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let date = chrono::NaiveDate::parse_from_str(&name[..8.min(name.len())], "%Y%m%d")
            .map_err(|_| {
                DataError::Invalid(format!(
                    "{}: file name must start with YYYYMMDD",
                    day.display()
                ))
            })?;
        let midnight = text::date_ts(date);
        let f = std::fs::File::open(day).map_err(|e| DataError::io(day, e))?;
        let file = text::display(day);
        for_each_entry(f, &file, |entry, content| {
            let contract = contract_of(root, entry)?;
            let origin = format!("{file}!{entry}");
            for (k, line) in content.lines().enumerate() {
                let f: Vec<&str> = line.split(',').collect();
                let ln = k as u64 + 1;
                let ms: i64 = f
                    .first()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| {
                        DataError::parse(
                            &origin,
                            ln,
                            "time",
                            "expected milliseconds since midnight",
                        )
                    })?;
                per.entry(contract.clone()).or_default().push(row(
                    midnight + ms / 1000,
                    &f,
                    &origin,
                    ln,
                )?);
            }
            Ok(())
        })?;
    }
    finish(root, per, BarSize::Minutes(1), dir)
}

struct Row {
    ts: i64,
    v: [f64; 5],
    origin: String,
    line: u64,
}

fn row(ts: i64, f: &[&str], origin: &str, line: u64) -> Result<Row> {
    if f.len() < 6 {
        return Err(DataError::parse(
            origin,
            line,
            "row",
            format!("{} fields; expected 6", f.len()),
        ));
    }
    let mut v = [0.0; 5];
    for (k, name) in ["open", "high", "low", "close", "volume"]
        .iter()
        .enumerate()
    {
        v[k] = text::req_price(f[k + 1], origin, line, name)?;
    }
    Ok(Row {
        ts,
        v,
        origin: origin.to_string(),
        line,
    })
}

fn finish(
    root: &str,
    per: BTreeMap<String, Vec<Row>>,
    bar_size: BarSize,
    path: &Path,
) -> Result<Vec<Bars>> {
    let source = format!(
        "lean:{}",
        path.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    per.into_iter()
        .map(|(contract, rows)| {
            let mut b = Bars::empty(SeriesMeta::new(root, Some(&contract), bar_size, &source));
            let ci = b.contract_index(&contract);
            for r in &rows {
                b.push(r.ts, r.v[0], r.v[1], r.v[2], r.v[3], r.v[4], ci);
            }
            // Errors point at the zip entry and line of the offending row.
            if let Err(e) = b.validate("", None) {
                let bad = match &e {
                    DataError::Parse { line, .. } => rows.get(*line as usize - 1),
                    _ => None,
                };
                return Err(match (bad, e) {
                    (Some(r), DataError::Parse { field, problem, .. }) => {
                        DataError::parse(&r.origin, r.line, field, problem)
                    }
                    (_, e) => e,
                });
            }
            Ok(b)
        })
        .collect()
}

/// `es_trade_201312.csv` → `ESZ13`.
fn contract_of(root: &str, entry: &str) -> Result<String> {
    let stem = entry.trim_end_matches(".csv");
    let ym = stem.rsplit('_').next().unwrap_or("");
    let (y, m) = (
        ym.get(..4).and_then(|s| s.parse::<i32>().ok()),
        ym.get(4..6).and_then(|s| s.parse::<usize>().ok()),
    );
    match (y, m) {
        (Some(y), Some(m)) if (1..=12).contains(&m) => {
            Ok(format!("{root}{}{:02}", &"FGHJKMNQUVXZ"[m - 1..m], y % 100))
        }
        _ => Err(DataError::Invalid(format!(
            "zip entry `{entry}`: expected a name ending in _YYYYMM.csv"
        ))),
    }
}

/// Hands `f` each entry of the zip `input` (named `file` in errors) as text.
fn for_each_entry(
    input: impl Read + Seek,
    file: &str,
    mut f: impl FnMut(&str, &str) -> Result<()>,
) -> Result<()> {
    let mut z = zip::ZipArchive::new(input)
        .map_err(|e| DataError::Invalid(format!("{file}: not a zip archive: {e}")))?;
    for i in 0..z.len() {
        let mut e = z
            .by_index(i)
            .map_err(|e| DataError::Invalid(format!("{file}: {e}")))?;
        let name = e.name().to_string();
        let mut s = String::new();
        e.read_to_string(&mut s)
            .map_err(|err| DataError::io(Path::new(file), err))?;
        f(&name, &s)?;
    }
    Ok(())
}
