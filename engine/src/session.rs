//! Trading dates and session closes, from the spec's exchange time zone and hours.
//!
//! CME sessions run overnight: ES trades from 17:00 CT on the evening before the trading date
//! to 16:00 CT on it. A bar therefore belongs to trading date `D` when it opens in
//! `[D-1 session_open, D session_open)` exchange time. Daily bars are already stamped with
//! their trading date (see [`settle_data::bars`]), and each daily bar is a whole session.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use settle_data::{BarSize, ContractSpec};

use crate::error::EngineError;

/// Maps bar stamps to trading dates and session closes for one spec and bar size.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    /// `None` for daily bars, which need no time zone.
    intraday: Option<Intraday>,
}

#[derive(Debug, Clone)]
struct Intraday {
    tz: Tz,
    open: NaiveTime,
    close: NaiveTime,
    /// True when the session opens the evening before its trading date (open later than close).
    overnight: bool,
}

/// One trading date's span in UTC epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Session {
    pub date: NaiveDate,
    /// First instant that belongs to this trading date.
    pub start: i64,
    /// First instant of the next trading date.
    pub end: i64,
    /// The session close (a bar ending at or after it is the session's last).
    pub close: i64,
}

impl Calendar {
    pub fn new(spec: &ContractSpec, bar_size: BarSize) -> Result<Self, EngineError> {
        if !bar_size.is_intraday() {
            return Ok(Calendar { intraday: None });
        }
        let tz: Tz = spec.timezone.parse().map_err(|_| EngineError::Spec {
            root: spec.root.to_string(),
            problem: format!("unknown time zone `{}`", spec.timezone),
        })?;
        Ok(Calendar {
            intraday: Some(Intraday {
                tz,
                open: spec.session_open,
                close: spec.session_close,
                overnight: spec.session_open > spec.session_close,
            }),
        })
    }

    /// The trading date a bar stamped `ts` belongs to.
    pub fn trading_date(&self, ts: i64) -> NaiveDate {
        let utc = DateTime::from_timestamp(ts, 0).unwrap_or_default();
        match &self.intraday {
            None => utc.date_naive(),
            Some(s) => {
                let local = utc.with_timezone(&s.tz).naive_local();
                if s.overnight && local.time() >= s.open {
                    local.date() + Duration::days(1)
                } else {
                    local.date()
                }
            }
        }
    }

    /// The UTC span of trading date `date`.
    pub fn session(&self, date: NaiveDate) -> Session {
        let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
        match &self.intraday {
            None => {
                let start = midnight(date).and_utc().timestamp();
                Session {
                    date,
                    start,
                    end: start + 86_400,
                    close: start + 86_400,
                }
            }
            Some(s) => {
                let begin = |d: NaiveDate| {
                    if s.overnight {
                        s.utc(d.pred_opt().unwrap_or(d).and_time(s.open))
                    } else {
                        s.utc(midnight(d))
                    }
                };
                Session {
                    date,
                    start: begin(date),
                    end: begin(date.succ_opt().unwrap_or(date)),
                    close: s.utc(date.and_time(s.close)),
                }
            }
        }
    }

    /// The session of the bar stamped `ts`.
    pub fn session_of(&self, ts: i64) -> Session {
        self.session(self.trading_date(ts))
    }
}

/// Looks up sessions for increasing stamps, consulting the time zone once per session
/// rather than once per bar.
pub(crate) struct SessionCursor<'a> {
    cal: &'a Calendar,
    current: Option<Session>,
}

impl<'a> SessionCursor<'a> {
    pub fn new(cal: &'a Calendar) -> Self {
        SessionCursor { cal, current: None }
    }

    #[inline]
    pub fn at(&mut self, ts: i64) -> Session {
        match self.current {
            Some(s) if ts >= s.start && ts < s.end => s,
            _ => *self.current.insert(self.cal.session_of(ts)),
        }
    }
}

impl Intraday {
    /// Exchange wall-clock time to UTC seconds. In the spring-forward gap (a wall time that
    /// does not exist) the hour after is used; in the autumn overlap, the earlier instant.
    fn utc(&self, local: NaiveDateTime) -> i64 {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp(),
            LocalResult::None => self.utc(local + Duration::hours(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp()
    }

    #[test]
    fn es_minute_bars_map_to_cme_trading_dates() {
        let es = settle_data::spec("ES").unwrap();
        let cal = Calendar::new(es, BarSize::Minutes(1)).unwrap();
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        // 2024-01-16 is winter: CT = UTC-6. 22:59 UTC = 16:59 CT (after the close, same date);
        // 23:00 UTC = 17:00 CT opens the session of the 17th.
        assert_eq!(cal.trading_date(ts("2024-01-16 22:59")), d(2024, 1, 16));
        assert_eq!(cal.trading_date(ts("2024-01-16 23:00")), d(2024, 1, 17));
        let s = cal.session(d(2024, 1, 17));
        assert_eq!(s.start, ts("2024-01-16 23:00"));
        assert_eq!(s.close, ts("2024-01-17 22:00"));
        assert_eq!(s.end, ts("2024-01-17 23:00"));
        // Summer: CT = UTC-5, so the 16:00 CT close is 21:00 UTC.
        assert_eq!(cal.session(d(2023, 7, 5)).close, ts("2023-07-05 21:00"));
    }
}
