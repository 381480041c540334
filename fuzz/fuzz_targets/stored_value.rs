#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diplograph::fuzzing::stored_value(data);
});
