//! Fuzzes the LRP Toolbox text reader through `model::load` on a file named `model.txt`; a model that loads is also run.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::load_model_as("model.txt", data);
});
