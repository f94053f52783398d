//! Fuzzes the npy reader through `load_dataset` on a file named `data.npy`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_as("data.npy", data);
    common::load_as("data.npz", data);
});
