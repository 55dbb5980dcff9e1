//! Equity curves and drawdown.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::session::{Calendar, SessionCursor};
use crate::trade::Stamp;

/// Equity at one bar's close.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    pub time: Stamp,
    pub equity: f64,
}

/// Equity at the close of the last bar of one trading date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyEquity {
    pub date: NaiveDate,
    pub equity: f64,
}

/// One point per trading date: the equity of its last bar.
pub(crate) fn daily(ts: &[i64], equity: &[f64], cal: &Calendar) -> Vec<DailyEquity> {
    let mut out: Vec<DailyEquity> = Vec::new();
    let mut cursor = SessionCursor::new(cal);
    for (&t, &e) in ts.iter().zip(equity) {
        let date = cursor.at(t).date;
        match out.last_mut() {
            Some(d) if d.date == date => d.equity = e,
            _ => out.push(DailyEquity { date, equity: e }),
        }
    }
    out
}

/// Largest peak-to-trough fall of `equity` (the peak starts at `start`), in dollars and as a
/// percent of the peak it fell from. Both are 0 for a curve that never falls.
pub(crate) fn max_drawdown(start: f64, equity: &[f64]) -> (f64, f64) {
    let (mut peak, mut dollars, mut pct) = (start, 0.0_f64, 0.0_f64);
    for &e in equity {
        peak = peak.max(e);
        dollars = dollars.max(peak - e);
        if peak > 0.0 {
            pct = pct.max((peak - e) / peak * 100.0);
        }
    }
    (dollars, pct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        // Peak 110 -> trough 95 = 15 (13.6 %); the later fall 120 -> 108 = 12 is smaller.
        let (d, p) = max_drawdown(100.0, &[110.0, 95.0, 120.0, 108.0]);
        assert_eq!(d, 15.0);
        assert!((p - 15.0 / 110.0 * 100.0).abs() < 1e-12);
        // A first bar below the start counts from the start.
        assert_eq!(max_drawdown(100.0, &[90.0]).0, 10.0);
        assert_eq!(max_drawdown(100.0, &[100.0, 101.0]), (0.0, 0.0));
    }
}
