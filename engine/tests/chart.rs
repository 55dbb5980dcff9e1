//! The equity chart drawn from a real backtest (RTL's CL front month, daily OHLC), looked at
//! as pixels: a PNG of the right size, not blank, the curve's highest point in the column of
//! the richest day and its lowest in the column of the poorest.

mod common;

use chrono::NaiveDate;
use common::zigzag;
use settle_data::spec;
use settle_engine::chart::{equity_png, equity_svg, EquityChart, EQUITY_RGB};
use settle_engine::{backtest, BacktestConfig, ExitLevel};

#[test]
fn the_cl_curve_is_drawn_where_the_data_says() {
    let (r, capital) = cl_zigzag();
    let dates: Vec<NaiveDate> = r.daily_equity.iter().map(|d| d.date).collect();
    let equity: Vec<f64> = r.daily_equity.iter().map(|d| d.equity).collect();
    let entries: Vec<NaiveDate> = r.trades.iter().map(|t| t.entry_time.utc_date()).collect();
    let exits: Vec<NaiveDate> = r.trades.iter().map(|t| t.exit_time.utc_date()).collect();
    let chart = EquityChart {
        title: "CL zig-zag since 2015",
        dates: &dates,
        equity: &equity,
        start: capital,
        entries: &entries,
        exits: &exits,
    };
    let drawn = equity_png(&chart, 800, 500).unwrap();
    if let Ok(path) = std::env::var("SETTLE_CHART_OUT") {
        std::fs::write(path, &drawn.image).unwrap();
    }
    assert!(drawn.image.len() < 150_000, "{} bytes", drawn.image.len());
    let decoder = png::Decoder::new(std::io::Cursor::new(&drawn.image));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (800, 500));
    let at = |x: usize, y: usize| {
        let i = (y * 800 + x) * 3;
        (pixels[i], pixels[i + 1], pixels[i + 2])
    };
    let mut colours: Vec<_> = (0..500)
        .flat_map(|y| (0..800).map(move |x| (x, y)))
        .map(|(x, y)| at(x, y))
        .collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 20,
        "a nearly blank picture: {} colours",
        colours.len()
    );

    // Where the curve's own colour is highest and lowest in the equity panel.
    let (xs, ys) = drawn.plot_area.clone();
    let line: Vec<(usize, usize)> = (ys.start.max(0) as usize..ys.end as usize)
        .flat_map(|y| (xs.start.max(0) as usize..xs.end as usize).map(move |x| (x, y)))
        .filter(|&(x, y)| at(x, y) == EQUITY_RGB)
        .collect();
    assert!(
        line.len() > 500,
        "the curve is drawn: {} pixels",
        line.len()
    );
    let top = line.iter().min_by_key(|p| (p.1, p.0)).unwrap();
    let bottom = line.iter().max_by_key(|p| (p.1, p.0)).unwrap();
    let column = |d: NaiveDate| {
        let (first, last) = (dates[0], *dates.last().unwrap());
        let f = (d - first).num_days() as f64 / (last - first).num_days() as f64;
        xs.start as f64 + f * (xs.end - xs.start) as f64
    };
    // The drawn top lies over a day whose equity is the highest, to within the two pixels of
    // the line's width (two lows a pixel apart are one height on screen); likewise the bottom.
    let (hi, lo) = equity
        .iter()
        .fold((f64::MIN, f64::MAX), |(h, l), &e| (h.max(e), l.min(e)));
    let span = (hi.max(capital) - lo.min(capital)) * 1.1;
    let per_pixel = span / (ys.end - ys.start) as f64;
    let near = |x: usize, target: f64| {
        (0..dates.len()).any(|i| {
            (column(dates[i]) - x as f64).abs() <= 4.0
                && (equity[i] - target).abs() <= 2.0 * per_pixel
        })
    };
    assert!(
        near(top.0, hi),
        "top {top:?}: no day near it has the highest equity {hi}"
    );
    assert!(
        near(bottom.0, lo),
        "bottom {bottom:?}: no day near it has the lowest equity {lo}"
    );
    assert!(top.1 < bottom.1);

    let svg = equity_svg(&chart, 800, 500).unwrap().image;
    assert!(svg.starts_with("<svg") && svg.contains("CL zig-zag since 2015"));
}

