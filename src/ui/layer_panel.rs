//! The layer stepper (output back to input) and, for the selected position: neuron relevances (dense) or one map
//! per channel (convolutional), activations beside them, and Σ relevance per layer (conservation and leaks).

use egui::{Color32, Vec2};
use egui_plot::{Bar, BarChart, HLine, Line, Plot, Points};

use super::panel::PanelCx;
use super::theme::ACCENT;
use super::{ViewCache, fmt_num, position_label};
use crate::app::Command;
use crate::app::state::{ExplainResult, Session, Settings};
use crate::model::Model;

/// Stepper, detail of the selected position and the per-layer totals plot.
pub fn layer_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    ui.heading("Layers");
    let (Some(model), Some(result)) = (session.model.as_ref(), session.result.as_ref()) else {
        ui.weak("no explanation yet");
        return commands;
    };
    let layers = model.layers().len();
    let selected = session.layer.min(layers);
    ui.label(
        egui::RichText::new("up/down keys or click: relevance at each layer, output first")
            .small()
            .weak(),
    );
    // A position chosen by the keys (or elsewhere) is scrolled into view; the first frame keeps the view still.
    let moved = view.stepper_layer.is_some_and(|l| l != selected);
    view.stepper_layer = Some(selected);
    let stepper = egui::ScrollArea::vertical()
        .id_salt("stepper")
        .max_height(150.0)
        .show(ui, |ui| {
            for k in (0..=layers).rev() {
                let total = result.totals.get(k).copied().unwrap_or(0.0);
                let text = format!("{}   Σ {}", position_label(model, k), fmt_num(total));
                let r = ui
                    .selectable_label(k == selected, text)
                    .accessible_name(format!("layer position {k}"));
                if k == selected && moved {
                    r.scroll_to_me_animation(None, egui::style::ScrollAnimation::none());
                }
                if r.clicked() {
                    commands.push(Command::SelectLayer(k));
                }
            }
        });
    // The stepper's own scrolling stops there: bring the list itself into the view around it too.
    if moved {
        ui.scroll_to_rect_animation(stepper.inner_rect, None, egui::style::ScrollAnimation::none());
    }
    ui.separator();
    let output_total = result.totals.last().copied().unwrap_or(0.0);
    let total = result.totals.get(selected).copied().unwrap_or(0.0);
    let leak = if output_total != 0.0 {
        100.0 * (total - output_total) / output_total.abs()
    } else {
        0.0
    };
    ui.label(
        egui::RichText::new(format!(
            "{}: Σ relevance {}",
            position_label(model, selected),
            fmt_num(total)
        ))
        .strong(),
    );
    ui.label(format!("vs. output {} ({leak:+.2} %)", fmt_num(output_total)));
    let shape = model.shape_at(selected);
    if shape.len() == 3 {
        commands.extend(channels_ui(ui, settings, session, view, selected));
    } else {
        ui.checkbox(&mut settings.sort_neurons, "sort by relevance");
        commands.extend(neurons_ui(ui, result, selected, settings.sort_neurons));
    }
    commands.extend(super::unit_panel::unit_picker_ui(ui, session, selected));
    ui.add_space(4.0);
    totals_ui(ui, model, result, selected);
    commands
}

fn channels_ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    session: &Session,
    view: &mut ViewCache,
    layer: usize,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let Some(maps) = view.channels(ui.ctx(), settings, session, layer) else {
        return commands;
    };
    ui.label(
        egui::RichText::new("per channel: relevance | activation (click a channel for its conditional heatmap)")
            .small()
            .weak(),
    );
    let size = 52.0;
    let per_row = ((ui.available_width() / (2.0 * size + 24.0)).floor() as usize).max(1);
    egui::Grid::new(("channels", layer))
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            for (ch, m) in maps.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.horizontal(|ui| {
                        ui.spacing_mut().item_spacing.x = 2.0;
                        let image = egui::Image::new(&m.relevance)
                            .fit_to_exact_size(Vec2::splat(size))
                            .sense(egui::Sense::click());
                        let r = super::framed_image(ui, image)
                            .accessible_name(format!("channel {ch} relevance"))
                            .on_hover_text(format!("channel {ch}: Σ relevance {}", fmt_num(m.total)));
                        if r.clicked() {
                            commands.push(Command::SelectUnit {
                                position: layer,
                                unit: ch,
                            });
                        }
                        ui.add(egui::Image::new(&m.activation).fit_to_exact_size(Vec2::splat(size)));
                    });
                    ui.label(egui::RichText::new(format!("ch {ch} Σ {}", fmt_num(m.total))).small());
                });
                if (ch + 1) % per_row == 0 {
                    ui.end_row();
                }
            }
        });
    commands
}

