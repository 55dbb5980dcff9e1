//! Turning a [`Compiled`] strategy into engine [`Signals`] for one series of bars.
//!
//! Every value at bar `t` is computed from bars `0..=t` only: indicators are causal, `shift`
//! and `rising`/`falling` look back, crosses compare `t - 1` with `t`. Each distinct indicator
//! call (indicator, input, arguments) is computed once and shared through a [`Cache`], so
//! `macd` signal and histogram, or the same SMA in entry and exit, cost one computation; a
//! sweep shares one cache across all its runs and threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::Timelike;
use settle_data::clock::{weekday_from_monday, LocalClock, DAY};
use settle_data::{Bars, ContractSpec};
use settle_engine::Signals;

use super::catalog::{self, Field, Inputs, Reads};
use super::compile::{CCond, CExpr, CInd, Cmp, Compiled};
use super::exact::{self, Average, Prefix};

/// Why signals could not be computed for these bars.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    /// The bars are not the strategy's symbol and bar size.
    #[error("strategy is for {want} but the bars are {got}")]
    WrongSeries {
        /// Symbol and bar size of the strategy, e.g. `ES 1d`.
        want: String,
        /// Symbol and bar size of the bars.
        got: String,
    },
    /// The contract spec cannot be used, e.g. its time zone does not parse.
    #[error("contract spec: {0}")]
    Spec(String),
    /// An indicator could not be computed on these bars.
    #[error("indicator: {0}")]
    Indicator(#[from] crate::indicators::IndicatorError),
}

/// Entry and exit signals of `c` on `bars` (one value per bar of the full series).
pub fn signals(c: &Compiled, bars: &Bars, spec: &ContractSpec) -> Result<Signals, SignalError> {
    let cx = Context::new(bars, spec)?;
    cx.signals(c, &Cache::default())
}

/// The data per bar that every evaluation on one series shares: the bars, exchange-local
/// times and session starts. Built once per series (a sweep builds it once for all runs);
/// the times and session starts are computed on first use, as most strategies use neither
/// and on minute bars they cost more than the rest of the evaluation.
pub(crate) struct Context<'a> {
    bars: &'a Bars,
    /// Values closer than this are equal in every comparison: a millionth of the tick.
    tie: f64,
    tz: chrono_tz::Tz,
    /// Seconds after local midnight of the spec's session open.
    session_open: i64,
    /// Exchange-local wall time of each bar's open as local epoch seconds (daily bars: the
    /// trading date at 00:00); see [`settle_data::clock`].
    local: OnceLock<Vec<i64>>,
    new_session: OnceLock<Vec<bool>>,
    tick: f64,
    /// Running sums in ticks of the open, high, low and close, for crosses of their SMAs
    /// decided exactly ([`exact`]); `None` for a column off the tick grid.
    prefix: [OnceLock<Option<Prefix>>; 4],
}

/// The outputs of one indicator call.
type Outputs = Vec<Vec<f64>>;
type Slot = Arc<OnceLock<Result<Arc<Outputs>, SignalError>>>;

/// Indicator outputs keyed by the distinct call (indicator, input, arguments), shareable by
/// many threads: each distinct call is computed once, by whichever thread asks first, while
/// the others wait for it. An indicator is a pure function of the bars and the call, so the
/// values are the same whatever the order the threads fill the cache in.
///
/// The cache holds at most [`Cache::DEFAULT_LIMIT`] bytes; calls beyond that are computed
/// (identically) but not kept, so a wide sweep on minute bars cannot exhaust memory.
pub(crate) struct Cache {
    slots: Mutex<(HashMap<String, Slot>, usize)>,
    limit_bytes: usize,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            slots: Mutex::new((HashMap::new(), 0)),
            limit_bytes: Cache::DEFAULT_LIMIT,
        }
    }
}

impl Cache {
    /// 2 GiB: 250 one-output indicators over a million bars.
    pub const DEFAULT_LIMIT: usize = 2 << 30;

