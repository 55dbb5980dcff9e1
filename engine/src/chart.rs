//! Pictures of a backtest and a sweep: the equity curve with its drawdown underneath and the
//! trades marked (PNG or SVG), and a sweep's metric over two parameters as a heatmap (PNG).
//!
//! A trader judges a backtest by its curve before its numbers. The picture is drawn with
//! plotters in one function for both formats, with DejaVu Sans compiled in (no system font
//! lookup), so every machine renders the same pixels. A long curve is thinned by
//! [`crate::thin`] first, which keeps its maximum drawdown: the deepest dip is always drawn.

use std::ops::Range;
use std::sync::OnceLock;

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The font of every label (DejaVu Sans, free license, see `engine/fonts/LICENSE`).
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
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
    pub equity: &'a [f64],
    /// Equity before the first date (the first peak of the drawdown).
    pub start: f64,
    /// Dates a trade was entered and exited, marked on the curve (up to 150 trades).
    pub entries: &'a [NaiveDate],
    pub exits: &'a [NaiveDate],
}

/// A drawn chart and where its equity panel's plotting area lies, in pixels (so a test can
/// hold the drawn extremes to the data).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn<T> {
    pub image: T,
    pub equity_area: (Range<i32>, Range<i32>),
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(String);

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// The line colour of the equity curve (a test finds the curve by it).
pub const EQUITY_RGB: (u8, u8, u8) = (31, 119, 180);
const DRAWDOWN_RGB: (u8, u8, u8) = (214, 39, 40);
const ENTRY_RGB: (u8, u8, u8) = (44, 160, 44);
const EXIT_RGB: (u8, u8, u8) = (90, 90, 90);

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The chart as PNG bytes, `width` × `height` pixels.
pub fn equity_png(c: &EquityChart, width: u32, height: u32) -> Result<Drawn<Vec<u8>>, ChartError> {
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    let equity_area = {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        let area = draw(&root, c)?;
        root.present().map_err(err)?;
        area
    };
    Ok(Drawn {
        image: encode_png(&pixels, width, height)?,
        equity_area,
    })
}

/// The chart as SVG text.
pub fn equity_svg(c: &EquityChart, width: u32, height: u32) -> Result<Drawn<String>, ChartError> {
    let mut svg = String::new();
    let equity_area = {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let area = draw(&root, c)?;
        root.present().map_err(err)?;
        area
    };
    Ok(Drawn {
        image: svg,
        equity_area,
    })
}

/// The equity chart of a finished backtest, as PNG or (`svg`) SVG bytes, 800 × 500.
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
        equity_svg(&c, 800, 500)?.image.into_bytes()
    } else {
        equity_png(&c, 800, 500)?.image
    })
}

/// Registers the compiled-in font once per process.
fn font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(())
        .ok_or_else(|| ChartError("the compiled-in font does not load".into()))
}

/// Draws `c` on `root`: the equity panel (two thirds) over the drawdown panel.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &EquityChart,
) -> Result<(Range<i32>, Range<i32>), ChartError>
where
    DB::ErrorType: 'static,
{
    font()?;
    root.fill(&WHITE).map_err(err)?;
    let n = c.dates.len().min(c.equity.len());
    if n < 2 {
        root.draw(&Text::new(
            "no equity curve: the backtest covers fewer than two trading dates",
            (20, 40),
            (FAMILY, 18).into_font(),
        ))
        .map_err(err)?;
        return Ok(root.get_pixel_range());
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
    dd.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .y_desc("drawdown")
        .x_labels(6)
        .x_label_formatter(&|d| d.format("%Y-%m-%d").to_string())
        .y_label_formatter(&|v| money(*v))
        .label_style((FAMILY, 13))
        .draw()
        .map_err(err)?;
    dd.draw_series(
        AreaSeries::new(drawdown.iter().copied(), 0.0, rgb(DRAWDOWN_RGB).mix(0.35))
            .border_style(rgb(DRAWDOWN_RGB)),
    )
    .map_err(err)?;
    Ok(equity_area)
}

/// What a sweep heatmap shows: one metric over two parameters (rows `y`, columns `x`).
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    pub title: &'a str,
    pub x_key: &'a str,
    pub y_key: &'a str,
    pub x_values: &'a [f64],
    pub y_values: &'a [f64],
    /// `z[iy][ix]`; `None` for a combination that has no value (failed, not run, no trades).
    pub z: &'a [Vec<Option<f64>>],
    /// The best cell `(ix, iy)`, outlined.
    pub best: Option<(usize, usize)>,
}

