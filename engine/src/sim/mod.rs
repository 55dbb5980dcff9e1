//! The bar loop. One pass over the window's bars, plain slices, no allocation per bar.
//!
//! Order of events inside bar `i` (each step sees the state left by the one before):
//! 1. **Roll**: a position held into a bar of a different contract rolls at its open.
//! 2. **Open**: market orders decided at bar `i-1`'s close fill at the open, exits first
//!    (signal, reverse, time), then entries.
//! 3. **Intrabar**: stop/limit entries, then stop loss, trailing stop and take profit. A level
//!    the open has already gapped through fills at the open. When the stop and the target are
//!    both inside the bar, the stop is taken (we cannot know which came first, so assume the
//!    loss). Exits are not checked in the bar of a stop/limit entry (its path before the entry
//!    is unknown), only from the next bar.
//! 4. **Close**: session flatten, then the bar's signals (filled now under `signalClose`,
//!    otherwise queued for bar `i+1`), then `end_of_data` on the window's last bar.
//! 5. **Mark**: equity = capital + closed net P&L + open P&L at the close - open costs,
//!    handed to the [`Recorder`] (drawdown, daily curve, and the per-bar curve if kept).
//!
//! Most bars do nothing but step 5. A run of bars with no pending order, no signal that can
//! act in the position as it stands (`Sim::live`: an entry when flat, the position's exit or a
//! reversing entry when in one), no roll,
//! no time exit, no session's last bar (when flattening) and no price near a stop, target or
//! trailing stop skips steps 1-4 (`quiet_until`, `hold`): the same numbers, in a fraction of
//! the time. Without the per-bar curve, such a run is recorded from its highest, lowest and
//! last equity, date by date.
//!
//! * [`fills`]: steps 1-4, the fill rules (`at_open`, `intrabar`, `decide`, `enter`, `exit`).
//! * [`quiet`]: the quiet-run fast path (`quiet_until`, `hold`). Its promise: a quiet run ends
//!   with the same trades, marks and bytes as the full path bar by bar; any change to the fill
//!   rules must keep `engine/tests/equity_curve.rs` green, which compares the two.

mod fills;
mod quiet;

use std::sync::Arc;

use settle_data::{Bars, ContractSpec};

use crate::config::{BacktestConfig, FillMode, Signals};
use crate::equity::{Curves, Recorder};
use crate::session::{Calendar, SessionCursor};
use crate::trade::{ExitReason, Side, TickGrid, Trade, FLOAT_EXACT};

/// How [`simulate`] runs; the numbers are the same in every mode.
#[derive(Debug, Default)]
pub(crate) struct Mode {
    /// Keep every bar's equity (the per-bar curve).
    pub per_bar: bool,
    /// Skip the event steps of quiet bars; off, every bar takes the full path (the
    /// reference the fast paths are tested against).
    pub quiet_runs: bool,
    /// Memory for the trades: a caller that runs backtest after backtest hands back the
    /// last run's vector, so the trades are written over pages already mapped instead of
    /// growing a fresh vector by copies. Cleared before use.
    pub trades: Vec<Trade>,
}

/// What the loop produces; the caller turns it into a [`crate::BacktestResult`].
pub(crate) struct SimOutput {
    pub trades: Vec<Trade>,
    /// Equity marked at each window bar's close.
    pub curves: Curves,
    pub skipped_entries: u32,
}

/// An open position. Prices are in ticks; `best`/`worst` are in "favourable ticks"
/// (`price x sign`), so one comparison serves both sides.
#[derive(Clone, Copy)]
struct Position {
    sign: i64,
    contracts: i64,
    entry: i64,
    entry_time: i64,
    entry_contract: u16,
    contract: u16,
    /// First bar the trade was open for at least part of.
    first_bar: usize,
    /// First bar whose whole range the trade saw (stops are checked from here on).
    full_from: usize,
    stop: Option<i64>,
    target: Option<i64>,
    trail: Option<i64>,
    best: i64,
    worst: i64,
    /// Fills paid so far: the entry plus two per paid roll.
    fills: u32,
    /// Dollars those fills cost, `fills x fill_cost(contracts)`: kept so the mark of every
    /// bar does not recompute it.
    paid: f64,
    rolls: u32,
}

