//! The three ways a MATLAB user saves an MLP (plain `W1, b1, …`; `nn.layers{l}.W`; DeepLearnToolbox `nn.W{l}` with
//! the bias in column 1), written by scipy's `savemat` (`scripts/make_matlab_net_files.py`): logits against numpy's,
//! the notes saying which layout was read, identical explanations from all three, and refusals of malformed trees.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use lrp_explorer::data::mat::tree;
use lrp_explorer::lrp::{Composite, InitRelevance, Method, Target, explain};
use lrp_explorer::model::{Activation, ImportedModel, weights_mat};
use ndarray::{Array2, ArrayD};
use ndarray_npy::NpzReader;

fn weights_dir() -> PathBuf {
    fixtures().join("weights")
}

fn expected(name: &str) -> Array2<f32> {
    let file = std::fs::File::open(weights_dir().join("matlab_net_expected.npz")).unwrap();
    NpzReader::new(file).unwrap().by_name(name).unwrap()
}

fn load(file: &str) -> ImportedModel {
    weights_mat::load(&weights_dir().join(file), Activation::Relu).unwrap()
}

const LAYOUTS: [&str; 3] = ["matlab_net_plain.mat", "matlab_net_layers.mat", "matlab_net_dlt.mat"];

#[test]
fn every_layout_gives_numpys_logits() {
    let x = expected("x").into_dyn();
    let want = expected("logits").into_dyn();
    for file in LAYOUTS {
        let m = load(file);
        assert_eq!(m.model.input_shape(), [784], "{file}");
        assert_eq!(m.model.num_outputs(), 10, "{file}");
        let logits = m.model.logits(&x).unwrap().into_dyn();
        let err = max_norm_err(&logits, &want);
        assert!(err < 1e-5, "{file}: error {err}\n{:#?}", m.notes);
    }
}

#[test]
fn notes_name_the_layout_and_each_matrix() {
    let m = load("matlab_net_layers.mat");
    let notes = m.notes.join("\n");
    assert!(
        notes.contains("layout: struct nn with a cell array nn.layers of 3 per-layer structs"),
        "{notes}"
    );
    assert!(
        notes.contains("nn.layers{1}: no weights (an input layer), skipped"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "nn.layers{2}.W: 16×784 read as [out, in] (rows = next layer) → Dense 784→16, bias nn.layers{2}.b"
        ),
        "{notes}"
    );
    assert!(notes.contains("nn.layers{3}.W: 10×16 read as [out, in]"), "{notes}");

    let m = load("matlab_net_dlt.mat");
    let notes = m.notes.join("\n");
    assert!(
        notes.contains("layout: DeepLearnToolbox-style nn.W{l} = [out, in+1], bias in the first column; nn.size = [784, 16, 10] agrees"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "nn.W{1}(:,2:end): 16×784 read as [out, in] (rows = next layer) → Dense 784→16, bias nn.W{1}(:,1)"
        ),
        "{notes}"
    );
    // DeepLearnToolbox's default is a sigmoid: the notes say what the file asks for and what the model uses.
    assert!(
        notes.contains("the file says nn.activation_function = 'sigm', nn.output = 'softmax'; the model uses ReLU"),
        "{notes}"
    );

    let m = load("matlab_net_plain.mat");
    assert!(
        m.notes.iter().any(|n| n.starts_with("W1: 16×784 read as [out, in]")),
        "{:#?}",
        m.notes
    );
}

#[test]
fn the_three_layouts_explain_identically() {
    let x = expected("x").into_dyn();
    let seed = Method::Lrp(Composite::preset("seed", None).unwrap());
    let maps: Vec<ArrayD<f32>> = LAYOUTS
        .iter()
        .map(|f| {
            let m = load(f);
            explain(&m.model, &x, &seed, &Target::Predicted, InitRelevance::Logit)
                .unwrap()
                .input_relevance()
                .clone()
        })
        .collect();
    assert!(maps[0].iter().any(|&v| v != 0.0));
    for (file, map) in LAYOUTS.iter().zip(&maps).skip(1) {
        // Same float32 weights, same arithmetic: bit for bit.
        assert_eq!(map, &maps[0], "{file}");
    }
}

