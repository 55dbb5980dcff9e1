//! Pictures of a backtest and a sweep, drawn with plotters:
//!
//! * [`equity`]: the equity curve with its drawdown underneath and the trades marked (PNG or SVG);
//! * [`heatmap`]: a value over two labelled axes, a sweep's metric over two parameters;
//! * [`monthly`]: profit and loss per calendar month, a year × month heatmap;
//! * [`distribution`]: the histogram of the trades' net P&L;
//! * [`walk_forward`]: the stitched out-of-sample equity against each fold's in-sample pace.
//!
//! A trader judges a backtest by its pictures before its numbers. Every label is set in
//! DejaVu Sans compiled into the binary (no system font lookup), so every machine renders the
//! same pixels, and every chart says in words when it has nothing to show.

pub mod distribution;
pub mod equity;
pub mod heatmap;
pub mod monthly;
pub mod walk_forward;

use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use distribution::{pnl_distribution_png, Histogram};
pub use equity::{backtest_chart, equity_png, equity_svg, EquityChart, EQUITY_RGB};
pub use heatmap::{heatmap_png, Heatmap};
pub use monthly::{monthly_returns, monthly_returns_png, MonthlyReturns};
pub use walk_forward::{walk_forward_png, WalkForwardFold};

/// The font of every label (DejaVu Sans, free license, see `engine/fonts/LICENSE`).
const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Pixels of every chart settle hands out: readable in a chat window, a PNG of tens of KB.
pub const SIZE: (u32, u32) = (800, 500);

/// A drawn chart and where its main plotting area lies, in pixels (so a test can hold the
/// drawn extremes to the data).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn<T> {
    /// The picture: PNG bytes or SVG text.
    pub image: T,
    /// Pixel ranges of the plotting area, `(x, y)`, with y counted from the top of the image.
    pub plot_area: (Range<i32>, Range<i32>),
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(String);

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Registers the compiled-in font once per process.
fn font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(())
        .ok_or_else(|| ChartError("the compiled-in font does not load".into()))
}

/// The area a drawing function paints on, already white, with the font registered.
type Canvas<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draws with `paint` on a white `width` × `height` bitmap and encodes it as PNG.
fn png(
    width: u32,
    height: u32,
    paint: impl FnOnce(&Canvas) -> Result<(Range<i32>, Range<i32>), ChartError>,
) -> Result<Drawn<Vec<u8>>, ChartError> {
    font()?;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    let plot_area = {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let area = paint(&root)?;
        root.present().map_err(err)?;
        area
    };
    Ok(Drawn {
        image: encode_png(&pixels, width, height)?,
        plot_area,
    })
}

/// Writes `message` where the chart would be, and says the whole picture is the plot area.
fn say<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    message: &str,
) -> Result<(Range<i32>, Range<i32>), ChartError>
where
    DB::ErrorType: 'static,
{
    root.draw(&Text::new(message, (20, 40), (FAMILY, 18).into_font()))
        .map_err(err)?;
    Ok(root.get_pixel_range())
}

/// A chart with dates across and dollars up.
type DatedDollars<'a, DB> = ChartContext<
    'a,
    DB,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::types::RangedDate<chrono::NaiveDate>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Draws the axes of a dated dollar chart: six dates across, dollars up, named `y_desc`.
fn dated_dollar_mesh<DB: DrawingBackend>(
    chart: &mut DatedDollars<'_, DB>,
    y_desc: &str,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .y_desc(y_desc)
        .x_labels(6)
        .x_label_formatter(&|d| d.format("%Y-%m-%d").to_string())
        .y_label_formatter(&|v| money(*v))
        .label_style((FAMILY, 13))
        .draw()
        .map_err(err)
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
