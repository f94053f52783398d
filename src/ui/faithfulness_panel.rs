//! The "Faithfulness" tab: pixel-flipping curves (target logit vs fraction removed) for the current rule, a second
//! rule and the random baseline, with AOPC; computed in the background with progress and Cancel; CSV and PNG export.

use egui::Color32;
use egui_plot::{Line, Plot};

use super::fmt_num;
use super::panel::PanelCx;
use crate::app::Command;
use crate::heatmap::plot::{BASELINE_COLOR, PALETTE};
use crate::lrp::REGISTRY;

/// The exported plot's colours: the current rule, the second rule, the random baseline.
const COLORS: [Color32; 3] = [rgb(PALETTE[0]), rgb(PALETTE[1]), rgb(BASELINE_COLOR)];

const fn rgb(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

/// The faithfulness tab.
pub fn faithfulness_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session) = (&mut *cx.settings, cx.session);
    let mut commands = Vec::new();
    ui.heading("Faithfulness (pixel flipping)");
    ui.label(
        egui::RichText::new(
            "most relevant pixels first are set to the background value; a faithful explanation makes the target \
             logit drop fast (large AOPC). Random order is the baseline.",
        )
        .small()
        .weak(),
    );
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("current rule: {}", settings.rule_choice));
        ui.label("versus");
        egui::ComboBox::from_id_salt("faith_rule")
            .selected_text(settings.faith_rule.to_string())
            .show_ui(ui, |ui| {
                for entry in &REGISTRY {
                    ui.selectable_value(&mut settings.faith_rule, entry.choice.clone(), entry.spec);
                }
            })
            .response
            .accessible_name("second rule");
    });
    ui.horizontal_wrapped(|ui| {
        let n = session.sample_count().max(1);
        ui.add(
            egui::DragValue::new(&mut settings.faith_samples)
                .range(1..=n)
                .prefix("samples: "),
        )
        .on_hover_text("1: the current sample; more: the first N samples of the set (default 100)")
        .accessible_name("faithfulness samples");
        ui.add(
            egui::DragValue::new(&mut settings.faith_steps)
                .range(1..=200)
                .prefix("steps: "),
        )
        .accessible_name("faithfulness steps");
        ui.add(egui::Slider::new(&mut settings.faith_fraction, 0.01..=1.0).text("fraction removed"))
            .accessible_name("fraction removed");
    });
    ui.horizontal(|ui| {
        let running = session.faith.progress.is_some();
        if ui.add_enabled(!running, egui::Button::new("Run")).clicked() {
            commands.push(Command::RunFaithfulness);
        }
        if let Some(p) = &session.faith.progress {
            let (done, total) = p.counts();
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .text(format!("{done} / {total} samples"))
                    .desired_width(220.0),
            );
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelAnalysis);
            }
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
        if ui
            .add_enabled(session.faith.result.is_some(), egui::Button::new("Export CSV"))
            .clicked()
        {
            commands.push(Command::ExportFaithfulness);
        }
        if ui
            .add_enabled(session.faith.result.is_some(), egui::Button::new("Export PNG"))
            .on_hover_text("the curves as a picture, with axes, legend and AOPC")
            .clicked()
        {
            commands.push(Command::ExportFaithfulnessPlot);
        }
    });
    let Some(f) = &session.faith.result else {
        ui.weak("press Run to compute the curves");
        return commands;
    };
    // The legend (each rule in its curve's colour) sits above the plot, where it cannot cover a curve.
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("over {} sample(s) · AOPC:", f.samples));
        for (c, color) in f.curves.iter().zip(COLORS) {
            ui.colored_label(color, format!("{} {}", c.label, fmt_num(c.aopc)));
        }
    });
    Plot::new("faithfulness_plot")
        .height(260.0)
        .x_axis_label("fraction removed")
        .y_axis_label("target logit")
        .show(ui, |p| {
            for (c, color) in f.curves.iter().zip(COLORS) {
                let points: Vec<[f64; 2]> = f
                    .removed
                    .iter()
                    .zip(&c.values)
                    .map(|(&x, &y)| [f64::from(x), f64::from(y)])
                    .collect();
                p.line(Line::new(format!("{} (AOPC {})", c.label, fmt_num(c.aopc)), points).color(color));
            }
        });
    commands
}