impl Position {
    /// Takes in a bar range whose highest high and lowest low are `high` and `low` ticks.
    fn widen(&mut self, high: i64, low: i64) {
        let (best, worst) = if self.sign > 0 {
            (high, low)
        } else {
            (-low, -high)
        };
        self.best = self.best.max(best);
        self.worst = self.worst.min(worst);
    }

    /// Mark-to-market at a close of `c` ticks, net of costs already paid.
    #[inline]
    fn open_pnl(&self, grid: &TickGrid, c: i64) -> f64 {
        self.pnl_of_move(grid, ((c - self.entry) * self.sign) as f64)
    }

    /// Mark-to-market after a favourable move of `ticks` (a whole number), net of costs paid.
    #[inline]
    fn pnl_of_move(&self, grid: &TickGrid, ticks: f64) -> f64 {
        grid.dollars_f64(ticks, self.contracts as f64) - self.paid
    }

    /// `banked` plus [`Position::open_pnl`] at each of `closes`, appended to `out`. Computed
    /// in floating point ([`TickGrid::ticks_f64`]), which vectorizes; a run outside that
    /// path's exact range takes the integer one. The same bits either way: every step
    /// before the dollars is exact arithmetic on whole numbers below 2^52.
    fn mark_closes(&self, grid: &TickGrid, banked: f64, closes: &[f64], out: &mut Vec<f64>) {
        let (g, p) = (*grid, *self);
        let entry = p.entry as f64;
        if grid.float_exact(closes) && entry.abs() < FLOAT_EXACT {
            let sign = p.sign as f64;
            // `+ 0.0` turns a -0.0 move into the 0.0 the integer path gives.
            out.extend(
                closes.iter().map(move |&c| {
                    banked + p.pnl_of_move(&g, (g.ticks_f64(c) - entry) * sign + 0.0)
                }),
            );
        } else {
            out.extend(
                closes
                    .iter()
                    .map(move |&c| banked + p.open_pnl(&g, g.ticks(c))),
            );
        }
    }
}

/// Orders decided at a bar's close, for the next bar.
#[derive(Default, Clone, Copy)]
struct Pending {
    exit: Option<ExitReason>,
    /// Side and signal bar of an entry order.
    entry: Option<(Side, usize)>,
}

/// A bar in ticks.
#[derive(Clone, Copy)]
struct Px {
    o: i64,
    h: i64,
    l: i64,
    c: i64,
}

struct Sim<'a> {
    bars: &'a Bars,
    sig: &'a Signals,
    cfg: &'a BacktestConfig,
    spec: &'a ContractSpec,
    grid: TickGrid,
    commission: f64,
    pos: Option<Position>,
    /// Net P&L of closed trades.
    realized: f64,
    /// `starting capital + realized`, summed in that order once per trade rather than once
    /// per bar: the equity when flat.
    banked: f64,
    trades: Vec<Trade>,
    skipped: u32,
    /// Equity of the bars of a quiet run, reused from run to run ([`Sim::hold`]).
    marks: Vec<f64>,
    /// The series' contract names, shared by every trade that names them.
    names: Vec<Arc<str>>,
    /// The name of a trade on a series that names no contract. This run's own empty name,
    /// not `Arc::default()`: that one is a single static shared by every thread, and the
    /// threads of a sweep taking and dropping it at every trade fought over its count
    /// (about 4 % of a sweep's time on such a series).
    unnamed: Arc<str>,
}

