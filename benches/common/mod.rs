//! Real data the benches are built from, in `../shared/data` (or `$SETTLE_SHARED_DATA`): the
//! 6EH4 January 2024 minutes (29,996 bars), from nautilus_trader's CSV and as Databento DBN.

use std::path::PathBuf;

/// A file of the shared data directory.
pub fn shared(rel: &str) -> PathBuf {
    let base = std::env::var_os("SETTLE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data").into());
    base.join(rel)
}

/// The 6EH4 January 2024 one-minute bars, from the nautilus_trader export.
#[allow(dead_code)] // each bench binary compiles this module; not all of them read the CSV
pub fn six_e_minutes() -> settle_data::Bars {
    settle_data::import::nautilus::bars(
        &shared("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .expect("6E minute data")
}
