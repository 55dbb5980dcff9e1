//! What the CLI tests share: the `settle` binary under a given home, its output checked, and
//! a store holding one real series (RTL's CL front month, daily OHLC).

#![allow(dead_code)] // each test file uses its own part of these

use std::path::Path;
use std::process::{Command, Output};

/// The `settle` binary with `--home home`, outside any Kubernetes or Slurm array job.
pub fn settle(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_settle"));
    c.arg("--home").arg(home);
    c.env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_MIN")
        .env_remove("SLURM_ARRAY_TASK_MAX")
        .env_remove("SLURM_ARRAY_TASK_COUNT");
    c
}

/// `out`, which must be a success (else its exit status and both streams are shown).
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The stdout of a successful run.
pub fn stdout(out: Output) -> String {
    String::from_utf8_lossy(&ok(out).stdout).into_owned()
}

/// The stderr of a run that must fail.
pub fn failed(out: Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The SMA cross template on all of CL's daily history.
pub const CL_ALL: &[&str] = &[
    "--template",
    "sma_cross",
    "--symbol",
    "CL",
    "--window",
    "all",
];

/// `settle data list --json` of `home`: the catalog as the CLI prints it.
pub fn data_list(home: &Path) -> String {
    stdout(
        settle(home)
            .args(["data", "list", "--json"])
            .output()
            .unwrap(),
    )
}

/// A store holding one real series: CL daily from the shared data.
pub fn cl_home() -> tempfile::TempDir {
    let csv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/converted/rtl/cushing_c1_CL_front_ohlc_daily.csv");
    assert!(csv.is_file(), "real data missing at {}", csv.display());
    let home = tempfile::tempdir().unwrap();
    ok(settle(home.path())
        .args(["data", "import"])
        .arg(&csv)
        .args(["--symbol", "CL", "--bar", "1d", "--time-col", "date"])
        .args(["--volume-col", ""])
        .output()
        .unwrap());
    home
}