/// The bar nearest to plot coordinate `x` among `bars` bars drawn at `0, 1, …` (`None` outside them).
pub fn bar_at(x: f64, bars: usize) -> Option<usize> {
    let k = x.round();
    (k >= 0.0 && (k as usize) < bars && (x - k).abs() <= 0.5).then_some(k as usize)
}

/// Relevance and activation bar charts of a flat position; a click on a bar selects that neuron.
fn neurons_ui(ui: &mut egui::Ui, result: &ExplainResult, layer: usize, sort: bool) -> Vec<Command> {
    let mut commands = Vec::new();
    let (Some(rel), Some(act)) = (result.relevance.get(layer), result.activations.get(layer)) else {
        return commands;
    };
    let mut order: Vec<usize> = (0..rel.len()).collect();
    if sort {
        order.sort_by(|&a, &b| rel[b].total_cmp(&rel[a]));
    }
    let bars = |values: &[f32], positive: Color32, negative: Color32| -> Vec<Bar> {
        order
            .iter()
            .enumerate()
            .map(|(x, &i)| {
                let v = values[i];
                Bar::new(x as f64, f64::from(v))
                    .width(0.9)
                    .fill(if v >= 0.0 { positive } else { negative })
                    .name(format!("neuron {i}"))
            })
            .collect()
    };
    // Neurons live at the inputs of layers: position 0 is the model input, not a unit one can condition on.
    let clickable = layer > 0;
    if clickable {
        ui.label(
            egui::RichText::new("click a bar for the neuron's conditional heatmap")
                .small()
                .weak(),
        );
    }
    let width = (ui.available_width() - 8.0) / 2.0;
    let n = order.len();
    ui.horizontal(|ui| {
        for (id, title, values, pos, neg) in [
            (
                "neuron_rel",
                "relevance",
                rel,
                Color32::from_rgb(220, 60, 60),
                Color32::from_rgb(60, 90, 220),
            ),
            (
                "neuron_act",
                "activation",
                act,
                Color32::from_gray(170),
                Color32::from_gray(90),
            ),
        ] {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new(format!("{title} ({} neurons)", values.len())).small());
                let chart = BarChart::new(title, bars(values, pos, neg)).element_formatter(Box::new(|bar, _| {
                    format!("{}: {}", bar.name, fmt_num(bar.value as f32))
                }));
                // No x margin: the bars fill the plot from -0.5 to n - 0.5, one bar per slot.
                let shown = Plot::new((id, layer))
                    .width(width)
                    .height(130.0)
                    .allow_zoom(false)
                    .allow_scroll(false)
                    .allow_drag(false)
                    .allow_boxed_zoom(false)
                    .allow_double_click_reset(false)
                    .set_margin_fraction(Vec2::new(0.0, 0.05))
                    .include_x(-0.5)
                    .include_x(n as f64 - 0.5)
                    .show_grid([false, true])
                    .show_x(false)
                    .show(ui, |p| p.bar_chart(chart));
                let response = shown.response.accessible_name(format!("{title} bars"));
                if clickable
                    && response.clicked()
                    && let Some(pos) = response.interact_pointer_pos()
                    && let Some(x) = bar_at(shown.transform.value_from_position(pos).x, n)
                    && let Some(&unit) = order.get(x)
                {
                    commands.push(Command::SelectUnit { position: layer, unit });
                }
            });
        }
    });
    commands
}

fn totals_ui(ui: &mut egui::Ui, model: &Model, result: &ExplainResult, selected: usize) {
    ui.label(egui::RichText::new("Σ relevance per layer (0 = input; flat line = conserved)").small());
    let points: Vec<[f64; 2]> = result
        .totals
        .iter()
        .enumerate()
        .map(|(k, &t)| [k as f64, f64::from(t)])
        .collect();
    let sel = points.get(selected).copied();
    let output_total = f64::from(result.totals.last().copied().unwrap_or(0.0));
    let layers = model.layers().len();
    let shown = Plot::new("totals_plot")
        .height(120.0)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_formatter(move |mark, _| {
            let k = mark.value.round();
            if (mark.value - k).abs() < 1e-6 && k >= 0.0 && k as usize <= layers {
                format!("{k}")
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.hline(HLine::new("output", output_total).color(Color32::from_gray(110)));
            p.line(Line::new("Σ R", points.clone()).color(Color32::from_rgb(110, 150, 200)));
            p.points(Points::new("layers", points).radius(3.0));
            if let Some(s) = sel {
                p.points(Points::new("selected", vec![s]).radius(6.0).color(ACCENT));
            }
        });
    let _ = shown.response.accessible_name("relevance per layer");
}