#[test]
fn the_tree_keeps_matlab_column_major_order() {
    let arrays = tree::read(&weights_dir().join("matlab_net_dlt.mat")).unwrap();
    let nn = arrays.iter().find(|a| a.name == "nn").unwrap();
    assert_eq!(nn.describe(), "struct 1×1");
    let size = nn.field(0, "SIZE").unwrap();
    assert_eq!(size.values(), Some(&[784.0f32, 16.0, 10.0][..]));
    let tree::MatKind::Cell(ws) = &nn.field(0, "w").unwrap().kind else {
        panic!("nn.W is not a cell")
    };
    assert_eq!(ws[0].dims, [16, 785]);
    // Column 1 (the bias) comes first in column-major storage: equal to the plain file's b1.
    let plain = tree::read(&weights_dir().join("matlab_net_plain.mat")).unwrap();
    let b1 = plain.iter().find(|a| a.name == "b1").unwrap();
    assert_eq!(&ws[0].values().unwrap()[..16], b1.values().unwrap());
}

/// Truncations and single-byte corruptions of the three fixtures: every one is an error or a model, never a panic.
#[test]
fn damaged_files_never_panic() {
    for file in LAYOUTS {
        let bytes = std::fs::read(weights_dir().join(file)).unwrap();
        let mut cases: Vec<Vec<u8>> = (0..bytes.len()).step_by(997).map(|n| bytes[..n].to_vec()).collect();
        // The tree itself, uncompressed: corrupt every tag, size and dimension near the start of each array.
        let raw = uncompressed(&bytes);
        assert!(tree::parse(Path::new("raw.mat"), &raw).is_ok(), "{file}");
        for at in (128..raw.len()).step_by(if raw.len() > 4096 { 7 } else { 1 }).take(600) {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut b = raw.clone();
                b[at] ^= flip;
                cases.push(b);
            }
        }
        for n in (128..raw.len()).step_by(389) {
            cases.push(raw[..n].to_vec());
        }
        for case in &cases {
            let path = Path::new("case.mat");
            if let Ok(arrays) = tree::parse(path, case)
                && let Ok(m) = weights_mat::load_arrays(path, &arrays, Activation::Relu)
            {
                let x = ArrayD::zeros(ndarray::IxDyn(&[1, m.model.input_len()]));
                let _ = m.model.logits(&x);
            }
        }
    }
}

/// The file with each compressed variable replaced by its inflated element (what MATLAB's `-v6` writes).
fn uncompressed(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = bytes[..128].to_vec();
    let mut at = 128;
    while at + 8 <= bytes.len() {
        let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &bytes[at + 8..at + 8 + size];
        assert_eq!(kind, 15, "scipy compresses every variable");
        let mut inflated = vec![];
        flate2::read::ZlibDecoder::new(body).read_to_end(&mut inflated).unwrap();
        out.extend_from_slice(&inflated);
        at += 8 + size;
    }
    out
}

fn run_cli(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lrp-explorer"))
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

#[test]
fn info_and_explain_open_every_layout() {
    use ndarray_npy::WriteNpyExt;
    let dir = tempfile::tempdir().unwrap();
    let x_path = dir.path().join("x.npy");
    expected("x")
        .write_npy(std::fs::File::create(&x_path).unwrap())
        .unwrap();
    let mut maps = vec![];
    for file in LAYOUTS {
        let model = weights_dir().join(file);
        let model = model.to_str().unwrap();
        let info = run_cli(&["info", "--model", model]);
        assert!(
            info.contains("input: [784]") && info.contains("ReLU between layers"),
            "{info}"
        );
        assert!(info.contains("note: "), "{info}");
        let out = dir.path().join(format!("{file}.npy"));
        let x = x_path.to_str().unwrap();
        run_cli(&[
            "explain",
            "--model",
            model,
            "--input",
            x,
            "--rule",
            "seed",
            "--out",
            out.to_str().unwrap(),
        ]);
        maps.push(read_f32(&out));
    }
    assert_eq!(maps[0].shape(), [2, 784]);
    assert_eq!(maps[1], maps[0]);
    assert_eq!(maps[2], maps[0]);
    let info = run_cli(&[
        "info",
        "--model",
        weights_dir().join("matlab_net_layers.mat").to_str().unwrap(),
    ]);
    assert!(
        info.contains("note: layout: struct nn with a cell array nn.layers"),
        "{info}"
    );
}
