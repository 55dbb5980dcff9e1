//! The quiet-run fast path: a run of bars where nothing can happen but the marks (no pending
//! order, no signal that can act, no roll, no time exit, no session end when flattening, no
//! price near a level) is held in one step and recorded from its extremes. It must give the
//! same numbers as the full path; `engine/tests/equity_curve.rs` holds the two to each other.

use super::{Position, Sim};
use crate::equity::Recorder;
use crate::lanes;

impl<'a> Sim<'a> {
    /// The first bar from `from` (at most `last`, which the caller sets no later than the
    /// session's last bar when flattening) that carries a live signal ([`Sim::live`]) or,
    /// with a position open, belongs to another contract, reaches the time exit, or may touch
    /// the stop, the target ([`Sim::first_touch`]) or the trailing stop
    /// ([`Sim::first_trail_touch`]). Bars before it, with no pending order, can change nothing
    /// but the marks and the excursions. Ending a run early is always safe: the bar that ends
    /// it takes the full path, which decides exactly (a live signal ends the run even when
    /// `decide` then ignores it, e.g. a signal exit before `minBarsBeforeSignalExit`).
    pub(super) fn quiet_until(&self, from: usize, last: usize, absorb_signals: bool) -> usize {
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

    /// The first bar from `from` (at most `last`) with a live signal ([`Sim::live`]) or,
    /// when `held` names the contract of an open position, of another contract.
    ///
    /// Most bars carry nothing, so [`BLOCK`] bars are tested at once: the flags are one byte
    /// a bar, so a block of each column is one 64-bit word, and the lowest nonzero byte of
    /// the two words' OR is the first bar with a signal. A block with a roll, and the last
    /// few bars before `last`, go bar by bar.
    pub(super) fn next_signal(&self, from: usize, last: usize, held: Option<u16>) -> usize {
        let flags = self.live().map(bytemuck::cast_slice::<bool, u8>);
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

    /// Whether bar `t` carries a live signal ([`Sim::live`]).
    #[inline]
    pub(super) fn signal_at(&self, t: usize) -> bool {
        let [a, b] = self.live();
        a[t] | b[t]
    }

    /// The signal columns [`Sim::decide`] can act on in the position as it stands (it does
    /// not change inside a quiet run): the two entries when flat; when in a position, its own
    /// exit and, when an opposite entry reverses it, that entry (the same entry only keeps a
    /// reverse from happening, and the other exit is never read). A condition such as
    /// `rsi < 30` holds on many bars in a row, and the bars where it cannot act no longer end
    /// a quiet run. A column given twice stands for one.
    #[inline]
    fn live(&self) -> [&'a [bool]; 2] {
        let s = self.sig;
        let reverse = self.cfg.reverse_on_opposite;
        match &self.pos {
            None => [&s.long_entry, &s.short_entry],
            Some(p) if p.sign > 0 && reverse => [&s.long_exit, &s.short_entry],
            Some(p) if p.sign > 0 => [&s.long_exit, &s.long_exit],
            Some(_) if reverse => [&s.short_exit, &s.long_entry],
            Some(_) => [&s.short_exit, &s.short_exit],
        }
    }

    /// The first bar of `bars` (its end if none) whose open, high or low comes within a
    /// quarter tick of a tick that would trigger the position's stop or target, or is NaN.
    /// The test is on prices against thresholds three quarters of a tick inside the levels,
    /// which no price converts past: a price more than 0.75 tick above a level is at least
    /// one tick above it (the conversion rounds to the nearest tick, and a price's rounding
    /// error is far below a quarter tick). So every bar it lets through is one
    /// [`Sim::intrabar`] would not exit in; a bar it stops at may still not exit.
    pub(super) fn first_touch(&self, p: &Position, bars: std::ops::Range<usize>) -> usize {
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
    pub(super) fn first_trail_touch(
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
    pub(super) fn hold(&mut self, run: std::ops::Range<usize>, curve: &mut Recorder) {
        let b = self.bars;
        // Two reads miss the cache unless asked for early (each about a fifth of the loop's
        // time when not): the run's last stamp, which tells the recorder whether the run
        // ends inside the trading date, and the open of bar `run.end`, which takes the full
        // path (the quiet bars read neither column).
        prefetch(&b.ts, run.end - 1);
        prefetch(&b.open, run.end);
        // Asked for here, they still arrive late: the next run's two are asked for a run
        // ahead. It most often ends at the next signal, which a short look at the flags
        // finds (bounded, so that a strategy with rare signals does not rescan far ahead
        // at every run). A wrong guess costs two loads; a prefetch changes no result.
        let ahead = self.next_signal(run.end + 1, (run.end + PEEK).min(b.len() - 1), None);
        // The run ends before that bar, or just after it when it takes the signal bar in.
        for k in [ahead - 1, ahead] {
            prefetch(&b.ts, k);
            prefetch(&b.open, k + 1);
        }
        let (ts, closes) = (&b.ts[run.clone()], &b.close[run.clone()]);
        let (g, [_, high, low]) = (self.grid, self.ohl());
        // The common case without the per-bar curve, in one pass over the run: a position
        // that saw every bar of it, all inside one trading date.
        let seen_all = self.pos.as_ref().is_some_and(|p| p.full_from <= run.start);
        if seen_all && !curve.per_bar() && curve.same_date(ts) == ts.len() {
            let x = lanes::Extremes::of(&high[run.clone()], &low[run.clone()], closes);
            if let (true, Some(p)) = (x.finite, self.pos.as_mut()) {
                p.widen(g.ticks(x.high), g.ticks(x.low));
                if !self.mark_by_run_extremes(&x, closes[closes.len() - 1], ts.len(), curve) {
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
        // their highest, lowest and last equity ([`Sim::mark_by_extremes`]).
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
            if !self.mark_by_extremes(closes, curve) {
                self.mark_each(ts, closes, curve);
            }
            k += n;
        }
    }

    /// Marks every one of the quiet bars stamped `ts`, at `closes`, one equity value each.
    pub(super) fn mark_each(&mut self, ts: &[i64], closes: &[f64], curve: &mut Recorder) {
        self.mark_closes(closes);
        curve.mark_run(ts, &self.marks);
    }

    /// The equity at each of `closes` (bars of a quiet run) into `marks`.
    pub(super) fn mark_closes(&mut self, closes: &[f64]) {
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
    pub(super) fn mark_by_extremes(&self, closes: &[f64], curve: &mut Recorder) -> bool {
        let (g, banked, n) = (self.grid, self.banked, closes.len());
        let Some(p) = &self.pos else {
            return curve.mark_summary(n, banked, banked, banked);
        };
        if !g.float_exact(closes) {
            return false;
        }
        let hi = lanes::pick(closes, closes[0], lanes::max);
        let lo = lanes::pick(closes, closes[0], lanes::min);
        self.mark_extreme_closes(p, hi, lo, closes[n - 1], n, curve)
    }

    /// [`Sim::mark_by_extremes`] from a run's finite [`lanes::Extremes`] (`last` its last close, `n`
    /// its length): closes whose extremes are in range are all in range.
    pub(super) fn mark_by_run_extremes(
        &self,
        x: &lanes::Extremes,
        last: f64,
        n: usize,
        curve: &mut Recorder,
    ) -> bool {
        match &self.pos {
            Some(p) if self.grid.float_exact(&[x.close_max, x.close_min]) => {
                self.mark_extreme_closes(p, x.close_max, x.close_min, last, n, curve)
            }
            _ => false,
        }
    }

    /// Records `n` bars of one date held in `p` from their highest, lowest and last close.
    pub(super) fn mark_extreme_closes(
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
}

/// How far past a quiet run [`Sim::hold`] looks for the next signal, to prefetch what the
/// run after it reads.
const PEEK: usize = 512;

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
