//! The sample store through the CLI: every template runs (intraday ones on ES, GC and 6E
//! minutes, daily ones on every continuous root) and names the series and contracts it used;
//! `settle data continuous` builds, records and rebuilds a front month; `--contract` trades
//! one contract; `settle demo` runs the main job and its numbers are `settle backtest`'s.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{settle, stdout};
use serde_json::Value;

fn shared_data() -> std::path::PathBuf {
    std::env::var_os("SETTLE_SHARED_DATA")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// `settle data import --sample` of the shared data into `home`.
fn import_sample(home: &Path) {
    stdout(
        settle(home)
            .args(["data", "import", "--sample"])
            .arg(shared_data())
            .output()
            .unwrap(),
    );
}

/// One home with the whole sample imported, shared by the tests of this file (its store is
/// only read; the demo adds its pictures beside it).
fn sample_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        import_sample(home.path());
        home
    })
    .path()
}

fn json(home: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&stdout(settle(home).args(args).output().unwrap())).unwrap()
}

fn backtest(home: &Path, template: &str, symbol: &str, bar: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "backtest",
        "--template",
        template,
        "--symbol",
        symbol,
        "--bar",
        bar,
        "--window",
        "all",
        "--json",
    ];
    args.extend_from_slice(extra);
    json(home, &args)
}

fn templates(home: &Path) -> Vec<(String, bool)> {
    let out = stdout(
        settle(home)
            .args(["strategy", "templates"])
            .output()
            .unwrap(),
    );
    out.lines()
        .map(|l| {
            let name = l.split_whitespace().next().unwrap().to_string();
            let intraday = l.contains("Intraday");
            (name, intraday)
        })
        .collect()
}

#[test]
fn every_template_runs_on_the_sample_and_names_its_series() {
    let home = sample_home();
    let list = json(home, &["data", "list", "--json"]);
    let continuous_daily: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "continuous" && e["bar_size"] == "1d")
        .map(|e| e["symbol"].as_str().unwrap().to_string())
        .collect();
    assert!(continuous_daily.len() >= 20, "{continuous_daily:?}");
    let templates = templates(home);
    assert!(templates.iter().filter(|(_, i)| *i).count() >= 2);
    for (name, intraday) in &templates {
        let runs: Vec<(String, &str)> = if *intraday {
            ["ES", "GC", "6E"]
                .iter()
                .flat_map(|s| [(s.to_string(), "1m"), (s.to_string(), "5m")])
                .collect()
        } else {
            continuous_daily.iter().map(|s| (s.clone(), "1d")).collect()
        };
        for (symbol, bar) in runs {
            let r = backtest(home, name, &symbol, bar, &[]);
            assert_eq!(r["series"], format!("{symbol}/continuous/{bar}"), "{name}");
            assert!(
                !r["contracts"].as_array().unwrap().is_empty(),
                "{name} {symbol} {bar}: no contract named"
            );
            assert!(
                r["metrics"]["tradeCount"].is_number(),
                "{name} {symbol} {bar}"
            );
        }
    }
}

#[test]
fn es_minutes_roll_from_esz13_to_esh14_and_one_contract_trades_alone() {
    let home = sample_home();
    let r = backtest(home, "opening_range_breakout", "ES", "1m", &[]);
    assert_eq!(r["contracts"], serde_json::json!(["ESZ13", "ESH14"]));
    let one = backtest(
        home,
        "opening_range_breakout",
        "ES",
        "1m",
        &["--contract", "esz13"],
    );
    assert_eq!(one["series"], "ES/ESZ13/1m");
    assert_eq!(one["contracts"], serde_json::json!(["ESZ13"]));
    assert_ne!(one["bars"], r["bars"]);
    let cl1 = backtest(home, "sma_cross", "CL", "1d", &["--contract", "CL1"]);
    let notes = cl1["notes"].to_string();
    assert!(notes.contains("not back-adjusted"), "{notes}");
    let cl = backtest(home, "sma_cross", "CL", "1d", &[]);
    assert!(!cl["notes"].to_string().contains("not back-adjusted"));
}

#[test]
fn data_continuous_records_its_recipe_and_rebuilds_the_same_bytes() {
    // A home of its own: this test writes a series.
    let home = tempfile::tempdir().unwrap();
    import_sample(home.path());
    let args = [
        "data",
        "continuous",
        "--symbol",
        "ES",
        "--bar",
        "1d",
        "--roll",
        "expiry:0",
        "--to",
        "2013-12-31",
        "--json",
    ];
    let first = json(home.path(), &args);
    let second = json(home.path(), &args);
    assert_eq!(first, second);
    let e = &first[0];
    assert_eq!(e["key"], "ES/continuous/1d");
    assert_eq!(e["recipe"]["roll"], "expiry:0");
    assert_eq!(e["recipe"]["rolls"][0]["date"], "2013-12-20");
    assert_eq!(e["recipe"]["rolls"][0]["offset"], -6.25);
    let listed = json(home.path(), &["data", "list", "--json"]);
    let same = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "ES/continuous/1d")
        .unwrap();
    assert_eq!(same, e);
    let table = stdout(settle(home.path()).args(["data", "list"]).output().unwrap());
    assert!(
        table.contains("roll expiry:0, difference, 1 roll"),
        "{table}"
    );

    let bad = settle(home.path())
        .args([
            "data",
            "continuous",
            "--symbol",
            "ES",
            "--bar",
            "1d",
            "--roll",
            "weekly",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected expiry:DAYS"));
}

#[test]
fn the_demo_backtests_sweeps_and_draws_on_the_sample() {
    let home = sample_home();
    let out = stdout(
        settle(home)
            .arg("demo")
            .env("SETTLE_SHARED_DATA", shared_data())
            .output()
            .unwrap(),
    );
    let want = backtest(home, "sma_cross", "CL", "1d", &[]);
    let m = &want["metrics"];
    // Dollars as a trader writes them: `$97,355.00`.
    let pnl = format!("{:.2}", m["totalPnl"].as_f64().unwrap().abs());
    let (whole, cents) = pnl.split_once('.').unwrap();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if m["totalPnl"].as_f64().unwrap() < 0.0 {
        "-"
    } else {
        ""
    };
    let line = format!(
        "{} trades, total P&L {sign}${grouped}.{cents}",
        m["tradeCount"]
    );
    assert!(
        out.contains("backtest: sma_cross on CL/continuous/1d"),
        "{out}"
    );
    assert!(out.contains(&line), "{line} not in:\n{out}");
    assert!(
        out.contains("= 18 backtests") && out.contains("best: fast="),
        "{out}"
    );
    for picture in ["cl_sma_cross.png", "cl_sma_cross_sweep.png"] {
        let bytes = std::fs::read(home.join("demo").join(picture)).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG", "{picture}");
    }
    let report = home.join("demo").join("cl_sma_cross_report.html");
    assert!(
        out.contains(&format!("report:   {}", report.display())),
        "{out}"
    );
    let page = std::fs::read_to_string(report).unwrap();
    let best = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("best: "))
        .unwrap();
    assert!(
        page.contains("<h2>Sweep</h2>") && page.contains(best),
        "{best}"
    );
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), 4);
    assert!(out.contains("claude mcp add settle"), "{out}");
}
