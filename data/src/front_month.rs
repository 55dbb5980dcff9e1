//! Front-month continuous series as a recorded build: the roll schedule, the back-adjustment
//! and the recipe that says how the series was made (source series and their fingerprints,
//! each roll's date, contracts and offset), stored with the series so `settle data list`
//! shows it and the same inputs rebuild the same bytes.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bars::{BarSize, Bars};
use crate::continuous::{self, Adjustment, ContinuousOptions, RollRule};
use crate::error::{DataError, Result};
use crate::roll::{self, trading_dates, RollMethod};
use crate::specs::ContractSpec;
use crate::store::fingerprint;

/// What to build: the roll method, the adjustment and an optional range of trading dates.
#[derive(Debug, Clone)]
pub struct FrontMonth {
    /// Which contract is held on each trading date.
    pub roll: RollMethod,
    /// Back-adjustment applied to the bars before each roll.
    pub adjustment: Adjustment,
    /// Keep only source bars whose trading date is in `from..=to`.
    pub from: Option<NaiveDate>,
    /// Keep only source bars whose trading date is on or before this date (inclusive).
    pub to: Option<NaiveDate>,
}

/// How a continuous series was built, stored beside it in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The roll method, as `--roll` spells it (`expiry:8`, `volume`, `calendar:FILE`).
    pub roll: String,
    /// Back-adjustment that was applied.
    pub adjustment: Adjustment,
    /// First trading date kept, when the build was limited to a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last trading date kept (inclusive), when the build was limited to a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// The per-contract series read, by store key, with their content fingerprints.
    pub sources: Vec<SourceSeries>,
    /// Every roll, oldest first.
    pub rolls: Vec<RollRecord>,
}

/// One source series of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSeries {
    /// Store key of the per-contract series, e.g. `ES/ESZ13/1m`.
    pub key: String,
    /// Content fingerprint of that series when it was read (see [`crate::store::fingerprint`]).
    pub fingerprint: String,
}

/// One roll: from `date` (the trading date of the first bar of `to`) the series holds `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollRecord {
    /// Trading date of the first bar taken from the new contract.
    pub date: NaiveDate,
    /// Contract held before the roll, e.g. `ESZ13`.
    pub from: String,
    /// Contract held from `date` on.
    pub to: String,
    /// Points added (difference) or factor applied (ratio) to every earlier bar; 0 with no
    /// adjustment.
    pub offset: f64,
}

impl std::str::FromStr for Adjustment {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "difference" | "panama" => Ok(Adjustment::Difference),
            "ratio" => Ok(Adjustment::Ratio),
            "none" => Ok(Adjustment::None),
            _ => Err(DataError::Invalid(format!(
                "adjustment `{s}`: expected difference, ratio or none"
            ))),
        }
    }
}

/// Builds `spec.root`'s front-month series from its per-contract series (one bar size).
pub fn build(spec: &ContractSpec, contracts: &[Bars], how: &FrontMonth) -> Result<Bars> {
    let bar_size = check_sources(spec, contracts)?;
    let kept: Vec<Bars> = if how.from.is_none() && how.to.is_none() {
        contracts
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect()
    } else {
        contracts
            .iter()
            .map(|c| in_range(c, spec, how))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect()
    };
    if kept.is_empty() {
        return Err(DataError::Invalid(format!(
            "no {} {bar_size} bars in the date range asked for",
            spec.root
        )));
    }
    let schedule = roll::schedule(spec, &kept, &how.roll)?;
    let first_ts = first_bar_of_each_date(spec, &kept)?;
    let at: Vec<(i64, String)> = schedule
        .iter()
        .map(|(d, c)| (first_ts.get(d).copied().unwrap_or(i64::MIN), c.clone()))
        .collect();
    let opt = ContinuousOptions {
        roll: RollRule::Schedule(at),
        adjustment: how.adjustment,
        fill_missing: false,
    };
    let (mut out, offsets) = continuous::build_with_offsets(spec.root, &kept, &opt)?;
    let dates = trading_dates(&out, spec)?;
    let mut rolls = Vec::new();
    for (i, date) in dates.iter().enumerate().skip(1) {
        if out.contract[i] != out.contract[i - 1] {
            rolls.push(RollRecord {
                date: *date,
                from: out.contract_name(i - 1).to_string(),
                to: out.contract_name(i).to_string(),
                offset: offsets.get(rolls.len()).copied().unwrap_or(0.0),
            });
        }
    }
    let mut sources: Vec<SourceSeries> = contracts
        .iter()
        .map(|c| SourceSeries {
            key: c.meta.key(),
            fingerprint: fingerprint(c),
        })
        .collect();
    sources.sort_by(|a, b| a.key.cmp(&b.key));
    out.meta.source = format!(
        "front month of {} contracts (roll {}, {} adjusted)",
        contracts.len(),
        how.roll.label(),
        how.adjustment.label()
    );
    out.meta.recipe = Some(Recipe {
        roll: how.roll.label(),
        adjustment: how.adjustment,
        from: how.from,
        to: how.to,
        sources,
        rolls,
    });
    Ok(out)
}

