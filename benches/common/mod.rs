//! Real data the benches are built from: the 6EH4 January 2024 minutes (29,996 bars) in
//! `../shared/data` (or `$SETTLE_SHARED_DATA`).

/// The 6EH4 January 2024 one-minute bars, from the nautilus_trader export.
pub fn six_e_minutes() -> settle_data::Bars {
    let base = std::env::var_os("SETTLE_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data").into());
    settle_data::import::nautilus::bars(
        &base.join("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .expect("6E minute data")
}
