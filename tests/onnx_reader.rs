//! The ONNX reader and writer against PyTorch exports, script-made models (`scripts/make_onnx_test_models.py`)
//! and broken files.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use lrp_explorer::error::{LoadError, ModelError};
use lrp_explorer::model::onnx::{self, OnnxModel};
use lrp_explorer::model::{Layer, LayerKind, Model, OutputActivation, Pool2d};
use ndarray::{Array2, ArrayD, Ix2};

const TOLERANCE: f32 = 1e-4;

fn onnx_dir() -> PathBuf {
    fixtures().join("onnx")
}

fn max_abs_diff(a: &Array2<f32>, b: &ArrayD<f32>) -> f32 {
    let b = b.view().into_dimensionality::<Ix2>().unwrap();
    assert_eq!(a.shape(), b.shape());
    (a - &b).iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

fn kinds(model: &Model) -> Vec<LayerKind> {
    model.layers().iter().map(Layer::kind).collect()
}

/// Reads a script-made model and checks its logits on the stored input against the stored expected logits.
fn check_generated(name: &str) -> OnnxModel {
    let dir = onnx_dir();
    let read = onnx::read(&dir.join(format!("{name}.onnx"))).unwrap_or_else(|e| panic!("{name}: {e}"));
    let x = read_f32(dir.join(format!("{name}.input.npy")));
    let expected = read_f32(dir.join(format!("{name}.logits.npy")));
    let logits = read.model.logits(&x).unwrap();
    let err = max_abs_diff(&logits, &expected);
    assert!(err <= TOLERANCE, "{name}: logits differ by {err}");
    assert!(
        expected.iter().any(|v| v.abs() > 0.1),
        "{name}: degenerate expected logits"
    );
    read
}

fn load_error(name: &str) -> LoadError {
    match onnx::load(&onnx_dir().join(name)) {
        Ok(model) => panic!("{name} loaded: {:?}", kinds(&model)),
        Err(e) => e,
    }
}

/// A `Format` error about `name` whose message contains every one of `needles`.
fn assert_format_error(name: &str, needles: &[&str]) {
    let err = load_error(name);
    let text = err.to_string();
    assert!(matches!(err, LoadError::Format { .. }), "{name}: {err:?}");
    assert!(text.contains(name), "{name}: error does not name the file: {text}");
    for needle in needles {
        assert!(text.contains(needle), "{name}: {text:?} lacks {needle:?}");
    }
}

// ------------------------------------------------------------------------------------------ PyTorch exports

#[test]
fn pytorch_mlp_matches_zennit_logits_and_state_dict() {
    let path = fixtures().join("models/mlp.onnx");
    let read = onnx::read(&path).unwrap();
    assert_eq!(read.opset, 17);
    let model = read.model;
    assert_eq!(model.name(), "mlp");
    assert_eq!(model.input_shape(), &[784]);
    use LayerKind::*;
    assert_eq!(kinds(&model), vec![Dense, Relu, Dense, Relu, Dense]);
    assert_eq!(
        model.layers(),
        npz_model("mlp").layers(),
        "weights differ from the state dict"
    );
    let logits = model.logits(&inputs("mlp")).unwrap();
    let err = max_abs_diff(&logits, &read_f32(fixtures().join("zennit/mlp/logits.npy")));
    assert!(err <= TOLERANCE, "mlp logits differ by {err}");
}

#[test]
fn pytorch_cnn_layer_indices_match_the_sequential() {
    let model = onnx::load(&fixtures().join("models/cnn.onnx")).unwrap();
    assert_eq!(model.name(), "cnn");
    assert_eq!(model.input_shape(), &[1, 28, 28]);
    use LayerKind::*;
    assert_eq!(
        kinds(&model),
        vec![
            Conv2d, Relu, MaxPool2d, Conv2d, Relu, MaxPool2d, Flatten, Dense, Relu, Dense
        ]
    );
    assert_eq!(
        model.layers(),
        npz_model("cnn").layers(),
        "weights differ from the state dict"
    );
    let logits = model.logits(&inputs("cnn")).unwrap();
    let err = max_abs_diff(&logits, &read_f32(fixtures().join("zennit/cnn/logits.npy")));
    assert!(err <= TOLERANCE, "cnn logits differ by {err}");
}

// ------------------------------------------------------------------------------------------ script-made models

#[test]
fn dynamo_mlp_reshape_matmul_add_external_data() {
    let read = check_generated("dynamo_mlp");
    use LayerKind::*;
    assert_eq!(kinds(&read.model), vec![Reshape, Dense, Relu, Dense]);
    assert_eq!(read.model.layers()[0], Layer::Reshape(vec![16]));
    match &read.model.layers()[1] {
        Layer::Dense(d) => {
            assert_eq!(d.weight.shape(), &[8, 16]);
            assert!(d.bias.is_some(), "the Add was not merged as a bias");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(read.metadata.get("source").map(String::as_str), Some("test"));
}

#[test]
fn dynamo_cnn_constant_shape_identity_and_reversed_add() {
    let read = check_generated("dynamo_cnn");
    use LayerKind::*;
    assert_eq!(kinds(&read.model), vec![Conv2d, Relu, MaxPool2d, Reshape, Dense]);
    match &read.model.layers()[0] {
        Layer::Conv2d(c) => assert_eq!(c.padding, [1; 4]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn batchnorm_after_conv_and_gemm_is_merged_with_outputs_unchanged() {
    // The expected logits come from the unmerged graph (onnx.reference, cross-checked with numpy).
    let read = check_generated("batchnorm");
    use LayerKind::*;
    assert_eq!(kinds(&read.model), vec![Conv2d, Relu, Flatten, Dense, Relu, Dense]);
    match &read.model.layers()[3] {
        Layer::Dense(d) => assert!(d.bias.is_some(), "the merged batch-norm must create a bias"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn avgpool_with_pads_tanh_alpha_and_final_softmax() {
    let read = check_generated("avgpool_tanh_softmax");
    use LayerKind::*;
    assert_eq!(kinds(&read.model), vec![Conv2d, Tanh, AvgPool2d, Flatten, Dense]);
    assert_eq!(read.model.output_activation(), OutputActivation::Softmax);
    assert_eq!(
        read.model.layers()[2],
        Layer::AvgPool2d(Pool2d {
            kernel: [3, 3],
            stride: [2, 2],
            padding: [1; 4]
        })
    );
}

#[test]
fn same_upper_and_same_lower_padding() {
    let read = check_generated("same_padding");
    let paddings: Vec<[usize; 4]> = read
        .model
        .layers()
        .iter()
        .filter_map(|l| match l {
            Layer::Conv2d(c) => Some(c.padding),
            _ => None,
        })
        .collect();
    assert_eq!(paddings, vec![[0, 0, 1, 1], [1, 1, 0, 0]]);
}

// ------------------------------------------------------------------------------------------ bad files

#[test]
fn unsupported_op_names_the_op_node_and_supported_set() {
    let err = load_error("bad_unsupported_op.onnx");
    match &err {
        LoadError::UnsupportedOp {
            op_type,
            node,
            supported,
            path,
            ..
        } => {
            assert_eq!(op_type, "LeakyRelu");
            assert_eq!(node, "leaky");
            assert!(supported.contains("Gemm") && supported.contains("BatchNormalization"));
            assert!(path.ends_with("bad_unsupported_op.onnx"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn external_data_outside_the_folder_is_refused() {
    assert_format_error(
        "bad_external_escape.onnx",
        &["../escape.bin", "inside the model's folder"],
    );
    assert_format_error("bad_external_absolute.onnx", &["/etc/hostname", "relative path"]);
}

#[cfg(unix)]
#[test]
fn external_data_through_a_symlink_out_of_the_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("linked.onnx");
    std::fs::copy(onnx_dir().join("bad_external_short.onnx"), &model).unwrap();
    // The model names `bad_external_short.onnx.data`; here that is a link to a file outside the folder.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("weights.bin");
    std::fs::write(&target, [0u8; 64]).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("bad_external_short.onnx.data")).unwrap();
    let err = onnx::load(&model).unwrap_err().to_string();
    assert!(err.contains("outside the model's folder"), "{err}");
    // The same file inside the folder is accepted (offset 16 + 32 bytes fit in 64).
    std::fs::remove_file(dir.path().join("bad_external_short.onnx.data")).unwrap();
    std::fs::copy(&target, dir.path().join("bad_external_short.onnx.data")).unwrap();
    let loaded = onnx::load(&model).unwrap();
    assert_eq!(kinds(&loaded), vec![LayerKind::Dense]);
}

#[test]
fn external_data_past_the_end_of_the_file_is_refused() {
    assert_format_error(
        "bad_external_short.onnx",
        &["offset 16", "length 32", "past the end", "40 bytes"],
    );
}

#[test]
fn not_onnx_truncated_and_empty_files() {
    assert_format_error("bad_text.onnx", &["not an ONNX model"]);
    assert_format_error("bad_truncated.onnx", &["truncated"]);
    assert_format_error("bad_empty_file.onnx", &["empty"]);
    assert_format_error("bad_empty_graph.onnx", &["no nodes"]);
    let missing = load_error("no_such_file.onnx");
    assert!(matches!(missing, LoadError::Io { .. }), "{missing:?}");
}

#[test]
fn every_prefix_of_a_model_fails_cleanly() {
    let bytes = std::fs::read(onnx_dir().join("batchnorm.onnx")).unwrap();
    let path = onnx_dir().join("batchnorm.onnx");
    for len in 0..bytes.len() {
        assert!(
            onnx::from_bytes(&bytes[..len], &path).is_err(),
            "prefix of {len} bytes loaded"
        );
    }
    assert!(onnx::from_bytes(&bytes, &path).is_ok());
}

#[test]
fn corrupted_bytes_never_panic() {
    let path = onnx_dir().join("same_padding.onnx");
    let bytes = std::fs::read(&path).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut loaded = 0;
    for _ in 0..2000 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % b.len() as u64) as usize;
            b[i] = next() as u8;
        }
        if let Ok(m) = onnx::from_bytes(&b, &path) {
            loaded += 1;
            let _ = m.model.logits(&ArrayD::zeros(ndarray::IxDyn(&[1, 1, 6, 6])));
        }
    }
    assert!(loaded < 2000, "no corruption was detected");
}

#[test]
fn missing_initializer_and_wrong_tensor_size() {
    assert_format_error(
        "bad_missing_initializer.onnx",
        &[
            "\"fc\" (Gemm)",
            "\"not_there\"",
            "not an initializer, a constant or the output of any node",
        ],
    );
    assert_format_error("bad_tensor_size.onnx", &["\"w\"", "20 bytes", "need 8 values"]);
}

#[test]
fn nan_weights_load_but_fail_the_finite_check() {
    let model = onnx::load(&onnx_dir().join("nan_weights.onnx")).unwrap();
    match model.check_finite() {
        Err(ModelError::NonFinite { layer: 0, count: 1 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn branching_graphs_and_misplaced_softmax_or_batchnorm() {
    assert_format_error("bad_branching.onnx", &["branching", "\"input\" is read by 2 nodes"]);
    assert_format_error(
        "bad_softmax_middle.onnx",
        &["\"fc\" (Gemm)", "\"softmax\" (Softmax)", "last operation"],
    );
    assert_format_error(
        "bad_batchnorm_first.onnx",
        &["\"bn\" (BatchNormalization)", "the graph input"],
    );
}

#[test]
fn grouped_and_dilated_convolutions_are_refused() {
    assert_format_error("bad_group2.onnx", &["\"conv\" (Conv)", "group=2"]);
    assert_format_error("bad_dilation2.onnx", &["\"conv\" (Conv)", "dilations [2, 2]"]);
}

#[test]
fn pooling_that_our_layers_cannot_reproduce_is_refused() {
    assert_format_error("bad_avgpool_exclude_pad.onnx", &["count_include_pad=0"]);
    assert_format_error("bad_ceil_mode.onnx", &["ceil_mode=1", "5x5"]);
}

// ------------------------------------------------------------------------------------------ writer

fn round_trip(model: &Model) -> Model {
    let bytes = onnx::to_bytes(model, &BTreeMap::new()).unwrap();
    let path = Path::new("/nonexistent").join(format!("{}.onnx", model.name()));
    onnx::from_bytes(&bytes, &path).unwrap().model
}

#[test]
fn writer_round_trip_of_the_fixture_models() {
    for name in ["mlp", "cnn"] {
        let model = npz_model(name);
        let back = round_trip(&model);
        assert_eq!(back.name(), name);
        assert_eq!(back.layers(), model.layers(), "{name}");
        assert_eq!(back.input_shape(), model.input_shape());
        let x = inputs(name);
        assert_eq!(back.logits(&x).unwrap(), model.logits(&x).unwrap(), "{name}");
    }
}

#[test]
fn writer_round_trip_of_every_generated_model() {
    for name in [
        "dynamo_mlp",
        "dynamo_cnn",
        "batchnorm",
        "avgpool_tanh_softmax",
        "same_padding",
    ] {
        let model = onnx::load(&onnx_dir().join(format!("{name}.onnx"))).unwrap();
        let back = round_trip(&model);
        assert_eq!(back.layers(), model.layers(), "{name}");
        assert_eq!(back.output_activation(), model.output_activation(), "{name}");
        let x = read_f32(onnx_dir().join(format!("{name}.input.npy")));
        assert_eq!(back.logits(&x).unwrap(), model.logits(&x).unwrap(), "{name}");
    }
}

/// The writer's files for the generated models are kept in `tests/fixtures/onnx/written/`, where
/// `python3 scripts/make_onnx_test_models.py --check-written` validates them with `onnx.checker` and runs them with
/// `onnx.reference`. This test keeps them identical to what the writer produces (`UPDATE_WRITTEN=1` rewrites them).
#[test]
fn writer_output_matches_the_python_checked_files() {
    let dir = onnx_dir().join("written");
    let update = std::env::var_os("UPDATE_WRITTEN").is_some();
    for name in [
        "dynamo_mlp",
        "dynamo_cnn",
        "batchnorm",
        "avgpool_tanh_softmax",
        "same_padding",
    ] {
        let read = onnx::read(&onnx_dir().join(format!("{name}.onnx"))).unwrap();
        let bytes = onnx::to_bytes(&read.model, &read.metadata).unwrap();
        let path = dir.join(format!("{name}.onnx"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            onnx::write(&read.model, &read.metadata, &path).unwrap();
        }
        let stored = std::fs::read(&path).unwrap_or_default();
        assert!(
            stored == bytes,
            "{} is out of date: rerun with UPDATE_WRITTEN=1",
            path.display()
        );
    }
}

#[test]
fn write_is_atomic_and_keeps_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.onnx");
    std::fs::write(&path, b"old contents").unwrap();
    let metadata = BTreeMap::from([
        ("trained_on".to_string(), "mnist".to_string()),
        ("epochs".to_string(), "3".to_string()),
    ]);
    let model = npz_model("cnn");
    onnx::write(&model, &metadata, &path).unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec!["net.onnx"], "temporary file left behind");
    let read = onnx::read(&path).unwrap();
    assert_eq!(read.metadata, metadata);
    assert_eq!(read.opset, 17);
    assert_eq!(read.model.name(), "net");
    assert_eq!(read.model.layers(), model.layers());
}

#[test]
fn writer_names_the_output_after_the_output_activation() {
    for (activation, expected) in [
        (OutputActivation::None, "logits"),
        (OutputActivation::Softmax, "probabilities"),
        (OutputActivation::LogSoftmax, "log_probabilities"),
    ] {
        let base = npz_model("mlp");
        let model = Model::new("m", vec![784], base.layers().to_vec(), activation).unwrap();
        let bytes = onnx::to_bytes(&model, &BTreeMap::new()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(expected), "{activation:?}");
        let back = onnx::from_bytes(&bytes, Path::new("m.onnx")).unwrap().model;
        assert_eq!(back.output_activation(), activation);
        assert_eq!(back.layers().len(), 5);
    }
}

#[test]
fn writer_refuses_sum_pooling() {
    let pool = Pool2d {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0; 4],
    };
    let model = Model::new(
        "sum",
        vec![1, 4, 4],
        vec![Layer::SumPool2d(pool), Layer::Flatten],
        OutputActivation::None,
    )
    .unwrap();
    let err = onnx::to_bytes(&model, &BTreeMap::new()).unwrap_err().to_string();
    assert!(err.contains("layer 0 (SumPool2d)"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sum.onnx");
    assert!(onnx::write(&model, &BTreeMap::new(), &path).is_err());
    assert!(!path.exists());
}
