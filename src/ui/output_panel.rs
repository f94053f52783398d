//! The model's output for the sample: logits or softmax probabilities as bars; choosing the class to explain and
//! the initial relevance.

use egui::Color32;
use egui_plot::{AxisHints, Bar, BarChart, GridInput, GridMark, Plot};

use super::fmt_num;
use super::panel::PanelCx;
use super::theme::{ACCENT, CORRECT};
use crate::app::Command;
use crate::app::state::{ExplainResult, Session, Settings};
use crate::lrp::InitRelevance;

/// The output bar chart (click a bar to explain that class), class buttons and the initial relevance.
pub fn output_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session) = (&mut *cx.settings, cx.session);
    let mut commands = Vec::new();
    ui.heading("Output");
    let Some(result) = session.result.as_ref() else {
        ui.weak("no explanation yet");
        return commands;
    };
    prediction_line_ui(ui, session, result);
    commands.extend(chart_ui(ui, settings, result));
    let values = &result.logits;
    commands.extend(contrast_ui(ui, session, result));
    ui.horizontal_wrapped(|ui| {
        ui.label("Explain:");
        if ui
            .selectable_label(session.target.is_none(), "predicted")
            .on_hover_text("explain the predicted class of each sample")
            .clicked()
        {
            commands.push(Command::SelectClass(None));
        }
        for c in 0..values.len() {
            let response = ui
                .selectable_label(session.target == Some(c), c.to_string())
                .accessible_name(format!("explain class {c}"));
            if response.clicked() {
                commands.push(Command::SelectClass(Some(c)));
            }
        }
    });
    commands.extend(init_ui(ui, settings));
    ui.label(format!(
        "explaining class {} · start relevance {}",
        result.target,
        fmt_num(result.totals.last().copied().unwrap_or(0.0))
    ));
    commands
}

/// "predicted 7 (99.9 %) · label 7 correct", or what is known instead of the label.
fn prediction_line_ui(ui: &mut egui::Ui, session: &Session, result: &ExplainResult) {
    // A drawn digit has no label: it must not borrow the label of the sample it replaced.
    let drawn = session.canvas.is_some();
    let label = if drawn {
        None
    } else {
        session.dataset.as_ref().and_then(|d| d.label(result.sample))
    };
    let predicted = result.predicted();
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("predicted {predicted}"));
        ui.label(format!(
            "({:.1} %)",
            100.0 * result.probabilities.get(predicted).copied().unwrap_or(0.0)
        ));
        match label {
            Some(l) => {
                let (text, color) = if usize::from(l) == predicted {
                    ("correct", CORRECT)
                } else {
                    ("wrong", super::theme::MISTAKE)
                };
                ui.label(format!("· label {l}"));
                ui.colored_label(color, text);
            }
            None if drawn => {
                ui.weak("· drawn digit: no label");
            }
            None => {
                ui.weak("· no label");
            }
        }
    });
}

