//! Which part of the series is traded. Windows are resolved against the **latest trading
//! date in the data**, not today's date, so a result never depends on when it was run.

use std::ops::Range;

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::session::Calendar;

/// A span of trading dates, parsed from strings such as `last 1 year` (the default), `last 6
/// months`, `since 2020`, `ytd`, `2022-01-01..2023-06-30` or `all`. Both ends are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Window {
    /// Every bar of the series.
    All,
    /// The trading dates after `latest - span`: `last 1 year` ending 2023-08-31 starts on
    /// 2022-09-01.
    Last(u32, Unit),
    /// From this date to the end of the data.
    Since(NaiveDate),
    /// From January 1st of the latest date's year.
    YearToDate,
    /// Explicit first and last trading dates.
    Dates(NaiveDate, NaiveDate),
}

/// Calendar unit of a [`Window::Last`] span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Calendar years back from the latest trading date.
    Years,
    /// Calendar months back from the latest trading date.
    Months,
    /// Weeks of seven calendar days back from the latest trading date.
    Weeks,
    /// Calendar days back from the latest trading date.
    Days,
}

impl Default for Window {
    fn default() -> Self {
        Window::Last(1, Unit::Years)
    }
}

impl Window {
    /// The first and last trading dates of the window, given the data's latest trading date.
    fn dates(self, latest: NaiveDate) -> (NaiveDate, NaiveDate) {
        let after = |d: Option<NaiveDate>| d.map_or(NaiveDate::MIN, |d| d + Duration::days(1));
        match self {
            Window::All => (NaiveDate::MIN, NaiveDate::MAX),
            Window::Last(n, unit) => {
                let start = match unit {
                    Unit::Years => latest.checked_sub_months(Months::new(n.saturating_mul(12))),
                    Unit::Months => latest.checked_sub_months(Months::new(n)),
                    Unit::Weeks => latest.checked_sub_signed(Duration::weeks(i64::from(n))),
                    Unit::Days => latest.checked_sub_signed(Duration::days(i64::from(n))),
                };
                (after(start), latest)
            }
            Window::Since(d) => (d, NaiveDate::MAX),
            Window::YearToDate => (
                NaiveDate::from_ymd_opt(latest.year(), 1, 1).unwrap_or(latest),
                latest,
            ),
            Window::Dates(a, b) => (a, b),
        }
    }

    /// What the window meant on this data, in words, when that differs from how it reads: a
    /// window that starts before the first bar or ends after the last is clamped to the data,
    /// and a relative window (`last 1 year`, `ytd`) counts back from the last bar, not from
    /// today. `range` is [`Window::resolve`]'s answer for the same `ts`.
    pub(crate) fn notes(self, ts: &[i64], cal: &Calendar, range: &Range<usize>) -> Vec<String> {
        let (Some(&t0), Some(&t1)) = (ts.first(), ts.last()) else {
            return Vec::new();
        };
        let (data_first, latest) = (cal.trading_date(t0), cal.trading_date(t1));
        let (first, last) = self.dates(latest);
        let ran = format!(
            "{}..{}",
            cal.trading_date(ts[range.start]),
            cal.trading_date(ts[range.end - 1])
        );
        let mut notes = Vec::new();
        if matches!(self, Window::Last(..) | Window::YearToDate) {
            notes.push(format!(
                "window `{self}` counts back from the last bar ({latest}), not from today: it ran {ran}"
            ));
        }
        if self != Window::All && first < data_first {
            notes.push(format!(
                "window `{self}` starts before the data: clamped to the first bar, {data_first}"
            ));
        }
        if matches!(self, Window::Dates(..)) && last > latest {
            notes.push(format!(
                "window `{self}` ends after the data: clamped to the last bar, {latest}"
            ));
        }
        notes
    }

    /// Indices of the bars inside the window (non-empty), with `ts` strictly increasing.
    pub(crate) fn resolve(self, ts: &[i64], cal: &Calendar) -> Result<Range<usize>, EngineError> {
        let empty = |first: String, last: String| EngineError::EmptyWindow {
            window: self.to_string(),
            first,
            last,
        };
        let (Some(&t0), Some(&t1)) = (ts.first(), ts.last()) else {
            return Err(empty("(no bars)".into(), "(no bars)".into()));
        };
        let latest = cal.trading_date(t1);
        let (first, last) = self.dates(latest);
        let lo = if first <= cal.trading_date(t0) {
            0
        } else {
            let start = cal.session(first).start;
            ts.partition_point(|&t| t < start)
        };
        let hi = if last >= latest {
            ts.len()
        } else {
            let end = cal.session(last).end;
            ts.partition_point(|&t| t < end)
        };
        if lo >= hi {
            return Err(empty(cal.trading_date(t0).to_string(), latest.to_string()));
        }
        Ok(lo..hi)
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Window::All => write!(f, "all"),
            Window::YearToDate => write!(f, "ytd"),
            Window::Since(d) => write!(f, "since {d}"),
            Window::Dates(a, b) => write!(f, "{a}..{b}"),
            Window::Last(n, u) => {
                let unit = match u {
                    Unit::Years => "year",
                    Unit::Months => "month",
                    Unit::Weeks => "week",
                    Unit::Days => "day",
                };
                write!(f, "last {n} {unit}{}", if *n == 1 { "" } else { "s" })
            }
        }
    }
}

