//! The equity curve with its drawdown underneath and the trades marked, as PNG or SVG.
//!
//! A long curve is thinned by [`crate::thin`] first, which keeps its maximum drawdown: the
//! deepest dip is always drawn.

use std::ops::Range;

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{dated_dollar_mesh, err, font, money, png, rgb, say, ChartError, Drawn, FAMILY, SIZE};

/// Most points drawn per curve: more than any chart's width in pixels.
const MAX_POINTS: usize = 1600;
/// Most trades whose entries and exits are marked on the curve.
const MAX_MARKED: usize = 150;

/// What an equity chart shows.
#[derive(Debug, Clone, Copy)]
pub struct EquityChart<'a> {
    /// One line over the chart, e.g. `CL sma_cross, 2013-01-02..2023-08-18`.
    pub title: &'a str,
    /// Trading dates, increasing, and the account equity at the end of each.
    pub dates: &'a [NaiveDate],
    /// Account equity in dollars at the end of each date of `dates` (same length).
    pub equity: &'a [f64],
    /// Equity before the first date (the first peak of the drawdown).
    pub start: f64,
    /// Dates a trade was entered, marked on the curve (up to 150 trades).
    pub entries: &'a [NaiveDate],
    /// Dates a trade was exited, marked on the curve (up to 150 trades).
    pub exits: &'a [NaiveDate],
}

/// The line colour of the equity curve (a test finds the curve by it).
pub const EQUITY_RGB: (u8, u8, u8) = (31, 119, 180);
const DRAWDOWN_RGB: (u8, u8, u8) = (214, 39, 40);
const ENTRY_RGB: (u8, u8, u8) = (44, 160, 44);
const EXIT_RGB: (u8, u8, u8) = (90, 90, 90);

/// The chart as PNG bytes, `width` × `height` pixels; the plot area is the equity panel's.
pub fn equity_png(c: &EquityChart, width: u32, height: u32) -> Result<Drawn<Vec<u8>>, ChartError> {
    png(width, height, |root| draw(root, c))
}

/// The chart as SVG text.
pub fn equity_svg(c: &EquityChart, width: u32, height: u32) -> Result<Drawn<String>, ChartError> {
    font()?;
    let mut svg = String::new();
    let plot_area = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let area = draw(&root, c)?;
        root.present().map_err(err)?;
        area
    };
    Ok(Drawn {
        image: svg,
        plot_area,
    })
}

/// The equity chart of a finished backtest, as PNG or (`svg`) SVG bytes, [`SIZE`].
pub fn backtest_chart(
    r: &crate::BacktestResult,
    title: &str,
    starting_capital: f64,
    svg: bool,
) -> Result<Vec<u8>, ChartError> {
    let dates: Vec<NaiveDate> = r.daily_equity.iter().map(|d| d.date).collect();
    let equity: Vec<f64> = r.daily_equity.iter().map(|d| d.equity).collect();
    let entries: Vec<NaiveDate> = r.trades.iter().map(|t| t.entry_time.utc_date()).collect();
    let exits: Vec<NaiveDate> = r.trades.iter().map(|t| t.exit_time.utc_date()).collect();
    let c = EquityChart {
        title,
        dates: &dates,
        equity: &equity,
        start: starting_capital,
        entries: &entries,
        exits: &exits,
    };
    Ok(if svg {
        equity_svg(&c, SIZE.0, SIZE.1)?.image.into_bytes()
    } else {
        equity_png(&c, SIZE.0, SIZE.1)?.image
    })
}

/// Draws `c` on `root`: the equity panel (two thirds) over the drawdown panel.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &EquityChart,
) -> Result<(Range<i32>, Range<i32>), ChartError>
where
    DB::ErrorType: 'static,
{
    let n = c.dates.len().min(c.equity.len());
    if n < 2 {
        return say(
            root,
            "no equity curve: the backtest covers fewer than two trading dates",
        );
    }
    let keep = crate::thin::drawdown_preserving(&c.equity[..n], MAX_POINTS);
    let points: Vec<(NaiveDate, f64)> = keep.iter().map(|&i| (c.dates[i], c.equity[i])).collect();
    let mut peak = c.start;
    let drawdown: Vec<(NaiveDate, f64)> = points
        .iter()
        .map(|&(d, e)| {
            peak = peak.max(e);
            (d, e - peak)
        })
        .collect();
    let (first, last) = (c.dates[0], c.dates[n - 1]);
    let (lo, hi) = points.iter().fold((c.start, c.start), |(lo, hi), &(_, e)| {
        (lo.min(e), hi.max(e))
    });
    let pad = ((hi - lo) * 0.05).max(1.0);
    let deepest = drawdown.iter().map(|p| p.1).fold(0.0, f64::min).min(-1.0);

    let height = root.dim_in_pixel().1;
    let (upper, lower) = root.split_vertically(height * 2 / 3);
    let mut eq = ChartBuilder::on(&upper)
        .caption(c.title, (FAMILY, 18))
        .margin(12)
        .x_label_area_size(0)
        .y_label_area_size(80)
        .build_cartesian_2d(first..last, (lo - pad)..(hi + pad))
        .map_err(err)?;
    eq.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .y_desc("equity")
        .y_label_formatter(&|v| money(*v))
        .label_style((FAMILY, 13))
        .draw()
        .map_err(err)?;
    let at = |d: &NaiveDate| {
        let i = c.dates[..n].partition_point(|x| x < d).min(n - 1);
        (*d, c.equity[i])
    };
    // Marks help while they can be told apart; hundreds of trades would hide the curve.
    let marked = c.entries.len() <= MAX_MARKED;
    let inside = |d: &&NaiveDate| marked && (first..=last).contains(*d);
    eq.draw_series(
        c.entries
            .iter()
            .filter(inside)
            .map(|d| TriangleMarker::new(at(d), 4, rgb(ENTRY_RGB).filled())),
    )
    .map_err(err)?;
    eq.draw_series(
        c.exits
            .iter()
            .filter(inside)
            .map(|d| Circle::new(at(d), 2, rgb(EXIT_RGB).filled())),
    )
    .map_err(err)?;
    // The curve over the marks, so no mark hides its highs and lows; one pixel wide, since a
    // wider line's joins overshoot a one-day spike (CL's negative settlement in April 2020).
    eq.draw_series(LineSeries::new(
        points.iter().copied(),
        rgb(EQUITY_RGB).stroke_width(1),
    ))
    .map_err(err)?;
    let equity_area = eq.plotting_area().get_pixel_range();

    let mut dd = ChartBuilder::on(&lower)
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(first..last, (deepest * 1.05)..0.0)
        .map_err(err)?;
    dated_dollar_mesh(&mut dd, "drawdown")?;
    dd.draw_series(
        AreaSeries::new(drawdown.iter().copied(), 0.0, rgb(DRAWDOWN_RGB).mix(0.35))
            .border_style(rgb(DRAWDOWN_RGB)),
    )
    .map_err(err)?;
    Ok(equity_area)
}
