//! Continuous front-month series built from per-contract series: pick the held contract at
//! each bar (by a roll rule), then back-adjust older contracts so the series has no roll gaps.
//!
//! Each output bar keeps the contract it came from (`Bars::contract`), which is how the engine
//! knows when a held position must pay the roll.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bars::{Bars, SeriesMeta};
use crate::error::{DataError, Result};

/// How the older part of a continuous series is shifted at each roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adjustment {
    /// Raw prices: the series jumps at each roll.
    None,
    /// "Panama": add (new − old) at the roll to every earlier bar. Keeps point P&L exact.
    Difference,
    /// Multiply every earlier bar by new / old. Keeps percentage returns exact.
    Ratio,
}

impl Adjustment {
    /// The name `--adjust` takes and the store records.
    pub fn label(self) -> &'static str {
        match self {
            Adjustment::None => "none",
            Adjustment::Difference => "difference",
            Adjustment::Ratio => "ratio",
        }
    }
}

/// When the continuous series moves from one contract to the next.
#[derive(Debug, Clone, PartialEq)]
pub enum RollRule {
    /// Explicit schedule: from each `(ts, contract)` on, hold `contract` (sorted by `ts`).
    /// Built from a roll-calendar file, or from the contracts a data vendor actually held.
    Schedule(Vec<(i64, String)>),
    /// Roll `days` calendar days before each contract's last trade date.
    DaysBeforeExpiry {
        /// Calendar days before the last trade date at which the roll happens.
        days: u32,
        /// Last trade date of every contract; a contract without one is an error.
        expiries: BTreeMap<String, NaiveDate>,
    },
    /// Roll to the next contract once its volume exceeds the held one's on the same bar.
    VolumeCrossover,
    /// Roll to the next contract once its open interest exceeds the held one's on the same bar.
    /// Open interest per contract and bar time.
    OpenInterestCrossover(BTreeMap<String, BTreeMap<i64, f64>>),
}

/// Options for [`build`].
#[derive(Debug, Clone)]
pub struct ContinuousOptions {
    /// When to move from one contract to the next.
    pub roll: RollRule,
    /// How the price gap between contracts is removed from the earlier bars.
    pub adjustment: Adjustment,
    /// When the held contract has no bar at a time another contract has one, carry its last
    /// close forward (a flat bar) instead of skipping that time.
    pub fill_missing: bool,
}

/// Builds the continuous series of `root` from per-contract series (each with
/// `meta.contract` set). Contract order is taken from the names' contract months.
pub fn build(root: &str, contracts: &[Bars], opt: &ContinuousOptions) -> Result<Bars> {
    build_with_offsets(root, contracts, opt).map(|(bars, _)| bars)
}

/// [`build`], also returning the adjustment applied at each roll, oldest first: the points
/// added (difference) or the factor multiplied (ratio) to every bar before that roll.
pub fn build_with_offsets(
    root: &str,
    contracts: &[Bars],
    opt: &ContinuousOptions,
) -> Result<(Bars, Vec<f64>)> {
    let first = contracts
        .first()
        .ok_or_else(|| DataError::Invalid("no contracts to build a continuous series".into()))?;
    let mut order: Vec<&Bars> = contracts.iter().collect();
    for c in &order {
        if c.meta.contract.is_none() {
            return Err(DataError::Invalid(format!(
                "series {} is not a single contract",
                c.meta.key()
            )));
        }
    }
    order.sort_by_key(|b| contract_sort_key(b.meta.contract.as_deref().unwrap_or("")));
    let names: Vec<&str> = order
        .iter()
        .map(|b| b.meta.contract.as_deref().unwrap_or(""))
        .collect();
    let times = union_of_times(&order);
    let mut at = Cursors::new(&order);

    let mut meta = SeriesMeta::new(root, None, first.meta.bar_size, &first.meta.source);
    meta.close_only = order.iter().any(|b| b.meta.close_only);
    meta.adjustment = opt.adjustment.label().into();
    let mut out = Bars::empty(meta);
    // Per output bar: which contract (index into `order`).
    let mut held_of: Vec<usize> = Vec::new();
    let mut held = 0usize;
    // The output's contract index of `order[held]`, looked up once per roll.
    let mut held_index: Option<(usize, u16)> = None;
    for &t in &times {
        held = choose(&opt.roll, &order, &names, &mut at, t, held)?;
        let b = order[held];
        let bar = match at.index(held, t) {
            Some(i) => Some((b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i])),
            None if opt.fill_missing => asof_close(b, t).map(|c| (c, c, c, c, 0.0)),
            None => None,
        };
        if let Some((o, h, l, c, v)) = bar {
            let ci = match held_index {
                Some((k, ci)) if k == held => ci,
                _ => {
                    let ci = out.contract_index(names[held]);
                    held_index = Some((held, ci));
                    ci
                }
            };
            out.push(t, o, h, l, c, v, ci);
            held_of.push(held);
        }
    }
    let offsets = adjust(&mut out, &held_of, &order, opt.adjustment)?;
    Ok((out, offsets))
}

