//! The maps of one sample under a configuration and a set of propagation mistakes, one per initial relevance.
//!
//! The five starts of [`Init::ALL`] propagate together as one batch of five identical samples, so that one pass
//! per (configuration, propagation) gives every start's map, with the user's own arithmetic: a 0/0 in a class
//! that does not take part still poisons the map when there is no stabiliser, as it does in their code.

use ndarray::{Array2, ArrayD, Axis, IxDyn, Zip};

use super::catalogue::{Computation, Config, Init, Propagation};
use crate::error::{LrpError, ModelError};
use crate::lrp::{LayerRule, Rule, layer_gradient, layer_relevance};
use crate::model::{Layer, Model};
use crate::ops::reshaped;

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
    pub fn new(model: &Model, x: &ArrayD<f32>, class: Option<usize>) -> Result<Forward, ModelError> {
        let acts = model.forward(x)?;
        let logits: Vec<f32> = acts.last().ok_or(ModelError::Empty)?.iter().copied().collect();
        let classes = logits.len();
        let class = class
            .filter(|&c| c < classes)
            .unwrap_or_else(|| crate::lrp::argmax(&logits));
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
                // `a` is `[1, shape...]`: its rows repeat.
                let mut shape = a.shape().to_vec();
                shape[0] = rows;
                a.broadcast(IxDyn(&shape))
                    .map(|b| b.to_owned())
                    .ok_or_else(|| ModelError::Shape {
                        index: 0,
                        source: crate::error::ShapeError {
                            op: "one sample repeated per start",
                            expected: "[1, ...]".into(),
                            got: a.shape().to_vec(),
                        },
                    })
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Forward {
            activations,
            logits,
            class,
            starts,
        })
    }
}

/// `[starts, input_len]`: row `s` is the input map for the start [`Init::ALL`]`[s]`.
pub fn start_maps(model: &Model, fwd: &Forward, config: &Config, prop: Propagation) -> Result<Array2<f32>, LrpError> {
    let layers = model.layers().len();
    let rows = fwd.starts.nrows();
    let acts = &fwd.activations;
    let mut shape = vec![rows];
    shape.extend_from_slice(model.shape_at(layers));
    let shape_error = |index, source| LrpError::Model(ModelError::Shape { index, source });
    let mut r = reshaped("initial relevance", &fwd.starts.clone().into_dyn(), &shape)
        .map_err(|e| shape_error(layers.saturating_sub(1), e))?;
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
                    wsquare_over_outputs(model, k, &r, rule)?
                } else if pre {
                    let x = &acts[k - 1];
                    let z = model.layer_forward(k, x)?;
                    layer_relevance(model, k, x, &z, &r, &rule)?
                } else {
                    layer_relevance(model, k, &acts[k], &acts[k + 1], &r, &rule)?
                };
            }
        }
        Computation::Gradient | Computation::InputXGradient => {
            for k in (0..layers).rev() {
                r = layer_gradient(model, k, &acts[k], &r)?;
            }
            if config.computation == Computation::InputXGradient {
                Zip::from(&mut r).and(&acts[0]).for_each(|r, &x| *r *= x);
            }
        }
    }
    let len = model.input_len();
    let flat = reshaped("input maps", &r, &[rows, len]).map_err(|e| shape_error(0, e))?;
    flat.into_dimensionality().map_err(|_| {
        shape_error(
            0,
            crate::error::ShapeError {
                op: "input maps",
                expected: format!("[{rows}, {len}]"),
                got: r.shape().to_vec(),
            },
        )
    })
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
fn wsquare_over_outputs(model: &Model, k: usize, r: &ArrayD<f32>, rule: LayerRule) -> Result<ArrayD<f32>, LrpError> {
    let Layer::Dense(d) = &model.layers()[k] else {
        return Err(LrpError::Model(
            model.layer_error(k, "w² over the outputs is a mistake of Dense layers only"),
        ));
    };
    let shape_error = |source| LrpError::Model(ModelError::Shape { index: k, source });
    let w2 = d.weight.mapv(|v| v * v);
    let norm = w2.sum_axis(Axis(0)).mapv(|s| s + rule.stabilizer);
    let n = r.shape().first().copied().unwrap_or(0);
    let r2 = reshaped("w² over the outputs", r, &[n, d.weight.nrows()]).map_err(shape_error)?;
    let r2: Array2<f32> = r2.into_dimensionality().map_err(|_| {
        shape_error(crate::error::ShapeError {
            op: "w² over the outputs",
            expected: format!("[{n}, {}]", d.weight.nrows()),
            got: r.shape().to_vec(),
        })
    })?;
    let mut out = r2.dot(&w2);
    out /= &norm;
    let mut shape = vec![n];
    shape.extend_from_slice(model.shape_at(k));
    reshaped("w² over the outputs", &out.into_dyn(), &shape).map_err(shape_error)
}
