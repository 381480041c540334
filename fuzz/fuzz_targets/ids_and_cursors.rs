#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    diplograph::fuzzing::ids_and_cursors(data);
});
