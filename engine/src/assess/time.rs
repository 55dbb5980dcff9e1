//! Where in time the P&L was made: by calendar year, by thirds of the window, and how much of
//! it the best days carry.

use chrono::Datelike;
use serde::Serialize;

use crate::DailyEquity;

/// The P&L of one calendar year.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct YearPnl {
    /// Calendar year of the trading dates.
    pub year: i32,
    /// Net P&L of the year's trading dates, dollars (the sum of their daily equity changes).
    pub pnl: f64,
    /// Trading dates of the year in the window.
    pub days: usize,
}

/// Daily P&L: each date's equity less the one before (the first less the starting capital).
pub fn daily_pnl(daily: &[DailyEquity], capital: f64) -> Vec<f64> {
    let mut prev = capital;
    daily
        .iter()
        .map(|d| {
            let pnl = d.equity - prev;
            prev = d.equity;
            pnl
        })
        .collect()
}

/// P&L by calendar year, in date order.
pub fn by_year(daily: &[DailyEquity], pnl: &[f64]) -> Vec<YearPnl> {
    let mut years: Vec<YearPnl> = Vec::new();
    for (d, p) in daily.iter().zip(pnl) {
        let year = d.date.year();
        match years.last_mut() {
            Some(y) if y.year == year => {
                y.pnl += p;
                y.days += 1;
            }
            _ => years.push(YearPnl {
                year,
                pnl: *p,
                days: 1,
            }),
        }
    }
    years
}

/// P&L of the three thirds of the window: days ⌊k·n/3⌋ .. ⌊(k+1)·n/3⌋ − 1.
pub fn thirds(pnl: &[f64]) -> [f64; 3] {
    let n = pnl.len();
    std::array::from_fn(|k| pnl[k * n / 3..(k + 1) * n / 3].iter().sum())
}

/// The best m = ⌈5% · n⌉ days (at least one) and the share of the total P&L they made; no
/// share when the total is not a gain.
pub fn best_days_share(pnl: &[f64]) -> (usize, Option<f64>) {
    let m = (5 * pnl.len()).div_ceil(100).max(1).min(pnl.len());
    let total: f64 = pnl.iter().sum();
    let mut sorted = pnl.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let best: f64 = sorted[..m].iter().sum();
    (m, (total > 0.0).then(|| best / total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32, equity: f64) -> DailyEquity {
        DailyEquity {
            date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            equity,
        }
    }

    #[test]
    fn years_thirds_and_best_days_by_hand() {
        let daily = [
            day(2020, 12, 30, 1_010.0),
            day(2020, 12, 31, 1_005.0),
            day(2021, 1, 4, 1_030.0),
            day(2021, 1, 5, 1_020.0),
        ];
        let pnl = daily_pnl(&daily, 1_000.0);
        assert_eq!(pnl, [10.0, -5.0, 25.0, -10.0]);
        let years = by_year(&daily, &pnl);
        assert_eq!((years[0].year, years[0].pnl, years[0].days), (2020, 5.0, 2));
        assert_eq!(
            (years[1].year, years[1].pnl, years[1].days),
            (2021, 15.0, 2)
        );
        // n = 4: days 0..1, 1..2, 2..4.
        assert_eq!(thirds(&pnl), [10.0, -5.0, 15.0]);
        // m = ceil(0.2) = 1: the best day (25) is 125% of the total (20).
        assert_eq!(best_days_share(&pnl), (1, Some(1.25)));
        assert_eq!(best_days_share(&[-1.0, 0.5]), (1, None));
    }
}
