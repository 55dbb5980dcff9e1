//! Bad input: every error names the file, line and field, and a failed import changes nothing.

use std::io::Write;
use std::path::PathBuf;

use settle_data::import::{csv_ohlcv, CsvOptions};
use settle_data::store::Store;
use settle_data::BarSize;

fn csv(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    p
}

fn err(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = csv(&dir, "bars.csv", body);
    csv_ohlcv::read(&p, &CsvOptions::new("CL", BarSize::Daily))
        .unwrap_err()
        .to_string()
}

const HEAD: &str = "time,open,high,low,close,volume\n";

#[test]
fn malformed_number_names_line_and_field() {
    let e = err(&format!(
        "{HEAD}2020-04-17,18,19,17,18.2,10\n2020-04-20,17.7,abc,-40.3,-37.63,5\n"
    ));
    assert!(
        e.contains("bars.csv:3") && e.contains("`high`") && e.contains("not a number"),
        "{e}"
    );
}

#[test]
fn missing_column_lists_what_was_found() {
    let e = err("time,open,high,low,volume\n2020-04-17,18,19,17,10\n");
    assert!(
        e.contains("missing column `close`") && e.contains("time,open,high,low,volume"),
        "{e}"
    );
}

#[test]
fn unparseable_time() {
    let e = err(&format!("{HEAD}17/04/2020x,18,19,17,18,1\n"));
    assert!(
        e.contains("bars.csv:2") && e.contains("`time`") && e.contains("not a date"),
        "{e}"
    );
}

#[test]
fn duplicate_and_out_of_order_bars() {
    let e = err(&format!(
        "{HEAD}2020-04-17,18,19,17,18,1\n2020-04-17,18,19,17,18,1\n"
    ));
    assert!(e.contains("bars.csv:3") && e.contains("duplicate"), "{e}");
    let e = err(&format!(
        "{HEAD}2020-04-20,18,19,17,18,1\n2020-04-17,18,19,17,18,1\n"
    ));
    assert!(
        e.contains("bars.csv:3") && e.contains("out of order"),
        "{e}"
    );
}

#[test]
fn high_below_low() {
    let e = err(&format!("{HEAD}2020-04-17,18,17,19,18,1\n"));
    assert!(
        e.contains("bars.csv:2") && e.contains("`high`") && e.contains("below low"),
        "{e}"
    );
}

#[test]
fn ragged_row() {
    let e = err(&format!("{HEAD}2020-04-17,18,19,17\n"));
    assert!(e.contains("bars.csv:2"), "{e}");
}

#[test]
fn unknown_root() {
    let dir = tempfile::tempdir().unwrap();
    let p = csv(&dir, "x.csv", &format!("{HEAD}2020-04-17,18,19,17,18,1\n"));
    let e = csv_ohlcv::read(&p, &CsvOptions::new("XYZ", BarSize::Daily))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown symbol `XYZ`"), "{e}");
}

#[test]
fn negative_prices_are_real() {
    let dir = tempfile::tempdir().unwrap();
    let p = csv(
        &dir,
        "cl.csv",
        &format!(
            "{HEAD}2020-04-17,18.27,18.27,18.27,18.27,1\n2020-04-20,17.73,17.85,-40.32,-37.63,1\n"
        ),
    );
    let b = csv_ohlcv::read(&p, &CsvOptions::new("CL", BarSize::Daily)).unwrap();
    assert_eq!(b.close, vec![18.27, -37.63]);
}

#[test]
fn failed_import_leaves_store_unchanged() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = csv_ohlcv::read(
        &csv(&dir, "g.csv", &format!("{HEAD}2020-04-17,18,19,17,18,1\n")),
        &CsvOptions::new("CL", BarSize::Daily),
    )
    .unwrap();
    store.import(std::slice::from_ref(&good)).unwrap();
    let before = store.list().unwrap();
    let files_before = walk(home.path());

    let mut changed = good.clone();
    changed.close[0] = 18.5;
    let mut bad = good.clone();
    bad.meta.symbol = "NG".into();
    bad.high[0] = 1.0; // below low: invalid
    let e = store.import(&[changed, bad]).unwrap_err().to_string();
    assert!(e.contains("high"), "{e}");
    assert_eq!(store.list().unwrap(), before);
    assert_eq!(walk(home.path()), files_before);
    assert_eq!(store.load("CL/continuous/1d").unwrap().close, vec![18.0]);
}

