//! Properties of the engine on random ReLU networks (dense and convolutional, with max pooling).

use lrp_explorer::lrp::{InitRelevance, Method, Target, explain};
use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use ndarray::{Array1, Array2, Array4, ArrayD, IxDyn};
use proptest::prelude::*;

struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let u = ((z ^ (z >> 31)) >> 11) as f32 / (1u64 << 53) as f32;
        lo + (hi - lo) * u
    }
}

fn dense(rng: &mut Rng, o: usize, k: usize, bias: bool) -> Layer {
    Layer::Dense(Dense {
        weight: Array2::from_shape_fn((o, k), |_| rng.uniform(-0.6, 0.6)),
        bias: bias.then(|| Array1::from_shape_fn(o, |_| rng.uniform(-0.3, 0.3))),
    })
}

fn conv(rng: &mut Rng, o: usize, c: usize, bias: bool) -> Layer {
    Layer::Conv2d(Conv2d {
        weight: Array4::from_shape_fn((o, c, 3, 3), |_| rng.uniform(-0.5, 0.5)),
        bias: bias.then(|| Array1::from_shape_fn(o, |_| rng.uniform(-0.3, 0.3))),
        stride: [1, 1],
        padding: [1, 1, 1, 1],
    })
}

/// A small random MLP or CNN.
fn network(seed: u64, convolutional: bool, bias: bool) -> (Model, ArrayD<f32>) {
    let mut rng = Rng(seed);
    let n = 3;
    if convolutional {
        let pool = Pool2d {
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0; 4],
        };
        let layers = vec![
            conv(&mut rng, 4, 1, bias),
            Layer::Relu,
            Layer::MaxPool2d(pool),
            conv(&mut rng, 5, 4, bias),
            Layer::Relu,
            Layer::Flatten,
            dense(&mut rng, 6, 5 * 4 * 4, bias),
            Layer::Relu,
            dense(&mut rng, 4, 6, bias),
        ];
        let model = Model::new("cnn", vec![1, 8, 8], layers, OutputActivation::None).unwrap();
        let x = ArrayD::from_shape_fn(IxDyn(&[n, 1, 8, 8]), |_| rng.uniform(0.0, 1.0));
        (model, x)
    } else {
        let layers = vec![
            dense(&mut rng, 12, 10, bias),
            Layer::Relu,
            dense(&mut rng, 8, 12, bias),
            Layer::Relu,
            dense(&mut rng, 4, 8, bias),
        ];
        let model = Model::new("mlp", vec![10], layers, OutputActivation::None).unwrap();
        let x = ArrayD::from_shape_fn(IxDyn(&[n, 10]), |_| rng.uniform(-1.0, 1.0));
        (model, x)
    }
}

fn max_abs_diff(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    a.iter().zip(b.iter()).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn scale(a: &ArrayD<f32>) -> f32 {
    a.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With zero biases LRP-0 loses nothing: every layer's total equals the explained logit.
    #[test]
    fn lrp0_without_bias_conserves_relevance(seed in any::<u64>(), convolutional in any::<bool>()) {
        let (model, x) = network(seed, convolutional, false);
        let e = explain(&model, &x, &Method::Lrp(lrp_explorer::lrp::Composite::uniform(
            lrp_explorer::lrp::LayerRule::new(lrp_explorer::lrp::Rule::Epsilon { epsilon: 1e-9 }))),
            &Target::Predicted, InitRelevance::Logit).unwrap();
        let totals = e.layer_totals();
        for i in 0..totals.nrows() {
            let top = totals[[i, totals.ncols() - 1]];
            for k in 0..totals.ncols() {
                prop_assert!((totals[[i, k]] - top).abs() <= 1e-4 * top.abs().max(1.0),
                    "sample {i} layer {k}: {} vs {top}", totals[[i, k]]);
            }
        }
    }

    /// On ReLU networks, LRP-0 started from the logit equals input × gradient (biases included).
    #[test]
    fn lrp0_with_logit_init_equals_input_times_gradient(seed in any::<u64>(), convolutional in any::<bool>()) {
        let (model, x) = network(seed, convolutional, true);
        let lrp = explain(&model, &x, &"lrp0".parse().unwrap(), &Target::Predicted, InitRelevance::Logit).unwrap();
        let ixg = explain(&model, &x, &Method::InputXGradient, &Target::Predicted, InitRelevance::OneHot).unwrap();
        let (a, b) = (lrp.input_relevance(), ixg.input_relevance());
        // Exact in real arithmetic; in float32, units with a pre-activation near 0 amplify rounding in R/z.
        prop_assert!(max_abs_diff(a, b) <= 5e-4 * scale(b), "{} (scale {})", max_abs_diff(a, b), scale(b));
    }

    /// z⁺ and α1β0 are the same rule.
    #[test]
    fn zplus_equals_alpha1_beta0(seed in any::<u64>(), convolutional in any::<bool>()) {
        let (model, x) = network(seed, convolutional, true);
        let z = explain(&model, &x, &"zplus".parse().unwrap(), &Target::Predicted, InitRelevance::OneHot).unwrap();
        let ab = explain(&model, &x, &"alphabeta:1,0".parse().unwrap(), &Target::Predicted, InitRelevance::OneHot).unwrap();
        for (a, b) in z.relevance.iter().zip(&ab.relevance) {
            prop_assert!(max_abs_diff(a, b) <= 1e-6 * scale(b));
        }
    }

    /// Every rule is linear in the initial relevance: logit init = logit × one-hot init.
    #[test]
    fn logit_init_is_logit_times_onehot(seed in any::<u64>(), convolutional in any::<bool>()) {
        let (model, x) = network(seed, convolutional, true);
        for spec in ["epsilon:0.1", "gamma:0.25", "alphabeta:2,1", "flat", "wsquare", "zbox:0,1"] {
            let m: Method = spec.parse().unwrap();
            let l = explain(&model, &x, &m, &Target::Predicted, InitRelevance::Logit).unwrap();
            let o = explain(&model, &x, &m, &Target::Predicted, InitRelevance::OneHot).unwrap();
            let mut scaled = o.input_relevance().clone();
            for (i, mut row) in scaled.outer_iter_mut().enumerate() {
                let logit = l.logits[[i, l.targets[i]]];
                row.mapv_inplace(|v| v * logit);
            }
            prop_assert!(max_abs_diff(l.input_relevance(), &scaled) <= 1e-4 * scale(&scaled), "{spec}");
        }
    }
}