    /// The outputs of `ind`, computing them with `compute` unless cached.
    fn get(
        &self,
        ind: &CInd,
        bytes: usize,
        compute: impl FnOnce() -> Result<Outputs, SignalError>,
    ) -> Result<Arc<Outputs>, SignalError> {
        let key = format!("{}{:?}{:?}", ind.spec.name, ind.input, ind.args);
        let slot = {
            // A poisoned lock only means another thread panicked mid-insert; the map is intact.
            let mut guard = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let (map, used) = &mut *guard;
            match map.get(&key) {
                Some(slot) => Some(slot.clone()),
                None if *used + bytes <= self.limit_bytes => {
                    *used += bytes;
                    Some(map.entry(key).or_default().clone())
                }
                None => None,
            }
        };
        match slot {
            Some(slot) => slot.get_or_init(|| compute().map(Arc::new)).clone(),
            None => compute().map(Arc::new),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.lock().map(|g| g.0.len()).unwrap_or(0)
    }
}

/// A number per bar, without copying what already exists: a constant, a field of the bars, an
/// indicator output (possibly shifted) or a freshly computed series.
enum Series<'a> {
    Const(f64),
    Slice(&'a [f64]),
    Output {
        outputs: Arc<Outputs>,
        output: usize,
        shift: usize,
    },
    Owned(Vec<f64>),
}

impl Series<'_> {
    /// The value at bar `t` (NaN before a shifted series starts).
    fn at(&self, t: usize) -> f64 {
        match self {
            Series::Const(c) => *c,
            Series::Slice(v) => v[t],
            Series::Output {
                outputs,
                output,
                shift,
            } => t
                .checked_sub(*shift)
                .map_or(f64::NAN, |j| outputs[*output][j]),
            Series::Owned(v) => v[t],
        }
    }

    /// The whole series as one slice of `n` values, copying only when it is not one already.
    fn to_slice(&self, n: usize) -> std::borrow::Cow<'_, [f64]> {
        use std::borrow::Cow;
        match self {
            Series::Slice(v) => Cow::Borrowed(v),
            Series::Owned(v) => Cow::Borrowed(v),
            Series::Output {
                outputs,
                output,
                shift: 0,
            } => Cow::Borrowed(&outputs[*output]),
            _ => Cow::Owned((0..n).map(|t| self.at(t)).collect()),
        }
    }
}

impl<'a> Context<'a> {
    pub(crate) fn new(bars: &'a Bars, spec: &ContractSpec) -> Result<Context<'a>, SignalError> {
        let tz: chrono_tz::Tz = spec
            .timezone
            .parse()
            .map_err(|e| SignalError::Spec(format!("time zone `{}`: {e}", spec.timezone)))?;
        Ok(Context {
            bars,
            tie: spec.tick_size * TIE_TICKS,
            tz,
            session_open: i64::from(spec.session_open.num_seconds_from_midnight()),
            local: OnceLock::new(),
            new_session: OnceLock::new(),
            tick: spec.tick_size,
            prefix: Default::default(),
        })
    }

    /// `e` as an [`Average`] when it is a price (open, high, low, close) or an SMA of one, and
    /// that price column is on the tick grid.
    fn average(&self, e: &CExpr) -> Option<Average<'_>> {
        let (field, period, shift) = match e {
            CExpr::Field(f) => (*f, 1, 0),
            CExpr::Ind(ind) if ind.spec.name == "sma" && ind.output == 0 => match ind.input {
                CExpr::Field(f) => (f, ind.args[0] as usize, ind.shift),
                _ => return None,
            },
            _ => return None,
        };
        let b = self.bars;
        let (column, prices) = match field {
            Field::Open => (0, &b.open),
            Field::High => (1, &b.high),
            Field::Low => (2, &b.low),
            Field::Close => (3, &b.close),
            _ => return None,
        };
        let prefix = self.prefix[column]
            .get_or_init(|| Prefix::new(prices, self.tick))
            .as_ref()?;
        (period >= 1).then_some(Average {
            prefix,
            period,
            shift,
        })
    }

    /// Exchange-local epoch seconds of each bar's open (daily bars: their stamp).
    fn local(&self) -> &[i64] {
        self.local.get_or_init(|| {
            let ts = &self.bars.ts;
            if self.bars.meta.bar_size.is_intraday() {
                let mut clock = LocalClock::new(self.tz);
                ts.iter().map(|&t| clock.local(t)).collect()
            } else {
                ts.clone()
            }
        })
    }

