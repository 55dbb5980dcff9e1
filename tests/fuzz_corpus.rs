//! The fuzz corpus smoke pass: every saved input of every fuzz target (seeds and the inputs
//! that once crashed, `fuzz/corpus/<target>/`) goes through the same entry the target calls
//! (`fuzz/src/lib.rs`, included here), and none may panic. Stable Rust, no sanitizer, a few
//! seconds: the cheap half of the fuzzing that CI runs on every change.

#[path = "../fuzz/src/lib.rs"]
mod entries;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// A fuzz target's entry: takes the input, may return or panic.
type Entry = fn(&[u8]);

/// Each fuzz target's name (its corpus directory) and its entry.
const TARGETS: [(&str, Entry); 9] = [
    ("csv", entries::csv),
    ("dbn", entries::dbn),
    ("parquet", entries::parquet),
    ("lean_zip", entries::lean_zip),
    ("rules", entries::rules),
    ("window", entries::window),
    ("grid", entries::grid),
    ("mcp_args", entries::mcp_args),
    ("qc_answer", entries::qc_answer),
];

#[test]
fn every_saved_input_is_answered_without_a_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut panicked = Vec::new();
    for (target, entry) in TARGETS {
        let dir = corpus.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no saved inputs", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
                panicked.push(file.display().to_string());
            }
        }
    }
    assert!(panicked.is_empty(), "panicked on: {panicked:#?}");
}
