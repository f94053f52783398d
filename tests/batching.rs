//! The batched engine: a batch larger than one chunk is split across threads, and the result must be the
//! same as explaining every sample on its own (targets, logits, relevance at every layer).

mod common;

use lrp_explorer::lrp::{InitRelevance, Method, Target, chunk_size, explain};
use ndarray::{ArrayD, Axis};

/// `n` samples cycling through the fixture digits, each scaled a little differently so that no two are equal.
fn batch(x: &ArrayD<f32>, n: usize) -> ArrayD<f32> {
    let rows = x.shape()[0];
    let views: Vec<ArrayD<f32>> = (0..n)
        .map(|i| x.index_axis(Axis(0), i % rows).mapv(|v| v * (1.0 - 0.003 * i as f32)))
        .collect();
    let views: Vec<_> = views.iter().map(|v| v.view()).collect();
    ndarray::stack(Axis(0), &views).unwrap()
}

fn max_abs_diff(a: ndarray::ArrayViewD<'_, f32>, b: ndarray::ArrayViewD<'_, f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn a_batch_split_across_threads_equals_each_sample_alone() {
    for (name, spec) in [
        ("cnn", "epsilon_plus_flat"),
        ("cnn", "epsilon_gamma_box:0,1"),
        ("mlp", "epsilon:0.25"),
    ] {
        let model = common::npz_model(name);
        let chunk = chunk_size(&model);
        let n = 2 * chunk + 7;
        let x = batch(&common::inputs(name), n);
        let method: Method = spec.parse().unwrap();
        let labels: Vec<usize> = (0..n).map(|i| (i * 3) % 10).collect();
        let whole = explain(
            &model,
            &x,
            &method,
            &Target::PerSample(labels.clone()),
            InitRelevance::Logit,
        )
        .unwrap();
        assert_eq!(whole.targets, labels);
        assert_eq!(whole.relevance.len(), model.layers().len() + 1);
        for i in [0, chunk - 1, chunk, n - 1] {
            let xi = x.slice_axis(Axis(0), (i..i + 1).into()).to_owned();
            let one = explain(&model, &xi, &method, &Target::Class(labels[i]), InitRelevance::Logit).unwrap();
            for (k, (a, b)) in whole.relevance.iter().zip(&one.relevance).enumerate() {
                let a = a.index_axis(Axis(0), i);
                let b = b.index_axis(Axis(0), 0);
                let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
                let err = max_abs_diff(a.view(), b.view()) / scale;
                assert!(
                    err < 1e-5,
                    "{name} {spec}: sample {i}, layer {k}: normalised error {err}"
                );
            }
            let act = max_abs_diff(
                whole.activations[1].index_axis(Axis(0), i),
                one.activations[1].index_axis(Axis(0), 0),
            );
            assert!(act < 1e-5, "{name}: activations of sample {i} differ by {act}");
            assert!(max_abs_diff(whole.logits.row(i).into_dyn(), one.logits.row(0).into_dyn()) < 1e-5);
        }
    }
}

#[test]
fn per_sample_targets_of_the_wrong_length_are_refused_for_large_batches() {
    let model = common::npz_model("mlp");
    let n = chunk_size(&model) + 1;
    let x = batch(&common::inputs("mlp"), n);
    let method: Method = "epsilon:0.25".parse().unwrap();
    let err = explain(
        &model,
        &x,
        &method,
        &Target::PerSample(vec![1; 3]),
        InitRelevance::Logit,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(&format!("3 targets given for {n} samples")),
        "{err}"
    );
}
