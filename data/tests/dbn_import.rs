//! Databento DBN import on real files: Databento's own format fixtures (every version, plain and
//! zstd), the real 6EH4 minutes against the nautilus CSV they came from, and bad input.

use std::path::{Path, PathBuf};

use settle_data::import::{databento, nautilus};
use settle_data::store::Store;
use settle_data::BarSize;

mod common;

fn fixture(name: &str) -> PathBuf {
    common::shared(&format!("raw/databento/{name}"))
}

const SIXE: &str = "converted/databento/glbx-mdp3-6EH4-20240101-20240131.ohlcv-1m.dbn.zst";

fn err(path: &Path) -> String {
    databento::read(path).unwrap_err().to_string()
}

/// The 1m and 1h fixtures decode to the same two ESH1 bars in DBN v1, v2 and v3, plain or zstd.
/// Their values (read with Databento's Python decoder) are the test suite's, not market prices:
/// 372025 is whole, so on ES's 0.25 grid, which is why they import.
#[test]
fn fixtures_every_version() {
    let want_1m = [
        (
            1_609_160_400,
            [372025.0, 372150.0, 372025.0, 372100.0, 353.0],
        ),
        (
            1_609_160_460,
            [372100.0, 372150.0, 372100.0, 372150.0, 152.0],
        ),
    ];
    let want_1h = [
        (
            1_609_160_400,
            [372025.0, 372350.0, 372025.0, 372225.0, 9385.0],
        ),
        (
            1_609_164_000,
            [372225.0, 372450.0, 371600.0, 371950.0, 112698.0],
        ),
    ];
    for (schema, bar, want) in [
        ("1m", BarSize::Minutes(1), &want_1m),
        ("1h", BarSize::Minutes(60), &want_1h),
    ] {
        for suffix in ["dbn", "v1.dbn.zst", "v2.dbn.zst", "v3.dbn.zst"] {
            let name = format!("test_data.ohlcv-{schema}.{suffix}");
            let series = databento::read(&fixture(&name)).unwrap();
            assert_eq!(series.len(), 1, "{name}");
            let b = &series[0];
            assert_eq!(b.meta.key(), format!("ES/ESH1/{bar}"), "{name}");
            assert_eq!(b.meta.contracts, ["ESH1"], "{name}");
            assert_eq!(b.meta.source, format!("databento:{name}"));
            for (i, (ts, v)) in want.iter().enumerate() {
                assert_eq!(b.ts[i], *ts, "{name}");
                let got = [b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]];
                assert_eq!(got, *v, "{name} bar {i}");
            }
            assert_eq!(b.len(), 2, "{name}");
        }
    }
}

/// The ohlcv-1s fixtures are refused by name; the ohlcv-1d fixtures hold metadata but no
/// records (checked with Databento's Python decoder), which is an error, not an empty series.
#[test]
fn fixtures_one_second_and_empty_daily() {
    for suffix in ["dbn", "v1.dbn.zst", "v2.dbn.zst", "v3.dbn.zst"] {
        let e = err(&fixture(&format!("test_data.ohlcv-1s.{suffix}")));
        assert!(
            e.contains("ohlcv-1s") && e.contains("ohlcv-1m, ohlcv-1h and ohlcv-1d"),
            "{e}"
        );
        let e = err(&fixture(&format!("test_data.ohlcv-1d.{suffix}")));
        assert!(e.contains("holds no bars"), "{e}");
    }
}

/// Every one of the 29,996 DBN bars equals the nautilus CSV's bar, prices and volume exactly.
/// The file's `ts_event` is the CSV's stamp copied as is, and the CSV stamps bar closes, which
/// settle's nautilus importer shifts back a minute to the bar open; DBN's `ts_event` is by
/// definition the open, so the DBN import is exactly one minute later than the CSV import.
#[test]
fn six_e_minutes_match_the_csv() {
    let dbn = databento::read(&common::shared(SIXE)).unwrap();
    assert_eq!(dbn.len(), 1);
    let d = &dbn[0];
    assert_eq!(d.meta.key(), "6E/6EH4/1m");
    let csv = nautilus::bars(
        &common::shared("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"),
        "6E",
        "6EH4",
    )
    .unwrap();
    assert_eq!(d.len(), 29_996);
    assert_eq!(csv.len(), d.len());
    for i in 0..d.len() {
        assert_eq!(d.ts[i], csv.ts[i] + 60, "bar {i}");
        assert_eq!(
            [d.open[i], d.high[i], d.low[i], d.close[i], d.volume[i]],
            [
                csv.open[i],
                csv.high[i],
                csv.low[i],
                csv.close[i],
                csv.volume[i]
            ],
            "bar {i} at {}",
            d.time(i)
        );
    }
    assert_eq!(d.meta.contracts, csv.meta.contracts);
    assert!(d.contract.iter().all(|&c| c == 0));
}