    /// Whether each bar opens a session. A session starts at the spec's session open:
    /// shifting local time back by the open time makes every bar of one session share a day
    /// number. Daily bars are one session each.
    fn new_session(&self) -> &[bool] {
        self.new_session.get_or_init(|| {
            if self.bars.meta.bar_size.is_intraday() {
                let ids: Vec<i64> = self
                    .local()
                    .iter()
                    .map(|t| (t - self.session_open).div_euclid(DAY))
                    .collect();
                crate::indicators::session_starts(&ids)
            } else {
                crate::indicators::session_starts(&self.bars.ts)
            }
        })
    }

    /// Signals of `c` on this context's bars, with indicators from (and into) `cache`.
    pub(crate) fn signals(&self, c: &Compiled, cache: &Cache) -> Result<Signals, SignalError> {
        let mut out = Signals::default();
        self.signals_into(c, cache, &mut out)?;
        Ok(out)
    }

    /// [`signals`](Self::signals) written over `out`, whose columns are reused: a sweep
    /// hands back the last combination's signals, so each combination writes pages already
    /// mapped rather than faulting and zeroing four fresh columns.
    pub(crate) fn signals_into(
        &self,
        c: &Compiled,
        cache: &Cache,
        out: &mut Signals,
    ) -> Result<(), SignalError> {
        let bars = self.bars;
        if bars.meta.symbol != c.strategy.symbol || bars.meta.bar_size != c.bar_size {
            return Err(SignalError::WrongSeries {
                want: format!("{} {}", c.strategy.symbol, c.bar_size),
                got: format!("{} {}", bars.meta.symbol, bars.meta.bar_size),
            });
        }
        let n = bars.len();
        let both = self.opposite_crosses(c);
        if let Some((a, b)) = both {
            self.crosses_into(a, b, cache, &mut out.long_entry, Some(&mut out.short_entry))?;
        }
        let columns = [
            (&c.long_entry, &mut out.long_entry, both.is_some()),
            (&c.long_exit, &mut out.long_exit, false),
            (&c.short_entry, &mut out.short_entry, both.is_some()),
            (&c.short_exit, &mut out.short_exit, false),
        ];
        for (cond, column, done) in columns {
            if done {
                continue;
            }
            match cond {
                Some(CCond::Cross { above, left, right }) => {
                    self.cross_into(*above, left, right, cache, column)?;
                }
                Some(cond) => *column = self.cond(cond, cache)?,
                None => exact::reset(column, n),
            }
        }
        out.atr = match c.atr_period {
            Some(p) => {
                let atr = CExpr::Ind(Box::new(CInd::atr(p)));
                Some(self.expr(&atr, cache)?.to_slice(n).into_owned())
            }
            None => None,
        };
        out.entry_level = None;
        if c.long_level.is_some() || c.short_level.is_some() {
            out.entry_level = Some(self.entry_level(c, out, cache)?);
        }
        Ok(())
    }

