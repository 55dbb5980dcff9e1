//! Daily bars dated by the session that closes that day.
//!
//! Some sources stamp a daily bar with a date on which no CME session closed: Lean's UTC-day
//! bars include the Sunday-evening opening of Monday's session as a bar dated Sunday, and
//! pysystemtrade's snapshots fall on weekends and exchange holidays. Such a bar belongs to the
//! next session, so it is merged into that session's bar; counting it as a day of its own would
//! add bars to every indicator and to the Sharpe ratio's day count.
//!
//! Holidays (full closures, no settlement) are Lean's market-hours database lists for CME,
//! CBOT, NYMEX and COMEX futures, 1998 to 2025 (Apache-2.0, `holidays.csv` beside this file);
//! outside those years and for other venues only weekends are known.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::bars::Bars;
use crate::import::date_stamp;
use crate::specs::ContractSpec;

const HOLIDAYS: &str = include_str!("holidays.csv");

/// Holidays per exchange, parsed once.
fn holidays() -> &'static BTreeMap<&'static str, BTreeSet<NaiveDate>> {
    static TABLE: OnceLock<BTreeMap<&'static str, BTreeSet<NaiveDate>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: BTreeMap<&'static str, BTreeSet<NaiveDate>> = BTreeMap::new();
        for line in HOLIDAYS.lines().skip(1) {
            if let Some((exchange, date)) = line.split_once(',') {
                if let Ok(d) = date.parse() {
                    t.entry(exchange).or_default().insert(d);
                }
            }
        }
        t
    })
}

/// True when `spec`'s exchange holds a session that closes on `date`.
pub fn is_session_date(spec: &ContractSpec, date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        && !holidays()
            .get(spec.exchange)
            .is_some_and(|h| h.contains(&date))
}

/// The first session date on or after `date`.
pub fn next_session_date(spec: &ContractSpec, mut date: NaiveDate) -> NaiveDate {
    while !is_session_date(spec, date) {
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    date
}

/// Re-dates every daily bar that falls on a non-session date to the next session, merging
/// it into the bar already there: first open, highest high, lowest low, last close, summed
/// volume, last contract (a close-only series keeps the later close alone). Intraday series
/// are returned unchanged.
pub fn on_session_dates(bars: Bars, spec: &ContractSpec) -> Bars {
    if bars.meta.bar_size.is_intraday() {
        return bars;
    }
    let mut out = Bars::empty(bars.meta.clone());
    for i in 0..bars.len() {
        let ts = date_stamp(next_session_date(spec, bars.date(i)));
        let (o, h, l, c, v) = (
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            bars.volume[i],
        );
        match out.ts.last() {
            Some(&last) if last == ts => {
                let k = out.len() - 1;
                if bars.meta.close_only {
                    (out.open[k], out.high[k], out.low[k]) = (c, c, c);
                } else {
                    out.high[k] = out.high[k].max(h);
                    out.low[k] = out.low[k].min(l);
                }
                out.close[k] = c;
                out.volume[k] = match (out.volume[k].is_nan(), v.is_nan()) {
                    (true, _) => v,
                    (false, true) => out.volume[k],
                    (false, false) => out.volume[k] + v,
                };
                out.contract[k] = bars.contract[i];
            }
            _ => out.push(ts, o, h, l, c, v, bars.contract[i]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::{BarSize, SeriesMeta};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekends_and_holidays_move_to_the_next_session() {
        let es = crate::specs::spec("ES").unwrap();
        // Lean's CME list: 2013-12-25 closed.
        assert!(!is_session_date(es, d("2013-12-25")));
        assert_eq!(next_session_date(es, d("2013-12-15")), d("2013-12-16"));
        assert_eq!(next_session_date(es, d("2013-12-25")), d("2013-12-26"));
        // A Sunday-evening snapshot before Labor Day 2018: COMEX closed that Monday (Tuesday's
        // session), CME's list in Lean keeps Monday as a session.
        let gc = crate::specs::spec("GC").unwrap();
        assert_eq!(next_session_date(gc, d("2018-09-02")), d("2018-09-04"));
        assert_eq!(next_session_date(es, d("2018-09-02")), d("2018-09-03"));
    }

    #[test]
    fn a_sunday_bar_merges_into_monday() {
        let es = crate::specs::spec("ES").unwrap();
        let mut b = Bars::empty(SeriesMeta::new("ES", Some("ESH14"), BarSize::Daily, "t"));
        let c = b.contract_index("ESH14");
        // Lean's ESH14 rows of 2013-12-13 (Fri), -15 (Sun) and -16 (Mon).
        b.push(
            date_stamp(d("2013-12-13")),
            1773.25,
            1774.75,
            1765.5,
            1768.75,
            868208.0,
            c,
        );
        b.push(
            date_stamp(d("2013-12-15")),
            1774.75,
            1776.5,
            1774.0,
            1775.75,
            1828.0,
            c,
        );
        b.push(
            date_stamp(d("2013-12-16")),
            1777.5,
            1786.25,
            1777.0,
            1779.0,
            1013308.0,
            c,
        );
        let s = on_session_dates(b, es);
        assert_eq!(s.len(), 2);
        assert_eq!(s.date(1), d("2013-12-16"));
        assert_eq!(
            (s.open[1], s.high[1], s.low[1], s.close[1], s.volume[1]),
            (1774.75, 1786.25, 1774.0, 1779.0, 1828.0 + 1013308.0)
        );
    }
}
