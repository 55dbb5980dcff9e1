//! Roll schedules: which contract a front-month series holds on each trading date.
//!
//! Every method decides a date's contract from what was known before that date's session
//! opened: an expiry calendar (known in advance), a roll calendar file, or the volume of the
//! previous trading date (a crossover seen on date T rolls on the next trading date). The
//! schedule never moves back to an earlier contract.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};

use crate::bars::Bars;
use crate::continuous::{contract_month, contract_sort_key, MONTH_CODES};
use crate::error::{DataError, Result};
use crate::expiry::last_trade_date;
use crate::specs::ContractSpec;

/// How a front-month series chooses its contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollMethod {
    /// Hold a contract until `days` calendar days before its last trade date.
    Expiry {
        /// Calendar days before each contract's last trade date at which the series moves to
        /// the next contract.
        days: u32,
    },
    /// Move to a later contract on the trading date after its volume exceeds the held one's.
    Volume,
    /// Move to a later contract on the trading date after its open interest exceeds the held one's.
    OpenInterest,
    /// A CSV of `date,contract` rows: from each date on, hold that contract.
    Calendar(PathBuf),
}

impl RollMethod {
    /// The root's default: its catalog offset before expiry when its expiry rule is a
    /// calendar rule settle computes, else volume.
    pub fn default_for(spec: &ContractSpec) -> RollMethod {
        let probe = format!("{}{}", spec.root, "Z24");
        if last_trade_date(spec, &probe).is_some() {
            RollMethod::Expiry {
                days: spec.roll_days_before_expiry,
            }
        } else {
            RollMethod::Volume
        }
    }

    /// The method as `settle data continuous --roll` spells it.
    pub fn label(&self) -> String {
        match self {
            RollMethod::Expiry { days } => format!("expiry:{days}"),
            RollMethod::Volume => "volume".into(),
            RollMethod::OpenInterest => "oi".into(),
            RollMethod::Calendar(p) => format!("calendar:{}", p.display()),
        }
    }
}

impl std::str::FromStr for RollMethod {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            DataError::Invalid(format!(
                "roll `{s}`: expected expiry:DAYS (e.g. expiry:5), volume, oi or calendar:FILE"
            ))
        };
        let t = s.trim();
        if let Some(days) = t.strip_prefix("expiry:") {
            return days
                .parse()
                .map(|days| RollMethod::Expiry { days })
                .map_err(|_| bad());
        }
        if let Some(file) = t.strip_prefix("calendar:") {
            return (!file.is_empty())
                .then(|| RollMethod::Calendar(PathBuf::from(file)))
                .ok_or_else(bad);
        }
        match t {
            "volume" => Ok(RollMethod::Volume),
            "oi" | "open_interest" => Ok(RollMethod::OpenInterest),
            _ => Err(bad()),
        }
    }
}

/// The trading date each bar of `bars` belongs to: a daily bar's stamp, an intraday bar's
/// session (ES: Sunday 17:00 CT to Monday 16:00 CT is Monday).
pub fn trading_dates(bars: &Bars, spec: &ContractSpec) -> Result<Vec<NaiveDate>> {
    if !bars.meta.bar_size.is_intraday() {
        return Ok(bars.ts.iter().map(|&t| Bars::date_of(t)).collect());
    }
    let mut dates = crate::resample::TradingDates::new(spec)?;
    Ok(bars.ts.iter().map(|&t| dates.date(t)).collect())
}

/// One contract's bars, summarised per trading date.
struct Daily<'a> {
    name: &'a str,
    /// Volume per trading date (NaN volumes count as missing).
    volume: BTreeMap<NaiveDate, f64>,
    last_date: NaiveDate,
}

/// The contract held from each trading date on: `(date, contract)` at every change, the
/// first entry being the start. `contracts` must be per-contract series of one root and
/// bar size, sorted or not.
pub fn schedule(
    spec: &ContractSpec,
    contracts: &[Bars],
    method: &RollMethod,
) -> Result<Vec<(NaiveDate, String)>> {
    let mut order: Vec<&Bars> = contracts.iter().collect();
    order.sort_by_key(|b| contract_sort_key(b.meta.contract.as_deref().unwrap_or("")));
    let mut daily = Vec::with_capacity(order.len());
    let mut all_dates = BTreeSet::new();
    for b in &order {
        let dates = trading_dates(b, spec)?;
        // Dates never decrease along a series: one map entry per run of one date.
        let mut volume: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        let mut start = 0;
        for run in dates.chunk_by(|a, b| a == b) {
            let day = start..start + run.len();
            start = day.end;
            let finite = b.volume[day].iter().filter(|v| v.is_finite());
            if let Some(total) = finite.copied().reduce(|a, v| a + v) {
                volume.insert(run[0], total);
            }
            all_dates.insert(run[0]);
        }
        daily.push(Daily {
            name: b.meta.contract.as_deref().unwrap_or(""),
            volume,
            last_date: dates.last().copied().unwrap_or(NaiveDate::MIN),
        });
    }
    let dates: Vec<NaiveDate> = all_dates.into_iter().collect();
    let held: Vec<usize> = match method {
        RollMethod::Expiry { days } => by_expiry(spec, &daily, &dates, *days)?,
        RollMethod::Volume => by_volume(&daily, &dates),
        RollMethod::OpenInterest => {
            return Err(DataError::Invalid(format!(
                "roll oi: the store holds no open interest for {}; use expiry:DAYS, volume or \
                 calendar:FILE",
                spec.root
            )))
        }
        RollMethod::Calendar(file) => by_calendar(file, &daily, &dates)?,
    };
    let mut out: Vec<(NaiveDate, String)> = Vec::new();
    for (d, &k) in dates.iter().zip(&held) {
        if out.last().is_none_or(|(_, c)| c != daily[k].name) {
            out.push((*d, daily[k].name.to_string()));
        }
    }
    Ok(out)
}

