//! The schwartz97 package's per-contract settlements (converted to long CSV): one row per
//! date and contract with settle, volume and open interest, in the exchange's units (cents).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::text;
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::Result;

/// Everything one schwartz97 file holds for its root.
#[derive(Debug, Clone)]
pub struct Schwartz {
    /// Root symbol the file's contracts belong to, e.g. `ZC`.
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
    let columns = [
        "date",
        "root",
        "contract",
        "last_trade_date",
        "settle",
        "volume",
        "open_interest",
    ];
    let mut root = String::new();
    let mut rows: BTreeMap<String, BTreeMap<i64, (f64, f64)>> = BTreeMap::new();
    let mut out = Schwartz {
        root: String::new(),
        contracts: Vec::new(),
        expiries: BTreeMap::new(),
        open_interest: BTreeMap::new(),
    };
    text::rows(path, &columns, |row| {
        if root.is_empty() {
            root = row.text(1).to_string();
            crate::specs::spec(&root)?;
        }
        let ts = row.utc_time(0)?;
        let contract = row.text(2).to_string();
        // A few contracts have blank settlements on days they did not trade: skip those rows.
        let Some(settle) = row.price(4)? else {
            return Ok(());
        };
        let vol = row.price(5)?.unwrap_or(f64::NAN);
        if let Some(x) = row.price(6)? {
            out.open_interest
                .entry(contract.clone())
                .or_default()
                .insert(ts, x);
        }
        out.expiries.insert(contract.clone(), row.date(3)?);
        match rows.entry(contract).or_default().insert(ts, (settle, vol)) {
            Some(_) => Err(row.error(0, "duplicate date for this contract")),
            None => Ok(()),
        }
    })?;
    let source = format!("schwartz97:{}", super::csv_ohlcv::file_name(path));
    for (name, series) in rows {
        let mut meta = SeriesMeta::new(&root, Some(&name), BarSize::Daily, &source);
        meta.close_only = true;
        let mut b = Bars::empty(meta);
        let ci = b.contract_index(&name);
        for (t, (p, v)) in series {
            b.push(t, p, p, p, p, v, ci);
        }
        out.contracts.push(b);
    }
    out.root = root;
    Ok(out)
}
