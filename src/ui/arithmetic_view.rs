//! The arithmetic of one rule at the chosen unit, with this sample's numbers: the largest contributions, the
//! denominator with its bias and stabiliser, `R_j` and the `R_i` of the top inputs ([`crate::lrp::arithmetic`]).
//! For a convolutional layer the unit is one output position of the chosen channel.

use std::sync::Arc;

use egui::RichText;
use ndarray::{ArrayD, IxDyn};

use super::panel::PanelCx;
use super::position_label;
use crate::app::Command;
use crate::lrp::arithmetic::{UnitArithmetic, unit_arithmetic, weighted_layer_at};

/// Terms and inputs listed per part.
const TOP: usize = 8;

/// What the view computed, keyed by (result generation, layer, unit, rule text).
type ArithmeticKey = (u64, usize, usize, String);

/// The chosen output position of a convolution and the last computation.
#[derive(Default)]
pub struct ArithmeticCache {
    /// `(row, column)` of the unit in its channel; `None`: the position of the largest |R_j|.
    pub position: Option<(usize, usize)>,
    last: Option<(ArithmeticKey, Result<Arc<UnitArithmetic>, String>)>,
}

/// The view below the conditional heatmap (shown when a unit is chosen in the stepper).
pub fn arithmetic_view_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (session, view) = (cx.session, &mut *cx.view);
    let (Some((position, unit)), Some(model), Some(result)) = (session.unit.chosen, &session.model, &session.result)
    else {
        return Vec::new();
    };
    let Some(layer) = weighted_layer_at(model, position) else {
        return Vec::new();
    };
    ui.separator();
    ui.heading(format!(
        "The arithmetic of unit {unit} at {}",
        position_label(model, position)
    ));
    let Some(rule) = session.plan.get(layer).copied() else {
        ui.weak("The arithmetic view shows LRP rules; the current method is a gradient baseline.");
        return Vec::new();
    };
    let out_shape = model.shape_at(layer + 1).to_vec();
    let cache = &mut view.arithmetic;
    // The flat unit index: a neuron, or (channel, row, column) of a convolution's output.
    let flat = match *out_shape.as_slice() {
        [c, h, w] => {
            let channel = unit.min(c.saturating_sub(1));
            let rel = result.relevance.get(layer + 1).map(|a| a.values()).unwrap_or(&[]);
            let plane = rel.get(channel * h * w..(channel + 1) * h * w).unwrap_or(&[]);
            let (mut row, mut col) = cache.position.unwrap_or_else(|| {
                let best = (0..plane.len())
                    .max_by(|&a, &b| plane[a].abs().total_cmp(&plane[b].abs()))
                    .unwrap_or(0);
                (best / w.max(1), best % w.max(1))
            });
            ui.horizontal(|ui| {
                ui.label(format!("Output position in channel {channel}:"));
                let r1 = ui
                    .add(egui::DragValue::new(&mut row).range(0..=h.saturating_sub(1)))
                    .accessible_name("arithmetic row");
                let r2 = ui
                    .add(egui::DragValue::new(&mut col).range(0..=w.saturating_sub(1)))
                    .accessible_name("arithmetic column");
                if r1.changed() || r2.changed() {
                    cache.position = Some((row, col));
                }
                if cache.position.is_some() && ui.button("Largest |R_j|").clicked() {
                    cache.position = None;
                }
            });
            (channel * h + row.min(h.saturating_sub(1))) * w + col.min(w.saturating_sub(1))
        }
        _ => unit,
    };
    let key = (result.generation, layer, flat, format!("{rule:?}"));
    if cache.last.as_ref().is_none_or(|(k, _)| *k != key) {
        let computed = compute(model, result, layer, flat, &rule).map(Arc::new);
        cache.last = Some((key, computed));
    }
    match cache.last.as_ref().map(|(_, r)| r) {
        Some(Ok(a)) => {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                for line in a.lines(TOP) {
                    ui.label(RichText::new(line).monospace());
                }
            });
            ui.label(
                RichText::new(format!(
                    "The R_i are the engine's own (its rule run on R_j alone); the written-out terms agree within {:.1e}.",
                    a.deviation()
                ))
                .small()
                .weak(),
            );
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        None => {}
    }
    Vec::new()
}

fn compute(
    model: &crate::model::Model,
    result: &crate::app::state::ExplainResult,
    layer: usize,
    unit: usize,
    rule: &crate::lrp::LayerRule,
) -> Result<UnitArithmetic, String> {
    let batch = |k: usize, values: Option<&crate::app::state::SampleArray>| {
        let mut shape = vec![1];
        shape.extend_from_slice(model.shape_at(k));
        let v = values.ok_or("no values at this layer")?.values().to_vec();
        ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(|e| e.to_string())
    };
    let x = batch(layer, result.activations.get(layer))?;
    let r = batch(layer + 1, result.relevance.get(layer + 1))?;
    unit_arithmetic(model, layer, &x, &r, rule, unit).map_err(|e| e.to_string())
}
