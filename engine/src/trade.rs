//! One round trip, as the trade list reports it, and the tick grid that prices it.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Long or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Bought first, sold to exit: gains when the price rises.
    Long,
    /// Sold first, bought back to exit: gains when the price falls.
    Short,
}

impl Side {
    /// +1 for long, -1 for short: multiplies a price move into a P&L move.
    pub fn sign(self) -> i64 {
        match self {
            Side::Long => 1,
            Side::Short => -1,
        }
    }
}

/// Why a trade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The stop loss level was touched (or gapped through: filled at the open).
    Stop,
    /// The take-profit level was touched (or gapped through: filled at the open).
    Target,
    /// The trailing stop level was touched.
    TrailingStop,
    /// `maxBarsHeld` was reached.
    Time,
    /// Flattened at the close of the session's last bar.
    SessionClose,
    /// The side's exit signal fired.
    Signal,
    /// An opposite entry signal closed the trade and opened the other side.
    Reverse,
    /// Still open on the window's last bar: closed at its close, with exit costs.
    EndOfData,
}

/// A bar stamp (UTC epoch seconds), written as RFC 3339 text such as `2024-01-17T00:49:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(pub i64);

impl Stamp {
    /// The UTC calendar date of the stamp (not the session's trading date).
    pub fn utc_date(self) -> chrono::NaiveDate {
        DateTime::from_timestamp(self.0, 0)
            .unwrap_or_default()
            .date_naive()
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = DateTime::from_timestamp(self.0, 0).unwrap_or_default();
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| Stamp(t.timestamp()))
            .map_err(serde::de::Error::custom)
    }
}

/// One closed trade. Prices are market prices **before** slippage (the open, the stop level,
/// the close...), so `grossPnl = (exitPrice - entryPrice) x side x multiplier x contracts`
/// and `netPnl = grossPnl - commission - slippage` hold exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    /// 1, 2, 3... in entry order.
    pub id: u32,
    /// Long or short.
    pub side: Side,
    /// Contracts held, at least 1; the same from entry to exit (a position never adds).
    pub contracts: i64,
    /// Contract held at entry (e.g. `ESZ23`); empty when the series names none. Shared, not
    /// copied: a run of ten thousand trades names a handful of contracts.
    pub contract: Arc<str>,
    /// Contract held at exit; differs from `contract` after a roll.
    pub exit_contract: Arc<str>,
    /// Stamp of the bar the entry filled in (at its open, inside it, or at its close).
    pub entry_time: Stamp,
    /// Market price of the entry before slippage, on the tick grid.
    pub entry_price: f64,
    /// Stamp of the bar the exit filled in.
    pub exit_time: Stamp,
    /// Market price of the exit before slippage, on the tick grid.
    pub exit_price: f64,
    /// Why the trade ended.
    pub exit_reason: ExitReason,
    /// Bars the trade was open for at least part of.
    pub bars_held: u32,
    /// Contract rolls while open (each charged as two extra fills when `payRoll`).
    pub rolls: u32,
    /// Dollars before costs: (exit − entry) × side × multiplier × contracts.
    pub gross_pnl: f64,
    /// Dollars of commission over every fill (entry, exit, two per paid roll).
    pub commission: f64,
    /// Dollars of slippage: ticks per fill x fills x tick value x contracts.
    pub slippage: f64,
    /// Dollars: `grossPnl − commission − slippage`.
    pub net_pnl: f64,
    /// Maximum adverse excursion, dollars >= 0, before costs.
    pub mae: f64,
    /// Maximum favorable excursion, dollars >= 0, before costs.
    pub mfe: f64,
}

/// Tick counts below this (2^50) survive the float path of [`TickGrid::ticks_f64`] and the
/// subtractions after it exactly.
pub(crate) const FLOAT_EXACT: f64 = 1_125_899_906_842_624.0;

/// Prices as whole ticks. Every fill sits on the grid, so P&L is a tick count times the tick
/// value: exact for every CME tick value (all are short binary fractions) and never drifting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TickGrid {
    tick_size: f64,
    /// Ticks per point when that is a whole number (1 / 0.25 = 4): dividing by it prints
    /// prices as they are quoted (1.0903, not 1.0903000000000001).
    per_point: Option<f64>,
    /// `1 / tick_size`: multiplying is several times faster than dividing in the bar loop, and
    /// gives the same nearest tick for any price within a hair of the grid.
    scale: f64,
    pub tick_value: f64,
}

impl TickGrid {
    pub fn new(tick_size: f64, tick_value: f64) -> Self {
        let inv = 1.0 / tick_size;
        let per_point = ((inv - inv.round()).abs() < 1e-9).then(|| inv.round());
        TickGrid {
            tick_size,
            per_point,
            scale: per_point.unwrap_or(inv),
            tick_value,
        }
    }