fn walk(p: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        } else {
            out.push((e.clone(), std::fs::read(&e).unwrap()));
        }
    }
    out.sort();
    out
}

/// The format-specific importers name file, line and column too.
#[test]
fn format_importers_name_line_and_column() {
    use settle_data::import::{pysystemtrade, rtl, schwartz97};
    let dir = tempfile::tempdir().unwrap();
    let p = csv(
        &dir,
        "ES.csv",
        "DATETIME,PRICE,PRICE_CONTRACT,FORWARD,FORWARD_CONTRACT,CARRY,CARRY_CONTRACT\n\
         2020-01-02 23:00:00,3250.5,20200300,3251,20200600,3251,20200600\n\
         2020-01-03 23:00:00,3240,202003,3241,20200600,3241,20200600\n",
    );
    let e = pysystemtrade::multiple_prices(&p).unwrap_err().to_string();
    assert!(
        e.contains("ES.csv:3") && e.contains("PRICE_CONTRACT") && e.contains("YYYYMM00"),
        "{e}"
    );

    let p = csv(
        &dir,
        "corn.csv",
        "date,root,contract,last_trade_date,settle,volume,open_interest\n\
         1997-01-02,ZC,ZCH1997,1997-03-14,270.5,100,2000\n\
         1997-01-02,ZC,ZCH1997,1997-03-14,271.0,100,2000\n",
    );
    let e = schwartz97::read(&p).unwrap_err().to_string();
    assert!(
        e.contains("corn.csv:3") && e.contains("duplicate date"),
        "{e}"
    );

    let p = csv(
        &dir,
        "expiry.csv",
        "tick.prefix,Last.Trade,Year,Month.Letter\nCL,2020-04-21,2020,K\nCL,21/05/2020,2020,M\n",
    );
    let e = rtl::expiry_table(&p, "CL", "CL").unwrap_err().to_string();
    assert!(
        e.contains("expiry.csv:3") && e.contains("Last.Trade") && e.contains("YYYY-MM-DD"),
        "{e}"
    );
}

/// A Parquet file whose footer polars' reader panics on (a sorting column's boolean field of
/// another type; found by fuzzing) is "not a readable Parquet file", through the path function
/// `import_data` calls, instead of a panic: the structural check refuses it before polars reads.
#[test]
fn corrupt_parquet_footer_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bars.parquet");
    std::fs::write(
        &p,
        include_bytes!("../../fuzz/corpus/parquet/corrupt_footer_sorting_column"),
    )
    .unwrap();
    let e = settle_data::import::parquet::read(&p, &CsvOptions::new("6E", BarSize::Minutes(1)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "bars.parquet: not a readable Parquet file: its footer is corrupt: field 4 at byte 0 \
             is a list of thrift type 6 where Parquet has a list of structs"
        ),
        "{e}"
    );
}

/// Parquet files that declare more than their bytes hold (found by fuzzing): polars would
/// allocate what they declare and abort the process, so settle checks the declarations first
/// and answers "not a readable Parquet file", naming what is wrong.
#[test]
fn parquet_declaring_more_than_it_holds_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let read = |bytes: &[u8]| {
        let p = dir.path().join("bars.parquet");
        std::fs::write(&p, bytes).unwrap();
        let mut opt = CsvOptions::new("6E", BarSize::Minutes(1));
        opt.time_col = "timestamp_utc".into();
        settle_data::import::parquet::read(&p, &opt)
            .unwrap_err()
            .to_string()
    };
    let footer = read(include_bytes!(
        "../../fuzz/corpus/parquet/footer_list_claims_119gb"
    ));
    assert!(
        footer.contains("bars.parquet: not a readable Parquet file: its footer is corrupt: "),
        "{footer}"
    );
    // A footer field of another type than Parquet's: polars' decoder goes by the field id
    // alone, reads a list header out of an integer's bytes and asked for 25 GB.
    let retyped = read(include_bytes!(
        "../../fuzz/corpus/parquet/footer_field_of_another_type_25gb"
    ));
    assert!(
        retyped.contains("its footer is corrupt: field 4 at byte 0 is of thrift type 4 where Parquet has a list of structs"),
        "{retyped}"
    );
    let page = read(include_bytes!(
        "../../fuzz/corpus/parquet/page_negative_num_values"
    ));
    assert!(
        page.contains("bars.parquet: not a readable Parquet file: row group 0, column chunk"),
        "{page}"
    );
    assert!(page.contains("values in a chunk of"), "{page}");
}
