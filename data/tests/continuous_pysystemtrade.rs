//! Rebuilds pysystemtrade's back-adjusted ("panama") series from its multiple prices and checks
//! every date of Carver's `adjusted_prices_csv` within 1e-9.

mod common;

use settle_data::continuous::{build, Adjustment, ContinuousOptions, RollRule};
use settle_data::import::pysystemtrade::{self as pst, contract_name};

fn check(inst: &str, root: &str) {
    let rows = pst::multiple_prices(&common::shared(&format!(
        "raw/pysystemtrade/multiple_prices_csv/{inst}.csv"
    )))
    .unwrap();
    let contracts = pst::per_contract(&rows, root, "pysystemtrade");
    let opt = ContinuousOptions {
        roll: RollRule::Schedule(pst::held_schedule(&rows, root)),
        adjustment: Adjustment::Difference,
        fill_missing: true,
    };
    let ours = build(root, &contracts, &opt).unwrap();
    let reference = pst::adjusted_rows(&common::shared(&format!(
        "raw/pysystemtrade/adjusted_prices_csv/{inst}.csv"
    )))
    .unwrap();
    let by_ts: std::collections::HashMap<i64, f64> = ours
        .ts
        .iter()
        .copied()
        .zip(ours.close.iter().copied())
        .collect();
    let mut bad = Vec::new();
    for (t, want) in &reference {
        match by_ts.get(t) {
            Some(got) if (got - want).abs() <= 1e-9 => {}
            other => bad.push((*t, *want, other.copied())),
        }
    }
    assert!(
        bad.is_empty(),
        "{inst}: {} of {} dates differ, first: {:?}",
        bad.len(),
        reference.len(),
        &bad[..bad.len().min(5)]
    );
    // The held contract of every bar is recorded.
    let last = ours.len() - 1;
    assert_eq!(
        ours.contract_name(last),
        contract_name(root, &rows.last().unwrap().price_contract)
    );
}

#[test]
fn sp500_matches_carver_adjusted_prices() {
    check("SP500", "ES");
}

#[test]
fn eur_matches_carver_adjusted_prices() {
    check("EUR", "6E");
}

#[test]
fn us10_matches_carver_adjusted_prices() {
    check("US10", "ZN");
}

#[test]
fn corn_matches_carver_adjusted_prices() {
    check("CORN", "ZC");
}

#[test]
fn gold_matches_carver_adjusted_prices() {
    check("GOLD", "GC");
}

/// The roll calendar's contract sequence is the one the multiple prices held.
#[test]
fn roll_calendar_agrees_with_held_contracts() {
    let rows = pst::multiple_prices(&common::shared(
        "raw/pysystemtrade/multiple_prices_csv/US10.csv",
    ))
    .unwrap();
    let cal = pst::roll_calendar(&common::shared(
        "raw/pysystemtrade/roll_calendars_csv/US10.csv",
    ))
    .unwrap();
    let held: Vec<String> = pst::held_schedule(&rows, "")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let from_cal: Vec<String> = cal.iter().map(|e| e.next[..6].to_string()).collect();
    // Every contract the calendar rolls into was held, in the same order.
    let mut it = held.iter();
    for c in &from_cal {
        assert!(
            it.any(|h| h == c),
            "calendar rolls into {c}, never held in that order"
        );
    }
}
