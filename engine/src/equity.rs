//! Equity curves and drawdown, recorded bar by bar as the simulation marks them.
//!
//! The metrics need only three things from the per-bar curve: its running drawdown, its
//! length, and its last value on each trading date. `Recorder` keeps exactly those as the
//! bars go by, so a run that does not return the per-bar curve never stores it (a million
//! one-minute bars would be 16 MB written and thrown away).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::lanes;
use crate::session::{Calendar, SessionCursor};
use crate::trade::Stamp;

/// Equity at one bar's close.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// The bar's stamp (its open time).
    pub time: Stamp,
    /// Account equity in dollars at the bar's close, the open trade marked at that close.
    pub equity: f64,
}

/// Equity at the close of the last bar of one trading date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyEquity {
    /// The CME trading date (the session that closes on it).
    pub date: NaiveDate,
    /// Account equity in dollars at the close of the date's last bar.
    pub equity: f64,
}

/// Marks [`Drawdown::mark_all`] tests for a new peak at once.
const DD_BLOCK: usize = 64;

/// Largest peak-to-trough fall of an equity curve fed one mark at a time; the peak starts
/// at the starting capital.
///
/// Between two new peaks the deepest fall is the one to the lowest mark, so a mark only
/// updates that trough, and the fall is measured once per peak (when a higher peak or the
/// end arrives). That is the same number as measuring every mark: subtraction and division
/// by a positive peak are monotonic under rounding, so the largest fall in dollars and in
/// percent both come from the trough.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Drawdown {
    peak: f64,
    /// Lowest mark since `peak` was set.
    trough: f64,
    /// Dollars, >= 0, of the peaks before the current one.
    dollars: f64,
    /// Percent (0..100) of the peak it fell from, of the peaks before the current one.
    pct: f64,
}

impl Drawdown {
    pub fn new(start: f64) -> Self {
        Drawdown {
            peak: start,
            trough: start,
            dollars: 0.0,
            pct: 0.0,
        }
    }

    /// The drawdown of a whole curve.
    pub fn of(start: f64, equity: &[f64]) -> Self {
        let mut d = Drawdown::new(start);
        d.mark_all(equity);
        d
    }

    /// [`Drawdown::mark`] of each of `equity`, in order. Most stretches of a curve set no new
    /// peak, and then all their marks do is lower the trough to their minimum: blocks of up
    /// to [`DD_BLOCK`] marks below the peak take that minimum at once ([`lanes::pick`]), and
    /// only a block that holds a new peak is marked one by one. The same numbers (a minimum
    /// does not depend on the order it is taken in; at most a zero trough's sign could, and
    /// a fall is measured the same from either zero).
    pub fn mark_all(&mut self, equity: &[f64]) {
        for b in equity.chunks(DD_BLOCK) {
            let top = lanes::pick(b, f64::NEG_INFINITY, lanes::max);
            let bottom = lanes::pick(b, f64::INFINITY, lanes::min);
            if !self.absorb(top, bottom) {
                b.iter().for_each(|&e| self.mark(e));
            }
        }
    }

    /// Marks whose highest is `top` and lowest `bottom`, in any order, when none is a new
    /// peak: then all they do is lower the trough to `bottom`. Returns false, changing
    /// nothing, when `top` would be a new peak (the marks must then go one by one).
    pub fn absorb(&mut self, top: f64, bottom: f64) -> bool {
        if top > self.peak {
            return false;
        }
        self.trough = lanes::min(self.trough, bottom);
        true
    }

    #[inline]
    pub fn mark(&mut self, equity: f64) {
        if equity > self.peak {
            self.close_peak();
            self.peak = equity;
            self.trough = equity;
        } else {
            // A select rather than a branch: new lows come at random in a falling curve.
            self.trough = lanes::min(self.trough, equity);
        }
    }

    /// Folds the fall from the current peak to its trough into the maxima.
    fn close_peak(&mut self) {
        let fall = self.peak - self.trough;
        if fall > 0.0 {
            self.dollars = self.dollars.max(fall);
            if self.peak > 0.0 {
                self.pct = self.pct.max(fall / self.peak * 100.0);
            }
        }
    }

    /// `(dollars, percent)` of the largest fall so far.
    pub fn get(mut self) -> (f64, f64) {
        self.close_peak();
        (self.dollars, self.pct)
    }
}

/// The curves of one run, as [`Recorder::finish`] hands them over.
pub(crate) struct Curves {
    /// Empty unless the per-bar curve was asked for.
    pub per_bar: Vec<EquityPoint>,
    pub daily: Vec<DailyEquity>,
    pub drawdown: Drawdown,
    /// Bars marked (the window's length).
    pub bars: usize,
}

/// Takes one equity mark per window bar, in order.
pub(crate) struct Recorder<'a> {
    cursor: SessionCursor<'a>,
    /// End of the session of the last entry of `daily` (first instant of the next date).
    day_end: i64,
    curves: Curves,
    per_bar: bool,
}

