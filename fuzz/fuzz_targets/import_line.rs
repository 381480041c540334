#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diplograph::fuzzing::import_line(data);
});
