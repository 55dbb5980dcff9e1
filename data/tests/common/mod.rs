//! Locating the real data in `shared/data` beside the checkout.

use std::path::PathBuf;

/// `$SETTLE_SHARED_DATA`, or `../shared/data` next to the workspace root.
pub fn shared(rel: &str) -> PathBuf {
    let base = std::env::var_os("SETTLE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let p = base.join(rel);
    assert!(
        p.exists(),
        "real data file missing: {} (set SETTLE_SHARED_DATA)",
        p.display()
    );
    p
}

/// Runs `tests/peers/SCRIPT` with the venv python (`$SETTLE_VENV`, made by
/// `scripts/python-env.sh`), `spec` as JSON on its stdin, and fails (never skips) when the
/// venv is missing or the script fails. Python's warnings are silenced.
#[allow(dead_code)] // each test binary compiles this module; not all of them run peers
pub fn run_peer(script: &str, spec: &serde_json::Value) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let venv = std::env::var_os("SETTLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is not set"))
                .join(".cache/settle/venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "the peer venv is missing at {}: run `bash scripts/python-env.sh`",
        venv.display()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(script);
    let mut child = Command::new(python)
        .args(["-W", "ignore"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("cannot run the venv python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "{script} failed");
}
