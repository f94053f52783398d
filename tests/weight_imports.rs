//! Weight-only MLP imports (`.npz` state_dicts / Keras kernels, MATLAB `.mat`): logits against numbers computed by
//! `scripts/make_weight_test_files.py`, the real fixture state_dict, orientation notes and refusals.

mod common;

use std::path::PathBuf;

use common::*;
use lrp_explorer::model::{Activation, ImportedModel, LayerKind, weights_mat, weights_npz};
use ndarray::{Array2, ArrayD};
use ndarray_npy::NpzReader;

fn weights_dir() -> PathBuf {
    fixtures().join("weights")
}

fn expected(name: &str) -> Array2<f32> {
    let file = std::fs::File::open(weights_dir().join("expected.npz")).unwrap();
    NpzReader::new(file).unwrap().by_name(name).unwrap()
}

fn load(file: &str, activation: Activation) -> ImportedModel {
    let path = weights_dir().join(file);
    if file.ends_with(".mat") {
        weights_mat::load(&path, activation).unwrap()
    } else {
        weights_npz::load(&path, activation).unwrap()
    }
}

/// Loads `file`, runs the stored inputs and compares with the expected logits (absolute 1e-5).
fn check_logits(file: &str, activation: Activation, input: &str) -> ImportedModel {
    let m = load(file, activation);
    let x: ArrayD<f32> = expected(input).into_dyn();
    let logits = m.model.logits(&x).unwrap();
    let stem = file.rsplit_once('.').unwrap().0;
    let act = match activation {
        Activation::Relu => "relu",
        Activation::Tanh => "tanh",
        Activation::None => "none",
    };
    let want = expected(&format!("{stem}__{act}"));
    let err = (&logits - &want).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(err < 1e-5, "{file} ({act}): max error {err}\nnotes: {:#?}", m.notes);
    m
}

fn kinds(m: &ImportedModel) -> Vec<LayerKind> {
    m.model.layers().iter().map(|l| l.kind()).collect()
}

#[test]
fn fixture_state_dict_matches_zennit_logits() {
    let m = weights_npz::load(&fixtures().join("models/mlp.npz"), Activation::Relu).unwrap();
    use LayerKind::*;
    assert_eq!(kinds(&m), [Dense, Relu, Dense, Relu, Dense]);
    assert_eq!(m.model.input_shape(), [784]);
    let logits = m.model.logits(&inputs("mlp")).unwrap().into_dyn();
    let want = read_f32(fixtures().join("zennit/mlp/logits.npy"));
    let err = (&logits - &want).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(err <= 1e-4, "max |logit − zennit| = {err}");
    assert!(
        m.notes
            .iter()
            .any(|n| n == "0.weight: 300×784 read as [out, in] (rows = next layer) → Dense 784→300, bias 0.bias"),
        "{:#?}",
        m.notes
    );
}

#[test]
fn pytorch_sequential_keys_sort_naturally() {
    // Keys 0, 2, 10: string order would put 10 before 2 and break the chain.
    let m = check_logits("torch_seq.npz", Activation::Relu, "x784");
    assert!(m.notes[0].contains("(0, 2, 10)"), "{}", m.notes[0]);
    let m = check_logits("torch_seq.npz", Activation::Tanh, "x784");
    use LayerKind::*;
    assert_eq!(kinds(&m), [Dense, Tanh, Dense, Tanh, Dense]);
}

#[test]
fn named_pytorch_layers_in_a_compressed_npz() {
    let m = check_logits("torch_named.npz", Activation::Relu, "x64");
    assert!(m.notes[0].contains("(fc1, fc2, fc10)"), "{}", m.notes[0]);
}

#[test]
fn keras_kernels_are_transposed() {
    let m = check_logits("keras.npz", Activation::Relu, "x64");
    assert!(
        m.notes
            .iter()
            .any(|n| n.starts_with("dense/kernel: 64×24 read as [in, out] (columns = next layer), transposed")),
        "{:#?}",
        m.notes
    );
    check_logits("keras.npz", Activation::Tanh, "x64");
}

