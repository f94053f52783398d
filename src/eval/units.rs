//! One unit's share of an explanation: the relevance a neuron or channel receives, and its conditional heatmap —
//! the relevance at the input that flows through that unit alone, propagated down with the same rules.

use std::sync::Arc;

use ndarray::{ArrayD, Axis};

use super::samples::batch;
use crate::error::EvalError;
use crate::lrp::{InitRelevance, LayerRule, Method, Target, explain, layer_relevance};
use crate::model::Model;

/// The relevance of unit `unit` at stepper position `position` propagated alone to the input.
#[derive(Clone, Debug)]
pub struct ConditionalRequest {
    pub model: Arc<Model>,
    pub input: Vec<f32>,
    /// The current LRP method and its per-layer rules (from `Composite::resolve`).
    pub method: Method,
    pub plan: Vec<LayerRule>,
    /// Stepper position: the relevance at the input of layer `position`.
    pub position: usize,
    /// A channel of a `[C, H, W]` position or a neuron of a flat one.
    pub unit: usize,
    pub target: Target,
    pub init: InitRelevance,
}

/// The conditional heatmap of a unit.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionalResult {
    pub position: usize,
    pub unit: usize,
    /// Relevance at the model input flowing through the unit (flattened).
    pub relevance: Vec<f32>,
    /// Relevance the unit receives.
    pub unit_total: f32,
}

/// The number of units at `position`: channels of a `[C, H, W]` shape, else every element.
pub fn unit_count(model: &Model, position: usize) -> usize {
    let shape = model.shape_at(position.min(model.layers().len()));
    match shape {
        [c, _, _] => *c,
        s => s.iter().product(),
    }
}

/// Zeroes every unit of `r` (`[N, shape…]`) but `unit` (a channel for `[N, C, H, W]`, else an element).
fn keep_unit(r: &mut ArrayD<f32>, unit: usize) {
    let block: usize = if r.ndim() == 4 { r.shape()[2] * r.shape()[3] } else { 1 };
    for mut sample in r.axis_iter_mut(Axis(0)) {
        for (j, v) in sample.iter_mut().enumerate() {
            if j / block.max(1) != unit {
                *v = 0.0;
            }
        }
    }
}

/// Total relevance of `unit` per sample in `r` (`[N, shape…]`): a channel's sum for `[N, C, H, W]`, else one
/// element; `None` when `r` has no such unit.
pub fn unit_totals(r: &ArrayD<f32>, unit: usize) -> Option<Vec<f32>> {
    if r.ndim() == 4 {
        if unit >= r.shape()[1] {
            return None;
        }
        return Some(
            r.index_axis(Axis(1), unit)
                .axis_iter(Axis(0))
                .map(|channel| channel.sum())
                .collect(),
        );
    }
    r.axis_iter(Axis(0)).map(|s| s.iter().nth(unit).copied()).collect()
}

/// Checks that `plan` has a rule per layer and that `unit` exists at `position`.
pub(super) fn check_unit(
    model: &Model,
    plan: &[LayerRule],
    position: usize,
    unit: usize,
    analysis: &'static str,
) -> Result<(), EvalError> {
    let layers = model.layers().len();
    if plan.len() != layers {
        return Err(EvalError::NeedsLrpRules { analysis });
    }
    if position > layers {
        return Err(EvalError::NoPosition { position, layers });
    }
    let units = unit_count(model, position);
    if unit >= units {
        return Err(EvalError::NoUnit { position, unit, units });
    }
    Ok(())
}

/// Explains, keeps only `unit` at `position` and propagates it down with the same rules.
pub fn run_conditional(req: &ConditionalRequest) -> Result<ConditionalResult, EvalError> {
    let model = &req.model;
    check_unit(model, &req.plan, req.position, req.unit, "conditional heatmaps")?;
    let x = batch(model, std::slice::from_ref(&req.input))?;
    let e = explain(model, &x, &req.method, &req.target, req.init)?;
    let mut r = e.relevance[req.position].clone();
    let units = unit_count(model, req.position);
    let no_unit = || EvalError::NoUnit {
        position: req.position,
        unit: req.unit,
        units,
    };
    let unit_total = unit_totals(&r, req.unit)
        .and_then(|t| t.first().copied())
        .ok_or_else(no_unit)?;
    keep_unit(&mut r, req.unit);
    for k in (0..req.position).rev() {
        r = layer_relevance(model, k, &e.activations[k], &e.activations[k + 1], &r, &req.plan[k])?;
    }
    Ok(ConditionalResult {
        position: req.position,
        unit: req.unit,
        relevance: r.iter().copied().collect(),
        unit_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn a_unit_is_a_channel_of_a_feature_map_and_an_element_of_a_vector() {
        let maps = ArrayD::from_shape_fn(IxDyn(&[2, 3, 2, 2]), |d| {
            (d[0] * 100 + d[1] * 10 + d[2] * 2 + d[3]) as f32
        });
        assert_eq!(unit_totals(&maps, 1), Some(vec![46.0, 446.0]));
        assert_eq!(unit_totals(&maps, 3), None);
        let mut kept = maps.clone();
        keep_unit(&mut kept, 2);
        assert_eq!(kept.sum(), 86.0 + 486.0);
        let flat = ArrayD::from_shape_fn(IxDyn(&[2, 4]), |d| (d[0] * 10 + d[1]) as f32);
        assert_eq!(unit_totals(&flat, 3), Some(vec![3.0, 13.0]));
        assert_eq!(unit_totals(&flat, 4), None);
    }
}
