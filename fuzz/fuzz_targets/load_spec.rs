#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::load_spec(data));
