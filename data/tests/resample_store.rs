//! Resampling against real daily bars, and the store round trip.

mod common;

use chrono::{NaiveTime, Timelike};
use settle_data::import::{lean, nautilus};
use settle_data::resample::resample;
use settle_data::store::Store;
use settle_data::{spec, BarSize};

/// ESZ13 one-minute bars resampled by CME session (17:00–16:00 CT) close where Lean's own
/// daily bars close: exactly on most days, within one tick on the others (Lean's daily close is
/// the settlement price, ours the last trade before 16:00 CT). UTC-midnight grouping misses.
#[test]
fn es_minutes_to_sessions_match_lean_daily_closes() {
    let minutes = lean::minute_dir(&common::shared("raw/lean/future/cme/minute/es"), "ES").unwrap();
    let z13 = minutes
        .iter()
        .find(|b| b.meta.contract.as_deref() == Some("ESZ13"))
        .unwrap();
    let daily = lean::bars_zip(
        &common::shared("raw/lean/future/cme/daily/es_trade.zip"),
        "ES",
        BarSize::Daily,
    )
    .unwrap();
    let lean_z13 = daily
        .iter()
        .find(|b| b.meta.contract.as_deref() == Some("ESZ13"))
        .unwrap();
    let ours = resample(z13, BarSize::Daily, spec("ES").unwrap()).unwrap();
    // Full sessions covered by the minute files: Mon 2013-10-07 .. Fri 2013-10-11.
    let tick = spec("ES").unwrap().tick_size;
    let mut exact = 0;
    for day in 7..=11 {
        let d = chrono::NaiveDate::from_ymd_opt(2013, 10, day).unwrap();
        let ts = settle_data::import::date_stamp(d);
        let i = ours.ts.iter().position(|&t| t == ts).unwrap();
        let j = lean_z13.ts.iter().position(|&t| t == ts).unwrap();
        let gap = (ours.close[i] - lean_z13.close[j]).abs();
        assert!(
            gap <= tick,
            "close on {d}: {} vs Lean {}",
            ours.close[i],
            lean_z13.close[j]
        );
        exact += usize::from(gap == 0.0);
    }
    assert!(exact >= 3, "only {exact} of 5 session closes equal Lean's");
    // UTC-midnight grouping gives a different close on 2013-10-07 (1667.75, not 1668).
    let utc_last = z13
        .ts
        .iter()
        .rposition(|&t| {
            t < settle_data::import::date_stamp(
                chrono::NaiveDate::from_ymd_opt(2013, 10, 8).unwrap(),
            )
        })
        .unwrap();
    assert_eq!(z13.close[utc_last], 1667.75);
}

/// 6EH4 January 2024: every daily bar starts at the 17:00 CT open and ends before 16:00 CT.
#[test]
fn six_e_sessions_follow_the_cme_clock() {
    let m = nautilus::bars(
        &common::shared("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .unwrap();
    assert_eq!(m.len(), 29_996);
    let spec = spec("6E").unwrap();
    let d = resample(&m, BarSize::Daily, spec).unwrap();
    // Trading dates 2024-01-02 .. 2024-02-01 (the last one partial).
    assert_eq!(d.len(), 23);
    assert_eq!(d.date(0).to_string(), "2024-01-02");
    assert_eq!(d.date(22).to_string(), "2024-02-01");
    let tz: chrono_tz::Tz = spec.timezone.parse().unwrap();
    let key: Vec<i64> = m
        .ts
        .iter()
        .map(|&t| settle_data::import::date_stamp(settle_data::resample::trading_date(t, tz, spec)))
        .collect();
    for (k, &day) in d.ts.iter().enumerate() {
        let first = key.iter().position(|&x| x == day).unwrap();
        let last = key.iter().rposition(|&x| x == day).unwrap();
        let open_local = m.time(first).with_timezone(&tz).time();
        assert_eq!(
            open_local,
            NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            "session {k} opens at 17:00 CT"
        );
        assert!(m.time(last).with_timezone(&tz).time().hour() < 16 || k == 22);
        // Aggregates are the first open, extreme high/low, last close and summed volume.
        assert_eq!(d.open[k], m.open[first]);
        assert_eq!(d.close[k], m.close[last]);
        assert_eq!(
            d.high[k],
            m.high[first..=last]
                .iter()
                .cloned()
                .fold(f64::MIN, f64::max)
        );
        assert_eq!(
            d.low[k],
            m.low[first..=last].iter().cloned().fold(f64::MAX, f64::min)
        );
        assert_eq!(d.volume[k], m.volume[first..=last].iter().sum::<f64>());
    }
    // 5-minute bars: 23:00 UTC bucket of Jan 1 holds the 23:00..23:04 minutes.
    let five = resample(&m, BarSize::Minutes(5), spec).unwrap();
    assert_eq!(five.time(0).to_rfc3339(), "2024-01-01T23:00:00+00:00");
    assert_eq!(five.open[0], 1.1076);
    assert_eq!(
        five.high[0],
        m.high[..5].iter().cloned().fold(f64::MIN, f64::max)
    );
}

#[test]
fn store_round_trip_is_exact() {
    let m = nautilus::bars(
        &common::shared("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let e = store.import(std::slice::from_ref(&m)).unwrap();
    assert_eq!(e[0].rows, 29_996);
    assert_eq!(e[0].first, "2024-01-01T23:00:00Z");
    let back = store.find("6e", Some("6EH4"), BarSize::Minutes(1)).unwrap();
    // The loaded series carries the catalog's fingerprint, which is its columns' hash.
    assert_eq!(
        back.meta.fingerprint.as_deref(),
        Some(e[0].fingerprint.as_str())
    );
    assert_eq!(settle_data::store::fingerprint(&back), e[0].fingerprint);
    let mut want = m.clone();
    want.meta.fingerprint = back.meta.fingerprint.clone();
    assert_eq!(back, want);
    assert!(store
        .find("6E", None, BarSize::Daily)
        .unwrap_err()
        .to_string()
        .contains("import it first"));
}
