//! Arbitrary bytes through the ONNX reader; a model that loads is also run and written back.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use lrp_explorer::model::onnx;

fuzz_target!(|data: &[u8]| {
    // A folder that does not exist: external data must fail cleanly, never be read from elsewhere.
    let path = Path::new("/nonexistent/fuzz/model.onnx");
    let Ok(read) = onnx::from_bytes(data, path) else {
        return;
    };
    let model = read.model;
    if model.input_len() <= 4096 && model.parameter_count() <= 1 << 20 {
        let mut shape = vec![1];
        shape.extend_from_slice(model.input_shape());
        let _ = model.logits(&ndarray::ArrayD::zeros(ndarray::IxDyn(&shape)));
    }
    if let Ok(bytes) = onnx::to_bytes(&model, &read.metadata) {
        // Compare encodings, not layers: NaN weights are legal here and NaN != NaN.
        let again = onnx::from_bytes(&bytes, path).and_then(|r| onnx::to_bytes(&r.model, &r.metadata));
        assert!(again.is_ok_and(|again| again == bytes), "a written model does not read back identically");
    }
});
