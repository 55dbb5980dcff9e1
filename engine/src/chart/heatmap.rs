//! A value over two labelled axes as coloured cells: a sweep's metric over two parameters,
//! or a backtest's P&L by year and month. A lone bright cell is a warning, a broad plateau a
//! comfort: the picture shows which at a glance.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{compact, err, png, say, shade, ChartError, Drawn, FAMILY};

/// What a heatmap shows: one value per cell, rows `y` (the first at the bottom), columns `x`.
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    /// The line of text over the chart.
    pub title: &'a str,
    /// Name of the horizontal axis (the columns), e.g. the first swept parameter.
    pub x_key: &'a str,
    /// Name of the vertical axis (the rows).
    pub y_key: &'a str,
    /// One label per column, e.g. the parameter values.
    pub x_labels: &'a [String],
    /// One label per row, bottom row first.
    pub y_labels: &'a [String],
    /// `z[iy][ix]`; `None` for a combination that has no value (failed, not run, no trades).
    pub z: &'a [Vec<Option<f64>>],
    /// The best cell `(ix, iy)`, outlined.
    pub best: Option<(usize, usize)>,
}

/// Most cells per axis whose values are written inside them.
const MAX_LABELLED: usize = 12;
/// Most labels per axis (more would overlap at 500 pixels high).
const MAX_AXIS_LABELS: usize = 24;

/// Axis labels of parameter values as a sweep prints them (`5`, `0.5`).
pub fn value_labels(values: &[f64]) -> Vec<String> {
    values.iter().map(|v| format!("{v}")).collect()
}

/// The heatmap as PNG bytes: green cells above zero, red below, deeper for larger values;
/// grey where there is no value; the best cell outlined in black.
pub fn heatmap_png(h: &Heatmap, width: u32, height: u32) -> Result<Drawn<Vec<u8>>, ChartError> {
    png(width, height, |root| draw_heatmap(root, h))
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &Heatmap,
) -> Result<(std::ops::Range<i32>, std::ops::Range<i32>), ChartError>
where
    DB::ErrorType: 'static,
{
    let (nx, ny) = (h.x_labels.len(), h.y_labels.len());
    if nx == 0 || ny == 0 {
        return say(root, "no cells to draw");
    }
    let scale =
        h.z.iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
    // Labels in the middle of their cells, not on the lines between them.
    let label = |labels: &[String], at: &SegmentValue<i32>| match at {
        SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
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
        .x_labels(nx.min(MAX_AXIS_LABELS))
        .y_labels(ny.min(MAX_AXIS_LABELS))
        .x_label_formatter(&|i| label(h.x_labels, i))
        .y_label_formatter(&|i| label(h.y_labels, i))
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
    let area = chart.plotting_area().get_pixel_range();
    if let Some((bx, by)) = h.best {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [cell(bx, by), cell(bx + 1, by + 1)],
                BLACK.stroke_width(3),
            )))
            .map_err(err)?;
    }
    Ok(area)
}
