//! Faults a trader's disk can throw: a full disk during an import, an export, a report or a
//! chart gives a clear error and leaves no half-written file (and the store as it was); a
//! read-only home is refused when the server starts. The small and read-only file systems are
//! real tmpfs mounts, which needs root: elsewhere these tests say why they did not run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{data_list, failed, ok, settle, stdout, CL_ALL};

/// A tmpfs mounted at a fresh directory, unmounted when dropped.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    /// A tmpfs with `options` (e.g. `size=16k`, `ro`), or `None` when this process may not
    /// mount (not root, or no mount capability).
    fn tmpfs(options: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            eprintln!("not run: mounting a tmpfs needs root and the mount capability");
        }
        mounted.then_some(Mount { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The names in the mount, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn rtl(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/converted/rtl")
        .join(name)
}

#[test]
fn a_full_disk_leaves_no_half_written_report_export_or_chart() {
    let Some(full) = Mount::tmpfs("size=16k") else {
        return;
    };
    let home = common::cl_home();
    let strategy = CL_ALL;
    let out = |name: &str| full.path().join(name);
    let report = failed(
        settle(home.path())
            .arg("report")
            .args(strategy)
            .arg("--out")
            .arg(out("cl.html"))
            .output()
            .unwrap(),
    );
    let chart = failed(
        settle(home.path())
            .arg("backtest")
            .args(strategy)
            .arg("--chart")
            .arg(out("cl.png"))
            .output()
            .unwrap(),
    );
    let mut exports = Vec::new();
    for name in ["grid.csv", "grid.parquet"] {
        exports.push(failed(
            settle(home.path())
                .arg("sweep")
                .args(strategy)
                .args([
                    "--param",
                    "fast=2:60:1",
                    "--param",
                    "slow=30:200:5",
                    "--no-guards",
                ])
                .arg("--export")
                .arg(out(name))
                .output()
                .unwrap(),
        ));
    }
    for e in [&report, &chart].into_iter().chain(&exports) {
        assert!(e.contains("No space left on device"), "{e}");
    }
    assert!(report.contains("nothing was written"), "{report}");
    assert!(exports.iter().all(|e| e.contains("nothing was written")));
    assert_eq!(full.names(), Vec::<String>::new());
}

#[test]
fn a_full_disk_during_an_import_leaves_the_store_as_it_was() {
    let Some(home) = Mount::tmpfs("size=400k") else {
        return;
    };
    ok(settle(home.path())
        .args(["data", "import"])
        .arg(rtl("cushing_c1_CL_front_ohlc_daily.csv"))
        .args(["--symbol", "CL", "--bar", "1d", "--time-col", "date"])
        .args(["--volume-col", ""])
        .output()
        .unwrap());
    let list = || data_list(home.path());
    let before = list();
    let catalog = std::fs::read(home.path().join("store/catalog.json")).unwrap();
    // A month of 6E minutes (29,996 bars) is larger than what is left.
    let dbn = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../shared/data/converted/databento/glbx-mdp3-6EH4-20240101-20240131.ohlcv-1m.dbn.zst",
    );
    let e = failed(
        settle(home.path())
            .args(["data", "import"])
            .arg(dbn)
            .output()
            .unwrap(),
    );
    assert!(e.contains("No space left on device"), "{e}");
    assert_eq!(list(), before);
    assert_eq!(
        std::fs::read(home.path().join("store/catalog.json")).unwrap(),
        catalog
    );
    // Nothing half-written is left behind, and the series stored before still backtests.
    let leftovers: Vec<PathBuf> = walk(&home.path().join("store"))
        .into_iter()
        .filter(|p| !p.ends_with("catalog.json") && !p.ends_with("CL/continuous/1d.arrow"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    ok(settle(home.path())
        .args(["backtest", "--template", "sma_cross", "--symbol", "CL"])
        .output()
        .unwrap());
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_read_only_home_is_refused_when_the_server_starts() {
    let Some(home) = Mount::tmpfs("ro") else {
        return;
    };
    let e = failed(settle(home.path()).arg("serve").output().unwrap());
    assert!(
        e.contains(&format!(
            "settle home {} is not writable",
            home.path().display()
        )) && e.contains("Read-only file system")
            && e.contains("--home DIR"),
        "{e}"
    );
}

#[test]
fn an_import_killed_midway_leaves_the_store_as_it_was() {
    let home = common::cl_home();
    let list = || data_list(home.path());
    let before = list();
    let backtest = || {
        stdout(
            settle(home.path())
                .args([
                    "backtest",
                    "--template",
                    "sma_cross",
                    "--symbol",
                    "CL",
                    "--json",
                ])
                .output()
                .unwrap(),
        )
    };
    let result = backtest();
    // The whole sample (forty series, CL's among them) takes several seconds to read: a kill
    // one second in lands while files are being read and written.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let mut child = settle(home.path())
        .args(["data", "import", "--sample"])
        .arg(data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the import finished within a second: nothing was killed"
    );
    assert_eq!(list(), before);
    assert_eq!(backtest(), result);
}
