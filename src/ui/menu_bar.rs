//! The menu bar: open files (dialog, recent files, a typed path), the theme and exports.

use std::path::PathBuf;

use super::ViewCache;
use super::panel::PanelCx;
use crate::app::state::{Session, Settings};
use crate::app::{Command, DialogKind, ExportKind};

/// File, View and Export menus.
pub fn menu_bar_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    egui::MenuBar::new().ui(ui, |ui| {
        egui::containers::menu::MenuButton::new("File")
            .config(keep_open())
            .ui(ui, |ui| commands.extend(file_menu_ui(ui, settings, session, view)));
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut settings.dark_mode, "Dark theme");
        });
        egui::containers::menu::MenuButton::new("Export")
            .config(keep_open())
            .ui(ui, |ui| {
                commands.extend(super::export_panel::export_menu_ui(
                    ui,
                    &mut PanelCx::new(settings, session, view),
                ))
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

/// Clicks inside the menu keep it open (so a field can be typed into and a slider dragged); buttons close it.
fn keep_open() -> egui::containers::menu::MenuConfig {
    egui::containers::menu::MenuConfig::new().close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
}

/// Open dialogs, recent files and a typed path. Every button closes the menu itself.
fn file_menu_ui(ui: &mut egui::Ui, settings: &Settings, session: &Session, view: &mut ViewCache) -> Vec<Command> {
    let mut commands = Vec::new();
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
    if ui
        .button("Check my relevance map…")
        .on_hover_text("Open a relevance map computed by your own code (.npy, .mat, .csv) in the Check tab")
        .clicked()
    {
        commands.push(Command::Dialog(DialogKind::OpenRelevance));
    }
    ui.separator();
    ui.menu_button("Recent models", |ui| {
        if settings.recent_models.is_empty() {
            ui.label(egui::RichText::new("none yet").weak());
        }
        for p in &settings.recent_models {
            if recent_button(ui, p).clicked() {
                commands.push(Command::OpenModel(p.clone()));
            }
        }
    });
    ui.menu_button("Recent samples", |ui| {
        if settings.recent_data.is_empty() {
            ui.label(egui::RichText::new("none yet").weak());
        }
        for (p, labels) in &settings.recent_data {
            if recent_button(ui, p).clicked() {
                commands.push(Command::OpenData {
                    path: p.clone(),
                    labels: labels.clone(),
                });
            }
        }
    });
    ui.separator();
    ui.label("Open a path:");
    let field = ui
        .add(
            egui::TextEdit::singleline(&mut view.path_text)
                .hint_text("/path/to/model.onnx")
                .desired_width(300.0),
        )
        .accessible_name("path to open");
    let typed = view.path_text.trim();
    let path = PathBuf::from(typed);
    let ok = !typed.is_empty();
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        if ui.add_enabled(ok, egui::Button::new("as model")).clicked() {
            commands.push(Command::OpenModel(path.clone()));
        }
        if ui.add_enabled(ok, egui::Button::new("as samples")).clicked() {
            let labels = crate::data::labels_next_to(&path);
            commands.push(Command::OpenData {
                path: path.clone(),
                labels,
            });
        }
    });
    if ok && entered {
        commands.push(crate::app::files::open_command_for(path));
    }
    if !commands.is_empty() {
        ui.close();
    }
    commands
}

/// A recent file: its name and folder, the full path on hover.
fn recent_button(ui: &mut egui::Ui, path: &std::path::Path) -> egui::Response {
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .map_or(String::new(), |f| format!("  ({})", f.to_string_lossy()));
    ui.button(format!("{name}{folder}"))
        .on_hover_text(path.display().to_string())
}

/// Every export with its menu text.
pub const EXPORTS: [(ExportKind, &str); 4] = [
    (ExportKind::HeatmapPng, "Heatmap PNG"),
    (ExportKind::SideBySidePng, "Digit + heatmap PNG"),
    (ExportKind::RelevanceNpy, "Relevance .npy"),
    (ExportKind::RelevanceCsv, "Relevance .csv"),
];
