//! The rule picker (presets, single rules, baselines) and the per-layer table with live parameter sliders.

use super::panel::PanelCx;
use super::theme::ACCENT;
use crate::app::Command;
use crate::app::rules;
use crate::lrp::{ChoiceKind, LayerRule, Rule, entries_of};
use crate::model::Model;

/// Picker and table. Every edit is sent at once, so the heatmap follows a slider while it is dragged.
pub fn rules_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session) = (&mut *cx.settings, cx.session);
    let mut commands = Vec::new();
    ui.heading("Rules");
    for kind in ChoiceKind::ALL {
        ui.label(egui::RichText::new(kind.title()).small().weak());
        ui.horizontal_wrapped(|ui| {
            for entry in entries_of(kind) {
                let selected = settings.rule_choice == entry.choice && settings.layer_rules.is_none();
                if ui
                    .selectable_label(selected, entry.name)
                    .on_hover_text(entry.description)
                    .clicked()
                {
                    commands.push(Command::ChooseRule(entry.choice.clone()));
                }
            }
        });
    }
    // One line that is always there, so that the table below never moves: a slider drag that switches the
    // preset to "with edits" keeps its grip from the first step.
    let in_force = if settings.layer_rules.is_some() {
        egui::RichText::new(format!("In force: {} with edits in the table", settings.rule_choice)).color(ACCENT)
    } else {
        egui::RichText::new(format!("In force: {}", settings.rule_choice)).weak()
    };
    ui.add(egui::Label::new(in_force.small()).truncate());
    if let Some(e) = &session.rule_error {
        ui.colored_label(ui.visuals().error_fg_color, format!("Problem: {e}"));
    }
    ui.add_space(6.0);
    let Some(model) = session.model.as_ref() else {
        return commands;
    };
    if session.plan.is_empty() {
        ui.weak("Gradient baselines use no per-layer rules.");
        return commands;
    }
    ui.label(egui::RichText::new("Per layer").strong());
    let bounds = session.preprocess.box_bounds();
    // Two columns: the layer, then its rule with the rule's parameters under it, so that a slider gets the width
    // the panel leaves beside the layer names (its ε or γ included) as the user sizes the panel.
    ui.spacing_mut().slider_width = (ui.available_width() - 190.0).clamp(60.0, 180.0);
    egui::Grid::new("layer_rules")
        .striped(true)
        .num_columns(2)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            for h in ["Layer · shape", "Rule · parameters"] {
                ui.label(egui::RichText::new(h).small().strong());
            }
            ui.end_row();
            for (k, (layer, rule)) in model.layers().iter().zip(&session.plan).enumerate() {
                ui.vertical(|ui| {
                    ui.spacing_mut().item_spacing.y = 0.0;
                    ui.add(egui::Label::new(format!("{k} {}", layer.kind().name())).extend());
                    ui.label(egui::RichText::new(shape_text(model.shape_at(k + 1))).small().weak());
                });
                if rules::is_editable(layer.kind()) {
                    ui.vertical(|ui| {
                        if let Some(new) = rule_picker_ui(ui, k, model, rule, bounds) {
                            commands.push(Command::SetLayerRule { layer: k, rule: new });
                        }
                        if let Some(new) = parameters_ui(ui, k, model, rule) {
                            commands.push(Command::SetLayerRule { layer: k, rule: new });
                        }
                        if let Err(e) = rule.validate() {
                            ui.colored_label(ui.visuals().error_fg_color, e);
                        }
                    });
                } else {
                    ui.weak(rules::rule_name(&rule.rule));
                }
                ui.end_row();
            }
        });
    commands
}

