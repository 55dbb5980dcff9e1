//! Imports the real CME data shipped in `shared/data` (see its `SOURCES.md`) into the store:
//! what `settle data import --sample DIR` and the README's main command load on first run.

use std::path::Path;

use crate::bars::{BarSize, Bars};
use chrono::NaiveDate;

use crate::continuous::{self, Adjustment, ContinuousOptions, RollRule};
use crate::error::Result;
use crate::front_month::{self, FrontMonth};
use crate::import::{lean, nautilus, pysystemtrade as pst, rtl, schwartz97};
use crate::resample::resample;
use crate::roll::RollMethod;
use crate::store::{Entry, Store};

/// pysystemtrade instrument → settle root. CRUDE_W (December-only) is left out: it is not the
/// CL front month; CL comes from RTL instead.
const PYSYSTEMTRADE: [(&str, &str); 19] = [
    ("SP500", "ES"),
    ("NASDAQ", "NQ"),
    ("DOW_mini", "YM"),
    ("RUSSELL_mini", "RTY"),
    ("GAS_US", "NG"),
    ("GOLD", "GC"),
    ("COPPER", "HG"),
    ("US2", "ZT"),
    ("US5", "ZF"),
    ("US10", "ZN"),
    ("US20", "ZB"),
    ("CORN", "ZC"),
    ("SOYBEAN", "ZS"),
    ("WHEAT", "ZW"),
    ("EUR", "6E"),
    ("JPY", "6J"),
    ("GBP", "6B"),
    ("LIVECOW", "LE"),
    ("LEANHOG", "HE"),
];

/// schwartz97 files whose roots no other source covers, with their settle root. Lumber is left
/// out: its `LBS` contract (110,000 board feet) is not today's `LBR` (27,500), so LBR's specs
/// would misprice it.
const SCHWARTZ: [(&str, &str); 3] = [
    ("soybean_meal", "ZM"),
    ("soybean_oil", "ZL"),
    ("heating_oil", "HO"),
];