#[test]
fn a_curve_too_short_to_draw_says_so() {
    let d = [NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()];
    let chart = EquityChart {
        title: "one day",
        dates: &d,
        equity: &[100_000.0],
        start: 100_000.0,
        entries: &[],
        exits: &[],
    };
    let svg = equity_svg(&chart, 800, 500).unwrap().image;
    assert!(svg.contains("fewer than two trading dates"), "{svg}");
    assert!(!equity_png(&chart, 800, 500).unwrap().image.is_empty());
}

#[test]
fn a_heatmap_colours_its_cells_by_sign_and_outlines_the_best() {
    use settle_engine::chart::{heatmap, heatmap_png, Heatmap};
    let z = vec![
        vec![Some(-100.0), Some(50.0), None],
        vec![Some(200.0), Some(0.0), Some(10.0)],
    ];
    let png = heatmap_png(
        &Heatmap {
            title: "total_pnl by fast and slow",
            x_key: "fast",
            y_key: "slow",
            x_labels: &heatmap::value_labels(&[5.0, 10.0, 15.0]),
            y_labels: &heatmap::value_labels(&[30.0, 50.0]),
            z: &z,
            best: Some((0, 1)),
        },
        800,
        500,
    )
    .unwrap()
    .image;
    let mut reader = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).unwrap();
    let count =
        |want: fn(u8, u8, u8) -> bool| pixels.chunks(3).filter(|p| want(p[0], p[1], p[2])).count();
    // The best (+200) is the deepest green; -100 a half-deep red; the missing cell grey.
    assert!(
        count(|r, g, b| (r, g, b) == (26, 152, 80)) > 1000,
        "the best cell, full green"
    );
    assert!(
        count(|r, g, b| r > 200 && g < 170 && b < 170) > 1000,
        "a red cell"
    );
    assert!(
        count(|r, g, b| (r, g, b) == (200, 200, 200)) > 1000,
        "the grey missing cell"
    );
    assert!(
        count(|r, g, b| (r, g, b) == (0, 0, 0)) > 300,
        "the outline and labels"
    );
}

/// The zig-zag backtest of the CL front month since 2015, as the charts below draw it.
fn cl_zigzag() -> (settle_engine::BacktestResult, f64) {
    let bars = common::cl_daily();
    let cfg = BacktestConfig {
        window: "since 2015".parse().unwrap(),
        stop_loss: Some(ExitLevel::Points(3.0)),
        max_bars_held: Some(10),
        ..Default::default()
    };
    let r = backtest(&bars, spec("CL").unwrap(), &zigzag(&bars), &cfg).unwrap();
    (r, cfg.starting_capital)
}

/// RGB pixels of a PNG.
fn pixels_of(png: &[u8]) -> (u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    (info.width, pixels)
}

