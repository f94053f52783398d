//! Fuzzes the mat reader through `load_dataset` on a file named `data.mat`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_as("data.mat", data);
});
