//! DBN files written by Databento's own encoder (PyPI `databento-dbn`, via
//! `tests/peers/dbn_encode.py` in the venv at `$SETTLE_VENV`, made by `scripts/python-env.sh`)
//! from real bars, then imported back: Lean's ES contracts as one multi-instrument file, a
//! continuous `ES.c.0` file with and without definition records, and a definition whose tick
//! disagrees with the spec catalog.

use std::path::PathBuf;

use serde_json::{json, Value};
use settle_data::import::{databento, lean};
use settle_data::{BarSize, Bars};

mod common;

/// Writes `spec` (see the script's docstring) to `dir/name` with Databento's encoder.
fn encode(dir: &tempfile::TempDir, name: &str, mut spec: Value) -> PathBuf {
    let out = dir.path().join(name);
    spec["out"] = json!(out);
    common::run_peer("dbn_encode.py", &spec);
    out
}

fn lean_es() -> Vec<Bars> {
    let zip = common::shared("raw/lean/future/cme/daily/es_trade.zip");
    lean::bars_zip(&zip, "ES", BarSize::Daily).unwrap()
}

/// Lean's `ESZ13` as Databento's raw symbol: `ESZ3` (one year digit).
fn raw_symbol(lean: &str) -> String {
    let (head, year) = lean.split_at(lean.len() - 2);
    format!("{head}{}", &year[1..])
}

fn nanos(p: f64) -> i64 {
    (p * 1e9).round() as i64
}

/// One DBN record of bar `i` of `b` under `iid`.
fn record(b: &Bars, i: usize, iid: usize) -> Value {
    json!([
        iid,
        b.ts[i] * 1_000_000_000,
        nanos(b.open[i]),
        nanos(b.high[i]),
        nanos(b.low[i]),
        nanos(b.close[i]),
        b.volume[i] as u64
    ])
}

fn day(ts: i64) -> String {
    Bars::date_of(ts).to_string()
}

fn same_bars(got: &Bars, want: &Bars, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    assert_eq!(got.ts, want.ts, "{what}");
    assert_eq!(got.open, want.open, "{what}");
    assert_eq!(got.high, want.high, "{what}");
    assert_eq!(got.low, want.low, "{what}");
    assert_eq!(got.close, want.close, "{what}");
    assert_eq!(got.volume, want.volume, "{what}");
}

/// All of Lean's ES contracts in one file, records in time order across instruments, each
/// contract mapped for the dates it trades: one series per contract, equal to Lean's bars.
#[test]
fn lean_contracts_as_one_multi_instrument_file() {
    let lean = lean_es();
    assert!(lean.len() >= 5, "{} contracts", lean.len());
    let mut mappings = serde_json::Map::new();
    let mut bars = Vec::new();
    for (k, b) in lean.iter().enumerate() {
        let last = Bars::date_of(b.ts[b.len() - 1]).succ_opt().unwrap();
        mappings.insert(
            raw_symbol(b.meta.contract.as_deref().unwrap()),
            json!([[day(b.ts[0]), last.to_string(), k + 1]]),
        );
        bars.extend((0..b.len()).map(|i| (b.ts[i], k + 1, record(b, i, k + 1))));
    }
    bars.sort_by_key(|(ts, iid, _)| (*ts, *iid));
    let dir = tempfile::tempdir().unwrap();
    let spec = json!({"schema": "ohlcv-1d", "stype_in": "raw_symbol", "mappings": mappings,
                      "bars": bars.into_iter().map(|(_, _, r)| r).collect::<Vec<_>>()});
    let series = databento::read(&encode(&dir, "es.dbn", spec)).unwrap();
    assert_eq!(series.len(), lean.len());
    for want in &lean {
        let raw = raw_symbol(want.meta.contract.as_deref().unwrap());
        let got = series
            .iter()
            .find(|s| s.meta.contract.as_deref() == Some(raw.as_str()))
            .unwrap_or_else(|| panic!("no series for {raw}"));
        assert_eq!(got.meta.key(), format!("ES/{raw}/1d"));
        assert_eq!(got.meta.contracts, [raw.as_str()]);
        same_bars(got, want, &raw);
    }
}

