//! The top samples of a unit ("gallery"): batched over the set in parallel, equal to the engine's per-sample
//! totals, cancellable with progress; and its speed on 10,000 samples of the bundled CNN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use lrp_explorer::app::analysis::{GalleryRequest, Progress, run_gallery};
use lrp_explorer::data::{Preprocess, load_dataset};
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use lrp_explorer::model::Model;
use ndarray::{ArrayD, Axis, IxDyn};

fn bundled() -> (Arc<Model>, Vec<Vec<f32>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let model = lrp_explorer::model::load(&root.join("models/cnn.onnx")).unwrap().model;
    let ds = load_dataset(&root.join("test-images-idx3-ubyte.gz"), None).unwrap();
    let pre = Preprocess::default();
    let inputs = (0..ds.len())
        .map(|i| pre.apply_one(ds.image(i), ds.height, ds.width))
        .collect();
    (Arc::new(model), inputs)
}

fn request(model: Arc<Model>, inputs: Vec<Vec<f32>>, position: usize, unit: usize) -> GalleryRequest {
    let method = "epsilon_plus".parse::<Method>().unwrap();
    let Method::Lrp(c) = &method else { unreachable!() };
    let plan = c.resolve(&model).unwrap();
    GalleryRequest {
        generation: 1,
        model,
        inputs,
        method,
        plan,
        position,
        unit,
        target: Target::Predicted,
        init: InitRelevance::Logit,
        top: 8,
        progress: Arc::new(Progress::default()),
    }
}

/// The first position with a `[C, H, W]` shape after the input (a convolution's output).
fn conv_position(m: &Model) -> usize {
    (1..m.layers().len()).find(|&k| m.shape_at(k).len() == 3).unwrap()
}

/// Relevance of `unit` (a channel) at `position` for each sample, one engine call per sample.
fn direct_totals(m: &Model, inputs: &[Vec<f32>], position: usize, unit: usize) -> Vec<f32> {
    let method = "epsilon_plus".parse::<Method>().unwrap();
    let mut shape = vec![1];
    shape.extend_from_slice(m.input_shape());
    inputs
        .iter()
        .map(|x| {
            let x = ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).unwrap();
            let e = explain(m, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
            e.relevance[position]
                .index_axis(Axis(0), 0)
                .index_axis(Axis(0), unit)
                .sum()
        })
        .collect()
}

#[test]
fn the_gallery_is_the_top_of_the_engines_totals() {
    let (model, mut inputs) = bundled();
    inputs.truncate(700);
    let position = conv_position(&model);
    let req = request(model.clone(), inputs.clone(), position, 3);
    let g = run_gallery(&req).unwrap();
    assert_eq!(req.progress.counts(), (700, 700));
    let totals = direct_totals(&model, &inputs, position, 3);
    let mut order: Vec<usize> = (0..totals.len()).collect();
    order.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
    let got: Vec<usize> = g.top.iter().map(|t| t.0).collect();
    assert_eq!(got, order[..8].to_vec());
    for &(i, t) in &g.top {
        assert!(
            (t - totals[i]).abs() < 1e-4 * totals[i].abs().max(1.0),
            "{i}: {t} vs {}",
            totals[i]
        );
    }
    // A dense neuron: the hidden layer before the last Dense.
    let dense = model.layers().len() - 1;
    let g = run_gallery(&request(model.clone(), inputs[..300].to_vec(), dense, 5)).unwrap();
    let method = "epsilon_plus".parse::<Method>().unwrap();
    let (i, t) = g.top[0];
    let mut shape = vec![1];
    shape.extend_from_slice(model.input_shape());
    let x = ArrayD::from_shape_vec(IxDyn(&shape), inputs[i].clone()).unwrap();
    let e = explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
    assert!((e.relevance[dense][[0, 5]] - t).abs() < 1e-4);
}

#[test]
fn a_cancelled_gallery_stops() {
    let (model, inputs) = bundled();
    let position = conv_position(&model);
    let req = request(model, inputs, position, 0);
    req.progress.request_cancel();
    assert_eq!(run_gallery(&req), Err("cancelled".to_string()));
    assert_eq!(req.progress.counts().0, 0);
}

#[test]
#[ignore = "timing: cargo test --test gallery -- --ignored --nocapture"]
fn gallery_speed_on_10000_samples() {
    let (model, inputs) = bundled();
    let inputs: Vec<Vec<f32>> = inputs.iter().cycle().take(10_000).cloned().collect();
    let position = conv_position(&model);
    let req = request(model, inputs, position, 2);
    let start = Instant::now();
    let g = run_gallery(&req).unwrap();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("gallery over 10000 samples (position {position}): {secs:.2} s");
    assert_eq!(g.top.len(), 8);
}