pub(crate) fn simulate(
    bars: &Bars,
    spec: &ContractSpec,
    sig: &Signals,
    cfg: &BacktestConfig,
    window: std::ops::Range<usize>,
    cal: &Calendar,
    mode: Mode,
) -> SimOutput {
    let mut sim = Sim {
        bars,
        sig,
        cfg,
        spec,
        grid: TickGrid::new(spec.tick_size, spec.tick_value),
        commission: cfg.commission(spec),
        pos: None,
        realized: 0.0,
        banked: cfg.starting_capital,
        trades: {
            let mut trades = mode.trades;
            trades.clear();
            trades
        },
        skipped: 0,
        marks: Vec::new(),
        names: bars
            .meta
            .contracts
            .iter()
            .map(|c| Arc::from(c.as_str()))
            .collect(),
        unnamed: Arc::from(""),
    };
    let mut curve = Recorder::new(cal, cfg.starting_capital, window.len(), mode.per_bar);
    let mut pending = Pending::default();
    let bar_secs = bars.meta.bar_size.seconds();
    let daily = !bars.meta.bar_size.is_intraday();
    let last = window.end - 1;
    let mut session_ends = SessionEnds {
        bars,
        sessions: SessionCursor::new(cal),
        bar_secs,
        last,
        next: None,
    };
    let flatten = cfg.flatten_at_session_close;
    // Only a pending order, a signal, a roll, a time exit, a touch of a stop or target, a
    // session's last bar (when flattening with a position open), or the window's last bar
    // can make a bar act; the bars in between are only marked (`hold`).
    // Unless orders fill at the signal bar's close, a bar whose only event is a signal acts
    // through the next bar alone: it can end a quiet run rather than take the full path.
    let absorb_signals = cfg.fill != FillMode::SignalClose;
    let mut i = window.start;
    while i < window.end {
        if mode.quiet_runs && pending.exit.is_none() && pending.entry.is_none() {
            let until = match (flatten && sim.pos.is_some(), daily) {
                (false, _) => last,
                (true, true) => i,
                (true, false) => session_ends.from(i).min(last),
            };
            let end = sim.quiet_until(i, until, absorb_signals);
            if end > i {
                sim.hold(i..end, &mut curve);
                // `end <= last`: the bar that ends the run is processed in full below.
                i = end;
                // A run may end with a bar whose only event is a signal: its orders, for
                // the next bar, are decided now.
                let t = end - 1;
                if absorb_signals && sim.signal_at(t) {
                    let (exit, entry) = sim.decide(t);
                    pending = Pending {
                        exit,
                        entry: entry.map(|s| (s, t)),
                    };
                    continue;
                }
            }
        }
        let needs_px = sim.pos.is_some() || pending.exit.is_some() || pending.entry.is_some();
        let px = needs_px.then(|| sim.px(i));
        if let Some(px) = px {
            sim.roll(i);
            sim.at_open(i, px, std::mem::take(&mut pending));
            sim.intrabar(i, px);
        }
        // Close.
        let session_last = flatten && (daily || session_ends.from(i) == i);
        // The bar in ticks, computed at most once per bar.
        let close = |sim: &Sim| px.map_or_else(|| sim.px(i).c, |p| p.c);
        if session_last && sim.pos.is_some() {
            sim.exit(i, close(&sim), i, ExitReason::SessionClose);
        }
        let (exit, entry) = sim.decide(i);
        let entry =
            entry.filter(|_| i < last && !(session_last && cfg.fill == FillMode::SignalClose));
        if cfg.fill == FillMode::SignalClose {
            if exit.is_some() || entry.is_some() {
                let c = close(&sim);
                if let Some(reason) = exit {
                    sim.exit(i, c, i, reason);
                }
                if let Some(side) = entry {
                    // Filled at the close: the trade's first bar is the next one.
                    sim.enter(side, i, c, i, i + 1, i + 1);
                }
            }
        } else if i < last {
            pending = Pending {
                exit,
                entry: entry.map(|s| (s, i)),
            };
        }
        if i == last && sim.pos.is_some() {
            sim.exit(i, close(&sim), i, ExitReason::EndOfData);
        }
        let open_pnl = if sim.pos.is_some() {
            sim.open_pnl(close(&sim))
        } else {
            0.0
        };
        curve.mark(bars.ts[i], sim.banked + open_pnl);
        i += 1;
    }
    SimOutput {
        trades: sim.trades,
        curves: curve.finish(),
        skipped_entries: sim.skipped,
    }
}