/// Every series the sample data yields, built in memory (nothing is written).
pub fn series(dir: &Path) -> Result<Vec<Bars>> {
    let mut out = Vec::new();
    for (inst, root) in PYSYSTEMTRADE {
        let rows = pst::multiple_prices(
            &dir.join(format!("raw/pysystemtrade/multiple_prices_csv/{inst}.csv")),
        )?;
        out.push(pysystemtrade_continuous(&rows, root)?);
    }
    // SILVER's multiple prices are missing from the snapshot: Carver's adjusted series, with
    // each bar's contract named from the roll calendar.
    out.push(pst::name_contracts(
        pst::adjusted_prices(
            &dir.join("raw/pysystemtrade/adjusted_prices_csv/SILVER.csv"),
            "SI",
        )?,
        &pst::roll_calendar(&dir.join("raw/pysystemtrade/roll_calendars_csv/SILVER.csv"))?,
        "SI",
    ));

    let cl_exp = rtl::expiry_table(&dir.join("converted/rtl/expiry_table.csv"), "CL", "CL")?;
    let cl_raw = rtl::cushing_ohlc(
        &dir.join("converted/rtl/cushing_c1_CL_front_ohlc_daily.csv"),
        &cl_exp,
    )?;
    let cl_next = rtl::settlement_curve(
        &dir.join("converted/rtl/CL_settlement_curve_daily.csv"),
        "CL",
        2,
        &cl_exp,
    )?;
    out.push(rtl::back_adjusted_front(&cl_raw, &cl_next)?);
    out.push(rtl::first_nearby(cl_raw));

    let six_e = nautilus::bars(
        &dir.join("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )?;
    let spec = crate::specs::spec("6E")?;
    let six_e_5m = resample(&six_e, BarSize::Minutes(5), spec)?;
    for bars in [&six_e, &six_e_5m] {
        out.push(front_month::build(
            spec,
            std::slice::from_ref(bars),
            &lean_front_month(spec),
        )?);
    }
    out.push(six_e_5m);
    out.push(six_e);

    let lean = dir.join("raw/lean/future");
    for (market, sym, root) in [("cme", "es", "ES"), ("comex", "gc", "GC")] {
        let base = lean.join(market);
        let spec = crate::specs::spec(root)?;
        // Lean dates daily rows by UTC day; the store moves them to session dates.
        let daily = lean::bars_zip(
            &base.join(format!("daily/{sym}_trade.zip")),
            root,
            BarSize::Daily,
        )?;
        let hourly = lean::bars_zip(
            &base.join(format!("hour/{sym}_trade.zip")),
            root,
            BarSize::Minutes(60),
        )?;
        let minutes = lean::minute_dir(&base.join(format!("minute/{sym}")), root)?;
        let five: Vec<Bars> = minutes
            .iter()
            .map(|m| resample(m, BarSize::Minutes(5), spec))
            .collect::<Result<_>>()?;
        // No daily front month from these: pysystemtrade's 40-year daily series holds
        // `ES/continuous/1d` and `GC/continuous/1d`, and Lean's daily contracts cover weeks.
        out.extend(daily);
        for contracts in [hourly, minutes, five] {
            out.push(front_month::build(
                spec,
                &contracts,
                &lean_front_month(spec),
            )?);
            out.extend(contracts);
        }
    }

    for (file, root) in SCHWARTZ {
        let s = schwartz97::read(&dir.join(format!("converted/schwartz97/{file}.csv")))?;
        let mut c = continuous::build(
            root,
            &s.contracts,
            &ContinuousOptions {
                roll: RollRule::OpenInterestCrossover(s.open_interest),
                adjustment: Adjustment::Difference,
                fill_missing: false,
            },
        )?;
        c.meta.symbol = root.to_string();
        out.push(c);
    }
    Ok(out)
}

/// The front month built from Lean's (and nautilus') contracts: the root's default roll, back-
/// adjusted by difference, over 2013 and January 2024 only. Lean's 2020 contracts are a
/// separate few days that share no bar with the 2013 ones, so no roll gap between them can be
/// measured; they stay per-contract series.
fn lean_front_month(spec: &crate::ContractSpec) -> FrontMonth {
    FrontMonth {
        roll: RollMethod::default_for(spec),
        adjustment: Adjustment::Difference,
        from: None,
        to: (spec.root != "6E")
            .then(|| NaiveDate::from_ymd_opt(2013, 12, 31))
            .flatten(),
    }
}

/// Imports [`series`] into `store` in one atomic import.
pub fn import(store: &Store, dir: &Path) -> Result<Vec<Entry>> {
    store.import(&series(dir)?)
}

/// The daily continuous series pysystemtrade held: back-adjusted by difference at each change
/// of `PRICE_CONTRACT`, one bar per date (the last snapshot).
pub fn pysystemtrade_continuous(rows: &[pst::MultipleRow], root: &str) -> Result<Bars> {
    let schedule = pst::held_schedule(rows, root);
    let contracts = pst::per_contract(rows, root, "pysystemtrade:multiple_prices");
    let opt = ContinuousOptions {
        roll: RollRule::Schedule(schedule),
        adjustment: Adjustment::Difference,
        fill_missing: true,
    };
    let raw = continuous::build(root, &contracts, &opt)?;
    // One bar per UTC date: the last snapshot of that date.
    let last_of_day: Vec<usize> = (0..raw.len())
        .filter(|&i| {
            i + 1 == raw.len() || raw.ts[i + 1].div_euclid(86_400) != raw.ts[i].div_euclid(86_400)
        })
        .collect();
    let mut daily = Bars::empty(raw.meta.clone());
    for i in last_of_day {
        let d = raw.ts[i].div_euclid(86_400) * 86_400;
        daily.push(
            d,
            raw.open[i],
            raw.high[i],
            raw.low[i],
            raw.close[i],
            raw.volume[i],
            raw.contract[i],
        );
    }
    Ok(daily)
}
