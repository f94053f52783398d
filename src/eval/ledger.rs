//! The conservation ledger: per layer, relevance in and out, and where the difference went.

use ndarray::{ArrayD, Axis, Zip};

use crate::lrp::{Explanation, LayerRule, Rule};
use crate::model::Model;

/// Numerical trouble found in a layer.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// Relevance contains NaN or infinite values.
    NotFinite { count: usize },
    /// The layer's total relevance is far larger than the initial relevance.
    Exploding { ratio: f32 },
}

/// One layer of one sample's explanation, from the output side.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub layer: usize,
    /// Total relevance arriving at the layer's output.
    pub relevance_out: f64,
    /// Total relevance leaving through the layer's input.
    pub relevance_in: f64,
    /// Part of `out − in` absorbed by the bias (ε and norm rules; `None` where it cannot be separated).
    pub bias: Option<f64>,
    /// Part of `out − in` absorbed by the stabiliser (ε and norm rules).
    pub stabilizer: Option<f64>,
    pub warnings: Vec<Warning>,
}

impl LedgerRow {
    /// `out − in`: relevance that did not reach the layer's input.
    pub fn leak(&self) -> f64 {
        self.relevance_out - self.relevance_in
    }
}

fn sample_sum(a: &ArrayD<f32>, i: usize) -> f64 {
    a.index_axis(Axis(0), i).iter().map(|&v| v as f64).sum()
}

/// The ledger of sample `i` of an explanation made with the per-layer `plan` (from `Composite::resolve`).
pub fn conservation_ledger(model: &Model, e: &Explanation, plan: &[LayerRule], i: usize) -> Vec<LedgerRow> {
    let layers = model.layers().len();
    let initial = sample_sum(&e.relevance[layers], i).abs().max(1e-12);
    (0..layers)
        .rev()
        .map(|k| {
            let r_out = &e.relevance[k + 1];
            let r_in = &e.relevance[k];
            let (bias, stabilizer) = epsilon_split(model, e, plan.get(k), k, i).unzip();
            let relevance_in = sample_sum(r_in, i);
            let mut warnings = vec![];
            let bad = r_in.index_axis(Axis(0), i).iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                warnings.push(Warning::NotFinite { count: bad });
            }
            let ratio = (relevance_in.abs() / initial) as f32;
            if ratio > 1e3 {
                warnings.push(Warning::Exploding { ratio });
            }
            LedgerRow {
                layer: k,
                relevance_out: sample_sum(r_out, i),
                relevance_in,
                bias,
                stabilizer,
                warnings,
            }
        })
        .collect()
}

/// For the ε / norm rules, `out − in = Σ_j R_j (b_j + s_j)/stab(z_j)`: the bias part and the stabiliser part.
fn epsilon_split(model: &Model, e: &Explanation, rule: Option<&LayerRule>, k: usize, i: usize) -> Option<(f64, f64)> {
    let rule = rule?;
    let eps = match (rule.rule, rule.rule.epsilon()) {
        (_, Some(epsilon)) => epsilon,
        (Rule::Norm, None) => rule.stabilizer,
        _ => return None,
    };
    let view = model.linear_view(k)?;
    let z = e.activations[k + 1].index_axis(Axis(0), i);
    let r = e.relevance[k + 1].index_axis(Axis(0), i);
    let bias = if rule.bias { view.bias } else { None };
    let channels = z.shape().first().copied().unwrap_or(0);
    let per_channel = z.len() / channels.max(1);
    let mut bias_part = 0.0f64;
    let mut stab_part = 0.0f64;
    let mut index = 0usize;
    Zip::from(&z).and(&r).for_each(|&z, &r| {
        // With the bias excluded, the forward z still contains it: the denominator is z − b.
        let b_layer = view
            .bias
            .map_or(0.0, |b| b[(index / per_channel).min(b.len().saturating_sub(1))]);
        let b = bias.map_or(0.0, |_| b_layer);
        let d_raw = if rule.bias { z } else { z - b_layer };
        let s = if d_raw >= 0.0 { eps } else { -eps };
        let d = (d_raw + s) as f64;
        bias_part += r as f64 * b as f64 / d;
        stab_part += r as f64 * s as f64 / d;
        index += 1;
    });
    Some((bias_part, stab_part))
}
