//! Parquet files with native timestamp columns, written by pandas, pyarrow, polars and
//! Databento's own `to_parquet` (`tests/peers/parquet_write.py`, in the venv at
//! `$SETTLE_VENV`) from real bars, then imported back: every bar must equal the source's.
//!
//! The minutes are the real 6EH4 January 2024 bars (nautilus_trader's CSV, bar-close stamps);
//! the daily file is Lean's ESZ13 contract.

use serde_json::json;
use settle_data::import::{databento, lean, nautilus, parquet, CsvOptions, Stamp};
use settle_data::{BarSize, Bars};

mod common;

const MINUTES: &str = "raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz";
const DBN: &str = "converted/databento/glbx-mdp3-6EH4-20240101-20240131.ohlcv-1m.dbn.zst";

fn lean_esz13() -> Bars {
    let zip = common::shared("raw/lean/future/cme/daily/es_trade.zip");
    lean::bars_zip(&zip, "ES", BarSize::Daily)
        .unwrap()
        .into_iter()
        .find(|b| b.meta.contract.as_deref() == Some("ESZ13"))
        .expect("Lean's ESZ13")
}

/// Writes every file of the script's docstring into a fresh directory.
fn written(daily: &Bars) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = json!({
        "out": dir.path(),
        "minutes_csv": common::shared(MINUTES),
        "dbn": common::shared(DBN),
        "daily": {
            "date": daily.ts.iter().map(|&t| Bars::date_of(t).to_string()).collect::<Vec<_>>(),
            "open": daily.open, "high": daily.high, "low": daily.low,
            "close": daily.close, "volume": daily.volume,
        },
    });
    common::run_peer("parquet_write.py", &spec);
    dir
}

fn options(time_col: &str, timezone: &str, bar_size: BarSize, contract: &str) -> CsvOptions {
    let root = contract.strip_suffix("H4").unwrap_or("ES");
    let mut opt = CsvOptions::new(root, bar_size);
    opt.time_col = time_col.into();
    opt.timezone = timezone.into();
    opt.contract = Some(contract.into());
    opt
}

/// Same stamps, prices, volumes and contract, bar for bar.
fn assert_same_bars(got: &Bars, want: &Bars, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: bar count");
    for i in 0..want.len() {
        let row = |b: &Bars| {
            (
                b.ts[i],
                b.open[i],
                b.high[i],
                b.low[i],
                b.close[i],
                b.volume[i],
            )
        };
        assert_eq!(row(got), row(want), "{what}: bar {i}");
    }
    assert_eq!(got.meta.contracts, want.meta.contracts, "{what}: contracts");
}

#[test]
fn native_timestamps_of_every_writer_import_as_the_source_bars() {
    let daily = lean_esz13();
    let dir = written(&daily);
    let file = |name: &str| dir.path().join(name);
    let source = nautilus::bars(&common::shared(MINUTES), "6E", "6EH4").unwrap();
    // The file's first row, by hand: stamped 23:01 at the bar's close, so it opened at 23:00.
    assert_eq!(source.time(0).to_string(), "2024-01-01 23:00:00 UTC");
    assert_eq!((source.open[0], source.close[0]), (1.1076, 1.1078));

    let minute = BarSize::Minutes(1);
    for (name, timezone) in [
        ("pandas_ns_utc.parquet", "UTC"),
        ("pandas_us_chicago.parquet", "America/Chicago"),
        // A zoned timestamp is an instant: the option's zone (left at UTC) is not consulted.
        ("pyarrow_ms_new_york.parquet", "UTC"),
        ("polars_us_utc.parquet", "UTC"),
        ("polars_ns_naive.parquet", "UTC"),
    ] {
        let mut opt = options("time", timezone, minute, "6EH4");
        opt.stamp = Stamp::BarClose;
        let got = parquet::read(&file(name), &opt).unwrap();
        assert_same_bars(&got, &source, name);
    }

    // Databento's `to_parquet` of the DBN file equals the DBN import of that file.
    let dbn = databento::read(&common::shared(DBN)).unwrap();
    let got = parquet::read(
        &file("databento.parquet"),
        &options("ts_event", "UTC", minute, "6EH4"),
    )
    .unwrap();
    assert_same_bars(&got, &dbn[0], "databento.parquet");

    let got = parquet::read(
        &file("daily_date32.parquet"),
        &options("date", "UTC", BarSize::Daily, "ESZ13"),
    )
    .unwrap();
    assert_same_bars(&got, &daily, "daily_date32.parquet");
}

#[test]
fn wall_clock_times_in_the_wrong_zone_are_off_by_the_zone_and_sub_seconds_are_refused() {
    let daily = lean_esz13();
    let dir = written(&daily);
    let source = nautilus::bars(&common::shared(MINUTES), "6E", "6EH4").unwrap();
    // Chicago wall-clock read as UTC: six hours early in January (CST is UTC-6).
    let mut opt = options("time", "UTC", BarSize::Minutes(1), "6EH4");
    opt.stamp = Stamp::BarClose;
    let got = parquet::read(&dir.path().join("pandas_us_chicago.parquet"), &opt).unwrap();
    assert_eq!(got.ts[0], source.ts[0] - 6 * 3600);

    let err = parquet::read(&dir.path().join("half_second.parquet"), &opt)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("half_second.parquet:1: field `time`") && err.contains("not a whole second"),
        "{err}"
    );

    // A time column that is text of no known layout names the row.
    let err = parquet::read(
        &dir.path().join("databento.parquet"),
        &options("symbol", "UTC", BarSize::Minutes(1), "6EH4"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("databento.parquet:1: field `symbol`"), "{err}");
}