/// Every source must be a contract of `spec.root`, all of one bar size.
fn check_sources(spec: &ContractSpec, contracts: &[Bars]) -> Result<BarSize> {
    let first = contracts.first().ok_or_else(|| {
        DataError::Invalid(format!(
            "no {} contracts in the store to build a front month from",
            spec.root
        ))
    })?;
    for c in contracts {
        if c.meta.contract.is_none() || c.meta.symbol != spec.root {
            return Err(DataError::Invalid(format!(
                "{} is not a {} contract series",
                c.meta.key(),
                spec.root
            )));
        }
        if c.meta.bar_size != first.meta.bar_size {
            return Err(DataError::Invalid(format!(
                "{} and {} have different bar sizes",
                first.meta.key(),
                c.meta.key()
            )));
        }
    }
    Ok(first.meta.bar_size)
}

/// The bars of `c` whose trading date is within the build's range.
fn in_range(c: &Bars, spec: &ContractSpec, how: &FrontMonth) -> Result<Bars> {
    // Trading dates never decrease along a series, so the range is one slice.
    let dates = trading_dates(c, spec)?;
    let start = dates.partition_point(|d| how.from.is_some_and(|f| *d < f));
    let end = dates.partition_point(|d| how.to.is_none_or(|t| *d <= t));
    Ok(c.slice(start..end.max(start)))
}

/// The earliest bar time of each trading date across all contracts: where a roll scheduled
/// for that date takes effect.
fn first_bar_of_each_date(
    spec: &ContractSpec,
    contracts: &[Bars],
) -> Result<std::collections::BTreeMap<NaiveDate, i64>> {
    let mut first = std::collections::BTreeMap::new();
    for c in contracts {
        let dates = trading_dates(c, spec)?;
        // Dates never decrease along a series: the first bar of each run of one date.
        let mut start = 0;
        for run in dates.chunk_by(|a, b| a == b) {
            let t = c.ts[start];
            start += run.len();
            first
                .entry(run[0])
                .and_modify(|f: &mut i64| *f = (*f).min(t))
                .or_insert(t);
        }
    }
    Ok(first)
}

/// Builds `root`'s front month at `bar_size` from every per-contract series of it in `store`
/// and saves it (atomically) under `ROOT/continuous/BAR` with its recipe.
pub fn build_in_store(
    store: &crate::store::Store,
    root: &str,
    bar_size: BarSize,
    how: &FrontMonth,
) -> Result<crate::store::Entry> {
    let spec = crate::specs::spec(root)?;
    let keys: Vec<String> = store
        .list()?
        .into_iter()
        .filter(|e| e.symbol == spec.root && e.bar_size == bar_size && e.kind == "contract")
        .map(|e| e.key)
        .collect();
    if keys.is_empty() {
        return Err(DataError::Invalid(format!(
            "no {} {bar_size} contract series in the store to build a front month from \
             (import per-contract files first; `settle data list` shows what is there)",
            spec.root
        )));
    }
    let contracts: Vec<Bars> = keys.iter().map(|k| store.load(k)).collect::<Result<_>>()?;
    let built = build(spec, &contracts, how)?;
    let mut entries = store.import(&[built])?;
    Ok(entries.remove(0))
}

impl Recipe {
    /// One line for `settle data list`: `roll expiry:8, difference, 1 roll`.
    pub fn summary(&self) -> String {
        let n = self.rolls.len();
        format!(
            "roll {}, {}, {n} roll{}",
            self.roll,
            self.adjustment.label(),
            if n == 1 { "" } else { "s" }
        )
    }
}
