//! Sharded sweeps and exports: a real ES SMA-cross grid run whole and as three shards (each
//! written to JSON text and read back) merges to the same result and the same CSV, Parquet
//! and summary bytes; merges of shards that do not belong together are refused; the Parquet
//! table reads back to the CSV's values; shard choice from flags and batch-array variables.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use polars::prelude::*;
use settle_engine::sweep::{self, *};
use settle_engine::{backtest, BacktestConfig, Metrics, Signals, Window};

fn sma(x: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    for t in n - 1..x.len() {
        out[t] = x[t + 1 - n..=t].iter().sum::<f64>() / n as f64;
    }
    out
}

/// Long/short SMA cross on closes; `fast >= slow` is refused, so the grid has failures.
fn sma_cross(bars: &settle_data::Bars, p: &[(String, f64)]) -> Result<Metrics, String> {
    let (fast, slow) = (p[0].1 as usize, p[1].1 as usize);
    if fast >= slow {
        return Err(format!("fast {fast} must be below slow {slow}"));
    }
    let (f, s) = (sma(&bars.close, fast), sma(&bars.close, slow));
    let mut sig = Signals::none(bars.len());
    for t in 1..bars.len() {
        sig.long_entry[t] = f[t] > s[t] && f[t - 1] <= s[t - 1];
        sig.short_entry[t] = f[t] < s[t] && f[t - 1] >= s[t - 1];
    }
    let cfg = BacktestConfig {
        window: Window::All,
        ..Default::default()
    };
    let spec = settle_data::spec("ES").map_err(|e| e.to_string())?;
    backtest(bars, spec, &sig, &cfg)
        .map(|r| r.metrics)
        .map_err(|e| e.to_string())
}

fn es_daily() -> settle_data::Bars {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/raw/pysystemtrade/adjusted_prices_csv/SP500.csv"
    );
    settle_data::import::pysystemtrade::adjusted_prices(path.as_ref(), "ES").unwrap()
}

/// fast 10..=50 step 20 × slow {30, 100, 200}: 9 combinations; 3 and 6 fail (fast ≥ slow).
fn grid() -> Grid {
    Grid::new(&[
        Param::Range {
            key: "fast".into(),
            min: 10.0,
            max: 50.0,
            step: 20.0,
        },
        Param::List {
            key: "slow".into(),
            values: vec![30.0, 100.0, 200.0],
        },
    ])
    .unwrap()
}

fn spec() -> SweepSpec {
    SweepSpec {
        objective: Objective::parse("sharpeRatio:max").unwrap(),
        constraints: vec![Constraint::parse("tradeCount>=30").unwrap()],
    }
}

fn quiet(_: Progress) {}

fn csv_bytes(r: &SweepResult) -> Vec<u8> {
    let mut out = Vec::new();
    r.write_csv(&mut out).unwrap();
    out
}

fn parquet_bytes(r: &SweepResult) -> Vec<u8> {
    let mut out = Vec::new();
    r.write_parquet(&mut out).unwrap();
    out
}

/// Runs shard `i` of `n` and passes its file through JSON text, as the CLI does.
fn shard_via_json(bars: &settle_data::Bars, i: usize, n: usize, job: &str) -> ShardFile {
    let f = run_shard(
        &grid(),
        &spec(),
        Shard::new(i, n).unwrap(),
        job,
        |p| sma_cross(bars, p),
        &AtomicBool::new(false),
        &quiet,
    );
    ShardFile::from_json(&serde_json::to_string(&f).unwrap()).unwrap()
}

