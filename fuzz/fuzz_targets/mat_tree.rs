//! Fuzzes the bounded MATLAB Level 5 tree reader (cells, structs, compressed variables) directly on bytes, then the
//! weight layouts on whatever tree it returns (`nn.layers{l}.W`, DeepLearnToolbox `nn.W{l}`, plain `W1, b1`).
#![no_main]

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.mat");
    if let Ok(arrays) = lrp_explorer::data::mat::tree::parse(path, data) {
        let _ = lrp_explorer::model::weights_mat::load_arrays(path, &arrays, lrp_explorer::model::Activation::Relu);
    }
});