/// The bars (probabilities or logits): click one to explain that class, right- or shift-click to contrast with it.
fn chart_ui(ui: &mut egui::Ui, settings: &mut Settings, result: &ExplainResult) -> Vec<Command> {
    let mut commands = Vec::new();
    let predicted = result.predicted();
    ui.horizontal(|ui| {
        ui.label("Bars:");
        ui.radio_value(&mut settings.show_logits, false, "probability");
        ui.radio_value(&mut settings.show_logits, true, "logit");
    });
    let values = if settings.show_logits {
        &result.logits
    } else {
        &result.probabilities
    };
    let bars: Vec<Bar> = values
        .iter()
        .enumerate()
        .map(|(c, &v)| {
            let fill = if c == result.target {
                ACCENT
            } else if c == predicted {
                Color32::from_rgb(110, 150, 200)
            } else {
                Color32::from_gray(120)
            };
            Bar::new(c as f64, f64::from(v))
                .width(0.7)
                .fill(fill)
                .name(format!("class {c}"))
        })
        .collect();
    let name = if settings.show_logits { "logit" } else { "probability" };
    let classes = values.len() as f64;
    let plot = Plot::new("output_plot")
        .height(150.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_grid([false, true])
        .include_x(-0.6)
        .include_x(values.len() as f64 - 0.4)
        .include_y(0.0)
        .x_grid_spacer(class_marks)
        // One label per class, even when a class gets only ~20 points (the default spacing of 40+ points hid
        // them all in the window's column).
        .custom_x_axes(vec![AxisHints::new_x().label_spacing(12.0..=20.0).formatter(
            move |mark, _| {
                let k = mark.value.round();
                if (mark.value - k).abs() < 1e-6 && k >= 0.0 && k < classes {
                    format!("{k}")
                } else {
                    String::new()
                }
            },
        )])
        .show(ui, |plot_ui| {
            plot_ui.bar_chart(BarChart::new(name, bars).element_formatter(Box::new(move |bar, _| {
                format!("class {}: {}", bar.argument, fmt_num(bar.value as f32))
            })));
        });
    let secondary = plot.response.secondary_clicked();
    let shift = ui.input(|i| i.modifiers.shift);
    if (plot.response.clicked() || secondary)
        && let Some(pos) = plot.response.interact_pointer_pos()
    {
        let x = plot.transform.value_from_position(pos).x.round();
        if x >= 0.0 && (x as usize) < values.len() {
            // Right- or shift-click: "why the target rather than this class" (never the target itself).
            if secondary || shift {
                if x as usize != result.target {
                    commands.push(Command::SetContrast(Some(x as usize)));
                }
            } else {
                commands.push(Command::SelectClass(Some(x as usize)));
            }
        }
    }
    commands
}

/// "Rather than:" — the class the target is contrasted with (never the target itself), and a way out if it is.
fn contrast_ui(ui: &mut egui::Ui, session: &Session, result: &ExplainResult) -> Vec<Command> {
    let mut commands = Vec::new();
    let values = &result.logits;
    ui.horizontal(|ui| {
        ui.label("Rather than:");
        let mut contrast = session.contrast;
        let text = contrast.map_or("— (no contrast)".to_string(), |c| format!("class {c}"));
        egui::ComboBox::from_id_salt("contrast_with")
            .selected_text(text)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut contrast, None, "— (no contrast)");
                // A class against itself is zero everywhere: not offered.
                for c in (0..values.len()).filter(|&c| c != result.target) {
                    ui.selectable_value(&mut contrast, Some(c), format!("class {c}"));
                }
            })
            .response
            .accessible_name("contrast with")
            .on_hover_text("explain why the target rather than this class (or right-click a bar)");
        if contrast != session.contrast {
            commands.push(Command::SetContrast(contrast));
        }
    });
    if result.contrast == Some(result.target) {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                super::theme::MISTAKE,
                format!(
                    "class {} rather than itself explains nothing: choose another class",
                    result.target
                ),
            );
            if ui.button("No contrast").clicked() {
                commands.push(Command::SetContrast(None));
            }
        });
    }
    commands
}

/// Where LRP starts: the class's logit or 1.
fn init_ui(ui: &mut egui::Ui, settings: &mut Settings) -> Vec<Command> {
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        ui.label("Initial relevance:");
        let before = settings.init;
        ui.radio_value(&mut settings.init, InitRelevance::Logit, "logit")
            .on_hover_text("LRP starts from the class's logit (LRP Toolbox); gradient baselines always use ∂logit");
        ui.radio_value(&mut settings.init, InitRelevance::OneHot, "one-hot")
            .on_hover_text("LRP starts from 1 for the class (Zennit); gradient baselines always use ∂logit");
        if settings.init != before {
            commands.push(Command::Recompute);
        }
    });
    commands
}

/// One axis mark per class (0, 1, …, 9), whatever the plot's width.
fn class_marks(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    let first = lo.ceil().max(0.0) as i64;
    let last = hi.floor() as i64;
    (first..=last)
        .map(|k| GridMark {
            value: k as f64,
            step_size: 1.0,
        })
        .collect()
}
