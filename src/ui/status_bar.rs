//! The status bar: model, input shape, accuracy, time of the last explanation (messages float above it).

use super::panel::PanelCx;
use super::theme::ACCENT;
use crate::app::Command;
use crate::app::state::{Session, Settings};

/// One line of facts about what is open.
pub fn status_bar_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    status_bar_body(ui, &*cx.settings, cx.session);
    Vec::new()
}

fn status_bar_body(ui: &mut egui::Ui, settings: &Settings, session: &Session) {
    ui.horizontal(|ui| {
        match &session.model {
            Some(m) => {
                ui.label(egui::RichText::new(format!("model {}", m.name())).strong());
                ui.label(format!("input {:?}", m.input_shape()));
                ui.label(format!("{} parameters", m.parameter_count()));
            }
            None => {
                ui.label("no model");
            }
        }
        ui.separator();
        if let Some(d) = &session.dataset {
            ui.label(format!("{} samples {}×{}", d.len(), d.height, d.width));
            match &session.predictions {
                Some(p) => match p.accuracy {
                    Some(a) => {
                        ui.label(egui::RichText::new(format!("accuracy {:.2} %", 100.0 * a)).color(ACCENT));
                    }
                    None => {
                        ui.label("no labels");
                    }
                },
                None if session.model.is_some() => {
                    ui.spinner();
                    ui.label("predicting…");
                }
                None => {}
            }
            ui.separator();
        }
        if let Some(r) = &session.result {
            let what = if session.canvas.is_some() {
                "the drawn digit".to_string()
            } else {
                format!("#{}", r.sample)
            };
            ui.label(format!("explained {what} in {:.2} ms", r.duration_ms));
            match (&settings.layer_rules, session.model.as_deref()) {
                (Some(_), Some(model)) => {
                    let edits = super::rules_panel::plan_text(&session.plan, model);
                    ui.label(format!("rules: {} with edits", settings.rule_choice))
                        .on_hover_text(format!("per layer: {edits}"));
                    ui.add(egui::Label::new(egui::RichText::new(edits).weak()).truncate());
                }
                _ => {
                    ui.label(format!("rules: {}", settings.rule_choice));
                }
            }
        }
        if session.pending > 0 {
            ui.spinner();
        }
    });
}
