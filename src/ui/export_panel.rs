//! The Export menu: where exports go (asked at the first export, changeable), the PNG scale, quick saves under
//! fresh names, "as…" through a dialog, and the comparison grid and faithfulness curves once computed.

use super::menu_bar::EXPORTS;
use super::panel::PanelCx;
use crate::app::{Command, DialogKind};

/// The menu's contents. Every button closes the menu itself (clicks elsewhere in it, e.g. on the slider, do not).
pub fn export_menu_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session) = (&mut *cx.settings, cx.session);
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        let folder = match &settings.export_folder {
            Some(f) => f.display().to_string(),
            None => "not chosen yet (the first export asks)".into(),
        };
        ui.label(format!("Folder: {folder}"));
        if ui.button("Change…").clicked() {
            commands.push(Command::Dialog(DialogKind::ChooseExportFolder));
        }
    });
    ui.add(egui::Slider::new(&mut settings.export_scale, 1..=32).text("PNG pixels per input pixel"))
        .accessible_name("PNG scale");
    ui.separator();
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
    ui.separator();
    let grid = ui.add_enabled(
        session.compare.result.is_some(),
        egui::Button::new("Save comparison grid PNG"),
    );
    if grid
        .on_disabled_hover_text("compute the grid on the Compare tab first")
        .clicked()
    {
        commands.push(Command::ExportCompare);
    }
    let faith = session.faith.result.is_some();
    let csv = ui.add_enabled(faith, egui::Button::new("Save faithfulness curves CSV"));
    if csv.on_disabled_hover_text("run the Faithfulness tab first").clicked() {
        commands.push(Command::ExportFaithfulness);
    }
    let png = ui.add_enabled(faith, egui::Button::new("Save faithfulness plot PNG"));
    if png.on_disabled_hover_text("run the Faithfulness tab first").clicked() {
        commands.push(Command::ExportFaithfulnessPlot);
    }
    if !commands.is_empty() {
        ui.close();
    }
    commands
}
