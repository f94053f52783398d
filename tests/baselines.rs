//! The gradient baselines follow their definitions whatever `--init` says, on the bundled models and digits:
//! integrated gradients sums to `f_c(x) − f_c(0)` within the error of its Riemann sum (completeness), and the
//! initial relevance chosen for LRP does not scale any baseline.

use std::path::{Path, PathBuf};

use lrp_explorer::data::{choose_preprocess, load_dataset};
use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use lrp_explorer::model::{Model, load};
use ndarray::{ArrayD, IxDyn};

fn asset(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(relative)
}

/// A bundled model and its first `n` bundled test digits, preprocessed the way the window and the CLI do.
fn bundled(model_file: &str, n: usize) -> (Model, ArrayD<f32>) {
    let path = asset(&format!("models/{model_file}"));
    let loaded = load(&path).unwrap();
    let ds = load_dataset(&asset("test-images-idx3-ubyte.gz"), None).unwrap();
    let (pre, _) = choose_preprocess(
        None,
        &path,
        &loaded.metadata,
        loaded.model.input_len(),
        ds.height,
        ds.width,
    )
    .unwrap();
    let x = pre.apply(&ds, 0..n);
    let len = loaded.model.input_len();
    let x = ArrayD::from_shape_vec(IxDyn(&[n, len]), x.iter().copied().collect()).unwrap();
    let x = loaded.model.shape_batch(x).unwrap();
    (loaded.model, x)
}

fn sum(a: ndarray::ArrayViewD<'_, f32>) -> f64 {
    a.iter().map(|&v| f64::from(v)).sum()
}

/// Σ IG = f_c(x) − f_c(0) up to the right Riemann sum's error. On a ReLU network the integrand
/// `h(α) = ⟨x, ∇f_c(αx)⟩` is piecewise constant, so the error of `n` steps is at most the variation of `h`
/// over `[0, 1]` divided by `n`; the variation is measured on the same grid (`h(0), h(1/n), …, h(1)`, each
/// from the plain gradient at `k/n · x`) and doubled, since a grid only sees part of it.
#[test]
fn integrated_gradients_is_complete_on_the_bundled_models() {
    let steps = 64;
    for file in ["mlp.onnx", "mlp-784-100-10.onnx", "cnn.onnx"] {
        let (model, x) = bundled(file, 6);
        let ig = explain(
            &model,
            &x,
            &Method::IntegratedGradients { steps },
            &Target::Predicted,
            InitRelevance::Logit,
        )
        .unwrap();
        let zero = model.logits(&ArrayD::zeros(x.raw_dim())).unwrap();
        for i in 0..x.shape()[0] {
            let c = ig.targets[i];
            let xi = x
                .index_axis(ndarray::Axis(0), i)
                .insert_axis(ndarray::Axis(0))
                .to_owned();
            let want = f64::from(ig.logits[[i, c]]) - f64::from(zero[[i, c]]);
            let got = sum(ig.input_relevance().index_axis(ndarray::Axis(0), i));
            // h(k/n) for k = 0..=n.
            let h: Vec<f64> = (0..=steps)
                .map(|k| {
                    let alpha = k as f32 / steps as f32;
                    let g = explain(
                        &model,
                        &xi.mapv(|v| v * alpha),
                        &Method::Gradient,
                        &Target::Class(c),
                        InitRelevance::OneHot,
                    )
                    .unwrap();
                    let gx = g.input_relevance() * &xi;
                    sum(gx.view())
                })
                .collect();
            let variation: f64 = h.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
            let bound = 2.0 * variation / steps as f64 + 1e-4 * want.abs().max(1.0);
            assert!(
                (got - want).abs() <= bound,
                "{file} sample {i}: Σ IG {got:.5} vs f(x) − f(0) = {want:.5} (bound {bound:.5})"
            );
            // The Riemann sum of the same grid, computed independently from the gradients.
            let riemann: f64 = h[1..].iter().sum::<f64>() / steps as f64;
            assert!(
                (got - riemann).abs() <= 1e-4 * riemann.abs().max(1.0),
                "{file} sample {i}: Σ IG {got} vs the Riemann sum of the gradients {riemann}"
            );
        }
    }
}

/// `--init logit` used to multiply every baseline by the logit (Σ IG 208.8 for a digit whose logit is 14.66):
/// now the initial relevance choice leaves the baselines alone, and still scales LRP.
#[test]
fn init_applies_to_lrp_rules_and_not_to_the_baselines() {
    let (model, x) = bundled("cnn.onnx", 4);
    for method in [
        Method::Gradient,
        Method::InputXGradient,
        Method::IntegratedGradients { steps: 16 },
    ] {
        let logit = explain(&model, &x, &method, &Target::Predicted, InitRelevance::Logit).unwrap();
        let onehot = explain(&model, &x, &method, &Target::Predicted, InitRelevance::OneHot).unwrap();
        assert_eq!(logit.relevance, onehot.relevance, "{method:?}");
        // The gradient's output "relevance" is the one-hot seed, one 1 per sample.
        if method == Method::Gradient {
            let seed = logit.relevance.last().unwrap();
            assert_eq!(sum(seed.view()), 4.0);
        }
    }
    let lrp: Method = "epsilon_plus".parse().unwrap();
    let logit = explain(&model, &x, &lrp, &Target::Predicted, InitRelevance::Logit).unwrap();
    let onehot = explain(&model, &x, &lrp, &Target::Predicted, InitRelevance::OneHot).unwrap();
    for i in 0..4 {
        let scale = f64::from(logit.logits[[i, logit.targets[i]]]);
        let (a, b) = (
            sum(logit.input_relevance().index_axis(ndarray::Axis(0), i)),
            sum(onehot.input_relevance().index_axis(ndarray::Axis(0), i)),
        );
        assert!(
            (a - scale * b).abs() <= 1e-4 * a.abs().max(1.0),
            "sample {i}: {a} vs {scale} × {b}"
        );
        assert!(
            scale > 2.0,
            "the test needs a logit far from 1 to tell the starts apart: {scale}"
        );
    }
}
