//! Profit and loss per calendar month, as a year × month heatmap: the picture that shows
//! whether a strategy earns steadily or lives off two good months.

use chrono::{Datelike, NaiveDate};

use super::heatmap::{heatmap_png, Heatmap};
use super::{ChartError, Drawn};

/// Dollars gained or lost in each calendar month a backtest covers.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyReturns {
    /// Every year from the first date's to the last's, increasing.
    pub years: Vec<i32>,
    /// `pnl[y][m]`: the change of equity over month `m + 1` of `years[y]`, from the last
    /// equity before the month to the last inside it; `None` for a month outside the curve.
    pub pnl: Vec<[Option<f64>; 12]>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The monthly P&L of a daily equity curve (`dates` increasing, `equity` at each date's end)
/// that started from `start` dollars.
pub fn monthly_returns(dates: &[NaiveDate], equity: &[f64], start: f64) -> MonthlyReturns {
    let n = dates.len().min(equity.len());
    let (Some(first), Some(last)) = (dates.first(), dates.get(n.saturating_sub(1))) else {
        return MonthlyReturns {
            years: Vec::new(),
            pnl: Vec::new(),
        };
    };
    let years: Vec<i32> = (first.year()..=last.year()).collect();
    let mut pnl = vec![[None; 12]; years.len()];
    let mut before = start;
    let mut i = 0;
    while i < n {
        let (y, m) = (dates[i].year(), dates[i].month0() as usize);
        // The month's last date: equity then, less equity at the end of the month before.
        while i + 1 < n && dates[i + 1].year() == y && dates[i + 1].month0() as usize == m {
            i += 1;
        }
        pnl[(y - first.year()) as usize][m] = Some(equity[i] - before);
        before = equity[i];
        i += 1;
    }
    MonthlyReturns { years, pnl }
}

/// The monthly P&L as a heatmap PNG: years down (the first on top), months across, each cell's
/// dollars written in it while they fit.
pub fn monthly_returns_png(
    m: &MonthlyReturns,
    title: &str,
    width: u32,
    height: u32,
) -> Result<Drawn<Vec<u8>>, ChartError> {
    let months: Vec<String> = MONTHS.iter().map(|s| s.to_string()).collect();
    // Row 0 is drawn at the bottom: the last year goes first.
    let years: Vec<String> = m.years.iter().rev().map(|y| y.to_string()).collect();
    let z: Vec<Vec<Option<f64>>> = m.pnl.iter().rev().map(|row| row.to_vec()).collect();
    heatmap_png(
        &Heatmap {
            title,
            x_key: "month",
            y_key: "year",
            x_labels: &months,
            y_labels: &years,
            z: &z,
            best: None,
        },
        width,
        height,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_measured_from_the_last_equity_before_them() {
        let dates = [
            day("2023-11-29"),
            day("2023-11-30"),
            day("2024-01-02"),
            day("2024-01-31"),
            day("2024-02-01"),
        ];
        let equity = [100_100.0, 100_250.0, 100_000.0, 99_500.0, 99_900.0];
        let m = monthly_returns(&dates, &equity, 100_000.0);
        assert_eq!(m.years, vec![2023, 2024]);
        assert_eq!(m.pnl[0][10], Some(250.0));
        assert_eq!(m.pnl[0][11], None, "no date in December");
        assert_eq!(m.pnl[1][0], Some(-750.0));
        assert_eq!(m.pnl[1][1], Some(400.0));
        assert_eq!(m.pnl[1][2], None);
        let total: f64 = m.pnl.iter().flatten().flatten().sum();
        assert_eq!(total, equity[4] - 100_000.0);
    }

    #[test]
    fn no_curve_no_months() {
        let m = monthly_returns(&[], &[], 100_000.0);
        assert!(m.years.is_empty());
        let drawn = monthly_returns_png(&m, "nothing", 400, 250).unwrap();
        assert!(drawn.image.starts_with(b"\x89PNG"));
    }
}
