//! `settle sweep` end to end on real data (RTL's CL front-month daily OHLC, 2013–2023): one
//! run against three shards (by flag, by Kubernetes and Slurm variables) merged, byte for byte
//! in JSON, CSV and Parquet; the best result against `settle backtest` of its parameters;
//! refused merges; bad input; Ctrl-C keeping partial results; the overfitting guards (DSR and
//! PBO against the independent Python reference, holdout, walk-forward); `settle backtest
//! --chart` writing its picture.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{cl_home, failed, ok, settle};
use serde_json::Value;

/// SMA cross on CL over all data: fast 5..=30 step 5 × slow {40, 80, 120}, 18 combinations.
const GRID: &[&str] = &[
    "sweep",
    "--template",
    "sma_cross",
    "--symbol",
    "CL",
    "--window",
    "all",
    "--param",
    "fast=5:30:5",
    "--param",
    "slow=40,80,120",
    "--constraint",
    "tradeCount>=20",
    "--top",
    "4",
];

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn three_shards_merged_equal_one_run_byte_for_byte() {
    let home = cl_home();
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| -> PathBuf { dir.path().join(name) };

    // Without the guards: they need the bars, which a merge does not have.
    let single = ok(settle(home.path())
        .args(GRID)
        .args(["--json", "--no-guards"])
        .arg("--export")
        .arg(d("single.csv"))
        .output()
        .unwrap());
    ok(settle(home.path())
        .args(GRID)
        .arg("--json")
        .arg("--export")
        .arg(d("single.parquet"))
        .output()
        .unwrap());
    let summary = json(&single);
    assert_eq!(summary["totalCombinations"], 18);
    assert_eq!(summary["completed"], 18);
    assert_eq!(summary["cancelled"], false);
    assert_eq!(summary["objective"], "sharpeRatio:max");
    assert_eq!(summary["constraints"][0], "tradeCount>=20");
    assert_eq!(summary["top"].as_array().unwrap().len(), 4);
    // Its manifest: the grid as given, the objective and constraints, no guards, and the
    // strategy and series it swept.
    let m = &summary["manifest"];
    assert_eq!(m["kind"], "sweep");
    assert_eq!(
        m["sweep"],
        serde_json::json!({"grid": ["fast=5:30:5", "slow=40,80,120"], "objective": "sharpeRatio:max",
            "constraints": ["tradeCount>=20"], "guards": null, "top": 4})
    );
    assert_eq!(m["series"]["key"], "CL/continuous/1d");
    assert_eq!(m["strategy"]["name"], "sma_cross");
    assert_eq!(m["window"]["asked"], "all");
    assert_eq!(m["resultHash"].as_str().unwrap().len(), 16);

    // Shard 0 by flag, shard 1 as a Kubernetes Indexed Job pod, shard 2 as a Slurm task
    // rerun alone (sbatch --array=2). The shard directory does not exist yet: the first
    // shard to finish makes it, as on a fresh shared volume.
    let shard_dir = d("shards");
    let run_shard = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = settle(home.path());
        c.args(GRID).args(extra).arg("--shard-dir").arg(&shard_dir);
        for (k, v) in env {
            c.env(k, v);
        }
        ok(c.output().unwrap())
    };
    run_shard(&["--shard", "0/3"], &[]);
    run_shard(&["--shards", "3"], &[("JOB_COMPLETION_INDEX", "1")]);
    let out = run_shard(
        &["--shards", "3"],
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "2"),
            ("SLURM_ARRAY_TASK_MAX", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("shard 2/3: 6 of 6 combinations"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let shard = |i: usize| shard_dir.join(format!("sweep-shard-{i}-of-3.json"));
    for out_name in ["merged.csv", "merged.parquet"] {
        let merged = ok(settle(home.path())
            .args(["sweep", "merge"])
            .args([shard(2), shard(0), shard(1)])
            .args(["--top", "4", "--json", "--out"])
            .arg(d(out_name))
            .output()
            .unwrap());
        assert_eq!(merged.stdout, single.stdout, "JSON summary");
    }
    let bytes = |name: &str| std::fs::read(d(name)).unwrap();
    assert_eq!(bytes("merged.csv"), bytes("single.csv"));
    assert_eq!(bytes("merged.parquet"), bytes("single.parquet"));
    let csv = String::from_utf8(bytes("single.csv")).unwrap();
    assert_eq!(csv.lines().count(), 19, "header and 18 rows");

    // A missing shard is named; shards of another sweep (other window) are refused.
    let err = failed(
        settle(home.path())
            .args(["sweep", "merge"])
            .args([shard(0), shard(2)])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("missing 1 of 3 shards: 1; run them and merge again"),
        "{err}"
    );
    let other_dir = d("other");
    std::fs::create_dir(&other_dir).unwrap();
    let mut other_window: Vec<&str> = GRID.to_vec();
    other_window[6] = "since 2020";
    ok(settle(home.path())
        .args(&other_window)
        .args(["--shard", "1/3", "--shard-dir"])
        .arg(&other_dir)
        .output()
        .unwrap());
    let err = failed(
        settle(home.path())
            .args(["sweep", "merge"])
            .args([
                shard(0),
                other_dir.join("sweep-shard-1-of-3.json"),
                shard(2),
            ])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains(
            "shard 1/3 does not belong with shard 0/3: its job (strategy or data) differs"
        ),
        "{err}"
    );
}

#[test]
fn the_best_result_is_what_settle_backtest_gives_for_its_parameters() {
    let home = cl_home();
    let s = json(&ok(settle(home.path())
        .args(GRID)
        .arg("--json")
        .output()
        .unwrap()));
    let top = s["top"].as_array().unwrap();
    assert_eq!(top[0], s["bestResult"]);
    // Best first, and every listed result meets the constraint.
    for pair in top.windows(2) {
        assert!(pair[0]["objective"].as_f64() >= pair[1]["objective"].as_f64());
    }
    for r in top {
        assert!(r["metrics"]["tradeCount"].as_u64().unwrap() >= 20);
    }
    let params = s["bestResult"]["params"].as_array().unwrap();
    let mut bt = settle(home.path());
    bt.args(["backtest", "--template", "sma_cross", "--symbol", "CL"])
        .args(["--window", "all", "--json"]);
    for p in params {
        bt.arg("--param")
            .arg(format!("{}={}", p[0].as_str().unwrap(), p[1]));
    }
    let single = json(&ok(bt.output().unwrap()));
    assert_eq!(single["metrics"], s["bestResult"]["metrics"]);
    assert_eq!(
        single["metrics"]["sharpeRatio"],
        s["bestResult"]["objective"]
    );
}

#[test]
fn bad_input_is_refused_with_the_field_named() {
    let home = cl_home();
    let run = |args: &[&str]| {
        failed(
            settle(home.path())
                .args(["sweep", "--template", "sma_cross", "--symbol", "CL"])
                .args(args)
                .output()
                .unwrap(),
        )
    };
    let cases: &[(&[&str], &str)] = &[
        (
            &["--param", "fst=5:30:5"],
            "--param fst: the strategy `sma_cross` has no parameter `fst`; its parameters: fast, slow",
        ),
        (&["--param", "fast=5:30"], "fast: `5:30` is neither MIN:MAX:STEP nor a comma-separated list"),
        (&["--param", "fast=5,x"], "fast: `x` is not a number"),
        (&["--param", "fast=30:5:5"], "parameter `fast`: min 30 is above max 5"),
        (
            &["--param", "fast=1:1000:1", "--param", "slow=1:2000:1", "--cap", "100000"],
            "the grid has 2000000 combinations, over the cap of 100000",
        ),
        (&["--param", "fast=5", "--objective", "sharpe:max"], "unknown metric `sharpe`"),
        (&["--param", "fast=5", "--objective", "sharpeRatio:up"], "direction `up` is neither `max` nor `min`"),
        (&["--param", "fast=5", "--constraint", "tradeCount>=many"], "constraint `tradeCount>=many`: `many` is not a number"),
        (&["--param", "fast=5", "--shard", "3/3"], "index 3 is not below the count 3"),
        (&["--param", "fast=5", "--shards", "3"], "neither JOB_COMPLETION_INDEX"),
        (&["--param", "fast=5", "--export", "t.xlsx"], "the file name must end in .csv or .parquet"),
        (&["--param", "fast=5", "--holdout", "120%"], "--holdout <P%>': `120%`: the held-out share must be above 0 and below 100%"),
        (&["--param", "fast=5", "--walk-forward", "train=500"], "both train=N and test=N are required"),
        (&["--param", "fast=5", "--walk-forward", "train=5000,test=10", "--window", "all"], "--walk-forward: `inSample`: 5000 dates leave none out of sample; the data has 2674"),
        (&["--param", "fast=5", "--pbo-blocks", "5", "--window", "all"], "--pbo-blocks <PBO_BLOCKS>': `5`: expected an even number from 2 to 16"),
    ];
    for (args, want) in cases {
        let err = run(args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let err = failed(
        settle(home.path())
            .args(["sweep", "merge", "/nonexistent/shard.json"])
            .output()
            .unwrap(),
    );
    assert!(err.contains("reading /nonexistent/shard.json"), "{err}");
}

#[test]
fn ctrl_c_stops_between_combinations_and_keeps_finished_results() {
    let home = cl_home();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("partial.csv");
    // 100 × 100 = 10,000 backtests: several times longer than the 1.5 s we wait, even in a
    // release build on a fast machine (the sweep must still be running when Ctrl-C lands).
    let child = settle(home.path())
        .args([
            "sweep",
            "--template",
            "sma_cross",
            "--symbol",
            "CL",
            "--window",
            "all",
        ])
        .args([
            "--param",
            "fast=2:101:1",
            "--param",
            "slow=110:209:1",
            "--no-guards",
            "--json",
            "--export",
        ])
        .arg(&export)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = ok(child.wait_with_output().unwrap());
    let s = json(&out);
    let done = s["completed"].as_u64().unwrap();
    assert_eq!(s["totalCombinations"], 10_000);
    assert_eq!(s["cancelled"], true);
    assert!(done > 0 && done < 10_000, "completed {done}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled"));
    let rows = std::fs::read_to_string(&export).unwrap().lines().count() - 1;
    assert_eq!(
        rows as u64, done,
        "the export holds every finished combination"
    );
}

/// The venv python with numpy and pandas (scripts/python-env.sh). Fails, never skips.
fn python() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(repo.join("scripts/python-env.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the peer venv is missing: run `bash scripts/python-env.sh` ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `a` equals `b` to 1e-9, relative to `b` when `|b| > 1`.
fn near(what: &str, a: &Value, b: &Value) {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: settle {a} vs reference {b}"
    );
}

/// `--holdout 20%` on real CL: the DSR and PBO of the in-sample sweep against the independent
/// Python reference fed with `settle backtest` runs of every combination on the in-sample
/// window, and the holdout against a plain backtest of the chosen parameters on the held-out
/// dates.
#[test]
fn holdout_dsr_and_pbo_match_the_python_reference_on_real_cl() {
    let home = cl_home();
    let grid = &GRID[..GRID.len() - 4]; // no constraint, no --top: the reference's best is the argmax
    let s = json(&ok(settle(home.path())
        .args(grid)
        .args(["--holdout", "20%", "--pbo-blocks", "8", "--json"])
        .output()
        .unwrap()));
    let g = &s["overfitting"];
    let (is_window, oos_window) = (
        g["holdout"]["inSample"].as_str().unwrap(),
        g["holdout"]["outOfSample"].as_str().unwrap(),
    );
    // CL has 2,674 trading dates here: round(2674 × 0.8) = 2,139 in sample.
    assert_eq!(g["window"], is_window);
    assert_eq!(
        (is_window, oos_window),
        ("2013-01-02..2021-07-02", "2021-07-06..2023-08-18")
    );
    let backtest = |window: &str, fast: f64, slow: f64| {
        json(&ok(settle(home.path())
            .args(["backtest", "--template", "sma_cross", "--symbol", "CL"])
            .args(["--window", window, "--json"])
            .args([
                "--param",
                &format!("fast={fast}"),
                "--param",
                &format!("slow={slow}"),
            ])
            .output()
            .unwrap()))
    };
    let mut columns = Vec::new();
    for fast in [5.0, 10.0, 15.0, 20.0, 25.0, 30.0] {
        for slow in [40.0, 80.0, 120.0] {
            let r = backtest(is_window, fast, slow);
            let mut prev = 100_000.0;
            let returns: Vec<f64> = r["dailyEquity"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let e = d["equity"].as_f64().unwrap();
                    let x = (e - prev) / 100_000.0;
                    prev = e;
                    x
                })
                .collect();
            columns.push(returns);
        }
    }
    assert_eq!(columns[0].len(), 2139);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("matrix.json");
    std::fs::write(
        &input,
        serde_json::json!({"columns": columns, "blocks": [8]}).to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/overfit_reference.py");
    let py = ok(Command::new(python())
        .arg(script)
        .arg(&input)
        .output()
        .unwrap());
    let py: Value = serde_json::from_slice(&py.stdout).unwrap();

    let (d, r) = (&g["deflatedSharpe"], &py["dsr"]);
    assert_eq!(s["bestResult"]["index"], r["best"]);
    assert_eq!(d["trials"], 18);
    assert_eq!(d["best"]["observations"], r["observations"]);
    for (ours, theirs) in [
        (&d["best"]["sharpe"], "sharpe"),
        (&d["best"]["skewness"], "skewness"),
        (&d["best"]["kurtosis"], "kurtosis"),
        (&d["trialSharpeVariance"], "variance"),
        (&d["expectedMaxSharpe"], "sr0"),
        (&d["probabilisticSharpe"], "psr"),
        (&d["deflatedSharpe"], "dsr"),
    ] {
        near(theirs, ours, &r[theirs]);
    }
    let p = &g["pbo"];
    assert_eq!(p["pbo"], py["pbo"]["8"]["pbo"]);
    assert_eq!(
        (&p["periods"], &p["strategies"]),
        (&Value::from(2139), &Value::from(18))
    );
    assert_eq!(
        (&p["blocks"], &p["splits"]),
        (&Value::from(8), &Value::from(70))
    );

    // The holdout is the in-sample best run once on the held-out dates.
    let chosen = &g["holdout"]["chosen"];
    assert_eq!(chosen, &s["bestResult"]);
    let params = chosen["params"].as_array().unwrap();
    let oos = backtest(
        oos_window,
        params[0][1].as_f64().unwrap(),
        params[1][1].as_f64().unwrap(),
    );
    assert_eq!(g["holdout"]["outOfSampleMetrics"], oos["metrics"]);
    assert_eq!(g["unavailable"], serde_json::json!([]));
}

/// `--walk-forward` on real CL: folds of 750 trading dates in sample and 250 out, each fold's
/// out-of-sample run equal to a plain backtest of its chosen parameters on its dates, and the
/// stitched P&L and trade count the sum of the folds'.
#[test]
fn walk_forward_folds_are_plain_backtests_laid_end_to_end() {
    let home = cl_home();
    let s = json(&ok(settle(home.path())
        .args(GRID)
        .args(["--walk-forward", "train=750,test=250", "--json"])
        .output()
        .unwrap()));
    let w = &s["overfitting"]["walkForward"];
    // 2,674 dates: folds start every 250 dates while 750 in-sample dates leave one to test.
    assert_eq!(w["plannedFolds"], 8);
    let folds = w["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 8);
    assert_eq!(folds[0]["inSample"], "2013-01-02..2015-12-22");
    assert_eq!(folds[0]["outOfSample"], "2015-12-23..2016-12-21");
    let (mut pnl, mut trades) = (0.0, 0);
    for f in folds {
        let p = f["params"].as_array().unwrap();
        let oos = json(&ok(settle(home.path())
            .args([
                "backtest",
                "--template",
                "sma_cross",
                "--symbol",
                "CL",
                "--json",
            ])
            .args(["--window", f["outOfSample"].as_str().unwrap()])
            .args(["--param", &format!("fast={}", p[0][1])])
            .args(["--param", &format!("slow={}", p[1][1])])
            .output()
            .unwrap()));
        assert_eq!(f["outOfSampleMetrics"], oos["metrics"]);
        pnl += oos["metrics"]["totalPnl"].as_f64().unwrap();
        trades += oos["metrics"]["tradeCount"].as_u64().unwrap();
    }
    let m = &w["stitchedMetrics"];
    assert!((m["totalPnl"].as_f64().unwrap() - pnl).abs() < 1e-6, "{m}");
    assert_eq!(m["tradeCount"], trades);
}

#[test]
fn backtest_draws_its_chart_as_png_or_svg() {
    let home = cl_home();
    let dir = tempfile::tempdir().unwrap();
    let (png, svg) = (dir.path().join("cl.png"), dir.path().join("cl.svg"));
    for path in [&png, &svg] {
        ok(settle(home.path())
            .args([
                "backtest",
                "--template",
                "sma_cross",
                "--symbol",
                "CL",
                "--window",
                "all",
            ])
            .arg("--chart")
            .arg(path)
            .output()
            .unwrap());
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        bytes.len() > 5_000 && bytes.len() < 150_000,
        "{}",
        bytes.len()
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("CL/continuous/1d"));
    let e = failed(
        settle(home.path())
            .args(["backtest", "--template", "sma_cross", "--symbol", "CL"])
            .args(["--chart", "/nonexistent-dir/x.png"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("--chart /nonexistent-dir/x.png"), "{e}");
}
