//! Synthetic bars for benchmarks: a deterministic random walk on a contract's tick grid.
//!
//! Speed figures need a series longer than any real file here (a million one-minute bars) and
//! the same input on every machine, so the criterion benches and `settle bench` all measure
//! this walk. Never used for a number a trader reads as market history.

use crate::{BarSize, Bars, ContractSpec, SeriesMeta};

/// 2024-01-01 23:00 UTC (17:00 Chicago, a Globex open): the first bar's stamp.
const START: i64 = 1_704_146_400;

/// `n` one-minute bars of `spec`'s root starting at `price`: each close moves -2..=+2 ticks
/// (xorshift64, fixed seed), the high and low sit one tick outside the open and close, and
/// the volume is 1. The series is labelled source `synthetic` and contract `{root}H24`.
pub fn random_walk(spec: &ContractSpec, price: f64, n: usize) -> Bars {
    let meta = SeriesMeta::new(spec.root, None, BarSize::Minutes(1), "synthetic");
    let mut bars = Bars::empty(meta);
    let contract = bars.contract_index(&format!("{}H24", spec.root));
    let tick = spec.tick_size;
    let (mut x, mut close) = (0x9E37_79B9_7F4A_7C15_u64, price);
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let open = close;
        close += ((x % 5) as f64 - 2.0) * tick;
        let (high, low) = (open.max(close) + tick, open.min(close) - tick);
        bars.push(START + 60 * i as i64, open, high, low, close, 1.0, contract);
    }
    bars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_stays_on_the_tick_grid_and_is_the_same_every_time() {
        let es = crate::spec("ES").unwrap();
        let a = random_walk(es, 4800.0, 10_000);
        assert_eq!(a.len(), 10_000);
        assert_eq!(a.close, random_walk(es, 4800.0, 10_000).close);
        for (i, &c) in a.close.iter().enumerate() {
            let ticks = c / 0.25;
            assert_eq!(ticks, ticks.round(), "close {c} at {i} is off the grid");
            assert!(a.high[i] > a.open[i].max(c) && a.low[i] < a.open[i].min(c));
        }
        // One-minute stamps, strictly increasing.
        assert!(a.ts.windows(2).all(|w| w[1] - w[0] == 60));
    }
}
