//! The distribution of the trades' net P&L as a histogram: a fat left tail, or a strategy
//! whose profit is one lucky trade, shows at a glance.
//!
//! Bins are counted in whole cents, so a trade on a bin edge always falls in the same bin,
//! and zero is always an edge: no bar mixes winners with losers.

use std::ops::Range;

use plotters::prelude::*;

use super::{err, money, png, rgb, say, ChartError, Drawn, FAMILY};

/// Bars of winning bins (net P&L at or above zero).
pub const WIN_RGB: (u8, u8, u8) = (26, 152, 80);
/// Bars of losing bins (net P&L below zero).
pub const LOSS_RGB: (u8, u8, u8) = (215, 48, 39);

/// Trades counted in bins of equal width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Lower edge of the first bin, in cents: a multiple of `width`.
    pub first: i64,
    /// Width of every bin, in cents (at least one).
    pub width: i64,
    /// Trades per bin; bin `i` holds net P&L in `[first + i·width, first + (i+1)·width)`.
    pub counts: Vec<u32>,
}

impl Histogram {
    /// Counts `pnl` (dollars) into about `bins` bins.
    pub fn of(pnl: &[f64], bins: usize) -> Histogram {
        let cents: Vec<i64> = pnl
            .iter()
            .filter(|p| p.is_finite())
            .map(|p| (p * 100.0).round() as i64)
            .collect();
        let (Some(&lo), Some(&hi)) = (cents.iter().min(), cents.iter().max()) else {
            return Histogram {
                first: 0,
                width: 1,
                counts: Vec::new(),
            };
        };
        let bins = bins.max(1) as i64;
        let width = ((hi - lo + 1) + bins - 1) / bins;
        let width = width.max(1);
        let first = lo.div_euclid(width) * width;
        let mut counts = vec![0u32; ((hi - first) / width + 1) as usize];
        for c in cents {
            counts[((c - first) / width) as usize] += 1;
        }
        Histogram {
            first,
            width,
            counts,
        }
    }

    /// The dollars bin `i` starts at.
    pub fn lower(&self, i: usize) -> f64 {
        (self.first + i as i64 * self.width) as f64 / 100.0
    }
}

/// The histogram of `pnl` (one net P&L per trade) as PNG bytes; the plot area is the bars'.
pub fn pnl_distribution_png(
    pnl: &[f64],
    title: &str,
    width: u32,
    height: u32,
) -> Result<Drawn<Vec<u8>>, ChartError> {
    png(width, height, |root| {
        let h = Histogram::of(pnl, 30);
        if h.counts.is_empty() {
            return say(root, "no trades: there is no P&L to count");
        }
        let n = h.counts.len();
        let (lo, hi) = (h.lower(0), h.lower(n));
        let tallest = h.counts.iter().copied().max().unwrap_or(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0u32..tallest + tallest.div_ceil(10))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_desc("net P&L per trade")
            .y_desc("trades")
            .x_labels(8)
            .x_label_formatter(&|v| money(*v))
            .label_style((FAMILY, 13))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
                let colour = if h.lower(i) >= 0.0 { WIN_RGB } else { LOSS_RGB };
                Rectangle::new([(h.lower(i), 0), (h.lower(i + 1), c)], rgb(colour).filled())
            }))
            .map_err(err)?;
        let area: (Range<i32>, Range<i32>) = chart.plotting_area().get_pixel_range();
        Ok(area)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_whole_cents_with_zero_on_an_edge() {
        // Width: (250.00 - -99.99 + 0.01) / 7 = 50.00 dollars; the first edge -100.00.
        let h = Histogram::of(&[-99.99, -0.01, 0.0, 49.99, 50.0, 250.0], 7);
        assert_eq!((h.first, h.width), (-10_000, 5_000));
        assert_eq!(h.counts, vec![1, 1, 2, 1, 0, 0, 0, 1]);
        assert_eq!(h.lower(2), 0.0);
        assert_eq!(h.counts.iter().sum::<u32>(), 6);
    }

    #[test]
    fn one_value_one_bin() {
        let h = Histogram::of(&[12.5, 12.5], 30);
        assert_eq!(h.counts, vec![2]);
        assert_eq!(h.width, 1);
        assert!(Histogram::of(&[], 30).counts.is_empty());
    }
}
