//! Fuzzes the MATLAB weight importer through `model::load` on a file named `weights.mat`; a model that loads is also run.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_model_as("weights.mat", data);
});
