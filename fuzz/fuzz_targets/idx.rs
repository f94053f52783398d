//! Fuzzes the idx reader through `load_dataset` on a file named `t10k-images-idx3-ubyte`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_as("t10k-images-idx3-ubyte", data);
});
