//! Export: the folder and PNG scale, quick saves under fresh names, and "Save as…" through a dialog.

use std::path::PathBuf;

use super::ViewCache;
use super::menu_bar::EXPORTS;
use crate::app::state::{Session, Settings};
use crate::app::{Command, DialogKind};

/// Export folder, scale and the save buttons (never overwriting: a taken name gets a ` (2)` suffix).
pub fn export_panel_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &Session,
    view: &mut ViewCache,
) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::CollapsingHeader::new(egui::RichText::new("Export to files").heading())
        .default_open(false)
        .show(ui, |ui| {
            let text = view
                .export_dir_text
                .get_or_insert_with(|| settings.export_dir.display().to_string());
            ui.horizontal(|ui| {
                ui.label("Folder");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(text).desired_width((ui.available_width() - 8.0).clamp(80.0, 240.0)),
                    )
                    .accessible_name("export folder");
                if r.changed() {
                    settings.export_dir = PathBuf::from(text.trim());
                }
            });
            ui.add(egui::Slider::new(&mut settings.export_scale, 1..=32).text("PNG pixels per input pixel"))
                .accessible_name("PNG scale");
            let enabled = session.result.is_some();
            for (kind, name) in EXPORTS {
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(enabled, egui::Button::new(format!("Save {name}")))
                        .clicked()
                    {
                        commands.push(Command::Export(kind));
                    }
                    let r = ui
                        .add_enabled(enabled, egui::Button::new("as…"))
                        .accessible_name(format!("Save {name} as"));
                    if r.clicked() {
                        commands.push(Command::Dialog(DialogKind::Save(kind)));
                    }
                });
            }
        });
    commands
}
