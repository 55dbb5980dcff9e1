//! Walk-forward as a picture: the stitched out-of-sample equity, fold after fold, against
//! what each fold's in-sample best promised (its in-sample P&L per trading date, carried over
//! the fold's out-of-sample dates). A strategy that fits noise shows promises its curve never
//! keeps.

use std::ops::Range;

use chrono::NaiveDate;
use plotters::prelude::*;

use super::equity::EQUITY_RGB;
use super::{dated_dollar_mesh, err, png, rgb, say, ChartError, Drawn, FAMILY};
use crate::sweep::walkforward::WalkForwardResult;
use crate::window::Window;

/// The line of each fold's in-sample promise.
pub const IN_SAMPLE_RGB: (u8, u8, u8) = (255, 127, 14);
const FOLD_SHADE: RGBColor = RGBColor(238, 238, 238);

/// One fold as drawn: its out-of-sample dates and the promised line over them.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkForwardFold {
    /// The fold's first out-of-sample trading date.
    pub first: NaiveDate,
    /// The fold's last out-of-sample trading date (inclusive).
    pub last: NaiveDate,
    /// Stitched equity before the fold's first out-of-sample date.
    pub start: f64,
    /// Dollars per trading date the chosen combination made in sample.
    pub promised_per_date: f64,
    /// Trading dates out of sample.
    pub dates: usize,
}

impl WalkForwardFold {
    /// The folds of `w`; `dates` are the data's trading dates (to count the in-sample ones).
    pub fn of(w: &WalkForwardResult, dates: &[NaiveDate]) -> Vec<WalkForwardFold> {
        let mut start = w.spec.starting_capital;
        let mut out = Vec::new();
        for f in &w.folds {
            let oos = &f.out_of_sample.daily_equity;
            let (Some(first), Some(last)) = (oos.first(), oos.last()) else {
                continue;
            };
            let in_sample_dates = match f.windows.in_sample {
                Window::Dates(a, b) => dates.iter().filter(|d| (a..=b).contains(*d)).count(),
                _ => 0,
            };
            out.push(WalkForwardFold {
                first: first.date,
                last: last.date,
                start,
                promised_per_date: f.chosen.metrics.total_pnl / in_sample_dates.max(1) as f64,
                dates: oos.len(),
            });
            start += f.out_of_sample.metrics.total_pnl;
        }
        out
    }

    /// Equity at the fold's last date had it kept the in-sample pace.
    pub fn promised_end(&self) -> f64 {
        self.start + self.promised_per_date * self.dates as f64
    }
}

/// The walk-forward chart as PNG bytes; the plot area is the equity panel's.
pub fn walk_forward_png(
    w: &WalkForwardResult,
    dates: &[NaiveDate],
    title: &str,
    width: u32,
    height: u32,
) -> Result<Drawn<Vec<u8>>, ChartError> {
    png(width, height, |root| {
        let folds = WalkForwardFold::of(w, dates);
        let curve: Vec<(NaiveDate, f64)> =
            w.daily_equity.iter().map(|d| (d.date, d.equity)).collect();
        let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
            return say(root, "no out-of-sample curve: no fold finished");
        };
        let (first, last) = (first.0, last.0.max(first.0.succ_opt().unwrap_or(first.0)));
        let values = curve
            .iter()
            .map(|p| p.1)
            .chain(folds.iter().flat_map(|f| [f.start, f.promised_end()]))
            .chain([w.spec.starting_capital]);
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
        let pad = ((hi - lo) * 0.05).max(1.0);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(80)
            .build_cartesian_2d(first..last, (lo - pad)..(hi + pad))
            .map_err(err)?;
        dated_dollar_mesh(&mut chart, "out-of-sample equity")?;
        // Every other fold shaded, so where one ends and the next begins shows.
        chart
            .draw_series(
                folds
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| k % 2 == 1)
                    .map(|(_, f)| {
                        Rectangle::new(
                            [(f.first, lo - pad), (f.last, hi + pad)],
                            FOLD_SHADE.filled(),
                        )
                    }),
            )
            .map_err(err)?;
        for f in &folds {
            chart
                .draw_series(LineSeries::new(
                    [(f.first, f.start), (f.last, f.promised_end())],
                    rgb(IN_SAMPLE_RGB).stroke_width(2),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(curve, rgb(EQUITY_RGB).stroke_width(1)))
            .map_err(err)?
            .label("out of sample")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], rgb(EQUITY_RGB)));
        chart
            .draw_series(std::iter::empty::<Circle<(NaiveDate, f64), i32>>())
            .map_err(err)?
            .label("in-sample pace")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], rgb(IN_SAMPLE_RGB)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font((FAMILY, 13))
            .draw()
            .map_err(err)?;
        let area: (Range<i32>, Range<i32>) = chart.plotting_area().get_pixel_range();
        Ok(area)
    })
}
