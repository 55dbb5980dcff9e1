//! Real bars the integration tests share: CL front-month daily OHLC (RTL) and 6E one-minute
//! bars of January 2024 (Nautilus Trader sample), from `$SETTLE_SHARED_DATA`.

// Each test crate compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use settle_data::import::{nautilus, rtl};
use settle_data::Bars;

/// `$SETTLE_SHARED_DATA`, or `shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    std::env::var_os("SETTLE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

/// CL front-month daily bars, with the RTL expiry table naming each day's contract.
pub fn cl_daily() -> Bars {
    let dir = shared_data();
    let exp = rtl::expiry_table(&dir.join("converted/rtl/expiry_table.csv"), "CL", "CL").unwrap();
    rtl::cushing_ohlc(
        &dir.join("converted/rtl/cushing_c1_CL_front_ohlc_daily.csv"),
        &exp,
    )
    .unwrap()
}

/// 6E (March 2024 contract) one-minute bars of January 2024, with volume.
pub fn six_e_minutes() -> Bars {
    nautilus::bars(
        &shared_data().join("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .unwrap()
}

/// The peer venv's python (`$SETTLE_VENV`, else `~/.cache/settle/venv`). Fails, never skips,
/// when it is missing.
pub fn venv_python() -> PathBuf {
    let venv = std::env::var_os("SETTLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is not set");
            Path::new(&home).join(".cache/settle/venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "the peer venv is missing at {}: run `bash scripts/python-env.sh`",
        venv.display()
    );
    python
}