fn rule_picker_ui(
    ui: &mut egui::Ui,
    k: usize,
    model: &Model,
    current: &LayerRule,
    bounds: (f32, f32),
) -> Option<LayerRule> {
    let mut picked = None;
    let kind = model.layers()[k].kind();
    egui::ComboBox::from_id_salt(("rule", k))
        .selected_text(rules::rule_name(&current.rule))
        .width(72.0)
        .show_ui(ui, |ui| {
            for candidate in rules::candidates(kind, bounds) {
                let selected = rules::same_kind(&candidate, &current.rule);
                if ui.selectable_label(selected, rules::rule_name(&candidate)).clicked() && !selected {
                    picked = Some(LayerRule {
                        rule: candidate,
                        ..*current
                    });
                }
            }
        })
        .response
        .accessible_name(format!("rule of layer {k}"));
    picked
}

/// Sliders for the rule's parameters and the bias switch; returns the edited rule when something changed.
fn parameters_ui(ui: &mut egui::Ui, k: usize, model: &Model, current: &LayerRule) -> Option<LayerRule> {
    let mut rule = *current;
    let mut changed = false;
    ui.vertical(|ui| {
        let mut slider =
            |ui: &mut egui::Ui, v: &mut f32, range: std::ops::RangeInclusive<f32>, name: &str, log: bool| {
                let slider = egui::Slider::new(v, range)
                    .text(name)
                    .logarithmic(log)
                    .custom_formatter(|x, _| super::fmt_num(x as f32))
                    .custom_parser(|t| t.trim().parse::<f64>().ok());
                let r = ui.add(slider).accessible_name(format!("{name} of layer {k}"));
                changed |= r.changed();
            };
        match &mut rule.rule {
            Rule::Epsilon { epsilon } => slider(ui, epsilon, 1e-6..=10.0, "ε", true),
            Rule::Gamma { gamma } => slider(ui, gamma, 0.0..=5.0, "γ", false),
            Rule::AlphaBeta { alpha, beta } => {
                slider(ui, alpha, 0.0..=5.0, "α", false);
                slider(ui, beta, 0.0..=4.0, "β", false);
            }
            Rule::ZBox { low, high } => {
                for (v, name) in [(low, "low"), (high, "high")] {
                    let r = ui
                        .add(egui::DragValue::new(v).speed(0.01).prefix(format!("{name} ")))
                        .accessible_name(format!("box {name} of layer {k}"));
                    changed |= r.changed();
                }
            }
            _ => {}
        }
        if model.layers()[k].kind().is_weighted() {
            let r = ui
                .checkbox(&mut rule.bias, "bias")
                .on_hover_text(format!("let the bias of layer {k} take part"));
            changed |= r.changed();
        }
    });
    changed.then_some(rule)
}

/// `8×24×24`.
fn shape_text(shape: &[usize]) -> String {
    shape.iter().map(usize::to_string).collect::<Vec<_>>().join("×")
}

/// A layer's rule as the table shows it, numbers in the table's format: `ε 1.00e-6`, `γ 0.2500`, `z+ · no bias`.
pub fn rule_text(rule: &LayerRule) -> String {
    let name = rules::rule_name(&rule.rule);
    let n = super::fmt_num;
    let mut text = match rule.rule {
        Rule::Epsilon { epsilon } if epsilon != crate::lrp::LRP0_EPSILON => format!("{name} {}", n(epsilon)),
        Rule::Gamma { gamma } => format!("{name} {}", n(gamma)),
        Rule::AlphaBeta { alpha, beta } => format!("α {} β {}", n(alpha), n(beta)),
        Rule::ZBox { low, high } => format!("{name} [{}, {}]", n(low), n(high)),
        _ => name.to_string(),
    };
    if !rule.bias {
        text.push_str(" · no bias");
    }
    text
}

/// The rules of the weighted layers as the table shows them: `0 z+ · 3 z+ · 7 ε 0.0100`.
pub fn plan_text(plan: &[LayerRule], model: &Model) -> String {
    plan.iter()
        .zip(model.layers())
        .enumerate()
        .filter(|(_, (_, layer))| rules::is_editable(layer.kind()))
        .map(|(k, (rule, _))| format!("{k} {}", rule_text(rule)))
        .collect::<Vec<_>>()
        .join(" · ")
}
