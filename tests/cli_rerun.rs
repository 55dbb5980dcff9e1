//! `settle backtest --json`, `settle sweep --json` and `settle rerun`: a backtest's or a sweep's
//! manifest reproduces it byte for byte, a change to the data under it is named with the first
//! result field it moved, and the printed JSON can be piped into a reader that stops early.

mod common;

use std::path::Path;

use common::{cl_home, data_list, failed, ok, settle, stdout, CL_ALL};

/// `settle backtest --json` of SMA(10/30) on CL daily, all of it, written to `home/bt.json`.
fn backtest_file(home: &Path) -> std::path::PathBuf {
    let json = stdout(
        settle(home)
            .args(["backtest", "--template", "sma_cross", "--symbol", "CL"])
            .args(["--window", "all", "--json"])
            .output()
            .unwrap(),
    );
    let path = home.join("bt.json");
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn a_backtest_reruns_identical_and_its_manifest_names_its_inputs() {
    let home = cl_home();
    let file = backtest_file(home.path());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let m = &doc["manifest"];
    // The catalog's fingerprint of the series, as `settle data list --json` shows it.
    let list: serde_json::Value = serde_json::from_str(&data_list(home.path())).unwrap();
    assert_eq!(m["series"]["fingerprint"], list[0]["fingerprint"]);
    assert_eq!(m["series"]["key"], "CL/continuous/1d");
    assert_eq!(m["window"]["bars"], 2674);
    // The Sharpe rests on one daily return per session date: the CSV's 2,674 rows.
    assert_eq!(doc["metrics"]["returnDays"], 2674);
    assert_eq!(doc["dailyEquity"].as_array().unwrap().len(), 2674);
    assert_eq!(m["commissionPerSide"], 2.5);
    assert_eq!(m["slippageTicks"], 1);
    assert_eq!(m["strategy"]["parameters"][0]["value"], 10.0);
    reruns_identical(home.path(), &file);
}

/// The result in `file` records as its hash the SHA-256 of its JSON without the manifest, and
/// `settle rerun` on it says "identical" with that hash.
fn reruns_identical(home: &Path, file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let body = &text[..text.find(",\"manifest\":").unwrap()];
    let want = settle_hash(&format!("{body}}}"));
    assert_eq!(doc["manifest"]["resultHash"], want.as_str());
    let out = stdout(settle(home).arg("rerun").arg(file).output().unwrap());
    assert_eq!(out.trim(), format!("identical (result hash {want})"));
}

/// Imports CL daily again with its last close one tick lower (still inside its bar).
fn change_last_close(home: &Path) {
    let csv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/converted/rtl/cushing_c1_CL_front_ohlc_daily.csv");
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines.last_mut().unwrap();
    let mut f: Vec<String> = last.split(',').map(str::to_string).collect();
    let close: f64 = f[4].parse().unwrap();
    let low: f64 = f[3].parse().unwrap();
    // Down a tick keeps the bar valid whatever its high, unless the close is the low.
    assert!(
        close - 0.01 >= low - 1e-9,
        "pick a bar whose close is above its low"
    );
    f[4] = format!("{:.2}", close - 0.01);
    *last = f.join(",");
    let changed = home.join("cl_changed.csv");
    std::fs::write(&changed, lines.join("\n") + "\n").unwrap();
    ok(settle(home)
        .args(["data", "import"])
        .arg(&changed)
        .args(["--symbol", "CL", "--bar", "1d", "--time-col", "date"])
        .args(["--volume-col", ""])
        .output()
        .unwrap());
}

/// `settle rerun --json FILE`, which must fail: what it found.
fn rerun_differs(home: &Path, file: &Path) -> serde_json::Value {
    let out = settle(home)
        .args(["rerun", "--json"])
        .arg(file)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(failed(out).contains("does not reproduce"));
    assert_eq!(report["identical"], false);
    let inputs: Vec<&str> = report["changedInputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["input"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["series.fingerprint"]);
    report
}

#[test]
fn changed_data_is_named_with_the_first_field_it_moves() {
    let home = cl_home();
    let file = backtest_file(home.path());
    change_last_close(home.path());
    let report = rerun_differs(home.path(), &file);
    // SMA(10/30) is always in the market, so the last close moves the final open trade's
    // mark: the first field of the result that differs is in the metrics, before the trades.
    let first = report["firstDifference"]["input"].as_str().unwrap();
    assert!(first.starts_with("/metrics/"), "{first}");
}

/// A sweep's JSON, guards and manifest included, reruns identical; after the data under it
/// changed, the rerun names the series and the first summary field that moved.
#[test]
fn a_sweep_reruns_identical_and_names_changed_data() {
    let home = cl_home();
    let json = stdout(
        settle(home.path())
            .arg("sweep")
            .args(CL_ALL)
            .args(["--param", "fast=5:15:5", "--param", "slow=20:40:10"])
            .args(["--top", "3", "--json"])
            .output()
            .unwrap(),
    );
    let file = home.path().join("sweep.json");
    std::fs::write(&file, &json).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let m = &doc["manifest"];
    assert_eq!(m["kind"], "sweep");
    assert_eq!(m["sweep"]["grid"][0], "fast=5:15:5");
    assert_eq!(m["sweep"]["top"], 3);
    assert_eq!(doc["top"].as_array().unwrap().len(), 3);
    reruns_identical(home.path(), &file);

    change_last_close(home.path());
    let report = rerun_differs(home.path(), &file);
    // Every combination is in the market on the last bar, so the best's metrics move first.
    let first = report["firstDifference"]["input"].as_str().unwrap();
    assert!(first.starts_with("/bestResult/"), "{first}");
}

/// 16 hex digits of SHA-256, computed by the system's `sha256sum` (an independent hasher).
fn settle_hash(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..16].to_string()
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::io::Read;
    let home = cl_home();
    let mut child = settle(home.path())
        .args(["backtest", "--template", "sma_cross", "--symbol", "CL"])
        .args(["--window", "all", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the first bytes, as `| head -c 100` would, then close the pipe: the rest of the
    // 400 KB document has nowhere to go.
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(first.starts_with(b"{\"symbol\":\"CL\""));
}
