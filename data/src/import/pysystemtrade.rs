//! pysystemtrade's CSV data: multiple prices, Carver's back-adjusted series and roll calendars.
//!
//! Rows are daily at 23:00 before ~2013 and irregular intraday snapshots afterwards; times are
//! kept as written (UTC). Prices are closes only, and grains/livestock are in cents.

use std::collections::BTreeMap;
use std::path::Path;

use super::text;
use crate::bars::{BarSize, Bars, SeriesMeta};
use crate::error::Result;

/// One row of a `multiple_prices_csv` file: the held (`PRICE`), next (`FORWARD`) and carry
/// contracts with their closes at one moment. Contracts are `YYYYMM00` strings as written.
#[derive(Debug, Clone, PartialEq)]
pub struct MultipleRow {
    /// Snapshot time, UTC epoch seconds, as written in `DATETIME`.
    pub ts: i64,
    /// Close of the held contract; `None` where the file has no value.
    pub price: Option<f64>,
    /// The held contract, `YYYYMM00`.
    pub price_contract: String,
    /// Close of the next contract; `None` where the file has no value.
    pub forward: Option<f64>,
    /// The next contract, `YYYYMM00`.
    pub forward_contract: String,
    /// Close of the carry contract (used for the carry signal); `None` where empty.
    pub carry: Option<f64>,
    /// The carry contract, `YYYYMM00`.
    pub carry_contract: String,
}

/// One roll in a `roll_calendars_csv` file: at `ts` the position rolls from `current` to `next`.
#[derive(Debug, Clone, PartialEq)]
pub struct RollEvent {
    /// Time of the roll, UTC epoch seconds, as written in the file.
    pub ts: i64,
    /// Contract held until the roll, `YYYYMM00`.
    pub current: String,
    /// Contract held from the roll on, `YYYYMM00`.
    pub next: String,
}

