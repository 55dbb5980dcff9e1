//! Parity with TA-Lib itself on real bars.
//!
//! `tests/peers/talib_reference.py` runs the TA-Lib Python package (C library 0.8.1) on the CL
//! front-month daily OHLC (which contains the −37.63 close of 2020-04-20) and the 6E one-minute
//! bars of January 2024 (with volume), for every indicator and several parameter sets. This test
//! reads the same files itself, computes the same cases with `settle_strategies::indicators` and
//! requires identical NaN positions and values within 1e-9 relative (1e-10 absolute for values
//! near 0). All failures are reported together.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::Command;

mod common;

use common::shared_data;
use flate2::read::GzDecoder;
use serde_json::Value;
use settle_strategies::indicators::{self as ind, MaType, StochParams};

const REL_TOL: f64 = 1e-9;
const ABS_TOL: f64 = 1e-10;

/// OHLC(V) columns of one dataset.
struct Bars {
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Option<Vec<f64>>,
}

fn read_bars(reader: impl Read, with_volume: bool) -> Bars {
    let mut csv = csv::Reader::from_reader(reader);
    let headers = csv.headers().expect("csv header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (h, l, c) = (col("high"), col("low"), col("close"));
    let v = with_volume.then(|| col("volume"));
    let mut bars = Bars {
        high: vec![],
        low: vec![],
        close: vec![],
        volume: with_volume.then(Vec::new),
    };
    let num = |r: &csv::StringRecord, i: usize| -> f64 { r[i].parse().expect("number") };
    for record in csv.records() {
        let r = record.expect("csv record");
        bars.high.push(num(&r, h));
        bars.low.push(num(&r, l));
        bars.close.push(num(&r, c));
        if let (Some(v), Some(volume)) = (v, bars.volume.as_mut()) {
            volume.push(num(&r, v));
        }
    }
    bars
}

fn load_datasets(data: &Path) -> BTreeMap<&'static str, Bars> {
    let cl = data.join("converted/rtl/cushing_c1_CL_front_ohlc_daily.csv");
    let six_e = data.join("raw/nautilus_trader/6EH4.XCME_1min_bars_20240101_20240131.csv.gz");
    let open = |p: &Path| File::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let cl = read_bars(open(&cl), false);
    let six_e = read_bars(GzDecoder::new(open(&six_e)), true);
    assert!(cl.close.len() > 2600 && six_e.close.len() > 29_000);
    BTreeMap::from([("cl", cl), ("6e", six_e)])
}

fn read_f64s(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

fn ma_type(code: u64) -> MaType {
    match code {
        0 => MaType::Sma,
        1 => MaType::Ema,
        2 => MaType::Wma,
        3 => MaType::Dema,
        4 => MaType::Tema,
        6 => MaType::Kama,
        other => panic!("matype {other} is not implemented"),
    }
}

/// Computes one manifest case with our indicators, outputs keyed by TA-Lib's output names.
fn compute(function: &str, params: &Value, bars: &Bars) -> BTreeMap<&'static str, Vec<f64>> {
    let int = |k: &str| params[k].as_u64().unwrap_or_else(|| panic!("param {k}")) as usize;
    let real = |k: &str| params[k].as_f64().unwrap_or_else(|| panic!("param {k}"));
    let mat = |k: &str| ma_type(params[k].as_u64().unwrap_or_else(|| panic!("param {k}")));
    let (h, l, c) = (&bars.high[..], &bars.low[..], &bars.close[..]);
    let v = || bars.volume.as_deref().expect("volume");
    let single = |r: ind::Result<Vec<f64>>| BTreeMap::from([("real", r.expect(function))]);
    match function {
        "SMA" => single(ind::sma(c, int("timeperiod"))),
        "EMA" => single(ind::ema(c, int("timeperiod"))),
        "WMA" => single(ind::wma(c, int("timeperiod"))),
        "DEMA" => single(ind::dema(c, int("timeperiod"))),
        "TEMA" => single(ind::tema(c, int("timeperiod"))),
        "KAMA" => single(ind::kama(c, int("timeperiod"))),
        "RSI" => single(ind::rsi(c, int("timeperiod"))),
        "ROC" => single(ind::roc(c, int("timeperiod"))),
        "MOM" => single(ind::mom(c, int("timeperiod"))),
        "MAX" => single(ind::max(c, int("timeperiod"))),
        "MIN" => single(ind::min(c, int("timeperiod"))),
        "STDDEV" => single(ind::stddev(c, int("timeperiod"), real("nbdev"))),
        "LINEARREG_SLOPE" => single(ind::linearreg_slope(c, int("timeperiod"))),
        "TRANGE" => single(ind::trange(h, l, c)),
        "ATR" => single(ind::atr(h, l, c, int("timeperiod"))),
        "NATR" => single(ind::natr(h, l, c, int("timeperiod"))),
        "ADX" => single(ind::adx(h, l, c, int("timeperiod"))),
        "PLUS_DI" => single(ind::plus_di(h, l, c, int("timeperiod"))),
        "MINUS_DI" => single(ind::minus_di(h, l, c, int("timeperiod"))),
        "CCI" => single(ind::cci(h, l, c, int("timeperiod"))),
        "WILLR" => single(ind::willr(h, l, c, int("timeperiod"))),
        "OBV" => single(ind::obv(c, v())),
        "MFI" => single(ind::mfi(h, l, c, v(), int("timeperiod"))),
        "MACD" => {
            let m = ind::macd(c, int("fastperiod"), int("slowperiod"), int("signalperiod"))
                .expect("MACD");
            BTreeMap::from([
                ("macd", m.macd),
                ("macdsignal", m.signal),
                ("macdhist", m.hist),
            ])
        }
        "BBANDS" => {
            let b = ind::bbands(
                c,
                int("timeperiod"),
                real("nbdevup"),
                real("nbdevdn"),
                mat("matype"),
            )
            .expect("BBANDS");
            BTreeMap::from([
                ("upperband", b.upper),
                ("middleband", b.middle),
                ("lowerband", b.lower),
            ])
        }
        "STOCH" => {
            let params = StochParams {
                fastk_period: int("fastk_period"),
                slowk_period: int("slowk_period"),
                slowk_ma: mat("slowk_matype"),
                slowd_period: int("slowd_period"),
                slowd_ma: mat("slowd_matype"),
            };
            let s = ind::stoch(h, l, c, params).expect("STOCH");
            BTreeMap::from([("slowk", s.slowk), ("slowd", s.slowd)])
        }
        "STOCHRSI" => {
            let s = ind::stochrsi(
                c,
                int("timeperiod"),
                int("fastk_period"),
                int("fastd_period"),
                mat("fastd_matype"),
            )
            .expect("STOCHRSI");
            BTreeMap::from([("fastk", s.fastk), ("fastd", s.fastd)])
        }
        other => panic!("no Rust counterpart for TA-Lib {other}"),
    }
}