/// The last bars of intraday sessions, found for increasing bar indices: a session's last
/// bar ends at or after its close, or is followed by a bar of a later session (the session
/// being the one of the bar's trading date).
struct SessionEnds<'a> {
    bars: &'a Bars,
    sessions: SessionCursor<'a>,
    bar_secs: i64,
    /// The window's last bar.
    last: usize,
    /// The last answer: it holds for every bar from the one it was found for up to itself.
    next: Option<usize>,
}

impl SessionEnds<'_> {
    /// The first bar from `i` on that is the last of its session; past the window's last
    /// bar if none is. (The window's last bar is one only by the close: no bar follows it.)
    fn from(&mut self, i: usize) -> usize {
        if let Some(j) = self.next.filter(|&j| j >= i) {
            return j;
        }
        let s = self.sessions.at(self.bars.ts[i]);
        let ts = &self.bars.ts[i..=self.last];
        let closing = ts.partition_point(|&t| t + self.bar_secs < s.close);
        // The first bar after `ts[0]` in a later session; the one before it is the last.
        let later = ts.partition_point(|&t| t < s.end).max(1);
        let followed = if later < ts.len() {
            later - 1
        } else {
            ts.len()
        };
        let j = i + closing.min(followed);
        self.next = Some(j);
        j
    }
}

impl<'a> Sim<'a> {
    /// Bar `i` in ticks. On close-only series every level is checked against the close.
    #[inline]
    fn px(&self, i: usize) -> Px {
        let g = &self.grid;
        let c = g.ticks(self.bars.close[i]);
        if self.bars.meta.close_only {
            return Px {
                o: c,
                h: c,
                l: c,
                c,
            };
        }
        Px {
            o: g.ticks(self.bars.open[i]),
            h: g.ticks(self.bars.high[i]),
            l: g.ticks(self.bars.low[i]),
            c,
        }
    }

    /// The open, high and low columns, which intrabar checks read; all three are the closes
    /// on close-only series.
    fn ohl(&self) -> [&'a [f64]; 3] {
        let b = self.bars;
        if b.meta.close_only {
            [&b.close, &b.close, &b.close]
        } else {
            [&b.open, &b.high, &b.low]
        }
    }

    /// Dollars one fill costs on `contracts` contracts: commission plus slippage.
    fn fill_cost(&self, contracts: i64) -> f64 {
        contracts as f64 * self.commission
            + self
                .grid
                .dollars(i64::from(self.cfg.slippage_ticks), contracts)
    }

    /// Mark-to-market of the open position at a close of `c` ticks, net of costs already paid.
    #[inline]
    fn open_pnl(&self, c: i64) -> f64 {
        self.pos.as_ref().map_or(0.0, |p| p.open_pnl(&self.grid, c))
    }

    fn roll(&mut self, i: usize) {
        let pay = self.cfg.pay_roll;
        let Some(p) = self.pos.as_ref() else { return };
        let now = self.bars.contract[i];
        if p.contract == now {
            return;
        }
        let cost = self.fill_cost(p.contracts);
        if let Some(p) = self.pos.as_mut() {
            p.contract = now;
            p.rolls += 1;
            if pay {
                p.fills += 2;
                p.paid = f64::from(p.fills) * cost;
            }
        }
    }
}

/// A bar in favourable ticks for a side: `(open, best, worst)`.
#[inline]
fn favourable(px: Px, sign: i64) -> (i64, i64, i64) {
    if sign > 0 {
        (px.o, px.h, px.l)
    } else {
        (-px.o, -px.l, -px.h)
    }
}
