#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| settle_fuzz::window(data));