/// `ES.c.0` held ESZ13 until 2013-12-12, then ESH14: one continuous series whose bars are the
/// source's, whose contract changes exactly at the roll, named by instrument_id without
/// definition records and by raw symbol with them.
#[test]
fn continuous_symbology() {
    let lean = lean_es();
    let by = |c: &str| {
        lean.iter()
            .find(|b| b.meta.contract.as_deref() == Some(c))
            .unwrap()
    };
    let (z13, h14) = (by("ESZ13"), by("ESH14"));
    let roll = chrono::NaiveDate::from_ymd_opt(2013, 12, 12).unwrap();
    let mut want = Bars::empty(z13.meta.clone());
    let mut records = Vec::new();
    let mut first_h14 = None;
    for (b, iid, keep) in [(z13, 1, true), (h14, 2, false)] {
        for i in 0..b.len() {
            if (b.date(i) < roll) == keep {
                first_h14 = first_h14.or((!keep).then_some(want.len()));
                want.push(
                    b.ts[i],
                    b.open[i],
                    b.high[i],
                    b.low[i],
                    b.close[i],
                    b.volume[i],
                    0,
                );
                records.push(record(b, i, iid));
            }
        }
    }
    let first_h14 = first_h14.unwrap();
    let mappings = json!({"ES.c.0": [["2013-10-01", roll.to_string(), 1],
                                     [roll.to_string(), "2014-01-01", 2]]});
    let spec = json!({"schema": "ohlcv-1d", "stype_in": "continuous", "mappings": mappings,
                      "bars": records});
    let dir = tempfile::tempdir().unwrap();
    for (name, definitions, names) in [
        ("bare.dbn", json!([]), ["id:1", "id:2"]),
        (
            "defined.dbn",
            json!([
                [1, "ESZ3", 250_000_000, want.ts[0] * 1_000_000_000],
                [2, "ESH4", 250_000_000, want.ts[0] * 1_000_000_000]
            ]),
            ["ESZ3", "ESH4"],
        ),
    ] {
        let mut spec = spec.clone();
        spec["definitions"] = definitions;
        let series = databento::read(&encode(&dir, name, spec)).unwrap();
        assert_eq!(series.len(), 1, "{name}");
        let got = &series[0];
        assert_eq!(got.meta.key(), "ES/continuous/1d", "{name}");
        assert!(got.meta.source.contains("ES.c.0"), "{}", got.meta.source);
        same_bars(got, &want, name);
        assert_eq!(got.meta.contracts, names, "{name}");
        assert!(got.contract[..first_h14].iter().all(|&c| c == 0), "{name}");
        assert!(got.contract[first_h14..].iter().all(|&c| c == 1), "{name}");
        assert!(got.date(first_h14 - 1) < roll && got.date(first_h14) >= roll);
    }
}

/// A definition saying ES ticks 0.01 contradicts the catalog's 0.25: an error naming both.
#[test]
fn definition_tick_mismatch_is_an_error() {
    let z13 = lean_es().into_iter().next().unwrap();
    let raw = raw_symbol(z13.meta.contract.as_deref().unwrap());
    let spec = json!({"schema": "ohlcv-1d", "stype_in": "raw_symbol",
                      "mappings": {raw.clone(): [["2013-01-01", "2021-01-01", 7]]},
                      "definitions": [[7, raw, 10_000_000, z13.ts[0] * 1_000_000_000]],
                      "bars": [record(&z13, 0, 7)]});
    let dir = tempfile::tempdir().unwrap();
    let e = databento::read(&encode(&dir, "def.dbn", spec))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("def.dbn: byte ")
            && e.contains("`min_price_increment`")
            && e.contains("tick 0.01")
            && e.contains("ES tick is 0.25"),
        "{e}"
    );
}
