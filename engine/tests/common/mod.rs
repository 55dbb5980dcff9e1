//! Real data shared by the engine's integration tests: `../shared/data` beside the checkout.
// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use settle_data::import::rtl;
use settle_data::Bars;
use settle_engine::Signals;

/// A file of `../shared/data`.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// RTL's CL front-month daily OHLC (2013–2023), contracts named from its expiry table.
pub fn cl_daily() -> Bars {
    let exp = rtl::expiry_table(&data("converted/rtl/expiry_table.csv"), "CL", "CL").unwrap();
    rtl::cushing_ohlc(
        &data("converted/rtl/cushing_c1_CL_front_ohlc_daily.csv"),
        &exp,
    )
    .unwrap()
}

/// Long after two lower closes turn up, short after two higher closes turn down: a signal
/// that trades often on any series.
pub fn zigzag(bars: &Bars) -> Signals {
    let mut sig = Signals::none(bars.len());
    for t in 2..bars.len() {
        let (a, b, c) = (bars.close[t - 2], bars.close[t - 1], bars.close[t]);
        sig.long_entry[t] = b < a && c > b;
        sig.short_entry[t] = b > a && c < b;
    }
    sig
}