    /// `(a, b)` when the long entry is `a` crossing above `b` and the short entry `b`
    /// crossing above `a` (however each is written): an MA cross that is always in the
    /// market. [`Context::crosses_into`] then reads the two series once for both columns,
    /// where a sweep's combination would otherwise read each twice (two 8 MB columns on a
    /// million bars, from memory: the largest part of evaluating its rules).
    fn opposite_crosses<'c>(&self, c: &'c Compiled) -> Option<(&'c CExpr, &'c CExpr)> {
        // The operand that crosses above, then the one it crosses.
        let upward = |cond: &'c Option<CCond>| match cond {
            Some(CCond::Cross { above, left, right }) if *above => Some((left, right)),
            Some(CCond::Cross { left, right, .. }) => Some((right, left)),
            _ => None,
        };
        let ((a, b), (a2, b2)) = (upward(&c.long_entry)?, upward(&c.short_entry)?);
        // Equal expressions are the same series (the path for two separate crosses gives the
        // same columns, so a pair this misses costs time, not a different answer).
        (a == b2 && b == a2).then_some((a, b))
    }

    /// `a` crossing above `b` into `up` and, when given, below it into `down`, from one pass
    /// over the two series. Prices and their SMAs on the tick grid are compared on whole
    /// ticks ([`exact`]); other series in floating point within the tie, over whole slices,
    /// not `Series::at` per bar: a sweep evaluates this once per combination over every bar.
    fn crosses_into(
        &self,
        a: &CExpr,
        b: &CExpr,
        cache: &Cache,
        up: &mut Vec<bool>,
        down: Option<&mut Vec<bool>>,
    ) -> Result<(), SignalError> {
        let mut down = down;
        if self.exact_cross(a, b, up, down.as_deref_mut()) {
            return Ok(());
        }
        let n = self.bars.len();
        let (a, b) = (self.expr(a, cache)?, self.expr(b, cache)?);
        let (a, b) = (a.to_slice(n), b.to_slice(n));
        let (a, b) = (&a[..n], &b[..n]);
        let tie = self.tie;
        exact::reset(up, n);
        // `a` crosses above `b`: at or below it (within a tie) on the bar before, above it by
        // more than a tie now; crossing below is `b` crossing above `a`. Indexed from 1 with
        // both bars' values in hand: the loops vectorize (a `windows(2)` chain did not).
        let up = &mut up[..n];
        match down {
            Some(down) => {
                exact::reset(down, n);
                let down = &mut down[..n];
                for t in 1..n {
                    up[t] = (a[t - 1] - b[t - 1] <= tie) & (a[t] - b[t] > tie);
                    down[t] = (b[t - 1] - a[t - 1] <= tie) & (b[t] - a[t] > tie);
                }
            }
            None => {
                for t in 1..n {
                    up[t] = (a[t - 1] - b[t - 1] <= tie) & (a[t] - b[t] > tie);
                }
            }
        }
        Ok(())
    }

    /// Where `left` crosses above `right` (`above`) or below it, one flag per bar, into
    /// `out` ([`Context::crosses_into`] with the operands in order).
    fn cross_into(
        &self,
        above: bool,
        left: &CExpr,
        right: &CExpr,
        cache: &Cache,
        out: &mut Vec<bool>,
    ) -> Result<(), SignalError> {
        let (a, b) = if above { (left, right) } else { (right, left) };
        self.crosses_into(a, b, cache, out, None)
    }

    /// [`exact::crosses`] of `a` over `b` when both are prices or SMAs of prices on the tick
    /// grid; false, writing nothing, when the floating-point comparison must decide.
    fn exact_cross(
        &self,
        a: &CExpr,
        b: &CExpr,
        up: &mut Vec<bool>,
        down: Option<&mut Vec<bool>>,
    ) -> bool {
        match (self.average(a), self.average(b)) {
            (Some(x), Some(y)) => exact::crosses(x, y, self.bars.len(), up, down),
            _ => false,
        }
    }

    /// The order price per bar: the long level where a long entry fires, else the short level
    /// where a short entry fires, else NaN (no order). When both fire the engine enters neither.
    fn entry_level(
        &self,
        c: &Compiled,
        sig: &Signals,
        cache: &Cache,
    ) -> Result<Vec<f64>, SignalError> {
        let level = |e: &Option<CExpr>| e.as_ref().map(|e| self.expr(e, cache)).transpose();
        let (long, short) = (level(&c.long_level)?, level(&c.short_level)?);
        Ok((0..self.bars.len())
            .map(|t| match (&long, &short) {
                (Some(l), _) if sig.long_entry[t] => l.at(t),
                (_, Some(s)) if sig.short_entry[t] => s.at(t),
                _ => f64::NAN,
            })
            .collect())
    }

    fn field(&self, f: Field) -> Series<'a> {
        let b = self.bars;
        match f {
            Field::Open => Series::Slice(&b.open),
            Field::High => Series::Slice(&b.high),
            Field::Low => Series::Slice(&b.low),
            Field::Close => Series::Slice(&b.close),
            Field::Volume => Series::Slice(&b.volume),
            Field::Typical => Series::Owned(
                (0..b.len())
                    .map(|i| (b.high[i] + b.low[i] + b.close[i]) / 3.0)
                    .collect(),
            ),
            Field::Hl2 => {
                Series::Owned((0..b.len()).map(|i| (b.high[i] + b.low[i]) / 2.0).collect())
            }
        }
    }

    fn expr(&self, e: &CExpr, cache: &Cache) -> Result<Series<'a>, SignalError> {
        let n = self.bars.len();
        let ind = match e {
            CExpr::Const(c) => return Ok(Series::Const(*c)),
            CExpr::Field(f) => return Ok(self.field(*f)),
            CExpr::Arith(op, l, r) => {
                let (l, r) = (self.expr(l, cache)?, self.expr(r, cache)?);
                return Ok(Series::Owned(
                    (0..n).map(|t| op.apply(l.at(t), r.at(t))).collect(),
                ));
            }
            CExpr::Ind(ind) => ind,
        };
        let bytes = ind.spec.outputs.len() * n * std::mem::size_of::<f64>();
        let outputs = cache.get(ind, bytes, || {
            let series = self.expr(&ind.input, cache)?;
            let b = self.bars;
            let inputs = Inputs {
                series: &series.to_slice(n),
                high: &b.high,
                low: &b.low,
                close: &b.close,
                volume: &b.volume,
                // Only session-anchored indicators read session starts.
                new_session: match ind.spec.reads {
                    Reads::Hlcv | Reads::Session => self.new_session(),
                    Reads::Series | Reads::Hlc => &[],
                },
            };
            Ok(catalog::compute(ind.spec, &ind.args, &inputs)?)
        })?;
        Ok(Series::Output {
            outputs,
            output: ind.output,
            shift: ind.shift,
        })
    }

    fn cond(&self, c: &CCond, cache: &Cache) -> Result<Vec<bool>, SignalError> {
        let n = self.bars.len();
        Ok(match c {
            CCond::Cross { above, left, right } => {
                let mut out = Vec::new();
                self.cross_into(*above, left, right, cache, &mut out)?;
                out
            }
            CCond::Cmp { op, left, right } => {
                let (l, r) = (self.expr(left, cache)?, self.expr(right, cache)?);
                let (op, tie) = (*op, self.tie);
                // A constant side (`rsi < 30`) is compared as it is, not copied per bar.
                match (&l, &r) {
                    (_, Series::Const(b)) => {
                        let b = *b;
                        l.to_slice(n).iter().map(|&a| op.holds(a, b, tie)).collect()
                    }
                    (Series::Const(a), _) => {
                        let a = *a;
                        r.to_slice(n).iter().map(|&b| op.holds(a, b, tie)).collect()
                    }
                    _ => {
                        let (l, r) = (l.to_slice(n), r.to_slice(n));
                        l.iter()
                            .zip(r.iter())
                            .map(|(&a, &b)| op.holds(a, b, tie))
                            .collect()
                    }
                }
            }
            CCond::Between { value, low, high } => {
                let v = self.expr(value, cache)?;
                let (lo, hi) = (self.expr(low, cache)?, self.expr(high, cache)?);
                (0..n)
                    .map(|t| {
                        Cmp::Le.holds(lo.at(t), v.at(t), self.tie)
                            && Cmp::Le.holds(v.at(t), hi.at(t), self.tie)
                    })
                    .collect()
            }
            CCond::Trend {
                rising,
                value,
                bars,
            } => {
                let v = self.expr(value, cache)?;
                (0..n)
                    .map(|t| {
                        let op = if *rising { Cmp::Gt } else { Cmp::Lt };
                        t >= *bars && op.holds(v.at(t), v.at(t - bars), self.tie)
                    })
                    .collect()
            }
            CCond::And(parts) | CCond::Or(parts) => {
                let all = matches!(c, CCond::And(_));
                let mut acc = vec![all; n];
                for p in parts {
                    let v = self.cond(p, cache)?;
                    for (a, b) in acc.iter_mut().zip(v) {
                        *a = if all { *a && b } else { *a || b };
                    }
                }
                acc
            }
            CCond::Not(inner) => self.cond(inner, cache)?.into_iter().map(|b| !b).collect(),
            CCond::Time { start, end } => {
                // Bars are stamped in whole seconds: a bar's time of day is a whole second,
                // compared with the bounds' seconds and then their fractions.
                let (start, end) = (time_key(start), time_key(end));
                self.local()
                    .iter()
                    .map(|t| {
                        let tod = (t.rem_euclid(DAY), 0);
                        if start <= end {
                            start <= tod && tod < end
                        } else {
                            tod >= start || tod < end
                        }
                    })
                    .collect()
            }
            CCond::Weekdays(days) => {
                let mut wanted = [false; 7];
                for d in days {
                    wanted[d.num_days_from_monday() as usize] = true;
                }
                self.local()
                    .iter()
                    .map(|t| wanted[weekday_from_monday(t.div_euclid(DAY)) as usize])
                    .collect()
            }
        })
    }
}

