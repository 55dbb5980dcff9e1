//! `settle bench`: every step runs and reports the work it did (bars, and bars × combinations
//! for the sweep); bad flags are refused. Timings are not asserted: speed lives in the
//! benches and docs/BENCHMARKS.md.

use std::process::Command;

use serde_json::Value;

fn settle_bench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("bench")
        .args(args)
        .output()
        .expect("run settle")
}

#[test]
fn each_step_reports_its_bar_evaluations() {
    let out = settle_bench(&["--bars", "5000", "--runs", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: Value = serde_json::from_slice(&out.stdout).expect("JSON figures");
    let figures = figures.as_array().expect("a list");
    let steps: Vec<(&str, u64)> = figures
        .iter()
        .map(|f| {
            (
                f["step"].as_str().unwrap(),
                f["barEvaluations"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("indicator SMA(20)", 5000),
            ("indicator EMA(20)", 5000),
            ("indicator RSI(14)", 5000),
            ("backtest sma_cross 20/100, whole (1 thread)", 5000),
            ("backtest sma_cross 20/100, engine only (1 thread)", 5000),
            ("sweep sma_cross, 100 combinations (all cores)", 500_000),
        ]
    );
    for f in figures {
        let (ms, rate) = (
            f["medianMs"].as_f64().unwrap(),
            f["perSecond"].as_f64().unwrap(),
        );
        assert!(ms > 0.0 && rate > 0.0, "{f}");
        // perSecond is barEvaluations over the median, in seconds.
        let want = f["barEvaluations"].as_f64().unwrap() / (ms / 1e3);
        assert!((rate - want).abs() <= want * 1e-12, "{f}");
    }
}

/// `--only` keeps the steps whose name holds the text.
#[test]
fn only_times_the_named_steps() {
    let out = settle_bench(&[
        "--bars", "5000", "--runs", "1", "--json", "--only", "backtest",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: Value = serde_json::from_slice(&out.stdout).expect("JSON figures");
    let steps: Vec<&str> = figures
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| f["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "backtest sma_cross 20/100, whole (1 thread)",
            "backtest sma_cross 20/100, engine only (1 thread)"
        ]
    );
}

#[test]
fn too_few_bars_or_runs_are_refused() {
    for args in [["--bars", "10"], ["--runs", "0"]] {
        let out = settle_bench(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--bars must be at least 1000"), "{err}");
    }
}
