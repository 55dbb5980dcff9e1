//! Steps 1-4 of a bar: market orders at the open, stop/limit entries and the stop, trailing
//! stop and take profit inside the bar, the bar's signals at its close, and the fills and
//! costs of entering and exiting. Every price is on the tick grid: levels are compared in
//! ticks, so a tie is decided by exact values.

use std::sync::Arc;

use super::{favourable, Pending, Position, Px, Sim};
use crate::config::{FillMode, Sizing};
use crate::trade::{ExitReason, Side, Stamp, Trade};

impl Sim<'_> {
    pub(super) fn at_open(&mut self, i: usize, px: Px, pending: Pending) {
        if let Some(reason) = pending.exit {
            if self.pos.is_some() {
                // An exit at the open ends the trade's last full bar at i-1.
                self.exit(i, px.o, i.saturating_sub(1), reason);
            }
        }
        let Some((side, t)) = pending.entry else {
            return;
        };
        if self.pos.is_some() {
            return;
        }
        let sign = side.sign();
        let fill = match self.cfg.fill {
            FillMode::NextOpen | FillMode::SignalClose => Some(px.o),
            FillMode::Stop | FillMode::Limit => {
                let level = self.sig.entry_level.as_ref().map_or(f64::NAN, |l| l[t]);
                if !level.is_finite() {
                    return;
                }
                let lv = self.grid.ticks(level) * sign;
                let (o, best, worst) = favourable(px, sign);
                if self.cfg.fill == FillMode::Stop {
                    // Buy stop above / sell stop below: triggered by a move in our favour.
                    (o >= lv).then_some(o).or((best >= lv).then_some(lv))
                } else {
                    (o <= lv).then_some(o).or((worst <= lv).then_some(lv))
                }
                .map(|f| f * sign)
            }
        };
        if let Some(f) = fill {
            // A fill at the open sees the whole bar; one inside it does not.
            let full_from = if f == px.o { i } else { i + 1 };
            self.enter(side, t, f, i, i, full_from);
        }
    }

    /// Stop, trailing stop and target inside bar `i`; then the bar widens the excursions.
    pub(super) fn intrabar(&mut self, i: usize, px: Px) {
        let Some(p) = self.pos.as_ref() else { return };
        if i < p.full_from {
            return;
        }
        let (o, best, worst) = favourable(px, p.sign);
        let trail = p.trail.map(|d| p.best - d);
        let stop = p.stop.map(|s| s * p.sign);
        let target = p.target.map(|t| t * p.sign);
        let sign = p.sign;
        let hit = exit_hit(Bar { o, best, worst }, stop, trail, target);
        match hit {
            Some((level, why)) => self.exit(i, level * sign, i, why),
            None => {
                if let Some(p) = self.pos.as_mut() {
                    p.best = p.best.max(best);
                    p.worst = p.worst.min(worst);
                }
            }
        }
    }

    /// The orders bar `t`'s signals ask for, given the position after the bar's events.
    pub(super) fn decide(&self, t: usize) -> (Option<ExitReason>, Option<Side>) {
        let s = self.sig;
        let (long, short) = (s.long_entry[t], s.short_entry[t]);
        let Some(p) = &self.pos else {
            return match (long, short) {
                (true, false) => (None, Some(Side::Long)),
                (false, true) => (None, Some(Side::Short)),
                _ => (None, None), // both or neither: no entry
            };
        };
        let (same, opposite, own_exit) = if p.sign > 0 {
            (long, short, s.long_exit[t])
        } else {
            (short, long, s.short_exit[t])
        };
        if self.cfg.reverse_on_opposite && opposite && !same {
            let side = if p.sign > 0 { Side::Short } else { Side::Long };
            return (Some(ExitReason::Reverse), Some(side));
        }
        // Bars the trade has been open for, counting this one.
        let held = (t + 1).saturating_sub(p.first_bar);
        let may_exit = self
            .cfg
            .min_bars_before_signal_exit
            .is_none_or(|n| held >= n as usize);
        if own_exit && may_exit {
            return (Some(ExitReason::Signal), None);
        }
        match self.cfg.max_bars_held {
            Some(n) if held >= n as usize => (Some(ExitReason::Time), None),
            _ => (None, None),
        }
    }

    /// Opens a position at `fill` ticks in bar `i`, for a signal at bar `t`; the trade is open
    /// from bar `first_bar` and sees whole bars from `full_from`. Skipped (and counted) when
    /// an ATR exit has no ATR value or risk sizing rounds down to zero.
    pub(super) fn enter(
        &mut self,
        side: Side,
        t: usize,
        fill: i64,
        i: usize,
        first_bar: usize,
        full_from: usize,
    ) {
        let atr = self.sig.atr.as_ref().map(|a| a[t]);
        let dist = |lvl: Option<crate::ExitLevel>| lvl.map(|l| l.ticks(self.spec, atr));
        let (stop, target, trail) = (
            dist(self.cfg.stop_loss),
            dist(self.cfg.take_profit),
            dist(self.cfg.trailing_stop),
        );
        if [stop, target, trail].contains(&Some(None)) {
            self.skipped += 1;
            return;
        }
        let (stop, target, trail) = (stop.flatten(), target.flatten(), trail.flatten());
        let contracts = match self.cfg.sizing {
            Sizing::Fixed(n) => n,
            Sizing::Risk {
                dollars,
                max_contracts,
            } => {
                let per_contract = self.grid.dollars(stop.unwrap_or(0), 1);
                ((dollars / per_contract).floor() as i64).min(max_contracts)
            }
        };
        if contracts <= 0 {
            self.skipped += 1;
            return;
        }
        let sign = side.sign();
        self.pos = Some(Position {
            sign,
            contracts,
            entry: fill,
            entry_time: self.bars.ts[i],
            entry_contract: self.bars.contract[i],
            contract: self.bars.contract[i],
            first_bar,
            full_from,
            stop: stop.map(|d| fill - d * sign),
            target: target.map(|d| fill + d * sign),
            trail,
            best: fill * sign,
            worst: fill * sign,
            fills: 1,
            paid: self.fill_cost(contracts),
            rolls: 0,
        });
    }

    /// Closes the position at `fill` ticks in bar `i`; `last_bar` is the last bar it was
    /// open for (i-1 for an exit at the open).
    pub(super) fn exit(&mut self, i: usize, fill: i64, last_bar: usize, reason: ExitReason) {
        let Some(p) = self.pos.take() else { return };
        let g = self.grid;
        let fills = f64::from(p.fills + 1);
        let gross = g.dollars((fill - p.entry) * p.sign, p.contracts);
        let commission = fills * p.contracts as f64 * self.commission;
        let slippage = fills * g.dollars(i64::from(self.cfg.slippage_ticks), p.contracts);
        let net = gross - commission - slippage;
        let f = fill * p.sign;
        let entry = p.entry * p.sign;
        self.realized += net;
        self.banked = self.cfg.starting_capital + self.realized;
        let name = |c: u16| Arc::clone(self.names.get(c as usize).unwrap_or(&self.unnamed));
        self.trades.push(Trade {
            id: self.trades.len() as u32 + 1,
            side: if p.sign > 0 { Side::Long } else { Side::Short },
            contracts: p.contracts,
            contract: name(p.entry_contract),
            exit_contract: name(p.contract),
            entry_time: Stamp(p.entry_time),
            entry_price: g.price(p.entry),
            exit_time: Stamp(self.bars.ts[i]),
            exit_price: g.price(fill),
            exit_reason: reason,
            bars_held: (last_bar + 1).saturating_sub(p.first_bar) as u32,
            rolls: p.rolls,
            gross_pnl: gross,
            commission,
            slippage,
            net_pnl: net,
            mae: g.dollars(entry - p.worst.min(f), p.contracts),
            mfe: g.dollars(p.best.max(f) - entry, p.contracts),
        });
    }
}