/// The tie width in ticks: two values whose difference is at most this many ticks are equal
/// in every comparison (`gt`, `lt`, `ge`, `le`, `between`, crosses, rising and falling).
/// Prices and averages of prices live on the tick grid, so a true difference is a multiple of
/// a tick divided by a period; a difference of a millionth of a tick is the rounding of a
/// floating-point sum, which would otherwise decide a tie (see `docs/METRICS.md`).
pub(crate) const TIE_TICKS: f64 = 1e-6;

impl Cmp {
    /// Whether `a op b` holds, values within `tie` of each other being equal. NaN compares
    /// false, as IEEE comparisons do.
    fn holds(self, a: f64, b: f64, tie: f64) -> bool {
        match self {
            Cmp::Gt => a - b > tie,
            Cmp::Lt => b - a > tie,
            Cmp::Ge => a - b >= -tie,
            Cmp::Le => b - a >= -tie,
        }
    }
}

/// A time of day as (second of the day, nanoseconds), ordered as the time is.
fn time_key(t: &chrono::NaiveTime) -> (i64, u32) {
    (i64::from(t.num_seconds_from_midnight()), t.nanosecond())
}

#[cfg(test)]
mod tests {
    use settle_data::{BarSize, SeriesMeta};

    use super::*;
    use crate::rules::compile;

