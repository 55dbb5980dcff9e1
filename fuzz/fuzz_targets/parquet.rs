#![no_main]

/// polars' Parquet reader panics on some corrupt files; settle's importer catches those panics
/// and answers "not a readable Parquet file". libFuzzer's panic hook aborts on every panic,
/// caught or not, so this hook lets the ones raised inside polars unwind to settle's catch. A
/// panic anywhere else, or one that escapes settle, still aborts (libfuzzer-sys aborts on any
/// panic that reaches it).
fn let_polars_panics_unwind() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_polars = info
            .location()
            .is_some_and(|l| l.file().contains("/polars-"));
        if !in_polars {
            abort(info);
        }
    }));
}

libfuzzer_sys::fuzz_target!(init: let_polars_panics_unwind(), |data: &[u8]| settle_fuzz::parquet(data));
