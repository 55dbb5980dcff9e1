//! Session-aware resampling of intraday bars.
//!
//! Intraday targets bucket bars on the UTC clock grid (CME sessions open on the hour, so
//! buckets never straddle a session break). Daily targets group bars by **trading date**:
//! a bar belongs to the session that closes next, at the contract's Globex close in the
//! exchange's time zone (ES: 17:00 CT Sunday to 16:00 CT Monday is Monday's bar), never by
//! UTC midnight.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::bars::{BarSize, Bars};
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
    let tz: Tz = spec
        .timezone
        .parse()
        .map_err(|_| DataError::Invalid(format!("bad time zone {}", spec.timezone)))?;
    let key = |ts: i64| match to {
        BarSize::Minutes(_) => ts.div_euclid(to.seconds()) * to.seconds(),
        BarSize::Daily => crate::import::date_stamp(trading_date(ts, tz, spec)),
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
    let local = tz
        .timestamp_opt(ts, 0)
        .earliest()
        .map(|d| d.naive_local())
        .unwrap_or_default();
    let mut date = local.date();
    // Overnight sessions: bars from the close onwards belong to the next session.
    if spec.session_open > spec.session_close && local.time() >= spec.session_close {
        date += Duration::days(1);
    }
    match date.weekday() {
        Weekday::Sat => date + Duration::days(2),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}
