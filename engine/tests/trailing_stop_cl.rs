//! Trailing stops worked out by hand on real CL front-month daily OHLC (RTL `cushing`) through
//! the March 2022 spike. CL: tick 0.01 = $10, $1,000 per point, default commission $2.50 per
//! side, 1 tick of slippage per fill; CLJ22 is the front contract for the whole span (no roll).
//!
//! The bars used (date, open, high, low, close):
//! ```text
//! 2022-02-25   93.32   95.64   90.06   91.59   <- signal (test 1)
//! 2022-02-28   94.99   99.10   94.43   95.72
//! 2022-03-01   96.09  106.78   95.32  103.41
//! 2022-03-02  107.12  112.51  105.18  110.60
//! 2022-03-03  111.33  116.57  106.43  107.67
//! 2022-03-04  107.96  116.02  107.25  115.68   <- signal (test 2)
//! 2022-03-07  121.33  130.50  115.54  119.40
//! 2022-03-08  120.67  129.44  117.07  123.70
//! ```

use chrono::NaiveDate;
use settle_data::{spec, Bars};
use settle_engine::*;

mod common;

fn cl() -> Bars {
    common::cl_daily()
}

/// The only trade of a long entry signalled on `signal` with a trailing stop of `points`.
fn trade(bars: &Bars, signal: &str, points: f64) -> Trade {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let i = bars
        .ts
        .iter()
        .position(|&t| chrono::DateTime::from_timestamp(t, 0).unwrap().date_naive() == day(signal))
        .unwrap();
    let mut sig = Signals::none(bars.len());
    sig.long_entry[i] = true;
    let cfg = BacktestConfig {
        window: "2022-02-22..2022-03-14".parse().unwrap(),
        trailing_stop: Some(ExitLevel::Points(points)),
        ..Default::default()
    };
    let r = backtest(bars, spec("CL").unwrap(), &sig, &cfg).unwrap();
    assert_eq!(r.trades.len(), 1);
    r.trades[0].clone()
}

#[test]
fn trailing_stop_ratchets_up_the_spike_and_is_touched_inside_a_bar() {
    // Entry 02-28 at the open, 94.99. The trail (best price of the bars seen so far - 10)
    // before each bar: 84.99, 89.10, 96.78, 102.51, 106.57, 106.57, then 120.50 on 03-08
    // (best 130.50 on 03-07); 03-08 opens at 120.67, above it, and its low 117.07 touches it.
    let t = trade(&cl(), "2022-02-25", 10.0);
    assert_eq!(t.exit_reason, ExitReason::TrailingStop);
    assert_eq!((t.entry_price, t.exit_price), (94.99, 120.50));
    assert_eq!(&*t.contract, "CLJ22");
    assert_eq!(t.exit_time, Stamp(1_646_697_600)); // 2022-03-08
    assert_eq!(t.bars_held, 7); // 02-28 .. 03-08
                                // (120.50 - 94.99) x $1,000 = $25,510; two fills of $2.50 + $10 cost $25.
    assert_eq!((t.gross_pnl, t.net_pnl), (25_510.0, 25_485.0));
    // Worst low 94.43 on the entry bar; best high 130.50 on 03-07.
    assert_eq!((t.mae, t.mfe), (560.0, 35_510.0));
}

#[test]
fn trailing_stop_gapped_through_fills_at_the_open() {
    // Entry 03-07 at 121.33: trail 115.33, the low 115.54 stays above it; the high 130.50
    // lifts the trail to 124.50, and 03-08 opens below it at 120.67: filled at the open.
    let t = trade(&cl(), "2022-03-04", 6.0);
    assert_eq!(t.exit_reason, ExitReason::TrailingStop);
    assert_eq!((t.entry_price, t.exit_price), (121.33, 120.67));
    assert_eq!(t.bars_held, 2);
    // -0.66 x $1,000 = -$660, less $25 of costs.
    assert_eq!((t.gross_pnl, t.net_pnl), (-660.0, -685.0));
    assert_eq!((t.mae, t.mfe), (5_790.0, 9_170.0));
}