    /// Each distinct indicator call is computed once, whatever the number of references.
    #[test]
    fn indicators_are_computed_once_per_distinct_call() {
        let mut bars = Bars::empty(SeriesMeta::new("CL", None, BarSize::Daily, "test"));
        for i in 0..100 {
            let c = 50.0 + (i as f64 / 5.0).sin() * 3.0;
            bars.push(i * 86_400, c, c + 1.0, c - 1.0, c, 10.0, 0);
        }
        let spec = settle_data::spec("CL").unwrap();
        // macd_trend names MACD four times (two outputs, two conditions): one computation.
        // sma_cross names SMA(fast) and SMA(slow) twice each: two computations.
        for (name, distinct) in [("macd_trend", 1), ("sma_cross", 2)] {
            let c = compile(&crate::templates::get(name, "CL").unwrap()).unwrap();
            let (cx, cache) = (Context::new(&bars, spec).unwrap(), Cache::default());
            for cond in [&c.long_entry, &c.short_entry].into_iter().flatten() {
                cx.cond(cond, &cache).unwrap();
            }
            assert_eq!(cache.len(), distinct, "{name}");
        }
    }

    /// An SMA cross of closes on the tick grid is decided on whole ticks, computing no SMA;
    /// off the grid (as a ratio back-adjustment leaves prices) both SMAs are computed.
    #[test]
    fn price_sma_crosses_on_the_grid_compute_no_sma() {
        let spec = settle_data::spec("CL").unwrap();
        let c = compile(&crate::templates::get("sma_cross", "CL").unwrap()).unwrap();
        for (on_grid, computed) in [(true, 0), (false, 2)] {
            let mut bars = Bars::empty(SeriesMeta::new("CL", None, BarSize::Daily, "test"));
            for i in 0..100 {
                let mut c = 50.0 + (i as f64 / 5.0).sin() * 3.0;
                if on_grid {
                    c = (c * 100.0).round() / 100.0;
                }
                bars.push(i * 86_400, c, c + 1.0, c - 1.0, c, 10.0, 0);
            }
            let (cx, cache) = (Context::new(&bars, spec).unwrap(), Cache::default());
            let sig = cx.signals(&c, &cache).unwrap();
            assert_eq!(cache.len(), computed, "on the grid: {on_grid}");
            assert!(sig.long_entry.iter().any(|&x| x) && sig.short_entry.iter().any(|&x| x));
        }
    }
}