/// A bar in favourable ticks of the position's side: its open, best and worst prices
/// (higher is better for the position, whichever its side).
#[derive(Debug, Clone, Copy)]
struct Bar {
    o: i64,
    best: i64,
    worst: i64,
}

/// Which of the stop, trailing stop (`trail`, its level now) and target fires in `bar`, and at
/// what level, all in favourable ticks. The tighter of the two stops stands (on a tie, the
/// fixed one); a gap through a level fills at the open; when a bar
/// reaches both a stop and the target, the stop is taken (the bar's path is unknown, and the
/// worse fill is the honest one).
fn exit_hit(
    bar: Bar,
    stop: Option<i64>,
    trail: Option<i64>,
    target: Option<i64>,
) -> Option<(i64, ExitReason)> {
    let stop = match (stop, trail) {
        (Some(s), Some(t)) if t > s => Some((t, ExitReason::TrailingStop)),
        (Some(s), _) => Some((s, ExitReason::Stop)),
        (None, Some(t)) => Some((t, ExitReason::TrailingStop)),
        (None, None) => None,
    };
    match (stop, target) {
        (Some((s, why)), _) if bar.o <= s => Some((bar.o, why)),
        (_, Some(t)) if bar.o >= t => Some((bar.o, ExitReason::Target)),
        (Some((s, why)), _) if bar.worst <= s => Some((s, why)),
        (_, Some(t)) if bar.best >= t => Some((t, ExitReason::Target)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAR: Bar = Bar {
        o: 100,
        best: 110,
        worst: 90,
    };

    #[test]
    fn a_level_inside_the_bar_fills_at_the_level() {
        assert_eq!(
            exit_hit(BAR, Some(95), None, None),
            Some((95, ExitReason::Stop))
        );
        assert_eq!(
            exit_hit(BAR, None, None, Some(105)),
            Some((105, ExitReason::Target))
        );
        assert_eq!(
            exit_hit(BAR, Some(80), None, Some(120)),
            None,
            "neither reached"
        );
        // Exactly at the level counts: ticks are exact.
        assert_eq!(
            exit_hit(BAR, Some(90), None, None),
            Some((90, ExitReason::Stop))
        );
        assert_eq!(
            exit_hit(BAR, None, None, Some(110)),
            Some((110, ExitReason::Target))
        );
    }

    #[test]
    fn a_gap_through_a_level_fills_at_the_open() {
        assert_eq!(
            exit_hit(BAR, Some(101), None, None),
            Some((100, ExitReason::Stop))
        );
        assert_eq!(
            exit_hit(BAR, None, None, Some(99)),
            Some((100, ExitReason::Target))
        );
        // Gapped through both (a stop above a target cannot be, but the stop still wins).
        assert_eq!(
            exit_hit(BAR, Some(100), None, Some(100)),
            Some((100, ExitReason::Stop))
        );
    }

    #[test]
    fn the_stop_wins_when_a_bar_reaches_both_and_the_tighter_stop_stands() {
        assert_eq!(
            exit_hit(BAR, Some(95), None, Some(105)),
            Some((95, ExitReason::Stop))
        );
        assert_eq!(
            exit_hit(BAR, Some(92), Some(96), None),
            Some((96, ExitReason::TrailingStop)),
            "the trailing stop is tighter"
        );
        assert_eq!(
            exit_hit(BAR, Some(96), Some(92), None),
            Some((96, ExitReason::Stop)),
            "the fixed stop is tighter"
        );
        assert_eq!(
            exit_hit(BAR, Some(95), Some(95), None),
            Some((95, ExitReason::Stop)),
            "a tie goes to the fixed stop"
        );
        assert_eq!(
            exit_hit(BAR, None, Some(97), Some(105)),
            Some((97, ExitReason::TrailingStop))
        );
    }
}
