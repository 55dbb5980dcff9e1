//! The columnar bar series: one `Vec` per field, so the engine's hot loops run on plain slices.
//!
//! Time convention: `ts` is the bar's **open** time in UTC, in epoch seconds. Daily bars are
//! stamped with their **trading date** at 00:00 UTC (the CME session that closes on that date),
//! so a daily bar's `ts` is a date, not an instant; [`Bars::date`] turns any bar into its date.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// How long one bar lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum BarSize {
    /// Intraday bars of this many minutes (1, 5, 15, 60, ...).
    Minutes(u32),
    /// One bar per trading session, stamped with the session's trading date.
    Daily,
}

impl BarSize {
    /// Bar length in seconds (a daily bar counts as 86,400).
    pub fn seconds(self) -> i64 {
        match self {
            BarSize::Minutes(m) => i64::from(m) * 60,
            BarSize::Daily => 86_400,
        }
    }

    /// True for intraday bar sizes.
    pub fn is_intraday(self) -> bool {
        matches!(self, BarSize::Minutes(_))
    }
}

impl std::fmt::Display for BarSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BarSize::Daily => write!(f, "1d"),
            BarSize::Minutes(m) if m % 60 == 0 => write!(f, "{}h", m / 60),
            BarSize::Minutes(m) => write!(f, "{m}m"),
        }
    }
}

impl std::str::FromStr for BarSize {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let bad = || {
            DataError::Invalid(format!(
                "bar size `{s}`: expected one of 1m, 5m, 15m, 30m, 1h, 1d (or daily)"
            ))
        };
        if t == "1d" || t == "d" || t == "daily" || t == "day" {
            return Ok(BarSize::Daily);
        }
        let (num, mult) = if let Some(n) = t.strip_suffix('h') {
            (n, 60)
        } else if let Some(n) = t.strip_suffix("min") {
            (n, 1)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 1)
        } else {
            return Err(bad());
        };
        let n: u32 = num.parse().map_err(|_| bad())?;
        // Checked: `71582789h` would wrap to 44 minutes.
        match n.checked_mul(mult) {
            Some(minutes @ 1..=720) => Ok(BarSize::Minutes(minutes)),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for BarSize {
    type Error = DataError;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<BarSize> for String {
    fn from(b: BarSize) -> String {
        b.to_string()
    }
}

/// What a series is and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesMeta {
    /// Root symbol from the spec catalog, e.g. `ES`.
    pub symbol: String,
    /// `Some("ESZ13")` for a single contract, `None` for a continuous series.
    pub contract: Option<String>,
    /// Bar length; daily bars are whole sessions stamped with their trading date.
    pub bar_size: BarSize,
    /// Free text naming the source file or importer, e.g. `lean:es_trade.zip`.
    pub source: String,
    /// True when only closes/settlements exist (open = high = low = close): the engine then
    /// has no intrabar range and checks stops and targets on closes only.
    pub close_only: bool,
    /// Contract names referenced by [`Bars::contract`] (index into this list).
    pub contracts: Vec<String>,
    /// Back-adjustment applied when building a continuous series (`none`, `difference`, `ratio`).
    pub adjustment: String,
    /// How a front-month series was built from per-contract series, when settle built it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<crate::front_month::Recipe>,
    /// The store catalog's content fingerprint of the series, when it was loaded from the
    /// store (results cite it in their manifest without hashing the columns again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl SeriesMeta {
    /// Metadata for a series with no contract list yet.
    pub fn new(symbol: &str, contract: Option<&str>, bar_size: BarSize, source: &str) -> Self {
        SeriesMeta {
            symbol: symbol.to_string(),
            contract: contract.map(str::to_string),
            bar_size,
            source: source.to_string(),
            close_only: false,
            contracts: Vec::new(),
            adjustment: "none".to_string(),
            recipe: None,
            fingerprint: None,
        }
    }

    /// Stable key naming the series in the store, e.g. `ES/continuous/1d` or `ES/ESZ13/1m`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.symbol,
            self.contract.as_deref().unwrap_or("continuous"),
            self.bar_size
        )
    }
}

/// A bar series stored column by column. All vectors have the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// Which series this is, its contracts and how it was built.
    pub meta: SeriesMeta,
    /// Bar open time, UTC epoch seconds (daily bars: trading date at 00:00 UTC). Strictly increasing.
    pub ts: Vec<i64>,
    /// Opening price of each bar, in the contract's quoted price units (points, not dollars).
    pub open: Vec<f64>,
    /// Highest price of each bar, in quoted price units; equals the close in close-only series.
    pub high: Vec<f64>,
    /// Lowest price of each bar, in quoted price units; equals the close in close-only series.
    pub low: Vec<f64>,
    /// Closing price (the settlement in daily vendor files) of each bar, in quoted price units.
    pub close: Vec<f64>,
    /// Traded volume; `NaN` where the source has none.
    pub volume: Vec<f64>,
    /// Index into `meta.contracts` of the contract each bar came from.
    pub contract: Vec<u16>,
}

impl Bars {
    /// An empty series with the given metadata.
    pub fn empty(meta: SeriesMeta) -> Self {
        Bars {
            meta,
            ts: Vec::new(),
            open: Vec::new(),
            high: Vec::new(),
            low: Vec::new(),
            close: Vec::new(),
            volume: Vec::new(),
            contract: Vec::new(),
        }
    }

