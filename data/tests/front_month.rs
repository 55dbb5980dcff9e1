//! Front-month builds from Lean's real ES contracts: roll dates against Lean's own roll
//! mapping and against the volumes in the files, offsets against the closes, recipes,
//! determinism, errors, atomicity; and every daily sample series on a CME session date.

mod common;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use settle_data::continuous::Adjustment;
use settle_data::front_month::{build, build_in_store, FrontMonth};
use settle_data::import::lean;
use settle_data::roll::RollMethod;
use settle_data::session_dates::on_session_dates;
use settle_data::store::{fingerprint, Store};
use settle_data::{spec, BarSize, Bars};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Lean's ES daily contracts, on session dates, as the sample stores them.
fn es_daily() -> Vec<Bars> {
    let es = spec("ES").unwrap();
    lean::bars_zip(
        &common::shared("raw/lean/future/cme/daily/es_trade.zip"),
        "ES",
        BarSize::Daily,
    )
    .unwrap()
    .into_iter()
    .map(|b| on_session_dates(b, es))
    .collect()
}

fn how(roll: RollMethod, adjustment: Adjustment) -> FrontMonth {
    FrontMonth {
        roll,
        adjustment,
        from: None,
        to: Some(d("2013-12-31")),
    }
}

/// The last date Lean's map file maps ES to its December 2013 contract under mapping mode 0
/// (last trading day): the row `20131219,es vmklfzih2mtd,CME,0`.
fn lean_last_day_of_esz13() -> NaiveDate {
    let text =
        std::fs::read_to_string(common::shared("raw/lean/future/cme/map_files/es.csv")).unwrap();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() == 4 && f[3] == "0" && f[0].starts_with("201312"))
                .then(|| NaiveDate::parse_from_str(f[0], "%Y%m%d").unwrap())
        })
        .next()
        .unwrap()
}

#[test]
fn expiry_roll_matches_lean_last_trading_day_mapping() {
    let es = spec("ES").unwrap();
    let out = build(
        es,
        &es_daily(),
        &how(RollMethod::Expiry { days: 0 }, Adjustment::Difference),
    )
    .unwrap();
    let recipe = out.meta.recipe.clone().unwrap();
    assert_eq!(recipe.rolls.len(), 1, "{:?}", recipe.rolls);
    let roll = &recipe.rolls[0];
    assert_eq!((roll.from.as_str(), roll.to.as_str()), ("ESZ13", "ESH14"));
    // Lean holds ESZ13 through 2013-12-19; the series holds ESH14 from the next session.
    assert_eq!(lean_last_day_of_esz13(), d("2013-12-19"));
    assert_eq!(roll.date, d("2013-12-20"));
    // Offset: ESH14's close minus ESZ13's close on 2013-12-19 (Lean rows: 1801.75, 1808).
    assert_eq!(roll.offset, 1801.75 - 1808.0);
    let k = (0..out.len())
        .find(|&i| out.date(i) == d("2013-12-19"))
        .unwrap();
    assert_eq!(out.contract_name(k), "ESZ13");
    assert_eq!(out.close[k], 1808.0 - 6.25);
    assert_eq!(out.contract_name(k + 1), "ESH14");
    assert_eq!(
        out.close[k + 1],
        1816.5,
        "bars after the last roll are not shifted"
    );
}

#[test]
fn volume_roll_decides_from_the_previous_session() {
    let es = spec("ES").unwrap();
    let out = build(es, &es_daily(), &how(RollMethod::Volume, Adjustment::None)).unwrap();
    let rolls = out.meta.recipe.unwrap().rolls;
    // 2013-12-13: ESH14 traded 868,208 against ESZ13's 347,764 (the day before, 354,874
    // against 1,113,344), so the series holds ESH14 from the next session, Monday 12-16
    // (the Sunday-evening bar of 12-15 is part of Monday's session).
    assert_eq!(rolls.len(), 1);
    assert_eq!(rolls[0].date, d("2013-12-16"));
    assert_eq!(rolls[0].offset, 0.0);
}

