//! Turning a [`Compiled`] strategy into engine [`Signals`] for one series of bars.
//!
//! Every value at bar `t` is computed from bars `0..=t` only: indicators are causal, `shift`
//! and `rising`/`falling` look back, crosses compare `t - 1` with `t`. Each distinct indicator
//! call (indicator, input, arguments) is computed once per run and shared through a cache, so
//! `macd` signal and histogram, or the same SMA in entry and exit, cost one computation.

use std::collections::HashMap;
use std::rc::Rc;

use chrono::{Datelike, NaiveDateTime, TimeZone};
use settle_data::{Bars, ContractSpec};
use settle_engine::Signals;

use super::catalog::{self, Field, Inputs};
use super::compile::{CCond, CExpr, Cmp, Compiled};

/// Why signals could not be computed for these bars.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    #[error("strategy is for {want} but the bars are {got}")]
    WrongSeries { want: String, got: String },
    #[error("contract spec: {0}")]
    Spec(String),
    #[error("indicator: {0}")]
    Indicator(#[from] crate::indicators::IndicatorError),
}

/// Entry and exit signals of `c` on `bars` (one value per bar of the full series).
pub fn signals(c: &Compiled, bars: &Bars, spec: &ContractSpec) -> Result<Signals, SignalError> {
    if bars.meta.symbol != c.strategy.symbol || bars.meta.bar_size != c.bar_size {
        return Err(SignalError::WrongSeries {
            want: format!("{} {}", c.strategy.symbol, c.bar_size),
            got: format!("{} {}", bars.meta.symbol, bars.meta.bar_size),
        });
    }
    let mut ev = Eval::new(bars, spec)?;
    let mut run = |cond: &Option<CCond>| match cond {
        Some(cond) => ev.cond(cond),
        None => Ok(vec![false; bars.len()]),
    };
    let mut out = Signals {
        long_entry: run(&c.long_entry)?,
        long_exit: run(&c.long_exit)?,
        short_entry: run(&c.short_entry)?,
        short_exit: run(&c.short_exit)?,
        atr: None,
        entry_level: None,
    };
    if let Some(p) = c.atr_period {
        out.atr = Some(crate::indicators::atr(
            &bars.high,
            &bars.low,
            &bars.close,
            p,
        )?);
    }
    Ok(out)
}

type Series = Rc<Vec<f64>>;

/// Evaluation state for one run: the bars, derived per-bar data and the indicator cache.
struct Eval<'a> {
    bars: &'a Bars,
    /// Exchange-local wall time of each bar's open (daily bars: the trading date at 00:00).
    local: Vec<NaiveDateTime>,
    new_session: Vec<bool>,
    cache: HashMap<String, Rc<Vec<Vec<f64>>>>,
}

