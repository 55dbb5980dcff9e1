//! Last trade dates computed from a contract's expiry rule, for the rules whose date follows
//! from the calendar alone (third Friday, third last business day, ...).
//!
//! Business days here are weekdays: exchange holidays are not known to the spec catalog, so a
//! rule whose day falls on a holiday is off by that holiday (rare for these rules, and at most
//! one day). Rules that need a published calendar (crude oil, Nikkei) return `None`; give
//! those a roll calendar file instead.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::continuous::contract_month;
use crate::specs::{self, ContractSpec};

/// The last trade date of `contract` (e.g. `ESZ13`) under its root's rule, when the rule is
/// one of the calendar rules this module knows.
pub fn last_trade_date(spec: &ContractSpec, contract: &str) -> Option<NaiveDate> {
    let (year, month) = contract_month(contract)?;
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let rule = spec.expiry_rule;
    if rule == specs::EXP_INDEX {
        nth_weekday(first, Weekday::Fri, 3)
    } else if rule == specs::EXP_METAL {
        business_days_back(last_business_day(first)?, 2)
    } else if rule == specs::EXP_FX {
        business_days_back(nth_weekday(first, Weekday::Wed, 3)?, 2)
    } else if rule == specs::EXP_NOTE {
        last_business_day(first)
    } else if rule == specs::EXP_BOND {
        business_days_back(last_business_day(first)?, 7)
    } else if rule == specs::EXP_GRAIN {
        business_days_back(first.with_day(15)?, 1)
    } else if rule == specs::EXP_HO_RB {
        last_business_day(first.checked_sub_months(chrono::Months::new(1))?)
    } else {
        None
    }
}

/// The `n`-th `weekday` of the month starting at `first`.
fn nth_weekday(first: NaiveDate, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(first.year(), first.month(), weekday, n)
}

fn is_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The last weekday of the month starting at `first`.
fn last_business_day(first: NaiveDate) -> Option<NaiveDate> {
    let mut d = first
        .checked_add_months(chrono::Months::new(1))?
        .pred_opt()?;
    while !is_business_day(d) {
        d = d.pred_opt()?;
    }
    Some(d)
}

/// The business day `n` business days before `d` (`d` itself when `n` is 0).
fn business_days_back(mut d: NaiveDate, n: u32) -> Option<NaiveDate> {
    for _ in 0..n {
        d = d.checked_sub_days(Days::new(1))?;
        while !is_business_day(d) {
            d = d.pred_opt()?;
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Dates from the exchanges' published calendars for these contracts.
    #[test]
    fn known_last_trade_dates() {
        let ltd = |root: &str, c: &str| last_trade_date(specs::spec(root).unwrap(), c);
        assert_eq!(ltd("ES", "ESZ13"), Some(date("2013-12-20")));
        assert_eq!(ltd("ES", "ESH14"), Some(date("2014-03-21")));
        assert_eq!(ltd("GC", "GCZ13"), Some(date("2013-12-27")));
        assert_eq!(ltd("GC", "GCV13"), Some(date("2013-10-29")));
        assert_eq!(ltd("6E", "6EH4"), Some(date("2024-03-18")));
        assert_eq!(ltd("ZN", "ZNU23"), Some(date("2023-09-20")));
        assert_eq!(ltd("ZC", "ZCH24"), Some(date("2024-03-14")));
        assert_eq!(ltd("CL", "CLK20"), None);
    }
}
