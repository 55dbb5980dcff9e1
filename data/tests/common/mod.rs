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