    /// Number of bars (every column has this length).
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// True when the series has no bars.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Appends one bar.
    #[allow(clippy::too_many_arguments)]
    pub fn push(&mut self, ts: i64, o: f64, h: f64, l: f64, c: f64, v: f64, contract: u16) {
        self.ts.push(ts);
        self.open.push(o);
        self.high.push(h);
        self.low.push(l);
        self.close.push(c);
        self.volume.push(v);
        self.contract.push(contract);
    }

    /// Index of `name` in the contract list, adding it if new.
    pub fn contract_index(&mut self, name: &str) -> u16 {
        match self.meta.contracts.iter().position(|c| c == name) {
            Some(i) => i as u16,
            None => {
                self.meta.contracts.push(name.to_string());
                (self.meta.contracts.len() - 1) as u16
            }
        }
    }

    /// Name of the contract bar `i` came from (empty if the series has no contract list).
    pub fn contract_name(&self, i: usize) -> &str {
        self.meta
            .contracts
            .get(self.contract[i] as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The UTC instant bar `i` opens at.
    pub fn time(&self, i: usize) -> DateTime<Utc> {
        DateTime::from_timestamp(self.ts[i], 0).unwrap_or_default()
    }

    /// The calendar date (UTC) of bar `i`'s stamp; for daily bars this is the trading date.
    pub fn date(&self, i: usize) -> NaiveDate {
        Self::date_of(self.ts[i])
    }

    /// The UTC calendar date of an epoch-seconds stamp.
    pub fn date_of(ts: i64) -> NaiveDate {
        DateTime::from_timestamp(ts, 0)
            .unwrap_or_default()
            .date_naive()
    }

    /// The sub-series of bars `range` (metadata is copied).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Bars {
        Bars {
            meta: self.meta.clone(),
            ts: self.ts[range.clone()].to_vec(),
            open: self.open[range.clone()].to_vec(),
            high: self.high[range.clone()].to_vec(),
            low: self.low[range.clone()].to_vec(),
            close: self.close[range.clone()].to_vec(),
            volume: self.volume[range.clone()].to_vec(),
            contract: self.contract[range].to_vec(),
        }
    }

    /// Checks the invariants every importer must guarantee: equal column lengths, strictly
    /// increasing time, finite prices, `low <= open, close <= high`. `origin` names the file
    /// for the error message; `lines` (if given) maps bar index to source line number.
    pub fn validate(&self, origin: &str, lines: Option<&[u64]>) -> Result<()> {
        let n = self.ts.len();
        let lens = [
            self.open.len(),
            self.high.len(),
            self.low.len(),
            self.close.len(),
            self.volume.len(),
            self.contract.len(),
        ];
        if lens.iter().any(|&l| l != n) {
            return Err(DataError::Invalid(format!(
                "{origin}: columns have different lengths"
            )));
        }
        let line = |i: usize| lines.map(|l| l[i]).unwrap_or(i as u64 + 1);
        for i in 0..n {
            if i > 0 && self.ts[i] <= self.ts[i - 1] {
                let what = if self.ts[i] == self.ts[i - 1] {
                    "duplicate bar time"
                } else {
                    "bar time earlier than the previous bar (out of order)"
                };
                return Err(DataError::parse(
                    origin,
                    line(i),
                    "time",
                    format!(
                        "{what}: {} after {}; expected strictly increasing times",
                        self.time(i),
                        self.time(i - 1)
                    ),
                ));
            }
            let (o, h, l, c) = (self.open[i], self.high[i], self.low[i], self.close[i]);
            for (name, v) in [("open", o), ("high", h), ("low", l), ("close", c)] {
                if !v.is_finite() {
                    return Err(DataError::parse(
                        origin,
                        line(i),
                        name,
                        format!("`{v}` is not a finite price"),
                    ));
                }
            }
            if h < l {
                return Err(DataError::parse(
                    origin,
                    line(i),
                    "high",
                    format!("high {h} is below low {l}; expected high >= low"),
                ));
            }
            if o > h || o < l || c > h || c < l {
                let field = if o > h || o < l { "open" } else { "close" };
                return Err(DataError::parse(
                    origin,
                    line(i),
                    field,
                    format!("open {o} / close {c} outside the bar's range [{l}, {h}]"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_size_round_trips() {
        for s in ["1m", "5m", "15m", "1h", "1d"] {
            let b: BarSize = s.parse().unwrap();
            assert_eq!(b.to_string(), s);
        }
        assert_eq!("60m".parse::<BarSize>().unwrap(), BarSize::Minutes(60));
        assert_eq!("daily".parse::<BarSize>().unwrap(), BarSize::Daily);
        assert!("0m".parse::<BarSize>().is_err());
        assert!("weekly".parse::<BarSize>().is_err());
        assert!("721m".parse::<BarSize>().is_err());
        // 71582789 * 60 wraps a u32 to 44: an overflow, not a 44-minute bar.
        assert!("71582789h".parse::<BarSize>().is_err());
        assert!("800001824h".parse::<BarSize>().is_err());
    }

    #[test]
    fn validate_names_line_and_field() {
        let mut b = Bars::empty(SeriesMeta::new("ES", None, BarSize::Daily, "t"));
        b.push(0, 1.0, 2.0, 0.5, 1.5, 1.0, 0);
        b.push(86_400, 1.0, 0.9, 1.1, 1.0, 1.0, 0);
        let e = b.validate("f.csv", Some(&[2, 3])).unwrap_err().to_string();
        assert!(e.contains("f.csv:3") && e.contains("high"), "{e}");
    }
}