#[test]
fn default_roll_is_the_catalog_offset_and_rebuilds_to_the_same_bytes() {
    let es = spec("ES").unwrap();
    assert_eq!(RollMethod::default_for(es), RollMethod::Expiry { days: 8 });
    let contracts = es_daily();
    let h = how(RollMethod::default_for(es), Adjustment::Difference);
    let a = build(es, &contracts, &h).unwrap();
    let b = build(es, &contracts, &h).unwrap();
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_eq!(a, b);
    let recipe = a.meta.recipe.unwrap();
    // ESZ13's last trade date 2013-12-20, less 8 days: ESH14 from 2013-12-12.
    assert_eq!(recipe.rolls[0].date, d("2013-12-12"));
    assert_eq!(recipe.sources.len(), contracts.len());
    for c in &contracts {
        let s = recipe
            .sources
            .iter()
            .find(|s| s.key == c.meta.key())
            .unwrap();
        assert_eq!(s.fingerprint, fingerprint(c));
    }
}

#[test]
fn errors_name_the_problem_and_leave_the_store_as_it_was() {
    let es = spec("ES").unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store.import(&es_daily()).unwrap();
    let before = store.list().unwrap();

    // All of Lean's contracts: the 2013 and 2020 ones share no bar, so no gap can be measured.
    let all = FrontMonth {
        to: None,
        ..how(RollMethod::Expiry { days: 0 }, Adjustment::Difference)
    };
    let e = build_in_store(&store, "ES", BarSize::Daily, &all)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot back-adjust") && e.contains("share no bar"),
        "{e}"
    );
    assert_eq!(store.list().unwrap(), before);

    let cal = home.path().join("rolls.csv");
    std::fs::write(&cal, "date,contract\n2013-10-01,ESZ13\n2013-12-13,ESH15\n").unwrap();
    let e = build_in_store(
        &store,
        "ES",
        BarSize::Daily,
        &how(RollMethod::Calendar(cal.clone()), Adjustment::Difference),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("rolls.csv:3") && e.contains("ESH15"), "{e}");
    assert_eq!(store.list().unwrap(), before);

    let e = build_in_store(&store, "ES", BarSize::Minutes(1), &all)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no ES 1m contract series"), "{e}");
    assert!("expiry:x".parse::<RollMethod>().is_err());
    assert!(
        settle_data::roll::schedule(es, &es_daily(), &RollMethod::OpenInterest)
            .unwrap_err()
            .to_string()
            .contains("no open interest")
    );

    // A calendar that names contracts in the store builds and is recorded.
    std::fs::write(&cal, "date,contract\n2013-10-01,ESZ13\n2013-12-13,ESH14\n").unwrap();
    let entry = build_in_store(
        &store,
        "ES",
        BarSize::Daily,
        &how(RollMethod::Calendar(cal), Adjustment::Difference),
    )
    .unwrap();
    assert_eq!(entry.key, "ES/continuous/1d");
    let r = entry.recipe.unwrap();
    assert_eq!(r.rolls[0].date, d("2013-12-13"));
    assert_eq!(
        store.load("ES/continuous/1d").unwrap().meta.recipe.unwrap(),
        r
    );
}