#[test]
fn monthly_pnl_adds_up_and_the_extreme_month_is_the_deepest_cell() {
    use chrono::Datelike;
    use settle_engine::chart::{monthly_returns, monthly_returns_png};
    let (r, start) = cl_zigzag();
    let dates: Vec<NaiveDate> = r.daily_equity.iter().map(|d| d.date).collect();
    let equity: Vec<f64> = r.daily_equity.iter().map(|d| d.equity).collect();
    let m = monthly_returns(&dates, &equity, start);
    assert_eq!(m.years, (2015..=2023).collect::<Vec<_>>());
    // Every month is its last equity less the previous month's, counted here another way:
    // the last equity of each month by a map, then differences.
    let mut last = std::collections::BTreeMap::new();
    for d in &r.daily_equity {
        last.insert((d.date.year(), d.date.month0()), d.equity);
    }
    let mut before = start;
    for (&(y, mo), &e) in &last {
        let got = m.pnl[(y - 2015) as usize][mo as usize].unwrap();
        assert!((got - (e - before)).abs() < 1e-9, "{y}-{}: {got}", mo + 1);
        before = e;
    }
    let total: f64 = m.pnl.iter().flatten().flatten().sum();
    assert!((total - r.metrics.total_pnl).abs() < 1e-6, "{total}");

    let drawn = monthly_returns_png(&m, "CL zig-zag by month", 800, 500).unwrap();
    assert!(drawn.image.len() < 150_000);
    let (width, pixels) = pixels_of(&drawn.image);
    let (xs, ys) = drawn.plot_area.clone();
    let (mut worst, mut at) = (0.0f64, (0, 0));
    for (yi, row) in m.pnl.iter().enumerate() {
        for (mo, v) in row.iter().enumerate() {
            if let Some(v) = v.filter(|v| v.abs() > worst.abs()) {
                (worst, at) = (v, (yi, mo));
            }
        }
    }
    // Years run down from the first; the deepest colour is the largest |P&L|.
    let cell_w = (xs.end - xs.start) as f64 / 12.0;
    let cell_h = (ys.end - ys.start) as f64 / m.years.len() as f64;
    let x = (xs.start as f64 + (at.1 as f64 + 0.5) * cell_w) as usize;
    let y = (ys.start as f64 + (at.0 as f64 + 0.7) * cell_h) as usize;
    let i = (y * width as usize + x) * 3;
    let want = if worst > 0.0 {
        [26, 152, 80]
    } else {
        [215, 48, 39]
    };
    assert_eq!(
        pixels[i..i + 3],
        want,
        "the cell of {}-{:02} ({worst})",
        m.years[at.0],
        at.1 + 1
    );
}

#[test]
fn the_pnl_histogram_counts_every_trade_and_draws_the_tallest_bar_to_its_height() {
    use settle_engine::chart::distribution::{LOSS_RGB, WIN_RGB};
    use settle_engine::chart::{pnl_distribution_png, Histogram};
    let (r, _) = cl_zigzag();
    let pnl: Vec<f64> = r.trades.iter().map(|t| t.net_pnl).collect();
    let h = Histogram::of(&pnl, 30);
    assert_eq!(h.counts.iter().sum::<u32>(), r.metrics.trade_count);
    let winners = pnl.iter().filter(|p| **p >= 0.0).count() as u32;
    let first_win = h.counts.len()
        - (0..h.counts.len())
            .rev()
            .take_while(|&i| h.lower(i) >= 0.0)
            .count();
    assert_eq!(h.counts[first_win..].iter().sum::<u32>(), winners);

    let drawn = pnl_distribution_png(&pnl, "CL zig-zag trades", 800, 500).unwrap();
    let (width, pixels) = pixels_of(&drawn.image);
    let (xs, ys) = drawn.plot_area.clone();
    let (tallest, &count) = h
        .counts
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        .unwrap();
    let n = h.counts.len() as f64;
    let x = (xs.start as f64 + (tallest as f64 + 0.5) / n * (xs.end - xs.start) as f64) as usize;
    let top_of_axis = f64::from(count + count.div_ceil(10));
    let bar_top = ys.end as f64 - f64::from(count) / top_of_axis * (ys.end - ys.start) as f64;
    let colour = |y: f64| {
        let i = (y as usize * width as usize + x) * 3;
        (pixels[i], pixels[i + 1], pixels[i + 2])
    };
    let want = if h.lower(tallest) >= 0.0 {
        WIN_RGB
    } else {
        LOSS_RGB
    };
    assert_eq!(colour(bar_top + 3.0), want, "inside the bar");
    assert_eq!(colour((bar_top + ys.end as f64) / 2.0), want, "its middle");
    assert_ne!(colour(bar_top - 3.0), want, "above the bar");
}

#[test]
fn no_trades_draw_a_histogram_that_says_so() {
    let drawn = settle_engine::chart::pnl_distribution_png(&[], "none", 800, 500).unwrap();
    assert!(drawn.image.starts_with(b"\x89PNG"));
}
