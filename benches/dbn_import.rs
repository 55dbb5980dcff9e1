//! How long `settle data import FILE.dbn.zst` takes to read a year of one-minute bars
//! (`settle_data::import::read_file`: zstd, DBN decoding, symbology, the tick-grid check and
//! validation).
//!
//! The file is the real 6EH4 January 2024 DBN minutes (29,996 bars, Databento's layout)
//! repeated twelve times, 31 days apart, with its symbol mapping stretched over the year,
//! written zstd-compressed by the `dbn` crate's own encoder: 359,952 bars.

mod common;

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use dbn::decode::{DbnDecoder, DbnMetadata, DecodeRecord};
use dbn::encode::{DbnEncoder, EncodeRecord};
use dbn::OhlcvMsg;

const MONTHS: i64 = 12;

/// Writes the year file into `dir` and returns its path.
fn year_file(dir: &Path) -> std::path::PathBuf {
    let src =
        common::shared("converted/databento/glbx-mdp3-6EH4-20240101-20240131.ohlcv-1m.dbn.zst");
    let decoder = DbnDecoder::from_zstd_file(&src).expect("the 6EH4 DBN file");
    let mut meta = decoder.metadata().clone();
    let month: Vec<OhlcvMsg> = decoder.decode_records().expect("6EH4 records");
    for mapping in &mut meta.mappings {
        for interval in &mut mapping.intervals {
            interval.end_date = interval
                .end_date
                .replace_year(interval.end_date.year() + 1)
                .unwrap();
        }
    }
    meta.end = None;
    let out = dir.join("6EH4-year.ohlcv-1m.dbn.zst");
    let file = std::fs::File::create(&out).expect("the year file");
    let mut encoder = DbnEncoder::with_zstd(file, &meta).expect("a DBN encoder");
    for m in 0..MONTHS {
        let shift = (m * 31 * 86_400 * 1_000_000_000) as u64;
        for r in &month {
            let mut r = r.clone();
            r.hd.ts_event += shift;
            encoder.encode_record(&r).expect("a record");
        }
    }
    drop(encoder);
    out
}

fn dbn_import(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = year_file(dir.path());
    let bars = settle_data::import::read_file(&path, None).expect("the year file imports");
    let n: usize = bars.iter().map(|b| b.len()).sum();
    assert_eq!(n, 29_996 * MONTHS as usize);
    c.bench_function(&format!("dbn_import_{n}_1m_bars"), |b| {
        b.iter(|| settle_data::import::read_file(&path, None).expect("import"))
    });
}

criterion_group!(benches, dbn_import);
criterion_main!(benches);
