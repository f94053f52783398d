//! Speed of everything around the engine: opening ONNX models, reading the digit files and encoding heatmap PNGs.
//!
//! `cargo bench --bench io`. `open_onnx/examples_net` is pytorch/examples' MNIST `Net` (two 3×3 convolutions, 9216→128
//! →10, 1.2 M parameters, a 4.8 MB file) with seeded random weights, written by this crate's ONNX writer in the
//! classic exporter's form; the `realworld` files are opened from `../shared/fixtures/` when they are there, and
//! any files listed in `LRP_BENCH_ONNX` (separated by `:`), e.g. the same `Net` exported by PyTorch itself. The 10,000-digit MATLAB file is the LRP Toolbox's test set, read from
//! `../shared/lrp-toolbox/` when it is there (it is not part of this repository); the IDX files are the
//! bundled ones (2,000 + 8,000 digits).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lrp_explorer::data::load_dataset;
use lrp_explorer::heatmap::{Colormap, export::png_bytes, relevance_image, side_by_side, upscale_nearest};
use lrp_explorer::model::onnx;
use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use ndarray::{Array1, Array2, Array4};

/// The same allocator as the `lrp-explorer` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reading(c: &mut Criterion) {
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    for (name, path) in [
        ("idx_test_2000", root().join("assets/test-images-idx3-ubyte.gz")),
        ("idx_train_8000", root().join("assets/train-images-idx3-ubyte.gz")),
        (
            "mat_toolbox_10000",
            root().join("../shared/lrp-toolbox/test_images.mat"),
        ),
    ] {
        if !path.exists() {
            eprintln!("read/{name}: {} not found, skipped", path.display());
            continue;
        }
        let n = load_dataset(&path, None).map(|d| d.len()).unwrap_or(0);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(load_dataset(Path::new(&path), None).unwrap()))
        });
    }
    group.finish();
}

/// Deterministic weights in [−0.05, 0.05).
fn weights(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
        })
        .collect()
}

/// pytorch/examples `mnist/main.py`'s `Net` (dropout is not part of an exported graph in eval mode).
fn examples_net() -> Model {
    let conv = |o: usize, i: usize, seed: u64| {
        Layer::Conv2d(Conv2d {
            weight: Array4::from_shape_vec((o, i, 3, 3), weights(o * i * 9, seed)).unwrap(),
            bias: Some(Array1::from(weights(o, seed + 1))),
            stride: [1, 1],
            padding: [0; 4],
        })
    };
    let dense = |o: usize, i: usize, seed: u64| {
        Layer::Dense(Dense {
            weight: Array2::from_shape_vec((o, i), weights(o * i, seed)).unwrap(),
            bias: Some(Array1::from(weights(o, seed + 1))),
        })
    };
    let pool = Pool2d {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0; 4],
    };
    let layers = vec![
        conv(32, 1, 1),
        Layer::Relu,
        conv(64, 32, 3),
        Layer::Relu,
        Layer::MaxPool2d(pool),
        Layer::Flatten,
        dense(128, 9216, 5),
        Layer::Relu,
        dense(10, 128, 7),
    ];
    Model::new("examples_net", vec![1, 28, 28], layers, OutputActivation::LogSoftmax).unwrap()
}

fn open_onnx(c: &mut Criterion) {
    let mut group = c.benchmark_group("open_onnx");
    group.sample_size(20);
    let bytes = onnx::to_bytes(&examples_net(), &Default::default()).unwrap();
    eprintln!("open_onnx/examples_net: {} bytes", bytes.len());
    group.bench_function("examples_net", |b| {
        b.iter(|| black_box(onnx::from_bytes(&bytes, Path::new("examples_net.onnx")).unwrap()))
    });
    let mut files: Vec<(String, PathBuf)> = ["C_classic", "E_keras", "F_sklearn"]
        .iter()
        .map(|name| {
            let path = root().join(format!("../shared/fixtures/realworld/models/{name}.onnx"));
            (format!("realworld_{name}"), path)
        })
        .collect();
    for path in std::env::var("LRP_BENCH_ONNX")
        .unwrap_or_default()
        .split(':')
        .filter(|p| !p.is_empty())
    {
        let path = PathBuf::from(path);
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        files.push((stem, path));
    }
    for (name, path) in files {
        if !path.exists() {
            eprintln!("open_onnx/{name}: {} not found, skipped", path.display());
            continue;
        }
        group.bench_function(name, |b| b.iter(|| black_box(onnx::read(&path).unwrap())));
    }
    group.finish();
}

fn png(c: &mut Criterion) {
    // A digit-like relevance map: positive strokes, negative background speckles.
    let values: Vec<f32> = (0..784)
        .map(|i| {
            let (y, x) = ((i / 28) as f32 - 14.0, (i % 28) as f32 - 14.0);
            (-(y * y + x * x) / 40.0).exp() - 0.2 * ((i * 7919) % 13) as f32 / 13.0
        })
        .collect();
    let mut group = c.benchmark_group("png");
    for scale in [1u32, 10] {
        let heat = upscale_nearest(&relevance_image(&values, 28, 28, 1.0, Colormap::Bwr), scale);
        group.bench_function(format!("heatmap_x{scale}"), |b| {
            b.iter(|| black_box(png_bytes(Path::new("bench.png"), &heat).unwrap()))
        });
    }
    group.bench_function("render_and_encode_side_by_side_x10", |b| {
        b.iter(|| {
            let img = upscale_nearest(&relevance_image(&values, 28, 28, 1.0, Colormap::Bwr), 10);
            black_box(png_bytes(Path::new("bench.png"), &side_by_side(&[&img, &img], 4)).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, open_onnx, reading, png);
criterion_main!(benches);