/// Hold the first contract of the root's roll cycle (`roll_months`: GC holds GJMQVZ, not its
/// thin serial months) whose roll date, `days` before its last trade, is after the date.
fn by_expiry(
    spec: &ContractSpec,
    daily: &[Daily],
    dates: &[NaiveDate],
    days: u32,
) -> Result<Vec<usize>> {
    let mut cycle: Vec<(usize, NaiveDate)> = Vec::new();
    for (k, c) in daily.iter().enumerate() {
        if !in_roll_cycle(spec, c.name) {
            continue;
        }
        let ltd = last_trade_date(spec, c.name).ok_or_else(|| {
            DataError::Invalid(format!(
                "roll expiry:{days}: settle cannot compute {}'s last trade date ({}); use \
                 volume or calendar:FILE",
                c.name, spec.expiry_rule
            ))
        })?;
        cycle.push((k, ltd - Days::new(u64::from(days))));
    }
    if cycle.is_empty() {
        let names: Vec<&str> = daily.iter().map(|c| c.name).collect();
        return Err(DataError::Invalid(format!(
            "roll expiry:{days}: none of {} is in {}'s roll cycle ({})",
            names.join(", "),
            spec.root,
            spec.roll_months
        )));
    }
    let mut held = 0;
    Ok(dates
        .iter()
        .map(|d| {
            while held + 1 < cycle.len() && *d >= cycle[held].1 {
                held += 1;
            }
            cycle[held].0
        })
        .collect())
}

/// True when the contract's month code is one the root's front month holds.
fn in_roll_cycle(spec: &ContractSpec, contract: &str) -> bool {
    contract_month(contract)
        .and_then(|(_, m)| MONTH_CODES.chars().nth((m - 1) as usize))
        .is_some_and(|code| spec.roll_months.contains(code))
}

/// Start with the contract that traded most on the first date (there is no earlier date to
/// decide from); after that, move to the later contract with the highest volume on the
/// previous trading date once it beats the held one, or on when the held one has expired.
fn by_volume(daily: &[Daily], dates: &[NaiveDate]) -> Vec<usize> {
    let vol = |k: usize, d: &NaiveDate| daily[k].volume.get(d).copied().unwrap_or(0.0);
    let best_from = |from: usize, d: &NaiveDate| {
        // Highest volume, the nearer contract on a tie.
        (from..daily.len()).fold(
            from,
            |best, k| if vol(k, d) > vol(best, d) { k } else { best },
        )
    };
    let mut held = 0;
    let mut out = Vec::with_capacity(dates.len());
    for (i, d) in dates.iter().enumerate() {
        if i == 0 {
            held = best_from(0, d);
        } else {
            let prev = &dates[i - 1];
            let best = best_from(held, prev);
            if vol(best, prev) > vol(held, prev) {
                held = best;
            }
        }
        while held + 1 < daily.len() && daily[held].last_date < *d {
            held += 1;
        }
        out.push(held);
    }
    out
}

/// Hold the contract of the latest calendar row on or before each date (the first row's
/// contract before it).
fn by_calendar(file: &Path, daily: &[Daily], dates: &[NaiveDate]) -> Result<Vec<usize>> {
    let rows = read_calendar(file)?;
    let mut index = Vec::with_capacity(rows.len());
    for (line, date, contract) in &rows {
        let k = daily
            .iter()
            .position(|c| c.name == contract)
            .ok_or_else(|| {
                let have: Vec<&str> = daily.iter().map(|c| c.name).collect();
                DataError::parse(
                    file.display().to_string(),
                    *line,
                    "contract",
                    format!(
                        "{contract} is not in the store for this root and bar size (have: {})",
                        have.join(", ")
                    ),
                )
            })?;
        index.push((*date, k));
    }
    Ok(dates
        .iter()
        .map(|d| {
            let n = index.partition_point(|(date, _)| date <= d);
            index[n.saturating_sub(1)].1
        })
        .collect())
}

/// `date,contract` rows (a header line is allowed), dates strictly increasing.
fn read_calendar(file: &Path) -> Result<Vec<(u64, NaiveDate, String)>> {
    let text = std::fs::read_to_string(file).map_err(|e| DataError::io(file, e))?;
    let origin = file.display().to_string();
    let mut rows: Vec<(u64, NaiveDate, String)> = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let ln = k as u64 + 1;
        let line = line.trim();
        if line.is_empty() || (k == 0 && line.to_ascii_lowercase().starts_with("date")) {
            continue;
        }
        let (date, contract) = line.split_once(',').ok_or_else(|| {
            DataError::parse(&origin, ln, "date", "expected `YYYY-MM-DD,CONTRACT`")
        })?;
        let date: NaiveDate = date.trim().parse().map_err(|_| {
            DataError::parse(
                &origin,
                ln,
                "date",
                format!("`{date}` is not a YYYY-MM-DD date"),
            )
        })?;
        let contract = contract.trim().to_string();
        if contract_month(&contract).is_none() {
            return Err(DataError::parse(
                &origin,
                ln,
                "contract",
                format!("`{contract}` is not a contract name such as ESZ13"),
            ));
        }
        if rows.last().is_some_and(|(_, d, _)| *d >= date) {
            return Err(DataError::parse(
                &origin,
                ln,
                "date",
                format!("{date} is not after the previous row's date; expected increasing dates"),
            ));
        }
        rows.push((ln, date, contract));
    }
    if rows.is_empty() {
        return Err(DataError::Invalid(format!(
            "{origin}: the roll calendar has no rows"
        )));
    }
    Ok(rows)
}