/// Reads a `multiple_prices_csv/<INST>.csv` file.
pub fn multiple_prices(path: &Path) -> Result<Vec<MultipleRow>> {
    let columns = [
        "DATETIME",
        "PRICE",
        "PRICE_CONTRACT",
        "FORWARD",
        "FORWARD_CONTRACT",
        "CARRY",
        "CARRY_CONTRACT",
    ];
    let mut out: Vec<MultipleRow> = Vec::new();
    text::rows(path, &columns, |row| {
        let ts = row.utc_time(0)?;
        if out.last().is_some_and(|prev| ts <= prev.ts) {
            return Err(row.error(
                0,
                "not after the previous row; expected strictly increasing times",
            ));
        }
        let contract = |k: usize| -> Result<String> {
            let s = row.text(k);
            if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s.to_string())
            } else {
                Err(row.error(k, format!("`{s}` is not a contract id; expected YYYYMM00")))
            }
        };
        out.push(MultipleRow {
            ts,
            price: row.price(1)?,
            price_contract: contract(2)?,
            forward: row.price(3)?,
            forward_contract: contract(4)?,
            carry: row.price(5)?,
            carry_contract: contract(6)?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Reads an `adjusted_prices_csv/<INST>.csv` file: `(ts, price)` per row. Rows with an empty
/// price (a few hundred in Carver's files, on days the held contract did not trade) are skipped.
pub fn adjusted_rows(path: &Path) -> Result<Vec<(i64, f64)>> {
    let mut out = Vec::new();
    text::rows(path, &["DATETIME", "price"], |row| {
        let ts = row.utc_time(0)?;
        if let Some(v) = row.price(1)? {
            out.push((ts, v));
        }
        Ok(())
    })?;
    Ok(out)
}

/// Carver's back-adjusted series as daily close-only bars (the last snapshot of each date).
pub fn adjusted_prices(path: &Path, root: &str) -> Result<Bars> {
    let rows = adjusted_rows(path)?;
    let mut meta = SeriesMeta::new(
        root,
        None,
        BarSize::Daily,
        &format!(
            "pysystemtrade:adjusted:{}",
            super::csv_ohlcv::file_name(path)
        ),
    );
    meta.close_only = true;
    meta.adjustment = "difference".into();
    let mut bars = Bars::empty(meta);
    for (d, v) in last_per_date(rows.iter().map(|&(t, v)| (t, v))) {
        bars.push(d, v, v, v, v, f64::NAN, 0);
    }
    bars.validate(&text::display(path), None)?;
    Ok(bars)
}

/// Keeps the last value of each UTC calendar date, stamped at that date's 00:00 UTC.
pub fn last_per_date(rows: impl Iterator<Item = (i64, f64)>) -> BTreeMap<i64, f64> {
    rows.map(|(t, v)| (t.div_euclid(86_400) * 86_400, v))
        .collect()
}

/// Names the contract of every bar of an adjusted series from its roll calendar: the first
/// event's current contract before it, each event's next contract from its time on.
pub fn name_contracts(mut bars: Bars, events: &[RollEvent], root: &str) -> Bars {
    let mut k = 0;
    for i in 0..bars.len() {
        while k < events.len() && events[k].ts <= bars.ts[i] {
            k += 1;
        }
        let held = match k {
            0 => events.first().map(|e| &e.current),
            _ => Some(&events[k - 1].next),
        };
        if let Some(c) = held {
            let name = contract_name(root, c);
            bars.contract[i] = bars.contract_index(&name);
        }
    }
    bars
}

/// Reads a `roll_calendars_csv/<INST>.csv` file.
pub fn roll_calendar(path: &Path) -> Result<Vec<RollEvent>> {
    let mut out = Vec::new();
    text::rows(
        path,
        &["DATE_TIME", "current_contract", "next_contract"],
        |row| {
            out.push(RollEvent {
                ts: row.utc_time(0)?,
                current: row.text(1).to_string(),
                next: row.text(2).to_string(),
            });
            Ok(())
        },
    )?;
    Ok(out)
}

/// Splits multiple-price rows into one close-only series per contract (every contract that
/// appears as PRICE, FORWARD or CARRY), named `<root><YYYYMM>`, at the rows' own times.
pub fn per_contract(rows: &[MultipleRow], root: &str, source: &str) -> Vec<Bars> {
    let mut by: BTreeMap<&str, BTreeMap<i64, f64>> = BTreeMap::new();
    for r in rows {
        for (c, v) in [
            (&r.price_contract, r.price),
            (&r.forward_contract, r.forward),
            (&r.carry_contract, r.carry),
        ] {
            if let Some(v) = v {
                by.entry(c.as_str()).or_default().insert(r.ts, v);
            }
        }
    }
    by.into_iter()
        .map(|(c, series)| {
            let name = contract_name(root, c);
            let mut meta = SeriesMeta::new(root, Some(&name), BarSize::Daily, source);
            meta.close_only = true;
            let mut b = Bars::empty(meta);
            let ci = b.contract_index(&name);
            for (t, v) in series {
                b.push(t, v, v, v, v, f64::NAN, ci);
            }
            b
        })
        .collect()
}

/// The contracts pysystemtrade actually held: `(first row time, contract)` at each change of
/// `PRICE_CONTRACT`. This is the realised roll schedule; the roll calendar file agrees with it
/// except where rolls were done by hand in live trading.
pub fn held_schedule(rows: &[MultipleRow], root: &str) -> Vec<(i64, String)> {
    let mut s: Vec<(i64, String)> = Vec::new();
    for r in rows {
        let c = contract_name(root, &r.price_contract);
        if s.last().is_none_or(|(_, last)| *last != c) {
            s.push((r.ts, c));
        }
    }
    s
}

/// `ES` + `20131200` → `ES201312`.
pub fn contract_name(root: &str, yyyymm00: &str) -> String {
    format!("{root}{}", &yyyymm00[..yyyymm00.len().min(6)])
}