impl<'a> Recorder<'a> {
    /// `bars` is the window's length, reserved up front when `per_bar` keeps every mark.
    pub fn new(cal: &'a Calendar, start: f64, bars: usize, per_bar: bool) -> Self {
        Recorder {
            cursor: SessionCursor::new(cal),
            day_end: i64::MIN,
            curves: Curves {
                per_bar: Vec::with_capacity(if per_bar { bars } else { 0 }),
                daily: Vec::new(),
                drawdown: Drawdown::new(start),
                bars: 0,
            },
            per_bar,
        }
    }

    /// Equity `equity` at the close of the bar stamped `ts`.
    #[inline]
    pub fn mark(&mut self, ts: i64, equity: f64) {
        let c = &mut self.curves;
        c.bars += 1;
        c.drawdown.mark(equity);
        if self.per_bar {
            c.per_bar.push(EquityPoint {
                time: Stamp(ts),
                equity,
            });
        }
        match c.daily.last_mut() {
            // Still inside the trading date of the last daily point: it moves to this bar.
            Some(d) if ts < self.day_end => d.equity = equity,
            _ => {
                let s = self.cursor.at(ts);
                self.day_end = s.end;
                match c.daily.last_mut() {
                    // Guards against a calendar whose session bounds and dates disagree
                    // (e.g. around a time-zone change): the date decides.
                    Some(d) if d.date == s.date => d.equity = equity,
                    _ => c.daily.push(DailyEquity {
                        date: s.date,
                        equity,
                    }),
                }
            }
        }
    }

    /// Whether every mark is kept (the per-bar curve was asked for).
    pub fn per_bar(&self) -> bool {
        self.per_bar
    }

    /// How many of the bars stamped `ts` (in order) fall inside the trading date of the last
    /// daily point; 0 when the first one starts a new date (it then goes through
    /// [`Recorder::mark`], which looks its session up).
    pub fn same_date(&self, ts: &[i64]) -> usize {
        if self.curves.daily.is_empty() {
            return 0;
        }
        // Stamps increase, so the bars of this date are a prefix; most runs end inside the
        // date, which one look at their last stamp settles.
        match ts.last() {
            Some(&t) if t < self.day_end => ts.len(),
            _ => ts.partition_point(|&t| t < self.day_end),
        }
    }

    /// [`Recorder::mark`] for `n` consecutive bars inside the date of the last daily point
    /// ([`Recorder::same_date`]), from their highest, lowest and last equity alone, when that
    /// is all the record needs: no per-bar curve is kept and none of them sets a new peak.
    /// Returns false, having recorded nothing, otherwise.
    pub fn mark_summary(&mut self, n: usize, top: f64, bottom: f64, last: f64) -> bool {
        let c = &mut self.curves;
        if self.per_bar || !c.drawdown.absorb(top, bottom) {
            return false;
        }
        if let Some(d) = c.daily.last_mut() {
            d.equity = last;
        }
        c.bars += n;
        true
    }

    /// [`Recorder::mark`] for consecutive bars stamped `ts` with equity `equity` (as long as
    /// `ts`). The same marks, but the bars inside the trading date of the last daily point
    /// (all but about one a day) take tight loops: drawdown in blocks, the per-bar choice
    /// made once per date, and only the date's last equity written to the daily curve.
    pub fn mark_run(&mut self, ts: &[i64], equity: &[f64]) {
        let mut k = 0;
        while k < ts.len() {
            let n = self.same_date(&ts[k..]);
            if n == 0 {
                self.mark(ts[k], equity[k]);
                k += 1;
                continue;
            }
            let (ts, equity) = (&ts[k..k + n], &equity[k..k + n]);
            let c = &mut self.curves;
            c.drawdown.mark_all(equity);
            if self.per_bar {
                c.per_bar
                    .extend(ts.iter().zip(equity).map(|(&t, &equity)| EquityPoint {
                        time: Stamp(t),
                        equity,
                    }));
            }
            c.bars += n;
            if let (Some(d), Some(&e)) = (c.daily.last_mut(), equity.last()) {
                d.equity = e;
            }
            k += n;
        }
    }

    pub fn finish(self) -> Curves {
        self.curves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        // Peak 110 -> trough 95 = 15 (13.6 %); the later fall 120 -> 108 = 12 is smaller.
        let (d, pct) = Drawdown::of(100.0, &[110.0, 95.0, 120.0, 108.0]).get();
        assert_eq!(d, 15.0);
        assert!((pct - 15.0 / 110.0 * 100.0).abs() < 1e-12);
        // A first bar below the start counts from the start.
        assert_eq!(Drawdown::of(100.0, &[90.0]).get().0, 10.0);
        assert_eq!(Drawdown::of(100.0, &[100.0, 101.0]).get(), (0.0, 0.0));
        // The deepest fall in dollars and in percent can come from different peaks.
        let (d, pct) = Drawdown::of(100.0, &[50.0, 1000.0, 900.0]).get();
        assert_eq!((d, pct), (100.0, 50.0));
    }
}
