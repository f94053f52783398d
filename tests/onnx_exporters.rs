//! The committed exporter-made models (`tests/fixtures/onnx_exporters/`, written by
//! `scripts/make_exporter_test_models.py` with PyTorch, Keras 3 and skl2onnx) against their float64 references:
//! logits, `epsilon:0.25` and `input_x_gradient` relevance at the input, in the model's own input layout, and what
//! the import report says about each file. No Python needed.

mod common;

use std::path::PathBuf;

use common::fixtures;
use lrp_explorer::error::LoadError;
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use lrp_explorer::model::onnx::{self, ImportOptions, InputLayout, OnnxModel};
use lrp_explorer::model::{Layer, LayerKind};
use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;
use serde_json::Value;

/// Per image, `max|R − R_ref| ≤ TOLERANCE × max|R_ref|`, as the other reference tests.
const TOLERANCE: f64 = 1e-4;

fn dir() -> PathBuf {
    fixtures().join("onnx_exporters")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(dir().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn read_f64(name: &str) -> ArrayD<f64> {
    let path = dir().join(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ArrayD::<f64>::read_npy(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_input(name: &str) -> ArrayD<f32> {
    common::read_f32(dir().join(format!("{name}.input.npy")))
}

fn open(name: &str) -> OnnxModel {
    onnx::read(&dir().join(format!("{name}.onnx"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Worst per-image `max|a − b| / max|b|` (f32 result against a float64 reference).
fn norm_err(a: &ArrayD<f32>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    let n = b.shape()[0];
    let mut worst = 0.0f64;
    for i in 0..n {
        let (ai, bi) = (a.index_axis(ndarray::Axis(0), i), b.index_axis(ndarray::Axis(0), i));
        let scale = bi.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "image {i}: the reference is all zero");
        let err = ai
            .iter()
            .zip(bi.iter())
            .fold(0.0f64, |m, (&x, &y)| m.max((f64::from(x) - y).abs()));
        worst = worst.max(err / scale);
    }
    worst
}

fn cases() -> Vec<String> {
    let m = manifest();
    let cases = m["cases"].as_object().unwrap();
    cases.keys().cloned().collect()
}

#[test]
fn the_manifest_covers_every_exporter_pattern() {
    let names = cases();
    for expected in [
        "torch_classic",
        "torch_dynamo",
        "torch_defaults",
        "keras_nhwc",
        "keras_image",
        "keras_flat",
        "sklearn_zipmap",
        "sklearn_nozipmap",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from manifest.json"
        );
    }
}

#[test]
fn every_exporter_model_matches_its_float64_references() {
    let m = manifest();
    let mut report = vec![];
    let mut failures = vec![];
    let mut checked = 0;
    for (name, case) in m["cases"].as_object().unwrap() {
        let read = open(name);
        let x = read_input(name);
        let shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(x.shape(), shape, "{name}: stored input");
        assert_eq!(read.report.input_shape, &shape[1..], "{name}: the file's input shape");
        // The engine may drop the file's unit channel axis or add one (`[28,28]` → `[1,28,28]`), never reorder:
        // samples go in, and relevance comes out, row-major in the file's own layout.
        let per: usize = shape[1..].iter().product();
        assert_eq!(
            read.model.input_len(),
            per,
            "{name}: engine input {:?}",
            read.model.input_shape()
        );

        let logits_ref = read_f64(&format!("{name}.logits.npy"));
        let pred: Vec<usize> = case["pred"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap() as usize)
            .collect();
        for (spec, file) in case["refs"].as_object().unwrap() {
            let method: Method = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
            // The references start from the predicted logit (epsilon) or the one-hot gradient (input × gradient).
            let e = explain(&read.model, &x, &method, &Target::Predicted, InitRelevance::Logit)
                .unwrap_or_else(|e| panic!("{name} {spec}: {e}"));
            assert_eq!(e.targets, pred, "{name}: predictions");
            let logits = e.logits.clone().into_dyn();
            let logit_err = logits
                .iter()
                .zip(logits_ref.iter())
                .fold(0.0f64, |m, (&a, &b)| m.max((f64::from(a) - b).abs()));
            assert!(logit_err <= 1e-4, "{name}: logits differ by {logit_err}");
            let rel = e.input_relevance().to_shape(x.shape()).unwrap().to_owned();
            let expected = read_f64(file.as_str().unwrap());
            assert_eq!(
                expected.shape(),
                x.shape(),
                "{name}: the reference is in the file's layout"
            );
            let err = norm_err(&rel, &expected);
            checked += 1;
            report.push(format!("{name} {spec}: {err:.2e}"));
            if err > TOLERANCE {
                failures.push(format!("{name} {spec}: {err:.3e}"));
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert_eq!(checked, 16, "8 models × 2 configurations");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_fixed_batch_of_one_runs_the_whole_batch_and_says_the_file_fixed_it() {
    let read = open("torch_defaults");
    assert_eq!(read.report.fixed_batch, Some(1));
    let lines = read.report.lines().join("\n");
    assert!(
        lines.contains("the file fixes the batch size to 1, any batch size runs"),
        "{lines}"
    );
    let x = read_input("torch_defaults");
    assert_eq!(x.shape()[0], 4);
    assert_eq!(read.model.logits(&x).unwrap().nrows(), 4);
    // The dynamic-batch exports fix nothing.
    for name in ["torch_classic", "torch_dynamo", "keras_nhwc", "sklearn_nozipmap"] {
        assert_eq!(open(name).report.fixed_batch, None, "{name}");
    }
}

#[test]
fn the_classic_view_flatten_is_folded_into_a_flatten() {
    let read = open("torch_classic");
    let r = &read.report;
    assert!(r.producer.starts_with("pytorch"), "{}", r.producer);
    assert_eq!(r.opset, 17);
    assert_eq!(r.reshapes_to_flatten, 1);
    for op in ["Shape", "Gather", "Unsqueeze", "Concat"] {
        assert!(
            r.folded.get(op).is_some_and(|&n| n >= 1),
            "{op} not folded: {:?}",
            r.folded
        );
    }
    assert_eq!(r.output, "output");
    assert_eq!(r.final_activation.as_deref(), Some("Softmax"));
    assert_eq!(r.input_layout, InputLayout::Nchw);
    assert_eq!(r.input_text(), "NCHW [N,1,28,28]");
    use LayerKind::*;
    let kinds: Vec<LayerKind> = read.model.layers().iter().map(Layer::kind).collect();
    assert_eq!(
        kinds,
        [Conv2d, Relu, MaxPool2d, Conv2d, Relu, MaxPool2d, Flatten, Dense]
    );
}

#[test]
fn keras_reports_its_casts_absorbed_transposes_and_nhwc_layout() {
    let read = open("keras_nhwc");
    let r = &read.report;
    // Keras 3 on its torch backend exports through torch.onnx: the producer is PyTorch.
    assert!(r.producer.starts_with("pytorch"), "{}", r.producer);
    assert_eq!(r.opset, read.opset);
    assert_eq!(r.input_layout, InputLayout::Nhwc);
    assert_eq!(r.input_shape, [28, 28, 1]);
    assert!(r.absorbed_transposes >= 4, "{r:?}");
    assert!(r.removed.get("Cast").is_some_and(|&n| n >= 1), "{:?}", r.removed);
    assert!(r.folded_biases >= 2, "{r:?}");
    assert_eq!(r.final_activation.as_deref(), Some("Softmax"));
    let lines = read.report.lines().join("\n");
    assert!(lines.contains("input layout NHWC [N,28,28,1]"), "{lines}");
    assert!(
        lines.contains(&format!("absorbed {} Transpose", r.absorbed_transposes)),
        "{lines}"
    );
    assert!(lines.contains("removed ") && lines.contains(" Cast"), "{lines}");
    // The engine runs channel-first: no transposes left at run time, except the one that routes the NHWC input
    // into the first convolution, if any.
    let permutes = read
        .model
        .layers()
        .iter()
        .filter(|l| l.kind() == LayerKind::Permute)
        .count();
    assert!(
        permutes <= 1,
        "{permutes} permutation layers: {:?}",
        read.model.layers()
    );
    assert_eq!(r.permutation_layers, permutes);

    let image = open("keras_image").report;
    assert_eq!(image.input_layout, InputLayout::Image);
    assert_eq!(image.input_text(), "image [N,28,28]");
    let flat = open("keras_flat").report;
    assert_eq!(flat.input_layout, InputLayout::Flat);
    assert_eq!(flat.input_text(), "flat [N,784]");
    assert_eq!(flat.folded_biases, 2, "MatMul + Add twice: {flat:?}");
}

#[test]
fn sklearn_explains_the_probabilities_and_ignores_the_label_branch() {
    let read = open("sklearn_nozipmap");
    let r = &read.report;
    assert!(r.producer.contains("skl2onnx"), "{}", r.producer);
    assert_eq!(r.output, "probabilities");
    assert_eq!(r.ignored_outputs, ["label"]);
    assert!(
        r.ignored.contains_key("ai.onnx.ml.ArrayFeatureExtractor"),
        "{:?}",
        r.ignored
    );
    assert!(r.ignored.contains_key("ArgMax"), "{:?}", r.ignored);
    let lines = r.lines().join("\n");
    assert!(lines.contains("explaining output \"probabilities\""), "{lines}");
    assert!(lines.contains("ignored output [\"label\"]"), "{lines}");

    let zip = open("sklearn_zipmap");
    let z = &zip.report;
    assert!(z.ignored.contains_key("ai.onnx.ml.ZipMap"), "{:?}", z.ignored);
    assert!(
        z.ignored_outputs.iter().any(|o| o == "output_label"),
        "{:?}",
        z.ignored_outputs
    );
    // With ZipMap the explained tensor is the one the ZipMap reads: the same scores as without it.
    let x = read_input("sklearn_zipmap");
    let a = zip.model.logits(&x).unwrap();
    let b = read.model.logits(&x).unwrap();
    let diff = (&a - &b).iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(diff <= 1e-6, "zipmap and plain exports differ by {diff}");
}

#[test]
fn another_output_can_be_chosen_and_a_wrong_name_lists_the_outputs() {
    let path = dir().join("sklearn_nozipmap.onnx");
    let x = read_input("sklearn_nozipmap");
    let default = open("sklearn_nozipmap");
    // The scores before the Softmax, by their tensor name: the same model, no final activation to drop.
    let options = ImportOptions {
        output: Some("add_result1".into()),
    };
    let before = onnx::read_with(&path, &options).unwrap();
    assert_eq!(before.report.output, "add_result1");
    assert_eq!(before.report.final_activation, None);
    let a = before.model.logits(&x).unwrap();
    let b = default.model.logits(&x).unwrap();
    let diff = (&a - &b).iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(diff <= 1e-6, "{diff}");
    let options = ImportOptions {
        output: Some("label".into()),
    };
    // `label` is an integer tensor behind ArgMax: choosing it names the op that cannot be explained.
    match onnx::read_with(&path, &options).unwrap_err() {
        LoadError::UnsupportedOp { op_type, node, .. } => {
            assert_eq!((op_type.as_str(), node.as_str()), ("ArgMax", "ArgMax"));
        }
        other => panic!("{other}"),
    }
    let options = ImportOptions {
        output: Some("nope".into()),
    };
    let err = onnx::read_with(&path, &options).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoadError::Format { .. }), "{err:?}");
    assert!(text.contains("\"nope\""), "{text}");
    assert!(
        text.contains("\"label\"") && text.contains("\"probabilities\""),
        "{text}"
    );
}

/// The same digits read from IDX, a Kaggle-style CSV and an `.npy` of `[N, 28, 28]` bytes feed the Keras NHWC
/// (`[N,28,28,1]`) and `[N,28,28]` models with no reshaping by the user, and give the same relevance as each other.
#[test]
fn samples_from_every_reader_feed_the_nhwc_and_image_models_alike() {
    use lrp_explorer::data::{Preprocess, load_dataset};
    use ndarray_npy::WriteNpyExt;
    let tmp = tempfile::tempdir().unwrap();
    let (idx, labels) = common::write_idx(tmp.path());
    let reference = load_dataset(&idx, Some(&labels)).unwrap();
    let n = reference.len();
    let bytes: Vec<u8> = (0..n)
        .flat_map(|i| reference.image(i).iter().map(|&v| (v * 255.0).round() as u8))
        .collect();
    // Kaggle's layout: a header, then label and 784 pixels per row.
    let mut csv = String::from("label");
    for k in 0..784 {
        csv.push_str(&format!(",pixel{k}"));
    }
    csv.push('\n');
    let truth = reference.labels.clone().unwrap();
    for (i, row) in bytes.chunks(784).enumerate() {
        csv.push_str(&truth[i].to_string());
        for v in row {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    let csv_path = tmp.path().join("digits.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let npy_path = tmp.path().join("digits.npy");
    let cube = ndarray::Array3::from_shape_vec((n, 28, 28), bytes).unwrap();
    cube.write_npy(std::fs::File::create(&npy_path).unwrap()).unwrap();
    let readers = [
        ("idx", reference),
        ("csv", load_dataset(&csv_path, None).unwrap()),
        ("npy", load_dataset(&npy_path, None).unwrap()),
    ];
    let method: Method = "epsilon_plus".parse().unwrap();
    for model_name in ["keras_nhwc", "keras_image"] {
        let model = open(model_name).model;
        let mut first: Option<ArrayD<f32>> = None;
        for (reader, ds) in &readers {
            assert_eq!(ds.len(), n, "{reader}");
            let x = Preprocess::default().apply(ds, 0..n).into_dyn();
            let x = model
                .shape_batch(x)
                .unwrap_or_else(|e| panic!("{model_name} from {reader}: {e}"));
            let e = explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
            let r = e.input_relevance().clone();
            assert!(
                r.iter().any(|v| v.abs() > 1e-6),
                "{model_name} from {reader}: a blank map"
            );
            match &first {
                None => first = Some(r),
                Some(f) => {
                    let diff = f
                        .iter()
                        .zip(r.iter())
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0f32, f32::max);
                    assert_eq!(diff, 0.0, "{model_name}: {reader} differs from idx");
                }
            }
        }
    }
}
