//! Exchange-local wall time of many UTC stamps at the cost of about one time-zone lookup per
//! UTC hour, where a lookup per stamp dominated building a front month and evaluating a
//! strategy's time rules on minute bars.
//!
//! Exact, not approximate: a zone changes its UTC offset at most once in an hour, so an hour
//! whose first and last second share an offset has that offset throughout; the hour that
//! holds a change falls back to a lookup per stamp.

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Converts increasing (or any) UTC epoch seconds to local epoch seconds in one zone.
#[derive(Debug, Clone)]
pub struct LocalClock {
    tz: Tz,
    /// The UTC hour the cached offset belongs to, and that offset (`None`: it changes within
    /// the hour).
    hour: i64,
    offset: Option<i64>,
}

impl LocalClock {
    /// A clock for `tz`.
    pub fn new(tz: Tz) -> Self {
        LocalClock {
            tz,
            hour: i64::MIN,
            offset: None,
        }
    }

    /// The zone's offset from UTC, in seconds, at `ts` (0 outside chrono's range).
    fn offset_at(&self, ts: i64) -> i64 {
        DateTime::from_timestamp(ts, 0)
            .map(|utc| {
                i64::from(
                    self.tz
                        .offset_from_utc_datetime(&utc.naive_utc())
                        .fix()
                        .local_minus_utc(),
                )
            })
            .unwrap_or(0)
    }

    /// Local wall time of UTC `ts`, as seconds since 1970-01-01 00:00 local: `div_euclid(DAY)`
    /// is the local day number, `rem_euclid(DAY)` the second of the local day.
    pub fn local(&mut self, ts: i64) -> i64 {
        let hour = ts.div_euclid(3600);
        if hour != self.hour {
            let (first, last) = (
                self.offset_at(hour * 3600),
                self.offset_at(hour * 3600 + 3599),
            );
            self.hour = hour;
            self.offset = (first == last).then_some(first);
        }
        ts + self.offset.unwrap_or_else(|| self.offset_at(ts))
    }
}

/// Day of the week of local day number `day` (days since 1970-01-01, a Thursday), counted
/// from Monday = 0.
pub fn weekday_from_monday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    /// Every minute of 2023–2024 (four DST changes per zone, one leap day), in both of the
    /// catalog's zones and one with a half-hour offset: the cached clock gives chrono's local
    /// time and weekday.
    #[test]
    fn cached_offsets_give_chronos_local_time_every_minute() {
        for tz in [
            chrono_tz::America::Chicago,
            chrono_tz::America::New_York,
            chrono_tz::Australia::Adelaide,
        ] {
            let mut clock = LocalClock::new(tz);
            let start = 1_672_531_200; // 2023-01-01 00:00 UTC
            for ts in (start..start + 2 * 366 * DAY).step_by(60) {
                let want = tz.timestamp_opt(ts, 0).unwrap().naive_local();
                let local = clock.local(ts);
                assert_eq!(local, want.and_utc().timestamp(), "{tz} at {ts}");
                assert_eq!(
                    weekday_from_monday(local.div_euclid(DAY)),
                    want.weekday().num_days_from_monday()
                );
                assert_eq!(
                    local.rem_euclid(DAY),
                    i64::from(want.num_seconds_from_midnight())
                );
            }
        }
    }
}