impl<'a> Eval<'a> {
    fn new(bars: &'a Bars, spec: &ContractSpec) -> Result<Eval<'a>, SignalError> {
        let tz: chrono_tz::Tz = spec
            .timezone
            .parse()
            .map_err(|e| SignalError::Spec(format!("time zone `{}`: {e}", spec.timezone)))?;
        let intraday = bars.meta.bar_size.is_intraday();
        let local: Vec<NaiveDateTime> = (0..bars.len())
            .map(|i| {
                let utc = bars.time(i);
                if intraday {
                    tz.from_utc_datetime(&utc.naive_utc()).naive_local()
                } else {
                    utc.naive_utc()
                }
            })
            .collect();
        // A session starts at the spec's session open: shifting local time back by the open
        // time makes every bar of one session share a date. Daily bars are one session each.
        let open = spec.session_open - chrono::NaiveTime::MIN;
        let ids: Vec<i64> = if intraday {
            local
                .iter()
                .map(|t| (*t - open).date().num_days_from_ce() as i64)
                .collect()
        } else {
            bars.ts.clone()
        };
        Ok(Eval {
            bars,
            local,
            new_session: crate::indicators::session_starts(&ids),
            cache: HashMap::new(),
        })
    }

    fn field(&self, f: Field) -> Vec<f64> {
        let b = self.bars;
        match f {
            Field::Open => b.open.clone(),
            Field::High => b.high.clone(),
            Field::Low => b.low.clone(),
            Field::Close => b.close.clone(),
            Field::Volume => b.volume.clone(),
            Field::Typical => (0..b.len())
                .map(|i| (b.high[i] + b.low[i] + b.close[i]) / 3.0)
                .collect(),
            Field::Hl2 => (0..b.len()).map(|i| (b.high[i] + b.low[i]) / 2.0).collect(),
        }
    }

    fn expr(&mut self, e: &CExpr) -> Result<Series, SignalError> {
        let n = self.bars.len();
        let ind = match e {
            CExpr::Const(c) => return Ok(Rc::new(vec![*c; n])),
            CExpr::Field(f) => return Ok(Rc::new(self.field(*f))),
            CExpr::Ind(ind) => ind,
        };
        let key = format!("{}{:?}{:?}", ind.spec.name, ind.input, ind.args);
        let outputs = match self.cache.get(&key) {
            Some(o) => o.clone(),
            None => {
                let series = self.expr(&ind.input)?;
                let b = self.bars;
                let inputs = Inputs {
                    series: &series,
                    high: &b.high,
                    low: &b.low,
                    close: &b.close,
                    volume: &b.volume,
                    new_session: &self.new_session,
                };
                let o = Rc::new(catalog::compute(ind.spec, &ind.args, &inputs)?);
                self.cache.insert(key, o.clone());
                o
            }
        };
        let v = &outputs[ind.output];
        Ok(Rc::new(
            (0..n)
                .map(|i| i.checked_sub(ind.shift).map_or(f64::NAN, |j| v[j]))
                .collect(),
        ))
    }

    fn cond(&mut self, c: &CCond) -> Result<Vec<bool>, SignalError> {
        let n = self.bars.len();
        Ok(match c {
            CCond::Cross { above, left, right } => {
                let (l, r) = (self.expr(left)?, self.expr(right)?);
                (0..n)
                    .map(|t| {
                        t > 0
                            && if *above {
                                l[t - 1] <= r[t - 1] && l[t] > r[t]
                            } else {
                                l[t - 1] >= r[t - 1] && l[t] < r[t]
                            }
                    })
                    .collect()
            }
            CCond::Cmp { op, left, right } => {
                let (l, r) = (self.expr(left)?, self.expr(right)?);
                let f = match op {
                    Cmp::Gt => |a: f64, b: f64| a > b,
                    Cmp::Lt => |a: f64, b: f64| a < b,
                    Cmp::Ge => |a: f64, b: f64| a >= b,
                    Cmp::Le => |a: f64, b: f64| a <= b,
                };
                (0..n).map(|t| f(l[t], r[t])).collect()
            }
            CCond::Between { value, low, high } => {
                let (v, lo, hi) = (self.expr(value)?, self.expr(low)?, self.expr(high)?);
                (0..n).map(|t| lo[t] <= v[t] && v[t] <= hi[t]).collect()
            }
            CCond::Trend {
                rising,
                value,
                bars,
            } => {
                let v = self.expr(value)?;
                (0..n)
                    .map(|t| {
                        t >= *bars
                            && if *rising {
                                v[t] > v[t - bars]
                            } else {
                                v[t] < v[t - bars]
                            }
                    })
                    .collect()
            }
            CCond::And(parts) | CCond::Or(parts) => {
                let all = matches!(c, CCond::And(_));
                let mut acc = vec![all; n];
                for p in parts {
                    let v = self.cond(p)?;
                    for (a, b) in acc.iter_mut().zip(v) {
                        *a = if all { *a && b } else { *a || b };
                    }
                }
                acc
            }
            CCond::Not(inner) => self.cond(inner)?.into_iter().map(|b| !b).collect(),
            CCond::Time { start, end } => self
                .local
                .iter()
                .map(|t| {
                    let tod = t.time();
                    if start <= end {
                        *start <= tod && tod < *end
                    } else {
                        tod >= *start || tod < *end
                    }
                })
                .collect(),
            CCond::Weekdays(days) => self
                .local
                .iter()
                .map(|t| days.contains(&t.weekday()))
                .collect(),
        })
    }
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
            let mut ev = Eval::new(&bars, spec).unwrap();
            for cond in [&c.long_entry, &c.short_entry].into_iter().flatten() {
                ev.cond(cond).unwrap();
            }
            assert_eq!(ev.cache.len(), distinct, "{name}");
        }
    }
}