/// The contract held at `t`, given the one held at the previous time.
fn choose(
    rule: &RollRule,
    order: &[&Bars],
    names: &[&str],
    at: &mut Cursors,
    t: i64,
    held: usize,
) -> Result<usize> {
    let find = |name: &str| {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            DataError::Invalid(format!(
                "roll rule names contract {name}, which has no data"
            ))
        })
    };
    match rule {
        RollRule::Schedule(s) => {
            let k = s.partition_point(|(ts, _)| *ts <= t);
            if k == 0 {
                Ok(held)
            } else {
                find(&s[k - 1].1)
            }
        }
        RollRule::DaysBeforeExpiry { days, expiries } => {
            let date = crate::bars::Bars::date_of(t);
            let mut cur = held;
            while cur + 1 < names.len() {
                let exp = expiries.get(names[cur]).ok_or_else(|| {
                    DataError::Invalid(format!("no expiry date for contract {}", names[cur]))
                })?;
                if date + chrono::Days::new(u64::from(*days)) >= *exp {
                    cur += 1;
                } else {
                    break;
                }
            }
            Ok(cur)
        }
        RollRule::VolumeCrossover => Ok(crossover(held, t, order, |k| {
            at.index(k, t).map(|i| order[k].volume[i])
        })),
        RollRule::OpenInterestCrossover(oi) => Ok(crossover(held, t, order, |k| {
            oi.get(names[k]).and_then(|m| m.get(&t)).copied()
        })),
    }
}

/// Moves forward (never back) when the held contract has expired (no bars after `t`) or the
/// next contract's `value` at `t` beats the held one's.
fn crossover(
    mut held: usize,
    t: i64,
    order: &[&Bars],
    mut value: impl FnMut(usize) -> Option<f64>,
) -> usize {
    while held + 1 < order.len() && order[held].ts.last().is_some_and(|&last| last < t) {
        held += 1;
    }
    if held + 1 >= order.len() {
        return held;
    }
    let mut v = |k: usize| value(k).filter(|v| v.is_finite());
    match (v(held), v(held + 1)) {
        (Some(a), Some(b)) if b > a => held + 1,
        _ => held,
    }
}

/// Every bar time of any contract, once each, in order. Each contract's times are already
/// sorted (see [`Bars::validate`]), and the stable sort merges such runs in linear time.
fn union_of_times(order: &[&Bars]) -> Vec<i64> {
    let mut times: Vec<i64> = Vec::with_capacity(order.iter().map(|b| b.len()).sum());
    for b in order {
        times.extend_from_slice(&b.ts);
    }
    times.sort();
    times.dedup();
    times
}

/// Each contract's bar index at a time, found by walking forward: the join asks for times in
/// increasing order, so a cursor per contract only moves on, and the whole join reads each
/// contract's stamps once.
struct Cursors<'a> {
    order: &'a [&'a Bars],
    next: Vec<usize>,
}

impl<'a> Cursors<'a> {
    fn new(order: &'a [&'a Bars]) -> Self {
        Cursors {
            order,
            next: vec![0; order.len()],
        }
    }

    /// The index of contract `k`'s bar stamped `t`, if it has one. `t` must not be earlier
    /// than any time asked of `k` before.
    fn index(&mut self, k: usize, t: i64) -> Option<usize> {
        let ts = &self.order[k].ts;
        let i = &mut self.next[k];
        while *i < ts.len() && ts[*i] < t {
            *i += 1;
        }
        (*i < ts.len() && ts[*i] == t).then_some(*i)
    }
}

