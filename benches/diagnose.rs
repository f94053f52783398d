//! Speed of `diagnose`: the whole catalogue (every configuration × start × up to two mistakes) for one MNIST
//! sample, which must stay under 50 ms so that the Check tab can follow the user changing sample.
//!
//! `cargo bench --bench diagnose`. Models: the bundled MLPs (`assets/models/mlp.onnx`, `mlp-784-100-10.onnx`) and
//! the bundled CNN.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use lrp_explorer::diagnose::{Options, diagnose};
use ndarray::Axis;

/// The same allocator as the `lrp-explorer` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn catalogue(c: &mut Criterion) {
    let x = common::inputs("mlp")
        .index_axis(Axis(0), 0)
        .insert_axis(Axis(0))
        .to_owned();
    for file in ["mlp.onnx", "mlp-784-100-10.onnx", "cnn.onnx"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models").join(file);
        let model = lrp_explorer::model::load(&path).unwrap().model;
        let user: Vec<f32> = x.iter().map(|&v| v * 0.5 - 0.1).collect();
        let options = Options::default();
        let compared = diagnose(&model, &x, &user, &options).unwrap().compared;
        c.bench_function(&format!("diagnose/{file} ({compared} candidates)"), |b| {
            b.iter(|| diagnose(black_box(&model), &x, &user, &options).unwrap())
        });
    }
}

criterion_group!(benches, catalogue);
criterion_main!(benches);