#[test]
fn three_shards_merge_to_the_single_run_byte_for_byte() {
    let bars = es_daily();
    let whole = sweep::run(
        &grid(),
        &spec(),
        |p| sma_cross(&bars, p),
        &AtomicBool::new(false),
        &quiet,
    );
    assert_eq!(
        (
            whole.total_combinations,
            whole.completed,
            whole.failed_count
        ),
        (9, 9, 2)
    );
    assert!(whole.best_result.is_some());

    let shards: Vec<ShardFile> = (0..3).map(|i| shard_via_json(&bars, i, 3, "es")).collect();
    // Strided shares: shard 1 holds combinations 1, 4, 7.
    let share: Vec<usize> = shards[1]
        .rows
        .iter()
        .map(|r| r.index)
        .chain(shards[1].failures.iter().map(|f| f.index))
        .collect();
    assert_eq!(share, [1, 4, 7]);

    // Given in any order.
    let merged = merge(&[shards[2].clone(), shards[0].clone(), shards[1].clone()]).unwrap();
    assert_eq!(merged, whole);
    assert_eq!(csv_bytes(&merged), csv_bytes(&whole));
    assert_eq!(parquet_bytes(&merged), parquet_bytes(&whole));
    assert_eq!(
        serde_json::to_string(&merged.summary(5)).unwrap(),
        serde_json::to_string(&whole.summary(5)).unwrap()
    );
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let bars = es_daily();
    let s: Vec<ShardFile> = (0..3).map(|i| shard_via_json(&bars, i, 3, "es")).collect();
    let err = |files: &[ShardFile]| merge(files).unwrap_err().to_string();

    let other_job = shard_via_json(&bars, 1, 3, "es with other data");
    assert_eq!(
        err(&[s[0].clone(), other_job, s[2].clone()]),
        "shard 1/3 does not belong with shard 0/3: its job (strategy or data) differs; \
         merge only shards of one sweep"
    );

    let mut other_grid = s[2].clone();
    other_grid.values[1][2] = "250".into();
    assert!(err(&[s[0].clone(), s[1].clone(), other_grid]).contains("its grid differs"));

    let mut other_objective = s[1].clone();
    other_objective.objective = "totalPnl:max".into();
    assert!(err(&[s[0].clone(), other_objective]).contains("its objective differs"));

    assert_eq!(
        err(&[s[0].clone(), s[2].clone(), s[0].clone()]),
        "shard 0/3 is given twice"
    );
    assert_eq!(
        err(&[s[2].clone()]),
        "missing 2 of 3 shards: 0, 1; run them and merge again"
    );
    assert_eq!(err(&[]), "no shard files to merge");
}

#[test]
fn a_cancelled_shard_keeps_its_rows_but_is_refused_by_merge() {
    let bars = es_daily();
    let cancel = AtomicBool::new(false);
    // Cancel after the first finished combination; on one thread nothing else starts.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let cancelled = pool.install(|| {
        run_shard(
            &grid(),
            &spec(),
            Shard::new(0, 2).unwrap(),
            "es",
            |p| {
                let m = sma_cross(&bars, p);
                cancel.store(true, Ordering::Relaxed);
                m
            },
            &cancel,
            &quiet,
        )
    });
    assert!(!cancelled.complete);
    assert_eq!(cancelled.rows.len() + cancelled.failures.len(), 1);
    let other = shard_via_json(&bars, 1, 2, "es");
    assert_eq!(
        merge(&[cancelled, other]).unwrap_err().to_string(),
        "shard 0/2 was cancelled after 1 of its 5 combinations; run it again"
    );
}

#[test]
fn shard_files_keep_every_float_bit() {
    // Values whose shortest text has 17 digits, a subnormal and a huge magnitude: JSON number
    // parsing may be off by one unit in the last place on such values; exact text is not.
    let awkward = [
        0.1 + 0.2,
        1.0 / 3.0,
        5e-324,
        1.7976931348623157e308,
        -2.5e-8,
    ];
    let g = Grid::new(&[Param::List {
        key: "k".into(),
        values: (0..awkward.len()).map(|i| i as f64).collect(),
    }])
    .unwrap();
    let eval = |p: &[(String, f64)]| {
        let x = awkward[p[0].1 as usize];
        let mut m = serde_json::to_value(sma_metrics_template()).unwrap();
        m["totalPnl"] = serde_json::json!(x);
        m["sharpeRatio"] = serde_json::json!(-x);
        Ok(serde_json::from_value::<Metrics>(m).unwrap())
    };
    let whole = sweep::run(&g, &spec(), eval, &AtomicBool::new(false), &quiet);
    let shard = run_shard(
        &g,
        &spec(),
        Shard::new(0, 1).unwrap(),
        "bits",
        eval,
        &AtomicBool::new(false),
        &quiet,
    );
    let back = ShardFile::from_json(&serde_json::to_string(&shard).unwrap()).unwrap();
    let merged = merge(&[back]).unwrap();
    for (a, b) in merged.rows.iter().zip(&whole.rows) {
        assert_eq!(a.metrics.total_pnl.to_bits(), b.metrics.total_pnl.to_bits());
    }
    assert_eq!(merged, whole);
}

/// A metrics value with every count set, to vary the float fields of.
fn sma_metrics_template() -> Metrics {
    sma_cross(&es_daily(), &[("fast".into(), 10.0), ("slow".into(), 30.0)]).unwrap()
}