/// Decompresses a real `.zst` file with the system's `zstd` so bad copies can be made of it.
fn plain_6e() -> Vec<u8> {
    let out = std::process::Command::new("zstd")
        .arg("-dc")
        .arg(common::shared(SIXE))
        .output()
        .expect("zstd must be installed");
    assert!(out.status.success());
    out.stdout
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A file cut inside a record names the file and that record's byte offset; so does a record
/// whose length field is impossible. Offsets: 6EH4's metadata ends where the file minus its
/// 29,996 records of 56 bytes begins.
#[test]
fn truncated_and_corrupt_name_the_byte() {
    let plain = plain_6e();
    let records_start = plain.len() - 29_996 * 56;
    let dir = tempfile::tempdir().unwrap();

    let cut = write(&dir, "cut.dbn", &plain[..plain.len() - 20]);
    let e = err(&cut);
    let last = records_start + 29_995 * 56;
    assert!(
        e.contains("cut.dbn") && e.contains(&format!("byte {last}:")) && e.contains("ends inside"),
        "{e}"
    );

    let mut bad = plain.clone();
    let tenth = records_start + 10 * 56;
    bad[tenth] = 1; // length in 4-byte words: 4 bytes, shorter than any record header
    let e = err(&write(&dir, "corrupt.dbn", &bad));
    assert!(
        e.contains("corrupt.dbn") && e.contains(&format!("byte {tenth}:")),
        "{e}"
    );

    let e = err(&write(&dir, "header.dbn", &plain[..40]));
    assert!(
        e.contains("header.dbn: byte 0") && e.contains("metadata"),
        "{e}"
    );

    // The compressed file cut short: zstd ends early, and the offset counts decompressed bytes.
    let zst = std::fs::read(common::shared(SIXE)).unwrap();
    let e = err(&write(&dir, "cut.dbn.zst", &zst[..zst.len() / 2]));
    assert!(
        e.contains("cut.dbn.zst: byte ") && e.contains("of the decompressed stream"),
        "{e}"
    );
}

/// 6E ticks 0.00005 = 50,000 in DBN's 1e-9 units: a close of 1 unit more is off the grid, and
/// the error names the bar and its record.
#[test]
fn off_grid_price_names_the_first_bar() {
    let mut plain = plain_6e();
    let records_start = plain.len() - 29_996 * 56;
    let k = 7;
    let close = records_start + k * 56 + 40; // header 16, then open, high, low, close
    let v = i64::from_le_bytes(plain[close..close + 8].try_into().unwrap()) + 1;
    plain[close..close + 8].copy_from_slice(&v.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let e = err(&write(&dir, "grid.dbn", &plain));
    let at = records_start + k * 56;
    assert!(
        e.contains(&format!("grid.dbn: byte {at}: field `close`"))
            && e.contains("6EH4 bar at 2024-01-01T23:08:00Z")
            && e.contains("off the 6E tick grid (0.00005)"),
        "{e}"
    );
}

/// A record whose length is not a whole number of 8-byte words (found by fuzzing: 188 bytes)
/// would leave every later record misaligned in the decoder's buffer; it is refused, naming its
/// byte, before the decoder reads past it.
#[test]
fn misaligned_record_length_names_the_byte() {
    let plain = plain_6e();
    let records_start = plain.len() - 29_996 * 56;
    let dir = tempfile::tempdir().unwrap();
    for (k, words) in [(3, 15u8), (0, 47)] {
        let mut bad = plain.clone();
        let at = records_start + k * 56;
        bad[at] = words;
        let e = err(&write(&dir, "misaligned.dbn", &bad));
        let size = u64::from(words) * 4;
        assert!(
            e.contains(&format!("misaligned.dbn: byte {at}: field `length`"))
                && e.contains(&format!("says it is {size} bytes long"))
                && e.contains("a whole multiple of 8"),
            "{e}"
        );
    }
}

/// A failed DBN import leaves the store as it was.
#[test]
fn failed_import_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let good = databento::read(&fixture("test_data.ohlcv-1m.dbn")).unwrap();
    store.import(&good).unwrap();
    let before = store.list().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_6e();
    let cut = write(&dir, "cut.dbn", &plain[..plain.len() - 3]);
    assert!(databento::read(&cut)
        .and_then(|s| store.import(&s))
        .is_err());
    assert_eq!(store.list().unwrap(), before);
    // As imported, plus the catalog's fingerprint of its columns that a load carries.
    let mut want = good[0].clone();
    want.meta.fingerprint = Some(settle_data::store::fingerprint(&want));
    assert_eq!(store.load("ES/ESH1/1m").unwrap(), want);
    assert!(store.load("6E/6EH4/1m").is_err());
}

#[test]
fn detects_dbn_by_name_and_magic() {
    assert!(databento::is_dbn(&fixture("test_data.ohlcv-1m.dbn")));
    assert!(databento::is_dbn(&common::shared(SIXE)));
    let dir = tempfile::tempdir().unwrap();
    let renamed = write(
        &dir,
        "bars.bin",
        &std::fs::read(fixture("test_data.ohlcv-1m.dbn")).unwrap(),
    );
    assert!(databento::is_dbn(&renamed));
    assert!(!databento::is_dbn(&write(&dir, "bars.csv", b"time,open\n")));
}
