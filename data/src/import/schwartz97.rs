//! The schwartz97 package's per-contract settlements (converted to long CSV): one row per
//! date and contract with settle, volume and open interest, in the exchange's units (cents).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::text;
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// Everything one schwartz97 file holds for its root.
#[derive(Debug, Clone)]
pub struct Schwartz {
    pub root: String,
    /// One close-only daily series per contract (`ZCH1997`), volume where given.
    pub contracts: Vec<Bars>,
    /// Last trade date per contract.
    pub expiries: BTreeMap<String, NaiveDate>,
    /// Open interest per contract and bar time.
    pub open_interest: BTreeMap<String, BTreeMap<i64, f64>>,
}

/// Reads one `converted/schwartz97/<commodity>.csv` file.
pub fn read(path: &Path) -> Result<Schwartz> {
    let file = text::display(path);
    let mut rdr = text::csv_reader(path)?;
    let h = rdr
        .headers()
        .map_err(|e| text::csv_error(&file, e))?
        .clone();
    let col = |n| text::column(&h, n, &file);
    let (d, r, c, lt, s, v, oi) = (
        col("date")?,
        col("root")?,
        col("contract")?,
        col("last_trade_date")?,
        col("settle")?,
        col("volume")?,
        col("open_interest")?,
    );
    let mut root = String::new();
    let mut rows: BTreeMap<String, BTreeMap<i64, (f64, f64, u64)>> = BTreeMap::new();
    let mut out = Schwartz {
        root: String::new(),
        contracts: Vec::new(),
        expiries: BTreeMap::new(),
        open_interest: BTreeMap::new(),
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| text::csv_error(&file, e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let g = |i: usize| rec.get(i).unwrap_or("");
        if root.is_empty() {
            root = g(r).trim().to_string();
            crate::specs::spec(&root)?;
        }
        let ts = text::timestamp(g(d), chrono_tz::UTC, &file, line, "date")?;
        let contract = g(c).trim().to_string();
        // A few contracts have blank settlements on days they did not trade: skip those rows.
        let Some(settle) = text::price(g(s), &file, line, "settle")? else {
            continue;
        };
        let vol = text::price(g(v), &file, line, "volume")?.unwrap_or(f64::NAN);
        if let Some(x) = text::price(g(oi), &file, line, "open_interest")? {
            out.open_interest
                .entry(contract.clone())
                .or_default()
                .insert(ts, x);
        }
        let exp = NaiveDate::parse_from_str(g(lt).trim(), "%Y-%m-%d")
            .map_err(|_| DataError::parse(&file, line, "last_trade_date", "expected YYYY-MM-DD"))?;
        out.expiries.insert(contract.clone(), exp);
        if rows
            .entry(contract)
            .or_default()
            .insert(ts, (settle, vol, line))
            .is_some()
        {
            return Err(DataError::parse(
                &file,
                line,
                "date",
                "duplicate date for this contract",
            ));
        }
    }
    let source = format!("schwartz97:{}", super::csv_ohlcv::file_name(path));
    for (name, series) in rows {
        let mut meta = SeriesMeta::new(&root, Some(&name), BarSize::Daily, &source);
        meta.close_only = true;
        let mut b = Bars::empty(meta);
        let ci = b.contract_index(&name);
        for (t, (p, v, _)) in series {
            b.push(t, p, p, p, p, v, ci);
        }
        out.contracts.push(b);
    }
    out.root = root;
    Ok(out)
}