    /// The nearest tick to `price` (halves away from zero, like `f64::round`). Written as
    /// add-half-then-truncate because `round` is a library call on baseline x86-64 and this
    /// runs several times per bar.
    #[inline]
    pub fn ticks(&self, price: f64) -> i64 {
        let t = price * self.scale;
        (t + 0.5_f64.copysign(t)) as i64
    }

    /// [`TickGrid::ticks`] as a whole-number `f64`, computed without leaving floating point
    /// so that a loop of it vectorizes (the integer conversion does not, on baseline x86-64):
    /// the same add-half, then a truncation by the 1.5 x 2^52 trick (adding and removing it
    /// rounds to the nearest whole number) and a step back toward zero when that rounded
    /// away from it. Equal to `ticks(price) as f64` when [`TickGrid::float_exact`] holds for
    /// `price`; meaningless otherwise.
    #[inline]
    pub fn ticks_f64(&self, price: f64) -> f64 {
        const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 x 2^52
        let t = price * self.scale;
        let s = t + 0.5_f64.copysign(t);
        let r = (s + ROUND) - ROUND;
        if r.abs() > s.abs() {
            r - 1.0_f64.copysign(s)
        } else {
            r
        }
    }

    /// Whether [`TickGrid::ticks_f64`] is exact for every one of `prices`: each is a number
    /// of fewer than 2^50 ticks (no NaN, no absurd price).
    pub fn float_exact(&self, prices: &[f64]) -> bool {
        prices
            .iter()
            .fold(true, |ok, &p| ok & ((p * self.scale).abs() < FLOAT_EXACT))
    }

    pub fn price(&self, ticks: i64) -> f64 {
        self.price_of(ticks as f64)
    }

    /// [`TickGrid::price`] of a tick count that need not be whole.
    pub fn price_of(&self, ticks: f64) -> f64 {
        match self.per_point {
            Some(k) => ticks / k,
            None => ticks * self.tick_size,
        }
    }

    /// Dollars of a move of `ticks` on `contracts` contracts.
    #[inline]
    pub fn dollars(&self, ticks: i64, contracts: i64) -> f64 {
        self.dollars_f64(ticks as f64, contracts as f64)
    }

    /// [`TickGrid::dollars`] of whole numbers held as `f64`.
    #[inline]
    pub fn dollars_f64(&self, ticks: f64, contracts: f64) -> f64 {
        ticks * self.tick_value * contracts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_prints_quoted_prices_and_exact_dollars() {
        let g = TickGrid::new(0.00005, 6.25); // 6E
        assert_eq!(g.ticks(1.0903), 21806);
        let es = TickGrid::new(0.25, 12.5);
        assert_eq!((es.ticks(-0.125), es.ticks(0.375)), (-1, 2)); // halves away from 0
        assert_eq!(g.price(21806), 1.0903);
        assert_eq!(g.dollars(-7, 3), -131.25);
        let zn = TickGrid::new(1.0 / 64.0, 15.625);
        assert_eq!(zn.price(7041), 110.015625);
    }

    #[test]
    fn float_ticks_are_the_integer_ticks() {
        let es = TickGrid::new(0.25, 12.5);
        let e6 = TickGrid::new(0.00005, 6.25);
        // On the grid, off it, at halves, near zero, negative (CL in April 2020), and the
        // add-half rounding up inside the float addition.
        let prices = [
            4800.0,
            4800.25,
            4800.1,
            4800.125,
            -37.63,
            -0.125,
            -0.1,
            0.0,
            -0.0,
            0.375,
            0.124_999_999_999_999_99,
            1.0903,
            1.090_325,
            0.000_024_999,
        ];
        for g in [es, e6] {
            assert!(g.float_exact(&prices));
            for p in prices {
                assert_eq!(g.ticks_f64(p), g.ticks(p) as f64, "{p}");
            }
            for k in -3000..3000 {
                let p = k as f64 * 0.013;
                assert_eq!(g.ticks_f64(p), g.ticks(p) as f64, "{p}");
            }
        }
        assert!(!es.float_exact(&[1.0, f64::NAN]));
        assert!(!es.float_exact(&[1e300]));
    }

    #[test]
    fn stamps_are_rfc3339_utc() {
        let j = serde_json::to_string(&Stamp(1_705_452_540)).unwrap();
        assert_eq!(j, "\"2024-01-17T00:49:00Z\"");
        assert_eq!(
            serde_json::from_str::<Stamp>(&j).unwrap(),
            Stamp(1_705_452_540)
        );
    }
}
