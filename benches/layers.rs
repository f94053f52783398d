//! Where the time of one explanation goes: each layer's forward step and relevance step, on a chunk of the
//! batched engine's size ([`lrp_explorer::lrp::chunk_size`] samples, one thread).
//!
//! `cargo bench --bench layers`; names are `<model>/<spec>/L<k>_<kind>/{forward,relevance}`.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use lrp_explorer::lrp::{Method, chunk_size, layer_relevance};
use ndarray::{ArrayD, Axis, IxDyn};
use std::hint::black_box;

/// The same allocator as the `lrp-explorer` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn batch(x: &ArrayD<f32>, n: usize) -> ArrayD<f32> {
    let rows = x.shape()[0];
    let views: Vec<_> = (0..n).map(|i| x.index_axis(Axis(0), i % rows)).collect();
    let stacked = ndarray::stack(Axis(0), &views).unwrap();
    let mut shape = vec![n];
    shape.extend(x.shape()[1..].iter().copied());
    stacked.into_shape_with_order(IxDyn(&shape)).unwrap()
}

fn layers(c: &mut Criterion) {
    for (name, spec) in [
        ("mlp", "epsilon:0.25"),
        ("cnn", "epsilon_plus_flat"),
        ("cnn", "epsilon_gamma_box:0,1"),
    ] {
        let model = common::npz_model(name);
        let x = batch(&common::inputs(name), chunk_size(&model));
        let Method::Lrp(composite) = spec.parse::<Method>().unwrap() else {
            unreachable!()
        };
        let plan = composite.resolve(&model).unwrap();
        let acts = model.forward(&x).unwrap();
        let mut group = c.benchmark_group(format!("{name}/{spec}"));
        for (k, layer) in model.layers().iter().enumerate() {
            let label = format!("L{k}_{:?}", layer.kind());
            group.bench_function(format!("{label}/forward"), |b| {
                b.iter(|| black_box(model.layer_forward(k, &acts[k]).unwrap()))
            });
            // Relevance shaped like the layer's output (its values do not change the work).
            let r = acts[k + 1].clone();
            group.bench_function(format!("{label}/relevance"), |b| {
                b.iter(|| black_box(layer_relevance(&model, k, &acts[k], &acts[k + 1], &r, &plan[k]).unwrap()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, layers);
criterion_main!(benches);