/// Close of contract `b` at or before `t`.
fn asof_close(b: &Bars, t: i64) -> Option<f64> {
    let after = b.ts.partition_point(|&x| x <= t);
    after.checked_sub(1).map(|i| b.close[i])
}

/// Back-adjusts in place. At a roll between output bars k−1 and k, the gap is measured at bar
/// k−1's time: new contract's close (as of then) against the old contract's close. Returns
/// each roll's own gap (points or factor), oldest roll first; none when `how` is `None`.
fn adjust(out: &mut Bars, held_of: &[usize], order: &[&Bars], how: Adjustment) -> Result<Vec<f64>> {
    let mut gaps = Vec::new();
    if how == Adjustment::None {
        return Ok(gaps);
    }
    // Gap at each roll, walking backwards so earlier bars accumulate every later roll.
    let n = out.len();
    let mut total_add = 0.0;
    let mut total_mul = 1.0;
    for k in (0..n).rev() {
        if k + 1 < n && held_of[k + 1] != held_of[k] {
            let t = out.ts[k];
            let (old, new) = (held_of[k], held_of[k + 1]);
            let old_c = asof_close(order[old], t);
            let new_c = asof_close(order[new], t);
            let (Some(o), Some(nw)) = (old_c, new_c) else {
                return Err(DataError::Invalid(format!(
                    "cannot back-adjust the roll at {}: no price for both {} and {} (the two \
                     contracts share no bar before the roll; keep one stretch of data with a \
                     date range, or build without adjustment)",
                    out.time(k),
                    order[old].meta.contract.as_deref().unwrap_or(""),
                    order[new].meta.contract.as_deref().unwrap_or("")
                )));
            };
            match how {
                Adjustment::Difference => {
                    gaps.push(nw - o);
                    total_add += nw - o;
                }
                Adjustment::Ratio if o != 0.0 && (nw / o) > 0.0 => {
                    gaps.push(nw / o);
                    total_mul *= nw / o;
                }
                Adjustment::Ratio => {
                    return Err(DataError::Invalid(format!(
                        "ratio back-adjustment impossible at {}: prices {o} and {nw} do not have \
                         a positive ratio; use difference adjustment",
                        out.time(k)
                    )))
                }
                Adjustment::None => {}
            }
        }
        for col in [&mut out.open, &mut out.high, &mut out.low, &mut out.close] {
            col[k] = col[k] * total_mul + total_add;
        }
    }
    gaps.reverse();
    Ok(gaps)
}

/// Sort key from a contract name's month: `ESZ13`, `ZCH1997`, `ES201312`, `CLK20`.
pub fn contract_sort_key(name: &str) -> (i32, u32, String) {
    contract_month(name)
        .map(|(y, m)| (y, m, name.to_string()))
        .unwrap_or((i32::MAX, 0, name.to_string()))
}

/// CME month codes, January (`F`) to December (`Z`).
pub const MONTH_CODES: &str = "FGHJKMNQUVXZ";

/// Year and month of a contract name such as `ESZ13`, `ZCH1997`, `ES201312` or `6EH4`.
pub fn contract_month(name: &str) -> Option<(i32, u32)> {
    let digits_at = name
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    let digits = &name[digits_at..];
    let head = &name[..digits_at];
    if digits.len() == 6 {
        let (y, m) = (
            digits[..4].parse::<i32>().ok()?,
            digits[4..].parse::<u32>().ok()?,
        );
        return (1..=12).contains(&m).then_some((y, m));
    }
    let code = head.chars().last()?;
    let m = MONTH_CODES.find(code)? as u32 + 1;
    let y: i32 = digits.parse().ok()?;
    let year = match digits.len() {
        4 => y,
        2 => 2000 + y - if y > 60 { 100 } else { 0 },
        // One digit: the nearest decade on or after 2020 (6EH4 = 2024).
        1 => 2020 + y,
        _ => return None,
    };
    Some((year, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_months() {
        assert_eq!(contract_month("ESZ13"), Some((2013, 12)));
        assert_eq!(contract_month("ZCH1997"), Some((1997, 3)));
        assert_eq!(contract_month("ES201312"), Some((2013, 12)));
        assert_eq!(contract_month("6EH4"), Some((2024, 3)));
        assert_eq!(contract_month("CLK20"), Some((2020, 5)));
        assert_eq!(contract_month("ESX"), None);
    }
}
