//! The maps of one sample under a configuration and a set of propagation mistakes, one per initial relevance.
//!
//! The five starts of [`Init::ALL`] propagate together as one batch of five identical samples, so that one pass
//! per (configuration, propagation) gives every start's map, with the user's own arithmetic: a 0/0 in a class
//! that does not take part still poisons the map when there is no stabiliser, as it does in their code.

use ndarray::{Array2, ArrayD, Axis, IxDyn, Zip};

use super::catalogue::{Computation, Config, Init, Propagation};
use crate::lrp::{LayerRule, Rule, layer_gradient, layer_relevance};
use crate::model::{Layer, Model};

/// The forward pass of one sample, repeated once per start so that all starts propagate as one batch.
pub struct Forward {
    /// Per layer input (then the logits), each `[starts, shape...]` with identical rows.
    pub activations: Vec<ArrayD<f32>>,
    /// The sample's logits.
    pub logits: Vec<f32>,
    /// The explained class.
    pub class: usize,
    /// `[starts, classes]`: the initial relevance of each [`Init::ALL`].
    pub starts: Array2<f32>,
}

impl Forward {
    /// Runs `x` (one sample, the model's input shape, batch axis included) through `model`; explains `class`, or
    /// the predicted class when `None`.
    pub fn new(model: &Model, x: &ArrayD<f32>, class: Option<usize>) -> Result<Forward, crate::error::ModelError> {
        let acts = model.forward(x)?;
        let logits: Vec<f32> = acts.last().map(|a| a.iter().copied().collect()).unwrap_or_default();
        let classes = logits.len();
        let class = class
            .filter(|&c| c < classes)
            .unwrap_or_else(|| crate::lrp::argmax(ndarray::ArrayView1::from(&logits[..])));
        let top = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let exp: Vec<f32> = logits.iter().map(|&v| (v - top).exp()).collect();
        let total: f32 = exp.iter().sum();
        let softmax: Vec<f32> = exp.iter().map(|&e| e / total).collect();
        let mut starts = Array2::zeros((Init::ALL.len(), classes));
        for (row, init) in Init::ALL.iter().enumerate() {
            match init {
                Init::Logit => starts[[row, class]] = logits[class],
                Init::OneHot => starts[[row, class]] = 1.0,
                Init::AllLogits => starts.row_mut(row).assign(&ndarray::ArrayView1::from(&logits[..])),
                Init::AllSoftmax => starts.row_mut(row).assign(&ndarray::ArrayView1::from(&softmax[..])),
                Init::ClassSoftmax => starts[[row, class]] = softmax[class],
            }
        }
        let rows = Init::ALL.len();
        let activations = acts
            .iter()
            .map(|a| {
                let mut shape = a.shape().to_vec();
                shape[0] = rows;
                a.broadcast(IxDyn(&shape))
                    .map(|b| b.to_owned())
                    .unwrap_or_else(|| ArrayD::zeros(IxDyn(&shape)))
            })
            .collect();
        Ok(Forward {
            activations,
            logits,
            class,
            starts,
        })
    }
}

/// `[starts, input_len]`: row `s` is the input map for the start [`Init::ALL`]`[s]`.
pub fn start_maps(model: &Model, fwd: &Forward, config: &Config, prop: Propagation) -> Array2<f32> {
    let layers = model.layers().len();
    let rows = fwd.starts.nrows();
    let acts = &fwd.activations;
    let mut shape = vec![rows];
    shape.extend_from_slice(model.shape_at(layers));
    let mut r = fwd
        .starts
        .clone()
        .into_dyn()
        .into_shape_with_order(IxDyn(&shape))
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)));
    match &config.computation {
        Computation::Lrp(plan) => {
            let first = model.first_weighted();
            for k in (0..layers).rev() {
                let mut rule = plan[k];
                if prop.no_stabiliser {
                    rule = without_stabiliser(rule);
                }
                let pre = prop.pre_activations
                    && k >= 1
                    && matches!(model.layers()[k - 1], Layer::Relu)
                    && matches!(model.layers()[k], Layer::Dense(_) | Layer::Conv2d(_));
                r = if prop.wsquare_wrong_axis && Some(k) == first && rule.rule == Rule::WSquare {
                    wsquare_over_outputs(model, k, &r, rule)
                } else if pre {
                    let x = &acts[k - 1];
                    let z = model.layer_forward(k, x);
                    layer_relevance(model, k, x, &z, &r, &rule)
                } else {
                    layer_relevance(model, k, &acts[k], &acts[k + 1], &r, &rule)
                };
            }
        }
        Computation::Gradient | Computation::InputXGradient => {
            for k in (0..layers).rev() {
                r = layer_gradient(model, k, &acts[k], &r);
            }
            if config.computation == Computation::InputXGradient {
                Zip::from(&mut r).and(&acts[0]).for_each(|r, &x| *r *= x);
            }
        }
    }
    let len = model.input_len();
    r.as_standard_layout()
        .into_owned()
        .into_shape_with_order((rows, len))
        .unwrap_or_else(|_| Array2::zeros((rows, len)))
}

/// The same rule with a zero stabiliser (and ε = 0 for LRP-ε).
fn without_stabiliser(mut rule: LayerRule) -> LayerRule {
    rule.stabilizer = 0.0;
    if let Rule::Zero | Rule::Epsilon { .. } = rule.rule {
        rule.rule = Rule::Epsilon { epsilon: 0.0 };
    }
    rule
}

/// The mistaken w²: `R_i = Σ_j w_ji² R_j / Σ_j' w_j'i²` (normalised per input over the outputs).
fn wsquare_over_outputs(model: &Model, k: usize, r: &ArrayD<f32>, rule: LayerRule) -> ArrayD<f32> {
    let Layer::Dense(d) = &model.layers()[k] else {
        return ArrayD::zeros(IxDyn(&[r.shape()[0], model.shape_at(k).iter().product()]));
    };
    let w2 = d.weight.mapv(|v| v * v);
    let norm = w2.sum_axis(Axis(0)).mapv(|s| s + rule.stabilizer);
    let n = r.shape()[0];
    let r2 = r
        .to_shape((n, d.weight.nrows()))
        .map(|v| v.to_owned())
        .unwrap_or_else(|_| Array2::zeros((n, d.weight.nrows())));
    let mut out = r2.dot(&w2);
    out /= &norm;
    let mut shape = vec![n];
    shape.extend_from_slice(model.shape_at(k));
    out.into_dyn()
        .into_shape_with_order(IxDyn(&shape))
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)))
}
