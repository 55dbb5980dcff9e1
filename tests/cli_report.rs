//! `settle report` end to end on real data (RTL's CL front-month daily OHLC), looked at as a
//! person would: the page opened in headless Chromium, offline, shows the pictures; the page's
//! numbers are `settle backtest --json`'s; the inputs name the series' catalog fingerprint.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cl_home, data_list, settle, stdout, CL_ALL};
use serde_json::Value;

/// The page's strategy: [`CL_ALL`] with one override.
const FAST: &[&str] = &["--param", "fast=10"];

/// The page at `html` as headless Chromium draws it, 900 px wide, as RGB pixels.
fn screenshot(html: &Path, dir: &Path) -> (u32, u32, Vec<u8>) {
    let shot = dir.join("shot.png");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=900,3200",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium is installed (Debian's `chromium` package; .ci/run installs it)");
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = png::Decoder::new(std::io::Cursor::new(std::fs::read(&shot).unwrap()))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

#[test]
fn the_report_opens_offline_with_its_pictures_numbers_and_inputs() {
    let home = cl_home();
    let dir = tempfile::tempdir().unwrap();
    let html: PathBuf = dir.path().join("cl.html");
    let said = stdout(
        settle(home.path())
            .arg("report")
            .args(CL_ALL)
            .args(FAST)
            .arg("--out")
            .arg(&html)
            .output()
            .unwrap(),
    );
    assert!(
        said.contains(&format!("report: {}", html.display())),
        "{said}"
    );
    let page = std::fs::read_to_string(&html).unwrap();

    // Nothing to fetch: no scripts, no external links or sources.
    for outside in ["<script", "<link", "src=\"http", "href=\"http", "url("] {
        assert!(!page.contains(outside), "the page reaches out: {outside}");
    }
    // The numbers are the backtest's.
    let bt: Value = serde_json::from_str(&stdout(
        settle(home.path())
            .arg("backtest")
            .args(CL_ALL)
            .args(FAST)
            .arg("--json")
            .output()
            .unwrap(),
    ))
    .unwrap();
    let m = &bt["metrics"];
    let trades = m["tradeCount"].as_u64().unwrap();
    assert!(trades > 10, "{m}");
    for key in ["tradeCount", "totalPnl", "maxDrawdown", "sharpeRatio"] {
        let row = format!("<tr><th>{key}</th><td>{}</td></tr>", m[key]);
        assert!(page.contains(&row), "missing {row}");
    }
    assert!(page.contains(&format!("<h2>Trades ({trades})</h2>")));
    assert_eq!(page.matches("<tr><td>").count() as u64, trades);
    // The inputs: the catalog's fingerprint of the series, the rules with the override.
    let list: Value = serde_json::from_str(&data_list(home.path())).unwrap();
    let fingerprint = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "CL/continuous/1d")
        .map(|e| e["fingerprint"].as_str().unwrap().to_string())
        .unwrap();
    assert!(page.contains(&format!("<code>{fingerprint}</code>")));
    let rules: Value = serde_json::from_str(&pre_block(&page, "strategy")).unwrap();
    let fast = rules["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "fast")
        .unwrap();
    assert_eq!(fast["value"], 10.0);
    assert_eq!(rules["window"], "all");
    assert!(page.contains("CL/continuous/1d"));
    // The manifest block, saved as a file, reruns to the same result.
    let manifest = home.path().join("manifest.json");
    std::fs::write(&manifest, pre_block(&page, "manifest")).unwrap();
    let rerun = stdout(
        settle(home.path())
            .arg("rerun")
            .arg(&manifest)
            .output()
            .unwrap(),
    );
    assert!(rerun.starts_with("identical (result hash "), "{rerun}");

    // Opened as a person would: the three pictures are drawn (the equity curve's blue, the
    // full green and red of the best and worst month, bars of the P&L histogram).
    let (w, h, rgb) = screenshot(&html, dir.path());
    assert_eq!(w, 900);
    let near = |want: (u8, u8, u8)| {
        rgb.chunks(3)
            .filter(|p| {
                p[0].abs_diff(want.0) <= 3
                    && p[1].abs_diff(want.1) <= 3
                    && p[2].abs_diff(want.2) <= 3
            })
            .count()
    };
    assert!(near((31, 119, 180)) > 500, "the equity curve, in {w}x{h}");
    assert!(near((26, 152, 80)) > 1000, "winning bars and months");
    assert!(near((215, 48, 39)) > 1000, "losing bars and months");
}

#[test]
fn a_report_that_cannot_be_written_says_where() {
    let home = cl_home();
    let file = home.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let out = settle(home.path())
        .arg("report")
        .args(CL_ALL)
        .args(FAST)
        .arg("--out")
        .arg(file.join("r.html"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains(&file.display().to_string()), "{e}");
    let out = settle(home.path())
        .args(["report", "--template", "nope", "--symbol", "CL"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown template `nope`"));
}

#[test]
fn the_default_report_lands_in_the_home() {
    let home = cl_home();
    let said = stdout(
        settle(home.path())
            .arg("report")
            .args(CL_ALL)
            .args(FAST)
            .output()
            .unwrap(),
    );
    let path = home.path().join("reports/sma_cross.html");
    assert!(said.contains(&path.display().to_string()), "{said}");
    assert!(std::fs::read_to_string(path)
        .unwrap()
        .starts_with("<!doctype html>"));
}

#[test]
fn a_sweep_reports_its_best_with_the_heatmap_guards_and_walk_forward() {
    let home = cl_home();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("sweep.html");
    let said = stdout(
        settle(home.path())
            .arg("sweep")
            .args(CL_ALL)
            .args(["--param", "fast=5:30:5", "--param", "slow=40:120:40"])
            .args(["--walk-forward", "train=750,test=500"])
            .arg("--report")
            .arg(&html)
            .output()
            .unwrap(),
    );
    assert!(
        said.contains(&format!("report: {}", html.display())),
        "{said}"
    );
    // The top line, `1. fast=25 slow=120 sharpeRatio ...`, as `settle backtest` params.
    let top = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("1. "))
        .unwrap();
    let param = |key: &str| {
        top.split_whitespace()
            .find(|w| w.starts_with(key))
            .unwrap()
            .to_string()
    };
    let (fast, slow) = (param("fast="), param("slow="));
    let bt: Value = serde_json::from_str(&stdout(
        settle(home.path())
            .arg("backtest")
            .args(CL_ALL)
            .args(["--param", &fast, "--param", &slow, "--json"])
            .output()
            .unwrap(),
    ))
    .unwrap();
    let page = std::fs::read_to_string(&html).unwrap();
    let trades = &bt["metrics"]["tradeCount"];
    assert!(
        page.contains(&format!("<tr><th>tradeCount</th><td>{trades}</td></tr>")),
        "the best's backtest, {fast} {slow}"
    );
    assert!(page.contains("<h2>Sweep</h2>") && page.contains("deflated Sharpe ratio"));
    assert!(page.contains("walk-forward: "), "the folds are listed");
    assert!(page.contains("id=\"heatmap\"") && page.contains("id=\"walk-forward\""));
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), 5);
}

/// The text of the page's `<pre id="ID">` block, unescaped.
fn pre_block(page: &str, id: &str) -> String {
    page.split(&format!("<pre id=\"{id}\">"))
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap()
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