#[test]
fn matlab_rows_are_the_next_layer() {
    let m = check_logits("matlab_outin.mat", Activation::Relu, "x64");
    assert!(
        m.notes
            .iter()
            .any(|n| n == "W1: 16×64 read as [out, in] (rows = next layer) → Dense 64→16, bias b1"),
        "{:#?}",
        m.notes
    );
    // The file also holds a char array `description`: matfile skips non-numeric variables, so nothing to ignore.
    assert!(!m.notes.iter().any(|n| n.contains("ignored")), "{:#?}", m.notes);
}

#[test]
fn matlab_transposed_layout_row_biases_and_compression() {
    let m = check_logits("matlab_inout.mat", Activation::Relu, "x64");
    assert_eq!(
        m.model.layers().iter().filter(|l| l.kind() == LayerKind::Dense).count(),
        11
    );
    assert!(
        m.notes.iter().any(|n| n.starts_with("W1: 64×14 read as [in, out]")),
        "{:#?}",
        m.notes
    );
    assert!(
        m.notes.iter().any(|n| n.starts_with("W11: 14×10 read as [in, out]")),
        "{:#?}",
        m.notes
    );
}

#[test]
fn no_activation_composes_linearly() {
    let m = load("torch_named.npz", Activation::None);
    assert!(kinds(&m).iter().all(|&k| k == LayerKind::Dense));
    assert_eq!(m.model.layers().len(), 3);
}

#[test]
fn convolutional_state_dicts_are_refused() {
    let err = weights_npz::load(&weights_dir().join("conv_state_dict.npz"), Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("conv_state_dict.npz"), "{err}");
    assert!(
        err.contains("0.weight has shape [4, 1, 3, 3]: this is a convolutional state_dict"),
        "{err}"
    );
}

#[test]
fn shapes_that_do_not_chain_are_refused() {
    let err = weights_npz::load(&weights_dir().join("broken_chain.npz"), Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("do not chain as [out, in] nor as [in, out]"), "{err}");
    assert!(
        err.contains("0.weight 16×64 + 0.bias [16], 1.weight 10×15 + 1.bias [10]"),
        "{err}"
    );
}

#[test]
fn bad_npz_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("junk.npz");
    std::fs::write(&not_zip, b"definitely not a zip").unwrap();
    let err = weights_npz::load(&not_zip, Activation::Relu).unwrap_err().to_string();
    assert!(
        err.contains("junk.npz") && err.contains("not a .npz (zip) archive"),
        "{err}"
    );

    // An .npy entry whose header claims 10^12 values but holds 8 bytes: refused before allocating.
    let huge = dir.path().join("huge.npz");
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }";
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{header:<118}\n");
    npy.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    npy.extend_from_slice(padded.as_bytes());
    npy.extend_from_slice(&[0u8; 8]);
    let file = std::fs::File::create(&huge).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file(
        "0.weight.npy",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    std::io::Write::write_all(&mut zip, &npy).unwrap();
    zip.finish().unwrap();
    let err = weights_npz::load(&huge, Activation::Relu).unwrap_err().to_string();
    assert!(
        err.contains("0.weight: the header announces 1000000000000 values but only 8 bytes follow"),
        "{err}"
    );
}

#[test]
fn bad_mat_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.mat");
    std::fs::write(&junk, vec![7u8; 300]).unwrap();
    let err = weights_mat::load(&junk, Activation::Relu).unwrap_err().to_string();
    assert!(err.contains("junk.mat") && err.contains("MATLAB Level 5"), "{err}");
    // A real .mat without W1, W2, …: the error lists what is there.
    // Found by fuzzing: dimensions whose product overflows made the `.mat` parser panic.
    let err = weights_mat::load(&weights_dir().join("fuzz_overflow_dims.mat"), Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fuzz_overflow_dims.mat") && err.contains("too large"),
        "{err}"
    );
    let err = weights_mat::load(&weights_dir().join("no_weights.mat"), Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no weight matrices W1, W2, … found (variables: "), "{err}");
    assert!(err.contains("labels") && err.contains("weights"), "{err}");
    // W1 and b2 without W2.
    let err = weights_mat::load(&weights_dir().join("orphan_bias.mat"), Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("b2 has no matching W2"), "{err}");
}
