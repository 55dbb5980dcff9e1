//! The Probability of Backtest Overfitting by combinatorially symmetric cross-validation
//! (CSCV; Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting",
//! Journal of Computational Finance 20(4), 2017; working paper 2015).
//!
//! Input: a T × N matrix of per-period performance, one column per strategy (combination),
//! one row per period, e.g. the daily returns of every combination of a sweep over the same
//! dates. The rows are cut into S blocks; each way of choosing S/2 blocks as in-sample (the
//! rest out of sample) is one split. In each split the strategy with the best in-sample Sharpe
//! ratio is picked and its out-of-sample Sharpe ratio ranked among all N. PBO is the share of
//! splits where the pick ranks at or below the out-of-sample median. Formulas and settle's
//! choices are in `docs/METRICS.md` ("Overfitting guards").
//!
//! Determinism: splits are enumerated in lexicographic order of their in-sample blocks, ties
//! for the in-sample best go to the lowest column, and ties out of sample share their average
//! rank; the splits run in parallel but are collected in that order.

use rayon::prelude::*;
use serde::Serialize;

use super::moments::{check_finite, GuardError, Moments};

/// The most blocks accepted: C(16, 8) = 12,870 splits, the paper's own choice of S.
pub const MAX_BLOCKS: usize = 16;

/// One split of the blocks into in-sample and out-of-sample halves.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PboSplit {
    /// The in-sample blocks (0-based, ascending); the other blocks are out of sample.
    pub in_sample_blocks: Vec<usize>,
    /// The column with the best in-sample Sharpe ratio (the lowest index among ties).
    pub best: usize,
    /// The best column's per-period Sharpe ratio in and out of sample.
    pub in_sample_sharpe: f64,
    /// The same column's per-period Sharpe ratio out of sample.
    pub out_of_sample_sharpe: f64,
    /// ω̄ = rank / (N + 1), where rank 1 is the worst out-of-sample Sharpe ratio and N the
    /// best; columns tied with the pick share their average rank.
    pub relative_rank: f64,
    /// λ = ln(ω̄ / (1 − ω̄)); λ ≤ 0 means the pick did no better than the median out of sample.
    pub logit: f64,
}

/// The outcome of CSCV.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pbo {
    /// Share of splits with logit ≤ 0, in 0..=1.
    pub pbo: f64,
    /// T, N and S.
    pub periods: usize,
    /// N, the columns (strategies) compared.
    pub strategies: usize,
    /// S, the blocks the rows are cut into.
    pub blocks: usize,
    /// First row of each block, then T: block `k` is rows `bounds[k]..bounds[k + 1]`.
    pub bounds: Vec<usize>,
    /// Every split, C(S, S/2) of them, in lexicographic order of `in_sample_blocks`.
    pub splits: Vec<PboSplit>,
}

/// PBO of the strategies whose per-period performance is `columns` (N ≥ 2 columns of the same
/// length T), with `blocks` = S (even, 2..=16, and T ≥ 2·S so every block has two rows).
///
/// Block `k` holds rows `⌊k·T/S⌋ .. ⌊(k+1)·T/S⌋`, so no row is dropped and block sizes differ
/// by at most one.
pub fn pbo(columns: &[Vec<f64>], blocks: usize) -> Result<Pbo, GuardError> {
    let (t, n) = check(columns, blocks)?;
    let bounds: Vec<usize> = (0..=blocks).map(|k| k * t / blocks).collect();
    // stats[b][j]: moments of column j over block b.
    let stats: Vec<Vec<Moments>> = bounds
        .windows(2)
        .map(|w| {
            columns
                .iter()
                .map(|c| Moments::of(&c[w[0]..w[1]]))
                .collect()
        })
        .collect();
    let halves = combinations(blocks, blocks / 2);
    let splits: Vec<PboSplit> = halves
        .into_par_iter()
        .map(|is_blocks| split(&stats, n, is_blocks))
        .collect();
    let overfit = splits.iter().filter(|s| s.logit <= 0.0).count();
    Ok(Pbo {
        pbo: overfit as f64 / splits.len() as f64,
        periods: t,
        strategies: n,
        blocks,
        bounds,
        splits,
    })
}

/// The matrix's T and N, after checking the shape and values.
fn check(columns: &[Vec<f64>], blocks: usize) -> Result<(usize, usize), GuardError> {
    let n = columns.len();
    if n < 2 {
        return Err(GuardError::invalid(
            "columns",
            format!("{n} strategies; overfitting needs at least 2 to choose from"),
        ));
    }
    let t = columns[0].len();
    for (j, c) in columns.iter().enumerate() {
        if c.len() != t {
            return Err(GuardError::invalid(
                "columns",
                format!("column {j} has {} rows but column 0 has {t}", c.len()),
            ));
        }
        check_finite(&format!("columns[{j}]"), c)?;
    }
    if blocks < 2 || !blocks.is_multiple_of(2) || blocks > MAX_BLOCKS {
        return Err(GuardError::invalid(
            "blocks",
            format!("{blocks}; expected an even number from 2 to {MAX_BLOCKS}"),
        ));
    }
    if t < 2 * blocks {
        return Err(GuardError::invalid(
            "blocks",
            format!("{blocks} blocks of {t} rows leave a block under 2 rows; use fewer blocks"),
        ));
    }
    Ok((t, n))
}

/// Picks the in-sample best of one split and ranks it out of sample.
fn split(stats: &[Vec<Moments>], n: usize, is_blocks: Vec<usize>) -> PboSplit {
    let sharpe_over = |in_sample: bool| -> Vec<f64> {
        (0..n)
            .map(|j| {
                stats
                    .iter()
                    .enumerate()
                    .filter(|(b, _)| is_blocks.contains(b) == in_sample)
                    .fold(Moments::default(), |acc, (_, col)| acc.merge(col[j]))
                    .sharpe()
            })
            .collect()
    };
    let (is, oos) = (sharpe_over(true), sharpe_over(false));
    // First strict maximum: ties go to the lowest column.
    let best = (1..n).fold(0, |b, j| if is[j] > is[b] { j } else { b });
    let x = oos[best];
    let below = oos.iter().filter(|&&v| v < x).count();
    let equal = oos.iter().filter(|&&v| v == x).count();
    let rank = below as f64 + (equal as f64 + 1.0) / 2.0;
    let relative_rank = rank / (n as f64 + 1.0);
    PboSplit {
        in_sample_blocks: is_blocks,
        best,
        in_sample_sharpe: is[best],
        out_of_sample_sharpe: x,
        relative_rank,
        logit: (relative_rank / (1.0 - relative_rank)).ln(),
    }
}

/// Every `k`-subset of `0..n`, ascending within and in lexicographic order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut c: Vec<usize> = (0..k).collect();
    loop {
        out.push(c.clone());
        // The rightmost slot that can still move right, then reset everything after it.
        let Some(i) = (0..k).rev().find(|&i| c[i] < n - k + i) else {
            return out;
        };
        c[i] += 1;
        for j in i + 1..k {
            c[j] = c[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_lexicographic() {
        let c = combinations(4, 2);
        assert_eq!(
            c,
            [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map(|x| x.to_vec())
        );
        assert_eq!(combinations(16, 8).len(), 12_870);
    }
}
