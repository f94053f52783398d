//! The menu bar: open files (dialog, recent files, a typed path), the theme and exports.

use std::path::PathBuf;

use super::ViewCache;
use crate::app::state::{Session, Settings};
use crate::app::{Command, DialogKind, ExportKind};

/// File, View and Export menus.
pub fn menu_bar_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    session: &Session,
    view: &mut ViewCache,
) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open model…").clicked() {
                commands.push(Command::Dialog(DialogKind::OpenModel));
            }
            if ui.button("Open samples…").clicked() {
                commands.push(Command::Dialog(DialogKind::OpenData));
            }
            let has_data = session.dataset.is_some();
            if ui.add_enabled(has_data, egui::Button::new("Open labels…")).clicked() {
                commands.push(Command::Dialog(DialogKind::OpenLabels));
            }
            ui.separator();
            ui.menu_button("Recent models", |ui| {
                for p in &settings.recent_models {
                    if ui.button(p.display().to_string()).clicked() {
                        commands.push(Command::OpenModel(p.clone()));
                    }
                }
            });
            ui.menu_button("Recent samples", |ui| {
                for (p, labels) in &settings.recent_data {
                    if ui.button(p.display().to_string()).clicked() {
                        commands.push(Command::OpenData {
                            path: p.clone(),
                            labels: labels.clone(),
                        });
                    }
                }
            });
            ui.separator();
            ui.label("Open a path:");
            ui.add(egui::TextEdit::singleline(&mut view.path_text).desired_width(260.0))
                .accessible_name("path to open");
            ui.horizontal(|ui| {
                let path = PathBuf::from(view.path_text.trim());
                let ok = !view.path_text.trim().is_empty();
                if ui.add_enabled(ok, egui::Button::new("as model")).clicked() {
                    commands.push(Command::OpenModel(path.clone()));
                }
                if ui.add_enabled(ok, egui::Button::new("as samples")).clicked() {
                    let labels = crate::data::labels_next_to(&path);
                    commands.push(Command::OpenData { path, labels });
                }
            });
        });
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut settings.dark_mode, "Dark theme");
        });
        ui.menu_button("Export", |ui| {
            for (kind, text) in EXPORTS {
                if ui.button(format!("{text}…")).clicked() {
                    commands.push(Command::Dialog(DialogKind::Save(kind)));
                }
            }
        });
        ui.add_space(16.0);
        ui.label(
            egui::RichText::new("drop a model or sample file on the window to open it")
                .small()
                .weak(),
        );
    });
    commands
}

/// Every export with its menu text.
pub const EXPORTS: [(ExportKind, &str); 4] = [
    (ExportKind::HeatmapPng, "Heatmap PNG"),
    (ExportKind::SideBySidePng, "Digit + heatmap PNG"),
    (ExportKind::RelevanceNpy, "Relevance .npy"),
    (ExportKind::RelevanceCsv, "Relevance .csv"),
];
