//! Session-aware resampling of intraday bars.
//!
//! Intraday targets bucket bars on the UTC clock grid (CME sessions open on the hour, so
//! buckets never straddle a session break). Daily targets group bars by **trading date**:
//! a bar belongs to the session that closes next, at the contract's Globex close in the
//! exchange's time zone (ES: 17:00 CT Sunday to 16:00 CT Monday is Monday's bar), never by
//! UTC midnight.

use chrono::{NaiveDate, Timelike};
use chrono_tz::Tz;

use crate::bars::{BarSize, Bars};
use crate::clock::{weekday_from_monday, LocalClock, DAY};
use crate::error::{DataError, Result};
use crate::specs::ContractSpec;

/// Aggregates `bars` into `to`-sized bars: first open, max high, min low, last close, summed
/// volume, last contract.
pub fn resample(bars: &Bars, to: BarSize, spec: &ContractSpec) -> Result<Bars> {
    let from = bars.meta.bar_size;
    let ok = match (from, to) {
        (BarSize::Minutes(a), BarSize::Minutes(b)) => b >= a && b % a == 0,
        (BarSize::Minutes(_), BarSize::Daily) => true,
        _ => false,
    };
    if !ok {
        return Err(DataError::Invalid(format!(
            "cannot resample {from} bars to {to}: the target must be a whole multiple of the source"
        )));
    }
    let mut dates = TradingDates::new(spec)?;
    let mut key = |ts: i64| match to {
        BarSize::Minutes(_) => ts.div_euclid(to.seconds()) * to.seconds(),
        BarSize::Daily => crate::import::date_stamp(dates.date(ts)),
    };
    let mut meta = bars.meta.clone();
    meta.bar_size = to;
    let mut out = Bars::empty(meta);
    // Each bar's target stamp, computed once; runs of equal stamps are the output bars.
    let keys: Vec<i64> = bars.ts.iter().map(|&t| key(t)).collect();
    let mut start = 0;
    for run in keys.chunk_by(|a, b| a == b) {
        let r = start..start + run.len();
        start = r.end;
        let last = r.end - 1;
        out.push(
            run[0],
            bars.open[r.start],
            bars.high[r.clone()]
                .iter()
                .copied()
                .fold(f64::MIN, f64::max),
            bars.low[r.clone()].iter().copied().fold(f64::MAX, f64::min),
            bars.close[last],
            bars.volume[r].iter().sum(),
            bars.contract[last],
        );
    }
    Ok(out)
}

/// The trading date of the session containing the bar that opens at `ts`.
pub fn trading_date(ts: i64, tz: Tz, spec: &ContractSpec) -> NaiveDate {
    TradingDates::with_zone(tz, spec).date(ts)
}

/// Trading dates of many bar stamps at the cost of about one time-zone lookup per UTC hour
/// (see [`LocalClock`]), where a lookup per stamp dominated building a front month. A bar
/// from the Globex close onwards belongs to the next session (overnight sessions), and a
/// weekend date to Monday.
#[derive(Debug, Clone)]
pub struct TradingDates {
    clock: LocalClock,
    /// Seconds after local midnight of the session close, when sessions run overnight.
    overnight_close: Option<i64>,
    /// The last local day number seen (days since 1970-01-01) and its trading date.
    day: i64,
    date: NaiveDate,
}

impl TradingDates {
    /// For `spec`'s exchange time zone and session hours.
    pub fn new(spec: &ContractSpec) -> Result<Self> {
        let tz: Tz = spec
            .timezone
            .parse()
            .map_err(|_| DataError::Invalid(format!("bad time zone {}", spec.timezone)))?;
        Ok(Self::with_zone(tz, spec))
    }

    fn with_zone(tz: Tz, spec: &ContractSpec) -> Self {
        let overnight = spec.session_open > spec.session_close;
        TradingDates {
            clock: LocalClock::new(tz),
            overnight_close: overnight
                .then(|| i64::from(spec.session_close.num_seconds_from_midnight())),
            day: i64::MIN,
            date: NaiveDate::default(),
        }
    }

    /// The trading date of the bar that opens at `ts`.
    pub fn date(&mut self, ts: i64) -> NaiveDate {
        let local = self.clock.local(ts);
        let mut day = local.div_euclid(DAY);
        if self
            .overnight_close
            .is_some_and(|close| local.rem_euclid(DAY) >= close)
        {
            day += 1;
        }
        if day != self.day {
            // Saturday to Monday, Sunday to Monday.
            let weekend_shift = match weekday_from_monday(day) {
                5 => 2,
                6 => 1,
                _ => 0,
            };
            self.day = day;
            self.date = i32::try_from(day + weekend_shift + UNIX_EPOCH_DAYS_FROM_CE)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .unwrap_or_default();
        }
        self.date
    }
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Duration, TimeZone, Weekday};

    /// The definition, one zone lookup per stamp: local date, the next day from the close
    /// on for overnight sessions, weekends to Monday.
    fn by_lookup(ts: i64, tz: Tz, spec: &ContractSpec) -> NaiveDate {
        let local = tz.timestamp_opt(ts, 0).unwrap().naive_local();
        let mut date = local.date();
        if spec.session_open > spec.session_close && local.time() >= spec.session_close {
            date += Duration::days(1);
        }
        match date.weekday() {
            Weekday::Sat => date + Duration::days(2),
            Weekday::Sun => date + Duration::days(1),
            _ => date,
        }
    }

    /// Every minute of 2023–2024 (four DST changes, one leap day), for roots in both of
    /// the catalog's zones.
    #[test]
    fn cached_offsets_give_the_lookup_dates_every_minute() {
        for root in ["ES", "6E", "CL", "GC"] {
            let spec = crate::specs::spec(root).unwrap();
            let tz: Tz = spec.timezone.parse().unwrap();
            let mut dates = TradingDates::new(spec).unwrap();
            let start = 1_672_531_200; // 2023-01-01 00:00 UTC
            for ts in (start..start + 2 * 366 * 86_400).step_by(60) {
                assert_eq!(dates.date(ts), by_lookup(ts, tz, spec), "{root} at {ts}");
            }
        }
    }
}