#[test]
fn parquet_reads_back_to_the_csv_values() {
    let bars = es_daily();
    let r = sweep::run(
        &grid(),
        &spec(),
        |p| sma_cross(&bars, p),
        &AtomicBool::new(false),
        &quiet,
    );
    let df = ParquetReader::new(std::io::Cursor::new(parquet_bytes(&r)))
        .finish()
        .unwrap();
    let csv_out = csv_bytes(&r);
    let mut rd = csv::Reader::from_reader(csv_out.as_slice());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, header);
    let records: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(df.height(), records.len());
    assert_eq!(df.height(), 9);

    for (j, name) in header.iter().enumerate() {
        let col = df.column(name).unwrap();
        for (i, rec) in records.iter().enumerate() {
            let cell = &rec[j];
            let got = col.get(i).unwrap();
            match (name.as_str(), got) {
                (_, AnyValue::Null) => assert_eq!(cell, "", "{name} row {i}"),
                ("status" | "reason", AnyValue::String(s)) => assert_eq!(cell, s),
                ("index", AnyValue::UInt64(x)) => assert_eq!(cell, x.to_string()),
                (_, AnyValue::Float64(x)) => {
                    assert_eq!(cell.parse::<f64>().unwrap().to_bits(), x.to_bits())
                }
                (_, other) => panic!("{name} row {i}: unexpected {other:?}"),
            }
        }
    }
    // The failed row: null metrics, its reason.
    let reason = df.column("reason").unwrap().get(6).unwrap();
    assert_eq!(reason, AnyValue::String("fast 50 must be below slow 30"));
}

#[test]
fn export_picks_the_format_by_extension() {
    let r = sweep::run(
        &grid(),
        &spec(),
        |p| sma_cross(&es_daily(), p),
        &AtomicBool::new(false),
        &quiet,
    );
    let dir = tempfile::tempdir().unwrap();
    let (csv_path, pq_path) = (dir.path().join("t.csv"), dir.path().join("t.PARQUET"));
    r.export(&csv_path).unwrap();
    r.export(&pq_path).unwrap();
    assert_eq!(std::fs::read(&csv_path).unwrap(), csv_bytes(&r));
    assert_eq!(std::fs::read(&pq_path).unwrap(), parquet_bytes(&r));
    let bad = dir.path().join("t.xlsx");
    let e = r.export(&bad).unwrap_err().to_string();
    assert!(
        e.ends_with("t.xlsx: unknown table format; the file name must end in .csv or .parquet"),
        "{e}"
    );
}

#[test]
fn shards_come_from_flags_or_batch_array_variables() {
    assert_eq!(Shard::parse("2/5").unwrap(), Shard { index: 2, count: 5 });
    assert_eq!(Shard::new(2, 5).unwrap().indices(12), [2, 7]);
    for (text, msg) in [
        (
            "5/5",
            "index 5 is not below the count 5 (indices are 0-based: 0..4)",
        ),
        ("0/0", "the shard count must be at least 1"),
        ("a/3", "index `a` is not a whole number"),
        ("3", "expected INDEX/COUNT, e.g. 0/4 (indices are 0-based)"),
    ] {
        let e = Shard::parse(text).unwrap_err().to_string();
        assert_eq!(e, format!("shard `{text}`: {msg}"));
    }

    let env = |pairs: &[(&str, &str)]| {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    };
    let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
    assert_eq!(
        Shard::from_env(4, k8s).unwrap(),
        Shard { index: 3, count: 4 }
    );
    // A whole array, --array=0-3: the task id is the shard.
    let slurm = env(&[
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ]);
    assert_eq!(
        Shard::from_env(4, slurm).unwrap(),
        Shard { index: 2, count: 4 }
    );
    // One task rerun alone, sbatch --array=2: still shard 2 of 4, though the array has one
    // task and starts at 2.
    let rerun = env(&[
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_MIN", "2"),
        ("SLURM_ARRAY_TASK_MAX", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
    ]);
    assert_eq!(
        Shard::from_env(4, rerun).unwrap(),
        Shard { index: 2, count: 4 }
    );
    // An array numbered from 1 (--array=1-4) is refused in every task, its first included,
    // rather than leaving shard 0 unrun and failing the last task.
    for id in ["1", "4"] {
        let one_based = env(&[
            ("SLURM_ARRAY_TASK_ID", id),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_env(4, one_based).unwrap_err().to_string(),
            "shard `SLURM_ARRAY_TASK_MAX=4`: array task ids are the shard indices, 0-based: \
             submit --array=0-3 for --shards 4 (or some of those ids, to rerun them)"
        );
    }
    let zero = env(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MAX", "0")]);
    assert!(Shard::from_env(0, zero)
        .unwrap_err()
        .to_string()
        .contains("the shard count must be at least 1"));
    let none = env(&[]);
    assert!(Shard::from_env(4, none)
        .unwrap_err()
        .to_string()
        .contains("neither JOB_COMPLETION_INDEX"));
    let out_of_range = env(&[("JOB_COMPLETION_INDEX", "4")]);
    assert!(Shard::from_env(4, out_of_range).is_err());
}
