//! Speed of the engine: one sample at a time (what the window does) and batches (what `export` does).
//!
//! `cargo bench --bench lrp`. Models are the fixture MLP (784-300-100-10) and CNN (two 5×5 convolutions).

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use ndarray::{ArrayD, Axis, IxDyn};
use std::hint::black_box;

/// The same allocator as the `lrp-explorer` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn batch(x: &ArrayD<f32>, n: usize) -> ArrayD<f32> {
    let per: Vec<usize> = x.shape()[1..].to_vec();
    let rows = x.shape()[0];
    let views: Vec<_> = (0..n).map(|i| x.index_axis(Axis(0), i % rows)).collect();
    let stacked = ndarray::stack(Axis(0), &views).unwrap();
    let mut shape = vec![n];
    shape.extend(per);
    stacked.into_shape_with_order(IxDyn(&shape)).unwrap()
}

const SINGLE_SPECS: [&str; 8] = [
    "lrp0",
    "epsilon:0.25",
    "gamma:0.25",
    "alphabeta:2,1",
    "zplus",
    "wsquare",
    "epsilon_plus_flat",
    "epsilon_gamma_box:0,1",
];

fn single_sample(c: &mut Criterion) {
    for name in ["mlp", "cnn"] {
        let model = common::npz_model(name);
        let x = batch(&common::inputs(name), 1);
        let mut group = c.benchmark_group(format!("single/{name}"));
        for spec in SINGLE_SPECS {
            let method: Method = spec.parse().unwrap();
            group.bench_with_input(BenchmarkId::from_parameter(spec), &method, |b, m| {
                b.iter(|| black_box(explain(&model, &x, m, &Target::Predicted, InitRelevance::Logit).unwrap()))
            });
        }
        group.finish();
    }
}

fn batched(c: &mut Criterion) {
    for (name, spec) in [
        ("mlp", "epsilon:0.25"),
        ("cnn", "epsilon_plus_flat"),
        ("cnn", "epsilon_gamma_box:0,1"),
    ] {
        let model = common::npz_model(name);
        let x = batch(&common::inputs(name), 1000);
        let method: Method = spec.parse().unwrap();
        let mut group = c.benchmark_group(format!("batch1000/{name}"));
        group.throughput(Throughput::Elements(1000));
        group.sample_size(10);
        group.bench_function(spec, |b| {
            b.iter(|| black_box(explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap()))
        });
        group.finish();
    }
}

/// The window's comparison grid as the window computes it (`app::compare`): every configuration of
/// `lrp::grid_entries` (single rules, presets, gradient baselines) on one sample.
fn comparison_grid(c: &mut Criterion) {
    use lrp_explorer::app::compare::{CompareMode, CompareRequest, cells_for, run_compare};
    for name in ["mlp", "cnn"] {
        let model = std::sync::Arc::new(common::npz_model(name));
        let x = batch(&common::inputs(name), 1);
        let input: Vec<f32> = x.iter().copied().collect();
        let req = CompareRequest {
            generation: 0,
            model,
            cells: cells_for(&CompareMode::Rules, 0, 1, |_| input.clone()),
            input_range: (0.0, 1.0),
            target: Target::Predicted,
            init: InitRelevance::Logit,
        };
        assert!(run_compare(&req).cells.iter().all(|cell| cell.relevance.is_ok()));
        let cells = lrp_explorer::lrp::grid_entries().count();
        c.bench_function(&format!("grid{cells}/{name}"), |b| {
            b.iter(|| black_box(run_compare(&req)))
        });
    }
}

/// The window's unit gallery: the top 8 of 10,000 samples of the bundled CNN for a first-convolution channel.
fn gallery(c: &mut Criterion) {
    use lrp_explorer::eval::{GalleryRequest, Progress, run_gallery};
    use std::sync::Arc;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let model = Arc::new(lrp_explorer::model::load(&root.join("models/cnn.onnx")).unwrap().model);
    let ds = lrp_explorer::data::load_dataset(&root.join("test-images-idx3-ubyte.gz"), None).unwrap();
    let pre = lrp_explorer::data::Preprocess::default();
    let inputs: Vec<Vec<f32>> = (0..10_000)
        .map(|i| pre.apply_one(ds.image(i % ds.len()), ds.height, ds.width))
        .collect();
    let method: Method = "epsilon_plus".parse().unwrap();
    let Method::Lrp(composite) = &method else {
        unreachable!()
    };
    let plan = composite.resolve(&model).unwrap();
    let position = (1..model.layers().len())
        .find(|&k| model.shape_at(k).len() == 3)
        .unwrap();
    let mut group = c.benchmark_group("gallery10000/cnn");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("epsilon_plus", |b| {
        b.iter(|| {
            let req = GalleryRequest {
                model: model.clone(),
                inputs: inputs.clone(),
                method: method.clone(),
                plan: plan.clone(),
                position,
                unit: 2,
                target: Target::Predicted,
                init: InitRelevance::Logit,
                top: 8,
                progress: Arc::new(Progress::default()),
            };
            black_box(run_gallery(&req).unwrap())
        })
    });
    group.finish();
}

/// The same small CNN (Conv 4@3×3, MaxPool, Conv 6@3×3, MaxPool, Dense 150→10) imported from Keras 3 (NHWC input,
/// transposes absorbed at import) and from PyTorch's classic exporter (`tests/fixtures/onnx_exporters/`): one sample,
/// as in the window, and a batch of 1000.
fn exporters(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx_exporters");
    let method: Method = "epsilon_plus_flat".parse().unwrap();
    for n in [1usize, 1000] {
        let mut group = c.benchmark_group(format!("exporters/batch{n}"));
        group.throughput(Throughput::Elements(n as u64));
        if n > 1 {
            group.sample_size(10);
        }
        for name in ["keras_nhwc", "torch_classic"] {
            let model = lrp_explorer::model::load(&dir.join(format!("{name}.onnx")))
                .unwrap()
                .model;
            let x = batch(&common::read_f32(dir.join(format!("{name}.input.npy"))), n);
            group.bench_function(name, |b| {
                b.iter(|| black_box(explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, single_sample, batched, comparison_grid, gallery, exporters);
criterion_main!(benches);