/// Lean's holiday list for one exchange's futures, read from the market-hours database.
fn lean_holidays(market: &str) -> BTreeSet<NaiveDate> {
    let text = std::fs::read_to_string(common::shared(
        "raw/lean/market-hours/market-hours-database.json",
    ))
    .unwrap();
    let db: serde_json::Value = serde_json::from_str(&text).unwrap();
    db["entries"][format!("Future-{market}-[*]")]["holidays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| NaiveDate::parse_from_str(v.as_str().unwrap(), "%m/%d/%Y").unwrap())
        .collect()
}

#[test]
fn every_daily_sample_series_is_on_session_dates_and_intraday_is_tradable() {
    use chrono::Datelike;
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let entries = settle_data::sample::import(&store, &common::shared("")).unwrap();
    let mut checked = 0;
    for e in entries.iter().filter(|e| e.bar_size == BarSize::Daily) {
        let spec = spec(&e.symbol).unwrap();
        let holidays = lean_holidays(&spec.exchange.to_ascii_lowercase());
        let bars = store.load(&e.key).unwrap();
        for i in 0..bars.len() {
            let date = bars.date(i);
            assert!(
                date.weekday().number_from_monday() <= 5 && !holidays.contains(&date),
                "{}: bar dated {date}, when {} held no session",
                e.key,
                spec.exchange
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked} daily series");
    for key in [
        "ES/continuous/1m",
        "ES/continuous/5m",
        "ES/continuous/1h",
        "GC/continuous/1m",
        "GC/continuous/5m",
        "GC/continuous/1h",
        "6E/continuous/1m",
        "6E/continuous/5m",
        "CL/continuous/1d",
        "CL/CL1/1d",
    ] {
        let e = entries
            .iter()
            .find(|e| e.key == key)
            .unwrap_or_else(|| panic!("{key}"));
        assert!(e.rows > 0, "{key}");
    }
    // SI's contracts come from pysystemtrade's roll calendar: `2022-08-12 14:00:00,20220900,
    // 20221200` moves it from September to December 2022.
    let si = store.load("SI/continuous/1d").unwrap();
    let on = |date: &str| {
        let k = (0..si.len()).find(|&i| si.date(i) == d(date)).unwrap();
        si.contract_name(k).to_string()
    };
    assert_eq!(on("2022-08-11"), "SI202209");
    assert_eq!(on("2022-08-15"), "SI202212");
    let es1m = entries
        .iter()
        .find(|e| e.key == "ES/continuous/1m")
        .unwrap();
    let r = es1m.recipe.as_ref().unwrap();
    assert_eq!(r.roll, "expiry:8");
    // The first ESH14 minutes after ESZ13's roll date (2013-12-12) are those of 12-18.
    assert_eq!(r.rolls.len(), 1);
    assert_eq!(r.rolls[0].date, d("2013-12-18"));
}

#[test]
fn cl_back_adjusted_front_carries_no_roll_gap() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    settle_data::sample::import(&store, &common::shared("")).unwrap();
    let adj = store.load("CL/continuous/1d").unwrap();
    let raw = store.load("CL/CL1/1d").unwrap();
    assert_eq!(adj.meta.adjustment, "difference");
    assert_eq!(raw.meta.adjustment, "none");
    assert_eq!(adj.len(), raw.len());
    // Last bars unshifted; across the CLK20 expiry (last trade 2020-04-21) the adjusted
    // series moves by the front's own change, while the raw one jumps to CLM20.
    assert_eq!(adj.close.last(), raw.close.last());
    let k = (0..raw.len())
        .find(|&i| raw.date(i) == d("2020-04-22"))
        .unwrap();
    assert_eq!(raw.contract_name(k - 1), "CLK20");
    assert_eq!(raw.contract_name(k), "CLM20");
    let adj_move = adj.close[k] - adj.close[k - 1];
    let raw_move = raw.close[k] - raw.close[k - 1];
    let curve = settle_data::import::rtl::settlement_curve(
        &common::shared("converted/rtl/CL_settlement_curve_daily.csv"),
        "CL",
        2,
        &settle_data::import::rtl::expiry_table(
            &common::shared("converted/rtl/expiry_table.csv"),
            "CL",
            "CL",
        )
        .unwrap(),
    )
    .unwrap();
    let j = (0..curve.len())
        .find(|&i| curve.date(i) == d("2020-04-21"))
        .unwrap();
    // CLM20 settled at CL02 on 2020-04-21; its own move to 04-22 is what the adjusted shows.
    let own = raw.close[k] - curve.close[j];
    assert!((adj_move - own).abs() < 1e-9, "{adj_move} vs {own}");
    let gap = curve.close[j] - raw.close[k - 1];
    assert!(gap.abs() > 1.0, "CLM20 - CLK20 on 2020-04-21: {gap}");
    assert!(
        (raw_move - adj_move - gap).abs() < 1e-9,
        "raw move {raw_move} includes the gap"
    );
}