/// Most cells per axis whose values are written inside them.
const MAX_LABELLED: usize = 12;

/// The heatmap as PNG bytes: green cells above zero, red below, deeper for larger values;
/// grey where there is no value; the best cell outlined in black.
pub fn heatmap_png(h: &Heatmap, width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw_heatmap(&root, h)?;
        root.present().map_err(err)?;
    }
    encode_png(&pixels, width, height)
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    font()?;
    root.fill(&WHITE).map_err(err)?;
    let (nx, ny) = (h.x_values.len(), h.y_values.len());
    if nx == 0 || ny == 0 {
        root.draw(&Text::new(
            "no combinations to draw",
            (20, 40),
            (FAMILY, 18).into_font(),
        ))
        .map_err(err)?;
        return Ok(());
    }
    let scale =
        h.z.iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
    // Labels in the middle of their cells, not on the lines between them.
    let label = |values: &[f64], at: &SegmentValue<i32>| match at {
        SegmentValue::CenterOf(i) => values
            .get(*i as usize)
            .map_or(String::new(), |v| format!("{v}")),
        _ => String::new(),
    };
    let cell = |x: usize, y: usize| (SegmentValue::Exact(x as i32), SegmentValue::Exact(y as i32));
    let mut chart = ChartBuilder::on(root)
        .caption(h.title, (FAMILY, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        // A segmented a..b has a cell for each of a..=b.
        .build_cartesian_2d(
            (0..nx as i32 - 1).into_segmented(),
            (0..ny as i32 - 1).into_segmented(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_key)
        .y_desc(h.y_key)
        .x_labels(nx.min(12))
        .y_labels(ny.min(12))
        .x_label_formatter(&|i| label(h.x_values, i))
        .y_label_formatter(&|i| label(h.y_values, i))
        .label_style((FAMILY, 13))
        .draw()
        .map_err(err)?;
    let cells = (0..ny).flat_map(|iy| (0..nx).map(move |ix| (ix, iy)));
    chart
        .draw_series(cells.clone().map(|(ix, iy)| {
            let colour = match h.z.get(iy).and_then(|r| r.get(ix)).copied().flatten() {
                None => RGBColor(200, 200, 200),
                Some(v) => shade(v / scale),
            };
            Rectangle::new([cell(ix, iy), cell(ix + 1, iy + 1)], colour.filled())
        }))
        .map_err(err)?;
    if nx <= MAX_LABELLED && ny <= MAX_LABELLED {
        chart
            .draw_series(cells.filter_map(|(ix, iy)| {
                let v = h.z.get(iy)?.get(ix).copied().flatten()?;
                Some(Text::new(
                    compact(v),
                    cell(ix, iy + 1),
                    (FAMILY, 11).into_font(),
                ))
            }))
            .map_err(err)?;
    }
    if let Some((bx, by)) = h.best {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [cell(bx, by), cell(bx + 1, by + 1)],
                BLACK.stroke_width(3),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// Green for `t` in (0, 1], red for [-1, 0), near white at 0.
fn shade(t: f64) -> RGBColor {
    let k = t.abs().clamp(0.0, 1.0);
    let fade = |full: u8| (255.0 - (255.0 - f64::from(full)) * (0.15 + 0.85 * k)) as u8;
    if t >= 0.0 {
        RGBColor(fade(26), fade(152), fade(80))
    } else {
        RGBColor(fade(215), fade(48), fade(39))
    }
}

/// RGB pixels as PNG bytes.
fn encode_png(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(pixels).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(png)
}

/// A cell's value in a few characters: `95.9k`, `0.27`, `-1.2M`.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Axis dollars: `$1.2M`, `$250k`, `-$3,500`.
fn money(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a >= 1e6 {
        format!("{sign}${:.2}M", a / 1e6)
    } else if a >= 1e4 {
        format!("{sign}${:.0}k", a / 1e3)
    } else {
        format!("{sign}${a:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_money() {
        assert_eq!(money(1_250_000.0), "$1.25M");
        assert_eq!(money(-35_000.0), "-$35k");
        assert_eq!(money(950.0), "$950");
        assert_eq!(compact(95_945.0), "95.9k");
        assert_eq!(compact(0.2736), "0.27");
        assert_eq!(compact(-1_234_567.0), "-1.2M");
    }
}
