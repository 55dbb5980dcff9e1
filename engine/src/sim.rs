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
//! Most bars do nothing but step 5. A run of bars with no pending order, no signal, no roll,
//! no time exit, no session's last bar (when flattening) and no price near a stop, target or
//! trailing stop skips steps 1-4 (`quiet_until`, `hold`): the same numbers, in a fraction of
//! the time. Without the per-bar curve, such a run is recorded from its highest, lowest and
//! last equity, date by date.

use std::sync::Arc;

use settle_data::{Bars, ContractSpec};

use crate::config::{BacktestConfig, FillMode, Signals, Sizing};
use crate::equity::{Curves, Recorder};
use crate::lanes;
use crate::session::{Calendar, SessionCursor};
use crate::trade::{ExitReason, Side, Stamp, TickGrid, Trade, FLOAT_EXACT};

/// How [`simulate`] runs; the numbers are the same in every mode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    /// Keep every bar's equity (the per-bar curve).
    pub per_bar: bool,
    /// Skip the event steps of quiet bars; off, every bar takes the full path (the
    /// reference the fast paths are tested against).
    pub quiet_runs: bool,
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
        trades: Vec::new(),
        skipped: 0,
        marks: Vec::new(),
        names: bars
            .meta
            .contracts
            .iter()
            .map(|c| Arc::from(c.as_str()))
            .collect(),
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

    /// The first bar from `from` (at most `last`, which the caller sets no later than the
    /// session's last bar when flattening) that carries any signal or, with a position open,
    /// belongs to another contract, reaches the time exit, or may touch the stop, the target
    /// ([`Sim::first_touch`]) or the trailing stop ([`Sim::first_trail_touch`]). Bars before
    /// it, with no pending order, can change nothing but the marks and the excursions.
    /// Ending a run early is always safe: the bar that ends it takes the full path, which
    /// decides exactly (any signal ends the run, even one `decide` would ignore).
    fn quiet_until(&self, from: usize, last: usize, absorb_signals: bool) -> usize {
        // With `absorb_signals`, a bar with a signal but no roll, before `last` (and before
        // the time exit), joins the run as its last bar.
        let through = |k: usize, last: usize, held: Option<u16>| {
            let joins = absorb_signals
                && k < last
                && self.signal_at(k)
                && held.is_none_or(|h| h == self.bars.contract[k]);
            k + usize::from(joins)
        };
        let Some(p) = &self.pos else {
            return through(self.next_signal(from, last, None), last, None);
        };
        // `decide` asks for the time exit at the trade's `n`th bar.
        let last = match self.cfg.max_bars_held {
            Some(n) => last.min((p.first_bar + n as usize).saturating_sub(1)),
            None => last,
        };
        if from >= last {
            return from;
        }
        let held = Some(p.contract);
        let end = through(self.next_signal(from, last, held), last, held);
        // Intrabar looks at bars from `full_from` on.
        let start = from.max(p.full_from).min(end);
        let end = if p.stop.is_some() || p.target.is_some() {
            self.first_touch(p, start..end)
        } else {
            end
        };
        match p.trail {
            Some(distance) => self.first_trail_touch(p, distance, start..end),
            None => end,
        }
    }

    /// The first bar from `from` (at most `last`) with any signal or, when `held` names the
    /// contract of an open position, of another contract.
    ///
    /// Most bars carry nothing, so [`BLOCK`] bars are tested at once: the flags are one byte
    /// a bar, so a block of each column is one 64-bit word, and the lowest nonzero byte of
    /// the four words' OR is the first bar with a signal. A block with a roll, and the last
    /// few bars before `last`, go bar by bar.
    fn next_signal(&self, from: usize, last: usize, held: Option<u16>) -> usize {
        let s = self.sig;
        let columns = [&s.long_entry, &s.short_entry, &s.long_exit, &s.short_exit];
        let flags = columns.map(|c| bytemuck::cast_slice::<bool, u8>(c));
        let contract = &self.bars.contract;
        let mut k = from;
        while k + BLOCK <= last {
            let word = |c: &[u8]| u64::from_le_bytes(*block(c, k));
            let signals = flags.iter().fold(0, |w, c| w | word(c));
            let rolled =
                held.is_some_and(|h| block(contract, k).iter().fold(false, |a, &c| a | (c != h)));
            if rolled {
                break;
            }
            if signals != 0 {
                return k + signals.trailing_zeros() as usize / 8;
            }
            k += BLOCK;
        }
        while k < last && !self.signal_at(k) && held.is_none_or(|h| h == contract[k]) {
            k += 1;
        }
        k
    }

    /// Whether bar `t` carries any signal.
    #[inline]
    fn signal_at(&self, t: usize) -> bool {
        let s = self.sig;
        s.long_entry[t] | s.short_entry[t] | s.long_exit[t] | s.short_exit[t]
    }

    /// The first bar of `bars` (its end if none) whose open, high or low comes within a
    /// quarter tick of a tick that would trigger the position's stop or target, or is NaN.
    /// The test is on prices against thresholds three quarters of a tick inside the levels,
    /// which no price converts past: a price more than 0.75 tick above a level is at least
    /// one tick above it (the conversion rounds to the nearest tick, and a price's rounding
    /// error is far below a quarter tick). So every bar it lets through is one
    /// [`Sim::intrabar`] would not exit in; a bar it stops at may still not exit.
    fn first_touch(&self, p: &Position, bars: std::ops::Range<usize>) -> usize {
        // The level below the market (a long's stop, a short's target) and the one above.
        let (below, above) = if p.sign > 0 {
            (p.stop, p.target)
        } else {
            (p.target, p.stop)
        };
        let price = |ticks: f64| self.grid.price_of(ticks);
        let floor = below.map_or(f64::NEG_INFINITY, |l| price(l as f64 + 0.75));
        let ceiling = above.map_or(f64::INFINITY, |l| price(l as f64 - 0.75));
        let clear = |x: f64| x > floor && x < ceiling;
        let [o, h, l] = self.ohl().map(|c| &c[bars.clone()]);
        let mut k = 0;
        while k + BLOCK <= o.len() {
            let r = k..k + BLOCK;
            let all_clear = o[r.clone()]
                .iter()
                .zip(&h[r.clone()])
                .zip(&l[r])
                .fold(true, |ok, ((&o, &h), &l)| {
                    ok & clear(o) & clear(h) & clear(l)
                });
            if !all_clear {
                break;
            }
            k += BLOCK;
        }
        while k < o.len() && clear(o[k]) && clear(h[k]) && clear(l[k]) {
            k += 1;
        }
        bars.start + k
    }

    /// The first bar of `bars` (its end if none) whose open or worst price comes within a
    /// quarter tick of the trailing stop, as it stands at that bar, or with a NaN price. The
    /// stop trails the best price by `distance` ticks; the best price so far is tracked in
    /// price (favourable: `price x sign`), and the threshold allows for the half tick its
    /// conversion can round up, so again every bar let through is one [`Sim::intrabar`]
    /// would not exit in.
    fn first_trail_touch(
        &self,
        p: &Position,
        distance: i64,
        bars: std::ops::Range<usize>,
    ) -> usize {
        let g = &self.grid;
        let sign = p.sign as f64;
        let [o, h, l] = self.ohl();
        let (best, worst) = if p.sign > 0 { (h, l) } else { (l, h) };
        // The stop from the best tick before the run, and the allowance above the best
        // price of the run's bars so far: 0.75 tick for the threshold, 0.5 for rounding.
        let floor = g.price_of((p.best - distance) as f64 + 0.75);
        let allowance = g.price_of(1.25 - distance as f64);
        let mut top = f64::NEG_INFINITY;
        for k in bars.clone() {
            let stop = floor.max(top + allowance);
            let (o, best, worst) = (o[k] * sign, best[k] * sign, worst[k] * sign);
            if !(o > stop && worst > stop && !best.is_nan()) {
                return k;
            }
            top = top.max(best);
        }
        bars.end
    }

    /// Bars `run`, found quiet by [`Sim::quiet_until`]: each is marked at its close, and an
    /// open position's best and worst prices take in the run's extremes at once (the same
    /// ticks as bar by bar: the tick conversion is monotonic, so the extreme of the ticks is
    /// the ticks of the extreme).
    fn hold(&mut self, run: std::ops::Range<usize>, curve: &mut Recorder) {
        let b = self.bars;
        // Two reads miss the cache unless asked for early (each about a fifth of the loop's
        // time when not): the run's last stamp, which tells the recorder whether the run
        // ends inside the trading date, and the open of bar `run.end`, which takes the full
        // path (the quiet bars read neither column).
        prefetch(&b.ts, run.end - 1);
        prefetch(&b.open, run.end);
        let (ts, closes) = (&b.ts[run.clone()], &b.close[run.clone()]);
        let (g, [_, high, low]) = (self.grid, self.ohl());
        // The common case without the per-bar curve, in one pass over the run: a position
        // that saw every bar of it, all inside one trading date.
        let seen_all = self.pos.as_ref().is_some_and(|p| p.full_from <= run.start);
        if seen_all && !curve.per_bar() && curve.same_date(ts) == ts.len() {
            let x = lanes::Extremes::of(&high[run.clone()], &low[run.clone()], closes);
            if let (true, Some(p)) = (x.finite, self.pos.as_mut()) {
                p.widen(g.ticks(x.high), g.ticks(x.low));
                if !self.summarize_extremes(&x, closes[closes.len() - 1], ts.len(), curve) {
                    self.mark_each(ts, closes, curve);
                }
                return;
            }
        }
        if let Some(p) = self.pos.as_mut() {
            // Intrabar sees bars from `full_from` on.
            let seen = run.start.max(p.full_from)..run.end;
            if !seen.is_empty() {
                let (highs, lows) = (&high[seen.clone()], &low[seen]);
                p.widen(
                    g.ticks(extreme(highs, |a, b| a > b)),
                    g.ticks(extreme(lows, |a, b| a < b)),
                );
            }
        }
        if curve.per_bar() {
            self.mark_each(ts, closes, curve);
            return;
        }
        // Without the per-bar curve, the bars of one date that set no new peak need only
        // their highest, lowest and last equity ([`Sim::summarize`]).
        let mut k = 0;
        while k < ts.len() {
            let n = curve.same_date(&ts[k..]);
            if n == 0 {
                self.mark_closes(&closes[k..=k]);
                curve.mark(ts[k], self.marks[0]);
                k += 1;
                continue;
            }
            let (ts, closes) = (&ts[k..k + n], &closes[k..k + n]);
            if !self.summarize(closes, curve) {
                self.mark_each(ts, closes, curve);
            }
            k += n;
        }
    }

    /// Marks every one of the quiet bars stamped `ts`, at `closes`, one equity value each.
    fn mark_each(&mut self, ts: &[i64], closes: &[f64], curve: &mut Recorder) {
        self.mark_closes(closes);
        curve.mark_run(ts, &self.marks);
    }

    /// The equity at each of `closes` (bars of a quiet run) into `marks`.
    fn mark_closes(&mut self, closes: &[f64]) {
        self.marks.clear();
        match &self.pos {
            Some(p) => p.mark_closes(&self.grid, self.banked, closes, &mut self.marks),
            None => self.marks.resize(closes.len(), self.banked),
        }
    }

    /// Records bars with `closes`, all inside the date of the last daily point, from their
    /// highest, lowest and last equity, if the recorder can ([`Recorder::mark_summary`]).
    /// Equity rises with the close for a long and falls for a short (every step from price
    /// to dollars keeps order), so those are the equity at the highest and lowest close:
    /// exact, once no close is NaN or absurd (`float_exact`).
    fn summarize(&self, closes: &[f64], curve: &mut Recorder) -> bool {
        let (g, banked, n) = (self.grid, self.banked, closes.len());
        let Some(p) = &self.pos else {
            return curve.mark_summary(n, banked, banked, banked);
        };
        if !g.float_exact(closes) {
            return false;
        }
        let hi = lanes::pick(closes, closes[0], lanes::max);
        let lo = lanes::pick(closes, closes[0], lanes::min);
        self.summarize_closes(p, hi, lo, closes[n - 1], n, curve)
    }

    /// [`Sim::summarize`] from a run's finite [`lanes::Extremes`] (`last` its last close, `n`
    /// its length): closes whose extremes are in range are all in range.
    fn summarize_extremes(
        &self,
        x: &lanes::Extremes,
        last: f64,
        n: usize,
        curve: &mut Recorder,
    ) -> bool {
        match &self.pos {
            Some(p) if self.grid.float_exact(&[x.close_max, x.close_min]) => {
                self.summarize_closes(p, x.close_max, x.close_min, last, n, curve)
            }
            _ => false,
        }
    }

    /// Records `n` bars of one date held in `p` from their highest, lowest and last close.
    fn summarize_closes(
        &self,
        p: &Position,
        high: f64,
        low: f64,
        last: f64,
        n: usize,
        curve: &mut Recorder,
    ) -> bool {
        let (g, banked) = (self.grid, self.banked);
        let equity = |c: f64| banked + p.open_pnl(&g, g.ticks(c));
        let (hi, lo) = (equity(high), equity(low));
        let (top, bottom) = if p.sign > 0 { (hi, lo) } else { (lo, hi) };
        curve.mark_summary(n, top, bottom, equity(last))
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

    fn at_open(&mut self, i: usize, px: Px, pending: Pending) {
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
    fn intrabar(&mut self, i: usize, px: Px) {
        let Some(p) = self.pos.as_ref() else { return };
        if i < p.full_from {
            return;
        }
        let (o, best, worst) = favourable(px, p.sign);
        let trail = p.trail.map(|d| p.best - d);
        // The tighter of the fixed and trailing stops (favourable ticks: higher is tighter).
        let stop = match (p.stop.map(|s| s * p.sign), trail) {
            (Some(s), Some(t)) if t > s => Some((t, ExitReason::TrailingStop)),
            (Some(s), _) => Some((s, ExitReason::Stop)),
            (None, Some(t)) => Some((t, ExitReason::TrailingStop)),
            (None, None) => None,
        };
        let target = p.target.map(|t| t * p.sign);
        let sign = p.sign;
        let hit = match (stop, target) {
            (Some((s, why)), _) if o <= s => Some((o, why)),
            (_, Some(t)) if o >= t => Some((o, ExitReason::Target)),
            (Some((s, why)), _) if worst <= s => Some((s, why)),
            (_, Some(t)) if best >= t => Some((t, ExitReason::Target)),
            _ => None,
        };
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
    fn decide(&self, t: usize) -> (Option<ExitReason>, Option<Side>) {
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
    fn enter(
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
    fn exit(&mut self, i: usize, fill: i64, last_bar: usize, reason: ExitReason) {
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
        let name = |c: u16| self.names.get(c as usize).cloned().unwrap_or_default();
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

/// Bars [`Sim::next_signal`] and [`Sim::first_touch`] test at once: eight one-byte flags
/// are one 64-bit word.
const BLOCK: usize = 8;

/// The [`BLOCK`] entries of `column` from `k` on (`k + BLOCK` must be in bounds).
#[inline]
fn block<T>(column: &[T], k: usize) -> &[T; BLOCK] {
    column[k..k + BLOCK]
        .try_into()
        .expect("a slice of BLOCK entries")
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

/// The price of `prices` (not empty) that `beats` all others. A NaN counts as 0.0 (both are
/// 0 ticks to [`TickGrid::ticks`]), so the result converts to the same ticks as the extreme
/// of the converted prices. In lanes ([`lanes::pick`]): the extreme of a set does not depend
/// on the order it is visited in, up to the sign of a zero, which is 0 ticks either way.
#[inline]
fn extreme(prices: &[f64], beats: impl Fn(f64, f64) -> bool) -> f64 {
    let clean = |x: f64| if x.is_nan() { 0.0 } else { x };
    lanes::pick(prices, clean(prices[0]), |m, x| {
        let x = clean(x);
        if beats(x, m) {
            x
        } else {
            m
        }
    })
}

/// Asks the CPU to bring `column[i]` into the cache, without waiting for it (a no-op off
/// x86-64 and past the end).
#[inline]
fn prefetch<T>(column: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = column.get(i) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint: it reads no memory into the program and cannot
        // fault, and SSE is part of baseline x86-64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast()) };
    }
}