impl std::str::FromStr for Window {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, EngineError> {
        let bad = || EngineError::BadWindow(s.to_string());
        let t = s.trim().to_ascii_lowercase();
        let dated = |problem: String| EngineError::WindowDates {
            window: s.to_string(),
            problem,
        };
        // A well-formed YYYY-MM-DD that is no day of the calendar (2020-02-30) says so.
        let date = |d: &str| {
            let d = d.trim();
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                let shaped = d.len() == 10
                    && d.bytes().enumerate().all(|(i, b)| match i {
                        4 | 7 => b == b'-',
                        _ => b.is_ascii_digit(),
                    });
                if shaped {
                    dated(format!("{d} is not a calendar date"))
                } else {
                    bad()
                }
            })
        };
        if t == "all" {
            return Ok(Window::All);
        }
        if t == "ytd" {
            return Ok(Window::YearToDate);
        }
        if let Some(rest) = t.strip_prefix("since ") {
            let rest = rest.trim();
            if let Ok(year) = rest.parse::<i32>() {
                return NaiveDate::from_ymd_opt(year, 1, 1)
                    .map(Window::Since)
                    .ok_or_else(bad);
            }
            return date(rest).map(Window::Since);
        }
        if let Some((a, b)) = t.split_once("..") {
            let (a, b) = (date(a)?, date(b)?);
            return if a <= b {
                Ok(Window::Dates(a, b))
            } else {
                Err(dated(format!(
                    "the range ends ({b}) before it starts ({a}); write it first..last"
                )))
            };
        }
        if let Some(rest) = t.strip_prefix("last ") {
            let mut words = rest.split_whitespace();
            let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next()) else {
                return Err(bad());
            };
            let n: u32 = n.parse().map_err(|_| bad())?;
            let unit = match unit.trim_end_matches('s') {
                "year" => Unit::Years,
                "month" => Unit::Months,
                "week" => Unit::Weeks,
                "day" => Unit::Days,
                _ => return Err(bad()),
            };
            return if n == 0 {
                Err(bad())
            } else {
                Ok(Window::Last(n, unit))
            };
        }
        Err(bad())
    }
}

impl TryFrom<String> for Window {
    type Error = EngineError;
    fn try_from(s: String) -> Result<Self, EngineError> {
        s.parse()
    }
}

impl From<Window> for String {
    fn from(w: Window) -> String {
        w.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use settle_data::BarSize;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn parses_and_prints_every_form() {
        for s in [
            "all",
            "ytd",
            "last 1 year",
            "last 2 years",
            "last 6 months",
            "last 3 weeks",
            "last 10 days",
            "since 2020-01-01",
            "2022-01-01..2023-06-30",
        ] {
            assert_eq!(s.parse::<Window>().unwrap().to_string(), s);
        }
        assert_eq!(
            "since 2020".parse::<Window>().unwrap(),
            Window::Since(d(2020, 1, 1))
        );
        assert_eq!("YTD".parse::<Window>().unwrap(), Window::YearToDate);
        for bad in [
            "last year",
            "last 0 days",
            "2023-06-30..2022-01-01",
            "since then",
            "",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
        let e = |w: &str| w.parse::<Window>().unwrap_err().to_string();
        assert_eq!(
            e("2020-02-30..2020-06-30"),
            "window `2020-02-30..2020-06-30`: 2020-02-30 is not a calendar date"
        );
        assert!(e("since 2021-13-01").contains("2021-13-01 is not a calendar date"));
        assert!(e("2023-06-30..2022-01-01")
            .contains("the range ends (2022-01-01) before it starts (2023-06-30)"));
        assert!(e("since then").contains("expected `all`, `ytd`"));
    }

    #[test]
    fn resolves_against_the_latest_date_in_the_data() {
        let es = settle_data::spec("ES").unwrap();
        let cal = Calendar::new(es, BarSize::Daily).unwrap();
        // Daily bars for 2022-08-30 .. 2023-08-31 (every calendar day, for simplicity).
        let days: Vec<i64> = (0..=366)
            .map(|k| {
                (d(2022, 8, 30) + Duration::days(k))
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp()
            })
            .collect();
        assert_eq!(cal.trading_date(*days.last().unwrap()), d(2023, 8, 31));
        // last 1 year = 2022-09-01 ..= 2023-08-31: skips 08-30 and 08-31.
        let r = Window::default().resolve(&days, &cal).unwrap();
        assert_eq!(r, 2..days.len());
        let r = "2023-01-01..2023-01-31"
            .parse::<Window>()
            .unwrap()
            .resolve(&days, &cal)
            .unwrap();
        assert_eq!(cal.trading_date(days[r.start]), d(2023, 1, 1));
        assert_eq!(cal.trading_date(days[r.end - 1]), d(2023, 1, 31));
        let e = "since 2024"
            .parse::<Window>()
            .unwrap()
            .resolve(&days, &cal)
            .unwrap_err();
        assert!(e.to_string().contains("2022-08-30 to 2023-08-31"), "{e}");

        // What each window meant on this data, in words.
        let notes = |w: &str| {
            let w: Window = w.parse().unwrap();
            let r = w.resolve(&days, &cal).unwrap();
            w.notes(&days, &cal, &r)
        };
        assert_eq!(
            notes("ytd"),
            [
                "window `ytd` counts back from the last bar (2023-08-31), not from today: it ran \
              2023-01-01..2023-08-31"
            ]
        );
        assert_eq!(
            notes("since 1900"),
            ["window `since 1900-01-01` starts before the data: clamped to the first bar, 2022-08-30"]
        );
        let late = notes("2023-01-01..2024-12-31");
        assert_eq!(
            late,
            ["window `2023-01-01..2024-12-31` ends after the data: clamped to the last bar, 2023-08-31"]
        );
        assert_eq!(notes("last 200 years").len(), 2);
        assert!(notes("all").is_empty() && notes("2023-01-01..2023-01-31").is_empty());
    }
}