/// Compares one series; returns a description of every kind of mismatch found.
fn compare(ours: &[f64], theirs: &[f64]) -> Option<String> {
    if ours.len() != theirs.len() {
        return Some(format!("length {} vs TA-Lib {}", ours.len(), theirs.len()));
    }
    let mut nan_mismatch = Vec::new();
    let mut worst: Option<(usize, f64)> = None;
    let mut bad = 0usize;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        if a.is_nan() || b.is_nan() {
            if a.is_nan() != b.is_nan() {
                nan_mismatch.push(i);
            }
            continue;
        }
        let diff = (a - b).abs();
        if diff > ABS_TOL && diff > REL_TOL * a.abs().max(b.abs()) {
            bad += 1;
            if worst.is_none_or(|(_, w)| diff > w) {
                worst = Some((i, diff));
            }
        }
    }
    let mut problems = Vec::new();
    if !nan_mismatch.is_empty() {
        problems.push(format!(
            "{} NaN positions differ (first at bar {})",
            nan_mismatch.len(),
            nan_mismatch[0]
        ));
    }
    if let Some((i, diff)) = worst {
        problems.push(format!(
            "{bad} values out of tolerance, worst at bar {i}: ours {} TA-Lib {} (diff {diff:e})",
            ours[i], theirs[i]
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// Same length, and every value the same bits (NaN matching NaN).
fn bit_identical(ours: &[f64], theirs: &[f64]) -> bool {
    ours.len() == theirs.len()
        && ours
            .iter()
            .zip(theirs)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
}

#[test]
fn every_indicator_matches_talib_on_real_bars() {
    let python = common::venv_python();
    let data = shared_data();
    let out = tempfile::tempdir().expect("temp dir");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/peers/talib_reference.py"
    );
    let status = Command::new(&python)
        .arg(script)
        .arg(&data)
        .arg(out.path())
        .status()
        .expect("run the TA-Lib reference script");
    assert!(status.success(), "talib_reference.py failed: {status}");

    let manifest: Value = serde_json::from_slice(
        &std::fs::read(out.path().join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest is JSON");
    let datasets = load_datasets(&data);
    let cases = manifest["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    let mut series = 0;
    // Series equal to TA-Lib bit for bit: reported, not required (the tolerance is the
    // contract; the bands of BBANDS on a KAMA middle line are not ported operation for
    // operation).
    let mut inexact = BTreeMap::<&str, usize>::new();
    for case in cases {
        let dataset = case["dataset"].as_str().expect("dataset");
        let function = case["function"].as_str().expect("function");
        let ours = compute(function, &case["params"], &datasets[dataset]);
        let outputs = case["outputs"].as_object().expect("outputs");
        assert_eq!(ours.len(), outputs.len(), "{function}: output count");
        for (name, file) in outputs {
            let theirs = read_f64s(&out.path().join(file.as_str().expect("file")));
            let mine = ours.get(name.as_str()).expect("output name");
            series += 1;
            if !bit_identical(mine, &theirs) {
                *inexact.entry(function).or_default() += 1;
            }
            if let Some(problem) = compare(mine, &theirs) {
                failures.push(format!(
                    "{dataset} {function} {} {name}: {problem}",
                    case["params"]
                ));
            }
        }
    }
    eprintln!(
        "{} of {series} series bit-identical to TA-Lib; not bit-identical: {inexact:?}",
        series - inexact.values().sum::<usize>()
    );
    assert!(series >= 150, "only {series} series compared");
    assert!(
        failures.is_empty(),
        "{} of {series} series differ from TA-Lib:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
