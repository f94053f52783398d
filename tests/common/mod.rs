//! Helpers shared by the integration tests: fixture paths, npy reading, the normalised error.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use ndarray::{Array1, Array2, Array4, ArrayD};
use ndarray_npy::{NpzReader, ReadNpyExt};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn read_f32(path: impl AsRef<Path>) -> ArrayD<f32> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ArrayD::<f32>::read_npy(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn read_i64(path: impl AsRef<Path>) -> ArrayD<i64> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ArrayD::<i64>::read_npy(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture inputs in the layout of model `name` (`mlp`: `[8, 784]`, `cnn`: `[8, 1, 28, 28]`).
pub fn inputs(name: &str) -> ArrayD<f32> {
    match name {
        "mlp" => read_f32(fixtures().join("inputs/images_flat.npy")),
        _ => read_f32(fixtures().join("inputs/images_nchw.npy")),
    }
}

/// Per sample: `max|a − b| / max|b|`; returns the worst over the batch.
pub fn max_norm_err(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f64 {
    assert_eq!(a.len(), b.len(), "sizes differ: {:?} vs {:?}", a.shape(), b.shape());
    let n = b.shape()[0];
    let per = b.len() / n;
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (a, b) = (a.as_slice().unwrap(), b.as_slice().unwrap());
    let mut worst = 0.0f64;
    for i in 0..n {
        let (ai, bi) = (&a[i * per..][..per], &b[i * per..][..per]);
        let scale = bi.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
        let err = ai
            .iter()
            .zip(bi)
            .fold(0.0f64, |m, (&x, &y)| m.max((x as f64 - y as f64).abs()));
        let e = if scale > 0.0 { err / scale } else { err };
        worst = worst.max(e);
    }
    worst
}

/// Builds the fixture model `mlp` or `cnn` from its `state_dict` (`.npz`), independently of the readers.
pub fn npz_model(name: &str) -> Model {
    let file = std::fs::File::open(fixtures().join(format!("models/{name}.npz"))).unwrap();
    let mut npz = NpzReader::new(file).unwrap();
    let mut dense = |k: usize| -> Layer {
        let w: Array2<f32> = npz.by_name(&format!("{k}.weight")).unwrap();
        let b: Array1<f32> = npz.by_name(&format!("{k}.bias")).unwrap();
        Layer::Dense(Dense {
            weight: w,
            bias: Some(b),
        })
    };
    if name == "mlp" {
        let layers = vec![dense(0), Layer::Relu, dense(2), Layer::Relu, dense(4)];
        return Model::new("mlp", vec![784], layers, OutputActivation::None).unwrap();
    }
    let file = std::fs::File::open(fixtures().join(format!("models/{name}.npz"))).unwrap();
    let mut npz2 = NpzReader::new(file).unwrap();
    let mut conv = |k: usize| -> Layer {
        let w: Array4<f32> = npz2.by_name(&format!("{k}.weight")).unwrap();
        let b: Array1<f32> = npz2.by_name(&format!("{k}.bias")).unwrap();
        Layer::Conv2d(Conv2d {
            weight: w,
            bias: Some(b),
            stride: [1, 1],
            padding: [0; 4],
        })
    };
    let pool = Pool2d {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0; 4],
    };
    let layers = vec![
        conv(0),
        Layer::Relu,
        Layer::MaxPool2d(pool),
        conv(3),
        Layer::Relu,
        Layer::MaxPool2d(pool),
        Layer::Flatten,
        dense(7),
        Layer::Relu,
        dense(9),
    ];
    Model::new("cnn", vec![1, 28, 28], layers, OutputActivation::None).unwrap()
}

/// Every Zennit configuration directory of a fixture model.
pub fn zennit_configs(model: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(fixtures().join("zennit").join(model))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The rule spec that reproduces a Zennit fixture configuration.
pub fn spec_for_config(config: &str) -> String {
    match config {
        "lrp0" => "lrp0".into(),
        "epsilon_0.25" => "epsilon:0.25".into(),
        "epsilon_0.01" => "epsilon:0.01".into(),
        "zplus" => "zplus".into(),
        "alpha2beta1" => "alphabeta:2,1".into(),
        "alpha1beta0" => "alphabeta:1,0".into(),
        "gamma_0.25" => "gamma:0.25".into(),
        "flat" => "flat".into(),
        "wsquare" => "wsquare".into(),
        "epsilon_gamma_box" => "epsilon_gamma_box:0,1".into(),
        "seed_wsquare_zplus" => "seed".into(),
        other => other.into(),
    }
}

/// `(layer index, file)` of every stored per-layer relevance of a configuration, plus the input (`0`).
pub fn stored_layers(dir: &Path) -> Vec<(usize, PathBuf)> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "R_input.npy" {
            out.push((0, entry.path()));
        } else if let Some(rest) = name.strip_prefix("R_in_L") {
            let k: usize = rest.split('_').next().unwrap().parse().unwrap();
            out.push((k, entry.path()));
        }
    }
    out.sort();
    out
}

/// Writes the 8 fixture digits (labels 7 2 1 0 4 1 4 9) as IDX image and label files.
pub fn write_idx(dir: &Path) -> (PathBuf, PathBuf) {
    let images = read_f32(fixtures().join("inputs/images_flat.npy"));
    let labels = read_i64(fixtures().join("inputs/labels.npy"));
    let mut img = 2051u32.to_be_bytes().to_vec();
    for d in [8u32, 28, 28] {
        img.extend_from_slice(&d.to_be_bytes());
    }
    img.extend(images.iter().map(|&v| (v * 255.0).round() as u8));
    let mut lab = 2049u32.to_be_bytes().to_vec();
    lab.extend_from_slice(&8u32.to_be_bytes());
    lab.extend(labels.iter().map(|&l| l as u8));
    let (ip, lp) = (
        dir.join("digits-images-idx3-ubyte"),
        dir.join("digits-labels-idx1-ubyte"),
    );
    std::fs::write(&ip, img).unwrap();
    std::fs::write(&lp, lab).unwrap();
    (ip, lp)
}
