//! The status bar: model (producer, input layout, explained output), accuracy, time of the last explanation
//! (messages float above it).

use super::panel::PanelCx;
use super::theme::ACCENT;
use crate::app::Command;
use crate::app::state::Session;

/// One line of facts about what is open; a choice of the explained output when the graph has several.
pub fn status_bar_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session) = (&*cx.settings, cx.session);
    let mut commands = Vec::new();
    // Wraps onto a second line in a narrow window rather than running off its edge.
    ui.horizontal_wrapped(|ui| {
        match &session.model {
            Some(m) => {
                ui.label(egui::RichText::new(format!("model {}", m.name())).strong());
                if let Some(line) = session.model_line() {
                    ui.label(line);
                }
                if let Some(chosen) = output_choice_ui(ui, session) {
                    commands.push(Command::ChooseOutput(chosen));
                }
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
    commands
}

/// The graph outputs of the model as a drop-down; returns the one picked, if it differs from the explained one.
fn output_choice_ui(ui: &mut egui::Ui, session: &Session) -> Option<String> {
    let choices = session.output_choices();
    let current = session.model_import.as_ref()?.output.clone();
    if choices.is_empty() {
        return None;
    }
    let mut picked = current.clone();
    egui::ComboBox::from_id_salt("explained_output")
        .selected_text(current.as_str())
        .show_ui(ui, |ui| {
            for name in choices {
                ui.selectable_value(&mut picked, name.clone(), name.as_str());
            }
        })
        .response
        .accessible_name("explained output")
        .on_hover_text("the graph output whose scores are explained (reopens the model)");
    (picked != current).then_some(picked)
}
