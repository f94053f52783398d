//! Fuzzes the .npz weight importer through `model::load` on a file named `weights.npz`; a model that loads is also run.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_model_as("weights.npz", data);
});
